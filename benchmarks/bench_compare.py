"""Measured latency of ResNet-50 vs ResNeXt-50 (32×4d), and where the time goes per stage.

Prints, per model and batch size, the median ± IQR latency and throughput, the throughput ratio
to the first model with its propagated IQR, the device/torch stamp, and a per-stage roofline of
the 3×3 convs (ResNeXt's grouped 3×3 against ResNet's dense 3×3) with profiler-measured times.

facts.md §8: on GPUs ResNeXt-50 reaches 0.76–0.84× ResNet-50's throughput (timm, AMP, large
batch) at +3.5 % MACs; on CPUs at batch 1 it is as fast or faster (1.01–1.18×).

Run: python benchmarks/bench_compare.py [--device cuda] [--dtype fp16] [--channels-last]
     [--batches 1,32,256] [--compile] [--layers]
"""

from __future__ import annotations

import argparse

from archprobe.analysis.timing.ceilings import device_ceilings, measure_ceilings
from archprobe.analysis.timing.env import resolve_device
from archprobe.analysis.timing.latency import (
    LatencyRow,
    measure_latency,
    throughput_ratios,
)
from archprobe.analysis.timing.roofline import RooflineReport, roofline
from archprobe.report.terminal.latency import (
    env_stamp,
    grouped_conv_summary,
    latency_table,
    progress_bar,
    roofline_layer_table,
    roofline_stage_table,
    to_text,
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--models", default="resnet50,resnext50", help="comma-separated; first = base")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--dtype", default="fp32", choices=("fp32", "fp16", "bf16"))
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--compile", action="store_true", help="torch.compile (latency only)")
    p.add_argument("--batches", default="1,32", help="comma-separated batch sizes")
    p.add_argument("--min-run-time", type=float, default=0.2, help="seconds per row, at least")
    p.add_argument("--min-blocks", type=int, default=5, help="timed blocks (IQR samples) per row")
    p.add_argument("--roofline-batch", type=int, default=1)
    p.add_argument("--roofline-iters", type=int, default=5, help="profiled forwards (median)")
    p.add_argument("--no-roofline", action="store_true")
    p.add_argument("--layers", action="store_true", help="also print every layer's roofline")
    p.add_argument(
        "--measure-ceilings", action="store_true", help="measure matmul/copy even on a known GPU"
    )
    return p.parse_args()


def measure(models: list[str], batches: list[int], args: argparse.Namespace) -> list[LatencyRow]:
    rows: list[LatencyRow] = []
    with progress_bar(len(models) * len(batches)) as progress:
        for name in models:
            rows += measure_latency(
                name,
                batches,
                device=args.device,
                dtype=args.dtype,
                channels_last=args.channels_last,
                compile=args.compile,
                min_run_time=args.min_run_time,
                progress=progress,
                min_blocks=args.min_blocks,
            )
    return rows


def print_latency(rows: list[LatencyRow]) -> None:
    ratios = throughput_ratios(rows)
    print(to_text(latency_table(rows, ratios)))
    for r in ratios:
        print(
            f"throughput {r.model} / {r.baseline} at batch {r.batch}: "
            f"{r.ratio:.3f} ± {r.iqr:.3f} (IQR-propagated)"
        )


def rooflines(models: list[str], args: argparse.Namespace) -> list[RooflineReport]:
    device = resolve_device(args.device).device
    # One set of ceilings for every model, so their rooflines are comparable.
    find = measure_ceilings if args.measure_ceilings else device_ceilings
    ceilings = find(device, args.dtype)
    return [
        roofline(
            name,
            batch=args.roofline_batch,
            device=args.device,
            dtype=args.dtype,
            channels_last=args.channels_last,
            iters=args.roofline_iters,
            ceilings=ceilings,
        )
        for name in models
    ]


def print_roofline(reports: list[RooflineReport], layers: bool) -> None:
    print(to_text(roofline_stage_table(reports)))
    for other in reports[1:]:
        print(f"\n3×3 convs, {other.model} vs {reports[0].model} (measured, per forward pass):")
        for line in grouped_conv_summary(reports[0], other):
            print("  " + line)
    for r in reports:
        total = sum(layer.measured_s or 0.0 for layer in r.layers)
        roof = sum(layer.attainable_s for layer in r.layers)
        forward = f" of a {r.forward_s * 1e3:.2f} ms profiled forward" if r.forward_s else ""
        print(
            f"{r.model}: conv+fc measured {total * 1e3:.2f} ms{forward}, "
            f"roofline {roof * 1e3:.2f} ms"
        )
        if layers:
            print(to_text(roofline_layer_table(r), width=140))


def main() -> None:
    args = parse_args()
    models = args.models.split(",")
    batches = [int(b) for b in args.batches.split(",")]
    rows = measure(models, batches, args)
    print(env_stamp([r.env for r in rows]))
    print_latency(rows)
    if not args.no_roofline:
        print_roofline(rooflines(models, args), args.layers)


if __name__ == "__main__":
    main()

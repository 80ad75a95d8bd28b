"""Measured latency of ResNet-50 vs ResNeXt-50 (32×4d), and where the time goes per stage.

Prints, per model and batch size, the median ± IQR latency and throughput, the throughput ratio
to the first model from paired interleaved rounds with its 95 % bootstrap interval (and "no
significant difference" when it contains 1), the device/host stamp, and a per-model, per-stage
roofline of the 3×3 convs (ResNeXt's grouped 3×3 against ResNet's dense 3×3) profiled in
interleaved rounds, with the layers' summed time against the end-to-end latency.

facts.md §8: on GPUs ResNeXt-50 reaches 0.76–0.84× ResNet-50's throughput (timm, AMP, large
batch) at +3.5 % MACs. On CPUs the old claim here ("as fast or faster at batch 1, 1.01–1.18×")
is contradicted by this project's 2-core AMD EPYC: measured with this method, ResNeXt-50 is
slower at batch 1 too (see reports/cpu/README.md for the numbers and their intervals).

Run: python benchmarks/bench_compare.py [--device cuda] [--dtype fp16] [--channels-last]
     [--batches 1,32,256] [--compile] [--layers] [--threads N]
"""

from __future__ import annotations

import argparse

from archprobe.analysis.timing.ceilings import device_ceilings, measure_ceilings
from archprobe.analysis.timing.env import resolve_device
from archprobe.analysis.timing.latency import LatencyRow, measure_latencies, throughput_ratios
from archprobe.analysis.timing.roofline import RooflineReport
from archprobe.analysis.timing.roofline_measure import rooflines
from archprobe.report.terminal.latency import (
    env_stamp,
    grouped_conv_summary,
    latency_table,
    progress_bar,
    ratio_cell,
    roofline_layer_table,
    roofline_stage_table,
    time_accounting,
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
    p.add_argument("--min-run-time", type=float, default=1.0, help="seconds per row, at least")
    p.add_argument("--min-rounds", type=int, default=20, help="interleaved rounds, at least")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: cores)")
    p.add_argument("--roofline-batch", type=int, default=1)
    p.add_argument("--roofline-iters", type=int, default=5, help="profiling rounds (median)")
    p.add_argument("--no-roofline", action="store_true")
    p.add_argument("--layers", action="store_true", help="also print every layer's roofline")
    p.add_argument(
        "--measure-ceilings", action="store_true", help="measure GEMM/copy even on a known GPU"
    )
    return p.parse_args()


def measure(models: list[str], batches: list[int], args: argparse.Namespace) -> list[LatencyRow]:
    with progress_bar(len(models) * len(batches)) as progress:
        return measure_latencies(
            models, batches, device=args.device, dtype=args.dtype,
            channels_last=args.channels_last, compile=args.compile,
            min_run_time=args.min_run_time, progress=progress, threads=args.threads,
            min_rounds=args.min_rounds,
        )  # fmt: skip


def print_latency(rows: list[LatencyRow]) -> None:
    ratios = throughput_ratios(rows)
    print(to_text(latency_table(rows, ratios), width=160))
    for r in ratios:
        print(
            f"throughput {r.model} / {r.baseline} at batch {r.batch}: "
            f"{ratio_cell(r, False)} (95% bootstrap over paired rounds): {r.verdict}"
        )


def measured_rooflines(models: list[str], args: argparse.Namespace) -> list[RooflineReport]:
    device = resolve_device(args.device).device
    # One set of ceilings for every model, so their rooflines are comparable.
    find = measure_ceilings if args.measure_ceilings else device_ceilings
    ceilings = find(device, args.dtype)
    with progress_bar(len(models)) as progress:
        return rooflines(
            models, batch=args.roofline_batch, device=args.device, dtype=args.dtype,
            channels_last=args.channels_last, iters=args.roofline_iters, ceilings=ceilings,
            progress=progress,
        )  # fmt: skip


def print_roofline(reports: list[RooflineReport], rows: list[LatencyRow], layers: bool) -> None:
    print(to_text(roofline_stage_table(reports), width=160))
    for other in reports[1:]:
        print(f"\n3×3 convs, {other.model} and {reports[0].model} (measured, per forward pass):")
        for line in grouped_conv_summary(reports[0], other):
            print("  " + line)
    batch = reports[0].batch
    latency = {r.model: r.median_s for r in rows if r.batch == batch and r.ok}
    for line in time_accounting(reports, latency):
        print(line)
    if layers:
        for r in reports:
            print(to_text(roofline_layer_table(r), width=160))


def main() -> None:
    args = parse_args()
    models = args.models.split(",")
    batches = [int(b) for b in args.batches.split(",")]
    rows = measure(models, batches, args)
    print(env_stamp([r.env for r in rows]))
    print_latency(rows)
    if not args.no_roofline:
        print_roofline(measured_rooflines(models, args), rows, args.layers)


if __name__ == "__main__":
    main()

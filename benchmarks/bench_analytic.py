"""Analytic analysis vs fvcore's FlopCountAnalysis, measured side by side in one run per model
(ResNet-50, and ConvNeXt-T and EfficientNet-B0: counting a new family is as fast as a ResNet).

The two sides are timed interleaved, round by round (a batch of analytic calls, then one fvcore
call), and the speed-up is the median of the per-round ratios: machine load that comes and goes
slows both sides of a round alike instead of inflating one phase.

torch runs on one thread by default (``--threads``), as archprobe's analytic path does: on a
loaded machine, torch's intra-op threads contend with other processes and inflate fvcore's time
(resnet50: 0.42 s on 1 thread vs 5.1 s on 2, same minute, load ~9), which the interleaving cannot
undo.

Target (issue 16): at least 300× fvcore on a quiet machine (analytic under 5 ms).
Run: python benchmarks/bench_analytic.py [--repeats N] [--models a,b,c]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable


def timed_ms(fn: Callable[[], object], calls: int = 1) -> float:
    """Milliseconds per call of ``calls`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) * 1e3 / calls


def interleaved(
    sides: dict[str, tuple[Callable[[], object], int]], rounds: int
) -> dict[str, list[float]]:
    """Per-call times of each side, one sample per side per round, the sides in turn."""
    for fn, _ in sides.values():
        fn()  # warm-up
    samples: dict[str, list[float]] = {k: [] for k in sides}
    for _ in range(rounds):
        for key, (fn, calls) in sides.items():
            samples[key].append(timed_ms(fn, calls))
    return samples


def median_iqr(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=4)
    return statistics.median(values), q[2] - q[0]


def bench(name: str, repeats: int) -> None:
    """Time one catalog model's analytic count against fvcore on the same built model."""
    import torch
    from fvcore.nn import FlopCountAnalysis

    from archprobe.analysis.analytic import analyze
    from archprobe.builder.network import build
    from archprobe.spec import load_spec
    from archprobe.spec.expand import expand

    spec = load_spec(name)
    model = build(spec, "cpu").eval()
    x = torch.randn(1, spec.input.channels, spec.input.size, spec.input.size)

    def analytic() -> float:
        return analyze(expand(spec)).total("macs")  # a fresh graph each call: no cached leaves

    def table() -> float:
        return analyze(expand(spec)).total("macs", "layer1")  # builds the per-op table

    def from_yaml() -> float:
        return analyze(name).total("macs")

    def fvcore() -> float:
        with torch.no_grad():
            analysis = FlopCountAnalysis(model, x)
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            return float(analysis.total())

    calls = 20  # analytic calls per round: long enough to time, short beside one fvcore call
    s = interleaved({"analytic": (analytic, calls), "table": (table, calls),
                     "yaml": (from_yaml, calls), "fvcore": (fvcore, 1)}, repeats)  # fmt: skip
    ratio = [f / a for f, a in zip(s["fvcore"], s["analytic"], strict=True)]
    ratio_table = [f / a for f, a in zip(s["fvcore"], s["table"], strict=True)]
    ratio_yaml = [f / a for f, a in zip(s["fvcore"], s["yaml"], strict=True)]
    print(f"\n{name}, {spec.input.size}², batch 1, CPU, {repeats} interleaved rounds")
    rows = [("archprobe analytic total (spec -> graph -> total):", "analytic"),
            ("archprobe analytic with the per-op table:", "table"),
            ("archprobe analytic incl. YAML load + extends:", "yaml"),
            ("fvcore FlopCountAnalysis on the built model:", "fvcore")]  # fmt: skip
    for label, key in rows:
        ms, iqr = median_iqr(s[key])
        print(f"{label:52s}{ms:9.3f} ms  (IQR {iqr:.3f})")
    for label, r in (("total", ratio), ("per-op table", ratio_table), ("incl. YAML", ratio_yaml)):
        med, iqr = median_iqr(r)
        print(f"speed-up, {label:14s} median of per-round ratios {med:7,.0f}×  (IQR {iqr:,.0f})")
    print("target: total ≥ 300× on a quiet machine")
    print(f"analytic MACs {analytic():,.0f}; fvcore 'flops' (its MAC convention) {fvcore():,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (fvcore's side)")
    parser.add_argument(
        "--models", default="resnet50,convnext_tiny,efficientnet_b0",
        help="comma-separated catalog names (default: a ResNet and two modern families)",
    )  # fmt: skip
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for name in args.models.split(","):
        bench(name.strip(), args.repeats)


if __name__ == "__main__":
    main()

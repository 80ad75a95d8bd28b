"""Analytic analysis vs fvcore's FlopCountAnalysis, measured side by side in one run per model
(ResNet-50, and ConvNeXt-T and EfficientNet-B0: counting a new family is as fast as a ResNet).

Target (Foundation issue): analytic under 5 ms and at least 200× faster than fvcore.
Run: python benchmarks/bench_analytic.py [--repeats N] [--models a,b,c]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and IQR of ``repeats`` timed calls, in milliseconds (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    q = statistics.quantiles(samples, n=4)
    return statistics.median(samples), q[2] - q[0]


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

    def from_yaml() -> float:
        return analyze(name).total("macs")

    def fvcore() -> float:
        with torch.no_grad():
            analysis = FlopCountAnalysis(model, x)
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            return float(analysis.total())

    a_ms, a_iqr = median_ms(analytic, repeats)
    y_ms, y_iqr = median_ms(from_yaml, repeats)
    f_ms, f_iqr = median_ms(fvcore, max(3, repeats // 4))
    print(f"\n{name}, {spec.input.size}², batch 1, CPU")
    print(f"archprobe analytic (spec -> graph -> results): {a_ms:8.2f} ms  (IQR {a_iqr:.2f})")
    print(f"archprobe analytic incl. YAML load + extends:  {y_ms:8.2f} ms  (IQR {y_iqr:.2f})")
    print(f"fvcore FlopCountAnalysis on the built model:    {f_ms:8.2f} ms  (IQR {f_iqr:.2f})")
    print(f"speed-up: {f_ms / a_ms:,.0f}× (target ≥ 200×); incl. YAML {f_ms / y_ms:,.0f}×")
    print(f"analytic MACs {analytic():,.0f}; fvcore 'flops' (its MAC convention) {fvcore():,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--models", default="resnet50,convnext_tiny,efficientnet_b0",
        help="comma-separated catalog names (default: a ResNet and two modern families)",
    )  # fmt: skip
    args = parser.parse_args()
    import torch

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for name in args.models.split(","):
        bench(name.strip(), args.repeats)


if __name__ == "__main__":
    main()

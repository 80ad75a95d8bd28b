"""EfficientNet-B0's predicted training-step peak vs the CPU allocator, at its native 224² and
batch 8 (issue #15: within the tolerance the ResNets meet in tests/test_memory.py: the measured
peak lies between the prediction and the prediction + oneDNN's largest conv copies).

A training step of B0 at 224² takes ~30 s on 2 cores, so this is a benchmark, not a test; the
saved-tensor bytes at the same size are asserted exactly in tests/families/test_efficientnet.py.
Run: PYTHONPATH=. python benchmarks/bench_efficientnet_memory.py [--batch 8] [--optimizers ...]
"""

from __future__ import annotations

import argparse
import sys

from archprobe.analysis.memory.measure import measure_training
from archprobe.analysis.memory.model import OPTIMIZERS, predict_training
from archprobe.builder.network import build
from archprobe.spec import load_spec
from archprobe.spec.expand import expand
from tests.test_memory import _onednn_slack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="efficientnet_b0")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--optimizers", default="sgd_momentum,adam")
    args = parser.parse_args()
    spec = load_spec(args.model)
    graph, size = expand(spec), spec.input.size
    slack, failed = _onednn_slack(graph, args.batch), False
    for opt in [o for o in OPTIMIZERS if o in args.optimizers.split(",")]:
        p = predict_training(graph, args.batch, opt, backend="cpu")
        m = measure_training(build(spec, "cpu"), (args.batch, 3, size, size), "cpu", opt)
        ok = p.step_peak_bytes <= m.step_peak_bytes <= p.step_peak_bytes + slack
        failed |= not ok
        print(f"{args.model} b{args.batch} {size}² {opt}: step peak predicted "
              f"{p.step_peak_bytes:,} B, measured {m.step_peak_bytes:,} B "
              f"({m.step_peak_bytes - p.step_peak_bytes:+,} B, "
              f"{(m.step_peak_bytes / p.step_peak_bytes - 1):+.4%}; slack {slack:,} B) "
              f"{'ok' if ok else 'OUT OF TOLERANCE'}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

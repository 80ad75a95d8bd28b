"""Analytic-only random sweeps: configs/s (target: 10,000 configs in under 10 s on 2 cores).

Three spaces, each run to ``n`` accepted configs into a fresh SQLite file, side by side:

* unconstrained: ResNeXt-like depths, groups and width per group, every draw accepted;
* rejection: specs/sweeps/resnext_random.yaml (4.1 ± 0.2 GMACs by rejecting draws);
* solved: specs/sweeps/resnext_random_solved.yaml (d solved per draw to 4.1 GMACs).

    python benchmarks/bench_sweep.py [N]
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from pathlib import Path

from archprobe.sweep.run import run_sweep
from archprobe.sweep.spec import SweepSpec, load_sweep

SWEEPS = Path(__file__).resolve().parents[1] / "specs" / "sweeps"
UNCONSTRAINED = """sweep: bench
base: resnext50_32x4d
mode: random
seed: 0
n: 1
axes:
  stages.0.depth: {int: [1, 4]}
  stages.1.depth: {int: [2, 6]}
  stages.2.depth: {int: [3, 9]}
  stages.3.depth: {int: [1, 4]}
  block.groups: {int: [1, 64], dist: power2_uniform}
  block.width_per_group: {int: [2, 64], dist: log_uniform}
"""


def _run(label: str, sweep: SweepSpec, n: int, tmp: Path) -> None:
    spec = dataclasses.replace(sweep, n=n)
    start = time.perf_counter()
    summary = run_sweep(spec, tmp / f"{label}.db")
    seconds = time.perf_counter() - start
    t = summary.tally
    print(
        f"{label:<14} {summary.total:>6} configs in {seconds:6.2f} s = "
        f"{summary.total / seconds:>6,.0f} configs/s  ({t.drawn:,} draws, {t.rejected:,} "
        f"rejected, {t.duplicates:,} duplicates)"
    )


def main(n: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "bench.yaml").write_text(UNCONSTRAINED, encoding="utf-8")
        _run("unconstrained", load_sweep(tmp / "bench.yaml"), n, tmp)
        _run("rejection", load_sweep(SWEEPS / "resnext_random.yaml"), n, tmp)
        _run("solved", load_sweep(SWEEPS / "resnext_random_solved.yaml"), n, tmp)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)

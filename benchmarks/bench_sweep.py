"""Analytic-only random sweep: configs/s (target: 10,000 configs in under 10 s on 2 cores)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from archprobe.sweep.run import run_sweep

SWEEP = """sweep: bench
base: resnext50_32x4d
mode: random
seed: 0
n: {n}
axes:
  stages.0.depth: {{int: [1, 4]}}
  stages.1.depth: {{int: [2, 6]}}
  stages.2.depth: {{int: [3, 9]}}
  stages.3.depth: {{int: [1, 4]}}
  block.groups: {{int: [1, 64], dist: power2_uniform}}
  block.width_per_group: {{int: [2, 64], dist: log_uniform}}
"""


def main(n: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(SWEEP.format(n=n), encoding="utf-8")
        start = time.perf_counter()
        summary = run_sweep(path, Path(tmp) / "bench.db")
        seconds = time.perf_counter() - start
    t = summary.tally
    print(
        f"{summary.total} configs ({t.drawn} draws, {t.duplicates} duplicates) in {seconds:.2f} s"
    )
    print(f"{summary.total / seconds:,.0f} configs/s")


if __name__ == "__main__":
    main()

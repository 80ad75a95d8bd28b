"""Sweep throughput: the batched path (sweep/vector.py) next to the per-config graph walk.

Spaces:

* unconstrained: ResNeXt-like depths, groups and width per group, every draw accepted;
* rejection: specs/sweeps/resnext_random.yaml (4.1 ± 0.2 GMACs by rejecting draws);
* solved: specs/sweeps/resnext_random_solved.yaml (d solved per draw to 4.1 GMACs);
* regnetx: specs/sweeps/regnetx_400mf.yaml (400 MF ± 5%, generator axes: costed by stage,
  sweep/generated.py; also 2,000 accepted configs timed, and its warm rate, once the stages drawn
  are costed).

For each: evaluation alone (draw + cost a batch, configs/s), end to end into a fresh SQLite file
(configs/s, or draws/s where constraints reject), and the per-config reference (``make_spec`` + the
memoised graph walk, ``fast.spec_cost``) on a small sample, timed in alternation with the batched
path so machine load hits both; the ratio is printed. Last, the peak RSS of a 1,000,000-config
analytic sweep, measured in a subprocess (its ``VmHWM``).

    python benchmarks/bench_sweep.py [N]      # N draws per space (default 200,000)
"""

from __future__ import annotations

import dataclasses
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archprobe.errors import SpecError
from archprobe.graph.ops import GraphError
from archprobe.sweep.configs import Generation, make_spec
from archprobe.sweep.draws import batches
from archprobe.sweep.fast import spec_cost
from archprobe.sweep.run import run_sweep
from archprobe.sweep.spec import SweepSpec, load_sweep

ROOT = Path(__file__).resolve().parents[1]
SWEEPS = ROOT / "specs" / "sweeps"
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
REFERENCE = 200  # configs of the per-config path per round
# 4 · 5 · 7 · 4 · 7 · 63 = 246,960 distinct configs: storing n distinct ones takes more draws as n
# nears that (duplicates are drawn, costed and skipped), so the SQLite run stores n // 4.
DEPTH_GRID = "sweep: peak\nbase: resnext50_32x4d\nmode: grid\naxes:\n" + "".join(
    f"  stages.{i}.depth: [{', '.join(map(str, range(1, 33)))}]\n" for i in range(4)
)  # 32⁴ = 1,048,576 configs, every one stored


def _evaluation(sweep: SweepSpec, draws: int) -> float:
    """Draws per second of draw + cost (no keys, no store), after a warm-up batch."""
    gen = Generation(sweep)
    stream = batches(sweep, 65_536)
    gen.evaluate(next(stream))  # warm: cores, imports
    done, start = 0, time.perf_counter()
    while done < draws:
        cols = next(stream)
        gen.evaluate(cols)
        done += len(cols[0].codes)
    return done / (time.perf_counter() - start)


def _reference(sweep: SweepSpec, n: int, offset: int) -> float:
    """Configs per second of the per-config path (validate, solve, memoised walk), timed on its
    second pass over the sample: its block memo is warm, so the ratio printed is a lower bound
    (the batched path's own caches are cold in each end-to-end run)."""
    cols = next(batches(dataclasses.replace(sweep, seed=sweep.seed + 1 + offset), n))
    for _ in range(2):
        start = time.perf_counter()
        for i in range(n):
            values = {c.axis.key: c.table[int(c.codes[i])] for c in cols}
            try:
                spec, cost = make_spec(sweep, values, i)
                (cost or spec_cost(spec)).total  # noqa: B018
            except (SpecError, GraphError):
                pass
        seconds = time.perf_counter() - start
    return n / seconds


def _end_to_end(sweep: SweepSpec, n: int, tmp: Path, label: str) -> tuple[float, float, int]:
    """(accepted configs/s, draws/s, accepted) of run_sweep into a fresh SQLite file."""
    db = tmp / f"{label}-{time.monotonic_ns()}.db"
    start = time.perf_counter()
    summary = run_sweep(dataclasses.replace(sweep, n=n), db, batch=16_384)
    seconds = time.perf_counter() - start
    return summary.total / seconds, summary.tally.drawn / seconds, summary.total


def _space(label: str, sweep: SweepSpec, draws: int, n: int, tmp: Path, rounds: int = 2) -> None:
    best = {"eval": 0.0, "e2e": 0.0, "draws": 0.0, "ref": 0.0}
    accepted = 0
    for r in range(rounds):  # interleaved: reference, batched, reference, batched
        best["ref"] = max(best["ref"], _reference(sweep, REFERENCE, r))
        best["eval"] = max(best["eval"], _evaluation(sweep, draws))
        e2e, draws, accepted = _end_to_end(sweep, n, tmp, label)
        best["e2e"], best["draws"] = max(best["e2e"], e2e), max(best["draws"], draws)
    ref = best["ref"]
    print(
        f"{label:<13} eval {best['eval']:>11,.0f} draws/s ({best['eval'] / ref:>6,.0f}x) | "
        f"into SQLite {best['e2e']:>9,.0f} configs/s ({best['e2e'] / ref:>5,.0f}x), "
        f"{best['draws']:>10,.0f} draws/s, {accepted:,} stored | per-config {ref:>6,.0f}/s"
    )


def _warm(sweep: SweepSpec, draws: int) -> None:
    """Draws per second once every stage of the batches is costed (the steady state of a long
    RegNet sweep: its distinct stages, ~60k at 400 MF, are costed the first time they are
    drawn), arrays alone, then whole batches (accepted, keyed: a Generation over the same
    draws, without SQLite)."""
    n = max(1, draws // 65_536) * 65_536
    gen = Generation(dataclasses.replace(sweep, n=10**9))  # stopped by the draws, not by n
    staged = gen.staged  # the evaluator whose caches the cold pass fills
    assert staged is not None
    stream = batches(sweep, 65_536)
    cols = [next(stream) for _ in range(n // 65_536)]  # the draws the Generation makes next
    for c in cols:
        staged.evaluate(c)  # cold: every new stage costed once
    start = time.perf_counter()
    for c in cols:
        staged.evaluate(c)
    arrays = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in gen:
        if gen.tally.drawn >= n:
            break
    full = gen.tally.drawn / (time.perf_counter() - start)
    print(
        f"  warm (stages cached): arrays {arrays:,.0f} draws/s, whole batches (accepted, "
        f"keyed) {full:,.0f} draws/s ({len(staged.parts.firsts):,} first blocks cached)"
    )


def _time_to(sweep: SweepSpec, n: int, tmp: Path) -> None:
    start = time.perf_counter()
    summary = run_sweep(dataclasses.replace(sweep, n=n), tmp / f"t{time.monotonic_ns()}.db")
    seconds = time.perf_counter() - start
    print(
        f"  {summary.total:,} accepted configs in {seconds:.2f} s ({summary.tally.drawn:,} draws)"
    )


PEAK = """
import resource, sys, dataclasses
from pathlib import Path
from archprobe.sweep.run import run_sweep
from archprobe.sweep.spec import load_sweep
summary = run_sweep(load_sweep(Path(sys.argv[1])), Path(sys.argv[2]), batch=int(sys.argv[3]))
assert summary.done == 32**4, summary
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork + exec, so a child started from a
# large benchmark process would report the parent's resident size as its own peak.
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
print(hwm[0].split()[1] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak(tmp: Path, batch: int = 16_384) -> None:
    (tmp / "peak.yaml").write_text(DEPTH_GRID, encoding="utf-8")
    n = 32**4
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", PEAK, str(tmp / "peak.yaml"), str(tmp / "peak.db"), str(batch)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    mib = int(out.stdout.split()[-1]) / 1024
    seconds = time.perf_counter() - start
    print(f"peak RSS of a {n:,}-config analytic grid into SQLite: {mib:.0f} MiB in {seconds:.1f} s "
          f"= {n / seconds:,.0f} configs/s (target 300 MiB)")  # fmt: skip


def main(n: int = 200_000) -> None:
    print(f"python {sys.version.split()[0]}, {n:,} configs per space; best of 2 interleaved rounds")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "bench.yaml").write_text(UNCONSTRAINED, encoding="utf-8")
        _space("unconstrained", load_sweep(tmp / "bench.yaml"), n, n // 4, tmp)
        rejection = load_sweep(SWEEPS / "resnext_random.yaml")
        _space("rejection", rejection, n, max(1, n // 50), tmp)
        _time_to(rejection, 5000, tmp)
        _space("solved", load_sweep(SWEEPS / "resnext_random_solved.yaml"), n, n // 4, tmp)
        regnet = load_sweep(SWEEPS / "regnetx_400mf.yaml")
        _space("regnetx", regnet, n, max(1, n // 100), tmp, 1)
        _time_to(regnet, 2000, tmp)
        _warm(regnet, n)
        _peak(tmp)
    print(f"this process' peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)

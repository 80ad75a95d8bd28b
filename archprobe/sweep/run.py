"""Run a sweep: generate configs, skip keys already stored, evaluate the rest, store in batches.

The analytic path runs in-process (the metrics come from generation). Measured sweeps run each
config through :func:`measure_config`, in-process or on a local process pool (``workers``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archprobe.spec.schema import ArchSpec
from archprobe.sweep.configs import Config, Tally, generate
from archprobe.sweep.spec import SweepSpec, load_sweep
from archprobe.sweep.store import Store

Measure = Callable[[ArchSpec, tuple[str, ...], dict[str, Any]], dict[str, Any]]
Progress = Callable[[int, int], None]  # (done, total)
BATCH_SECONDS = 0.5


@dataclass(frozen=True)
class RunSummary:
    total: int
    skipped: int
    done: int
    seconds: float
    tally: Tally


def measure_config(
    spec: ArchSpec, what: tuple[str, ...], settings: dict[str, Any]
) -> dict[str, Any]:
    """Measured/predicted values of one config: latency (imports torch) and training memory."""
    out: dict[str, Any] = {}
    batch = int(settings.get("batch", 1))
    if "memory" in what:
        from archprobe.graph.expand import expand
        from archprobe.memory_model import predict_training

        pred = predict_training(expand(spec), batch, "sgd_momentum")
        out["train_peak_bytes"] = pred.step_peak_bytes
    if "latency" in what:
        from archprobe.latency import measure_latency

        row = measure_latency(
            spec, [batch], device=str(settings.get("device", "auto")),
            dtype=str(settings.get("dtype", "fp32")),
            channels_last=bool(settings.get("channels_last", False)),
            min_run_time=float(settings.get("min_time", 0.5)),
        )[0]  # fmt: skip
        out.update(latency_s=row.median_s, latency_iqr_s=row.iqr_s, status=row.status)
    return out


def _row(sweep: SweepSpec, c: Config, measured: dict[str, Any] | None) -> dict[str, Any]:
    return {"key": c.key, "sweep": sweep.name, "idx": c.index, "config": c.values,
            "measured": measured, **c.metrics}  # fmt: skip


def _measured(sweep: SweepSpec, todo: list[Config], workers: int, fn: Measure | None) -> Any:
    """Yields (config, measured-or-None) as each finishes."""
    if not sweep.measure and fn is None:
        return ((c, None) for c in todo)
    fn = fn or measure_config
    if workers <= 1:
        return ((c, fn(c.spec, sweep.measure, sweep.settings)) for c in todo)
    pool = ProcessPoolExecutor(max_workers=workers)
    results = pool.map(fn, [c.spec for c in todo], [sweep.measure] * len(todo),
                       [sweep.settings] * len(todo))  # fmt: skip
    return zip(todo, results, strict=True)


def run_sweep(
    sweep: SweepSpec | Path,
    db: Path | str,
    workers: int = 1,
    progress: Progress | None = None,
    measure: Measure | None = None,
) -> RunSummary:
    """Evaluate every config not yet in ``db``; rerunning resumes where a run stopped."""
    start = time.perf_counter()
    spec = sweep if isinstance(sweep, SweepSpec) else load_sweep(sweep)
    configs, tally = generate(spec)
    store = Store(db)
    try:
        have = store.keys()
        todo = [c for c in configs if c.key not in have]
        pending: list[dict[str, Any]] = []
        last = time.perf_counter()
        for i, (c, m) in enumerate(_measured(spec, todo, workers, measure), 1):
            pending.append(_row(spec, c, m))
            if spec.measure or measure or time.perf_counter() - last > BATCH_SECONDS:
                store.add(pending)
                pending, last = [], time.perf_counter()
            if progress:
                progress(i, len(todo))
        store.add(pending)
    finally:
        store.close()
    skipped = len(configs) - len(todo)
    return RunSummary(len(configs), skipped, len(todo), time.perf_counter() - start, tally)

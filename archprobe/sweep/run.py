"""Run a sweep: generate configs, skip keys already stored, evaluate the rest, store the rows.

The analytic path runs in-process (the metrics come from generation). Measured sweeps run each
config through :func:`measure_config` on an executor (:mod:`archprobe.sweep.executors`: inline,
a local process pool, or Ray) and store each row as its config finishes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archprobe.spec.schema import ArchSpec
from archprobe.sweep.accepted import Config
from archprobe.sweep.collector import no_gc
from archprobe.sweep.configs import BATCH, Generation, Tally, nothing
from archprobe.sweep.draws import check_size, grid_size
from archprobe.sweep.executors import Job, Measure, choose_executor
from archprobe.sweep.spec import SweepSpec, load_sweep
from archprobe.sweep.store import Store

Progress = Callable[[int, int], None]  # (done, total)
Rows = Generator[tuple[Config, dict[str, Any] | None], None, None]  # (config, measured or None)


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
    """Values of one config for ``measure:`` (sweep/spec.py MEASURES).

    ``memory_prediction``: the predicted training-step peak (SGD-momentum; torch-free, exact and
    deterministic). ``memory``: that prediction and the measured peak of the built model's 2nd
    training step on the device. ``latency``: median and IQR of the forward pass. Measured values
    carry the device, torch version, dtype and layout they were taken with.
    """
    out: dict[str, Any] = {}
    batch = int(settings.get("batch", 1))
    device = str(settings.get("device", "auto"))
    if "memory" in what or "latency" in what:  # they allocate: refuse what cannot fit first
        _refuse_too_large(spec, "memory" in what, batch, device)
    if "memory" in what or "memory_prediction" in what:
        from archprobe.analysis.memory.model import predict_training
        from archprobe.spec.expand import expand

        out["train_peak_predicted_bytes"] = predict_training(
            expand(spec), batch, "sgd_momentum"
        ).peak_bytes
    if "memory" in what:
        out.update(_measured_memory(spec, batch, device))
    if "latency" in what:
        from archprobe.analysis.timing.latency import measure_latency

        row = measure_latency(
            spec, [batch], device=device, dtype=str(settings.get("dtype", "fp32")),
            channels_last=bool(settings.get("channels_last", False)),
            min_run_time=float(settings.get("min_time", 0.5)),
        )[0]  # fmt: skip
        out.update(latency_s=row.median_s, latency_iqr_s=row.iqr_s, status=row.status)
        out.update({k: row.env[k] for k in ENV_KEYS if k in row.env})
    return out


def _refuse_too_large(spec: ArchSpec, training: bool, batch: int, device: str) -> None:
    """Raise ``TooLarge`` when the predicted peak (torch-free) exceeds the device's free memory:
    a huge ``batch`` would otherwise allocate until the host swaps or the allocator fails."""
    from archprobe.analysis.memory.fits import check_fits
    from archprobe.analysis.memory.model import predict_inference, predict_training
    from archprobe.analysis.timing.env import resolve_device
    from archprobe.spec.expand import expand

    graph = expand(spec)
    if training:
        needed, what = predict_training(graph, batch, "sgd_momentum").peak_bytes, "training step"
    else:
        needed, what = predict_inference(graph, batch).peak_bytes, "forward"
    fix = "lower measure.batch in the sweep file"
    check_fits(f"{spec.name}: {what} at batch {batch}", needed, resolve_device(device).device, fix)


ENV_KEYS = ("device", "device_name", "torch", "dtype", "layout")


def _measured_memory(spec: ArchSpec, batch: int, device: str) -> dict[str, Any]:
    from archprobe.analysis.memory.measure import measure_training
    from archprobe.analysis.timing.env import device_name, resolve_device
    from archprobe.builder.network import build

    choice = resolve_device(device)
    shape = (batch, spec.input.channels, spec.input.size, spec.input.size)
    measured = measure_training(build(spec, device="cpu"), shape, choice.device, "sgd_momentum")
    return {"train_peak_measured_bytes": measured.peak_bytes, "memory_method": measured.method,
            "device": choice.device.type, "device_name": device_name(choice.device)}  # fmt: skip


def _row(sweep: SweepSpec, c: Config, measured: dict[str, Any] | None) -> dict[str, Any]:
    return {"key": c.key, "sweep": sweep.name, "idx": c.index, "config": c.values,
            "measured": measured, **c.metrics}  # fmt: skip


def run_sweep(
    sweep: SweepSpec | Path | str,
    db: Path | str,
    workers: int = 1,
    progress: Progress | None = None,
    measure: Measure | None = None,
    *,
    executor: str = "auto",
    address: str | None = None,
    batch: int = BATCH,
) -> RunSummary:
    """Evaluate every config not yet in ``db``; rerunning resumes where a run stopped.

    Configs are generated, evaluated and stored a batch at a time (one transaction per batch),
    so memory does not grow with the sweep and a kill loses at most the batch in flight.

    Args:
        sweep: a sweep spec, or the path of a sweep file.
        db: the SQLite store; rows already in it are skipped.
        workers: processes (``pool``) or local Ray CPUs (``ray`` without ``address``).
        progress: called with (done, total) after each stored batch (each measured config).
        measure: replaces :func:`measure_config` (and makes an analytic sweep measured); pool and
            Ray need a module-level function their workers can import.
        executor: ``auto``, ``inline``, ``pool`` or ``ray`` (see :mod:`archprobe.sweep.executors`);
            ``auto`` is ``pool`` with workers > 1, else ``inline``. Analytic sweeps start none.
        address: a Ray cluster to join (``executor="ray"`` only); None starts a local instance.
        batch: configs per batch (and per transaction of an analytic sweep).

    Raises:
        ArchprobeError: for a bad executor/workers/address, and whatever a measurement raises.
        SpecError: when no config survives (invalid specs or constraints), saying why.
    """
    start = time.perf_counter()
    run = choose_executor(executor, workers, address)  # before generation: fail fast
    spec = sweep if isinstance(sweep, SweepSpec) else load_sweep(Path(sweep))
    check_size(spec)  # before the store exists: a refused sweep leaves no file behind
    gen = Generation(spec, batch)
    measured = bool(spec.measure) or measure is not None
    total, seen, done = grid_size(spec), 0, 0
    store = Store(db)
    try:
        store.find_corrupt()  # a resumed run measures damaged rows again (the CLI says so)
        for accepted in gen:
            seen += len(accepted)
            if measured:
                job = Job(measure or measure_config, spec.measure, spec.settings)
                done += _measure(spec, store, accepted.configs(), (job, run, workers, address),
                                 progress, (seen - len(accepted) + done, total))  # fmt: skip
            else:
                with no_gc():  # rows make no cycles; the collector would rescan every core
                    done += store.insert(accepted.records(spec.name, time.time()))
                if progress:
                    progress(seen, total)
    finally:
        store.close()
    if not seen:
        raise nothing(spec, gen.tally)
    return RunSummary(seen, seen - done, done, time.perf_counter() - start, gen.tally)


def _measure(
    sweep: SweepSpec,
    store: Store,
    configs: list[Config],
    how: tuple[Job, Any, int, str | None],
    progress: Progress | None,
    at: tuple[int, int],
) -> int:
    """Measure and store the configs of a batch not yet stored, each committed as it finishes
    (a killed run loses only the configs in flight); returns how many it stored."""
    have = store.present([c.key for c in configs])
    todo = [c for c in configs if c.key not in have]
    if not todo:  # nothing left: start no workers (a Ray start takes seconds)
        return 0
    job, run, workers, address = how
    results: Rows = run(job, todo, workers, address)
    base, total = at
    base += len(configs) - len(todo)
    with closing(results):  # a raise here shuts the executor's workers down now, not at GC
        for i, (c, m) in enumerate(results, 1):
            store.add([_row(sweep, c, m)])
            if progress:
                progress(base + i, total)
    return len(todo)

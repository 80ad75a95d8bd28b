"""Measured latency: models timed together in interleaved rounds, median and IQR per batch.

DESIGN §7.8: pycls and timm report means; one outlier (a page fault, a clock change) moves a mean
but not a median, and the IQR says how far to trust it. All models of a comparison are timed in
the same shuffled rounds (``rounds.run_rounds``: warm-up until stable, calibrated calls per
sample), so their ratio comes from paired rounds with a bootstrap interval
(``latency_rows.throughput_ratios``) and no model is favoured by going first. Per model and batch
size: eval mode, no autograd, autocast for fp16/bf16 (weights stay fp32, as in mixed-precision
serving). CPU runs use one intra-op thread per physical core unless ``threads`` is given. A batch
whose predicted inference peak exceeds the free memory is refused before anything is allocated
(``memory.fits.too_large``); an OOM marks its row ``oom`` and the next batch size still runs.
"""

from __future__ import annotations

import copy
import gc
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from archprobe.analysis.memory.fits import available_bytes, too_large
from archprobe.analysis.timing.env import (
    DeviceChoice,
    check_dtype,
    cpu_threads,
    cudnn_benchmark,
    inference_context,
    intra_op_threads,
    measurement_env,
    resolve_device,
)
from archprobe.analysis.timing.latency_rows import (
    LatencyReport,
    LatencyRow,
    Ratio,
    throughput_ratios,
    to_entries,
)
from archprobe.analysis.timing.rounds import Plan, Subject, Timed, TimeFn, run_rounds
from archprobe.analysis.timing.stats import iqr
from archprobe.builder.network import build
from archprobe.errors import ArchprobeError
from archprobe.graph.nodes import Graph
from archprobe.spec.expand import expand
from archprobe.spec.loader import load_spec
from archprobe.spec.schema import ArchSpec

__all__ = [
    "LatencyReport", "LatencyRow", "Ratio", "Target", "measure_latencies", "measure_latency",
    "throughput_ratios", "to_entries",
]  # fmt: skip

ProgressFn = Callable[[str, int], None]
"""``progress(description, advance)``: ``advance`` is 1 when a (model, batch) row is finished."""
Ref = ArchSpec | str | Path | nn.Module


@dataclass(frozen=True)
class Target:
    """One model to time: a spec (name, path) or an ``nn.Module`` with its per-sample shape."""

    ref: Ref
    sample_shape: Sequence[int] | None = None
    name: str | None = None


@dataclass(frozen=True)
class _Prepared:
    model: Callable[[Any], Any]
    name: str
    sample: tuple[int, ...]
    graph: Graph | None  # spec targets: what the memory check predicts from


def prepare_model(spec: ArchSpec, device: torch.device, channels_last: bool) -> nn.Module:
    """The built model in eval mode, in channels_last when asked (weights and input must agree)."""
    model = build(spec, device).eval()
    if channels_last:
        # Module.to(memory_format=...) is documented but missing from torch's overload stubs.
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return model


def make_input(
    spec: ArchSpec | Sequence[int], batch: int, device: torch.device, channels_last: bool
) -> Any:
    """A random fp32 input batch (autocast casts it, as it would a real one).

    ``spec`` is a spec or the per-sample shape (C, H, W) of an arbitrary module's input.
    """
    if isinstance(spec, ArchSpec):
        spec = (spec.input.channels, spec.input.size, spec.input.size)
    x = torch.randn(batch, *spec, device=device)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def _failure(exc: RuntimeError) -> str:
    """Status of a failed row: "oom" for allocator failures (CUDA or CPU, also when raised inside
    ``torch.compile``, which wraps them), else the message's first line."""
    for e in (exc, exc.__cause__):
        if isinstance(e, torch.cuda.OutOfMemoryError) or "can't allocate memory" in str(e):
            return "oom"
    message = str(exc).strip()
    return "error: " + (message.splitlines()[0] if message else type(exc).__name__)


def _free(device: torch.device) -> None:
    """Release what a failed batch left behind, so the next batch size starts clean."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _prepare(target: Target, device: torch.device, channels_last: bool, compile: bool) -> _Prepared:
    """The model to time (never the caller's own module object), its name and sample shape."""
    ref = target.ref
    if not isinstance(ref, nn.Module):
        spec = ref if isinstance(ref, ArchSpec) else load_spec(ref)
        sample: tuple[int, ...] = (spec.input.channels, spec.input.size, spec.input.size)
        model: Any = prepare_model(spec, device, channels_last)
        name, graph = target.name or spec.name, expand(spec)
    else:
        if target.sample_shape is None:
            raise ArchprobeError(
                "timing an nn.Module needs its per-sample input shape, e.g. (3, 224, 224)"
            )
        model = copy.deepcopy(ref).to(device).eval()  # a copy: eval/device/layout stay the caller's
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        sample, name, graph = tuple(target.sample_shape), target.name or type(ref).__name__, None
    if compile:
        # Static shapes: each batch size gets its own graph instead of one dynamic-shape graph.
        model = torch.compile(model, dynamic=False)
    return _Prepared(model, name, sample, graph)


def _subject(p: _Prepared, x: Any, device: torch.device) -> Subject:
    def run(number: int) -> None:
        for _ in range(number):
            p.model(x)

    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    return Subject(p.name, run, sync)


def _row(p: _Prepared, batch: int, t: Timed | None, status: str, env: dict[str, Any]) -> LatencyRow:
    if t is None or t.error is not None or not t.samples:
        status = _failure(t.error) if t is not None and t.error is not None else status
        return LatencyRow(p.name, batch, math.nan, math.nan, math.nan, status, env)
    median = statistics.median(t.samples)
    env = {**env, "rounds": len(t.samples), "number_per_run": t.number,
           "warmup_calls": len(t.warmup), "warm": t.warm}  # fmt: skip
    return LatencyRow(p.name, batch, median, iqr(t.samples), batch / median, "ok", env,
                      tuple(t.samples))  # fmt: skip


def _batch_rows(
    models: Sequence[_Prepared], batch: int, choice: DeviceChoice, dtype: str,
    channels_last: bool, plan: Plan, timer: TimeFn | None, progress: ProgressFn,
) -> list[LatencyRow]:  # fmt: skip
    """Every model at one batch size, timed in the same rounds."""
    free = available_bytes(choice.device)
    backend = choice.device.type
    refused = {p.name: too_large(p.graph, batch, free, backend=backend) for p in models if p.graph}
    timed = [p for p in models if not refused.get(p.name)]
    subjects, status = [], {p.name: refused.get(p.name) or "" for p in models}
    for p in timed:
        try:
            subjects.append(_subject(p, make_input(p.sample, batch, choice.device,
                                                   channels_last), choice.device))  # fmt: skip
        except RuntimeError as exc:
            status[p.name] = _failure(exc)
    names = ", ".join(p.name for p in timed)
    with inference_context(choice.device, dtype):
        found = run_rounds(
            subjects, plan, timer, lambda d: progress(f"batch {batch}: {d} · {names}", 0)
        )
    by_name = {t.name: t for t in found}
    rows = []
    for p in models:
        env = measurement_env(choice, dtype, channels_last, batch=batch)
        rows.append(_row(p, batch, by_name.get(p.name), status[p.name], env))
        progress(f"{p.name} · batch {batch}: {rows[-1].status}", 1)
    del subjects, found
    if any(t.error is not None for t in by_name.values()):
        _free(choice.device)
    return rows


def measure_latencies(
    targets: Sequence[Target | Ref],
    batches: Sequence[int],
    device: str = "auto",
    dtype: str = "fp32",
    channels_last: bool = False,
    compile: bool = False,
    min_run_time: float = 0.5,
    progress: ProgressFn | None = None,
    *,
    threads: int | None = None,
    cudnn_bench: bool | None = True,
    timer: TimeFn | None = None,
    min_rounds: int = 10,
    max_rounds: int = 200,
    max_warmup: int = 30,
    seed: int = 0,
) -> list[LatencyRow]:
    """Median and IQR latency of several models at each batch size, timed in the same rounds.

    Args:
        targets: specs, catalog names / aliases / YAML paths, or :class:`Target` (an
            ``nn.Module`` is timed on a copy and needs ``sample_shape``).
        batches: batch sizes, in this order; an OOM or refusal at one does not stop the others.
        device: "auto" (CUDA if available, else the CPU with a note), "cpu", "cuda", "cuda:N".
        dtype: "fp32", or "fp16"/"bf16" under ``torch.autocast``.
        channels_last: convert models and inputs to ``torch.channels_last`` (NHWC).
        compile: ``torch.compile(model, dynamic=False)``; each batch size compiles in warm-up.
        min_run_time: seconds of timed samples per model and batch, at least (finite, ≤ 600).
        progress: called as ``progress(description, advance)``; advance is 1 per finished row.
        threads: intra-op CPU threads (default: one per physical core on the CPU).
        cudnn_bench: ``torch.backends.cudnn.benchmark`` while measuring (None: as is).
        timer: ``rounds.TimeFn`` (default: the wall clock around synchronised calls).
        min_rounds, max_rounds, max_warmup, seed: see ``rounds.Plan``.
    """
    plan = Plan(min_run_time, min_rounds, max_rounds, max_warmup, seed=seed)
    check_dtype(dtype)
    choice = resolve_device(device)
    n = (
        cpu_threads(threads)
        if choice.device.type == "cpu"
        else (threads or torch.get_num_threads())
    )
    report = progress or (lambda description, advance: None)
    wrapped = [t if isinstance(t, Target) else Target(t) for t in targets]
    rows: list[LatencyRow] = []
    with intra_op_threads(n), cudnn_benchmark(cudnn_bench):
        models = [_prepare(t, choice.device, channels_last, compile) for t in wrapped]
        if len({p.name for p in models}) != len(models):
            raise ArchprobeError("every timed model needs its own name")
        for batch in batches:
            found = _batch_rows(models, batch, choice, dtype, channels_last, plan, timer, report)
            rows += [_with(r, requested_device=device, compile=compile) for r in found]
    return rows


def _with(row: LatencyRow, **env: Any) -> LatencyRow:
    return LatencyRow(row.model, row.batch, row.median_s, row.iqr_s, row.throughput, row.status,
                      {**row.env, **env}, row.samples)  # fmt: skip


def measure_latency(
    ref: Ref,
    batches: Sequence[int],
    device: str = "auto",
    dtype: str = "fp32",
    channels_last: bool = False,
    compile: bool = False,
    min_run_time: float = 0.5,
    progress: ProgressFn | None = None,
    *,
    sample_shape: Sequence[int] | None = None,
    name: str | None = None,
    **options: Any,
) -> list[LatencyRow]:
    """One model's rows (:func:`measure_latencies` with one target; ``options`` are its
    keyword arguments)."""
    target = Target(ref, sample_shape, name)
    return measure_latencies([target], batches, device, dtype, channels_last, compile,
                             min_run_time, progress, **options)  # fmt: skip

"""Measured latency with ``torch.utils.benchmark``: median and IQR per batch size, never a mean.

DESIGN §7.8: pycls and timm report means; one outlier (a page fault, a clock change) moves a mean
but not a median, and the IQR says how far to trust it. Every row records what its number depends
on (:func:`measurement_env`). Per model and batch size: eval mode, no autograd, autocast for
fp16/bf16 (weights stay fp32, as in mixed-precision serving), ``warmup`` calls (cuDNN autotuning,
compilation, allocator growth), then ``Timer.blocked_autorange`` (its timer synchronises the
accelerator around each block) topped up to ``min_blocks`` blocks, the IQR's samples. A CUDA OOM
marks that row ``oom``, empties the allocator's cache, and the next batch size still runs. Asking
for ``cuda`` without CUDA measures on the CPU, and every row's ``env["note"]`` says so (the issue
asks for "a clear message and CPU results").
"""

from __future__ import annotations

import copy
import gc
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn
from torch.utils import benchmark

from archprobe.analysis.results import Entry, Results
from archprobe.analysis.timing.env import (
    DeviceChoice,
    Dtype,
    check_dtype,
    cudnn_benchmark,
    inference_context,
    measurement_env,
    resolve_device,
)
from archprobe.builder.network import build
from archprobe.errors import ArchprobeError
from archprobe.spec.loader import load_spec
from archprobe.spec.schema import ArchSpec

ProgressFn = Callable[[str, int], None]
"""``progress(description, advance)``: ``advance`` is 1 when a (model, batch) row is finished."""


@dataclass(frozen=True)
class LatencyRow:
    """One (model, batch size) measurement. Times are seconds per forward pass of the batch.

    Attributes:
        median_s: median seconds per call; NaN unless ``status == "ok"``.
        iqr_s: interquartile range of the per-block times, seconds.
        throughput: images per second, ``batch / median_s``.
        status: "ok", "oom" or "error: <first line of the message>".
        env: what the number depends on (see :func:`measurement_env`).
    """

    model: str
    batch: int
    median_s: float
    iqr_s: float
    throughput: float
    status: str
    env: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def throughput_iqr(self) -> float:
        """IQR of the throughput, to first order: ``batch · iqr / median²``."""
        return self.batch * self.iqr_s / self.median_s**2 if self.ok else math.nan

    def to_entry(self) -> Entry:
        """The row as a result ``Entry`` (method "measured", whole model)."""
        values = {"latency_s": self.median_s, "latency_iqr_s": self.iqr_s}
        values["throughput"] = self.throughput
        return Entry(self.model, "", "", "measured", values, {**self.env, "status": self.status})


def to_entries(rows: Sequence[LatencyRow]) -> list[Entry]:
    """Rows as Results entries; failed rows keep NaN values and their status in ``env``."""
    return [r.to_entry() for r in rows]


@dataclass(frozen=True)
class Ratio:
    """Throughput of ``model`` over ``baseline`` at one batch size, with a propagated IQR."""

    model: str
    baseline: str
    batch: int
    ratio: float
    iqr: float


def throughput_ratios(rows: Sequence[LatencyRow], baseline: str | None = None) -> list[Ratio]:
    """Throughput ratio of every model to the baseline (default: the first row's), per batch.

    The ratio is ``median_base / median_model``. Its spread combines the two relative IQRs in
    quadrature, first-order error propagation for independent measurements; it is a spread, not a
    confidence interval. A pair with a failed row gives NaN.
    """
    if not rows:
        return []
    base = baseline or rows[0].model
    by_key = {(r.model, r.batch): r for r in rows}
    out = []
    for r in rows:
        b = by_key.get((base, r.batch))
        if r.model == base or b is None:
            continue
        if not (r.ok and b.ok):
            out.append(Ratio(r.model, base, r.batch, math.nan, math.nan))
            continue
        ratio = b.median_s / r.median_s
        spread = ratio * math.hypot(r.iqr_s / r.median_s, b.iqr_s / b.median_s)
        out.append(Ratio(r.model, base, r.batch, ratio, spread))
    return out


@dataclass(frozen=True)
class LatencyReport:
    """The measured rows of every model of a comparison, and their ratios to the baseline."""

    rows: tuple[LatencyRow, ...]
    ratios: tuple[Ratio, ...]

    @classmethod
    def of(cls, rows: Sequence[LatencyRow], baseline: str) -> LatencyReport:
        return cls(tuple(rows), tuple(throughput_ratios(rows, baseline)))

    def to_results(self) -> Results:
        """The rows (:func:`to_entries`), each but the baseline's with its ``throughput_ratio``
        and ``throughput_ratio_iqr`` (NaN where a row failed) and ``env["baseline"]``."""
        ratios = {(r.model, r.batch): r for r in self.ratios}
        out = []
        for e, row in zip(to_entries(self.rows), self.rows, strict=True):
            ratio = ratios.get((row.model, row.batch))
            if ratio is not None:
                values = {"throughput_ratio": ratio.ratio, "throughput_ratio_iqr": ratio.iqr}
                env = {**e.env, "baseline": ratio.baseline}
                e = e._replace(values={**e.values, **values}, env=env)
            out.append(e)
        return Results(out)


@dataclass(frozen=True)
class _Config:
    dtype: Dtype
    channels_last: bool
    compile: bool
    min_run_time: float
    min_blocks: int
    warmup: int
    threads: int


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


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _warm_up(model: Callable[[Any], Any], x: Any, device: torch.device, n: int) -> float:
    """Run ``n`` (at least 1) calls; return the fastest one's seconds (a spike would inflate
    the run-time estimate built on it)."""
    fastest = math.inf
    for _ in range(max(n, 1)):
        _sync(device)
        start = time.perf_counter()
        model(x)
        _sync(device)
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def _time(
    model: Callable[[Any], Any],
    sample: Sequence[int],
    batch: int,
    device: torch.device,
    cfg: _Config,
    on_block: Callable[[int, float], None],
) -> tuple[benchmark.Measurement | None, str]:
    """Warm up, then ``blocked_autorange`` topped up to ``cfg.min_blocks`` blocks, and "ok"; or
    None and the failure status (the batch's tensors die with this frame)."""
    try:
        x = make_input(sample, batch, device, cfg.channels_last)
        with inference_context(device, cfg.dtype):
            per_call = _warm_up(model, x, device, cfg.warmup)
            timer = benchmark.Timer(
                "model(x)", globals={"model": model, "x": x}, num_threads=cfg.threads
            )
            # blocked_autorange grows a block until timer overhead is < 1e-4 of it, which for
            # slow calls gives one call per block and for fast CUDA calls one long block: ask for
            # run time for min_blocks slow calls, then add blocks of the same size if still short.
            run_time = max(cfg.min_run_time, cfg.min_blocks * per_call)
            m = timer.blocked_autorange(callback=cast(Any, on_block), min_run_time=run_time)
            raw = list(m.raw_times)
            while len(raw) < cfg.min_blocks:
                raw.extend(timer.timeit(m.number_per_run).raw_times)
                on_block(m.number_per_run, raw[-1])
    except RuntimeError as exc:  # reported in the row (OOM or other), never silently dropped
        return None, _failure(exc)
    return benchmark.Measurement(m.number_per_run, raw, m.task_spec), "ok"


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


def _measure_row(
    model: Callable[[Any], Any],
    name: str,
    sample: Sequence[int],
    batch: int,
    choice: DeviceChoice,
    env: dict[str, Any],
    cfg: _Config,
    progress: ProgressFn,
) -> LatencyRow:
    label = f"{name} · batch {batch}"
    progress(f"{label}: warm-up", 0)
    blocks: list[float] = []

    def on_block(number: int, seconds: float) -> None:
        blocks.append(seconds)
        progress(f"{label}: {len(blocks)} block(s) of {number} call(s)", 0)

    m, status = _time(model, sample, batch, choice.device, cfg, on_block)
    if m is None:
        _free(choice.device)
        progress(f"{label}: {status}", 1)
        return LatencyRow(name, batch, math.nan, math.nan, math.nan, status, env)
    env = {**env, "number_per_run": m.number_per_run, "blocks": len(m.raw_times)}
    progress(f"{label}: {m.median * 1e3:.2f} ms", 1)
    return LatencyRow(name, batch, m.median, m.iqr, batch / m.median, status, env)


def _target(
    ref: ArchSpec | str | Path | nn.Module,
    device: torch.device,
    channels_last: bool,
    sample_shape: Sequence[int] | None,
    name: str | None,
) -> tuple[nn.Module, str, tuple[int, ...]]:
    """The model to time (never the caller's own module object), its name and sample shape."""
    if not isinstance(ref, nn.Module):
        spec = ref if isinstance(ref, ArchSpec) else load_spec(ref)
        sample = (spec.input.channels, spec.input.size, spec.input.size)
        return prepare_model(spec, device, channels_last), name or spec.name, sample
    if sample_shape is None:
        raise ArchprobeError(
            "timing an nn.Module needs its per-sample input shape, e.g. (3, 224, 224)"
        )
    model = copy.deepcopy(ref).to(device).eval()  # a copy: eval/device/layout stay the caller's
    if channels_last:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return model, name or type(ref).__name__, tuple(sample_shape)


def measure_latency(
    ref: ArchSpec | str | Path | nn.Module,
    batches: Sequence[int],
    device: str = "auto",
    dtype: str = "fp32",
    channels_last: bool = False,
    compile: bool = False,
    min_run_time: float = 0.5,
    progress: ProgressFn | None = None,
    *,
    min_blocks: int = 5,
    warmup: int = 3,
    threads: int | None = None,
    cudnn_bench: bool | None = True,
    sample_shape: Sequence[int] | None = None,
    name: str | None = None,
) -> list[LatencyRow]:
    """Median and IQR latency of one model's forward pass at each batch size.

    Args:
        ref: a spec, a catalog name / alias / YAML path, or any ``nn.Module`` (timed on a copy;
            then ``sample_shape`` is required).
        batches: batch sizes, measured in this order; an OOM at one does not stop the others.
        device: "auto" (CUDA if available), "cpu", "cuda" or "cuda:N"; see :func:`resolve_device`.
        dtype: "fp32", or "fp16"/"bf16" under ``torch.autocast``.
        channels_last: convert model and input to ``torch.channels_last`` (NHWC).
        compile: ``torch.compile(model, dynamic=False)``; each batch size compiles during warm-up.
        min_run_time: seconds ``blocked_autorange`` measures for, at least.
        progress: called as ``progress(description, advance)``; advance is 1 per finished row.
        min_blocks: fewest timed blocks (IQR samples) per row.
        warmup: untimed calls per batch size before timing.
        threads: intra-op CPU threads (default ``torch.get_num_threads()``, not Timer's 1).
        cudnn_bench: ``torch.backends.cudnn.benchmark`` while measuring (True: cuDNN picks the
            fastest kernel per shape, as in ShuffleNet V2's GPU runs and timm); None: as is.
        sample_shape: per-sample input shape (C, H, W) of an ``nn.Module`` ref.
        name: the rows' model name (default: the spec's name or the module's class name).
    """
    threads = threads or torch.get_num_threads()
    cfg = _Config(
        check_dtype(dtype), channels_last, compile, min_run_time, min_blocks, warmup, threads
    )
    choice = resolve_device(device)
    module, label, sample = _target(ref, choice.device, channels_last, sample_shape, name)
    model: Callable[[Any], Any] = module
    if compile:
        # Static shapes: each batch size gets its own graph instead of one dynamic-shape graph.
        model = torch.compile(model, dynamic=False)
    rows, report = [], progress or (lambda description, advance: None)
    with cudnn_benchmark(cudnn_bench):
        for batch in batches:
            env = measurement_env(choice, dtype, channels_last, threads=threads, compile=compile)
            env.update(requested_device=device, batch=batch)
            rows.append(_measure_row(model, label, sample, batch, choice, env, cfg, report))
    return rows

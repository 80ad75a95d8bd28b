"""``compare``: several models side by side, the first one the baseline (torch-free core).

The analytic part needs no torch; counters, memory, latency and roofline measurements are
imported lazily when asked for, and their rows join the same Results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from archprobe.analysis.analytic import Analysis, analyze_spec
from archprobe.analysis.results import Entry, Results
from archprobe.builder.user_model import is_module_ref
from archprobe.errors import ArchprobeError
from archprobe.spec.schema import ArchSpec

if TYPE_CHECKING:
    import pandas as pd

Progress = Callable[[str, int], None]


@dataclass
class Comparison:
    """Models, their analyses and every result row (analytic, traced, measured)."""

    models: list[Analysis]
    results: Results
    sections: dict[str, Any] = field(default_factory=dict)  # extra reports by name

    @property
    def baseline(self) -> Analysis:
        return self.models[0]

    def to_frame(self) -> pd.DataFrame:
        return self.results.to_frame()


def _unique_names(models: list[Analysis]) -> None:
    _unique_names_of([m.name for m in models])


def _unique_names_of(seen: list[str]) -> None:
    duplicates = sorted({n for n in seen if seen.count(n) > 1})
    if duplicates:
        raise ArchprobeError(
            f"compare got {', '.join(duplicates)} more than once; give each model once"
        )


@dataclass(frozen=True)
class Measure:
    """What to run beyond the analytic counts (all off by default; all but ``memory`` need torch).

    Measured rows record device, torch version, dtype, layout, batch, threads and cudnn.benchmark.
    """

    counters: bool = False  # analytic vs FlopCounterMode vs fvcore vs thop, by op category
    memory: bool = False  # predicted inference and training memory (torch-free)
    measure_memory: bool = False  # ... and measured (CUDA max_memory_allocated / CPU profiler)
    latency: bool = False  # median and IQR per batch (torch.utils.benchmark)
    roofline: bool = False  # per-layer intensity, bound and profiled time, at the largest batch
    batches: tuple[int, ...] = (1,)
    device: str = "auto"  # auto = cuda when available, else cpu; cuda without CUDA: cpu + note
    dtype: str = "fp32"  # fp32 | fp16 | bf16 (autocast)
    channels_last: bool = False
    compile: bool = False  # torch.compile before timing
    optimizer: str = "sgd_momentum"  # sgd | sgd_momentum | adam (training memory)
    min_run_time: float = 0.5  # seconds of timing per (model, batch)


def _add_counters(c: Comparison) -> None:
    from archprobe.analysis.counters.reconcile import reconcile

    recs = [reconcile(m.spec) for m in c.models]
    c.sections["counters"] = recs
    for rec in recs:
        c.results = c.results + rec.to_results()


def _memory_entries(model: str, pred: Any, meas: Any) -> list[Entry]:
    env = {"batch": pred.batch, "mode": pred.mode, "optimizer": pred.optimizer or ""}
    rows = [Entry(model, "", "memory", "analytic", {"peak_bytes": pred.peak_bytes}, env)]
    if meas is not None:
        measured_env = {**env, "device": meas.device, "method": meas.method}
        rows.append(Entry(model, "", "memory", "measured", {"peak_bytes": meas.peak_bytes},
                          measured_env))  # fmt: skip
    return rows


def _memory_device(m: Measure) -> str:
    if not m.measure_memory:
        return "cuda"  # predictions alone: model what CUDA allocates (the 5% target's device)
    from archprobe.analysis.timing.env import resolve_device

    return str(resolve_device(m.device).device)


def _add_memory(c: Comparison, m: Measure) -> None:
    from archprobe.analysis.memory.model import predict_inference, predict_training

    device = _memory_device(m)
    backend: Literal["cuda", "cpu"] = "cuda" if device.startswith("cuda") else "cpu"
    optimizer: Any = m.optimizer
    pairs = []
    for a in c.models:
        for batch in m.batches:
            for pred in (predict_inference(a.graph, batch, backend=backend),
                         predict_training(a.graph, batch, optimizer, backend=backend)):  # fmt: skip
                meas = _measure_memory(a, pred, device) if m.measure_memory else None
                pairs.append((pred, meas))
                c.results = c.results + Results(_memory_entries(a.name, pred, meas))
    c.sections["memory"] = pairs


def _measure_memory(a: Analysis, pred: Any, device: str) -> Any:
    from archprobe.analysis.memory.measure import measure_inference, measure_training
    from archprobe.builder.network import build

    model = build(a.spec, device="cpu")
    shape = (pred.batch, *a.graph.input_shape)
    if pred.mode == "inference":
        return measure_inference(model, shape, device)
    return measure_training(model, shape, device, pred.optimizer)


def _add_latency(c: Comparison, m: Measure, progress: Progress | None) -> None:
    from archprobe.analysis.timing.latency import measure_latency, throughput_ratios, to_entries

    rows = []
    for a in c.models:
        rows += measure_latency(
            a.spec,
            m.batches,
            m.device,
            m.dtype,
            m.channels_last,
            m.compile,
            m.min_run_time,
            progress,
        )
    c.sections["latency"] = rows
    c.sections["ratios"] = throughput_ratios(rows, c.baseline.name)
    c.results = c.results + Results(to_entries(rows))


def _add_roofline(c: Comparison, m: Measure) -> None:
    from archprobe.analysis.timing.devices import math_mode
    from archprobe.analysis.timing.env import check_dtype, resolve_device, tf32_enabled
    from archprobe.analysis.timing.roofline import device_ceilings, roofline

    device = resolve_device(m.device).device
    ceilings = device_ceilings(device, m.dtype, math_mode(check_dtype(m.dtype), device.type,
                                                          tf32_enabled()))  # fmt: skip
    batch = max(m.batches)
    c.sections["roofline"] = [
        roofline(a.spec, batch, m.device, m.dtype, m.channels_last, ceilings=ceilings)
        for a in c.models
    ]


def _compare_modules(refs: list[str], m: Measure) -> Comparison:
    """Any ``pkg.mod:factory`` among the refs: profile every model (specs built on meta) at
    dispatch level, so all of them are counted the same way, side by side by module path."""
    from archprobe.analysis.counters.profile import profile
    from archprobe.builder.network import build
    from archprobe.builder.user_model import load_module

    memory = ["memory"] if m.measure_memory else []
    profiles, models = [], []
    for ref in refs:
        if is_module_ref(ref):
            model, name = load_module(ref), ref  # the full reference: unambiguous beside specs
        else:
            spec = analyze_spec(ref).spec
            model, name = build(spec, device="cpu" if m.latency else "meta"), spec.name
        models.append(model)
        profiles.append(profile(model, name=name, measure=memory, batches=m.batches,
                                measure_device=m.device, dtype=m.dtype))  # fmt: skip
    _unique_names_of([p.name for p in profiles])
    c = Comparison([], Results(e for p in profiles for e in p.entries), {"profiles": profiles})
    if m.latency:
        _module_latency(c, models, m)
    return c


def _module_latency(c: Comparison, models: list[Any], m: Measure) -> None:
    from archprobe.analysis.timing.latency import measure_latency, throughput_ratios, to_entries

    rows = []
    for model, p in zip(models, c.sections["profiles"], strict=True):
        rows += measure_latency(
            model, m.batches, m.device, m.dtype, m.channels_last, m.compile, m.min_run_time,
            sample_shape=p.input_shape[1:], name=p.name,
        )  # fmt: skip
    c.sections["latency"] = rows
    c.sections["ratios"] = throughput_ratios(rows, c.sections["profiles"][0].name)
    c.results = c.results + Results(to_entries(rows))


def compare(
    refs: Sequence[ArchSpec | str | Path],
    dtype_bytes: int = 4,
    measure: Measure | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Analyze two or more specs for a side-by-side report (the first one is the baseline).

    Args:
        refs: specs, catalog names/aliases or YAML paths, or ``pkg.mod:factory`` modules; with a
            module among them every model is profiled (``sections["profiles"]``, no stage tables).
        dtype_bytes: bytes per element for the byte metrics (4 = fp32).
        measure: optional counters and measurements; their rows join ``results`` and their
            report objects land in ``sections`` under the option's name.
        progress: called as ``progress(description, advance)`` while latency is measured.
    """
    if len(refs) < 2:
        raise ArchprobeError("compare needs at least two models, e.g. `compare resnet50 resnext50`")
    measure = measure or Measure()
    if any(isinstance(r, str) and is_module_ref(r) for r in refs):
        return _compare_modules([str(r) for r in refs], measure)
    models = [analyze_spec(r, dtype_bytes) for r in refs]
    _unique_names(models)
    comparison = Comparison(models, Results(e for m in models for e in m.results.entries))
    if measure.counters:
        _add_counters(comparison)
    if measure.memory or measure.measure_memory:
        _add_memory(comparison, measure)
    if measure.latency:
        _add_latency(comparison, measure, progress)
    if measure.roofline:
        _add_roofline(comparison, measure)
    return comparison

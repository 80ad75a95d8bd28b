"""``compare``: several models side by side, the first one the baseline (torch-free core).

The analytic part needs no torch; counters, memory, latency and roofline measurements are
imported lazily when asked for. Each part is a typed field of :class:`Comparison`, and
``Comparison.results`` is the union of the Results entries of every part (each analyzer converts
its own output), so an export of the results carries every number a report shows. In a notebook
a comparison shows its totals and stage bars (``_repr_html_``), and ``figure()`` returns the HTML
report's plotly figures; both are drawn by report/ (see ``analysis/results.py``, ``VIEWS``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from archprobe.analysis.analytic import Analysis, analyze_spec
from archprobe.analysis.measure_options import Measure
from archprobe.analysis.results import Results, draw, name_list
from archprobe.analysis.timing.devices import H100_SXM
from archprobe.analysis.timing.roofline import RooflineReport, analytic_roofline
from archprobe.builder.user_model import is_module_ref
from archprobe.errors import ArchprobeError
from archprobe.spec.schema import ArchSpec

if TYPE_CHECKING:  # torch-dependent modules: their result types are plain data
    import pandas as pd

    from archprobe.analysis.counters.profile import Profile
    from archprobe.analysis.counters.reconcile import Reconciliation
    from archprobe.analysis.memory.measure import MemoryMeasurement
    from archprobe.analysis.memory.model import MemoryPrediction
    from archprobe.analysis.memory.results import MemoryPair
    from archprobe.analysis.timing.latency import LatencyReport

Progress = Callable[[str, int], None]
REFERENCE_CEILINGS = H100_SXM
"""The datasheet ceilings of the reference roofline (drawn without ``--roofline``)."""


@dataclass(frozen=True)
class Comparison:
    """The models and every part asked for; ``results`` holds the rows of all of them.

    Attributes:
        models: the analysed specs, the baseline first (empty when modules are profiled).
        counters: analytic MACs reconciled with FlopCounterMode, fvcore and thop, per model.
        memory: predicted (and, when measured, measured) memory per model, mode and batch.
        latency: measured latency rows and throughput ratios to the baseline, or None.
        roofline: per-layer rooflines measured at the largest batch (``Measure.roofline``).
        reference_roofline: without ``roofline``, the analytic roofline of each model at batch 1
            in fp32 against :data:`REFERENCE_CEILINGS` (no torch, no device): what reports draw.
        profiles: dispatch-level profiles, when modules are compared (then ``models`` is empty).
    """

    models: tuple[Analysis, ...] = ()
    counters: tuple[Reconciliation, ...] = ()
    memory: tuple[MemoryPair, ...] = ()
    latency: LatencyReport | None = None
    roofline: tuple[RooflineReport, ...] = ()
    reference_roofline: tuple[RooflineReport, ...] = ()
    profiles: tuple[Profile, ...] = ()

    @property
    def baseline(self) -> Analysis:
        return self.models[0]

    @cached_property
    def results(self) -> Results:
        """Every row: analytic (or profiled), counters, memory, latency, then roofline."""
        parts: list[Results] = [*(a.results for a in self.models), *self.profiles]
        parts += [rec.to_results() for rec in self.counters]
        parts.append(Results(e for pair in self.memory for e in pair.to_entries()))
        if self.latency is not None:
            parts.append(self.latency.to_results())
        parts += [r.to_results() for r in (*self.roofline, *self.reference_roofline)]
        return Results(e for part in parts for e in part.entries)

    def to_frame(self) -> pd.DataFrame:
        return self.results.to_frame()

    @property
    def names(self) -> list[str]:
        """The models' names (specs, or profiled modules), the baseline first."""
        return [a.name for a in self.models] or [p.name for p in self.profiles]

    def parts(self) -> list[str]:
        """What was computed or measured, in words: ``analytic``, ``counters``, ``memory at
        batch 1, 32``, ``latency at batch 1``, ``roofline`` (measured) ..."""
        out = ["analytic" if self.models else "profiled (dispatch)"]
        out += ["counters"] if self.counters else []
        if self.memory:
            batches = dict.fromkeys(str(p.prediction.batch) for p in self.memory)
            measured = " (measured)" if any(p.measurement for p in self.memory) else ""
            out.append(f"memory{measured} at batch {', '.join(batches)}")
        if self.latency is not None:
            batches = dict.fromkeys(str(r.batch) for r in self.latency.rows)
            devices = dict.fromkeys(str(r.env.get("device", "?")) for r in self.latency.rows)
            out.append(f"latency at batch {', '.join(batches)} on {', '.join(devices)}")
        out += ["roofline"] if self.roofline else []
        return out

    def __repr__(self) -> str:
        return f"Comparison({name_list(self.names, ' vs ')}: {', '.join(self.parts())})"

    def _repr_html_(self) -> str:
        """A notebook's view: totals with deltas, stage bars and, when measured, the roofline."""
        html: str = draw("html", self)
        return html

    def figure(self) -> dict[str, Any]:
        """The HTML report's plotly figures, by name (``stages``, ``roofline``, and, when
        measured, ``roofline-measured``, ``latency``), styled as on the page: ``.show()`` one.
        Without ``--roofline`` measurements the roofline is the reference device's (analytic)."""
        figures: dict[str, Any] = draw("figures", self)
        return figures


def _unique_names(seen: list[str]) -> None:
    duplicates = sorted({n for n in seen if seen.count(n) > 1})
    if duplicates:
        raise ArchprobeError(
            f"compare got {', '.join(duplicates)} more than once; give each model once"
        )


def _memory_device(m: Measure) -> str:
    if not m.measure_memory:
        return "cuda"  # predictions alone: model what CUDA allocates (the 5% target's device)
    from archprobe.analysis.timing.env import resolve_device

    return str(resolve_device(m.device).device)


def _memory(models: Sequence[Analysis], m: Measure) -> tuple[MemoryPair, ...]:
    from archprobe.analysis.memory.model import predict_inference, predict_training
    from archprobe.analysis.memory.results import MemoryPair  # the memory model: when asked for

    device = _memory_device(m)
    backend: Literal["cuda", "cpu"] = "cuda" if device.startswith("cuda") else "cpu"
    optimizer: Any = m.optimizer
    pairs = []
    for a in models:
        for batch in m.batches:
            for pred in (predict_inference(a.graph, batch, backend=backend),
                         predict_training(a.graph, batch, optimizer, backend=backend)):  # fmt: skip
                meas = _measure_memory(a, pred, device) if m.measure_memory else None
                pairs.append(MemoryPair(pred, meas))
    return tuple(pairs)


def _measure_memory(a: Analysis, pred: MemoryPrediction, device: str) -> MemoryMeasurement:
    from archprobe.analysis.memory.measure import measure_inference, measure_training
    from archprobe.builder.network import build

    model = build(a.spec, device="cpu")
    shape = (pred.batch, *a.graph.input_shape)
    if pred.mode == "inference" or pred.optimizer is None:
        return measure_inference(model, shape, device)
    return measure_training(model, shape, device, pred.optimizer)


def _latency(
    targets: Sequence[tuple[Any, dict[str, Any]]],
    baseline: str,
    m: Measure,
    progress: Progress | None,
) -> LatencyReport:
    """Every (model or spec, extra arguments of ``latency.Target``) at every batch, all timed
    in the same interleaved rounds (ratios come from paired rounds)."""
    from archprobe.analysis.timing.latency import LatencyReport, Target, measure_latencies

    found = [Target(target, **extra) for target, extra in targets]
    rows = measure_latencies(
        found, m.batches, m.device, m.dtype, m.channels_last, m.compile, m.min_run_time,
        progress, threads=m.threads,
    )  # fmt: skip
    return LatencyReport.of(rows, baseline)


def _roofline(
    models: Sequence[Analysis], m: Measure, progress: Progress | None
) -> tuple[RooflineReport, ...]:
    """Every model profiled in the same interleaved rounds at the largest batch, against one
    set of ceilings (``roofline_measure.rooflines``)."""
    from archprobe.analysis.timing.roofline_measure import rooflines

    batch = max(m.batches)
    found = rooflines([a.spec for a in models], batch, m.device, m.dtype, m.channels_last,
                      progress=progress)  # fmt: skip
    return tuple(found)


def _check_device(m: Measure) -> None:
    """Resolve the device before any work when something will be measured: ``--device cuda``
    without CUDA fails here, in one line, not after minutes of counting."""
    if m.latency or m.roofline or m.measure_memory:
        from archprobe.analysis.timing.env import resolve_device

        resolve_device(m.device)


def _counted(models: Sequence[Analysis], progress: Progress | None) -> tuple[Reconciliation, ...]:
    from archprobe.analysis.counters.reconcile import reconcile

    out = []
    for a in models:
        if progress is not None:
            progress(f"counters: {a.name} (FlopCounterMode, fvcore, thop)", 0)
        out.append(reconcile(a.spec))
        if progress is not None:
            progress(f"counters: {a.name} done", 1)
    return tuple(out)


def _compare_modules(refs: list[str], m: Measure, progress: Progress | None) -> Comparison:
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
        profiles.append(profile(model, name=name, measure=memory, batches=m.batches, backward=True,
                                measure_device=m.device, dtype=m.dtype))  # fmt: skip
    _unique_names([p.name for p in profiles])
    latency = None
    if m.latency:
        targets = [(model, {"sample_shape": p.input_shape[1:], "name": p.name})
                   for model, p in zip(models, profiles, strict=True)]  # fmt: skip
        latency = _latency(targets, profiles[0].name, m, progress)
    return Comparison(latency=latency, profiles=tuple(profiles))


def progress_total(models: int, m: Measure) -> int:
    """How many steps :func:`compare` reports through ``progress`` for ``models`` models."""
    return models * (m.counters + m.latency * len(m.batches) + m.roofline)


def compare(
    refs: Sequence[ArchSpec | str | Path],
    dtype_bytes: int = 4,
    measure: Measure | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Analyze two or more specs for a side-by-side report (the first one is the baseline).

    Args:
        refs: specs, catalog names/aliases or YAML paths, or ``pkg.mod:factory`` modules; with a
            module among them every model is profiled (``Comparison.profiles``, no stage tables).
        dtype_bytes: bytes per element for the byte metrics (4 = fp32).
        measure: optional counters and measurements; each lands in its field of the
            comparison and its rows join ``results``.
        progress: called as ``progress(description, advance)`` while counters, latency and
            the roofline run; advance 1 per model counted, (model, batch) timed, model
            profiled (:func:`progress_total` of them).
    """
    if len(refs) < 2:
        raise ArchprobeError("compare needs at least two models, e.g. `compare resnet50 resnext50`")
    m = measure or Measure()
    _check_device(m)
    if any(isinstance(r, str) and is_module_ref(r) for r in refs):
        return _compare_modules([str(r) for r in refs], m, progress)
    models = tuple(analyze_spec(r, dtype_bytes) for r in refs)
    _unique_names([a.name for a in models])
    counters = _counted(models, progress) if m.counters else ()
    memory = _memory(models, m) if m.memory or m.measure_memory else ()
    specs: list[tuple[Any, dict[str, Any]]] = [(a.spec, {}) for a in models]
    latency = _latency(specs, models[0].name, m, progress) if m.latency else None
    roofline = _roofline(models, m, progress) if m.roofline else ()
    reference = () if roofline else tuple(
        analytic_roofline(a, 1, "fp32", REFERENCE_CEILINGS) for a in models
    )  # fmt: skip
    return Comparison(models, counters, memory, latency, roofline, reference)

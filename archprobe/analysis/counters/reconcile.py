"""Counters side by side: analytic, FlopCounterMode, fvcore and thop, reconciled per op category.

The counters run in :mod:`~archprobe.analysis.counters.runners`; this module holds the report
objects and :func:`reconcile`, which puts each counter next to what its convention predicts.
Each third-party counter runs on its own ``copy.deepcopy`` of the model in eval mode under
``no_grad``: thop adds ``total_ops`` attributes and forward hooks, fvcore registers hooks for
its trace (and does not remove them if tracing fails), and BN in training mode would update
running statistics. The caller's model is therefore never touched (state_dict, buffers, hooks and
training flags stay as they were); the cost is one extra copy of the model at a time.

Every counter's total is broken down into the conventions' ``CATEGORIES``; the
categories always sum to the counter's total (anything unattributed lands in "other"). Ops a
counter does not count are listed with call counts, never dropped.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from archprobe.analysis.counters.conventions import CATEGORIES, CONVENTIONS, Convention
from archprobe.analysis.counters.runners import (
    TORCH_COUNTERS,
    Measured,
    OpCalls,
    count_analytic,
)
from archprobe.analysis.results import Entry, Results
from archprobe.builder.network import build
from archprobe.errors import ArchprobeError
from archprobe.graph.nodes import Graph
from archprobe.spec.expand import expand
from archprobe.spec.loader import load_spec
from archprobe.spec.schema import ArchSpec

COUNTERS = tuple(CONVENTIONS)
"""Counter keys in display order: analytic, flopcounter, fvcore, thop."""

INSTALL_HINTS = {"fvcore": "pip install fvcore", "thop": "pip install archprobe[thop]"}
_REAL_TENSORS = {"fvcore"}  # torch.jit.trace cannot run on meta tensors; the others can


Status = Literal["ok", "not installed", "error"]


@dataclass(frozen=True)
class CounterReport:
    """One counter's numbers next to what its convention predicts for it.

    Attributes:
        convention: the counter's handle table (unit, per-op rules).
        status: "ok", "not installed" or "error".
        message: the install hint or the error, when not ok.
        native: per category, in the counter's native unit (whole batch).
        reported: the counter's own total, native unit (``FlopCountAnalysis.total()``, ...).
        predicted_native: the prediction from the op graph, same unit.
        uncounted: ops the counter ran but did not count.
        notes: per category, why the counter counts it the way it does.
        zero_notes: per op type the counter counts as 0, why.
        unmodelled: graph op types the convention has no rule for.
    """

    convention: Convention
    status: Status
    message: str = ""
    native: Mapping[str, float] = field(default_factory=dict)
    reported: float = 0.0
    predicted_native: Mapping[str, int] = field(default_factory=dict)
    uncounted: tuple[OpCalls, ...] = ()
    notes: Mapping[str, str] = field(default_factory=dict)
    zero_notes: Mapping[str, str] = field(default_factory=dict)
    unmodelled: Mapping[str, int] = field(default_factory=dict)

    @property
    def counter(self) -> str:
        return self.convention.counter

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def macs(self) -> dict[str, float]:
        """Per category in MACs (native ÷ FLOPs per MAC)."""
        return {c: v / self.convention.per_mac for c, v in self.native.items()}

    @property
    def predicted(self) -> dict[str, float]:
        """Predicted MACs per category."""
        return {c: v / self.convention.per_mac for c, v in self.predicted_native.items()}

    @property
    def total(self) -> float:
        """Total in MACs."""
        return sum(self.macs.values())

    @property
    def native_total(self) -> float:
        """Total in the counter's own unit (FLOPs for FlopCounterMode)."""
        return sum(self.native.values())

    @property
    def mismatches(self) -> tuple[str, ...]:
        """Categories where the measured count differs from the prediction."""
        return tuple(
            c for c in CATEGORIES if self.native.get(c, 0) != self.predicted_native.get(c, 0)
        )


@dataclass(frozen=True)
class Reconciliation:
    """Every requested counter on one model, per category, with predictions and notes.

    Values are for the whole batch (``batch`` images of ``input_shape``).
    """

    model: str
    batch: int
    input_shape: tuple[int, ...]
    counters: tuple[CounterReport, ...]

    def __getitem__(self, counter: str) -> CounterReport:
        return {r.counter: r for r in self.counters}[counter]

    def to_results(self) -> Results:
        """One entry per (counter that ran, category): ``values={"macs": ...}``.

        ``method`` is "analytic" for archprobe's own count and "traced" for the others; ``env``
        names the counter, its native convention and the batch.
        """
        return Results(
            Entry(
                self.model,
                "",
                cat,
                "analytic" if r.counter == "analytic" else "traced",
                {"macs": macs},
                {"counter": r.counter, "convention": r.convention.unit, "batch": self.batch},
            )
            for r in self.counters
            if r.ok
            for cat, macs in r.macs.items()
        )


def _device_of(model: nn.Module) -> torch.device:
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    return first.device if first is not None else torch.device("cpu")


def _torch_model(counter: str, graph: Graph, model: nn.Module | None) -> nn.Module:
    """A private model for one counter run: a deep copy of the caller's, or a fresh build.

    The copy is what keeps the caller's model untouched whatever the counter does to it.
    """
    if model is not None:
        private = copy.deepcopy(model)
    else:
        private = build(graph, device="cpu" if counter in _REAL_TENSORS else "meta")
    return private.eval()  # eval: BN must not update statistics, and fvcore's BN count is eval's


def _measure(counter: str, graph: Graph, batch: int, model: nn.Module | None) -> Measured:
    if counter == "analytic":
        return count_analytic(graph, batch)
    private = _torch_model(counter, graph, model)
    device = _device_of(private)
    if device.type == "meta" and counter in _REAL_TENSORS:
        raise ArchprobeError(f"{counter} traces with torch.jit, which needs a CPU or CUDA model")
    x = torch.zeros((batch, *graph.input_shape), device=device)
    return TORCH_COUNTERS[counter](private, x, graph)


def _run(counter: str, graph: Graph, batch: int, model: nn.Module | None) -> CounterReport:
    """Run one counter; a missing package or a failure becomes the report's status."""
    convention = CONVENTIONS[counter]
    if counter in INSTALL_HINTS and importlib.util.find_spec(counter) is None:
        hint = f"not installed ({INSTALL_HINTS[counter]})"
        return CounterReport(convention, "not installed", hint)
    prediction = convention.predict(graph, batch)
    report = CounterReport(
        convention,
        "ok",
        predicted_native=prediction.native,
        notes=convention.notes(graph),
        zero_notes=convention.zero_notes(graph),
        unmodelled=prediction.unmodelled,
    )
    try:
        measured = _measure(counter, graph, batch, model)
    except Exception as exc:  # reported in the table with its message, never swallowed
        return replace(report, status="error", message=f"{type(exc).__name__}: {exc}")
    return replace(
        report, native=measured.native, reported=measured.reported, uncounted=measured.uncounted
    )


def reconcile(
    ref: ArchSpec | Graph | str | Path,
    counters: Sequence[str] = COUNTERS,
    batch: int = 1,
    model: nn.Module | None = None,
) -> Reconciliation:
    """Run counters on one model and break each total down by op category.

    Args:
        ref: a spec, a catalog name or YAML path, or an expanded graph.
        counters: keys of :data:`COUNTERS` to run, in display order.
        batch: images per forward; every value is for the whole batch.
        model: the caller's module for ``ref`` (any device); each counter runs on a deep copy.
            When None, a model is built per counter: on the meta device, or on the CPU for
            fvcore, whose jit trace needs real tensors.

    Raises:
        ArchprobeError: an unknown counter name or a batch below 1.
    """
    unknown = [c for c in counters if c not in CONVENTIONS]
    if unknown:
        raise ArchprobeError(f"unknown counter {unknown[0]!r} (allowed: {', '.join(COUNTERS)})")
    if batch < 1:
        raise ArchprobeError(f"batch must be at least 1, got {batch}")
    graph = _as_graph(ref)
    reports = tuple(_run(c, graph, batch, model) for c in counters)
    return Reconciliation(graph.name, batch, (batch, *graph.input_shape), reports)


def _as_graph(ref: ArchSpec | Graph | str | Path) -> Graph:
    if isinstance(ref, Graph):
        return ref
    return expand(ref if isinstance(ref, ArchSpec) else load_spec(ref))

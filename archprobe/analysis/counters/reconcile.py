"""Counters side by side: analytic, FlopCounterMode, fvcore and thop, reconciled per op category.

Each third-party counter runs on its own ``copy.deepcopy`` of the model in eval mode under
``no_grad``: thop adds ``total_ops`` attributes and forward hooks, fvcore registers hooks for
its trace (and does not remove them if tracing fails), and BN in training mode would update
running statistics. The caller's model is therefore never touched (state_dict, buffers, hooks and
training flags stay as they were); the cost is one extra copy of the model at a time.

fvcore and thop are imported inside the functions that use them: fvcore only when its counter
runs, and thop (AGPL-3.0) only when the thop counter is requested.

Every counter's total is broken down into the conventions' ``CATEGORIES``; the
categories always sum to the counter's total (anything unattributed lands in "other"). Ops a
counter does not count are listed with call counts, never dropped.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple

import torch
from torch import nn
from torch.nn.modules.batchnorm import _NormBase
from torch.nn.modules.conv import _ConvNd
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from archprobe.analysis.analytic import analyze
from archprobe.analysis.counters.conventions import (
    CATEGORIES,
    CONVENTIONS,
    Convention,
    category,
    op_category,
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


class OpCalls(NamedTuple):
    """An op a counter executed but did not count, with how often it ran."""

    name: str
    calls: int
    category: str


class Measured(NamedTuple):
    """What one counter reported, in its native unit: per category, its own total figure (which
    the categories must add up to) and the ops it ran without counting."""

    native: dict[str, float]
    reported: float
    uncounted: tuple[OpCalls, ...]


def _by_category(counts: Mapping[str, float]) -> dict[str, float]:
    out = dict.fromkeys(CATEGORIES, 0.0)
    for name, value in counts.items():
        out[op_category(name)] += value
    return out


# TorchDispatchMode is not fully annotated in torch, hence the no-untyped-call ignores.
class _AtenCalls(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Counts every aten op that runs: FlopCounterMode only reports ops it has a formula for."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.calls: Counter[str] = Counter()

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        self.calls[str(func.overloadpacket)] += 1
        return func(*args, **(kwargs or {}))


def count_flopcounter(model: nn.Module, x: torch.Tensor) -> Measured:
    """FlopCounterMode FLOPs (2 per MAC) per category; ops without a formula are uncounted."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter, _AtenCalls() as seen:
        model(x)
    flops = {str(op): n for op, n in counter.get_flop_counts().get("Global", {}).items()}
    formulas = {str(op) for op in counter.flop_registry}
    uncounted = tuple(
        OpCalls(op, n, op_category(op)) for op, n in seen.calls.items() if op not in formulas
    )
    return Measured(_by_category(flops), counter.get_total_flops(), uncounted)


def count_fvcore(model: nn.Module, x: torch.Tensor) -> Measured:
    """fvcore ``FlopCountAnalysis`` (MACs) per category; its ``unsupported_ops()`` are listed.

    Ops in fvcore's ignore list (``aten::relu_``, views) are neither counted nor reported by
    fvcore; :mod:`archprobe.analysis.counters.conventions` notes them.
    """
    with warnings.catch_warnings():
        # fvcore.nn's import jit-scripts its losses, which torch>=2.10 deprecates: not our call.
        warnings.simplefilter("ignore", DeprecationWarning)
        from fvcore.nn import FlopCountAnalysis  # optional convention: imported only when used

    analysis = FlopCountAnalysis(model, (x,))
    # Our report lists unsupported ops itself; fvcore would also log them.
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    by_op = {str(k): float(v) for k, v in analysis.by_operator().items()}
    uncounted = tuple(
        OpCalls(str(op), int(n), op_category(str(op)))
        for op, n in analysis.unsupported_ops().items()
    )
    return Measured(_by_category(by_op), float(analysis.total()), uncounted)


# Module types -> category, for thop's per-module counts (first match wins).
_MODULE_CATEGORIES: tuple[tuple[tuple[type[nn.Module], ...], str], ...] = (
    ((_ConvNd,), "conv"),
    ((nn.Linear,), "linear"),
    ((_NormBase, nn.LayerNorm, nn.GroupNorm), "norm"),
    ((nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d), "pool"),
    ((nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU), "act"),
)


def _module_category(m: nn.Module) -> str:
    return next((c for types, c in _MODULE_CATEGORIES if isinstance(m, types)), "other")


def _thop_tree(
    model: nn.Module, tree: Mapping[str, Any], prefix: str, out: dict[str, float]
) -> None:
    """Add each module's own ops (its total minus its children's) to its category."""
    for name, (ops, _params, children) in tree.items():
        path = f"{prefix}.{name}" if prefix else name
        own = float(ops) - sum(float(c[0]) for c in children.values())
        out[_module_category(model.get_submodule(path))] += own
        _thop_tree(model, children, path, out)


@contextmanager
def _calls(modules: Sequence[nn.Module]) -> Iterator[Counter[str]]:
    """Count forward calls per module type while inside (hooks on our private copy only)."""
    calls: Counter[str] = Counter()
    handles = [
        m.register_forward_hook(lambda mod, args, out: calls.update([type(mod).__name__]))
        for m in modules
    ]
    try:
        yield calls
    finally:
        for h in handles:
            h.remove()


def count_thop(model: nn.Module, x: torch.Tensor) -> Measured:
    """thop ``profile`` ops (MACs) per category; modules without a thop rule are listed.

    thop hooks modules only, so arithmetic written functionally in a forward (the residual
    ``+``) is never seen: the module holding it appears among the modules without a rule.
    """
    import thop  # AGPL-3.0: imported only when the thop counter is requested
    from thop.profile import register_hooks

    # thop resolves a module's rule along its MRO (profile.py _resolve_rule); so do we.
    no_rule = [m for m in model.modules() if not any(t in register_hooks for t in type(m).__mro__)]
    with _calls(no_rule) as calls:
        total, _params, tree = thop.profile(model, (x,), verbose=False, ret_layer_info=True)
    native = dict.fromkeys(CATEGORIES, 0.0)
    _thop_tree(model, tree, "", native)
    # The root's own ops and functional products thop counts outside modules (torch.matmul).
    native["other"] += float(total) - sum(native.values())
    uncounted = tuple(OpCalls(f"{n} (no thop rule)", c, "other") for n, c in calls.items())
    return Measured(native, float(total), uncounted)


def count_analytic(graph: Graph, batch: int = 1) -> Measured:
    """archprobe's own MACs per category; ops that are 0 by convention are listed as uncounted."""
    native = dict.fromkeys(CATEGORIES, 0.0)
    zero: Counter[tuple[str, str]] = Counter()
    for leaf in graph.leaves:
        native[category(leaf.op)] += batch * leaf.cost.macs
        if not leaf.cost.macs:
            zero[type(leaf.op).__name__, category(leaf.op)] += batch
    reported = batch * analyze(graph).total("macs")  # the Results path, not the sum above
    return Measured(native, reported, tuple(OpCalls(n, c, cat) for (n, cat), c in zero.items()))


_TORCH_COUNTERS: dict[str, Callable[[nn.Module, torch.Tensor], Measured]] = {
    "flopcounter": count_flopcounter,
    "fvcore": count_fvcore,
    "thop": count_thop,
}


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
    return _TORCH_COUNTERS[counter](private, x)


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

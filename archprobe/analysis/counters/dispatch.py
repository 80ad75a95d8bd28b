"""One dispatch-level recorder of every aten op a module runs (STYLE rule 7: one table, one walk).

:class:`OpRecorder` is a ``TorchDispatchMode`` that files every aten op under a :class:`Site`:
the innermost module running it (its scope, the module path), every module running it (what
FlopCounterMode attributes the op to), the op overload as dispatched and the pass (forward or
backward). Per site it keeps a :class:`Tally`: calls, FLOPs by torch's own formulas, element ops,
output elements, and bytes read and written. Every op is recorded, views included, so each
consumer reads what it needs from one recording: ``runtime.flop_counts`` (FlopCounterMode's
per-module FLOPs), the reconciliation (the ops FlopCounterMode ran without counting) and
``profile`` (MACs, element ops and bytes per scope and category). Each site gets the first rule
that applies (the op classes behind the rules: :mod:`.op_classes`):

| rule     | ops                                                 | counted as                    |
|----------|-----------------------------------------------------|-------------------------------|
| free     | views and aliases, allocations, copies, ``cat``     | nothing (free at this level)  |
| flops    | conv, mm, addmm, bmm, baddbmm, sdpa, ...            | ``flops``: FlopCounterMode's  |
| elem_out | ops tagged ``torch.Tag.pointwise``, activations;    | one element op per output     |
|          | every backward op without a formula                 | element                       |
| elem_in  | batch norm, pooling, mean, sum, softmax ...         | one element op per input elem.|
| none     | otherwise                                           | nothing: listed as uncosted   |

FLOPs follow FlopCounterMode (``torch/utils/flop_counter.py``): an op is first offered to its
decomposition (``OpOverload.decompose``), whose parts' FLOPs become the op's; otherwise its
formula in ``flop_registry`` counts it (2 FLOPs per multiply-add). Composite ops reach the
dispatcher under ``torch.inference_mode``, where ``aten.linear`` is counted through its ``addmm``.
Two additions make attention count the same on every device (:mod:`.attention`): formulas for
the SDPA kernels torch has none for (the CPU's among them), and nn.MultiheadAttention run on its
composite path rather than its fused fast path while recording.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry
from torch.utils.module_tracker import ModuleTracker

from archprobe.analysis.counters.attention import FORMULAS, unfused_attention
from archprobe.analysis.counters.conventions import op_category
from archprobe.analysis.counters.meta_kernels import fast_meta
from archprobe.analysis.counters.op_classes import (
    REDUCTIONS,
    activation,
    base_name,
    does_arithmetic,
    free,
)
from archprobe.analysis.counters.tracker import Tracker

if TYPE_CHECKING:
    from torch import nn

Phase = Literal["fwd", "bwd"]
Rule = Literal["free", "flops", "elem_out", "elem_in", "none"]


def _sizes(tree: Any) -> tuple[int, int]:
    """(elements, bytes) of every tensor in an op's arguments or outputs: tensors nested in
    tuples, lists and dicts, as ``tree_flatten`` finds them (a plain walk: this runs for every
    op, and pytree's generic flatten was the recorder's largest cost)."""
    if isinstance(tree, torch.Tensor):
        n = tree.numel()
        return n, n * tree.element_size()
    if isinstance(tree, (list, tuple)):
        items: Any = tree
    elif isinstance(tree, dict):
        items = tree.values()
    else:
        return 0, 0
    elems = nbytes = 0
    for item in items:
        e, b = _sizes(item)
        elems, nbytes = elems + e, nbytes + b
    return elems, nbytes


def category(func: Any) -> str:
    """Report category of an aten op: the reconciliation's (conv, linear, norm, pool, add, act),
    "act" for every activation function too, "elementwise" for other pointwise ops, else
    "other"."""
    # Backward ops share their forward op's category: convolution_backward is conv work.
    base = base_name(func).removesuffix("_backward")
    cat = op_category(base)
    if cat == "other" and activation(base):
        return "act"
    if cat == "other" and torch.Tag.pointwise in func.tags:
        return "elementwise"
    return cat


def rule(func: Any, phase: Phase, counted: bool) -> Rule:
    """The cost rule of one op (the table in the module docstring), first match wins.

    Args:
        func: the aten op overload.
        phase: "fwd" or "bwd".
        counted: a formula counts FLOPs for it (its own, or one in its decomposition).
    """
    base = base_name(func)
    if free(func):
        return "free"
    if counted:
        return "flops"
    if phase == "bwd" or torch.Tag.pointwise in func.tags or activation(base):
        return "elem_out"
    return "elem_in" if base in REDUCTIONS else "none"


class Site(NamedTuple):
    """Where an op ran: innermost scope, every running scope, the op overload and the pass.

    Scopes are module paths relative to the model ("" = the model itself); ``parents`` is
    empty for an op outside every module (the engine's own work in backward, say).
    """

    scope: str
    parents: frozenset[str]
    func: Any
    phase: Phase

    @property
    def op(self) -> str:
        """The aten packet, as FlopCounterMode names it: ``aten.convolution``."""
        return str(self.func.overloadpacket)

    @property
    def name(self) -> str:
        """The packet without its namespace: ``convolution``."""
        return base_name(self.func)

    @property
    def category(self) -> str:
        """The op's report category (:func:`category`)."""
        return category(self.func)


@dataclass
class Tally:
    """What one site cost over all its calls.

    Attributes:
        rule: the cost rule that applied (see the module docstring).
        counted: a formula counts this op (its own or one of its decomposition's: torch's, or
            :mod:`.attention`'s for the SDPA kernels torch has none for).
        extra: one of :mod:`.attention`'s formulas counted it, or part of it: FlopCounterMode
            does not count it (in full).
        calls: how often it ran.
        flops: FLOPs by FlopCounterMode's formulas and :mod:`.attention`'s (2 per multiply-add).
        acts: output elements of counted ops.
        elem_ops: element ops by the ``elem_out`` / ``elem_in`` rules.
        bytes_read: bytes of every tensor argument.
        bytes_written: bytes of every tensor output.
    """

    rule: Rule
    counted: bool
    extra: bool = False
    calls: int = 0
    flops: int = 0
    acts: int = 0
    elem_ops: int = 0
    bytes_read: int = 0
    bytes_written: int = 0


Recording = Mapping[Site, Tally]
"""Sites in first-call order, with what each cost."""


FAILED_OP = "archprobe_failed_op"
"""The attribute an error raised by an op gets: which op, on which shapes, in which module
(torch's meta kernels word errors tersely: "Invalid channel dimensions")."""


def _mark(exc: Exception, func: Any, args: tuple[Any, ...], scope: str) -> None:
    if hasattr(exc, FAILED_OP):  # the innermost op named itself already
        return
    shapes = [str(tuple(a.shape)) for a in args if isinstance(a, torch.Tensor)]
    where = f"in module {scope!r}" if scope else "in the root module's forward"
    setattr(
        exc, FAILED_OP, f"{func.overloadpacket} on {', '.join(shapes) or 'no tensors'}, {where}"
    )


_DECOMPOSES: dict[Any, bool] = {}


def _decomposes(func: Any) -> bool:
    """``func.decompose`` would return a decomposition (a CompositeImplicitAutograd kernel),
    asked once per op: most ops have none, and entering the mode to learn so costs each call."""
    known = _DECOMPOSES.get(func)
    if known is None:
        known = _DECOMPOSES[func] = bool(func._can_decompose())
    return known


# TorchDispatchMode is not fully annotated in torch, hence the no-untyped-call ignores.
class OpRecorder(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Records every aten op run inside it into :attr:`sites` (a :data:`Recording`).

    ``phase`` ("fwd" or "bwd") is set by the caller between the two passes. Scopes come from
    a :class:`ModuleTracker`, which uses global module hooks while active and removes them on
    exit: nothing is registered on the model itself.
    """

    def __init__(self, tracker: ModuleTracker, root: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.tracker, self.root = tracker, root
        self.phase: Phase = "fwd"
        self.sites: dict[Site, Tally] = {}
        # FLOPs of the decompositions running now, innermost last (None: no formula yet).
        self._parts: list[int | None] = []
        # One of :mod:`.attention`'s formulas counted (part of) the op being recorded now.
        self._extra = False
        # (scope, parents) per set of running tracker names: a pass meets the same few.
        self._places: dict[frozenset[str], tuple[str, frozenset[str]]] = {}

    def _path(self, name: str) -> str:
        """A tracker name as a module path: "ResNet.layer1.0" -> "layer1.0", "ResNet" -> ""."""
        if name == self.root:
            return ""
        return name[len(self.root) + 1 :] if name.startswith(self.root + ".") else name

    def scope(self) -> str:
        """Innermost module path running now ("" = the root or no module)."""
        # In backward, siblings can be "running" at once; ties go to the greater name, so the
        # attribution does not depend on set order (the hash seed).
        inner = max(self.tracker.parents, key=lambda p: (p.count("."), p))
        return "" if inner == "Global" else self._path(inner)

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        if self._parts:  # a part of a decomposition: its FLOPs are the decomposed op's
            out, flops = self._run(func, args, kwargs)
            if flops is not None:
                self._parts[-1] = (self._parts[-1] or 0) + flops
            return out
        self._extra = False
        try:
            out, flops = self._run(func, args, kwargs)
        except Exception as exc:
            _mark(exc, func, args, self.scope())
            raise
        self._record(func, args, kwargs, out, flops)
        return out

    def _run(
        self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, int | None]:
        """Run one op the way FlopCounterMode does: through its decomposition when it has one,
        else itself; returns its output and FLOPs (None when no formula counted any of it)."""
        if func is not torch.ops.prim.device.default and _decomposes(func):
            self._parts.append(None)
            try:
                with self:
                    out = func.decompose(*args, **kwargs)
            finally:
                flops = self._parts.pop()
            if out is not NotImplemented:
                return out, flops
        # On meta, skip torch's slow Python meta kernels, unless another mode below this one
        # (FlopCounterMode, in the counters' comparison) must see the op too.
        alone = torch._C._len_torch_dispatch_stack() == 0
        out = fast_meta(func, args, kwargs) if alone else NotImplemented
        if out is NotImplemented:
            out = func(*args, **kwargs)
        formula = flop_registry.get(func.overloadpacket)
        if formula is None and func.overloadpacket in FORMULAS:
            formula, self._extra = FORMULAS[func.overloadpacket], True
        if formula is None:
            return out, None
        return out, int(formula(*args, **kwargs, out_val=out))

    def _record(
        self,
        func: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        out: Any,
        flops: int | None,
    ) -> None:
        running = frozenset(self.tracker.parents)
        place = self._places.get(running)
        if place is None:
            parents = frozenset(self._path(p) for p in running if p != "Global")
            place = self._places[running] = (self.scope(), parents)
        site = Site(*place, func, self.phase)
        tally = self.sites.get(site)
        if tally is None:
            counted = flops is not None
            tally = Tally(rule(func, self.phase, counted), counted, self._extra)
            self.sites[site] = tally
        tally.calls += 1
        tally.flops += flops or 0
        out_elems, out_bytes = _sizes(out)
        tally.bytes_read += _sizes(args)[1] + _sizes(kwargs)[1]
        tally.bytes_written += out_bytes
        if tally.rule == "flops":
            tally.acts += out_elems
        elif tally.rule == "elem_out":
            tally.elem_ops += out_elems
        elif tally.rule == "elem_in":
            tally.elem_ops += _sizes(args[0])[0] if args else 0


@contextmanager
def recording(model: nn.Module) -> Iterator[OpRecorder]:
    """An :class:`OpRecorder` with its own :class:`~.tracker.Tracker` (a ``ModuleTracker``),
    scopes relative to ``model``; attention runs unfused inside it
    (:func:`~.attention.unfused_attention`: exact counts)."""
    with (
        unfused_attention(),
        Tracker() as tracker,
        OpRecorder(tracker, type(model).__name__) as recorder,
    ):
        yield recorder


def record(model: nn.Module, *inputs: torch.Tensor) -> Recording:
    """Every op of one forward of ``model`` under ``no_grad``, as it stands (mode, device)."""
    with torch.no_grad(), recording(model) as recorder:
        model(*inputs)
    return recorder.sites


def module_flops(rec: Recording) -> dict[str, int]:
    """FLOPs per module path including its children, as FlopCounterMode's ``get_flop_counts``
    reports them ("" = the model): every module running a counted op gets its FLOPs."""
    out: dict[str, int] = defaultdict(int)
    for site, tally in rec.items():
        if tally.counted:
            for scope in site.parents:
                out[scope] += tally.flops
    return dict(out)


def total_flops(rec: Recording) -> int:
    """FLOPs of every op, in a module or not (FlopCounterMode's ``get_total_flops``)."""
    return sum(t.flops for t in rec.values())


def by_category(rec: Recording, phase: Phase = "fwd") -> dict[str, int]:
    """FLOPs per op category (:func:`category`) of one pass; categories without FLOPs omitted."""
    out: Counter[str] = Counter()
    for site, tally in rec.items():
        if site.phase == phase and tally.flops:
            out[site.category] += tally.flops
    return dict(out)


def uncounted(rec: Recording) -> dict[str, int]:
    """Calls per aten packet that FlopCounterMode runs without counting (no formula in torch for
    it or its decomposition's parts; the SDPA kernels only :mod:`.attention` counts are listed
    too), in first-call order; only ops that do arithmetic (:func:`does_arithmetic`)."""
    out: Counter[str] = Counter()
    for site, tally in rec.items():
        if (not tally.counted or tally.extra) and does_arithmetic(site.func):
            out[site.op] += tally.calls
    return dict(out)


def main_categories(rec: Recording) -> dict[str, str]:
    """Per scope, the category holding its forward FLOPs, else that of its first op that is
    not free: what a module "is" as the ops it runs tell (where ``profile`` puts its params)."""
    flops: dict[tuple[str, str], int] = {}
    for site, tally in rec.items():
        if tally.rule != "free":
            key = (site.scope, site.category)
            fwd = tally.flops if site.phase == "fwd" else 0
            flops[key] = flops.get(key, 0) + fwd
    out: dict[str, str] = {}
    for (scope, cat), value in flops.items():
        if scope not in out or (value and not flops[scope, out[scope]]):
            out[scope] = cat
    return out

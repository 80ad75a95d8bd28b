"""Profile any ``nn.Module``: the same Results rows as a spec analysis, counted at dispatch level.

The model is never touched: counting runs on a private copy in eval mode (BN statistics stay
put; :mod:`.private_copy`: the module tree is copied, its tensors are made on meta, never
cloned) with no hooks on any module (scopes come from :class:`ModuleTracker`'s global hooks,
which it removes on exit). Counting runs on the meta device when the model allows it (no
memory, no compute; the input is made on meta too); a model meta tensors cannot run (its forward
needs real values, ``if x.sum() > 0``, or an op has no meta kernel) is counted on the CPU, with
a note saying so; any other failure on meta (a wrong shape) is reported as it is. The backward
pass runs only when asked for (``backward=True``). Ops are recorded, and their cost rules live,
in :mod:`archprobe.analysis.counters.dispatch`; this module turns one recording into rows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils._pytree import tree_flatten

from archprobe.analysis.counters.attention import unfused_attention
from archprobe.analysis.counters.dispatch import (
    FAILED_OP,
    OpRecorder,
    Recording,
    Site,
    Tally,
    main_categories,
)
from archprobe.analysis.counters.op_classes import contracts, does_arithmetic
from archprobe.analysis.counters.private_copy import first_line as _first_line
from archprobe.analysis.counters.private_copy import private_copy
from archprobe.analysis.counters.profile_measure import measurements
from archprobe.analysis.counters.spec_match import match_spec
from archprobe.analysis.counters.tracker import Tracker
from archprobe.analysis.results import Entry, Results
from archprobe.errors import ArchprobeError

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
DEFAULT_INPUT = (1, 3, 224, 224)
_PARAM_METRICS = ("params", "buffers", "weight_bytes")
BACKWARD_METRICS = ("flops_bwd", "elem_ops_bwd")


class Profile(Results):
    """Results of one profiled module, plus what the run could not cost and how it ran.

    Attributes:
        name: the model's name in every row.
        input_shape: the shape of the (first) input, batch included.
        device: where the ops ran ("meta" or "cpu"/"cuda" after a fallback).
        uncounted: (aten op, category, calls) of forward ops that do arithmetic no rule costs.
        notes: what the user should know (a CPU fallback, ...).
        match: the catalog spec whose state_dict shapes this model has, if any.
        undercounted: the uncounted ops that are contractions (conv, matmul, attention): their
            multiply-adds are missing from ``macs``, so the total is too low (a warning).
        backward: the backward pass was counted (``flops_bwd``, ``elem_ops_bwd``); asking a
            profile without it for those metrics is an error, not a silent zero.
    """

    def __init__(
        self,
        entries: Sequence[Entry],
        name: str,
        input_shape: tuple[int, ...],
        device: str,
        uncounted: tuple[tuple[str, str, int], ...] = (),
        notes: tuple[str, ...] = (),
        match: str | None = None,
        undercounted: tuple[str, ...] = (),
        backward: bool = True,
    ) -> None:
        super().__init__(entries)
        self.name, self.input_shape, self.device = name, input_shape, device
        self.uncounted, self.notes, self.match = uncounted, notes, match
        self.undercounted, self.backward = undercounted, backward

    def _counted(self, metric: str) -> None:
        if metric in BACKWARD_METRICS and not self.backward:
            raise ArchprobeError(
                f"{metric} was not counted: profile {self.name} with backward=True "
                "(the backward pass runs only when asked for)"
            )

    def total(self, metric: str, scope: str = "", model: str | None = None) -> float:
        self._counted(metric)
        return super().total(metric, scope, model)

    def by_scope(self, metric: str, depth: int = 1, model: str | None = None) -> dict[str, float]:
        self._counted(metric)
        return super().by_scope(metric, depth, model)

    def by_op(self, metric: str, model: str | None = None) -> dict[str, float]:
        self._counted(metric)
        return super().by_op(metric, model)


Inputs = torch.Tensor | Sequence[torch.Tensor] | None


def _inputs(
    inputs: Inputs, shape: Sequence[int], device: str, dtype: torch.dtype
) -> tuple[torch.Tensor, ...]:
    """The inputs on ``device``: the user's, moved (values kept off meta), or zeros of ``shape``
    made there (on meta they take no memory: ``--input 1,3,60000,60000`` allocates nothing)."""
    if inputs is None:
        return (torch.zeros(tuple(shape), device=device, dtype=dtype),)
    xs = (inputs,) if isinstance(inputs, torch.Tensor) else tuple(inputs)
    return tuple(x.detach().to(device=device, dtype=dtype if x.is_floating_point() else x.dtype)
                 for x in xs)  # fmt: skip


def _param_entries(model: nn.Module, name: str, cats: dict[str, str]) -> list[Entry]:
    """One entry per module owning parameters or buffers (``recurse=False``: scopes sum up)."""
    entries = []
    for path, mod in model.named_modules():
        params = sum(p.numel() for p in mod.parameters(recurse=False))
        buffers = sum(b.numel() for b in mod.buffers(recurse=False) if b.is_floating_point())
        if params or buffers:
            weight = sum(p.numel() * p.element_size() for p in mod.parameters(recurse=False))
            values = {"params": params, "buffers": buffers, "weight_bytes": weight}
            entries.append(Entry(name, path, cats.get(path, ""), "traced", values))
    return entries


def _run(model: nn.Module, xs: tuple[torch.Tensor, ...], backward: bool) -> OpRecorder:
    """Forward (and backward) under one recorder; scopes from a ModuleTracker (:mod:`.tracker`)."""
    xs = tuple(x.requires_grad_(backward) if x.is_floating_point() else x for x in xs)
    with unfused_attention(), Tracker() as tracker:
        recorder = OpRecorder(tracker, type(model).__name__)
        with torch.set_grad_enabled(backward), recorder:
            out = model(*xs)
        outs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor) and t.grad_fn]
        if backward and outs:
            # A scalar built outside the recorder: the engine then computes the outputs' grads,
            # which fires the tracker's hooks for the last module (fc's backward is fc's, not
            # the root's); _priced drops this sum's own backward (outside every module).
            total = torch.stack([t.float().sum() for t in outs]).sum()
            recorder.phase = "bwd"
            with recorder:
                total.backward()  # type: ignore[no-untyped-call]
    return recorder


@dataclass(frozen=True)
class _Job:
    """What to count: the model, its inputs (tensors, or one shape of zeros) and how."""

    model: nn.Module
    inputs: Inputs
    shape: tuple[int, ...]
    dtype: torch.dtype
    name: str
    backward: bool

    def shapes(self) -> str:
        if self.inputs is None:
            return str(self.shape)
        xs = (self.inputs,) if isinstance(self.inputs, torch.Tensor) else tuple(self.inputs)
        return ", ".join(str(tuple(x.shape)) for x in xs)


def _count(job: _Job, device: str) -> OpRecorder:
    private = private_copy(job.model, device, job.dtype, job.name)
    moved = _inputs(job.inputs, job.shape, device, job.dtype)
    # Backward needs at least one tensor that requires grad: parameters, or a float input.
    backward = job.backward and (
        any(p.requires_grad for p in private.parameters())
        or any(x.is_floating_point() for x in moved)
    )
    try:
        return _run(private, moved, backward)
    except SystemExit as exc:  # the model's forward called sys.exit: an error, not our exit
        raise RuntimeError(f"the forward pass raised SystemExit({exc.code!r})") from exc


# What meta tensors cannot do, and a real device can: read a value (``if x.sum() > 0``,
# ``.item()``, ``.tolist()``), an op without a meta kernel (NotImplementedError: "Could not run
# 'aten::...' with arguments from the 'Meta' backend", ``nonzero``), a CPU tensor made inside
# forward meeting meta ones ("found at least two devices, meta and cpu").
_META_LIMIT = re.compile(r"\bmeta\b", re.IGNORECASE)


def _meta_limitation(exc: Exception) -> bool:
    """The failure is meta's, not the model's: the same model may run on the CPU."""
    return isinstance(exc, NotImplementedError) or _META_LIMIT.search(str(exc)) is not None


def _on_meta(model: nn.Module) -> bool:
    return any(t.is_meta for t in (*model.parameters(), *model.buffers()))


def _count_with_fallback(job: _Job, device: str) -> tuple[OpRecorder, str, tuple[str, ...]]:
    """Count on ``device``; on meta, a failure meta tensors cause retries on the CPU.

    Raises:
        ArchprobeError: the model fails on the input (its own error and the shape tried; the
            meta error alone when the CPU cannot help, as for a wrong shape, so that a
            mis-shaped 40 GB layer reports its shape, never a 40 GB CPU copy), or the model
            cannot be copied.
    """
    try:
        return _count(job, device), device, ()
    except ArchprobeError:
        raise
    except Exception as exc:  # the model's own error: reported to the user, never swallowed
        if device != "meta" or not _meta_limitation(exc) or _on_meta(job.model):
            raise _rejected(job, exc, device) from exc
        meta_error = exc
    try:
        rec = _count(job, "cpu")
    except ArchprobeError:
        raise
    except Exception as exc:
        raise _rejected(job, exc, "cpu", meta_error) from exc
    note = (
        f"meta tensors cannot run {job.name} ({_first_line(meta_error)}); "
        "counted on the CPU instead"
    )
    return rec, "cpu", (note,)


# How torch and models word an input of the wrong shape: conv channels, matmul shapes, views,
# broadcasts, "expected 4D input", timm's "Input height (32) doesn't match model (224)".
_SHAPE_WORDS = re.compile(
    r"\b(shapes?|sizes?|dimensions?|dims?|channels|broadcast|match|mismatch|height|width|\d+D)\b",
    re.IGNORECASE,
)


def _shape_mismatch(exc: Exception) -> bool:
    """The error says the input's shape is wrong. A NotImplementedError never does: it is what
    torch raises for an op without a kernel for the device ("Could not run 'aten::...' with
    arguments from the 'Meta' backend"), which no other input shape fixes."""
    if isinstance(exc, NotImplementedError):
        return False
    return _SHAPE_WORDS.search(_first_line(exc)) is not None


def _rejected(
    job: _Job, exc: Exception, device: str, meta_error: Exception | None = None
) -> ArchprobeError:
    """The error for a model that fails on its input; the shape hint only for shape errors."""
    op = getattr(exc, FAILED_OP, None)
    at = f"\n  (at {op})" if op else ""
    if _shape_mismatch(exc):
        return ArchprobeError(
            f"{job.name} rejected the input of shape {job.shapes()}: {_first_line(exc)}{at}\n"
            "  (pass the shape the model expects, e.g. --input 1,3,224,224)"
        )
    tried = ""
    if meta_error is not None and _first_line(meta_error) != _first_line(exc):
        tried = f"\n  (on meta tensors first: {_first_line(meta_error)})"
    return ArchprobeError(
        f"{job.name} failed on {device} with the input of shape {job.shapes()}: "
        f"{_first_line(exc)}{at}{tried}"
    )


def _priced(rec: Recording) -> dict[Site, Tally]:
    """The sites a profile costs: not free, and not the backward of the loss sum ``profile`` adds
    (it runs outside every module: the model's work only)."""
    return {s: t for s, t in rec.items() if t.rule != "free" and (s.phase == "fwd" or s.parents)}


def _values(site: Site, tally: Tally) -> dict[str, int]:
    """One site's metrics: forward bytes and costs; backward FLOPs or element ops."""
    if site.phase == "bwd":
        if tally.rule == "flops":
            return {"flops_bwd": tally.flops}
        return {"elem_ops_bwd": tally.elem_ops}
    out = {"bytes_read": tally.bytes_read, "bytes_written": tally.bytes_written}
    if tally.rule == "flops":  # FlopCounterMode: 2 FLOPs per multiply-add
        out |= {"flops": tally.flops, "macs": tally.flops // 2, "acts": tally.acts}
    elif tally.rule in ("elem_out", "elem_in"):
        out["elem_ops"] = tally.elem_ops
    return out


def _op_entries(rec: Recording, name: str) -> list[Entry]:
    """One entry per (scope, category), scopes in first-execution order."""
    groups: dict[tuple[str, str], Counter[str]] = {}
    for site, tally in rec.items():
        groups.setdefault((site.scope, site.category), Counter()).update(_values(site, tally))
    order = {scope: i for i, scope in enumerate(dict.fromkeys(s.scope for s in rec))}
    keys = sorted(groups, key=lambda k: order[k[0]])
    return [Entry(name, scope, cat, "traced", dict(groups[scope, cat])) for scope, cat in keys]


def _uncosted(rec: Recording) -> tuple[tuple[str, str, int], ...]:
    """(aten op, category, calls) of the forward ops no rule costs that do arithmetic (an
    embedding lookup or ``arange`` is no cost left out)."""
    calls: Counter[tuple[str, str]] = Counter()
    for site, tally in rec.items():
        if site.phase == "fwd" and tally.rule == "none" and does_arithmetic(site.func):
            calls[site.name, site.category] += tally.calls
    return tuple((op, cat, n) for (op, cat), n in calls.items())


def profile(
    model: nn.Module,
    inputs: Inputs = None,
    *,
    input_shape: Sequence[int] | None = None,
    device: str = "meta",
    dtype: str = "fp32",
    name: str | None = None,
    match: bool = True,
    backward: bool = False,
    measure: Sequence[str] = (),
    batches: Sequence[int] = (1,),
    measure_device: str = "auto",
) -> Profile:
    """Params, MACs, activations, element ops, bytes and forward/backward FLOPs of any module.

    Args:
        model: any ``nn.Module``; it is never mutated (counting runs on a deep copy).
        inputs: example input(s); their shapes and dtypes are used, their values only off meta.
        input_shape: used when ``inputs`` is None; default the matching spec's input, else
            ``(1, 3, 224, 224)``.
        device: where to count: "meta" (default; falls back to the CPU with a note) or a device.
        dtype: fp32, fp16 or bf16 (parameters and inputs are cast on the copy).
        name: model name in the rows; default the class name (or the matching spec's name).
        match: look for a catalog spec with the same state_dict shapes.
        backward: count the backward pass too (``flops_bwd``, ``elem_ops_bwd``; the pass
            costs about twice the forward); without it those metrics raise when asked for.
        measure: "latency" (median ± IQR per batch, as for specs) and/or "memory" (measured
            inference and SGD-momentum training peaks; training needs (batch, classes) logits).
        batches: batch sizes of the measurements.
        measure_device: where to measure ("auto": CUDA when available).

    Returns:
        A :class:`Profile` (a Results): one ``traced`` entry per (module path, op category)
        and one per module owning parameters; ``macs`` are multiply-adds, ``flops`` and
        ``flops_bwd`` FlopCounterMode FLOPs (2×MAC), ``elem_ops`` pointwise/reduction elements.

    Raises:
        ArchprobeError: an unknown dtype, an input the model rejects, or a model that cannot
            be copied.
    """
    if dtype not in DTYPES:
        raise ArchprobeError(f"unknown dtype {dtype!r} (allowed: {', '.join(DTYPES)})")
    spec = match_spec(model) if match else None
    if inputs is None and input_shape is None and spec is not None:
        input_shape = (1, *spec[1])
    label = name or (spec[0] if spec else type(model).__name__)
    shape = _first_shape(inputs, input_shape)
    job = _Job(model, inputs, shape, DTYPES[dtype], label, backward)
    recorder, ran_on, notes = _count_with_fallback(job, device)
    rec = _priced(recorder.sites)
    entries = _op_entries(rec, label) + _param_entries(model, label, main_categories(rec))
    uncounted = _uncosted(rec)
    undercounted = tuple(op for op, _, _ in uncounted if contracts(op))
    if measure:
        measured, measure_notes = measurements(
            model, label, shape[1:], measure, batches, measure_device, dtype
        )
        entries, notes = entries + measured, (*notes, *measure_notes)
    matched = spec[0] if spec else None
    return Profile(entries, label, shape, ran_on, uncounted, notes, matched, undercounted, backward)


def _first_shape(inputs: Inputs, input_shape: Sequence[int] | None) -> tuple[int, ...]:
    """The (first) input's shape, batch included."""
    if inputs is None:
        return tuple(input_shape or DEFAULT_INPUT)
    first = inputs if isinstance(inputs, torch.Tensor) else next(iter(inputs))
    return tuple(first.shape)

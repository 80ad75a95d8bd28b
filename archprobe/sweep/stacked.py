"""Many blocks of one structure costed in one graph walk: the ops' own rules on numpy arrays.

Cores of a sweep differ in widths, groups and input sizes, not in the shape of their blocks'
graphs. Blocks whose node trees match in every node type, name and non-integer field (a conv's
``bias``, a pool's ``ceil_mode``) are *stacked*: one tree of the same node and op classes whose
integer fields hold an int64 array (one entry per block) where the blocks differ. The ordinary
graph walk (``walk_seq``, each op's ``out_shape`` and ``cost_at``) then runs once on that tree and
array shapes, so N blocks cost one pass per op, from the same code as the per-config walk (no
second description of any block). A group is first expanded *once* (:func:`expand_once`: the
part's own ``expand`` on int64 arrays of the integers that differ, so the ops' constructor checks
run on every entry); a part whose code cannot take arrays raises, and its blocks are expanded one
by one, then stacked field by field. Where a check or shape rule rejects any entry, or a rule
branches on a value that differs, the group falls back to the per-block walk, which gives the
exact per-block error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from archprobe.blocks import get_block
from archprobe.blocks.base import BlockParams
from archprobe.errors import ArchprobeError, SpecError
from archprobe.graph.cost import Cost, Shape
from archprobe.graph.facts import Leaf
from archprobe.graph.nodes import Node, walk_seq
from archprobe.graph.op import GraphError
from archprobe.spec.expand import BlockCall, plan
from archprobe.spec.schema import ArchSpec
from archprobe.sweep.fast import SpecCost, StageCost, part_cost

MIN_GROUP = 4  # below this, stacking costs more than walking each block
Outcome = tuple[Cost, Shape] | GraphError
_MEMO: dict[tuple[BlockCall, Shape], Outcome] = {}  # numbers only, as fast.block_cost's cache
MAX_MEMO = 1 << 16
_SIGS: dict[int, tuple[Node, Hashable]] = {}
_FIELDS: dict[type, tuple[str, ...] | None] = {}
_INT = "int"  # an integer field's place in a signature: its values may differ across a group


def _names(cls: type) -> tuple[str, ...] | None:
    """A dataclass type's field names (None for any other type), cached per type."""
    if cls not in _FIELDS:
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else None
        _FIELDS[cls] = None if fields is None else tuple(f.name for f in fields)
    return _FIELDS[cls]


def signature(obj: Any) -> Hashable:
    """What blocks must share to be stacked: every class, name and non-integer value."""
    cls = type(obj)
    if cls is int:
        return _INT
    if cls is tuple:
        return tuple(map(signature, obj))
    names = _names(cls)
    if names is None:
        return (cls, obj)
    return (cls, tuple([signature(getattr(obj, n)) for n in names]))


def node_signature(node: Node) -> Hashable:
    """``signature`` of a block's nodes, memoised by identity (the plan's blocks are cached
    objects that recur across cores; each entry keeps its node alive, as in ``fast.part_cost``)."""
    hit = _SIGS.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    if len(_SIGS) >= MAX_MEMO:
        _SIGS.clear()
    sig = signature(node)
    _SIGS[id(node)] = (node, sig)
    return sig


class Mismatch(Exception):
    """Objects to stack differ in a class, a length or a non-integer value."""


def stack(objs: Sequence[Any]) -> Any:
    """One object standing for ``objs``: differing integers become arrays, anything else must
    match (else :class:`Mismatch`).

    Dataclasses are made without ``__init__``: their checks ran when each block was expanded, and
    they compare scalars."""
    first = objs[0]
    cls = type(first)
    if any(type(o) is not cls for o in objs):
        raise Mismatch(cls.__name__)
    if cls is int:
        return np.array(objs, dtype=np.int64) if any(o != first for o in objs) else first
    if cls is tuple:
        if any(len(o) != len(first) for o in objs):
            raise Mismatch("tuple length")
        return tuple(stack([o[i] for o in objs]) for i in range(len(first)))
    names = _names(cls)
    if names is None:
        if any(o != first for o in objs):
            raise Mismatch(repr(first))
        return first
    out = object.__new__(cls)
    for name in names:
        object.__setattr__(out, name, stack([getattr(o, name) for o in objs]))
    return out


def walk_stacked(nodes: Sequence[Node], shapes: Sequence[Shape]) -> list[tuple[Cost, Shape]]:
    """(cost, output shape) of each node on its input shape, in one walk of the stacked tree.

    Raises:
        GraphError, TypeError, ValueError: a shape rule rejects an entry, or a rule branches on
            a value that differs within the group (the caller walks each block instead).
    """
    return _walk(stack(list(nodes)), shapes)


def _walk(node: Node, shapes: Sequence[Shape]) -> list[tuple[Cost, Shape]]:
    """:func:`walk_stacked` of a tree already stacked (``node``) on the blocks' input shapes."""
    n = len(shapes)
    rows, y = walk_arrays(node, stack(list(shapes)), n)
    outs = zip(*(_entries(v, n).tolist() for v in y), strict=True)
    return [(Cost(*c), s) for c, s in zip(rows.tolist(), outs, strict=True)]


def walk_arrays(node: Node, x: Shape, n: int) -> tuple[NDArray[np.int64], Shape]:
    """The costs (n × Cost fields, int64) and output shape of ``n`` blocks stacked in ``node``
    on the stacked input shape ``x``, in one walk.

    Raises:
        GraphError, TypeError, ValueError: as :func:`walk_stacked`.
    """
    leaves: list[Leaf] = []
    y = walk_seq((node,), x, "", leaves)
    total = Cost.total(leaf.cost for leaf in leaves)
    return np.stack([_entries(v, n) for v in total], axis=1), y


def _entries(value: Any, n: int) -> NDArray[np.int64]:
    """A stacked result's ``n`` entries (a scalar: the same for every entry).

    Raises:
        TypeError: a value that is not an integer (a rule left integer arithmetic)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iu":
            raise TypeError(f"a stacked count of type {value.dtype}")
        return np.broadcast_to(value.astype(np.int64, copy=False), (n,))
    if not isinstance(value, int | np.integer):
        raise TypeError(f"a stacked count of type {type(value).__name__}")
    return np.full(n, int(value), dtype=np.int64)


def expand_once(calls: Sequence[BlockCall]) -> Node:
    """One tree standing for the blocks ``calls`` (one part type and stride): the part's own
    ``expand`` run once, with the integers that differ between the calls (widths, groups, the
    shape arguments) as int64 arrays, so N blocks are neither expanded nor stacked one by one.
    Names come from the first call (costs do not depend on them).

    Raises:
        Mismatch, GraphError, TypeError, ValueError: the calls differ in something but integers,
            an entry is refused, or the part's code cannot take arrays (it compares or branches
            on a value that differs); the caller then expands each block.
    """
    first = calls[0]
    if any(c.stride != first.stride or type(c.params) is not type(first.params) for c in calls):
        raise Mismatch("stride or part type")
    model = type(first.params)
    fields = {name: stack([getattr(c.params, name) for c in calls]) for name in model.model_fields}
    params = model.model_construct(**fields)  # checked when each call's params were validated
    cin, cout = stack([c.cin for c in calls]), stack([c.cout for c in calls])
    return get_block(params.type).expand(params, cin, cout, first.stride, first.scope[-1:])


def _single(call: BlockCall, x: Shape) -> Outcome:
    try:
        return part_cost(call.node(), x, memo=False)
    except GraphError as exc:
        return exc


def block_costs(calls: Sequence[tuple[BlockCall, Shape]]) -> list[Outcome]:
    """Each block's (cost, output shape) on its input, or the GraphError its walk raises;
    equal to ``fast.block_cost`` (tested), with blocks of one structure walked together."""
    found: dict[tuple[BlockCall, Shape], Outcome] = {}
    missing = []
    for key in dict.fromkeys(calls):  # cores of one batch share blocks: cost each once
        hit = _MEMO.get(key)
        if hit is None:
            missing.append(key)
        else:
            found[key] = hit
    if missing:
        found.update(_costs(missing))
    return [found[key] for key in calls]


def proxy(call: BlockCall, x: Shape) -> Hashable:
    """A cheap guess at a block's structure: its part type and non-integer knobs, whether it
    changes shape (the shortcut), its stride and spatial size. Blocks that share it but not their
    structure are told apart by :func:`signature` when stacking finds the mismatch."""
    knobs = tuple(v for v in vars(call.params).values() if type(v) is not int)
    return (type(call.params), knobs, call.cin == call.cout, call.stride, x[1:], len(x))


def _costs(calls: list[tuple[BlockCall, Shape]]) -> dict[tuple[BlockCall, Shape], Outcome]:
    """The outcome of each of ``calls`` (none of them memoised yet), memoised."""
    out: list[Outcome | None] = [None] * len(calls)
    groups: dict[Hashable, list[int]] = {}
    for i, (call, x) in enumerate(calls):
        groups.setdefault(proxy(call, x), []).append(i)
    for members in groups.values():
        if len(members) < MIN_GROUP or not _once(members, calls, out):
            _each(members, calls, out)
    if len(_MEMO) >= MAX_MEMO:
        _MEMO.clear()
    done = {key: o for key, o in zip(calls, out, strict=True) if o is not None}  # every one set
    _MEMO.update(done)
    return done


def _once(members: list[int], calls: list[tuple[BlockCall, Shape]], out: list[Outcome | None]
          ) -> bool:  # fmt: skip
    """Cost a group with its block expanded once (:func:`expand_once`); False where it cannot."""
    try:
        costs = _walk(expand_once([calls[i][0] for i in members]), [calls[i][1] for i in members])
    except (Mismatch, GraphError, TypeError, ValueError):
        return False
    for i, result in zip(members, costs, strict=True):
        out[i] = result
    return True


def _each(members: list[int], calls: list[tuple[BlockCall, Shape]], out: list[Outcome | None]
          ) -> None:  # fmt: skip
    """Cost a group block by block: each expanded, then stacked where their trees allow."""
    expanded: list[Member] = []
    for i in members:
        call, x = calls[i]
        try:
            expanded.append((i, call.node(), x))
        except GraphError as exc:
            out[i] = exc
    _group(expanded, calls, out, refine=True)


Member = tuple[int, Node, Shape]


def _group(
    members: list[Member], calls: list[tuple[BlockCall, Shape]], out: list[Outcome | None],
    refine: bool,
) -> None:  # fmt: skip
    """Cost a group in one stacked walk; split it by signature where its structures differ, and
    walk each block alone where an entry is invalid or a rule branches on a differing value."""
    if len(members) >= MIN_GROUP:
        try:
            costs = walk_stacked([m[1] for m in members], [m[2] for m in members])
        except Mismatch:
            if refine:
                parts: dict[Hashable, list[Member]] = {}
                for m in members:
                    parts.setdefault(node_signature(m[1]), []).append(m)
                for part in parts.values():
                    _group(part, calls, out, refine=False)
                return
        except (GraphError, TypeError, ValueError):
            pass
        else:
            for (i, _, _), result in zip(members, costs, strict=True):
                out[i] = result
            return
    for i, _, _ in members:
        out[i] = _single(*calls[i])


class _State:
    """One spec's walk so far: its plan, running total and shape, stages done, or its error."""

    def __init__(self, spec: ArchSpec, blocks: Sequence[BlockParams] | None = None) -> None:
        self.spec, self.stages = spec, list[StageCost]()
        self.error: ArchprobeError | None = None
        self.total, self.x = Cost(), (0, 0, 0)
        try:
            self.plan = plan(spec, blocks)
            size = spec.input.size
            self.total, self.x = part_cost(self.plan.stem, (spec.input.channels, size, size))
        except (GraphError, SpecError) as exc:
            self.error = exc

    def live(self, s: int) -> bool:
        return self.error is None and s < len(self.plan.stages)

    def transition(self, s: int) -> Cost:
        """Stage ``s``'s transition cost (most have none), moving the shape on."""
        stage, cost = self.plan.stages[s], Cost()
        if stage.transition:  # built afresh per spec: no identity to memoise on
            try:
                cost, self.x = part_cost(stage.transition, self.x, memo=False)
            except GraphError as exc:
                self.error = exc
        return cost


def _blocks(states: list[_State], calls: list[BlockCall]) -> list[Cost | None]:
    """Each state's block cost on its shape (moving the shape on), None where it failed."""
    results = block_costs([(c, t.x) for c, t in zip(calls, states, strict=True)])
    out: list[Cost | None] = []
    for t, result in zip(states, results, strict=True):
        if isinstance(result, GraphError):
            t.error = result
            out.append(None)
        else:
            out.append(result[0])
            t.x = result[1]
    return out


def _stage(states: list[_State], s: int) -> None:
    """Stage ``s`` of every live state: transition, first block, then the repeated block."""
    ins = [t.x for t in states]  # the stage's input shape, before its transition
    trans = [t.transition(s) for t in states]
    live = [(t, c, x) for t, c, x in zip(states, trans, ins, strict=True) if t.error is None]
    firsts = _blocks([t for t, _, _ in live], [t.plan.stages[s].first for t, _, _ in live])
    done = [(t, c + f, x) for (t, c, x), f in zip(live, firsts, strict=True) if f is not None]
    rep = [(t, r) for t, _, _ in done if (r := t.plan.stages[s].repeat) is not None]
    costs = _blocks([t for t, _ in rep], [r for _, r in rep])
    repeats = {id(t): c for (t, _), c in zip(rep, costs, strict=True)}
    for t, first, x in done:
        if t.error is not None:
            continue
        total, repeat = first, repeats.get(id(t))
        if repeat is not None:
            total = total + repeat.times(t.plan.stages[s].depth - 1)
        t.stages.append(StageCost(first, repeat, total, x))
        t.total = t.total + total


def spec_costs(
    specs: Sequence[ArchSpec], blocks: Sequence[Sequence[BlockParams]] | None = None
) -> list[SpecCost | ArchprobeError]:
    """``fast.spec_cost`` of each spec (with its stages' blocks replaced by ``blocks[i]``, as
    ``fast.spec_cost``'s ``blocks``: the width solver), or the error it raises; stage by stage
    across the specs, so each stage's blocks of one structure are costed together
    (:func:`block_costs`)."""
    if blocks is None:
        states = [_State(spec) for spec in specs]
    else:
        states = [_State(spec, b) for spec, b in zip(specs, blocks, strict=True)]
    for s in range(max((len(t.plan.stages) for t in states if t.error is None), default=0)):
        _stage([t for t in states if t.live(s)], s)
    out: list[SpecCost | ArchprobeError] = []
    for t in states:
        if t.error is None:
            try:
                t.total = t.total + part_cost(t.plan.head, t.x)[0]
            except GraphError as exc:
                t.error = exc
        out.append(t.error or SpecCost(t.total, tuple(t.stages)))
    return out

"""The width solver's missing (core, d) pairs, costed together on arrays.

A pair's network is its core's spec with every stage's block at (C, d) (``solve.uniform_cost``:
``fast.spec_cost`` with the blocks replaced). Only the blocks depend on d: the stem, the
transitions and the head, and each block's input and output widths and stride, come from the
core's plan, made once per core; a pair's block calls are the core's with their params replaced
(what ``spec.expand.plan`` builds from ``blocks``). The blocks of every pair go through
``stacked.block_costs`` stage by stage (one structure: one walk of the ops' own rules on arrays),
and a pair's totals are assembled as ``fast.spec_cost`` does (stem + Σ stages (transition +
first + repeat · (depth - 1)) + head), in int64 columns: per pair only its blocks' params and
calls are Python objects, not a plan, a spec or a Cost per stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from archprobe.blocks.base import BlockParams
from archprobe.graph.cost import Cost, Shape
from archprobe.graph.op import GraphError
from archprobe.spec.expand import BlockCall, Plan, plan
from archprobe.spec.schema import ArchSpec
from archprobe.sweep.fast import part_cost
from archprobe.sweep.solve import block_with
from archprobe.sweep.stacked import block_costs

FIELDS = len(Cost._fields)
Int64s = NDArray[np.int64]


@dataclass
class Filled:
    """Costs of K pairs: validity, totals (K × 6), and per stage (K × S × 6) the first block
    with its transition and one repeated block (zeros at depth 1); invalid pairs are zeros."""

    valid: NDArray[np.bool_]
    total: Int64s
    first: Int64s
    repeat: Int64s


@dataclass
class _Core:
    """A core's parts that do not depend on d: its plan, stem cost and shape (None: invalid)."""

    spec: ArchSpec
    plan: Plan | None = None
    stem: Cost = field(default_factory=Cost)
    x: Shape = (0, 0, 0)

    @classmethod
    def of(cls, spec: ArchSpec) -> _Core:
        core = cls(spec)
        try:
            core.plan = plan(spec)
            size = spec.input.size
            core.stem, core.x = part_cost(core.plan.stem, (spec.input.channels, size, size))
        except GraphError:
            core.plan = None
        return core

    def calls(self, groups: int, d: int) -> list[tuple[BlockCall, BlockCall | None]]:
        """Each stage's (first, repeated) block call at (C, d)."""
        assert self.plan is not None
        out = []
        for i, (stage, planned) in enumerate(zip(self.spec.stages, self.plan.stages, strict=True)):
            block = block_with(stage.block, groups, d, i)
            repeat = planned.repeat
            out.append((_with(planned.first, block), repeat and _with(repeat, block)))
        return out


def _with(call: BlockCall, block: BlockParams) -> BlockCall:
    """``call`` with its block's params replaced (``dataclasses.replace``, without its cost)."""
    return BlockCall(block, call.cin, call.cout, call.stride, call.scope)


def _rows(costs: Sequence[Cost]) -> Int64s:
    return np.array(costs, dtype=np.int64).reshape(-1, FIELDS)


def _walk(
    calls: list[BlockCall], live: list[int], x: list[Shape], ok: NDArray[np.bool_]
) -> tuple[list[int], Int64s]:
    """Cost ``calls[j]`` on ``x[live[j]]``, moving each pair's shape on; a pair whose block is
    invalid is marked in ``ok``. Returns the pairs still live and their costs."""
    results = block_costs([(c, x[k]) for c, k in zip(calls, live, strict=True)])
    kept, costs = [], []
    for k, result in zip(live, results, strict=True):
        if isinstance(result, GraphError):
            ok[k] = False
        else:
            kept.append(k)
            costs.append(result[0])
            x[k] = result[1]
    return kept, _rows(costs)


def pair_costs(todo: Sequence[tuple[ArchSpec, int, int]]) -> Filled:
    """:func:`solve.uniform_cost` of each (spec, groups, d) as arrays (None there: invalid)."""
    cores: dict[int, _Core] = {}  # by the spec's identity: a table's cores hold their specs
    members = []
    for spec, _, _ in todo:
        if id(spec) not in cores:
            cores[id(spec)] = _Core.of(spec)
        members.append(cores[id(spec)])
    n, depth = len(todo), max((len(c.spec.stages) for c in members), default=0)
    ok = np.array([c.plan is not None for c in members], dtype=bool)
    calls = [m.calls(g, d) if m.plan else [] for m, (_, g, d) in zip(members, todo, strict=True)]
    x = [m.x for m in members]
    first = np.zeros((n, depth, FIELDS), dtype=np.int64)
    repeat = np.zeros_like(first)
    for s in range(depth):
        live = [k for k in range(n) if ok[k] and s < len(calls[k])]
        live = _transitions(members, s, live, x, ok, first)
        live, cost = _walk([calls[k][s][0] for k in live], live, x, ok)
        first[live, s] += cost
        live = [k for k in live if calls[k][s][1] is not None]
        live, cost = _walk([calls[k][s][1] for k in live], live, x, ok)  # type: ignore[misc]
        repeat[live, s] = cost
    fixed = np.zeros((n, FIELDS), dtype=np.int64)  # stem and head
    for k in np.flatnonzero(ok).tolist():
        m = members[k]
        assert m.plan is not None
        try:
            fixed[k] = m.stem + part_cost(m.plan.head, x[k])[0]
        except GraphError:
            ok[k] = False
    extra = np.array([[s.depth - 1 for s in m.spec.stages] + [0] * (depth - len(m.spec.stages))
                      for m in members], dtype=np.int64).reshape(n, depth)  # fmt: skip
    total = fixed + first.sum(axis=1) + np.einsum("nsf,ns->nf", repeat, extra)
    bad = ~ok
    total[bad], first[bad], repeat[bad] = 0, 0, 0
    return Filled(ok, total, first, repeat)


def _transitions(
    members: list[_Core], s: int, live: list[int], x: list[Shape], ok: NDArray[np.bool_],
    first: Int64s,
) -> list[int]:  # fmt: skip
    """Stage ``s``'s transition of each live pair (most stages have none), moving shapes on."""
    out = []
    for k in live:
        m = members[k]
        assert m.plan is not None
        trans = m.plan.stages[s].transition
        if trans:
            try:
                cost, x[k] = part_cost(trans, x[k], memo=False)
            except GraphError:
                ok[k] = False
                continue
            first[k, s] += cost
        out.append(k)
    return out

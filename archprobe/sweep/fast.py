"""Whole-network totals from the expansion's plan with memoised node costs: a sweep's analytic path.

A sweep evaluates thousands of specs that share most blocks. ``spec.expand.plan`` expands each
part once (cached), and a stage is its first block plus ``depth - 1`` copies of the block it
repeats, so the cost of a repeated block is walked once and multiplied. Node costs are memoised
by node (the plan's cached nodes recur across specs) and input shape. The totals equal
:func:`archprobe.analysis.analytic.analyze` exactly (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from archprobe.blocks.base import BlockParams
from archprobe.graph.cost import Cost, Shape
from archprobe.graph.facts import Leaf
from archprobe.graph.nodes import Node, walk_seq
from archprobe.spec.expand import BlockCall, plan
from archprobe.spec.schema import ArchSpec

_COSTS: dict[tuple[int, Shape], tuple[object, Cost, Shape]] = {}
MAX_COSTS = 1 << 16


@dataclass(frozen=True)
class StageCost:
    """One stage: its first block, one repeated block (None when depth is 1), and the sum (the
    transition, when the stage has one, is in ``first`` and ``total``)."""

    first: Cost
    repeat: Cost | None
    total: Cost
    in_shape: Shape


@dataclass(frozen=True)
class SpecCost:
    """Totals of a spec plus the per-stage breakdown the width solver needs."""

    total: Cost
    stages: tuple[StageCost, ...]


def part_cost(part: Node | tuple[Node, ...], x: Shape, memo: bool = True) -> tuple[Cost, Shape]:
    """Cost and output shape of a node (or nodes in order) on ``x`` (raises ``GraphError``).

    Memoised by the part's identity: the plan's parts are cached objects that recur across
    specs, and each entry keeps its part alive, so an identity is never reused while its entry
    exists (hashing a whole block per lookup would cost more than the walk it saves)."""
    key = (id(part), x)
    hit = _COSTS.get(key) if memo else None
    if hit is not None and hit[0] is part:
        return hit[1], hit[2]
    leaves: list[Leaf] = []
    y = walk_seq(part if isinstance(part, tuple) else (part,), x, "", leaves)
    cost = Cost.total(leaf.cost for leaf in leaves)
    if memo:
        if len(_COSTS) >= MAX_COSTS:
            _COSTS.clear()
        _COSTS[key] = (part, cost, y)
    return cost, y


@lru_cache(maxsize=MAX_COSTS)
def block_cost(call: BlockCall, x: Shape) -> tuple[Cost, Shape]:
    """Cost and output shape of one block on ``x``, keyed by its arguments: a hit builds nothing,
    and the cache holds only numbers (no graph objects for the garbage collector to scan)."""
    return part_cost(call.node(), x, memo=False)


def spec_cost(spec: ArchSpec, blocks: Sequence[BlockParams] | None = None) -> SpecCost:
    """Params, MACs, acts, ... of a whole spec, from memoised costs of its plan's parts.

    ``blocks`` replaces each stage's block (the width solver tries many without copying specs).
    """
    parts = plan(spec, blocks)
    total, x = part_cost(parts.stem, (spec.input.channels, spec.input.size, spec.input.size))
    stages: list[StageCost] = []
    for stage, depth in zip(parts.stages, (s.depth for s in spec.stages), strict=True):
        in_shape = x
        if stage.transition:  # most stages have none: no walk, no addition
            trans, x = part_cost(stage.transition, x, memo=False)  # built afresh: no identity
            first, x = block_cost(stage.first, x)
            first = trans + first
        else:
            first, x = block_cost(stage.first, x)
        stage_total, repeat = first, None
        if stage.repeat is not None:
            repeat, x = block_cost(stage.repeat, x)
            stage_total = stage_total + repeat.times(depth - 1)
        stages.append(StageCost(first, repeat, stage_total, in_shape))
        total = total + stage_total
    return SpecCost(total + part_cost(parts.head, x)[0], tuple(stages))


def metrics(cost: Cost) -> dict[str, int]:
    """The sweep's analytic metrics of a cost."""
    return {"params": cost.params, "macs": cost.macs, "acts": cost.acts}

"""Whole-network totals from memoised per-block costs: the analytic path of a sweep.

A sweep evaluates thousands of specs that share most blocks. A block's cost depends only on its
knobs, its input/output widths, its stride and its input shape, so each distinct block is
expanded and walked once (``lru_cache``); a stage is its first block plus ``depth - 1`` copies of
the repeated one. The totals equal :func:`archprobe.analysis.analytic.analyze` exactly (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from archprobe.blocks import get_block, get_stem
from archprobe.blocks.base import BlockParams, StemParams
from archprobe.graph.cost import Cost, Shape
from archprobe.graph.facts import Leaf
from archprobe.graph.nodes import Node, walk
from archprobe.spec.expand import head_nodes
from archprobe.spec.schema import ArchSpec


@dataclass(frozen=True)
class StageCost:
    """One stage: its first block, one repeated block (None when depth is 1), and the sum."""

    first: Cost
    repeat: Cost | None
    total: Cost
    in_shape: Shape


@dataclass(frozen=True)
class SpecCost:
    """Totals of a spec plus the per-stage breakdown the width solver needs."""

    total: Cost
    stages: tuple[StageCost, ...]


def _walk_nodes(nodes: tuple[Node, ...], x: Shape) -> tuple[Cost, Shape]:
    leaves: list[Leaf] = []
    for node in nodes:
        x = walk(node, x, "", leaves)
    total = Cost()
    for leaf in leaves:
        total = total + leaf.cost
    return total, x


@lru_cache(maxsize=1 << 16)
def block_cost(p: BlockParams, cin: int, cout: int, stride: int, x: Shape) -> tuple[Cost, Shape]:
    """Cost and output shape of one block (raises ``GraphError`` for an impossible block)."""
    node = get_block(p.type).expand(p, cin, cout, stride, "b")
    return _walk_nodes((node,), x)


@lru_cache(maxsize=1 << 10)
def _stem_cost(p: StemParams, channels: int, size: int) -> tuple[Cost, Shape]:
    nodes, _ = get_stem(p.type).expand(p, channels)
    return _walk_nodes(nodes, (channels, size, size))


def spec_cost(spec: ArchSpec, blocks: Sequence[BlockParams] | None = None) -> SpecCost:
    """Params, MACs, acts, ... of a whole spec, from cached block costs.

    ``blocks`` replaces each stage's block (the width solver tries many without copying specs).
    """
    total, x = _stem_cost(spec.stem, spec.input.channels, spec.input.size)
    stages: list[StageCost] = []
    for i, stage in enumerate(spec.stages):
        in_shape = x
        block = stage.block if blocks is None else blocks[i]
        first, x = block_cost(block, x[0], stage.width, stage.stride, x)
        stage_total, repeat = first, None
        if stage.depth > 1:
            repeat, x = block_cost(block, stage.width, stage.width, 1, x)
            stage_total = stage_total + repeat.times(stage.depth - 1)
        stages.append(StageCost(first, repeat, stage_total, in_shape))
        total = total + stage_total
    return SpecCost(total + _head_cost(x, spec.head.classes), tuple(stages))


@lru_cache(maxsize=1 << 10)
def _head_cost(x: Shape, classes: int) -> Cost:
    return _walk_nodes((*head_nodes(x[0], classes),), x)[0]


def metrics(cost: Cost) -> dict[str, int]:
    """The sweep's analytic metrics of a cost."""
    return {"params": cost.params, "macs": cost.macs, "acts": cost.acts}

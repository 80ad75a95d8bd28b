"""Width solver: the width per group d that keeps a cost of the base at cardinality C.

ResNeXt §3.4 / Table 2: at C = 1, 2, 4, 8, 32 the conv2 template keeps ~70k params with
d = 64, 40, 24, 14, 4. The solver reproduces that with the reference rounding: the bottleneck
(group-conv) width is ``int(width/expansion · d/64) · C``, so it is divisible by C for every d.

Targets (``preserve``): ``block-params``/``block-macs`` of the conv2 template (a repeated block
of the first stage, as in Table 2), ``stage-params`` of the first stage, ``net-params`` /
``net-macs`` of the whole network.

Tie rule: the candidate nearest the target wins; at equal distance the one at or above the target
(the paper's choices all round up: 2×40d has 69,760 ≥ 69,632); among widths d that give the same
cost (the floor makes several d round to one width), the smallest d.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from archprobe.blocks.layers import group_width
from archprobe.errors import SpecError
from archprobe.graph.ops import GraphError
from archprobe.spec.loader import load_spec
from archprobe.spec.schema import ArchSpec
from archprobe.sweep.fast import SpecCost, spec_cost

Preserve = Literal["block-params", "block-macs", "stage-params", "net-params", "net-macs"]
PRESERVE: tuple[str, ...] = get_args(Preserve)
MAX_WIDTH_PER_GROUP = 4096


@dataclass(frozen=True)
class Solution:
    """One solved (C, d) pair and its costs."""

    groups: int
    width_per_group: int
    group_width: int  # group-conv width of the conv2 template (C·d there)
    preserve: str
    target: int
    value: int  # the preserved metric at this (C, d)
    block_params: int
    block_macs: int
    params: int  # whole network
    macs: int

    @property
    def rel_error(self) -> float:
        return (self.value - self.target) / self.target


def with_width(spec: ArchSpec, groups: int, width_per_group: int) -> ArchSpec:
    """``spec`` with every stage's block at ``groups`` and ``width_per_group`` (unvalidated)."""
    update = {"groups": groups, "width_per_group": width_per_group}
    stages = []
    for i, stage in enumerate(spec.stages):
        if "width_per_group" not in type(stage.block).model_fields:
            raise SpecError(
                f"block type {stage.block.type!r} has no width_per_group to solve for",
                None,
                f"stages.{i}.block.type",
            )
        stages.append(stage.model_copy(update={"block": stage.block.model_copy(update=update)}))
    return spec.model_copy(
        update={"block": spec.block.model_copy(update=update), "stages": tuple(stages)}
    )


def _template(cost: SpecCost) -> tuple[int, int]:
    stage = cost.stages[0]
    block = stage.repeat if stage.repeat is not None else stage.first
    return block.params, block.macs


def metric(cost: SpecCost, preserve: str) -> int:
    """The value ``preserve`` names, from a spec's cost breakdown."""
    if preserve == "block-params":
        return _template(cost)[0]
    if preserve == "block-macs":
        return _template(cost)[1]
    if preserve == "stage-params":
        return cost.stages[0].total.params
    if preserve == "net-params":
        return cost.total.params
    if preserve == "net-macs":
        return cost.total.macs
    raise SpecError(f"unknown preserve target {preserve!r} (choose from {', '.join(PRESERVE)})")


def _candidates(spec: ArchSpec, groups: int, preserve: str, target: int) -> list[tuple[int, int]]:
    """(d, value) of the smallest d reaching ``target`` and of the smallest d of the value below."""
    below: tuple[int, int] | None = None
    for d in range(1, MAX_WIDTH_PER_GROUP + 1):
        try:
            value = metric(spec_cost(with_width(spec, groups, d)), preserve)
        except GraphError:  # a stage's width rounds to zero channels per group
            continue
        if value >= target:
            return [c for c in (below, (d, value)) if c is not None]
        if below is None or value != below[1]:
            below = (d, value)
    if below is None:
        raise SpecError(f"no width_per_group gives a valid network at groups={groups}")
    return [below]


def _choose(candidates: list[tuple[int, int]], target: int) -> int:
    return min(candidates, key=lambda c: (abs(c[1] - target), c[1] < target, c[0]))[0]


def solve_width(
    base: ArchSpec | str | Path,
    groups: int,
    preserve: Preserve | str = "block-params",
    target: int | None = None,
) -> Solution:
    """The width per group d at cardinality ``groups`` whose cost is nearest the base's.

    Args:
        base: a spec, a catalog name or a YAML path; its cost is the target.
        groups: cardinality C.
        preserve: which cost to keep (see the module docstring).
        target: override the target value (default: the base's ``preserve`` metric).
    """
    spec = base if isinstance(base, ArchSpec) else load_spec(base)
    if groups < 1:
        raise SpecError(f"groups must be at least 1, got {groups}")
    goal = target if target is not None else metric(spec_cost(spec), preserve)
    d = _choose(_candidates(spec, groups, preserve, goal), goal)
    solved = with_width(spec, groups, d)
    cost = spec_cost(solved)
    stage = solved.stages[0]
    expansion = int(getattr(stage.block, "expansion", 1))
    block_params, block_macs = _template(cost)
    return Solution(
        groups=groups,
        width_per_group=d,
        group_width=group_width(stage.width // expansion, d, groups),
        preserve=preserve,
        target=goal,
        value=metric(cost, preserve),
        block_params=block_params,
        block_macs=block_macs,
        params=cost.total.params,
        macs=cost.total.macs,
    )

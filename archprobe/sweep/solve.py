"""Width solver: the width per group d that keeps a cost of the base at cardinality C.

ResNeXt §3.4 / Table 2: at C = 1, 2, 4, 8, 32 the conv2 template keeps ~70k params with
d = 64, 40, 24, 14, 4. The solver reproduces that with the reference rounding: the bottleneck
(group-conv) width is ``int(width/expansion · d/64) · C``, so it is divisible by C for every d.

Targets (``preserve``): ``block-params``/``block-macs`` of the conv2 template (a repeated block
of the first stage, as in Table 2), ``stage-params`` of the first stage, ``net-params`` /
``net-macs`` of the whole network.

Per-stage widths (``per_stage=True``, whole-network targets only): one d cannot always land near
a whole-net target, because the reference rounding moves a stage's group width in steps of C
channels (at C = 8 the nearest uniform d misses resnet50's MACs by 3.4%). Stages are independent
given their output widths (a stage's input is the previous stage's output, which d does not
change), so the net cost is stem + head + Σ stage cost(d_s): the solver tries, for every stage, the
uniform solution and its neighbouring distinct costs, and keeps the combination nearest the
target (ties: the smallest spread of d across stages).

Tie rule: the candidate nearest the target wins; at equal distance the one at or above the target
(the paper's choices all round up: 2×40d has 69,760 ≥ 69,632); among widths d that give the same
cost (the floor makes several d round to one width), the smallest d.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from archprobe.blocks.base import BlockParams
from archprobe.blocks.layers import GroupedWidthParams
from archprobe.errors import SpecError
from archprobe.graph.ops import GraphError
from archprobe.spec.loader import load_spec
from archprobe.spec.schema import ArchSpec
from archprobe.sweep.fast import SpecCost, spec_cost
from archprobe.sweep.stacked import spec_costs

Preserve = Literal["block-params", "block-macs", "stage-params", "net-params", "net-macs"]
PRESERVE: tuple[str, ...] = get_args(Preserve)
MAX_WIDTH_PER_GROUP = 4096
NET_TARGETS = ("net-params", "net-macs")
SECANT_STEPS = 4  # before falling back to galloping and bisection (solve_width's search)
NEIGHBOURS = 2  # distinct stage costs tried on each side of the uniform solution (per_stage)


@dataclass(frozen=True)
class Solution:
    """One solved (C, d) pair and its costs."""

    groups: int
    width_per_group: int  # d of the first stage (the conv2 template of Table 2)
    group_width: int  # group-conv width of the conv2 template (C·d there)
    preserve: str
    target: int
    value: int  # the preserved metric at this (C, d)
    block_params: int
    block_macs: int
    params: int  # whole network
    macs: int
    stage_widths: tuple[int, ...] = ()  # d of every stage (all equal unless solved per stage)
    spec: ArchSpec | None = None  # the solved network (unvalidated copy of the base)
    cost: SpecCost | None = None  # its cost breakdown

    @property
    def rel_error(self) -> float:
        return (self.value - self.target) / self.target


def with_width(spec: ArchSpec, groups: int, width_per_group: int | Sequence[int]) -> ArchSpec:
    """``spec`` with every stage's block at ``groups`` and ``width_per_group`` (unvalidated).

    ``width_per_group`` is one d for all stages or one per stage.
    """
    widths = (
        [width_per_group] * len(spec.stages)
        if isinstance(width_per_group, int)
        else list(width_per_group)
    )
    if len(widths) != len(spec.stages):
        raise SpecError(f"{len(widths)} widths for {len(spec.stages)} stages")
    stages = tuple(
        stage.model_copy(update={"block": block_with(stage.block, groups, d, i)})
        for i, (stage, d) in enumerate(zip(spec.stages, widths, strict=True))
    )
    top = {"groups": groups, "width_per_group": widths[0]}
    return spec.model_copy(update={"block": spec.block.model_copy(update=top), "stages": stages})


@lru_cache(maxsize=1 << 14)
def block_with(block: BlockParams, groups: int, width_per_group: int, stage: int) -> BlockParams:
    """Stage ``stage``'s block at (C, d); cached, as the solver asks for the same ones often."""
    if not isinstance(block, GroupedWidthParams):
        raise SpecError(
            f"block type {block.type!r} has no width_per_group to solve for",
            None,
            f"stages.{stage}.block.type",
        )
    return block.model_copy(update={"groups": groups, "width_per_group": width_per_group})


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


def uniform_cost(spec: ArchSpec, groups: int, d: int) -> SpecCost | None:
    """``spec``'s cost with every stage at (``groups``, ``d``); None where that is invalid."""
    blocks = [block_with(s.block, groups, d, i) for i, s in enumerate(spec.stages)]
    try:
        return spec_cost(spec, blocks)
    except GraphError:  # a stage's width rounds to zero channels per group
        return None


def uniform_costs(todo: Sequence[tuple[ArchSpec, int, int]]) -> list[SpecCost | None]:
    """:func:`uniform_cost` of each (spec, groups, d), the blocks of one structure across them
    costed in one walk (``sweep/stacked.py``): the batched solver's many widths at once."""
    out: list[SpecCost | None] = []
    specs = [spec for spec, _, _ in todo]
    blocks = [
        [block_with(s.block, groups, d, i) for i, s in enumerate(spec.stages)]
        for spec, groups, d in todo
    ]  # as uniform_cost: the plan takes the blocks, no spec is copied
    for cost in spec_costs(specs, blocks):
        if isinstance(cost, GraphError):
            out.append(None)
        elif isinstance(cost, SpecCost):
            out.append(cost)
        else:  # what spec_cost would raise there
            raise cost
    return out


class _Values:
    """The preserved metric at each d, memoised; None where the network is invalid.

    The metric never decreases with d over the valid d (every group width ``int(planes·d/64)·C``
    is monotone in d). Invalid d are the smallest ones (a width that rounds to zero) and, for
    blocks whose convs split further, holes where a group does not divide the width (ResNeSt's
    3×3 has C·R groups: at C = 2, R = 2, every odd d). The searches treat a d by the nearest
    valid d at or above it, which keeps the predicate they bisect monotone.
    """

    def __init__(self, spec: ArchSpec, groups: int, preserve: str) -> None:
        self.spec, self.groups, self.preserve = spec, groups, preserve
        self.costs: dict[int, SpecCost | None] = {}

    def cost(self, d: int) -> SpecCost | None:
        """The network's cost at a uniform d (None: invalid), computed once per d."""
        if d not in self.costs:
            self.costs[d] = uniform_cost(self.spec, self.groups, d)
        return self.costs[d]

    def __call__(self, d: int) -> int | None:
        cost = self.cost(d)
        return None if cost is None else metric(cost, self.preserve)

    def valid(self, d: int, step: int = 1) -> int | None:
        """The nearest d' at or above ``d`` (``step`` 1) or at or below it (-1) whose network is
        valid, None when there is none in 1..MAX."""
        while 1 <= d <= MAX_WIDTH_PER_GROUP:
            if self.cost(d) is not None:
                return d
            d += step
        return None

    def reaches(self, d: int, target: int) -> bool:
        at = self.valid(d)
        value = None if at is None else self(at)
        return value is not None and value >= target

    def first_reaching(self, target: int, guess: int) -> int | None:
        """Smallest d in 1..MAX whose value reaches ``target``: secant steps from ``guess`` (the
        value is a smooth, nearly quadratic function of d), then galloping and bisection."""
        lo, hi = 0, MAX_WIDTH_PER_GROUP + 1  # lo does not reach (0 never does); hi: not yet known
        d, prev = min(max(guess, 1), MAX_WIDTH_PER_GROUP), 0
        for _ in range(SECANT_STEPS):
            if self.reaches(d, target):
                hi = d
            else:
                lo = d
            if hi - lo <= 1:
                break
            step = self._secant(prev, d, target)
            prev, d = d, min(max(d + step, lo + 1), hi - 1)
        step = 1
        while hi > MAX_WIDTH_PER_GROUP:  # no d known to reach yet: gallop up
            d = min(lo + step, MAX_WIDTH_PER_GROUP)
            if self.reaches(d, target):
                hi = d
            elif d == MAX_WIDTH_PER_GROUP:
                return None
            else:
                lo, step = d, step * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if self.reaches(mid, target) else (mid, hi)
        return hi

    def _secant(self, prev: int, d: int, target: int) -> int:
        """Step from d toward the target along the line through (prev, d); ±1 without one."""
        now, before = self(d), self(prev) if prev else None
        if now is None or before is None or now == before:
            return 1 if now is None or now < target else -1
        step = round((target - now) * (d - prev) / (now - before))
        return step or (1 if now < target else -1)


def _candidates(values: _Values, target: int, guess: int) -> list[tuple[int, int]]:
    """(d, value) of the smallest d reaching ``target`` and of the smallest d of the value below."""
    reaching = values.first_reaching(target, guess)
    first = None if reaching is None else values.valid(reaching)
    out: list[tuple[int, int]] = []
    top = values.valid(MAX_WIDTH_PER_GROUP if first is None else first - 1, -1)
    below = None if top is None else values(top)
    if top is not None and below is not None:
        d = top
        while (lower := values.valid(d - 1, -1)) is not None and values(lower) == below:
            d = lower  # runs of equal value are short (floor rounding)
        out.append((d, below))
    if first is not None:
        out.append((first, values(first) or 0))
    if not out:
        raise SpecError(f"no width_per_group gives a valid network at groups={values.groups}")
    return out


def _stage_value(cost: SpecCost, index: int, preserve: str) -> int:
    total = cost.stages[index].total
    return total.params if preserve == "net-params" else total.macs


def _stage_options(
    table: dict[int, SpecCost], uniform: int, index: int, preserve: str
) -> list[tuple[int, int]]:
    """(d, value) of stage ``index``: the uniform d and NEIGHBOURS distinct values on each side."""
    first_d: dict[int, int] = {}  # value -> smallest d giving it
    for width in sorted(table):
        first_d.setdefault(_stage_value(table[width], index, preserve), width)
    ranked = sorted(first_d.items())
    at = [v for v, _ in ranked].index(_stage_value(table[uniform], index, preserve))
    return [(w, v) for v, w in ranked[max(0, at - NEIGHBOURS) : at + NEIGHBOURS + 1]]


def _per_stage(values: _Values, target: int, d: int, tolerance: float) -> list[int]:
    """Per-stage widths near ``target`` around the uniform solution ``d`` (module docstring).

    Among the combinations within ``tolerance`` of the target the most uniform one wins (then the
    nearest); when none is that close, the nearest.
    """
    preserve = values.preserve
    table = {
        width: cost
        for width in range(max(1, d // 2), 2 * d + 2 * NEIGHBOURS + 1)
        if (cost := values.cost(width)) is not None
    }
    n = len(values.spec.stages)
    fixed = metric(table[d], preserve) - sum(_stage_value(table[d], i, preserve) for i in range(n))
    options = [_stage_options(table, d, i, preserve) for i in range(n)]

    def rank(combo: tuple[tuple[int, int], ...]) -> tuple[bool, int, int]:
        error = abs(fixed + sum(v for _, v in combo) - target)
        widths = [w for w, _ in combo]
        close = error <= tolerance * target
        return (not close, max(widths) - min(widths) if close else 0, error)

    return [w for w, _ in min(itertools.product(*options), key=rank)]


def _choose(candidates: list[tuple[int, int]], target: int) -> int:
    return min(candidates, key=lambda c: (abs(c[1] - target), c[1] < target, c[0]))[0]


def solve_width(
    base: ArchSpec | str | Path,
    groups: int,
    preserve: Preserve | str = "block-params",
    target: int | None = None,
    per_stage: bool = False,
    tolerance: float = 0.01,
    guess: int | None = None,
) -> Solution:
    """The width per group d at cardinality ``groups`` whose cost is nearest the base's.

    Args:
        base: a spec, a catalog name or a YAML path; its cost is the target.
        groups: cardinality C.
        preserve: which cost to keep (see the module docstring).
        target: override the target value (default: the base's ``preserve`` metric).
        per_stage: let each stage have its own d (whole-network targets only).
        tolerance: with ``per_stage``, the relative error within which the most uniform widths
            are preferred to the nearest ones.
        guess: where the search starts (a sweep passes its last solution at this C); only speed
            depends on it.
    """
    spec = base if isinstance(base, ArchSpec) else load_spec(base)
    if groups < 1:
        raise SpecError(f"groups must be at least 1, got {groups}")
    goal = target if target is not None else metric(spec_cost(spec), preserve)
    if per_stage and preserve not in NET_TARGETS:
        raise SpecError(f"per-stage widths need a whole-network target ({', '.join(NET_TARGETS)})")
    if guess is None:
        guess = int(getattr(spec.block, "width_per_group", 64))
    values = _Values(spec, groups, preserve)
    d = _choose(_candidates(values, goal, guess), goal)
    widths = _per_stage(values, goal, d, tolerance) if per_stage else [d] * len(spec.stages)
    solved = with_width(spec, groups, widths)
    cost = (None if per_stage else values.cost(d)) or spec_cost(solved)  # uniform: already known
    stage = solved.stages[0]
    assert isinstance(stage.block, GroupedWidthParams)  # block_with refused any other block
    block_params, block_macs = _template(cost)
    return Solution(
        groups=groups,
        width_per_group=widths[0],
        group_width=stage.block.inner_width(stage.width),  # the block's own rule, as expanded
        preserve=preserve,
        target=goal,
        value=metric(cost, preserve),
        block_params=block_params,
        block_macs=block_macs,
        params=cost.total.params,
        macs=cost.total.macs,
        stage_widths=tuple(widths),
        spec=solved,
        cost=cost,
    )

"""The width solver on a batch: per config, the d that :func:`solve.solve_width` picks, by array
bisection over the configs of one core.

A core's costs at a uniform width d are computed once per d (the scalar solver's ``_Values``
memo); a config's metric at d is the core's, corrected for its stage depths as in
``sweep/vector.py``. The search is the scalar solver's, row-wise: the smallest valid d whose
metric reaches the target (bisection on the same monotone predicate, nearest valid d at or above
a probe), the smallest d of the value just below it, and the same tie rule. Rows the arrays cannot
settle (no d reaches the target) go to the per-config path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archprobe.errors import SpecError
from archprobe.sweep.draws import Column
from archprobe.sweep.solve import MAX_WIDTH_PER_GROUP, _Values
from archprobe.sweep.vector import (
    FIELDS,
    PROBE,
    Core,
    Cores,
    Evaluated,
    Int64s,
    cost_rows,
    depth_matrix,
    group,
)

MACS, PARAMS = FIELDS.index("macs"), FIELDS.index("params")


@dataclass
class Costs:
    """Costs of some rows at some widths: valid, total (n×6), first and repeat (n×stages×6)."""

    valid: NDArray[np.bool_]
    total: NDArray[np.int64]
    first: NDArray[np.int64]
    repeat: NDArray[np.int64]


class Table:
    """One core's costs by width d (computed on demand, once per d)."""

    def __init__(self, core: Core, preserve: str) -> None:
        assert core.spec is not None
        self.spec = core.spec
        groups = int(getattr(core.spec.block, "groups", 1))
        self.values = _Values(core.spec, groups, preserve)
        self.stages = len(core.spec.stages)

    def at(self, d: Int64s) -> Costs:
        widths, inverse = np.unique(d, return_inverse=True)
        costs = [
            self.values.cost(w) if 1 <= w <= MAX_WIDTH_PER_GROUP else None for w in widths.tolist()
        ]
        valid = np.array([c is not None for c in costs], dtype=bool)
        total = cost_rows([c.total if c else None for c in costs])
        first = np.stack(
            [cost_rows([c.stages[s].first if c else None for c in costs])
             for s in range(self.stages)], axis=1,
        )  # fmt: skip
        repeat = np.stack(
            [cost_rows([c.stages[s].repeat if c else None for c in costs])
             for s in range(self.stages)], axis=1,
        )  # fmt: skip
        return Costs(valid[inverse], total[inverse], first[inverse], repeat[inverse])

    def nearest(self, d: Int64s, step: int) -> Int64s:
        """The nearest valid d at or above (``step`` 1) or at or below (-1) each d; 0: none."""
        widths, inverse = np.unique(d, return_inverse=True)
        found = [self.values.valid(w, step) or 0 for w in widths.tolist()]
        return np.array(found, dtype=np.int64)[inverse]


class Rows:
    """The configs of one core: their depths and how the solver's metric reads their costs."""

    def __init__(self, table: Table, depths: NDArray[np.int64], stages: list[int], preserve: str):
        self.table, self.depths, self.stages, self.preserve = table, depths, stages, preserve
        zero = stages.index(0) if 0 in stages else None
        fixed = table.spec.stages[0].depth
        self.depth0 = depths[:, zero] if zero is not None else np.full(len(depths), fixed)

    def totals(self, c: Costs) -> NDArray[np.int64]:
        """Whole-network costs (n × 6) at each row's depths."""
        out = c.total.copy()
        for k, s in enumerate(self.stages):
            out += c.repeat[:, s] * (self.depths[:, k] - PROBE)[:, None]
        return out

    def metric(self, d: Int64s) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
        """(valid, the preserved metric) of each row at width d (``solve.metric``)."""
        c = self.table.at(d)
        p = self.preserve
        if p in ("net-params", "net-macs"):
            return c.valid, self.totals(c)[:, PARAMS if p == "net-params" else MACS]
        field = PARAMS if p in ("block-params", "stage-params") else MACS
        first, repeat = c.first[:, 0, field], c.repeat[:, 0, field]
        if p == "stage-params":
            return c.valid, first + repeat * (self.depth0 - 1)
        return c.valid, np.where(self.depth0 > 1, repeat, first)  # the conv2 template

    def reaches(self, d: Int64s, target: int) -> NDArray[np.bool_]:
        at = self.table.nearest(d, 1)
        valid, value = self.metric(at)
        return (at > 0) & valid & (value >= target)


def solve_rows(rows: Rows, target: int) -> tuple[Int64s, NDArray[np.bool_]]:
    """(d, settled) per row: the scalar solver's choice where ``settled``."""
    n = len(rows.depths)
    top = np.full(n, MAX_WIDTH_PER_GROUP, dtype=np.int64)
    settled = rows.reaches(top, target)  # else nothing reaches: the per-config path decides
    lo, hi = np.zeros(n, dtype=np.int64), top
    while (active := settled & (hi - lo > 1)).any():
        mid = (lo + hi) // 2
        r = rows.reaches(mid, target)
        hi = np.where(active & r, mid, hi)
        lo = np.where(active & ~r, mid, lo)
    first = rows.table.nearest(hi, 1)
    _, at_first = rows.metric(first)
    below_d = rows.table.nearest(first - 1, -1)
    has_below = below_d > 0
    _, below = rows.metric(np.where(has_below, below_d, first))
    while True:  # the smallest d of the value below (runs of one value are short)
        lower = rows.table.nearest(np.maximum(below_d - 1, 0), -1)
        ok, value = rows.metric(np.where(lower > 0, lower, first))
        step = has_below & (lower > 0) & ok & (value == below)
        if not step.any():
            break
        below_d = np.where(step, lower, below_d)
    take_first = ~has_below | (np.abs(at_first - target) <= np.abs(below - target))
    return np.where(take_first, first, below_d), settled


def solve_batch(cores: Cores, cols: list[Column], target: int) -> Evaluated:
    """Solved widths and totals of every config of a batch (``solve:`` without per_stage)."""
    sweep = cores.sweep
    assert sweep.solve is not None
    distinct, inverse = group(cores, cols)
    depths = depth_matrix(cols, cores.depths)
    stages = list(cores.depths.values())
    n = len(inverse)
    totals = np.zeros((n, len(FIELDS)), dtype=np.int64)
    solved, valid = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    scalar = np.zeros(n, dtype=bool)
    errors = [""] * n
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(distinct) + 1))
    for u, core in enumerate(distinct):
        idx = order[bounds[u] : bounds[u + 1]]
        try:
            if core.spec is None:
                raise SpecError(core.error)
            table = core.memo.setdefault("table", Table(core, sweep.solve.preserve))
            rows = Rows(table, depths[idx], stages, sweep.solve.preserve)
            d, settled = solve_rows(rows, target)
        except SpecError as exc:
            for i in idx.tolist():
                errors[i] = core.error or str(exc)
            scalar[idx] = (depths[idx] == 1).any(axis=1) if stages else False
            continue
        totals[idx] = rows.totals(table.at(d))
        solved[idx], valid[idx], scalar[idx] = d, settled, ~settled
    return Evaluated(totals, valid, errors, inverse, distinct, depths, solved, scalar)

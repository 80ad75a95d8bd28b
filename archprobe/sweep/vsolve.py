"""The width solver on a batch: per config, the d that :func:`solve.solve_width` picks, found for
every row of the batch at once (all cores together) by array search.

A core's costs at a uniform width d come from the sweep's table (``sweep/width_table.py``:
computed once per (core, d) by the scalar rule, kept across batches). A config's metric at d is
its core's, corrected for its stage depths as in ``sweep/vector.py``. The search is the scalar
solver's, row-wise: the smallest d whose nearest valid d at or above reaches the target (a
monotone predicate, so any bracketing search finds the same d), the nearest valid d below it,
walked down to the smallest d of its value, and the same tie rule (``solve._choose``). When no d
reaches the target the scalar solver keeps the largest valid value; when no d is valid, the row
is invalid with the scalar solver's message.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archprobe.sweep.draws import Column
from archprobe.sweep.solve import MAX_WIDTH_PER_GROUP, NET_TARGETS
from archprobe.sweep.vector import (
    FIELDS,
    MAX_CORES,
    PROBE,
    Core,
    Cores,
    Evaluated,
    Int64s,
    depth_matrix,
    group,
)
from archprobe.sweep.width_table import MASK, SHIFT, Bools, Table, why_not

MAX_ENTRIES = 1 << 18  # (core, d) pairs kept (~0.3 KB each: 80 MB); the table restarts beyond
MAX_INDEX = 1 << 24  # entries of the dense [core, d] index (4 bytes each: 64 MB); likewise
INTERPOLATED = 8  # regula falsi steps before bisection (first_reaching)


@dataclass
class Batch:
    """The solvable rows of a batch: core ids, swept depths less the core's (``extra``: the
    repeated blocks a row adds to its core, per swept stage) and stage 0's depth."""

    table: Table
    ids: Int64s
    extra: NDArray[np.int64]
    depth0: Int64s

    def metric(self, d: Int64s) -> tuple[Bools, Int64s]:
        """(valid, the preserved metric) of each row at width d (``solve.metric``)."""
        row = self.table.rows(self.ids, d)
        return self.table.valid[row], self.value(row)

    def value(self, row: Int64s) -> Int64s:
        """The preserved metric of each batch row from a table row of its core."""
        t, p = self.table.terms[row], self.table.preserve
        value: Int64s
        if p in NET_TARGETS:
            value = t[:, 0] + np.einsum("nk,nk->n", t[:, 1:], self.extra)
        elif p == "stage-params":
            value = t[:, 0] + t[:, 1] * (self.depth0 - 1)
        else:  # the conv2 template: a repeated block of stage 0, else its only block
            value = np.where(self.depth0 > 1, t[:, 1], t[:, 0])
        return value

    def totals(self, d: Int64s) -> NDArray[np.int64]:
        """Whole-network costs (n × 6) at each row's d and depths."""
        row = self.table.rows(self.ids, d)
        extra: NDArray[np.int64] = np.einsum("nkf,nk->nf", self.table.repeat[row], self.extra)
        return self.table.total[row] + extra

    def take(self, rows: Int64s) -> Batch:
        return Batch(self.table, self.ids[rows], self.extra[rows], self.depth0[rows])

    def probe(self, d: Int64s, target: int) -> tuple[Bools, Int64s]:
        """(reaches, value) per row: the metric at the nearest valid d at or above d reaches
        ``target`` (``solve._Values.reaches``), and that metric (0 where there is none)."""
        at = self.table.nearest(self.ids, d, 1)
        valid, value = self.metric(at)
        ok = (at > 0) & valid
        return ok & (value >= target), np.where(ok, value, 0)


def narrow(rows: Batch, lo: Int64s, hi: Int64s, target: int) -> tuple[Int64s, ...]:
    """The tightest bracket the valid d already known for each row's core give, at no cost:
    (lo, hi, metric at lo, metric at hi), the metric -1 where that end did not move.

    A row's predicate at a known valid d is its metric there (no nearest-valid walk), and it is
    monotone, so a bisection over the positions of the known d between lo and hi finds them.
    """
    table, base = rows.table, rows.ids << SHIFT
    left = np.searchsorted(table.vkeys, base | lo, "right")  # known valid d in (lo, hi)
    right = np.searchsorted(table.vkeys, base | hi, "left")
    a, b = left.copy(), right.copy()
    while (open_ := np.flatnonzero(a < b)).size:
        m = (a[open_] + b[open_]) // 2
        reach = rows.take(open_).value(table.vslot[m]) >= target
        b[open_], a[open_] = np.where(reach, m, b[open_]), np.where(reach, a[open_], m + 1)
    up, down = a < right, a > left  # a: the first known d that reaches, or none
    at_hi, at_lo = table.vslot[np.where(up, a, 0)], table.vslot[np.where(down, a - 1, 0)]
    d_hi = np.where(up, table.vkeys[np.where(up, a, 0)] & MASK, hi)
    d_lo = np.where(down, table.vkeys[np.where(down, a - 1, 0)] & MASK, lo)
    v_hi = np.where(up, rows.value(at_hi), -1)
    v_lo = np.where(down, rows.value(at_lo), -1)
    return d_lo, d_hi, v_lo, v_hi


@dataclass
class Bracket:
    """Each open row's search: lo does not reach the target, hi does; f is √metric - √target
    at each end (regula falsi, Illinois: an end kept twice in a row counts half)."""

    lo: Int64s
    hi: Int64s
    f_lo: NDArray[np.float64]
    f_hi: NDArray[np.float64]
    kept: NDArray[np.int8]  # the end the last step kept: -1 lo, 1 hi, 0 none

    def guess(self, act: Int64s, bisect: bool) -> Int64s:
        a, b = self.lo[act], self.hi[act]
        if bisect:
            return (a + b) // 2
        g = a + (b - a) * -self.f_lo[act] / (self.f_hi[act] - self.f_lo[act])
        return np.clip(np.round(g).astype(np.int64), a + 1, b - 1)

    def move(self, act: Int64s, d: Int64s, reach: Bools, f: NDArray[np.float64]) -> None:
        kept = self.kept[act]
        self.f_lo[act] = np.where(
            reach, np.where(kept == -1, self.f_lo[act] / 2, self.f_lo[act]), f
        )
        self.f_hi[act] = np.where(reach, f, np.where(kept == 1, self.f_hi[act] / 2, self.f_hi[act]))
        self.hi[act] = np.where(reach, d, self.hi[act])
        self.lo[act] = np.where(reach, self.lo[act], d)
        self.kept[act] = np.where(reach, -1, 1)


def gallop(rows: Batch, target: int, start: Int64s) -> tuple[Bracket, Bools]:
    """Brackets by doubling from each row's ``start`` (up while the row does not reach the
    target, down while it does), every row of a core on the same d (so they share the costs);
    and whether any d in 1..MAX reaches. A start near the answer saves the table the widths a
    gallop from d = 1 would cost (a core's first sight costs one walk per width probed)."""
    n, root = len(rows.ids), np.sqrt(target)
    lo, hi = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    f_lo, f_hi = np.full(n, -root), np.zeros(n)
    open_, d = np.arange(n), start.copy()
    down = np.zeros(n, dtype=bool)  # the row reached at its start: halving until it does not
    first = True
    while open_.size:
        reach, value = rows.take(open_).probe(d, target)
        f = np.sqrt(value) - root
        hi[open_[reach]], f_hi[open_[reach]] = d[reach], f[reach]
        lo[open_[~reach]], f_lo[open_[~reach]] = d[~reach], f[~reach]
        if first:
            down[open_] = reach
            first = False
        going = down[open_]
        # up: stop on reaching or at MAX; down: stop on failing or at 1 (lo stays 0)
        more = np.where(going, reach & (d > 1), ~reach & (d < MAX_WIDTH_PER_GROUP))
        open_, d, going = open_[more], d[more], going[more]
        d = np.where(going, d // 2, np.minimum(2 * d, MAX_WIDTH_PER_GROUP))
    return Bracket(lo, hi, f_lo, f_hi, np.zeros(n, dtype=np.int8)), hi > 0


def start_widths(sweep_block: object, groups: Int64s) -> Int64s:
    """Where each row's gallop starts: the base's C·d spread over the row's C (ResNeXt §3.4
    keeps complexity by trading d for C, Table 2), as a power of two; d = 1 without a base d."""
    block = sweep_block if isinstance(sweep_block, dict) else {}
    c, d = block.get("groups", 1), block.get("width_per_group")
    if not isinstance(c, int) or not isinstance(d, int) or c < 1 or d < 1:
        return np.ones(len(groups), dtype=np.int64)
    guess = np.exp2(np.round(np.log2(c * d / np.maximum(groups, 1)))).astype(np.int64)
    return np.clip(guess, 1, MAX_WIDTH_PER_GROUP)


def first_reaching(rows: Batch, target: int, start: Int64s) -> Int64s:
    """Per row, the smallest d in 1..MAX that reaches ``target``; 0 where none does.

    Brackets come from galloping (:func:`gallop`); then each step narrows every row's bracket by
    the d its core already knows (:func:`narrow`: rows of one core share their costs) and
    probes one new d per row by regula falsi on √metric, which is nearly linear in d (MACs and
    params are quadratic in a width): the probes land next to the answers, whose costs the last
    step reads anyway, rather than on bisection's path down from MAX. After INTERPOLATED steps
    the rows still open are bisected. Any of these finds the same d: the predicate is monotone.
    """
    root = np.sqrt(target)
    br, some = gallop(rows, target, start)
    step = 0
    while (act := np.flatnonzero(some & (br.hi - br.lo > 1))).size:
        d_lo, d_hi, v_lo, v_hi = narrow(rows.take(act), br.lo[act], br.hi[act], target)
        br.f_lo[act] = np.where(v_lo >= 0, np.sqrt(np.maximum(v_lo, 0)) - root, br.f_lo[act])
        br.f_hi[act] = np.where(v_hi >= 0, np.sqrt(np.maximum(v_hi, 0)) - root, br.f_hi[act])
        br.kept[act] = np.where((v_lo >= 0) | (v_hi >= 0), 0, br.kept[act])
        br.lo[act], br.hi[act] = d_lo, d_hi
        act = act[d_hi - d_lo > 1]
        if act.size:
            d = br.guess(act, step >= INTERPOLATED)
            reach, value = rows.take(act).probe(d, target)
            br.move(act, d, reach, np.sqrt(value) - root)
        step += 1
    return np.where(some, br.hi, 0)


def solve_rows(rows: Batch, target: int, start: Int64s) -> tuple[Int64s, Bools]:
    """(d, found) per row: the scalar solver's choice where ``found`` (else no d is valid);
    ``start``: where each row's search starts (only speed depends on it)."""
    table, ids = rows.table, rows.ids
    reaching = first_reaching(rows, target, start)
    first = np.where(reaching > 0, table.nearest(ids, reaching, 1), 0)
    _, at_first = rows.metric(first)
    below_d = table.nearest(ids, np.where(first > 0, first - 1, MAX_WIDTH_PER_GROUP), -1)
    has_below = below_d > 0
    _, below = rows.metric(below_d)
    step = has_below
    while step.any():  # the smallest d of the value below (runs of one value are short)
        lower = table.nearest(ids, np.maximum(below_d - 1, 0), -1)
        ok, value = rows.metric(lower)
        step = has_below & (lower > 0) & ok & (value == below)
        below_d = np.where(step, lower, below_d)
    near = np.abs(at_first - target) <= np.abs(below - target)  # a tie goes to the one above
    take_first = (first > 0) & (~has_below | near)
    return np.where(take_first, first, below_d), (first > 0) | has_below


_TABLES: weakref.WeakKeyDictionary[Cores, Table] = weakref.WeakKeyDictionary()


def table_of(cores: Cores) -> Table:
    """The sweep's table (one per :class:`Cores`, so per generation pass)."""
    sweep = cores.sweep
    assert sweep.solve is not None
    table = _TABLES.get(cores)
    if table is None:
        table = _TABLES[cores] = Table(sweep.solve.preserve, list(cores.depths.values()))
    if len(table.valid) > MAX_ENTRIES or len(table.cores) > MAX_CORES or table.size > MAX_INDEX:
        table.clear()  # it holds its cores: without this, every core the cache evicted
    return table


def solve_batch(cores: Cores, cols: list[Column], target: int) -> Evaluated:
    """Solved widths and totals of every config of a batch (``solve:`` without per_stage)."""
    table = table_of(cores)
    distinct, inverse = group(cores, cols)
    depths = depth_matrix(cols, cores.depths)
    ids = np.array([table.register(c) for c in distinct], dtype=np.int64)[inverse]
    fixed0 = [c.spec.stages[0].depth if c.spec else 1 for c in distinct]
    swept0 = list(cores.depths.values()).index(0) if 0 in cores.depths.values() else None
    depth0 = depths[:, swept0] if swept0 is not None else np.array(fixed0)[inverse]
    live = np.flatnonzero(ids >= 0)
    rows = Batch(table, ids[live], depths[live] - PROBE, depth0[live])
    groups = np.array([g for _, g in table.cores], dtype=np.int64)[rows.ids]
    d, found = solve_rows(rows, target, start_widths(cores.sweep.base_doc.get("block"), groups))
    n = len(inverse)
    totals = np.zeros((n, len(FIELDS)), dtype=np.int64)
    totals[live] = np.where(found[:, None], rows.totals(d), 0)
    solved, valid = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    solved[live], valid[live] = d, found
    errors = _errors(distinct, inverse, ids, valid)
    # A core invalid at the probe depth may be valid where a swept depth is 1 (no repeat).
    unbuilt = np.array([c.spec is None for c in distinct], dtype=bool)[inverse]
    scalar = unbuilt & (depths == 1).any(axis=1) if depths.shape[1] else np.zeros(n, bool)
    return Evaluated(totals, valid, errors, inverse, distinct, depths, solved, scalar)


def _errors(distinct: list[Core], inverse: Int64s, ids: Int64s, valid: Bools) -> list[str]:
    """Why each invalid row is: its core's reason, or no valid d at its cardinality."""
    out = [""] * len(inverse)
    for i in np.flatnonzero(~valid).tolist():
        core = distinct[int(inverse[i])]
        if ids[i] < 0:
            out[i] = why_not(core) or ""
        else:
            groups = int(getattr(core.spec.block, "groups", 1)) if core.spec else 1
            out[i] = f"no width_per_group gives a valid network at groups={groups}"
    return out

"""The width solver's table: a sweep's costs by (core, width per group d), computed on demand
by the scalar rule (``solve.uniform_cost``; the missing pairs of a step together, through
``solve.uniform_costs``) and kept across batches.

A pair is the packed key ``core·2¹³ + d``; the sorted keys point to rows of growing arrays
(validity, total, the swept stages' repeated blocks, the terms the solver's metric reads). A
second sorted index holds only the valid pairs, so a search can read what a core already knows
without walking to the nearest valid d.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from archprobe.errors import SpecError
from archprobe.graph.cost import Cost
from archprobe.sweep.fast import SpecCost
from archprobe.sweep.solve import MAX_WIDTH_PER_GROUP, NET_TARGETS, _block_with, uniform_costs
from archprobe.sweep.vector import FIELDS, Core, Int64s, cost_rows

SHIFT = 13  # bits of d in a packed key: d ≤ MAX_WIDTH_PER_GROUP < 2¹³
MASK = (1 << SHIFT) - 1
_MEMO = "vsolve"  # a core's memo key: (table epoch, its id or why it cannot be solved)
Bools = NDArray[np.bool_]


def _field(preserve: str) -> int:
    return FIELDS.index("params" if preserve.endswith("params") else "macs")


def _terms(cost: SpecCost, preserve: str, stages: list[int]) -> list[int]:
    """What the metric of ``preserve`` reads from a core's cost (see :meth:`Batch.metric`)."""
    f = _field(preserve)
    if preserve in NET_TARGETS:
        return [cost.total[f], *(_repeat(cost, s)[f] for s in stages)]
    return [cost.stages[0].first[f], _repeat(cost, 0)[f]]


def _repeat(cost: SpecCost, stage: int) -> Cost:
    return cost.stages[stage].repeat or Cost()


def why_not(core: Core) -> str | None:
    """Why the solver cannot take a core (None: it can): invalid, or a block without a width
    per group (the scalar solver's refusal, by name)."""
    if core.spec is None:
        return core.error
    try:
        for i, stage in enumerate(core.spec.stages):
            _block_with(stage.block, 1, 1, i)
    except SpecError as exc:
        return str(exc)
    return None


class Table:
    """Costs by (core id, d) of one sweep, computed on demand and kept across batches."""

    def __init__(self, preserve: str, stages: list[int]) -> None:
        self.preserve, self.stages = preserve, stages
        self.epoch = 0  # ids handed out before the last clear() are stale
        self.clear()

    def clear(self) -> None:
        """Forget every core and (core, d); row 0 stands for any d outside 1..MAX (invalid)."""
        width = 1 + len(self.stages) if self.preserve in NET_TARGETS else 2
        self.cores: list[tuple[Core, int]] = []  # by id: the core and its cardinality
        self.keys, self.slot = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        self.vkeys, self.vslot = self.keys, self.slot  # the valid pairs only
        self.valid = np.zeros(1, dtype=bool)
        self.total = np.zeros((1, len(FIELDS)), dtype=np.int64)
        self.repeat = np.zeros((1, len(self.stages), len(FIELDS)), dtype=np.int64)
        self.terms = np.zeros((1, width), dtype=np.int64)
        self.epoch += 1

    def register(self, core: Core) -> int:
        """The core's id, assigned on first sight; -1: unsolvable (:func:`why_not` says why)."""
        epoch, known = core.memo.get(_MEMO, (0, None))
        if epoch != self.epoch:
            known = why_not(core)
            if known is None:
                assert core.spec is not None  # why_not refuses a core without one
                known = len(self.cores)
                self.cores.append((core, int(getattr(core.spec.block, "groups", 1))))
            core.memo[_MEMO] = (self.epoch, known)
        return known if isinstance(known, int) else -1

    def rows(self, ids: Int64s, d: Int64s) -> Int64s:
        """The table row of each (id, d); 0 where d is outside 1..MAX."""
        inside = (d >= 1) & (d <= MAX_WIDTH_PER_GROUP)
        key = (ids << SHIFT) | np.where(inside, d, 0)
        pos = self._find(key)
        missing = inside & (self.keys[pos] != key) if len(self.keys) else inside
        if missing.any():
            self._fill(np.unique(key[missing]))
            pos = self._find(key)
        return np.where(inside, self.slot[pos], 0) if len(self.keys) else np.zeros_like(d)

    def _find(self, key: Int64s) -> Int64s:
        """Where each key is (or would go) in ``keys``, clipped to a valid index."""
        return np.minimum(np.searchsorted(self.keys, key), max(len(self.keys) - 1, 0))

    def _fill(self, keys: Int64s) -> None:
        """Compute the (core, d) pairs of ``keys`` (sorted, none known) by the scalar rule."""
        todo = []
        for key in keys.tolist():
            core, groups = self.cores[key >> SHIFT]
            assert core.spec is not None  # registered cores have a spec
            todo.append((core.spec, groups, key & MASK))
        costs = uniform_costs(todo)
        start = len(self.valid)
        self.valid = np.concatenate([self.valid, [c is not None for c in costs]])
        self.total = np.concatenate(
            [self.total, cost_rows([c.total if c else None for c in costs])]
        )
        repeat = [cost_rows([_repeat(c, s) if c else None for c in costs]) for s in self.stages]
        self.repeat = np.concatenate([self.repeat, np.stack(repeat, axis=1)]) if repeat else (
            np.zeros((len(self.valid), 0, len(FIELDS)), dtype=np.int64))  # fmt: skip
        terms = [_terms(c, self.preserve, self.stages) if c else [0] * self.terms.shape[1]
                 for c in costs]  # fmt: skip
        self.terms = np.concatenate([self.terms, np.array(terms, dtype=np.int64)])
        slots = np.arange(start, start + len(keys))
        at = np.searchsorted(self.keys, keys)
        self.keys, self.slot = np.insert(self.keys, at, keys), np.insert(self.slot, at, slots)
        ok = self.valid[slots]
        at = np.searchsorted(self.vkeys, keys[ok])
        self.vkeys = np.insert(self.vkeys, at, keys[ok])
        self.vslot = np.insert(self.vslot, at, slots[ok])

    def nearest(self, ids: Int64s, d: Int64s, step: int) -> Int64s:
        """Per row, the nearest valid d at or above (``step`` 1) or at or below (-1) d; 0: none
        in 1..MAX (``solve._Values.valid``)."""
        out = np.zeros(len(d), dtype=np.int64)
        todo, d = np.arange(len(d)), d.copy()
        while todo.size:
            here = d[todo]
            inside = (here >= 1) & (here <= MAX_WIDTH_PER_GROUP)
            todo, here = todo[inside], here[inside]
            row = self.rows(ids[todo], here)  # before reading valid: rows() may grow it
            ok = self.valid[row]
            out[todo[ok]] = here[ok]
            todo = todo[~ok]
            d[todo] = here[~ok] + step
        return out

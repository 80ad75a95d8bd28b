"""The width solver's table: a sweep's costs by (core, width per group d), computed on demand
by the scalar rule (``solve.uniform_cost``; the missing pairs of a step together, on arrays,
through ``sweep/width_fill.pair_costs``) and kept across batches.

A dense index ``[core id, d]`` points to rows of growing arrays (validity, total, the swept
stages' repeated blocks, the terms the solver's metric reads), so a lookup is one gather, not a
search of sorted keys per probe. Its width (the d it covers) grows on demand: the widths a search
reaches are usually far below MAX. A second, sorted index of packed keys ``core·2¹³ + d`` holds
only the valid pairs, so a search can read what a core already knows without walking to the
nearest valid d.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from archprobe.errors import SpecError
from archprobe.sweep.solve import MAX_WIDTH_PER_GROUP, NET_TARGETS, block_with
from archprobe.sweep.vector import FIELDS, Core, Int64s
from archprobe.sweep.width_fill import pair_costs

SHIFT = 13  # bits of d in a packed key: d ≤ MAX_WIDTH_PER_GROUP < 2¹³
MASK = (1 << SHIFT) - 1
_MEMO = "vsolve"  # a core's memo key: (table epoch, its id or why it cannot be solved)
Bools = NDArray[np.bool_]


def _field(preserve: str) -> int:
    return FIELDS.index("params" if preserve.endswith("params") else "macs")


def why_not(core: Core) -> str | None:
    """Why the solver cannot take a core (None: it can): invalid, or a block without a width
    per group (the scalar solver's refusal, by name)."""
    if core.spec is None:
        return core.error
    try:
        for i, stage in enumerate(core.spec.stages):
            block_with(stage.block, 1, 1, i)
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
        # index[id, d]: the row of (id, d), -1 while unknown; column 0 (d = 0) is row 0
        self.index = np.full((8, 65), -1, dtype=np.int32)
        self.index[:, 0] = 0
        self.vkeys = np.zeros(0, dtype=np.int64)  # the valid pairs only, sorted packed keys
        self.vslot = np.zeros(0, dtype=np.int64)
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
                self._grow(len(self.cores), 0)
            core.memo[_MEMO] = (self.epoch, known)
        return known if isinstance(known, int) else -1

    @property
    def size(self) -> int:
        """Entries of the dense index the cores use (4 bytes each)."""
        return len(self.cores) * self.index.shape[1]

    def _grow(self, cores: int, d: int) -> None:
        """Room in the index for ``cores`` ids and widths up to ``d`` (doubling, to MAX)."""
        rows, cols = self.index.shape
        if cores <= rows and d < cols:
            return
        while rows < cores:
            rows *= 2
        while cols <= d:
            cols = min(2 * cols - 1, MAX_WIDTH_PER_GROUP + 1)
        index = np.full((rows, cols), -1, dtype=np.int32)
        index[:, 0] = 0
        index[: self.index.shape[0], : self.index.shape[1]] = self.index
        self.index = index

    def rows(self, ids: Int64s, d: Int64s) -> Int64s:
        """The table row of each (id, d); 0 where d is outside 1..MAX."""
        d = np.where((d >= 1) & (d <= MAX_WIDTH_PER_GROUP), d, 0)
        if d.size and int(d.max()) >= self.index.shape[1]:
            self._grow(len(self.cores), int(d.max()))
        row = self.index[ids, d]
        missing = row < 0
        if missing.any():
            self._fill(np.unique((ids[missing] << SHIFT) | d[missing]))
            row = self.index[ids, d]
        return row.astype(np.int64)

    def _fill(self, keys: Int64s) -> None:
        """Compute the (core, d) pairs of ``keys`` (sorted, none known) by the scalar rule."""
        todo = []
        for key in keys.tolist():
            core, groups = self.cores[key >> SHIFT]
            assert core.spec is not None  # registered cores have a spec
            todo.append((core.spec, groups, key & MASK))
        got = pair_costs(todo)
        start = len(self.valid)
        self.valid = np.concatenate([self.valid, got.valid])
        self.total = np.concatenate([self.total, got.total])
        self.repeat = np.concatenate([self.repeat, got.repeat[:, self.stages]])
        f = _field(self.preserve)
        if self.preserve in NET_TARGETS:
            terms = np.concatenate([got.total[:, None, f], got.repeat[:, self.stages, f]], axis=1)
        else:  # stage 0's first block (its transition included) and its repeated block
            terms = np.stack([got.first[:, 0, f], got.repeat[:, 0, f]], axis=1)
        self.terms = np.concatenate([self.terms, terms])
        slots = np.arange(start, start + len(keys))
        self.index[keys >> SHIFT, keys & MASK] = slots
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

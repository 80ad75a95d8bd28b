"""Dense ids of int64-packed keys, kept across a sweep's batches, and the costs they index.

A batched sweep packs what a part depends on (a stage's index, widths, block knobs) into one
int64 per row; ``np.unique`` finds the batch's distinct keys, a dict gives each the id it got
the first time it was seen, and costs are gathered from an array by id (``sweep/generated.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from archprobe.graph.cost import Cost

FIELDS = Cost._fields
Int64s = NDArray[np.int64]
Bools = NDArray[np.bool_]


class Keys:
    """Dense ids of int64-packed keys, the same across batches."""

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}

    def lookup(self, packed: Int64s) -> tuple[Int64s, Int64s]:
        """Each key's id, and the index (into ``packed``) of one row of each new key."""
        uniq, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
        got = np.array([self.ids.get(k, -1) for k in uniq.tolist()], dtype=np.int64)
        new = np.flatnonzero(got < 0)
        for i in new.tolist():
            got[i] = self.ids[int(uniq[i])] = len(self.ids)
        return got[inverse.reshape(-1)], first[new]


@dataclass
class Costs:
    """Per key id: its cost (int64, Cost fields), or whether the part failed."""

    rows: Int64s = field(default_factory=lambda: np.zeros((0, len(FIELDS)), dtype=np.int64))
    bad: Bools = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def add(self, costs: list[Cost | None]) -> None:
        if costs:
            more = np.array([c or Cost() for c in costs], dtype=np.int64)
            self.rows = np.concatenate([self.rows, more.reshape(-1, len(FIELDS))])
            self.bad = np.concatenate([self.bad, np.array([c is None for c in costs])])

"""Dense ids of int64-packed keys, kept across a sweep's batches, and the costs they index.

A batched sweep packs what a part depends on (a stage's index, widths, block knobs) into one
int64 per row; ``np.unique`` finds the batch's distinct keys, each gets the id it got the first
time it was seen, and costs are gathered from an array by id (``sweep/generated.py``).
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
    """Dense ids of int64-packed keys, the same across batches: the keys seen so far, sorted,
    and the id of each (a batch's keys are found by ``searchsorted``, not a dict lookup each)."""

    def __init__(self) -> None:
        self.known = np.zeros(0, dtype=np.int64)  # sorted
        self.known_ids = np.zeros(0, dtype=np.int64)  # the id of each known key

    def __len__(self) -> int:
        return len(self.known)

    def lookup(self, packed: Int64s) -> tuple[Int64s, Int64s]:
        """Each key's id, and the index (into ``packed``) of one row of each new key; new keys
        get the next ids in sorted key order."""
        uniq, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
        at = np.searchsorted(self.known, uniq)
        found = at < len(self.known)
        found[found] = self.known[at[found]] == uniq[found]
        got = np.full(len(uniq), -1, dtype=np.int64)
        got[found] = self.known_ids[at[found]]
        new = np.flatnonzero(~found)
        got[new] = len(self.known) + np.arange(len(new))
        self.known = np.insert(self.known, at[new], uniq[new])
        self.known_ids = np.insert(self.known_ids, at[new], got[new])
        return got[inverse.reshape(-1)], first[new]


@dataclass
class Costs:
    """Per key id: its cost (int64, Cost fields), or whether the part failed."""

    rows: Int64s = field(default_factory=lambda: np.zeros((0, len(FIELDS)), dtype=np.int64))
    bad: Bools = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def add(self, costs: list[Cost | None]) -> None:
        if costs:
            more = np.array([c or Cost() for c in costs], dtype=np.int64)
            self.extend(more.reshape(-1, len(FIELDS)), np.array([c is None for c in costs]))

    def extend(self, rows: Int64s, bad: Bools) -> None:
        """Append costs as rows (n × Cost fields; a bad row's values are ignored)."""
        self.rows = np.concatenate([self.rows, rows])
        self.bad = np.concatenate([self.bad, bad.astype(bool)])

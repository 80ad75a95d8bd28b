"""Store keys of a batched RegNet sweep's accepted rows, from templates on the stage arrays.

A config's key hashes its resolved spec (``configs.config_key``). A RegNet's resolved spec is its
base with the generator's stage table written in: per stage its depth, width and the group width
it got (``spec/generators/regnet.py``), and the model-level block with the requested knobs. So,
for one stage count and one set of block knobs (group width, bottleneck ratio, SE ratio as
drawn), the JSON
differs between rows only in those three numbers per stage. One row's spec, made by the
per-config path, is dumped with them as slots (``vector.KeyTemplate``); every other row of that
shape fills the slots from the arrays. Before, each accepted row was validated as a spec
(~0.35 ms: the generator on one row, the schema, the dump) for its key alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from archprobe.spec.schema import ArchSpec
from archprobe.sweep.spec import SweepSpec
from archprobe.sweep.vector import MAX_SLOTS, NOT_IDENTITY, SLOT, KeyTemplate

Int64s = NDArray[np.int64]
PER_STAGE = 3  # slots per stage: depth, width, group width
MAX_KEYED_STAGES = MAX_SLOTS // PER_STAGE  # longer tables are keyed from their own specs
MAX_TEMPLATES = 1 << 12


@dataclass(frozen=True)
class StageRows:
    """A batch's stages, one entry per (row, stage) of the rows costed, rows in order."""

    row: Int64s
    depth: Int64s
    width: Int64s
    group: Int64s  # the stage's group width (after the compatibility rule)
    knobs: Int64s  # the row's requested block knobs, packed (the same on each of its stages)

    @classmethod
    def empty(cls) -> StageRows:
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, none, none, none)


def slotted_stages(spec: ArchSpec) -> Any:
    """``spec``'s identity data with each stage's depth, width and group width as slots."""
    data = spec.model_dump(mode="json", exclude=NOT_IDENTITY)
    for k, stage in enumerate(data["stages"]):
        stage["depth"], stage["width"] = SLOT + PER_STAGE * k, SLOT + PER_STAGE * k + 1
        stage["block"]["group_width"] = SLOT + PER_STAGE * k + 2
    return data


class StagedKeys:
    """Key templates of one sweep, by (stage count, packed knobs), made on first need (the
    knobs' codes are the evaluator's: a new StagedKeys when it resets them)."""

    def __init__(self, sweep: SweepSpec) -> None:
        self.sweep = sweep
        self.templates: dict[int, KeyTemplate] = {}

    def keys(self, stages: StageRows, rows: Int64s, spec_of: Callable[[int], ArchSpec]
             ) -> list[str]:  # fmt: skip
        """The store keys of ``rows`` (each costed in ``stages``, with at most
        MAX_KEYED_STAGES stages); ``spec_of(row)`` is the per-config path's spec of a row."""
        start = np.searchsorted(stages.row, rows)
        count = np.searchsorted(stages.row, rows, side="right") - start
        shape = count | stages.knobs[start] << 10
        out = [""] * len(rows)
        for key in np.unique(shape).tolist():
            members = np.flatnonzero(shape == key)
            n = int(count[members[0]])
            template = self._template(key, spec_of, int(rows[members[0]]))
            at = start[members][:, None] + np.arange(n)  # each member's stage entries
            slots = [
                list(map(str, column[at[:, k]].tolist()))
                for k in range(n)
                for column in (stages.depth, stages.width, stages.group)
            ]
            for j, made in zip(members.tolist(), template.keys(slots, len(members)), strict=True):
                out[j] = made
        return out

    def _template(self, shape: int, spec_of: Callable[[int], ArchSpec], row: int) -> KeyTemplate:
        """The template of ``shape``, made from ``row``'s spec the first time."""
        if shape not in self.templates:
            if len(self.templates) >= MAX_TEMPLATES:
                self.templates.clear()
            self.templates[shape] = KeyTemplate.of(slotted_stages(spec_of(row)), self.sweep)
        return self.templates[shape]

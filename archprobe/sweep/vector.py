"""Costs of a batch of configs at once: configs are grouped by *core*, evaluated once per core.

A config's core is its values of every axis but the stage depths (``stages.<i>.depth``). A stage
costs its first block plus ``depth - 1`` copies of the block it repeats (``spec.expand.plan``), so
a core is validated and walked once with each swept depth at 2 (``PROBE``), and every config of
it costs, exactly, ``core total + Σ repeat_i · (depth_i - PROBE)``: numpy arithmetic on int64
columns, one pass per batch. Cores recur across batches (a ResNeXt space of 10⁶ draws has a few
thousand), so they are cached, bounded. A base with a stage generator (``regnet:``,
``scaling:``) rewrites its stages, so there every axis is part of the core.

The store key (``configs.config_key``) is the hash of the resolved spec; it is built from a
template of the core's JSON with the depths (and a solved width) as slots, not by dumping a
pydantic model per config.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from archprobe.errors import SpecError
from archprobe.graph.cost import Cost
from archprobe.graph.ops import GraphError
from archprobe.spec.generators import GENERATORS
from archprobe.spec.loader import validate
from archprobe.spec.merge import set_path
from archprobe.spec.schema import ArchSpec
from archprobe.sweep.draws import Column
from archprobe.sweep.fast import SpecCost, spec_cost
from archprobe.sweep.spec import SweepSpec

PROBE = 2  # a swept stage's depth in its core: the first block and one repeated block
MAX_CORES = 1 << 14
FIELDS = Cost._fields  # params, buffers, macs, acts, read, written
NOT_IDENTITY = {"name", "aliases", "paper", "published"}
_SLOT = 7319 * 10**14  # slot k (< 100) of a key template is the integer _SLOT + k in the JSON
_SLOTS = re.compile(str(_SLOT)[:-2] + r"(\d\d)")
Int64s = NDArray[np.int64]


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name).lstrip(".-") or "sweep"


def depth_stages(sweep: SweepSpec) -> dict[int, int]:
    """Axis index -> stage index, for the axes that only set a stage's depth."""
    if any(key in sweep.base_doc for key in GENERATORS):
        return {}
    stages = sweep.base_doc.get("stages")
    count = len(stages) if isinstance(stages, list) else 0
    out = {}
    for i, axis in enumerate(sweep.axes):
        p = axis.path
        stage = len(p) == 3 and p[0] == "stages" and p[2] == "depth"
        if stage and isinstance(p[1], int) and p[1] < count:
            out[i] = p[1]
    return out


@dataclass
class KeyTemplate:
    """The JSON a config's key hashes, cut at its slots (swept depths, solved width)."""

    pieces: list[str]
    slots: list[int]

    @classmethod
    def of(cls, data: Any, sweep: SweepSpec) -> KeyTemplate:
        blob = json.dumps([data, list(sweep.measure), sweep.settings], sort_keys=True)
        parts = _SLOTS.split(blob)  # text, slot, text, slot, ..., text
        return cls(parts[0::2], [int(s) for s in parts[1::2]])

    def keys(self, n: int, slots: list[list[str]]) -> list[str]:
        """The keys of ``n`` configs; ``slots[k]`` holds slot k's JSON text for every config."""
        pieces, order = self.pieces, self.slots
        if not order:
            return [hashlib.sha256(pieces[0].encode()).hexdigest()[:24]] * n
        tail = list(zip(order, pieces[1:], strict=True))
        out = []
        for row in zip(*slots, strict=True):
            text = pieces[0] + "".join([row[k] + p for k, p in tail])
            out.append(hashlib.sha256(text.encode()).hexdigest()[:24])
        return out


@dataclass
class Core:
    """One core: its spec (swept depths at PROBE), cost, or why it is invalid."""

    values: dict[str, Any]
    spec: ArchSpec | None = None
    cost: SpecCost | None = None
    error: str = ""
    memo: dict[str, Any] = field(default_factory=dict)  # the solver's per-core state


def slotted(spec: ArchSpec, stages: list[int], width_slot: bool = False) -> Any:
    """``spec``'s identity data with the swept depths (and every width_per_group) as slots."""
    data = spec.model_dump(mode="json", exclude=NOT_IDENTITY)
    for k, s in enumerate(stages):
        data["stages"][s]["depth"] = _SLOT + k
    if width_slot:
        d = _SLOT + len(stages)
        data["block"]["width_per_group"] = d
        for stage in data["stages"]:
            stage["block"]["width_per_group"] = d
    return data


class Cores:
    """The cores of one sweep, cached by value (least recently used dropped first)."""

    def __init__(self, sweep: SweepSpec) -> None:
        self.sweep = sweep
        self.depths = depth_stages(sweep)
        self.cache: OrderedDict[str, Core] = OrderedDict()

    def get(self, values: dict[str, Any]) -> Core:
        key = json.dumps(values, sort_keys=True, default=str)
        core = self.cache.get(key)
        if core is None:
            core = self.cache[key] = self._make(values)
            if len(self.cache) > MAX_CORES:
                self.cache.popitem(last=False)
        else:
            self.cache.move_to_end(key)
        return core

    def _make(self, values: dict[str, Any]) -> Core:
        doc = dict(self.sweep.base_doc)
        for axis in self.sweep.axes:
            doc = set_path(doc, axis.path, values.get(axis.key, PROBE))
        doc["name"] = f"{safe_name(self.sweep.name)}-core"
        core = Core(values)
        try:
            core.spec = validate(doc, self.sweep.base_smap)
            if self.sweep.solve is None:
                core.cost = spec_cost(core.spec)
        except (SpecError, GraphError) as exc:
            core.error = str(exc)
        return core


def core_codes(cols: list[Column], skip: set[int]) -> tuple[Int64s, Int64s]:
    """(first row of each core, core index of each row) over the columns not in ``skip``."""
    n = len(cols[0].codes)
    combined = np.zeros(n, dtype=np.int64)
    radix = 1
    rows: list[Int64s] = []
    for i, c in enumerate(cols):
        if i in skip:
            continue
        size = max(len(c.table), 1)
        if radix * size >= 1 << 62:  # too many combinations for one int64: unique rows instead
            rows.append(combined)
            combined, radix = np.zeros(n, dtype=np.int64), 1
        combined = combined * size + c.codes
        radix *= size
    if rows:
        matrix = np.stack([*rows, combined], axis=1)
        _, first, inverse = np.unique(matrix, axis=0, return_index=True, return_inverse=True)
    else:
        _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    return first.astype(np.int64), inverse.reshape(-1).astype(np.int64)


def cost_rows(costs: list[Cost | None]) -> NDArray[np.int64]:
    """Costs as an (n, 6) int64 array; None rows are zeros."""
    return np.array([c if c is not None else Cost() for c in costs], dtype=np.int64).reshape(
        -1, len(FIELDS)
    )


@dataclass
class Evaluated:
    """A batch's costs: ``totals`` (n × 6, Cost fields), validity, and what scalar code must do."""

    totals: NDArray[np.int64]
    valid: NDArray[np.bool_]
    errors: list[str]  # per row: why invalid ("" when valid)
    core_of: Int64s
    cores: list[Core]
    depths: NDArray[np.int64]  # n × swept depth stages
    solved: Int64s | None = None  # per row: the solved width per group (solve: uniform)
    scalar: NDArray[np.bool_] | None = None  # rows left to the per-config path


def depth_matrix(cols: list[Column], depth_axes: dict[int, int]) -> NDArray[np.int64]:
    n = len(cols[0].codes)
    if not depth_axes:
        return np.zeros((n, 0), dtype=np.int64)
    return np.stack([cols[i].values.astype(np.int64) for i in depth_axes], axis=1)


def group(cores: Cores, cols: list[Column]) -> tuple[list[Core], Int64s]:
    """The batch's distinct cores and each row's core."""
    first, inverse = core_codes(cols, set(cores.depths))
    core_axes = [(i, c) for i, c in enumerate(cols) if i not in cores.depths]
    distinct = [
        cores.get({c.axis.key: c.table[int(c.codes[f])] for _, c in core_axes})
        for f in first.tolist()
    ]
    return distinct, inverse


def evaluate(cores: Cores, cols: list[Column]) -> Evaluated:
    """Totals of every config of a batch without ``solve:`` (module docstring)."""
    distinct, inverse = group(cores, cols)
    depths = depth_matrix(cols, cores.depths)
    stages = list(cores.depths.values())
    totals = cost_rows([c.cost.total if c.cost else None for c in distinct])
    repeats = np.stack(
        [cost_rows([_repeat(c, s) for c in distinct]) for s in stages], axis=1
    ) if stages else np.zeros((len(distinct), 0, len(FIELDS)), dtype=np.int64)  # fmt: skip
    out = totals[inverse] + np.einsum("nkf,nk->nf", repeats[inverse], depths - PROBE)
    ok = np.array([c.cost is not None for c in distinct], dtype=bool)[inverse]
    errors = [distinct[i].error for i in inverse.tolist()]
    return Evaluated(out, ok, errors, inverse, distinct, depths)


def _repeat(core: Core, stage: int) -> Cost | None:
    if core.cost is None:
        return None
    return core.cost.stages[stage].repeat

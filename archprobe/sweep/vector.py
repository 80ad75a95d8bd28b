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
from collections.abc import Hashable
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
from archprobe.sweep.fast import SpecCost
from archprobe.sweep.spec import SweepSpec
from archprobe.sweep.stacked import spec_costs

PROBE = 2  # a swept stage's depth in its core: the first block and one repeated block
MAX_CORES = 1 << 14
FIELDS = Cost._fields  # params, buffers, macs, acts, read, written
NOT_IDENTITY = {"name", "aliases", "paper", "published"}
SLOT = 7319 * 10**14  # slot k (< MAX_SLOTS) of a key template is the integer SLOT + k in the JSON
MAX_SLOTS = 100
_SLOTS = re.compile(str(SLOT)[:-2] + r"(\d\d)")
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


class KeyTemplate:
    """The JSON a config's key hashes, cut at its slots (swept depths, solved width): the text
    before the first slot is hashed once; per config, the slots' texts are put between the
    other pieces and joined (a format string re-parses ~700 characters a row: 15x slower)."""

    def __init__(self, pieces: list[str], slots: list[int]) -> None:
        self.head = hashlib.sha256(pieces[0].encode())
        self.slots = slots  # which slot each gap holds, in text order
        self.pieces: list[str] = [x for p in pieces[1:] for x in ("", p)]  # gap, text, gap, ...
        self.constant = None if slots else self.head.hexdigest()[:24]

    @classmethod
    def of(cls, data: Any, sweep: SweepSpec) -> KeyTemplate:
        blob = json.dumps([data, list(sweep.measure), sweep.settings], sort_keys=True)
        parts = _SLOTS.split(blob)  # text, slot, text, slot, ..., text
        return cls(parts[0::2], [int(s) for s in parts[1::2]])

    def keys(self, slots: list[list[str]], n: int) -> list[str]:
        """The keys of ``n`` configs; ``slots[k]`` holds slot k's JSON text for every config."""
        if self.constant is not None:
            return [self.constant] * n
        head, text = self.head, list(self.pieces)
        out = []
        for row in zip(*[slots[k] for k in self.slots], strict=True):
            text[0::2] = row
            h = head.copy()
            h.update("".join(text).encode())
            out.append(h.hexdigest()[:24])
        return out


@dataclass
class Core:
    """One core: its spec (swept depths at PROBE), cost, or why it is invalid."""

    values: dict[str, Any]
    spec: ArchSpec | None = None
    cost: SpecCost | None = None
    error: str = ""
    memo: dict[str, Any] = field(default_factory=dict)  # the solver's per-core state
    slot: int = 0  # its row of Cores.rows


def slotted(spec: ArchSpec, stages: list[int], width_slot: bool = False) -> Any:
    """``spec``'s identity data with the swept depths (and every width_per_group) as slots."""
    data = spec.model_dump(mode="json", exclude=NOT_IDENTITY)
    for k, s in enumerate(stages):
        data["stages"][s]["depth"] = SLOT + k
    if width_slot:
        d = SLOT + len(stages)
        data["block"]["width_per_group"] = d
        for stage in data["stages"]:
            stage["block"]["width_per_group"] = d
    return data


class Cores:
    """The cores of one sweep, cached by value (least recently used dropped first).

    Each cached core owns a row of :attr:`rows` (its total and the repeated block of each swept
    stage, int64), so a batch gathers its cores' costs with one fancy index; a dropped core's
    row is reused by the next new one."""

    def __init__(self, sweep: SweepSpec) -> None:
        self.sweep = sweep
        self.depths = depth_stages(sweep)
        self.cache: OrderedDict[Hashable, Core] = OrderedDict()
        self.rows = np.zeros((64, 1 + len(self.depths), len(FIELDS)), dtype=np.int64)
        self.free: list[int] = []  # rows of dropped cores
        self.used = 0  # rows handed out so far

    def find(self, keys: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[Core]:
        """The core of each row of values of the axes ``keys`` (swept depths are the probe);
        cores not cached yet are validated one by one and costed together (``stacked``)."""
        found: list[Core] = []
        new: dict[Hashable, Core] = {}
        for values in rows:
            key = core_key(keys, values)
            core = self.cache.get(key)
            if core is not None:
                self.cache.move_to_end(key)
            elif (core := new.get(key)) is None:
                core = new[key] = self._make(dict(zip(keys, values, strict=True)))
            found.append(core)
        self._cost(list(new.values()))
        self.cache.update(new)
        return found

    def trim(self) -> None:
        """Drop the least recently used cores above MAX_CORES; called before a batch looks its
        cores up, so a batch's rows stay put until it has read them (a dropped core's row is
        reused)."""
        while len(self.cache) > MAX_CORES:
            self.free.append(self.cache.popitem(last=False)[1].slot)

    def _make(self, values: dict[str, Any]) -> Core:
        doc = dict(self.sweep.base_doc)
        for axis in self.sweep.axes:
            doc = set_path(doc, axis.path, values.get(axis.key, PROBE))
        doc["name"] = f"{safe_name(self.sweep.name)}-core"
        core = Core(values)
        try:
            core.spec = validate(doc, self.sweep.base_smap)
        except (SpecError, GraphError) as exc:
            core.error = str(exc)
        return core

    def _cost(self, cores: list[Core]) -> None:
        """Cost new cores (not with ``solve:``: the solver costs each at its widths) and give
        each its row."""
        todo = [c for c in cores if c.spec is not None] if self.sweep.solve is None else []
        costs = spec_costs([c.spec for c in todo if c.spec is not None])
        for core, cost in zip(todo, costs, strict=True):
            if isinstance(cost, SpecCost):
                core.cost = cost
            else:
                core.error = str(cost)
        for core in cores:
            core.slot = self._slot(core.cost)

    def _slot(self, cost: SpecCost | None) -> int:
        """A free row, filled with ``cost`` (zeros when the core is invalid or unsolved)."""
        if self.free:
            slot = self.free.pop()
        else:
            slot, self.used = self.used, self.used + 1
            if slot >= len(self.rows):
                self.rows = np.concatenate([self.rows, np.zeros_like(self.rows)])
        row = self.rows[slot]
        row[:] = 0
        if cost is not None:
            row[0] = cost.total
            for k, s in enumerate(self.depths.values()):
                if (repeat := cost.stages[s].repeat) is not None:
                    row[1 + k] = repeat
        return slot


def core_key(keys: tuple[str, ...], values: tuple[Any, ...]) -> Hashable:
    """A hashable identity of a core's values: the values with their types (1, 1.0 and True
    are equal as dict keys but not as specs); JSON text where a value is a mapping or list."""
    try:
        key = (keys, values, tuple(map(type, values)))
        hash(key)
    except TypeError:
        return json.dumps([keys, values], sort_keys=True, default=str)
    return key


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
    cores.trim()
    first, inverse = core_codes(cols, set(cores.depths))
    core_cols = [c for i, c in enumerate(cols) if i not in cores.depths]
    keys = tuple(c.axis.key for c in core_cols)
    picked = [[c.table[k] for k in c.codes[first].tolist()] for c in core_cols]
    rows = list(zip(*picked, strict=True)) if core_cols else [()]  # no axis but depths: one core
    return cores.find(keys, rows), inverse


def evaluate(cores: Cores, cols: list[Column]) -> Evaluated:
    """Totals of every config of a batch without ``solve:`` (module docstring)."""
    distinct, inverse = group(cores, cols)
    depths = depth_matrix(cols, cores.depths)
    rows = cores.rows[np.array([c.slot for c in distinct], dtype=np.int64)][inverse]
    out = rows[:, 0] + np.einsum("nkf,nk->nf", rows[:, 1:], depths - PROBE)
    ok = np.array([c.cost is not None for c in distinct], dtype=bool)[inverse]
    errors = [c.error for c in distinct]
    return Evaluated(out, ok, [errors[i] for i in inverse.tolist()], inverse, distinct, depths)

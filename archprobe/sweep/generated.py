"""Costs of a batch of RegNet design-space draws at once: stage tables on arrays, costs by stage.

A sweep whose every axis is a ``regnet:`` parameter rewrites the whole stage table per draw, so
``sweep/vector.py`` would validate and walk each draw as its own core. Here the generator's
table is computed for the batch in numpy (``spec/generators/regnet.py: stage_table``, the code
the generator itself runs on one row), and a network's costs factor by stage (Radosavovic et al.
2020 §3: stem, stages of identical blocks, head): stem + Σ_s [first block + (d_s − 1) · repeated
block] + head, where a stage's blocks depend only on its index (the input resolution), its input
and output widths and its block's knobs. Each distinct stage is costed once through the spec's
own plan (``spec.expand.stage_plan``, ``sweep/fast.py: block_cost``) and cached; totals are
exact int64 gathers and sums.

Refusals (w0/wa/wm, num_stages, an empty bottleneck) are decided on the arrays with the
generator's messages, located as validation locates them. A row the arrays cannot settle (an
axis value the parameter model refuses, a stage the schema or the graph refuses, too many
stages) is left to the per-config path. Accepted rows are keyed from templates on the stage
arrays (``sweep/staged_keys.py``; the same keys as their specs give, tested); their specs are
made by ``configs.make_spec`` only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from annotated_types import Ge, Gt, Le, Lt
from numpy.typing import NDArray
from pydantic import Strict, ValidationError

from archprobe.blocks import get_block
from archprobe.blocks.base import BlockParams
from archprobe.errors import SourceLoc, SpecError
from archprobe.graph.cost import Cost
from archprobe.graph.ops import GraphError
from archprobe.spec.expand import head_nodes, stem_nodes
from archprobe.spec.generators import GENERATORS
from archprobe.spec.generators.regnet import (
    BLOCK,
    RegNetParams,
    Table,
    compatible,
    no_bottleneck,
    refusal_message,
    stage_count_message,
    stage_table,
)
from archprobe.spec.limits import MAX_BLOCKS, MAX_STAGES
from archprobe.spec.loader import validate
from archprobe.spec.schema import ArchSpec
from archprobe.sweep.draws import Column
from archprobe.sweep.fast import part_cost
from archprobe.sweep.keyed import Costs, Keys
from archprobe.sweep.spec import SweepSpec
from archprobe.sweep.stage_parts import StageParts
from archprobe.sweep.staged_keys import MAX_KEYED_STAGES, StagedKeys, StageRows
from archprobe.sweep.vector import FIELDS, Core, Evaluated

Int64s = NDArray[np.int64]
Bools = NDArray[np.bool_]
Objects = NDArray[np.object_]
MAX_KEYS = 1 << 17  # distinct first blocks (or others) cached before the caches start over
WIDE = 1 << 17  # a width from here on fails the schema (<= 65536): the per-config path says how
CODED = ("bottleneck_ratio", "se_ratio")  # floats (or None) that key blocks: dense codes
NUMBERS = {"depth": 0, "w0": 0, "wa": 0.0, "wm": 0.0, "group_width": 0, "num_stages": 0}
PACKED = 6  # stages of a num_stages refusal packed into one int64 key
INTERVAL = (Ge, Gt, Le, Lt, Strict)  # constraints whose valid values form an interval
_BAD = object()
_CORE = Core({}, error="costed by stage (sweep/generated.py); specs from configs.make_spec")


def _interval(name: str) -> bool:
    return all(isinstance(m, INTERVAL) for m in RegNetParams.model_fields[name].metadata)


def evaluator(sweep: SweepSpec) -> RegNetSweep | None:
    """A batched evaluator of ``sweep`` (its caches carry over between the batches it is given),
    or None when its axes are not all ``regnet.*`` parameters of a plain RegNet base."""
    return RegNetSweep.of(sweep)


def _batchable(sweep: SweepSpec) -> bool:
    doc = sweep.base_doc
    fields = RegNetParams.model_fields
    block = doc.get("block") if isinstance(doc.get("block"), dict) else {}
    return (
        sweep.solve is None
        and bool(sweep.axes)
        and all(len(a.path) == 2 and a.path[0] == "regnet" and a.path[1] in fields
                for a in sweep.axes)
        and isinstance(doc.get("regnet"), dict)
        and not any(k in doc for k in GENERATORS if k != "regnet")
        and "stages" not in doc
        and isinstance(block, dict) and block.get("type", BLOCK) == BLOCK
        and not RegNetParams.__pydantic_decorators__.model_validators
    )  # fmt: skip


class RegNetSweep:
    """The batched path of one RegNet sweep: its base's parts, and caches of costed stages."""

    def __init__(self, sweep: SweepSpec, base: ArchSpec, params: RegNetParams) -> None:
        self.sweep, self.base, self.params = sweep, base, params
        self.fields = {i: str(a.path[1]) for i, a in enumerate(sweep.axes)}
        smap = sweep.base_smap
        where: SourceLoc | None = smap.get(("regnet",), smap[()]).value
        self.prefix = SpecError("", where, "regnet").format()
        block = sweep.base_doc.get("block")
        self.block = {**(block if isinstance(block, dict) else {}), "type": BLOCK}
        stem, self.stem_width = stem_nodes(base.stem, base.input.channels)
        x = (base.input.channels, base.input.size, base.input.size)
        cost, y = part_cost(stem, x)
        self.stem = np.array(cost, dtype=np.int64)
        self.sizes: dict[int, tuple[int, int]] = {0: (y[1], y[2])}  # stage -> input H, W
        self.reset()

    @classmethod
    def of(cls, sweep: SweepSpec) -> RegNetSweep | None:
        if not _batchable(sweep):
            return None
        try:
            base = validate(sweep.base_doc, sweep.base_smap)
            params = RegNetParams.model_validate(sweep.base_doc["regnet"])
            return cls(sweep, base, params)
        except (SpecError, GraphError, ValidationError):
            return None  # a base that is no valid RegNet alone: the per-config path says why

    def reset(self) -> None:
        """Empty every cache (each is bounded by MAX_KEYS)."""
        self.checked: dict[tuple[str, type, Any], Any] = {}
        self.codes: dict[str, dict[Any, int]] = {f: {} for f in CODED}
        self.values: dict[str, list[Any]] = {f: [] for f in CODED}
        self.compat, self.compat_of = Keys(), np.zeros((0, 3), dtype=np.int64)
        self.blocks, self.block_params = Keys(), list[BlockParams | None]()
        self.parts = StageParts(self.base.transition, self.sizes, self.block_params)
        self.heads, self.head_costs = Keys(), Costs()
        self.refusals: dict[int, tuple[Keys, list[str]]] = {}  # by num_stages
        self.keyer = StagedKeys(self.sweep)  # templates keyed by the codes above
        self.last = StageRows.empty()  # the stages of the last batch's costed rows

    def evaluate(self, cols: list[Column]) -> Evaluated:
        """Totals, validity and messages of a batch; ``scalar`` marks the rows left to the
        per-config path."""
        caches = (self.parts, self.heads, self.blocks, self.compat)
        refused = sum(len(k) for k, _ in self.refusals.values())
        if max(len(self.checked), refused, *(len(c) for c in caches)) > MAX_KEYS:
            self.reset()
        n = len(cols[0].codes)
        p, route = self._params(cols, n)
        t = stage_table(p["depth"], p["w0"], p["wa"], p["wm"])
        errors: Objects = np.full(n, "", dtype=object)
        ok = ~route & (t.refused < 0)
        self._refused(p, t, ok | route, errors)
        counted = p["num_stages"] > 0
        wrong = ok & counted & (t.count != p["num_stages"])
        self._stage_counts(t, np.flatnonzero(wrong), p["num_stages"], errors)
        ok &= ~wrong
        many = t.count > min(MAX_STAGES, MAX_KEYED_STAGES)
        route |= ok & (many | (p["depth"] > MAX_BLOCKS))
        ok &= ~route
        totals = np.zeros((n, len(FIELDS)), dtype=np.int64)
        self._stages(p, t, ok, route, errors, totals)
        return Evaluated(totals, ok, errors.tolist(), np.zeros(n, dtype=np.int64), [_CORE],
                         np.zeros((n, 0), dtype=np.int64), scalar=route)  # fmt: skip

    def _params(self, cols: list[Column], n: int) -> tuple[dict[str, Any], Bools]:
        """Each parameter per row (numbers; b and SE ratio as codes), and the rows with a value
        the parameter model refuses (left to the per-config path, which reports it)."""
        base = self.params
        p: dict[str, Any] = {f: np.full(n, self._number(f, getattr(base, f))) for f in NUMBERS}
        p.update({f: np.full(n, self._code(f, getattr(base, f))) for f in CODED})
        bad = np.zeros(n, dtype=bool)
        for i, c in enumerate(cols):
            f = self.fields[i]
            if f in NUMBERS and c.values.dtype != object and self._bounds_ok(f, c):
                p[f] = c.values.astype(type(NUMBERS[f]))  # every value valid: an interval
                continue
            checked = [self._checked(f, v) for v in c.table]
            fine = np.array([v is not _BAD for v in checked], dtype=bool)
            fallback = getattr(base, f)
            table = [v if v is not _BAD else fallback for v in checked]
            encode = self._code if f in CODED else self._number
            p[f] = np.array([encode(f, v) for v in table])[c.codes]
            bad |= ~fine[c.codes]
        return p, bad

    def _bounds_ok(self, f: str, c: Column) -> bool:
        """A numeric column is valid when its extremes are (its field's constraints are
        bounds, so its valid values form an interval)."""
        if not _interval(f) or not c.table:
            return False
        lo, hi = c.values.min().item(), c.values.max().item()
        return self._checked(f, lo) is not _BAD and self._checked(f, hi) is not _BAD

    def _checked(self, f: str, value: Any) -> Any:
        """``value`` as the parameter model reads it for field ``f``, or _BAD (cached)."""
        key = (f, type(value), value)
        if key not in self.checked:
            raw = {**self.params.model_dump(), f: value}
            try:
                self.checked[key] = getattr(RegNetParams.model_validate(raw), f)
            except ValidationError:
                self.checked[key] = _BAD
        return self.checked[key]

    @staticmethod
    def _number(f: str, value: Any) -> Any:
        return (0 if value is None else value) if f == "num_stages" else value

    def _code(self, f: str, value: Any) -> int:
        codes = self.codes[f]
        if value not in codes:
            codes[value] = len(self.values[f])
            self.values[f].append(value)
        return codes[value]

    def _error(self, message: str) -> str:
        """A generator refusal as validation reports it (``generators.generate`` raises
        ``SpecError(message, where, "regnet")``; its text is ``prefix + message``)."""
        return self.prefix + message

    def _refused(self, p: dict[str, Any], t: Table, kept: Bools, errors: Objects) -> None:
        for i in np.flatnonzero(~kept).tolist():
            args = (int(p["w0"][i]), float(p["wa"][i]), float(p["wm"][i]))
            errors[i] = self._error(refusal_message(int(t.refused[i]), *args))

    def _stage_counts(self, t: Table, rows: Int64s, num_stages: Int64s, errors: Objects) -> None:
        """The num_stages refusal of ``rows``, most refused draws: a table of at most 6 widths
        under 8192 is packed into an int64 (10 bits a width / 8), its message formatted once
        per num_stages; longer tables are formatted row by row."""
        if not len(rows):
            return
        counts, wanted = t.count[rows], num_stages[rows]
        e = t.first[rows][:, None] + np.arange(PACKED)
        inside = np.arange(PACKED) < counts[:, None]
        widths = np.where(inside, t.width[np.minimum(e, len(t.width) - 1)], 0)
        fits = (counts <= PACKED) & (widths < 8 << 10).all(axis=1)
        packed = ((widths // 8) << (10 * np.arange(PACKED))).sum(axis=1)
        for ns in np.unique(wanted[fits]).tolist():
            mine = fits & (wanted == ns)
            keys, texts = self.refusals.setdefault(ns, (Keys(), []))
            ids, new = keys.lookup(packed[mine])
            for row in widths[mine][new].tolist():
                table = [w for w in row if w]  # zeros: no stage
                texts.append(self._error(stage_count_message(table, ns)))
            errors[rows[mine]] = np.array(texts, dtype=object)[ids]
        rest = rows[~fits]
        listed = t.width.tolist() if len(rest) else []
        for i, a, c, k in zip(rest.tolist(), t.first[rest].tolist(), counts[~fits].tolist(),
                              wanted[~fits].tolist(), strict=True):  # fmt: skip
            errors[i] = self._error(stage_count_message(listed[a : a + c], k))

    def _stages(self, p: dict[str, Any], t: Table, ok: Bools, route: Bools, errors: Objects,
                totals: Int64s) -> None:  # fmt: skip
        """Stage widths by the group-width rule, then costs of the rows still ``ok`` (both
        masks updated in place)."""
        e = np.flatnonzero(ok[t.row])
        row, width, stage = t.row[e], t.width[e], e - t.first[t.row[e]]
        route[row[width >= WIDE]] = True  # beyond the schema's widths: the per-config path
        wide = route[row]
        compat = self._compatible(width, p["group_width"][row], p["bottleneck_ratio"][row])
        empty = (compat[:, 2] == 1) & ~wide
        rows, firsts = np.unique(row[empty], return_index=True)
        for i, k in zip(rows.tolist(), np.flatnonzero(empty)[firsts].tolist(), strict=True):
            b = self.values["bottleneck_ratio"][int(p["bottleneck_ratio"][i])]
            errors[i] = self._error(no_bottleneck(int(stage[k]), int(width[k]), b))
        ok[rows] = False
        route[row[(compat[:, 0] >= WIDE) & ok[row]]] = True
        ok &= ~route
        keep = ok[row]
        row, stage, depth = row[keep], stage[keep], t.depth[e][keep]
        w, g = compat[keep, 0], compat[keep, 1]
        win = np.where(stage == 0, self.stem_width, np.roll(w, 1))
        blk = self._block_ids(g, p["bottleneck_ratio"][row], p["se_ratio"][row])
        parts = self.parts
        first, repeat = parts.first_ids(stage, win, w, blk), parts.repeat_ids(stage, w, blk)
        one, more = parts.first_costs, parts.repeat_costs
        bad = one.bad[first] | (more.bad[repeat] & (depth > 1))
        cost = one.rows[first] + more.rows[repeat] * (depth - 1)[:, None]
        last = np.append(row[1:] != row[:-1], True) if len(row) else np.zeros(0, dtype=bool)
        heads = self._head_ids(stage[last] + 1, w[last])
        route[row[bad]] = True
        route[row[last][self.head_costs.bad[heads]]] = True
        starts = np.flatnonzero(np.append(True, row[1:] != row[:-1])) if len(row) else row
        if len(row):
            summed = np.add.reduceat(cost, starts, axis=0) + self.head_costs.rows[heads]
            totals[row[starts]] = summed + self.stem
        ok &= ~route
        totals[~ok] = 0
        knobs = p["group_width"] | p["bottleneck_ratio"] << 18 | p["se_ratio"] << 38
        self.last = StageRows(row, depth, w, g, knobs[row])

    def keys(self, rows: Int64s, spec_of: Callable[[int], ArchSpec]) -> list[str]:
        """Store keys of valid ``rows`` of the last batch (``sweep/staged_keys.py``);
        ``spec_of(row)``: the per-config path's spec of a row (one per key template)."""
        return self.keyer.keys(self.last, rows, spec_of)

    def _compatible(self, width: Int64s, group: Int64s, b: Int64s) -> Int64s:
        """Per stage (width, group width, 1 when int(w·b) is 0) by the generator's rule."""
        ids, new = self.compat.lookup(np.minimum(width, WIDE) | group << 18 | b << 35)
        made = []
        for k in new.tolist():
            got = compatible(int(width[k]), self.values["bottleneck_ratio"][int(b[k])],
                             int(group[k]))  # fmt: skip
            made.append([*got, 0] if got is not None else [0, 0, 1])
        if made:
            self.compat_of = np.concatenate([self.compat_of, np.array(made, dtype=np.int64)])
        return self.compat_of[ids]

    def _block_ids(self, group: Int64s, b: Int64s, se: Int64s) -> Int64s:
        """Each stage's block knobs as a dense id (the block validated once per id)."""
        ids, new = self.blocks.lookup(group | b << 18 | se << 38)
        for k in new.tolist():
            knobs = {"group_width": int(group[k]),
                     "bottleneck_ratio": self.values["bottleneck_ratio"][int(b[k])],
                     "se_ratio": self.values["se_ratio"][int(se[k])]}  # fmt: skip
            try:
                made: BlockParams | None = get_block(BLOCK).Params.model_validate(
                    {**self.block, **knobs}
                )
            except ValidationError:
                made = None  # the per-config path reports it
            self.block_params.append(made)
        return ids

    def _head_ids(self, count: Int64s, width: Int64s) -> Int64s:
        """The head on each last stage's width (at its resolution), costed once per id."""
        ids, new = self.heads.lookup(count | width << 10)
        made: list[Cost | None] = []
        for k in new.tolist():
            s, cin = int(count[k]), int(width[k])
            try:
                head = head_nodes(self.base.head, cin)
                made.append(part_cost(head, (cin, *self.sizes[s]))[0])
            except (GraphError, KeyError):
                made.append(None)
        self.head_costs.add(made)
        return ids

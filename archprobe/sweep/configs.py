"""From a sweep spec to configs, in batches: values, costs (``sweep/vector.py``), the solver
(``sweep/vsolve.py``), analytic rejection, store keys.

:class:`Generation` streams the accepted, distinct configs a batch at a time
(``sweep/accepted.py``: columns, stored without a Python object per row), so a run's memory does
not grow with its size; a config's pydantic spec is built only when asked for
(:attr:`Config.spec`: a measurement, a test). Rows the arrays cannot settle (a per-stage solve, a
core invalid at the probe depth) take the per-config path (:func:`make_spec`), which is also the
reference the vectorised path is tested against.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from archprobe.errors import SpecError
from archprobe.graph.ops import GraphError
from archprobe.spec.loader import validate
from archprobe.spec.merge import set_path
from archprobe.spec.schema import ArchSpec
from archprobe.sweep import generated
from archprobe.sweep.accepted import METRICS, WIDTH_KEY, Accepted, Config, ConfigText
from archprobe.sweep.collector import frozen_survivors, no_gc
from archprobe.sweep.draws import Column, batches, row_ids
from archprobe.sweep.fast import SpecCost, spec_cost
from archprobe.sweep.solve import metric, solve_width, with_width
from archprobe.sweep.spec import SweepSpec
from archprobe.sweep.vector import (
    FIELDS,
    NOT_IDENTITY,
    Core,
    Cores,
    Evaluated,
    KeyTemplate,
    evaluate,
    safe_name,
    slotted,
)
from archprobe.sweep.vsolve import solve_batch

MIN_TRIES = 10_000
TRIES_PER_CONFIG = 200  # random mode: draws per wanted config before giving up
# Configs per batch (and per SQLite transaction): 4,096 cost the solved ResNeXt space 12% more
# CPU (its width-table fills and commits per batch); a kill loses at most a batch.
BATCH = 16_384
MAX_DRAWS = 1 << 16  # draws per batch at most, where constraints reject most of them


def make_spec(
    sweep: SweepSpec, values: dict[str, Any], index: int
) -> tuple[ArchSpec, SpecCost | None]:
    """The base with ``values`` applied (and width_per_group solved), and the solved spec's cost
    (None without ``solve:``); SpecError if invalid. The per-config reference path.

    With ``solve:``, the solved widths are added to ``values`` (``block.width_per_group``, or
    ``stages.<i>.width_per_group`` per stage) so that results show them beside the axes.
    """
    doc = dict(sweep.base_doc)
    for axis in sweep.axes:
        doc = set_path(doc, axis.path, values[axis.key])
    doc["name"] = f"{safe_name(sweep.name)}-{index}"
    spec = validate(doc, sweep.base_smap)
    if sweep.solve is None:
        return spec, None
    groups = int(getattr(spec.block, "groups", 1))
    how = sweep.solve
    solution = solve_width(spec, groups, how.preserve, target=target_of(sweep),
                           per_stage=how.per_stage)  # fmt: skip
    widths = solution.stage_widths
    if how.per_stage:
        values.update({f"stages.{i}.width_per_group": d for i, d in enumerate(widths)})
    else:
        values[WIDTH_KEY] = widths[0]
    # Stage overrides of the base lose to the solver: with_width sets every stage's block.
    assert solution.spec is not None and solution.cost is not None
    return solution.spec, solution.cost


_TARGETS: dict[tuple[str, str], int] = {}


def target_of(sweep: SweepSpec) -> int:
    """The solver's target: ``solve.target``, else the base's value of ``preserve``."""
    assert sweep.solve is not None
    if sweep.solve.target is not None:
        return sweep.solve.target
    key = (str(sweep.base_path), sweep.solve.preserve)
    if key not in _TARGETS:
        base = validate(sweep.base_doc, sweep.base_smap)
        _TARGETS[key] = metric(spec_cost(base), sweep.solve.preserve)
    return _TARGETS[key]


def config_key(spec: ArchSpec, sweep: SweepSpec) -> str:
    """Hash of the resolved spec (identity keys excluded) plus the measurement settings."""
    data = spec.model_dump(mode="json", exclude=NOT_IDENTITY)
    blob = json.dumps([data, list(sweep.measure), sweep.settings], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def accepts(sweep: SweepSpec, values: dict[str, int]) -> bool:
    for name, (lo, hi) in sweep.constraints.items():
        v = values[name]
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            return False
    return True


@dataclass
class Tally:
    """What generation saw: draws, invalid specs, constraint rejections, duplicates."""

    drawn: int = 0
    invalid: int = 0
    rejected: int = 0
    duplicates: int = 0
    first_invalid: str = ""
    lo: dict[str, int] | None = None
    hi: dict[str, int] | None = None

    def seen(self, m: dict[str, int]) -> None:
        self.lo = {k: min(v, (self.lo or m)[k]) for k, v in m.items()}
        self.hi = {k: max(v, (self.hi or m)[k]) for k, v in m.items()}

    def count(self, ev: Evaluated, rows: int, describe: list[str]) -> None:
        """Add the first ``rows`` rows of a batch (``describe``: the first invalid row)."""
        valid = ev.valid[:rows]
        self.drawn += rows
        self.invalid += int(rows - valid.sum())
        if describe and not self.first_invalid:
            self.first_invalid = describe[0]
        if valid.any():
            chosen = ev.totals[:rows][valid]
            self.seen({m: int(chosen[:, FIELDS.index(m)].min()) for m in METRICS})
            self.seen({m: int(chosen[:, FIELDS.index(m)].max()) for m in METRICS})


class Generation:
    """One pass over a sweep: batches of accepted, distinct configs (module docstring)."""

    def __init__(self, sweep: SweepSpec, size: int = BATCH) -> None:
        self.sweep, self.size = sweep, size
        self.cores = Cores(sweep)
        self.tally = Tally()
        self.accepted = 0
        self.kept_of = (0, 0)  # (configs kept, draws) of the last batch
        self.keys: set[int] = set()  # 64 bits of each key: 8 bytes a config, not a string
        self.seen_ids: set[int] = set()  # draws.row_ids of the random draws looked at
        self.target = target_of(sweep) if sweep.solve else 0
        self.limit = max(MIN_TRIES, TRIES_PER_CONFIG * (sweep.n or 0))
        self.staged = generated.evaluator(sweep) if sweep.solve is None else None
        uniform = sweep.solve is not None and not sweep.solve.per_stage
        self.text = ConfigText([a.key for a in sweep.axes], uniform)

    def __iter__(self) -> Iterator[Accepted]:
        with frozen_survivors() as freeze:
            yield from self._batches(freeze)

    def _batches(self, freeze: Callable[[], None]) -> Iterator[Accepted]:
        random_mode = self.sweep.mode == "random"
        for cols in batches(self.sweep, self._draws):
            if random_mode:
                left = self.limit - self.tally.drawn
                if left <= 0 or self.accepted >= (self.sweep.n or 0):
                    return
                cols = [_head(c, left) for c in cols]
            with no_gc():
                out = self._batch(cols)
                freeze()
            if out:
                yield out

    def _draws(self) -> int:
        """Draws in the next batch: about ``size`` new accepted configs at the last batch's
        rate (repeats grow as a random sweep fills its space), within [size, MAX_DRAWS]. A
        sweep whose constraints keep 1 draw in 220 (RegNetX at 400 MF) would otherwise pay a
        batch's fixed costs (its stage parts' walks, the solver's searches, the transaction)
        for ~20 configs: batches of 65,536 draws ran it 2.4x faster; the solved ResNeXt space,
        2 draws in 3 repeats, 1.5x (measured, CPU time)."""
        kept, drawn = self.kept_of
        if not drawn:
            return self.size
        return max(self.size, min(self.size * drawn // max(kept, 1), MAX_DRAWS))

    def evaluate(self, cols: list[Column]) -> tuple[Evaluated, dict[int, tuple[Any, ...]]]:
        """Costs of a batch (and the per-config path's rows), without collection, as a run
        evaluates (a cold RegNet batch expands ~10⁵ objects: collecting doubles its time)."""
        with no_gc():
            return self._evaluate(cols)

    def _evaluate(self, cols: list[Column]) -> tuple[Evaluated, dict[int, tuple[Any, ...]]]:
        solve = self.sweep.solve
        if self.staged is not None:  # generator axes (regnet.*): costed by stage on arrays
            ev = self.staged.evaluate(cols)
        elif solve is not None and not solve.per_stage:
            ev = solve_batch(self.cores, cols, self.target)
        elif solve is not None:  # per-stage widths: the per-config solver
            ev = evaluate(self.cores, cols)
            ev.scalar = np.ones(len(ev.valid), dtype=bool)
        else:
            ev = evaluate(self.cores, cols)
            one = (ev.depths == 1).any(axis=1) if ev.depths.size else np.zeros(0, dtype=bool)
            ev.scalar = ~ev.valid & one if one.size else None  # probe invalid, depth 1 may not be
        rows = np.flatnonzero(ev.scalar) if ev.scalar is not None else None
        return ev, {} if rows is None else self._scalar(ev, cols, rows)

    def _scalar(self, ev: Evaluated, cols: list[Column], rows: Any) -> dict[int, tuple[Any, ...]]:
        """The per-config path for ``rows``: (spec, values) of each valid one, and its cost."""
        out: dict[int, tuple[Any, ...]] = {}
        for i in rows.tolist():
            values = _values(cols, i)
            try:
                spec, cost = make_spec(self.sweep, values, self.tally.drawn + i)
                ev.totals[i] = cost.total if cost is not None else spec_cost(spec).total
            except (SpecError, GraphError) as exc:
                ev.valid[i], ev.errors[i] = False, str(exc)
                continue
            ev.valid[i] = True
            out[i] = (spec, values)
        return out

    def _accept(self, ev: Evaluated) -> Any:
        ok = ev.valid.copy()
        for name, (lo, hi) in self.sweep.constraints.items():
            m = ev.totals[:, FIELDS.index(name)]
            ok &= (m >= lo if lo is not None else True) & (m <= hi if hi is not None else True)
        return ok

    def _batch(self, cols: list[Column]) -> Accepted:
        ev, scalar = self.evaluate(cols)
        accepted = self._accept(ev)
        kept, keys, last = self._collect(ev, cols, np.flatnonzero(accepted), scalar)
        stages = list(self.cores.depths.values())
        out = Accepted(self.accepted, self.tally.drawn, cols, np.array(kept, dtype=np.int64),
                       keys, ev, scalar, stages, self.text,
                       self.spec_of if self.staged is not None else None)  # fmt: skip
        self.accepted += len(kept)
        n = last + 1
        self.kept_of = (len(kept), n)  # the yield the next batch is sized by
        invalid = np.flatnonzero(~ev.valid[:n])
        first = [self._invalid(cols, int(invalid[0]), ev)] if len(invalid) else []
        self.tally.count(ev, n, first)
        self.tally.rejected += int((ev.valid[:n] & ~accepted[:n]).sum())
        return out

    def _collect(
        self, ev: Evaluated, cols: list[Column], rows: Any, scalar: dict[int, tuple[Any, ...]]
    ) -> tuple[list[int], list[str], int]:
        """The accepted ``rows`` whose keys are new, their keys, and the last row looked at. A
        random sweep keys its rows a slice at a time, sized by how many configs are still
        wanted (an eighth more for duplicates): the batch that reaches ``n`` would otherwise key
        every accepted row, then drop those past ``n``."""
        need = (self.sweep.n or 0) - self.accepted if self.sweep.mode == "random" else None
        ids = row_ids(cols) if need is not None else None  # a grid repeats no row
        kept: list[int] = []
        keys: list[str] = []
        start = 0
        while start < len(rows):
            size = len(rows) if need is None else max(256, (need - len(kept)) * 9 // 8)
            part, start = rows[start : start + size], start + size
            new = self._unseen(ids, part)  # a repeated draw: its key is known, not made again
            made = iter(self._keys(ev, cols, part[new], scalar))
            for i, fresh in zip(part.tolist(), new.tolist(), strict=True):
                key = next(made) if fresh else None
                if key is None or (short := int(key[:16], 16)) in self.keys:
                    self.tally.duplicates += 1
                    continue
                self.keys.add(short)
                kept.append(i)
                keys.append(key)
                if len(kept) == need:
                    return kept, keys, i
        return kept, keys, len(ev.valid) - 1

    def _unseen(self, ids: Any, part: Any) -> Any:
        """Which of ``part`` draw values not drawn before (the first of repeats in ``part``).
        Ids are remembered as they are looked at: a slice cut short by ``n`` ends the sweep, so
        its unread rows are never drawn again."""
        if ids is None:
            return np.ones(len(part), dtype=bool)
        seen, new = self.seen_ids, []
        for v in ids[part].tolist():
            new.append(v not in seen)
            seen.add(v)
        return np.array(new, dtype=bool)

    def _invalid(self, cols: list[Column], i: int, ev: Evaluated) -> str:
        return f"{_values(cols, i)}: {ev.errors[i]}"

    def _keys(
        self, ev: Evaluated, cols: list[Column], rows: Any, scalar: dict[int, tuple[Any, ...]]
    ) -> list[str]:
        """Store keys of ``rows``: from templates (a core's, or the RegNet stage arrays'), or
        the per-config spec."""
        keys = [""] * len(rows)
        if scalar:  # rows the per-config path settled: keyed from their specs, below
            vector = np.flatnonzero([i not in scalar for i in rows.tolist()])
        else:
            vector = np.arange(len(rows))
        if self.staged is not None:
            made = self.staged.keys(rows[vector], lambda i: self._spec(cols, i))
        else:
            made = self._core_keys(ev, rows[vector])
        for j, key in zip(vector.tolist(), made, strict=True):
            keys[j] = key
        for j, i in enumerate(rows.tolist() if scalar else ()):
            if i in scalar:
                keys[j] = config_key(scalar[i][0], self.sweep)
        return keys

    def _core_keys(self, ev: Evaluated, rows: Any) -> list[str]:
        """Keys of ``rows`` from their cores' templates (swept depths, solved width)."""
        cores = ev.core_of[rows]
        order = np.argsort(cores, kind="stable")  # rows of one core together, in row order
        at, cores = rows[order], cores[order]
        slots = [list(map(str, ev.depths[at, k].tolist())) for k in range(ev.depths.shape[1])]
        if ev.solved is not None:
            slots.append(list(map(str, ev.solved[at].tolist())))
        bounds = [*np.flatnonzero(np.diff(cores, prepend=-1)).tolist(), len(at)]
        made: list[str] = []
        for a, b in pairwise(bounds):
            template = self._template(ev.cores[int(cores[a])])
            made += template.keys([column[a:b] for column in slots], b - a)
        keys = [""] * len(rows)
        for j, key in zip(order.tolist(), made, strict=True):
            keys[j] = key
        return keys

    def _spec(self, cols: list[Column], i: int) -> ArchSpec:
        """The per-config path's spec of row ``i`` of the batch ``cols``."""
        return self.spec_of(_values(cols, i), self.tally.drawn + i)

    def spec_of(self, values: dict[str, Any], draw: int) -> ArchSpec:
        """The spec of a config of values ``values`` drawn as draw ``draw`` (made on demand)."""
        return make_spec(self.sweep, dict(values), draw)[0]

    def _template(self, core: Core) -> KeyTemplate:
        if "template" not in core.memo:
            assert core.spec is not None
            spec, solved = core.spec, self.sweep.solve is not None
            if solved:
                spec = with_width(spec, int(getattr(spec.block, "groups", 1)), 1)
            data = slotted(spec, list(self.cores.depths.values()), width_slot=solved)
            core.memo["template"] = KeyTemplate.of(data, self.sweep)
        template: KeyTemplate = core.memo["template"]
        return template


def _values(cols: list[Column], i: int) -> dict[str, Any]:
    """Row ``i`` of a batch as the values of its axes."""
    return {c.axis.key: c.table[int(c.codes[i])] for c in cols}


def _head(c: Column, n: int) -> Column:
    return c if len(c.codes) <= n else Column(c.axis, c.values[:n], c.codes[:n], c.table)


def generate(sweep: SweepSpec) -> tuple[list[Config], Tally]:
    """Accepted, distinct configs in sweep order (random: the first ``n`` accepted draws), all in
    memory: for tests and small sweeps (``run_sweep`` streams :class:`Generation` instead).

    Raises:
        SpecError: when no config survives, saying why (invalid specs or constraints).
    """
    gen = Generation(sweep)
    out = [c for batch in gen for c in batch.configs()]
    if not out:
        raise nothing(sweep, gen.tally)
    return out, gen.tally


def nothing(sweep: SweepSpec, tally: Tally) -> SpecError:
    """Why no config survived: every one invalid, or the constraints reject them all."""
    if tally.invalid == tally.drawn:
        msg = f"all {tally.drawn} configs are invalid; the first: {tally.first_invalid}"
        return SpecError(msg, sweep.loc("axes"), "axes")
    seen = ", ".join(
        f"{k} {(tally.lo or {})[k]:.4g}..{(tally.hi or {})[k]:.4g}" for k in sweep.constraints
    )
    msg = f"the constraints reject all {tally.drawn - tally.invalid} valid configs (seen: {seen})"
    return SpecError(msg, sweep.loc("constraints"), "constraints")

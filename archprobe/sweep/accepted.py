"""One batch of accepted, distinct configs, held as columns until something asks for rows.

An analytic sweep stores a batch as SQLite records straight from its columns
(:meth:`Accepted.records`): the keys, the metrics as lists, and each config's JSON written through
one format string per batch (:class:`ConfigText`). A Python :class:`Config` per row (its values
dict, metrics dict, lazily built spec) is made only when one is asked for: iterating the batch, a
measured sweep, a test. Both give the same values; ``tests/sweep/test_accepted.py`` checks the
records' JSON byte for byte against ``json`` on the configs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from archprobe.spec.schema import ArchSpec
from archprobe.sweep.draws import Column
from archprobe.sweep.solve import with_width
from archprobe.sweep.store import SORTED_JSON
from archprobe.sweep.vector import FIELDS, Core, Evaluated

METRICS = ("params", "macs", "acts")
SpecOf = Callable[[dict[str, Any], int], ArchSpec]  # (a config's values, its draw) -> its spec
WIDTH_KEY = "block.width_per_group"  # where a uniform solve puts its width among the values


@dataclass(frozen=True)
class Config:
    """One accepted configuration: its axis values, analytic metrics and store key; its spec is
    built on first use."""

    index: int
    values: dict[str, Any]
    metrics: dict[str, int]
    key: str
    draw: int = 0  # the draw it came from: its spec is named <sweep>-<draw>
    core: Core | None = field(default=None, repr=False, compare=False)
    depths: tuple[tuple[int, int], ...] = ()  # (stage, depth) of the swept depths
    width: int | None = None  # the solved width per group (uniform solve)
    built: ArchSpec | None = field(default=None, repr=False, compare=False)
    make: SpecOf | None = field(default=None, repr=False, compare=False)  # (values, draw) -> spec

    @property
    def spec(self) -> ArchSpec:
        if self.built is None:
            # a generated stage table (RegNet): the per-config path's spec; else the core's
            spec = self.make(self.values, self.draw) if self.make is not None else self._cored()
            object.__setattr__(self, "built", spec)
        assert self.built is not None
        return self.built

    def _cored(self) -> ArchSpec:
        """The spec from the core's, with this config's depths and solved width."""
        assert self.core is not None and self.core.spec is not None
        spec = self.core.spec
        stages = list(spec.stages)
        for s, d in self.depths:
            stages[s] = stages[s].model_copy(update={"depth": d})
        name = f"{spec.name.removesuffix('-core')}-{self.draw}"  # the core is <sweep>-core
        spec = spec.model_copy(update={"name": name, "stages": tuple(stages)})
        if self.width is not None:
            spec = with_width(spec, int(getattr(spec.block, "groups", 1)), self.width)
        return spec


class ConfigText:
    """The sorted-key JSON of a config's values (what ``SORTED_JSON.encode(values)`` writes) for
    many rows at once: one format string with a field per axis (and the solved width), filled
    with each column's values encoded once per distinct value."""

    def __init__(self, keys: list[str], solved: bool) -> None:
        names = sorted({*keys, WIDTH_KEY} if solved else set(keys))
        self.fields = [-1 if solved and k == WIDTH_KEY else keys.index(k) for k in names]
        items = ", ".join(f"{_escaped(k)}: {{{n}}}" for n, k in enumerate(names))
        self.format = "{{" + items + "}}"  # the object's own braces, doubled

    def texts(
        self, cols: list[Column], rows: NDArray[np.int64], width: list[int] | None
    ) -> list[str]:
        """The JSON of ``rows`` of the batch ``cols`` (``width``: the solved width of each)."""
        columns: list[list[str]] = []
        for k in self.fields:
            if k < 0:
                assert width is not None
                columns.append(list(map(str, width)))
                continue
            codes = cols[k].codes[rows].tolist()
            table = cols[k].table  # a float axis's table holds every draw: encode only these
            encoded = {c: SORTED_JSON.encode(table[c]) for c in set(codes)}
            columns.append([encoded[c] for c in codes])
        return list(map(self.format.format, *columns)) if columns else ["{}"] * len(rows)


def _escaped(key: str) -> str:
    """``key`` as JSON text, its braces doubled for str.format."""
    return SORTED_JSON.encode(key).replace("{", "{{").replace("}", "}}")


@dataclass
class Accepted:
    """The configs a batch kept: rows ``rows`` of the batch ``cols`` and their costs ``ev``.

    ``scalar`` holds, by row, the (spec, values) of rows settled by the per-config path; the
    other rows are described by their core, swept depths and solved width."""

    start: int  # index of the first config in the sweep
    first_draw: int  # the draw number of the batch's row 0
    cols: list[Column]
    rows: NDArray[np.int64]
    keys: list[str]
    ev: Evaluated
    scalar: dict[int, tuple[ArchSpec, dict[str, Any]]]
    stages: list[int]  # the swept depth stages, in the columns of ev.depths
    text: ConfigText
    make: SpecOf | None = None  # how a row's spec is made, where no core holds it (RegNet)

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[Config]:
        return iter(self.configs())

    def metrics(self) -> list[list[int]]:
        """(params, macs, acts) of each config."""
        picked = self.ev.totals[self.rows][:, [FIELDS.index(k) for k in METRICS]]
        return list(picked.tolist())

    def widths(self) -> list[int] | None:
        return None if self.ev.solved is None else list(self.ev.solved[self.rows].tolist())

    def configs(self) -> list[Config]:
        """One :class:`Config` per row."""
        names = [c.axis.key for c in self.cols]
        picked = [[c.table[k] for k in c.codes[self.rows].tolist()] for c in self.cols]
        solved = self.widths()
        widths: list[int | None] = [None] * len(self.rows) if solved is None else [*solved]
        depths = self.ev.depths[self.rows].tolist()
        cores = [self.ev.cores[u] for u in self.ev.core_of[self.rows].tolist()]
        out: list[Config] = []
        for j, (i, key, m) in enumerate(
            zip(self.rows.tolist(), self.keys, self.metrics(), strict=True)
        ):
            metrics, index = dict(zip(METRICS, m, strict=True)), self.start + j
            if i in self.scalar:
                spec, values = self.scalar[i]
                out.append(Config(index, values, metrics, key, built=spec))
                continue
            values, width = dict(zip(names, [p[j] for p in picked], strict=True)), widths[j]
            if width is not None:
                values[WIDTH_KEY] = width
            stages = tuple(zip(self.stages, depths[j], strict=True))
            out.append(Config(index, values, metrics, key, self.first_draw + i, cores[j], stages,
                              width, make=self.make))  # fmt: skip
        return out

    def records(self, sweep: str, now: float) -> list[tuple[Any, ...]]:
        """The batch as store records (``store.COLUMNS``), from the columns: no Config made."""
        rows, widths = self.rows.tolist(), self.widths()
        columnar = [j for j, i in enumerate(rows) if i not in self.scalar]
        picked = None if widths is None else [widths[j] for j in columnar]
        texts = self.text.texts(self.cols, self.rows[columnar], picked)
        if len(columnar) < len(rows):  # rows the per-config path settled: their own values
            made = iter(texts)
            texts = [SORTED_JSON.encode(self.scalar[i][1]) if i in self.scalar else next(made)
                     for i in rows]  # fmt: skip
        indices = range(self.start, self.start + len(self.keys))
        records = zip(self.keys, indices, texts, self.metrics(), strict=True)
        return [(key, sweep, index, text, *m, None, now) for key, index, text, m in records]

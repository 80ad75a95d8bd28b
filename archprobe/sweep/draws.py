"""Axis values in batches: grid (every combination, in order), zip, or random draws.

A batch is one numpy column per axis, so the sweep's evaluation (``sweep/vector.py``) groups and
costs thousands of configs per step and memory never grows with the sweep's size. Random draws
come from one numpy generator per axis, spawned from the sweep's seed: the sample is fixed by the
seed whatever the batch size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from archprobe.errors import SpecError
from archprobe.sweep.spec import Axis, SweepSpec

MAX_GRID = 100_000_000  # a bigger grid is refused with its count, never silently cut short


@dataclass(frozen=True)
class Column:
    """One axis over a batch: ``codes`` index ``table`` (a list axis), or ``values`` (a sampler)."""

    axis: Axis
    values: NDArray[Any]  # int64, float64, or object (values of a list axis that are not numbers)
    codes: NDArray[np.int64]  # the value's index among the batch's (or the axis') distinct values
    table: tuple[Any, ...]  # the distinct values codes index

    def python(self) -> list[Any]:
        """The batch's values as Python objects (ints, floats, strings, mappings)."""
        return [self.table[c] for c in self.codes.tolist()]


def _typed(values: tuple[Any, ...]) -> NDArray[Any]:
    """A list axis' values as int64 or float64 when they all are such numbers, else objects."""
    if values and all(type(v) is int for v in values):
        return np.array(values, dtype=np.int64)
    if values and all(type(v) is float for v in values):
        return np.array(values, dtype=np.float64)
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _listed(axis: Axis, codes: NDArray[np.int64]) -> Column:
    table = axis.values or ()
    return Column(axis, _typed(table)[codes], codes, table)


def _sampled(axis: Axis, values: NDArray[Any]) -> Column:
    distinct, codes = np.unique(values, return_inverse=True)
    return Column(axis, values, codes.astype(np.int64), tuple(distinct.tolist()))


def row_ids(cols: list[Column]) -> NDArray[np.int64] | None:
    """An exact int64 identity of each row's values, the same in every batch (equal ids: equal
    values): mixed-radix codes of the listed axes' indices and the integer samplers' offsets.
    None where a column has no such code (a float sampler) or the combinations pass 2⁶²."""
    ids = np.zeros(len(cols[0].codes) if cols else 0, dtype=np.int64)
    radix = 1
    for c in cols:
        s = c.axis.sampler
        if s is None:
            code, size = c.codes, max(len(c.axis.values or ()), 1)
        elif s.kind == "int":
            low = math.floor(s.low)
            code, size = c.values - low, math.ceil(s.high) - low + 1
            if len(code) and (int(code.min()) < 0 or int(code.max()) >= size):
                return None
        else:
            return None
        if radix * size >= 1 << 62:
            return None
        ids, radix = ids * size + code, radix * size
    return ids


def grid_size(sweep: SweepSpec) -> int:
    """Configs of a grid or zip sweep; random sweeps: ``n``."""
    if sweep.mode == "grid":
        return math.prod(len(a.values or ()) for a in sweep.axes)
    if sweep.mode == "zip":
        return len(sweep.axes[0].values or ()) if sweep.axes else 0
    return sweep.n or 0


def check_size(sweep: SweepSpec) -> None:
    """Refuse a grid too large to run, saying how large it is.

    Raises:
        SpecError: located at ``axes``.
    """
    if sweep.mode == "grid" and (count := grid_size(sweep)) > MAX_GRID:
        sizes = " x ".join(str(len(a.values or ())) for a in sweep.axes)
        raise SpecError(
            f"the grid has {sizes} = {count:,} configs, more than the {MAX_GRID:,} a sweep "
            "runs; use mode: random with n, or fewer values per axis",
            sweep.loc("axes"),
            "axes",
        )


def batches(sweep: SweepSpec, size: int | Callable[[], int]) -> Iterator[list[Column]]:
    """Batches of configs in sweep order, each of at most ``size`` (or of ``size()``, asked
    anew for each batch); random mode never ends. A random stream is the same however it is cut
    into batches (numpy's generators draw in sequence)."""
    check_size(sweep)
    sized = size if callable(size) else lambda: size
    if sweep.mode == "random":
        seeds = np.random.SeedSequence(sweep.seed).spawn(len(sweep.axes))
        gens = [np.random.Generator(np.random.PCG64(s)) for s in seeds]
        while True:
            n = sized()
            yield [_random_column(a, g, n) for a, g in zip(sweep.axes, gens, strict=True)]
    total = grid_size(sweep)
    shape = tuple(len(a.values or ()) for a in sweep.axes)
    start = 0
    while start < total:
        flat = np.arange(start, min(start + sized(), total), dtype=np.int64)
        start += len(flat)
        if sweep.mode == "grid":
            index = np.unravel_index(flat, shape)
            yield [_listed(a, i.astype(np.int64)) for a, i in zip(sweep.axes, index, strict=True)]
        else:
            yield [_listed(a, flat) for a in sweep.axes]


def _random_column(axis: Axis, gen: np.random.Generator, size: int) -> Column:
    if axis.sampler is not None:
        return _sampled(axis, axis.sampler.draw(gen, size))
    count = len(axis.values or ())
    codes = np.minimum((gen.random(size) * count).astype(np.int64), count - 1)
    return _listed(axis, codes)

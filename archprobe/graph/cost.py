"""The additive, per-sample cost of an op or a scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

Shape = tuple[int, int, int]
"""Per-sample tensor shape (channels, height, width); a vector is (features, 1, 1)."""


def some(cond: object) -> bool:
    """Whether ``cond`` holds anywhere: a bool, or a numpy array of them when a sweep evaluates
    many configs at once with arrays as the ops' hyper-parameters (``sweep/stacked.py``)."""
    if cond.__class__ is bool:  # the per-config walk's case: no attribute lookup
        return cond
    return bool(cond.any())  # type: ignore[attr-defined]


def branch(cond: object) -> bool:
    """A condition a graph's *structure* depends on (whether a block has a projection): a bool,
    or an array of equal bools where a sweep expands many blocks of one structure at once
    (``sweep/stacked.py``). ValueError where the entries differ: those blocks are expanded one
    by one."""
    if cond.__class__ is bool:
        return cond
    first = bool(cond.flat[0])  # type: ignore[attr-defined]
    if some(cond != first):
        raise ValueError("a structural condition differs between stacked blocks")
    return first


def rounded(x: float) -> int:
    """``round(x)`` (half to even) as an integer; elementwise, to int64, on an array."""
    if isinstance(x, float | int):
        return round(x)
    return x.round().astype("int64")  # an ndarray (typed as float for the scalar callers)


def differ(a: Shape, b: Shape) -> bool:
    """Whether two shapes differ (in any config, where their sizes are arrays)."""
    try:
        return a != b  # plain tuples of ints: one comparison
    except ValueError:  # an array's truth is ambiguous: compare size by size
        return len(a) != len(b) or any(some(p != q) for p, q in zip(a, b, strict=True))


def numel(shape: Shape) -> int:
    c, h, w = shape
    return c * h * w


class Cost(NamedTuple):
    """Cost of one forward pass of one sample. Counts are elements, not bytes.

    A NamedTuple (immutable, cheap to create: an analysis makes one per op) whose ``+`` adds
    element-wise.

    Attributes:
        params: learnable elements (conv/linear weights and biases, BN affine).
        buffers: non-learnable state elements (BN running mean/var and num_batches_tracked).
        macs: multiply-accumulates; 1 MAC = 1 multiply + 1 add (the papers' "FLOPs").
        acts: output elements of conv and linear ops (the fvcore/timm "activations" convention).
        read: elements read from memory (inputs and weights), ShuffleNet V2's MAC term.
        written: elements written to memory (outputs).
    """

    params: int = 0
    buffers: int = 0
    macs: int = 0
    acts: int = 0
    read: int = 0
    written: int = 0

    def __add__(self, other: Cost) -> Cost:  # type: ignore[override]  # elementwise, not concat
        return Cost(
            self.params + other.params,
            self.buffers + other.buffers,
            self.macs + other.macs,
            self.acts + other.acts,
            self.read + other.read,
            self.written + other.written,
        )

    @staticmethod
    def total(costs: Iterable[Cost]) -> Cost:
        """The sum of ``costs``, field by field in one pass (faster than chained ``+``)."""
        return Cost(*map(sum, zip(*costs, strict=True)))  # no costs: zip() is empty, Cost()

    def times(self, n: int) -> Cost:
        """``n`` copies summed (a stage's repeated blocks), in one step instead of n additions."""
        return Cost(*(n * v for v in self))

"""Statistics of timed rounds (torch-free): spread, the noisy flag, warm-up detection, and the
bootstrap confidence interval of a paired ratio.

Why these choices:

- **Median and IQR, never a mean** (DESIGN §7.8): one page fault or clock change moves a mean.
- **Noisy** when IQR / median > :data:`NOISY_IQR`: 10 %, the threshold at which
  ``torch.utils.benchmark.Measurement`` warns "This suggests significant environmental
  influence" (``torch/utils/benchmark/utils/common.py``, ``_IQR_WARN_THRESHOLD = 0.1``).
- **Warm-up until stable** (pyperf's calibration runs warm-ups before the values it keeps):
  the last :data:`WARM_WINDOW` samples' median must be within :data:`WARM_TOLERANCE` of the
  window before it, and the newest window may not be faster than the one before by more than
  that (a model still speeding up is not warm).
- **Paired ratios**: in round ``r`` every model runs once, in shuffled order, so a slow spell
  of the machine (another process, a clock change) hits all models of that round. The per-round
  ratio ``t_base[r] / t_model[r]`` cancels it; the estimate is the median of those ratios and
  its 95 % interval is the percentile bootstrap over rounds (Efron & Tibshirani 1993, ch. 13),
  resampling whole rounds so the pairing is kept.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

NOISY_IQR = 0.10
"""IQR / median above which a row is marked ``noisy`` (torch.utils.benchmark's threshold)."""
WARM_WINDOW = 3
"""Samples per window of the warm-up test (two windows are compared)."""
WARM_TOLERANCE = 0.05
"""Relative change between the two windows' medians that still counts as stable."""
CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(25th, 50th, 75th) percentiles, linearly interpolated (numpy's default method)."""
    if not values:
        return math.nan, math.nan, math.nan
    ordered = sorted(values)

    def at(q: float) -> float:
        pos = q * (len(ordered) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(ordered) - 1)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)

    return at(0.25), at(0.5), at(0.75)


def iqr(values: Sequence[float]) -> float:
    p25, _, p75 = quartiles(values)
    return p75 - p25


def is_noisy(values: Sequence[float], threshold: float = NOISY_IQR) -> bool:
    """Whether the samples' IQR exceeds ``threshold`` of their median."""
    _, median, _ = quartiles(values)
    return bool(median > 0 and iqr(values) / median > threshold)


def is_warm(
    samples: Sequence[float], window: int = WARM_WINDOW, tolerance: float = WARM_TOLERANCE
) -> bool:
    """Whether the last ``window`` samples have settled: their median is within ``tolerance``
    of the median of the ``window`` samples before them."""
    if len(samples) < 2 * window:
        return False
    recent = statistics.median(samples[-window:])
    before = statistics.median(samples[-2 * window : -window])
    return abs(recent - before) <= tolerance * before


@dataclass(frozen=True)
class Interval:
    """A point estimate and its confidence interval."""

    estimate: float
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    @property
    def significant(self) -> bool:
        """False when the interval contains 1: "no significant difference" for a ratio."""
        return not self.contains(1.0)


NAN_INTERVAL = Interval(math.nan, math.nan, math.nan)


def paired_ratio(
    base: Sequence[float],
    other: Sequence[float],
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> Interval:
    """Median of the per-round ratios ``base[r] / other[r]`` and its percentile-bootstrap
    interval (rounds resampled with replacement; a fixed ``seed`` makes it reproducible).

    With times as inputs this is the throughput ratio of ``other`` to ``base`` (> 1: faster).
    """
    if len(base) != len(other):
        raise ValueError(f"paired samples differ in length: {len(base)} vs {len(other)}")
    ratios = [b / o for b, o in zip(base, other, strict=True) if o > 0]
    if not ratios:
        return NAN_INTERVAL
    rng = random.Random(seed)
    stats = [statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(resamples)]
    return _percentiles(statistics.median(ratios), stats, confidence)


def _percentiles(estimate: float, stats: list[float], confidence: float) -> Interval:
    """The percentile interval of bootstrap statistics around ``estimate``."""
    stats = sorted(stats)
    tail = (1 - confidence) / 2
    low = stats[max(0, math.floor(tail * len(stats)))]
    high = stats[min(len(stats) - 1, math.ceil((1 - tail) * len(stats)) - 1)]
    return Interval(estimate, low, high)


def independent_ratio(
    base: Sequence[float],
    other: Sequence[float],
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> Interval:
    """``median(base) / median(other)`` and its bootstrap interval, each sample resampled on
    its own: for rows that were not timed in the same rounds (no pairs to keep)."""
    if not base or not other:
        return NAN_INTERVAL
    rng = random.Random(seed)
    stats = [
        statistics.median(rng.choices(base, k=len(base)))
        / statistics.median(rng.choices(other, k=len(other)))
        for _ in range(resamples)
    ]
    return _percentiles(statistics.median(base) / statistics.median(other), stats, confidence)

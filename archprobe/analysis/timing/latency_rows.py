"""Measured latency rows and their ratios to a baseline (torch-free plain data).

A row is one (model, batch size): the median and IQR of its per-call times over the timed
rounds (``rounds.run_rounds``), and the samples themselves, so a ratio to the baseline can be
computed from the rounds both were timed in (``stats.paired_ratio``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from archprobe.analysis.results import Entry, Results
from archprobe.analysis.timing.stats import (
    NOISY_IQR,
    Interval,
    independent_ratio,
    is_noisy,
    paired_ratio,
)


@dataclass(frozen=True)
class LatencyRow:
    """One (model, batch size) measurement. Times are seconds per forward pass of the batch.

    Attributes:
        median_s: median seconds per call; NaN unless ``status == "ok"``.
        iqr_s: interquartile range of the per-round times, seconds.
        throughput: images per second, ``batch / median_s``.
        status: "ok", "oom", "too large: …" (refused before allocating) or "error: <message>".
        env: what the number depends on (``env.measurement_env``), plus the rounds, calls per
            sample and whether warm-up settled (``warm``).
        samples: seconds per call, one per timed round (round r of every row of one
            measurement is the same round, so two rows' samples pair up).
    """

    model: str
    batch: int
    median_s: float
    iqr_s: float
    throughput: float
    status: str
    env: Mapping[str, Any]
    samples: tuple[float, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def noisy(self) -> bool:
        """IQR / median above ``stats.NOISY_IQR`` (10 %): read the median with care."""
        if self.samples:
            return is_noisy(self.samples)
        return self.ok and self.iqr_s / self.median_s > NOISY_IQR

    @property
    def flags(self) -> list[str]:
        """Warnings about an ok row: "noisy" and "warm-up unsettled"."""
        if not self.ok:
            return []
        unsettled = self.env.get("warm") is False
        return ["noisy"] * self.noisy + ["warm-up unsettled"] * unsettled

    @property
    def throughput_iqr(self) -> float:
        """IQR of the throughput, to first order: ``batch · iqr / median²``."""
        return self.batch * self.iqr_s / self.median_s**2 if self.ok else math.nan

    def to_entry(self) -> Entry:
        """The row as a result ``Entry`` (method "measured", whole model)."""
        values = {"latency_s": self.median_s, "latency_iqr_s": self.iqr_s}
        values["throughput"] = self.throughput
        env = {**self.env, "status": self.status, "noisy": self.noisy}
        return Entry(self.model, "", "", "measured", values, env)


def to_entries(rows: Sequence[LatencyRow]) -> list[Entry]:
    """Rows as Results entries; failed rows keep NaN values and their status in ``env``."""
    return [r.to_entry() for r in rows]


@dataclass(frozen=True)
class Ratio:
    """Throughput of ``model`` over ``baseline`` at one batch size (> 1: faster), with its 95 %
    bootstrap interval ``[low, high]`` (NaN where a row failed or has no samples)."""

    model: str
    baseline: str
    batch: int
    ratio: float
    low: float
    high: float
    paired: bool = True

    @property
    def significant(self) -> bool:
        """Whether the interval excludes 1 (NaN interval: not significant)."""
        return not (self.low <= 1.0 <= self.high) and not math.isnan(self.low)

    @property
    def verdict(self) -> str:
        if math.isnan(self.ratio):
            return "—"
        if math.isnan(self.low):
            return "no interval"
        if not self.significant:
            return "no significant difference"
        return "faster" if self.ratio > 1 else "slower"


def ratio_of(row: LatencyRow, base: LatencyRow) -> Ratio:
    """``row``'s throughput over ``base``'s: from paired rounds when both were timed in the
    same rounds (equal sample counts), else from each row's samples on its own."""
    if not (row.ok and base.ok):
        return Ratio(row.model, base.model, row.batch, math.nan, math.nan, math.nan)
    paired = bool(row.samples) and len(row.samples) == len(base.samples)
    if paired:
        ci = paired_ratio(base.samples, row.samples)
    elif row.samples and base.samples:
        ci = independent_ratio(base.samples, row.samples)
    else:
        ci = Interval(base.median_s / row.median_s, math.nan, math.nan)
    return Ratio(row.model, base.model, row.batch, ci.estimate, ci.low, ci.high, paired)


def throughput_ratios(rows: Sequence[LatencyRow], baseline: str | None = None) -> list[Ratio]:
    """Throughput ratio (with its interval) of every model to the baseline (default: the
    first row's model), per batch size."""
    if not rows:
        return []
    base = baseline or rows[0].model
    by_key = {(r.model, r.batch): r for r in rows}
    out = []
    for r in rows:
        b = by_key.get((base, r.batch))
        if r.model != base and b is not None:
            out.append(ratio_of(r, b))
    return out


@dataclass(frozen=True)
class LatencyReport:
    """The measured rows of every model of a comparison, and their ratios to the baseline."""

    rows: tuple[LatencyRow, ...]
    ratios: tuple[Ratio, ...]

    @classmethod
    def of(cls, rows: Sequence[LatencyRow], baseline: str) -> LatencyReport:
        return cls(tuple(rows), tuple(throughput_ratios(rows, baseline)))

    def to_results(self) -> Results:
        """The rows (:func:`to_entries`), each but the baseline's with its
        ``throughput_ratio`` and interval ``throughput_ratio_low`` / ``_high`` (NaN where a
        row failed), ``env["baseline"]`` and ``env["verdict"]``."""
        ratios = {(r.model, r.batch): r for r in self.ratios}
        out = []
        for e, row in zip(to_entries(self.rows), self.rows, strict=True):
            ratio = ratios.get((row.model, row.batch))
            if ratio is not None:
                values = {"throughput_ratio": ratio.ratio, "throughput_ratio_low": ratio.low,
                          "throughput_ratio_high": ratio.high}  # fmt: skip
                env = {**e.env, "baseline": ratio.baseline, "verdict": ratio.verdict}
                e = e._replace(values={**e.values, **values}, env=env)
            out.append(e)
        return Results(out)

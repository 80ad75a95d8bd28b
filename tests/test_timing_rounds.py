"""Timing as an experiment, with injected timings (the timer is a parameter): warm-up detection,
calibration, shuffled interleaving, the noisy flag and the paired bootstrap. No clock is read."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence

import pytest

from archprobe.analysis.timing.latency import Target, measure_latencies
from archprobe.analysis.timing.latency_rows import throughput_ratios
from archprobe.analysis.timing.rounds import Plan, Subject, TimeFn, run_rounds
from archprobe.analysis.timing.stats import (
    NOISY_IQR,
    independent_ratio,
    is_noisy,
    is_warm,
    paired_ratio,
    quartiles,
)
from archprobe.errors import ArchprobeError


def scripted(per_call: dict[str, Iterator[float]], calls: list[str] | None = None) -> TimeFn:
    """A timer that returns the next scripted per-call time of each subject, times ``number``
    (and records who was called, in order)."""

    def timer(subject: Subject, number: int) -> float:
        if calls is not None:
            calls.append(subject.name)
        return next(per_call[subject.name]) * number

    return timer


def subjects(*names: str) -> list[Subject]:
    return [Subject(n, lambda number: None) for n in names]


def then_flat(start: Sequence[float], flat: float) -> Iterator[float]:
    yield from start
    while True:
        yield flat


def test_warm_up_runs_until_the_times_settle_then_the_rounds_keep_only_later_samples() -> None:
    # windows of 3: [10, 8, 6] vs [5, 5, 5] is not settled, nor [8, 6, 5]; [6, 5, 5] is (5 vs 5)
    timer = scripted({"a": then_flat([10, 8, 6, 5, 5, 5, 5, 5], 5.0)})
    (t,) = run_rounds(subjects("a"), Plan(min_time=1.0, min_rounds=4, sample_s=1.0), timer)
    assert t.warm and t.warmup == [10, 8, 6, 5, 5, 5, 5, 5]
    assert t.number == 1 and t.samples == [5.0] * 4  # 4 rounds: min_rounds, and 4 s >= 1 s
    assert is_warm([1, 1, 1, 1.04, 1.04, 1.04]) and not is_warm([1, 1, 1, 1.2, 1.2, 1.2])
    assert not is_warm([1, 1, 1, 1, 1])  # fewer than two windows


def test_a_subject_that_never_settles_is_flagged_after_max_warmup() -> None:
    growing = (1.0 * 1.1**i for i in range(10_000))
    (t,) = run_rounds(subjects("a"), Plan(min_time=1e-3, min_rounds=2, max_warmup=7),
                      scripted({"a": growing}))  # fmt: skip
    assert not t.warm and len(t.warmup) == 7 and len(t.samples) == 2


def test_calls_per_sample_are_calibrated_from_the_fastest_warm_up_call() -> None:
    timer = scripted({"fast": then_flat([], 1e-3), "slow": then_flat([], 0.05)})
    fast, slow = run_rounds(subjects("fast", "slow"), Plan(min_time=0.1, sample_s=0.01), timer)
    assert (fast.number, slow.number) == (10, 1)
    # rounds stop once both have 0.1 s of samples: slow after 2, but min_rounds is 10;
    # fast needs 0.1 / (10 · 1 ms) = 10 rounds
    assert len(fast.samples) == len(slow.samples) == 10


def test_rounds_are_interleaved_in_shuffled_order() -> None:
    calls: list[str] = []
    timer = scripted({n: then_flat([], 1.0) for n in "abc"}, calls)
    run_rounds(subjects("a", "b", "c"), Plan(min_time=1e-3, min_rounds=20, sample_s=0), timer)
    rounds = [tuple(calls[i : i + 3]) for i in range(len(calls) - 60, len(calls), 3)]
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds)  # every model once per round
    firsts = {r[0] for r in rounds}
    assert firsts == {"a", "b", "c"}  # no model is always first


@pytest.mark.parametrize("min_time", [math.inf, math.nan, 0.0, -1.0, 1e6])
def test_min_time_must_be_finite_and_bounded(min_time: float) -> None:
    with pytest.raises(ArchprobeError, match="min_time"):
        Plan(min_time=min_time)


def test_a_failing_subject_stops_and_the_others_go_on() -> None:
    def timer(subject: Subject, number: int) -> float:
        if subject.name == "bad":
            raise RuntimeError("CUDA out of memory")
        return 1.0 * number

    good, bad = run_rounds(subjects("good", "bad"), Plan(min_time=1e-3, min_rounds=3), timer)
    assert len(good.samples) == 3 and bad.samples == [] and "out of memory" in str(bad.error)


def test_noisy_flag_at_the_documented_threshold() -> None:
    assert NOISY_IQR == 0.10
    assert quartiles([1, 2, 3, 4, 5]) == (2, 3, 4)
    assert is_noisy([0.8, 0.9, 1.0, 1.1, 1.2])  # IQR 0.2 of median 1.0
    assert not is_noisy([0.96, 0.98, 1.0, 1.02, 1.04])  # IQR 0.04


def test_paired_bootstrap_cancels_a_slow_spell_that_hits_both_models() -> None:
    rng = random.Random(1)
    spell = [rng.choice([1.0, 1.0, 3.0]) * rng.uniform(0.95, 1.05) for _ in range(30)]
    base = [s * 2.0 * rng.uniform(0.99, 1.01) for s in spell]
    other = [s * 1.0 * rng.uniform(0.99, 1.01) for s in spell]
    paired = paired_ratio(base, other)
    assert paired.contains(2.0) and paired.significant and paired.high - paired.low < 0.1
    unpaired = independent_ratio(base, other)
    assert unpaired.high - unpaired.low > 2 * (paired.high - paired.low)
    assert paired_ratio(base, other) == paired  # seeded: reproducible


def test_twins_with_independent_noise_are_not_significant_in_most_runs() -> None:
    found = []
    for seed in range(40):
        rng = random.Random(seed)
        a = [rng.lognormvariate(0, 0.1) for _ in range(25)]
        b = [rng.lognormvariate(0, 0.1) for _ in range(25)]
        found.append(paired_ratio(a, b, seed=seed).contains(1.0))
    assert sum(found) >= 34  # 95% by design: at least 85% of 40 draws


def test_measured_rows_carry_the_injected_samples_and_pair_by_round() -> None:
    timer = scripted({"a": then_flat([], 2e-3), "b": then_flat([], 4e-3)})
    rows = measure_latencies([Target("resnet20", name="a"), Target("resnet20", name="b")], [1],
                             "cpu", min_run_time=0.01, timer=timer, min_rounds=5)  # fmt: skip
    a, b = rows
    assert (a.median_s, b.median_s) == pytest.approx((2e-3, 4e-3)) and a.iqr_s == 0
    assert a.env["rounds"] == b.env["rounds"] == len(a.samples) >= 5 and a.env["warm"]
    (ratio,) = throughput_ratios(rows)
    assert ratio.paired and (ratio.ratio, ratio.low, ratio.high) == pytest.approx((0.5,) * 3)
    with pytest.raises(ArchprobeError, match="its own name"):
        measure_latencies(["resnet20", "resnet20"], [1], "cpu", timer=timer)

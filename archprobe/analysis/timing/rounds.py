"""Timing as an experiment (torch-free): every model timed in interleaved, shuffled rounds.

Anchors: pyperf (calibrate the loop count, warm up before keeping values, warn when unstable),
Google Benchmark (repetitions and their aggregates), ``torch.utils.benchmark`` (blocked timing,
IQR warnings). The steps, for one batch size and a set of models:

1. **Warm-up**, interleaved: one call of each model per round, in shuffled order, until every
   model's per-call times have settled (:func:`stats.is_warm`) or :attr:`Plan.max_warmup`
   rounds have run (then the row says it never settled).
2. **Calibrate**: each model's calls per sample (``number``) so that one sample lasts at least
   :attr:`Plan.sample_s` (timer resolution and overhead become negligible), from its fastest
   warm-up call.
3. **Rounds**: in each round every model takes one sample, in a freshly shuffled order (no model
   is always first: the order effect becomes noise shared by all instead of one model's bias),
   until every model has :attr:`Plan.min_time` seconds of samples and at least
   :attr:`Plan.min_rounds` rounds ran, at most :attr:`Plan.max_rounds`.

The timer is a parameter (:data:`TimeFn`): tests inject scripted times; the default
(:func:`wall_timer`) is ``time.perf_counter`` around the calls, with a device synchronisation
before and after (what ``torch.utils.benchmark.Timer`` does on CUDA).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from archprobe.analysis.timing.stats import is_warm
from archprobe.errors import ArchprobeError

RoundProgress = Callable[[str], None]
MAX_MIN_TIME = 600.0
"""The largest ``min_time`` accepted (seconds per model and batch): a finite, bounded run."""


@dataclass
class Subject:
    """One model to time: ``run(number)`` makes ``number`` calls (and synchronises the device
    after the last, so the time covers the work, not its launch)."""

    name: str
    run: Callable[[int], object]
    sync: Callable[[], object] = field(default=lambda: None)


TimeFn = Callable[[Subject, int], float]
"""``timer(subject, number)``: seconds that ``number`` calls of the subject took."""


def wall_timer(clock: Callable[[], float] = time.perf_counter) -> TimeFn:
    """The real timer: ``clock`` read around ``subject.run(number)``, synchronised on both sides."""

    def timer(subject: Subject, number: int) -> float:
        subject.sync()
        start = clock()
        subject.run(number)
        subject.sync()
        return clock() - start

    return timer


@dataclass(frozen=True)
class Plan:
    """How long to time (seconds) and how many rounds, at least and at most."""

    min_time: float = 0.5
    min_rounds: int = 10
    max_rounds: int = 200
    max_warmup: int = 30
    sample_s: float = 0.01
    seed: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min_time) and 0 < self.min_time <= MAX_MIN_TIME):
            raise ArchprobeError(
                f"min_time {self.min_time!r}: expected seconds in (0, {MAX_MIN_TIME:g}]"
            )
        if not 2 <= self.min_rounds <= self.max_rounds:
            raise ArchprobeError(
                f"rounds: expected 2 <= min_rounds ({self.min_rounds}) <= "
                f"max_rounds ({self.max_rounds})"
            )


@dataclass
class Timed:
    """What the rounds found for one subject.

    Attributes:
        samples: seconds per call, one per timed round (index r = round r for every subject
            that did not fail, so samples of two subjects pair up).
        warmup: per-call seconds of the warm-up calls.
        warm: whether the warm-up settled before ``max_warmup`` rounds.
        number: calls per timed sample.
        error: the exception that stopped this subject, if any.
    """

    name: str
    samples: list[float] = field(default_factory=list)
    warmup: list[float] = field(default_factory=list)
    warm: bool = False
    number: int = 1
    error: RuntimeError | None = None


def _try(timed: Timed, timer: TimeFn, subject: Subject, number: int) -> float | None:
    """``timer(subject, number)``, or None after recording the error that stopped it."""
    try:
        return timer(subject, number)
    except RuntimeError as exc:  # OOM and kernel errors: this subject stops, the others go on
        timed.error = exc
        return None


def _warm_up(
    subjects: Sequence[Subject], out: dict[str, Timed], timer: TimeFn, plan: Plan,
    rng: random.Random, progress: RoundProgress,
) -> None:  # fmt: skip
    for r in range(plan.max_warmup):
        live = [s for s in subjects if out[s.name].error is None and not out[s.name].warm]
        if not live:
            return
        progress(f"warm-up round {r + 1}")
        for s in rng.sample(live, len(live)):
            t = out[s.name]
            seconds = _try(t, timer, s, 1)
            if seconds is not None:
                t.warmup.append(seconds)
                t.warm = is_warm(t.warmup)


def _enough(out: Sequence[Timed], rounds: int, plan: Plan) -> bool:
    if rounds >= plan.max_rounds:
        return True
    timed = [t for t in out if t.error is None]
    long_enough = all(sum(t.samples) * t.number >= plan.min_time for t in timed)
    return rounds >= plan.min_rounds and long_enough


def run_rounds(
    subjects: Sequence[Subject],
    plan: Plan | None = None,
    timer: TimeFn | None = None,
    progress: RoundProgress | None = None,
) -> list[Timed]:
    """Warm up, calibrate and time ``subjects`` in interleaved shuffled rounds (module doc)."""
    plan = plan or Plan()
    timer = timer or wall_timer()
    report = progress or (lambda description: None)
    rng = random.Random(plan.seed)
    out = {s.name: Timed(s.name) for s in subjects}
    if len(out) != len(subjects):
        raise ArchprobeError("every timed model needs its own name")
    _warm_up(subjects, out, timer, plan, rng, report)
    for t in out.values():
        fastest = min(t.warmup, default=math.inf)
        t.number = max(1, math.ceil(plan.sample_s / fastest)) if fastest > 0 else 1
    rounds = 0
    while not _enough(list(out.values()), rounds, plan):
        live = [s for s in subjects if out[s.name].error is None]
        if not live:
            break
        rounds += 1
        report(f"round {rounds} (at least {plan.min_rounds})")
        for s in rng.sample(live, len(live)):
            t = out[s.name]
            seconds = _try(t, timer, s, t.number)
            if seconds is not None:
                t.samples.append(seconds / t.number)
    return [out[s.name] for s in subjects]

"""Acceptance of the timing method with the real clock (issue 17), fast: ResNet-20 at 32×32.

- Two identical models (one spec under two names): the 95 % interval of their throughput ratio
  contains 1. By design it misses 1 in 5 % of runs, so the test allows one miss in 3 runs.
- The same model made 2× slower on purpose (its forward runs the network twice): the interval
  excludes 1 and contains 0.5 (throughput; latency ratio 2) within ``TOLERANCE``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from archprobe.analysis.timing.latency import Target, measure_latencies, prepare_model
from archprobe.analysis.timing.latency_rows import Ratio, throughput_ratios
from archprobe.spec import load_spec

QUICK: dict[str, Any] = {"min_run_time": 0.15, "min_rounds": 15, "max_warmup": 12}
TOLERANCE = 0.15
"""Relative: the slowed model's ratio interval must reach within 15 % of 0.5 (a wrapper call and
the input stay shared, so "twice the work" is slightly less than twice the time)."""


class Twice(nn.Module):
    """Runs ``inner`` twice per call: the same network, made 2× slower on purpose."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> Any:
        self.inner(x)
        return self.inner(x)


def ratio(targets: list[Target], seed: int) -> Ratio:
    rows = measure_latencies(targets, [1], "cpu", threads=1, seed=seed, **QUICK)
    assert all(r.ok for r in rows)
    (found,) = throughput_ratios(rows)
    return found


def test_identical_twins_have_an_interval_that_contains_one() -> None:
    spec = load_spec("resnet20")
    twins = [Target(spec, name="resnet20"), Target(spec, name="twin")]
    found = [ratio(twins, seed) for seed in range(3)]
    assert sum(r.low <= 1.0 <= r.high for r in found) >= 2, found
    assert all(0.5 < r.ratio < 2.0 for r in found), found


def test_a_model_made_twice_as_slow_is_significant_and_near_half_the_throughput() -> None:
    spec = load_spec("resnet20")
    slow = Twice(prepare_model(spec, torch.device("cpu"), False))
    targets = [Target(spec, name="resnet20"), Target(slow, sample_shape=(3, 32, 32), name="slow")]
    r = ratio(targets, 0)
    assert r.significant and r.high < 1.0, r
    assert r.low <= 0.5 * (1 + TOLERANCE) and r.high >= 0.5 * (1 - TOLERANCE), r

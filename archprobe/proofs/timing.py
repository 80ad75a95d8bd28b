"""Forward latency of equal-cost forms: median and IQR of interleaved, shuffled rounds, never a
mean (DESIGN §7.8). CPU always; CUDA when present.

The forms are timed together (``analysis.timing.rounds.run_rounds``: warm-up until stable, then
every form once per round in shuffled order), so none of them is favoured by going first or
penalised by a slow spell of the machine that only it ran through.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from archprobe.analysis.timing.env import cpu_threads, intra_op_threads
from archprobe.analysis.timing.rounds import Plan, Subject, run_rounds
from archprobe.analysis.timing.stats import iqr
from archprobe.graph.cost import Shape
from archprobe.proofs.results import Timing

MIN_BLOCKS = 5
"""Fewest timed rounds per form and device, so the IQR means something."""


@dataclass(frozen=True)
class TimingPlan:
    """How to time forms.

    Attributes:
        batch: images per forward.
        devices: ``cpu`` and/or ``cuda``; None for CPU, plus CUDA when present.
        min_run_time: seconds of timed rounds per form and device, at least.
        progress: called with a description as the rounds go (the CLI's progress bar).
    """

    batch: int = 1
    devices: tuple[str, ...] | None = None
    min_run_time: float = 0.2
    progress: Callable[[str], None] | None = None

    def resolved_devices(self) -> tuple[str, ...]:
        if self.devices is not None:
            return self.devices
        return ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)


def _subject(key: str, module: nn.Module, x: torch.Tensor) -> Subject:
    @torch.inference_mode()
    def run(number: int) -> None:
        for _ in range(number):
            module(x)

    sync = (lambda: torch.cuda.synchronize(x.device)) if x.is_cuda else (lambda: None)
    return Subject(key, run, sync)


def _prefixed(report: Callable[[str], None], device: str) -> Callable[[str], None]:
    return lambda description: report(f"{device}: {description}")


def time_forms(
    modules: Mapping[str, nn.Module], in_shape: Shape, plan: TimingPlan
) -> tuple[Timing, ...]:
    """Time each module's forward (float32, eval, inference mode) on each device of ``plan``,
    all forms of a device in the same rounds; the modules are converted to float32 in place
    and moved back to the CPU afterwards."""
    found = []
    batch = plan.batch
    rounds = Plan(min_time=plan.min_run_time, min_rounds=MIN_BLOCKS)
    report = plan.progress or (lambda description: None)
    for device in plan.resolved_devices():
        threads = cpu_threads(None) if device == "cpu" else torch.get_num_threads()
        x = torch.randn((batch, *in_shape), device=device)
        subjects = [_subject(k, m.float().eval().to(device), x) for k, m in modules.items()]
        with intra_op_threads(threads):
            timed = run_rounds(subjects, rounds, progress=_prefixed(report, device))
        for t in timed:
            if t.error is not None:
                raise t.error
            found.append(Timing(t.name, device, statistics.median(t.samples), iqr(t.samples),
                                len(t.samples), batch, threads))  # fmt: skip
        for m in modules.values():
            m.to("cpu")
    return tuple(found)

"""Forward latency of equal-cost forms: ``torch.utils.benchmark`` median and IQR, never a mean
(DESIGN §7.8). CPU always; CUDA when present."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.benchmark import Measurement, Timer

from archprobe.graph.cost import Shape
from archprobe.proofs.results import Timing

MIN_BLOCKS = 5
"""blocked_autorange gives one block when a forward outlasts ``min_run_time`` (form (a) on a
busy CPU); more blocks are timed until there are this many, so the IQR means something."""


@dataclass(frozen=True)
class TimingPlan:
    """How to time forms.

    Attributes:
        batch: images per forward.
        devices: ``cpu`` and/or ``cuda``; None for CPU, plus CUDA when present.
        min_run_time: seconds of measurement per form and device (blocked_autorange).
    """

    batch: int = 1
    devices: tuple[str, ...] | None = None
    min_run_time: float = 0.2

    def resolved_devices(self) -> tuple[str, ...]:
        if self.devices is not None:
            return self.devices
        return ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)


@torch.inference_mode()
def _forward(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out: torch.Tensor = module(x)
    return out


def _measure(timer: Timer, min_run_time: float) -> Measurement:
    """``blocked_autorange``, topped up with blocks of the same size to :data:`MIN_BLOCKS`."""
    meas = timer.blocked_autorange(min_run_time=min_run_time)
    while len(meas.times) < MIN_BLOCKS:
        extra = timer.timeit(meas.number_per_run)
        meas = Measurement.merge([meas, extra])[0]
    return meas


def time_forms(
    modules: Mapping[str, nn.Module], in_shape: Shape, plan: TimingPlan
) -> tuple[Timing, ...]:
    """Time each module's forward (float32, eval, inference mode) on each device of ``plan``;
    the modules are converted to float32 in place and moved back to the CPU afterwards."""
    threads = torch.get_num_threads()
    found = []
    batch = plan.batch
    for device in plan.resolved_devices():
        x = torch.randn((batch, *in_shape), device=device)
        for key, module in modules.items():
            m = module.float().eval().to(device)
            _forward(m, x)  # warm-up: allocator, cuDNN algorithm choice
            timer = Timer("f(m, x)", globals={"f": _forward, "m": m, "x": x}, num_threads=threads)
            meas = _measure(timer, plan.min_run_time)
            found.append(
                Timing(key, device, meas.median, meas.iqr, len(meas.times), batch, threads)
            )
            m.to("cpu")
    return tuple(found)

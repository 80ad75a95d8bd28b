"""Per-layer times from ``torch.profiler``: each module in its own ``record_function`` range,
opened and closed by hooks that never outlive the measurement (torch imported lazily)."""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from archprobe.analysis.quiet import quiet_stderr

if TYPE_CHECKING:
    import torch
    from torch import nn

FORWARD = "archprobe.forward"
"""The profiler range around each whole forward pass (its time is ``RooflineReport.forward_s``)."""


def _open_range(scope: str, stack: list[Any]) -> Any:
    from torch.profiler import record_function

    def pre_hook(module: nn.Module, args: Any) -> None:
        rf: Any = record_function(scope)  # entered here, exited by the post hook
        rf.__enter__()
        stack.append(rf)

    return pre_hook


def _close_range(stack: list[Any]) -> Any:
    def post_hook(module: nn.Module, args: Any, output: Any) -> None:
        stack.pop().__exit__(None, None, None)

    return post_hook


@contextmanager
def profiler_ranges(model: nn.Module, scopes: Iterable[str]) -> Iterator[None]:
    """Wrap each module in ``scopes`` in a ``record_function`` range named by its scope.

    The ranges are opened and closed by forward pre/post hooks, which are always removed on
    exit, and a range a failed forward left open is closed; the model is unchanged afterwards.
    """
    from archprobe.errors import ArchprobeError

    modules = dict(model.named_modules())
    missing = [s for s in scopes if s not in modules]
    if missing:  # graph scopes and module names are one namespace (DESIGN "Decisions")
        raise ArchprobeError(f"no module named {missing[0]!r} in the built model")
    stack: list[Any] = []
    handles = []
    for scope in scopes:
        m = modules[scope]
        handles.append(m.register_forward_pre_hook(_open_range(scope, stack)))
        handles.append(m.register_forward_hook(_close_range(stack)))
    try:
        yield
    finally:
        for h in handles:
            h.remove()
        while stack:
            stack.pop().__exit__(None, None, None)


def layer_times(
    model: nn.Module, x: torch.Tensor, scopes: Sequence[str], iters: int = 5
) -> dict[str, float]:
    """Seconds per call of each module in ``scopes``, and of the whole forward pass under the
    key :data:`FORWARD`: medians over ``iters`` profiled forwards.

    CUDA: the sum of the GPU kernel times launched inside each range (``device_time_total``),
    not host-side wall time, so no per-layer synchronisation perturbs the run. CPU: the range's
    CPU time including its children (``cpu_time_total``). Call inside the inference context and
    after warm-up (cuDNN autotuning would otherwise be timed).
    """
    import torch
    from torch.profiler import DeviceType, ProfilerActivity, profile, record_function

    cuda = x.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with warnings.catch_warnings():
        # torch >= 2.10 warns that a profile without a schedule keeps one cycle: that is all we use
        warnings.filterwarnings("ignore", message=".*Profiler clears events")
        with quiet_stderr(), profiler_ranges(model, scopes), profile(activities=activities) as prof:
            for _ in range(iters):
                with record_function(FORWARD):
                    model(x)
            if cuda:
                torch.cuda.synchronize(x.device)
    samples: dict[str, list[float]] = {s: [] for s in (*scopes, FORWARD)}
    for event in prof.events():
        # The CPU-side range: on CUDA its device_time_total sums its children's kernels; the
        # GPU-side copy of the annotation (device_type CUDA) would count them twice.
        if event.name in samples and event.device_type == DeviceType.CPU:
            samples[event.name].append(event.device_time_total if cuda else event.cpu_time_total)
    return {s: statistics.median(us) * 1e-6 if us else math.nan for s, us in samples.items()}

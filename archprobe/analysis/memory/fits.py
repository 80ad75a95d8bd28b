"""Refuse a measurement that cannot fit before it allocates anything (issue #18: a measured sweep
with a huge batch took 12 GB of host memory, then died in a RuntimeError).

The torch-free prediction (:mod:`archprobe.analysis.memory.model`) says how many bytes a forward
or a training step will hold; the device says how many are free. A prediction above what is free
is refused with the numbers and the fix; a prediction below it runs as before (the measurement's
own OOM handling still applies: the prediction is a model, not a promise).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from archprobe.analysis.memory.model import predict_inference
from archprobe.errors import ArchprobeError
from archprobe.graph.nodes import Graph
from archprobe.units import binary_bytes, si

if TYPE_CHECKING:
    import torch


HEADROOM = 0.9
"""Fraction of the free memory a timed batch may plan to use (allocator and runtime overhead)."""


class TooLarge(ArchprobeError):
    """A measurement predicted to need more memory than the device has free."""


def host_available_bytes() -> int | None:
    """Memory the host can still give (Linux ``MemAvailable``; else free pages), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this platform
        return None


def available_bytes(device: torch.device) -> int | None:
    """Free bytes on ``device`` (CUDA: the driver's free memory; CPU: the host's), or None."""
    if device.type == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    return host_available_bytes()


def check_fits(what: str, needed: int, device: torch.device, fix: str) -> None:
    """Raise :class:`TooLarge` when ``needed`` bytes exceed what ``device`` has free.

    Args:
        what: the measurement, for the message ("resnet50-3: training step at batch 4096").
        needed: the predicted peak in bytes.
        device: where it would run.
        fix: what the user can change ("lower measure.batch in the sweep file").
    """
    free = available_bytes(device)
    if free is not None and needed > free:
        raise TooLarge(
            f"{what}: needs about {binary_bytes(needed)} (predicted peak), but {device.type} "
            f"has {binary_bytes(free)} free; refused before allocating: {fix}"
        )


def too_large(
    graph: Graph, batch: int, available: int | None, dtype_bytes: int = 4, backend: str = "cpu"
) -> str | None:
    """Why ``batch`` cannot run in ``available`` bytes ("too large: ..."), or None if it fits
    (or the free memory is unknown): the latency rows' and the roofline's refusal, where a batch
    of 65536 images would ask for ~700 GB and swap the machine (CPU) or die in cuDNN (CUDA)."""
    if available is None:
        return None
    need = predict_inference(graph, batch, dtype_bytes, backend="cuda" if backend == "cuda"
                             else "cpu").peak_bytes  # fmt: skip
    if need <= HEADROOM * available:
        return None
    return (
        f"too large: batch {batch} needs ≈ {si(need, 'B')} for inference (predicted), "
        f"{si(available, 'B')} free on the {backend}; lower --batch"
    )

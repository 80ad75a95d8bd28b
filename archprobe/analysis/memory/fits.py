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

from archprobe.errors import ArchprobeError
from archprobe.units import binary_bytes

if TYPE_CHECKING:
    import torch


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

"""Refuse a batch that cannot fit before anything is allocated (torch-free).

A batch of 65536 ImageNet images asks for ~700 GB: allocating it would swap the machine to a
halt (CPU) or die inside cuDNN (CUDA). The inference peak predicted from the graph
(``memory.model.predict_inference``, within a few percent of the measured one, see
reports/gpu/) is compared with the memory free on the device before the model is built.
"""

from __future__ import annotations

from pathlib import Path

from archprobe.analysis.memory.model import predict_inference
from archprobe.graph.nodes import Graph
from archprobe.units import si

HEADROOM = 0.9
"""Fraction of the free memory a measurement may plan to use (allocator and runtime overhead)."""


def cpu_available_bytes() -> int | None:
    """``MemAvailable`` of /proc/meminfo (what can be allocated without swapping), or None."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def too_large(
    graph: Graph, batch: int, available: int | None, dtype_bytes: int = 4, backend: str = "cpu"
) -> str | None:
    """Why ``batch`` cannot run in ``available`` bytes ("too large: ..."), or None if it fits
    (or the free memory is unknown)."""
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

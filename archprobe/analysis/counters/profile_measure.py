"""Measured latency and memory rows of a profiled module (``profile(..., measure=...)``), the
same rows specs get; every measurement runs on its own copy of the model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from torch import nn

from archprobe.analysis.counters.private_copy import first_line
from archprobe.analysis.results import Entry
from archprobe.errors import ArchprobeError


def measurements(
    model: nn.Module,
    label: str,
    sample: tuple[int, ...],
    measure: Sequence[str],
    batches: Sequence[int],
    device: str,
    dtype: str,
) -> tuple[list[Entry], list[str]]:
    """Measured latency and memory rows of any module, the same rows specs get (on copies)."""
    from archprobe.analysis.memory.measure import measure_inference, measure_training
    from archprobe.analysis.timing.env import resolve_device
    from archprobe.analysis.timing.latency import measure_latency, to_entries

    unknown = set(measure) - {"latency", "memory"}
    if unknown:
        raise ArchprobeError(
            f"unknown measurement {sorted(unknown)[0]!r} (allowed: latency, memory)"
        )
    entries: list[Entry] = []
    notes: list[str] = []
    if "latency" in measure:
        rows = measure_latency(model, batches, device, dtype, sample_shape=sample, name=label)
        entries += to_entries(rows)
    if "memory" in measure:
        dev = resolve_device(device).device
        for batch in batches:
            shape = cast(tuple[int, int, int, int], (batch, *sample))
            for mode in ("inference", "training"):
                try:
                    m = (
                        measure_inference(model, shape, dev)
                        if mode == "inference"
                        else measure_training(model, shape, dev, "sgd_momentum")
                    )
                except (RuntimeError, ValueError) as exc:  # e.g. no (batch, classes) logits
                    notes.append(f"memory {mode} at batch {batch} not measured: {first_line(exc)}")
                    continue
                env = {"batch": batch, "mode": mode, "device": m.device, "memory_method": m.method}
                values = {"peak_bytes": float(m.peak_bytes)}
                entries.append(Entry(label, "", "memory", "measured", values, env))
    return entries, notes

"""Memory predictions (and their measurements) as Results entries (torch-free).

Per (model, mode, batch) a prediction gives:

- one entry per layer (``scope``, ``op`` = the op kind), method "analytic", values
  ``params_bytes, grads_bytes, optimizer_bytes, saved_bytes, output_bytes`` (the columns of
  ``memory_layers_table``; they sum to the prediction's weights, grads, optimizer state and saved
  totals);
- one whole-model entry (scope "", op "memory"), method "analytic": ``peak_bytes`` and
  ``step_peak_bytes``, with ``env["peak_at"]`` saying where the peak falls;
- with a measurement, one whole-model entry, method "measured": the measured ``peak_bytes`` and
  ``step_peak_bytes``, with the device and how the peak was read (``env["memory_method"]``).

Every entry's env names ``batch``, ``mode`` (inference | training) and ``optimizer`` ("" for
inference), so one export holds every batch and mode side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from archprobe.analysis.memory.model import MemoryPrediction
from archprobe.analysis.results import Entry

if TYPE_CHECKING:  # measure.py needs torch only to run; its result type is plain data
    from archprobe.analysis.memory.measure import MemoryMeasurement


class MemoryPair(NamedTuple):
    """A prediction and, when memory was measured, the measurement of the same step."""

    prediction: MemoryPrediction
    measurement: MemoryMeasurement | None = None

    def to_entries(self) -> list[Entry]:
        """Per-layer rows, then the predicted peak, then the measured one (module docstring)."""
        p, m = self.prediction, self.measurement
        env = _env(p)
        rows = layer_entries(p)
        peaks = {"peak_bytes": p.peak_bytes, "step_peak_bytes": p.step_peak_bytes}
        rows.append(Entry(p.model, "", "memory", "analytic", peaks, {**env, "peak_at": p.peak_at}))
        if m is not None:
            measured = {"peak_bytes": m.peak_bytes, "step_peak_bytes": m.step_peak_bytes}
            where = {**env, "device": m.device, "memory_method": m.method}
            rows.append(Entry(p.model, "", "memory", "measured", measured, where))
        return rows


def _env(p: MemoryPrediction) -> dict[str, Any]:
    return {"batch": p.batch, "mode": p.mode, "optimizer": p.optimizer or ""}


def layer_entries(p: MemoryPrediction) -> list[Entry]:
    """One analytic entry per layer of the prediction, bytes for its batch."""
    env = _env(p)
    return [
        Entry(
            p.model,
            r.scope,
            r.op,
            "analytic",
            {
                "params_bytes": r.params_bytes,
                "grads_bytes": r.grads_bytes,
                "optimizer_bytes": r.optimizer_bytes,
                "saved_bytes": r.saved_bytes,
                "output_bytes": r.output_bytes,
            },
            env,
        )
        for r in p.layers
    ]

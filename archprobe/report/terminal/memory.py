"""Rich tables for memory: predicted vs measured peaks, and predicted bytes per layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from archprobe.analysis.memory.model import MemoryPrediction
from archprobe.report.terminal.render import Table, escape
from archprobe.units import signed

if TYPE_CHECKING:  # memory_measure needs torch only to run; its result type is plain
    from archprobe.analysis.memory.measure import MemoryMeasurement

MIB = 2**20
GIB = 2**30


def mib_gib(nbytes: float) -> str:
    """Bytes with an explicit binary unit: ``97.49 MiB``, ``2.565 GiB``."""
    if abs(nbytes) >= GIB:
        return f"{nbytes / GIB:,.3f} GiB"
    return f"{nbytes / MIB:,.2f} MiB"


def error_percent(predicted: float, measured: float) -> str:
    """``(predicted - measured) / measured`` as a signed percentage."""
    if not measured:
        return "n/a"
    return signed((predicted - measured) / measured * 100, ".2f") + "%"


def _column(p: MemoryPrediction) -> str:
    what = "inference" if p.optimizer is None else f"train · {p.optimizer}"
    return f"{escape(p.model)}\n{escape(what)} · batch {p.batch}"


def memory_table(
    results: Sequence[tuple[MemoryPrediction, MemoryMeasurement | None]],
) -> Table:
    """One column per (model, mode, batch): predicted bytes, measured peak and the error.

    Peaks include the resident weights, buffers, optimizer state and input batch; "step" rows are
    the part above that baseline, which is what the measurement reads directly.
    """
    t = Table(title="memory: predicted vs measured (MiB = 2^20 B, GiB = 2^30 B)")
    t.add_column("", no_wrap=True)
    for p, _ in results:
        t.add_column(_column(p), justify="right", no_wrap=True)
    preds = [p for p, _ in results]
    meas = [m for _, m in results]
    rows = [
        ("weights", [mib_gib(p.weights_bytes) for p in preds]),
        ("grads", [mib_gib(p.grads_bytes) for p in preds]),
        ("optimizer state", [mib_gib(p.optimizer_state_bytes) for p in preds]),
        ("saved activations", [mib_gib(p.saved_bytes) for p in preds]),
        ("predicted peak", [mib_gib(p.peak_bytes) for p in preds]),
        ("measured peak", [mib_gib(m.peak_bytes) if m else "—" for m in meas]),
        ("error", [error_percent(p.peak_bytes, m.peak_bytes) if m else "—" for p, m in results]),
        ("predicted step", [mib_gib(p.step_peak_bytes) for p in preds]),
        ("measured step", [mib_gib(m.step_peak_bytes) if m else "—" for m in meas]),
        ("step error", [_step_error(p, m) for p, m in results]),
        ("predicted peak at", [p.peak_at for p in preds]),
    ]
    for label, cells in rows:
        if label == "predicted peak":
            t.add_section()
        t.add_row(label, *map(escape, cells), style="bold" if label == "error" else None)
    devices = sorted({m.device for m in meas if m})
    if devices:
        methods = sorted({m.method for m in meas if m})
        t.caption = escape(f"measured on {', '.join(devices)} by {', '.join(methods)}")
    return t


def _step_error(p: MemoryPrediction, m: MemoryMeasurement | None) -> str:
    return error_percent(p.step_peak_bytes, m.step_peak_bytes) if m else "—"


def memory_layers_table(p: MemoryPrediction, depth: int = 1) -> Table:
    """Predicted bytes per scope prefix of ``depth`` components (``layer1``, ``layer1.0``)."""
    t = Table(
        title=f"{escape(p.model)}: memory per layer, batch {p.batch} (MiB = 2^20 B, GiB = 2^30 B)"
    )
    t.add_column("scope", no_wrap=True)
    columns = ("params", "grads", "optimizer state", "saved for backward", "outputs")
    for col in columns:
        t.add_column(col, justify="right", no_wrap=True)
    totals: dict[str, list[int]] = {}
    for r in p.layers:
        key = ".".join(r.scope.split(".")[:depth])
        acc = totals.setdefault(key, [0] * len(columns))
        values = (r.params_bytes, r.grads_bytes, r.optimizer_bytes, r.saved_bytes, r.output_bytes)
        for i, v in enumerate(values):
            acc[i] += v
    for key, acc in totals.items():
        t.add_row(escape(key), *(mib_gib(v) for v in acc))
    t.add_section()
    sums = [sum(acc[i] for acc in totals.values()) for i in range(len(columns))]
    t.add_row("total", *(mib_gib(v) for v in sums), style="bold")
    return t

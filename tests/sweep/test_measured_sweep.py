"""A measured sweep on the CPU: memory measured by torch beside the prediction, latency with env."""

from __future__ import annotations

from pathlib import Path

from archprobe.sweep.run import run_sweep
from archprobe.sweep.store import Store

SWEEP = """sweep: measured
base: resnet20
mode: zip
axes:
  stages.0.depth: [1, 3]
measure: {what: [memory, latency], batch: 8, device: cpu, min_time: 0.02}
"""


def test_measured_memory_and_latency_rows(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(SWEEP, encoding="utf-8")
    summary = run_sweep(path, tmp_path / "m.db")
    assert summary.done == 2
    store = Store(tmp_path / "m.db")
    rows = store.rows()
    store.close()
    for row in rows:
        m = row["measured"]
        # The training-step peak measured by torch.profiler is an independent second source.
        error = abs(m["train_peak_predicted_bytes"] - m["train_peak_measured_bytes"])
        assert error / m["train_peak_measured_bytes"] < 0.05
        assert m["latency_s"] > 0 and m["status"] == "ok"
        assert (m["device"], m["dtype"], m["layout"]) == ("cpu", "fp32", "contiguous")
        assert m["torch"] and m["device_name"]

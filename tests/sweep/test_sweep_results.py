"""Sweep rows and width-solver solutions as Results entries (analytic, no torch).

Ground truth: facts.md §9.1 (resnet50 4,089,184,256 MACs; resnext50_32x4d 25,028,904 params,
4,230,479,872 MACs) and ResNeXt Table 2's conv2 template, costed by hand below.
"""

from __future__ import annotations

from pathlib import Path

from archprobe.sweep.results import (
    load_results,
    row_entries,
    solution_name,
    solution_results,
    sweep_results,
)
from archprobe.sweep.run import run_sweep
from archprobe.sweep.solve import solve_width
from archprobe.sweep.store import Store

SWEEPS = Path(__file__).resolve().parents[2] / "specs" / "sweeps"


def test_stored_sweep_rows_as_results(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    run_sweep(SWEEPS / "resnext50_cardinality.yaml", db)  # C = 1, 2, 4, 8, 32 (zip, analytic)
    results = load_results(db)
    name = "resnext50-cardinality"
    assert results.models == [f"{name}-{i}" for i in range(5)]
    assert results.total("macs", model=f"{name}-0") == 4_089_184_256  # C=1, d=64: resnet50
    assert results.total("macs", model=f"{name}-4") == 4_230_479_872  # C=32, d=4: resnext50
    assert results.total("params", model=f"{name}-4") == 25_028_904
    first = results.select(model=f"{name}-4").entries[0]
    assert (first.env["block.groups"], first.env["block.width_per_group"]) == (32, 4)
    assert {e.method for e in results.entries} == {"analytic"}


def test_measured_values_split_by_method() -> None:
    row = {
        "key": "k1", "sweep": "s", "idx": 3, "config": {"block.groups": 8},
        "params": 10, "macs": 20, "acts": 30,
        "measured": {"train_peak_predicted_bytes": 1000, "train_peak_measured_bytes": 1010,
                     "latency_s": 0.02, "latency_iqr_s": 0.001, "status": "ok",
                     "device_name": "Test GPU"},
    }  # fmt: skip
    analytic, measured = row_entries(row)
    assert analytic.model == measured.model == "s-3"
    assert analytic.values == {"params": 10, "macs": 20, "acts": 30,
                               "train_peak_predicted_bytes": 1000}  # fmt: skip
    assert measured.values == {"train_peak_measured_bytes": 1010, "latency_s": 0.02,
                               "latency_iqr_s": 0.001}  # fmt: skip
    assert measured.env["status"] == "ok" and measured.env["device_name"] == "Test GPU"
    assert measured.env["block.groups"] == 8 and measured.env["key"] == "k1"
    units = {r.metric: r.unit for r in sweep_results([row]).rows}
    assert units["latency_s"] == "s" and units["train_peak_measured_bytes"] == "B"


def test_analytic_row_without_measurements(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    row = {"key": "k", "sweep": "s", "idx": 0, "config": {}, "params": 1, "macs": 2, "acts": 3,
           "measured": None}  # fmt: skip
    store.add([row])
    (stored,) = store.rows()
    store.close()
    assert [e.method for e in row_entries(stored)] == ["analytic"]


def test_solutions_as_results() -> None:
    solutions = [solve_width("resnet50", c, "block-params") for c in (1, 32)]
    results = solution_results("resnet50", solutions)
    assert results.models == ["resnet50_1x64d", "resnet50_32x4d"]
    dense, grouped = results.entries
    # conv2 template of Table 2 at C=32, d=4: 1×1 256→128, 3×3 128→128 in 32 groups, 1×1
    # 128→256, and the three BNs' γ/β; 56×56 maps
    convs = 256 * 128 + 128 * (128 // 32) * 9 + 128 * 256
    assert grouped.values["block_params"] == convs + 2 * (128 + 128 + 256)
    assert grouped.values["block_macs"] == 56 * 56 * convs
    assert grouped.values["group_width"] == 128 and grouped.env["width_per_group"] == 4
    assert (grouped.values["params"], grouped.values["macs"]) == (25_028_904, 4_230_479_872)
    assert dense.values["macs"] == 4_089_184_256 and dense.env["preserve"] == "block-params"
    units = {r.metric: r.unit for r in results.rows}
    assert units["block_macs"] == "MAC" and units["group_width"] == "channels"


def test_per_stage_solution_name() -> None:
    s = solve_width("resnet50", 8, "net-macs", per_stage=True)
    widths = "-".join(map(str, s.stage_widths))
    assert solution_name("resnet50", s) == f"resnet50_8x{widths}d"

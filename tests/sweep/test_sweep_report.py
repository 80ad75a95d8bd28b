"""Sweep HTML report: self-contained, every section with its figure, Pareto points equal to a
brute-force front of the stored rows, latency plots only where latency was measured."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from archprobe.report.html.sweep import sweep_html, write_sweep_html
from archprobe.sweep.analysis import load_frame
from archprobe.sweep.run import run_sweep
from archprobe.sweep.store import Store

ROOT = Path(__file__).resolve().parents[2]
STAMP = {"archprobe": "test", "command": "archprobe sweep results s.db --html s.html"}
EXTERNAL = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=""", re.I)
FIGURES = {"pareto": "fig-pareto", "edf": "fig-edf", "trends": "fig-trends"}
# A random sweep small enough to generate in well under a second: two few-valued axes, one
# many-valued (binned) axis, and a MACs window that rejects some draws.
SWEEP = """\
sweep: <b>tiny</b>
base: resnet50
mode: random
seed: 3
n: 40
axes:
  block.groups: {int: [1, 8], dist: power2_uniform}
  stages.2.depth: {int: [2, 5]}
  block.width_per_group: {int: [8, 64]}
constraints: {macs: [1e9, 9e9]}
"""


@pytest.fixture(scope="module")
def analytic_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "tiny.yaml").write_text(SWEEP, encoding="utf-8")
    db = folder / "tiny.db"
    run_sweep(folder / "tiny.yaml", db)
    return db


def gpu_cardinality_db(db: Path) -> Path:
    """The H100 cardinality sweep (reports/gpu/sweep_cardinality.csv) back in a database."""
    with (ROOT / "reports" / "gpu" / "sweep_cardinality.csv").open(encoding="utf-8") as fh:
        records = list(csv.DictReader(fh))
    measured = ("train_peak_bytes", "latency_s", "latency_iqr_s", "status")
    store = Store(db)
    store.add(
        {
            "key": r["key"],
            "sweep": r["sweep"],
            "idx": int(r["idx"]),
            "config": {"block.groups": int(r["block.groups"])},
            "params": int(r["params"]),
            "macs": int(r["macs"]),
            "acts": int(r["acts"]),
            "measured": {k: r[k] if k == "status" else float(r[k]) for k in measured},
        }
        for r in records
    )
    store.close()
    return db


@pytest.fixture(scope="module")
def measured_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gpu_cardinality_db(tmp_path_factory.mktemp("gpu") / "cardinality.db")


@pytest.fixture(scope="module")
def page(analytic_db: Path) -> str:
    return sweep_html(load_frame(analytic_db), STAMP)


@pytest.fixture(scope="module")
def measured_page(measured_db: Path) -> str:
    return sweep_html(load_frame(measured_db), STAMP)


def figures(page: str) -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Every plotly figure in the page: div id -> (traces, layout), read from its JSON."""
    out = {}
    decoder = json.JSONDecoder()
    for found in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        traces, end = decoder.raw_decode(page, found.end())
        layout, _ = decoder.raw_decode(page, page.index("{", end))
        out[found.group(1)] = (traces, layout)
    return out


def sections(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', page, re.S))


def brute_front(rows: list[dict[str, Any]], x: str, y: str) -> set[str]:
    """Keys of the rows no other row dominates (both minimised), by pairwise comparison."""

    def value(r: dict[str, Any], name: str) -> float | None:
        if name == "latency_ms":
            m = r["measured"] or {}
            return m["latency_s"] * 1e3 if m.get("status") == "ok" else None
        return float(r[name])

    pts = {r["key"]: (value(r, x), value(r, y)) for r in rows}
    pts = {k: p for k, p in pts.items() if None not in p}
    return {
        k for k, (px, py) in pts.items()
        if not any(qx <= px and qy <= py and (qx < px or qy < py) for qx, qy in pts.values())
    }  # fmt: skip


def fronts(page: str) -> dict[tuple[str, str], dict[str, Any]]:
    traces, _ = figures(page)["fig-pareto"]
    return {tuple(t["meta"].split(":")[1:]): t for t in traces if "meta" in t}


def test_self_contained_and_deterministic(page: str, analytic_db: Path) -> None:
    assert EXTERNAL.search(page) is None  # no CDN: plotly.js is inlined
    assert "archprobe sweep results s.db" in page  # the footer's stamp
    assert sweep_html(load_frame(analytic_db), STAMP) == page


def test_sections_each_with_its_figure(page: str) -> None:
    found = sections(page)
    assert list(found) == ["summary", "pareto", "edf", "trends"]
    for key, div in FIGURES.items():
        assert f'id="{div}"' in found[key] and "Plotly.newPlot" in found[key], key
    for heading in ("Summary", "Pareto fronts", "Cost distributions (EDF)", "Trends"):
        assert f"<h2>{heading}" in page
    assert set(figures(page)) == set(FIGURES.values())


def test_pareto_points_match_brute_force(page: str, analytic_db: Path) -> None:
    rows = Store(analytic_db).rows()
    for (x, y), trace in fronts(page).items():
        assert set(trace["customdata"]) == brute_front(rows, x, y), (x, y)
        by_key = {r["key"]: r for r in rows}
        assert trace["x"] == [by_key[k][x] for k in trace["customdata"]]
        assert trace["y"] == [by_key[k][y] for k in trace["customdata"]]
        assert trace["x"] == sorted(trace["x"])


def test_without_latency_a_note_and_no_latency_plots(page: str) -> None:
    assert list(fronts(page)) == [("params", "macs")]
    assert "No measured latency in this database" in sections(page)["pareto"]
    assert "No measured latency in this database" in sections(page)["trends"]
    _, layout = figures(page)["fig-trends"]
    titles = [a["text"] for a in layout["annotations"]]
    assert "latency (ms, median)" not in titles and "MACs" in titles


def test_with_latency_three_fronts_and_a_latency_trend(
    measured_page: str, measured_db: Path
) -> None:
    rows = Store(measured_db).rows()
    found = fronts(measured_page)
    assert list(found) == [("params", "macs"), ("macs", "latency_ms"), ("acts", "latency_ms")]
    for (x, y), trace in found.items():
        assert set(trace["customdata"]) == brute_front(rows, x, y)
    # C = 1 (ResNet-50) is the fastest and has the fewest MACs and activations on the H100
    assert found[("macs", "latency_ms")]["y"] == pytest.approx([20.026], abs=1e-3)
    _, layout = figures(measured_page)["fig-trends"]
    assert "latency (ms, median)" in [a["text"] for a in layout["annotations"]]
    assert "No measured latency" not in measured_page


def test_menus_switch_between_whole_trace_groups(page: str) -> None:
    for div in ("fig-edf", "fig-trends"):
        traces, layout = figures(page)[div]
        (menu,) = layout["updatemenus"]
        # top left, above the legend: the top right is plotly's toolbar (test_browser.py
        # checks in Chromium that they do not overlap)
        assert (menu["x"], menu["xanchor"], menu["yanchor"]) == (0, "left", "bottom")
        shown = [b["args"][0]["visible"] for b in menu["buttons"]]
        assert all(len(v) == len(traces) for v in shown)
        assert [t.get("visible", True) for t in traces] == shown[0]  # as the first button
        if div == "fig-trends":  # every trace belongs to exactly one axis
            assert [sum(col) for col in zip(*shown, strict=True)] == [1] * len(traces)
    labels = [b["label"] for b in figures(page)["fig-edf"][1]["updatemenus"][0]["buttons"]]
    # block.width_per_group has more than 8 values: binned in trends, not an EDF colouring
    assert labels == ["colour by block.groups", "colour by stages.2.depth"]
    assert "block.width_per_group (binned" in page


def test_hostile_names_are_escaped(page: str) -> None:
    assert "<b>tiny</b>" not in page and "&lt;b&gt;tiny&lt;/b&gt;" in page


def test_write_and_errors(tmp_path: Path, analytic_db: Path, page: str) -> None:
    out = tmp_path / "r.html"
    write_sweep_html(analytic_db, out, STAMP)
    assert out.read_text(encoding="utf-8") == page
    empty = tmp_path / "empty.db"
    Store(empty).close()
    with pytest.raises(ValueError, match="no rows"):
        write_sweep_html(empty, out, STAMP)
    with pytest.raises(FileNotFoundError):
        write_sweep_html(tmp_path / "missing.db", out, STAMP)


def test_report_runs_without_torch(tmp_path: Path, analytic_db: Path) -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from pathlib import Path\n"
        "from archprobe.report.html.sweep import write_sweep_html\n"
        f"write_sweep_html({str(analytic_db)!r}, Path({str(tmp_path / 'r.html')!r}))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert "fig-pareto" in (tmp_path / "r.html").read_text(encoding="utf-8")

"""Notebook display: ``_repr_html_`` of Results, Comparison, SpecCheck and SweepFrame holds the key
numbers, ``repr`` is one short line, ``Comparison.figure()`` gives the report's plotly figures.

The numbers are facts.md's (torchvision's published ``num_params`` and ``_ops``): ResNet-50
25,557,032 params / 4,089,184,256 MACs, ResNeXt-50 32×4d 25,028,904 / 4,230,479,872.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go
import pytest

import archprobe
from archprobe.analysis.compare import Comparison, Measure, compare
from archprobe.analysis.results import register_view
from archprobe.checks import SpecCheck, check_spec
from archprobe.report.html import notebook
from archprobe.report.html.compare import comparison_figures
from archprobe.sweep.analysis import SweepFrame, load_sweep
from archprobe.sweep.run import run_sweep

ROOT = Path(__file__).resolve().parent.parent
R50 = ("25,557,032", "4,089,184,256")
X50 = ("25,028,904", "4,230,479,872")
CHECKS = ROOT / "tests" / "data" / "checks"


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return compare(["resnet50", "resnext50"])


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> SweepFrame:
    """ResNeXt Table 2's cardinality sweep, analytic: C=1 is ResNet-50, C=32 is ResNeXt-50."""
    db = tmp_path_factory.mktemp("nb") / "cardinality.db"
    run_sweep(ROOT / "specs" / "sweeps" / "resnext50_cardinality.yaml", db)
    return load_sweep(db)


def test_results_html_has_the_totals() -> None:
    for name, numbers in (("resnet50", R50), ("resnext50", X50)):
        page = archprobe.analyze_spec(name).results._repr_html_()
        assert all(n in page for n in numbers), name
        assert '<div class="archprobe">' in page and "<table>" in page and "per scope" in page


def test_results_repr_is_short() -> None:
    r = archprobe.analyze_spec("resnet50").results
    assert repr(r) == f"Results(resnet50: {len(r)} entries, analytic)"


def test_comparison_html_has_both_models_and_the_stage_bars(comparison: Comparison) -> None:
    page = comparison._repr_html_()
    assert all(n in page for n in (*R50, *X50))
    assert "totals (Δ relative to resnet50)" in page
    assert page.count('class="plotly-graph-div"') == 1  # the stage bars; no measured roofline
    assert "Plotly.newPlot" in page


def test_comparison_repr_is_one_short_line(comparison: Comparison) -> None:
    text = repr(comparison)
    assert text == "Comparison(resnet50 vs resnext50_32x4d: analytic)"
    many = compare(["resnet18", "resnet34", "resnet50", "resnext50", "resnet101"],
                   measure=Measure(memory=True, batches=(1, 32)))  # fmt: skip
    text = repr(many)
    assert len(text) < 200 and "\n" not in text
    assert text.startswith("Comparison(resnet18 vs resnet34 vs resnet50 (+2 more): analytic, ")
    assert "memory at batch 1, 32" in text


def test_figure_returns_the_reports_figures(comparison: Comparison) -> None:
    figures = comparison.figure()
    assert list(figures) == ["stages", "roofline"]  # analytic: the reference roofline
    assert all(isinstance(f, go.Figure) for f in figures.values())
    names = {t.name for t in figures["stages"].data}
    assert names == {"resnet50", "resnext50_32x4d"}
    report = comparison_figures(comparison)  # what the HTML report draws
    assert figures["stages"].to_json() == report["stages"].to_json()
    assert figures["stages"].layout.height == 620  # styled as on the page


def test_plotlyjs_goes_once_into_a_session(comparison: Comparison) -> None:
    notebook.reset_plotlyjs()
    first, second = comparison._repr_html_(), comparison._repr_html_()
    assert "plotly.js v" in first and len(first) > 1_000_000
    assert "plotly.js v" not in second and len(second) < 100_000
    assert "window.Plotly" in second  # the figure checks for it and says how to get it back
    notebook.reset_plotlyjs()
    assert "plotly.js v" in comparison._repr_html_()


def test_figure_data_cannot_close_its_script() -> None:
    fig = go.Figure(go.Bar(x=["</script><b>x"], y=[1]))
    block = notebook.figure_block(fig, 300)
    assert block.count("</script>") == 1  # only the block's own end tag


def test_check_result_html_and_repr() -> None:
    clean = check_spec("resnet50")
    assert repr(clean) == f"SpecCheck(resnet50: no findings; {clean.checks_run} checks)"
    assert f"no findings ({clean.checks_run} checks ran)" in clean._repr_html_()
    found = check_spec(CHECKS / "rx001_trigger.yaml")
    assert repr(found) == f"SpecCheck(rx001_trigger: 1 warning; {found.checks_run} checks)"
    page = found._repr_html_()
    (finding,) = found.findings
    assert str(finding.where) in page and "RX001" in page and "warning" in page
    assert "basic block with groups=2" in page


def test_sweep_frame_html_has_the_configs_exact_costs(sweep: SweepFrame) -> None:
    assert len(sweep) == 5 and sweep.axes == ["block.groups", "block.width_per_group"]
    page = sweep._repr_html_()
    assert all(n in page for n in (*R50, *X50))  # C=1 (d=64) and C=32 (d=4)
    assert "resnext50-cardinality" in page and "block.width_per_group" in page
    text = repr(sweep)
    assert text == (
        "SweepFrame(resnext50-cardinality: 5 configs; axes block.groups, block.width_per_group)"
    )
    front = sweep.pareto_front("params", "macs")
    assert set(front["block.groups"]) <= {1, 2, 4, 8, 32} and len(front) >= 1


def test_a_view_is_registered_once() -> None:
    with pytest.raises(ValueError, match="'html' view is already registered"):
        register_view("html", notebook.html)


def test_figures_only_for_a_comparison() -> None:
    with pytest.raises(TypeError, match="no figures for SpecCheck"):
        notebook.figures(SpecCheck("x", (), 0))


def test_import_and_tables_need_neither_plotly_nor_pandas_nor_torch() -> None:
    """``import archprobe`` and the table-only views (Results, SpecCheck, a comparison's repr)
    run with all three blocked; plotly loads only to draw a figure."""
    code = (
        "import sys\nfor m in ('torch', 'pandas', 'plotly'):\n    sys.modules[m] = None\n"
        "import archprobe\nfrom archprobe.checks import check_spec\n"
        "r = archprobe.analyze_spec('resnet50').results\n"
        "assert '25,557,032' in r._repr_html_()\n"
        "assert 'no findings' in check_spec('resnet50')._repr_html_()\n"
        "print(repr(archprobe.compare(['resnet50', 'resnext50'])))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Comparison(resnet50 vs resnext50_32x4d: analytic)"

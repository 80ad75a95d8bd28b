"""HTML report: self-contained, every section present, spec text escaped; exports round-trip."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archprobe.analysis.compare import Comparison, Measure, compare
from archprobe.analysis.results import COLUMNS
from archprobe.cli.app import app
from archprobe.report.assemble import assemble
from archprobe.report.export import stamp, write_csv, write_json
from archprobe.report.html.compare import comparison_html

STAMP = {"archprobe": "test", "command": "archprobe report a b"}
EXTERNAL = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=""", re.I)


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return compare(["resnet50", "resnext50"], measure=Measure(memory=True, batches=(1, 32)))


@pytest.fixture(scope="module")
def page(comparison: Comparison) -> str:
    return comparison_html(assemble(comparison), STAMP)


def test_self_contained_and_small(page: str) -> None:
    assert EXTERNAL.search(page) is None  # no CDN, nothing fetched at view time
    assert "Plotly.newPlot" in page and "fig-stages" in page and "fig-roofline" in page
    assert len(page.encode()) < 5_000_000


def test_every_analytic_section_and_the_stamp(page: str) -> None:
    for key in ("summary", "stages", "roofline", "memory", "checks", "specs"):
        assert f'<section id="{key}">' in page, key
    assert "<details><summary>resnet50 — specs/resnet/resnet50.yaml" in page
    assert "archprobe report a b" in page  # the footer's command
    assert "25,557,032" in page and "4,230,479,872" in page  # totals table
    assert 'id="render-status"' in page  # what the browser test reads


def test_deterministic_apart_from_the_stamp(comparison: Comparison, page: str) -> None:
    assert comparison_html(assemble(comparison), STAMP) == page


def _measured(c: Comparison) -> Comparison:
    """The comparison with synthetic latency rows and profiled layer times (no timing run)."""
    from archprobe.analysis.timing.devices import H100_SXM
    from archprobe.analysis.timing.latency import LatencyReport, LatencyRow
    from archprobe.analysis.timing.roofline import analytic_roofline

    env = {"device_name": "test device", "dtype": "fp32"}
    rows = [
        LatencyRow(a.name, b, 0.01 * b * (i + 1), 0.001 * b, 100.0 / (i + 1), "ok", env)
        for i, a in enumerate(c.models)
        for b in (1, 8)
    ]
    reports = [analytic_roofline(a, 8, "fp32", H100_SXM) for a in c.models]
    timed = [r.with_times({x.scope: 2 * x.attainable_s for x in r.layers}, env) for r in reports]
    latency = LatencyReport.of(rows, c.baseline.name)
    return replace(c, latency=latency, roofline=tuple(timed), reference_roofline=())


def test_measured_sections(comparison: Comparison) -> None:
    page = comparison_html(assemble(_measured(comparison)), STAMP)
    assert '<section id="latency">' in page and "fig-latency" in page
    assert '"error_y":{"array":[0.5,4.0]' in page  # ± IQR/2 in ms for batches 1 and 8
    assert "fig-roofline-measured" in page and "roofline per stage" in page


def _evil_spec(tmp_path: Path) -> Path:
    folder = tmp_path / "<img src=x onerror=alert('path')>"
    folder.mkdir()
    spec = folder / "evil.yaml"
    spec.write_text(
        "extends: resnet50\n"
        "name: evil\n"
        "paper: \"</script><script>alert('paper')</script> & <b>bold</b>\"\n"
        "published:\n"
        "  - {source: \"<script>alert('source')</script>\", params: 25.6M}\n",
        encoding="utf-8",
    )
    return spec


def test_spec_text_is_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the spec path is then shown relative, with its folder
    page = comparison_html(assemble(compare(["resnet50", _evil_spec(tmp_path)])), STAMP)
    body = page[page.index("<body>") :]
    for raw in ("alert('paper')", "alert('source')", "<img src=x", "<b>bold</b>"):
        assert raw not in body, raw
    assert "&lt;/script&gt;&lt;script&gt;alert(&#x27;paper&#x27;)&lt;/script&gt;" in body
    assert "&lt;script&gt;alert(&#x27;source&#x27;)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=alert(&#x27;path&#x27;)&gt;/evil.yaml" in body
    scripts = len(re.findall(r"<script\b", page))
    assert scripts == 2 + page.count('class="plotly-graph-div"')  # status, plotly.js, figures


def test_csv_round_trip_equals_results_rows(comparison: Comparison, tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "rows.csv"
    write_csv(assemble(comparison), path)
    got = pd.read_csv(path, keep_default_na=False)
    rows = comparison.results.rows
    expected = pd.DataFrame([[getattr(r, c) for c in COLUMNS] for r in rows], columns=COLUMNS)
    pd.testing.assert_frame_equal(got[COLUMNS], expected, check_dtype=False)
    memory = got[got["metric"] == "peak_bytes"]
    assert list(memory["batch"]) == [str(r.env["batch"]) for r in rows if r.metric == "peak_bytes"]


def test_json_round_trip(comparison: Comparison, tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    write_json(assemble(comparison), path)
    payload = json.loads(path.read_text())
    assert payload["rows"] == comparison.results.to_records()
    assert payload["stamp"].keys() == stamp().keys()


def test_report_cli_writes_every_format(tmp_path: Path) -> None:
    paths = {ext: tmp_path / f"r.{ext}" for ext in ("html", "md", "csv", "json")}
    args = ["report", "resnet50", "resnext50", "--no-counters"]
    args += [a for ext, p in paths.items() for a in (f"--{ext}", str(p))]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert all(p.stat().st_size > 1000 for p in paths.values())
    assert "## Paper vs exact" in paths["md"].read_text()


def test_report_needs_an_output() -> None:
    result = CliRunner().invoke(app, ["report", "resnet50", "resnext50"])
    assert result.exit_code == 2


def test_compare_html_option(tmp_path: Path) -> None:
    path = tmp_path / "c.html"
    result = CliRunner().invoke(app, ["compare", "resnet50", "resnext50", "--html", str(path)])
    assert result.exit_code == 0, result.output
    assert '<section id="stages">' in path.read_text()


def test_report_cli_imports_no_torch_pandas_or_plotly() -> None:
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['pandas'] = None\n"
        "import archprobe.cli.app, archprobe.cli.report\n"
        "assert 'plotly' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

"""The HTML report in a real browser: headless Chromium, networking off, plots rendered.

Chromium runs twice on the same file: ``--dump-dom`` for the DOM after the scripts ran (the
page's own script writes the outcome into ``#render-status``: script errors, plot count, the
rendered SVGs, the page height), then ``--screenshot`` of the whole page at that height. The
screenshot path is printed. Skips where Debian's ``chromium`` is not installed (`.ci/run`
installs it).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archprobe.cli.app import app

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)"
)
OFFLINE = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=15000",
]  # fmt: skip
SECTIONS = ("summary", "stages", "roofline", "counters", "memory", "checks", "specs")
WIDTH = 1400


def _chromium(url: str, *args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [str(CHROMIUM), *OFFLINE, f"--user-data-dir={profile}", *args, url],
            capture_output=True, text=True, timeout=180, check=True,
        )  # fmt: skip
    return done.stdout


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two-model report as `.ci/run` would publish it: counters and memory included."""
    path = tmp_path_factory.mktemp("browser") / "resnet50_vs_resnext50.html"
    result = CliRunner().invoke(app, ["report", "resnet50", "resnext50", "--html", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def status(report: Path) -> dict[str, str]:
    dom = _chromium(report.as_uri(), f"--window-size={WIDTH},1200", "--dump-dom")
    found = re.search(r'<div id="render-status"([^>]*)>(.*?)</div>', dom, re.S)
    assert found, "the page's status element is missing from the DOM"
    attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', found.group(1)))
    return {**attrs, "errors": found.group(2), "dom": dom}


def test_plots_render_without_script_errors(report: Path, status: dict[str, str]) -> None:
    assert status["status"] == "ok", status["errors"]
    figures = report.read_text(encoding="utf-8").count('class="plotly-graph-div"')
    assert figures >= 2 and int(status["plots"]) == figures
    assert int(status["svgs"]) >= figures  # each plot draws its main-svg layers
    assert "main-svg" in status["dom"]
    for key in SECTIONS:
        assert f'<section id="{key}">' in status["dom"], key


def test_screenshot(
    report: Path, status: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    height = min(int(status["height"]) + 40, 16000)
    png = report.with_suffix(".png")
    _chromium(report.as_uri(), f"--window-size={WIDTH},{height}", f"--screenshot={png}")
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (WIDTH, height)
    assert png.stat().st_size > 100_000  # plots and tables, not a blank page
    with capsys.disabled():
        print(f"\nbrowser screenshot: {png} ({WIDTH}×{height})")


def _status(page: Path, width: int) -> dict[str, str]:
    """The page's render status in a window ``width`` pixels wide, and its script errors."""
    dom = _chromium(page.as_uri(), f"--window-size={width},1200", "--dump-dom")
    found = re.search(r'<div id="render-status"([^>]*)>(.*?)</div>', dom, re.S)
    assert found, "the page's status element is missing from the DOM"
    return {
        **dict(re.findall(r'data-([a-z]+)="([^"]*)"', found.group(1))),
        "errors": found.group(2),
    }


def test_wide_tables_stay_inside_a_narrow_window(tmp_path: Path) -> None:
    """Memory at two batch sizes is an 8-column table: it scrolls inside its box, and the page
    is never wider than the window."""
    path = tmp_path / "wide.html"
    args = ["report", "resnet50", "resnext50", "--batch", "1,32", "--no-counters", "--html",
            str(path)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    status = _status(path, 1000)
    assert status["status"] == "ok", status["errors"]
    assert (status["width"], status["wide"]) == ("1000", "0")


def test_sweep_menus_leave_the_toolbar_free(tmp_path: Path) -> None:
    """The "colour by" and "trend along" menus do not cover plotly's toolbar (modebar)."""
    from archprobe.report.html.sweep import write_sweep_html
    from archprobe.sweep.run import run_sweep
    from tests.sweep.test_sweep_report import SWEEP

    (tmp_path / "tiny.yaml").write_text(SWEEP, encoding="utf-8")
    run_sweep(tmp_path / "tiny.yaml", tmp_path / "tiny.db")
    page = tmp_path / "sweep.html"
    write_sweep_html(tmp_path / "tiny.db", page, {"command": "test"})
    assert page.read_text(encoding="utf-8").count('"type":"dropdown"') == 2  # EDF and trends
    status = _status(page, WIDTH)
    assert status["status"] == "ok", status["errors"]
    assert (status["overlaps"], status["wide"]) == ("0", "0")


def test_sweep_report_renders(tmp_path: Path) -> None:
    """The sweep report (figures with axis menus, latency panels) renders without errors."""
    from archprobe.report.html.sweep import write_sweep_html
    from tests.sweep.test_sweep_report import gpu_cardinality_db

    page = tmp_path / "sweep.html"
    write_sweep_html(gpu_cardinality_db(tmp_path / "s.db"), page, {"command": "test"})
    dom = _chromium(page.as_uri(), f"--window-size={WIDTH},1200", "--dump-dom")
    found = re.search(r'<div id="render-status"([^>]*)>(.*?)</div>', dom, re.S)
    assert found, "the page's status element is missing from the DOM"
    attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', found.group(1)))
    assert attrs["status"] == "ok", found.group(2)
    assert int(attrs["plots"]) == 3 and int(attrs["svgs"]) >= 3

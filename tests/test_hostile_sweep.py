"""Hostile sweeps (issue #18): a string-valued axis in the HTML report, and a measured sweep
whose batch cannot fit, refused from the torch-free prediction before anything is allocated."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archprobe.cli.app import app

HOSTILE = Path(__file__).parent / "data" / "hostile"
ROOT = Path(__file__).parents[1]
runner = CliRunner()


def test_html_report_of_a_sweep_with_a_text_axis(tmp_path: Path) -> None:
    db, page = tmp_path / "s.db", tmp_path / "s.html"
    r = runner.invoke(
        app, ["sweep", "run", str(HOSTILE / "string_axis_sweep.yaml"), "--db", str(db)]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["sweep", "results", str(db), "--html", str(page), "--csv",
                            str(tmp_path / "s.csv")])  # fmt: skip
    assert r.exit_code == 0 and r.exception is None, r.output
    html = page.read_text(encoding="utf-8")
    assert "block.shortcut = avgpool_conv1x1" in html and "block.shortcut = conv1x1" in html
    assert (tmp_path / "s.csv").read_text().count("avgpool_conv1x1") == 2  # 2 of 4 configs


def _limit_memory() -> None:  # in the child: 4 GiB of address space (torch's import fits)
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is how the bound is enforced")
def test_a_batch_that_cannot_fit_is_refused_before_allocating(tmp_path: Path) -> None:
    """Under a 4 GiB address-space limit and a 120 s timeout (a 20 TiB training step would hit
    either at once), the run ends in one line naming the prediction and the fix."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "archprobe", "sweep", "run",
           str(HOSTILE / "huge_batch_sweep.yaml"), "--db", str(tmp_path / "h.db")]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env,
                          preexec_fn=_limit_memory)  # fmt: skip
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith("huge-batch-0: training step at batch 1000000: needs about ")
    assert "TiB (predicted peak)" in lines[0] and "refused before allocating" in lines[0]
    assert "lower measure.batch" in lines[0]


def test_check_fits_refuses_only_what_exceeds_the_free_memory() -> None:
    torch = pytest.importorskip("torch")
    from archprobe.analysis.memory.fits import TooLarge, check_fits, host_available_bytes

    free = host_available_bytes()
    assert free is not None and free > 0
    check_fits("small", 1 << 20, torch.device("cpu"), "fix")
    with pytest.raises(TooLarge, match=r"^big: needs about .* refused before allocating: fix$"):
        check_fits("big", free * 2, torch.device("cpu"), "fix")

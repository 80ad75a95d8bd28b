"""`archprobe compare` with counters and measurements, through CliRunner (tiny CIFAR nets, CPU).
No timing is asserted: only that rows exist, carry their environment, and errors are clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from archprobe.analysis.compare import Measure, compare
from archprobe.cli.app import app

runner = CliRunner()


def test_measured_compare_end_to_end(tmp_path: Path) -> None:
    md, csv = tmp_path / "r.md", tmp_path / "r.csv"
    args = ["compare", "resnet20", "resnet32", "--measure", "latency,memory", "--batch", "1,2",
            "--min-time", "0.01", "--md", str(md), "--csv", str(csv)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "measured latency" in result.stdout and "memory: predicted vs measured" in result.stdout
    text = md.read_text()
    assert "## Counters and measurements" in text and "ratio vs baseline" in text
    header = csv.read_text().splitlines()[0]
    for column in ("device_name", "torch", "dtype", "layout", "batch", "threads"):
        assert column in header


def test_library_measure_rows_have_env() -> None:
    c = compare(
        ["resnet20", "resnet32"], measure=Measure(latency=True, device="cpu", min_run_time=0.01)
    )
    measured = [e for e in c.results.entries if e.method == "measured"]
    assert {e.model for e in measured} == {"resnet20", "resnet32"}
    assert all(e.env["batch"] == 1 and e.env["device"] == "cpu" for e in measured)
    assert all(e.values["latency_s"] > 0 for e in measured)


def test_counters_section() -> None:
    result = runner.invoke(app, ["compare", "resnet20", "resnet32", "--counters"])
    assert result.exit_code == 0, result.output
    assert "counters reconciled" in result.stdout and "FlopCounterMode" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--measure", "speed"], "allowed: latency, memory"),
        (["--batch", "0"], "positive integers"),
        (["--dtype", "fp8"], "allowed: fp32, fp16, bf16"),
        (["--optimizer", "lamb"], "allowed: sgd, sgd_momentum, adam"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["compare", "resnet20", "resnet32", *args])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", " ").replace("│", " ") or message in str(
        result.stderr
    )


def test_report_takes_the_compare_options(tmp_path: Path) -> None:
    """`report` has compare's measurement options (one alias each in cli/options.py)."""
    md = tmp_path / "r.md"
    args = ["report", "resnet20", "resnet32", "--md", str(md), "--no-counters", "--optimizer",
            "adam", "--min-time", "0.01", "--channels-last", "--compile"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "train · adam" in md.read_text(encoding="utf-8")
    bad = runner.invoke(app, ["report", "resnet20", "resnet32", "--md", str(md), "--optimizer",
                              "lamb"])  # fmt: skip
    assert bad.exit_code == 2

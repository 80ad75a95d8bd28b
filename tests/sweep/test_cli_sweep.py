"""`archprobe solve` and `archprobe sweep run|results` through CliRunner (analytic, no torch)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from typer.testing import CliRunner

from archprobe.cli.app import app

runner = CliRunner()
SWEEPS = Path(__file__).resolve().parents[2] / "specs" / "sweeps"


def test_solve_prints_table2() -> None:
    result = runner.invoke(app, ["solve", "resnet50"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for c, d, width in ((2, 40, 80), (4, 24, 96), (8, 14, 112), (32, 4, 128)):  # RX Table 2
        assert f"│ {c:>2} │ {d:>2} │ {width:>11} │" in result.stdout


def test_solve_per_stage_net_macs() -> None:
    args = ["solve", "resnet50", "--preserve", "net-macs", "--per-stage", "--groups", "8"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "d per stage" in result.stdout and "4.089 G (" in result.stdout


def test_solve_rejects_bad_input() -> None:
    result = runner.invoke(app, ["solve", "resnet50", "--groups", "1,x"])
    assert result.exit_code == 2 and "positive integers" in result.output
    result = runner.invoke(app, ["solve", "resnet50", "--per-stage"])
    assert result.exit_code == 2 and "whole-network target" in result.output


def test_run_results_csv_and_resume(tmp_path: Path) -> None:
    db, out = tmp_path / "x.db", tmp_path / "x.csv"
    spec = str(SWEEPS / "resnext50_cardinality.yaml")
    first = runner.invoke(app, ["sweep", "run", spec, "--db", str(db)])
    assert first.exit_code == 0, first.output
    assert "5 configs (0 already stored, 5 new)" in first.stderr
    again = runner.invoke(app, ["sweep", "run", spec, "--db", str(db)])
    assert "5 configs (5 already stored, 0 new)" in again.stderr
    shown = runner.invoke(app, ["sweep", "results", str(db)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "4.089 GMAC" in shown.stdout  # resnet50, facts.md §9.1
    assert runner.invoke(app, ["sweep", "results", str(db), "--csv", str(out)]).exit_code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["block.groups"], r["block.width_per_group"]) for r in rows] == [
        ("1", "64"), ("2", "40"), ("4", "24"), ("8", "14"), ("32", "4")
    ]  # fmt: skip
    assert rows[4]["macs"] == "4230479872"  # resnext50_32x4d, facts.md §9.1


def test_bad_sweep_file_is_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("sweep: s\nbase: resnet50\naxes:\n  block.groups: []\n", encoding="utf-8")
    result = runner.invoke(app, ["sweep", "run", str(path), "--db", str(tmp_path / "b.db")])
    assert result.exit_code == 1
    assert "bad.yaml:4:" in result.stderr and "empty axis" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_executor_and_missing_db(tmp_path: Path) -> None:
    spec = str(SWEEPS / "resnext50_cardinality.yaml")
    result = runner.invoke(app, ["sweep", "run", spec, "--db", str(tmp_path / "e.db"),
                                 "--executor", "gpu"])  # fmt: skip
    assert result.exit_code == 1 and "allowed: auto, inline, pool, ray" in result.stderr
    result = runner.invoke(app, ["sweep", "results", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "no such sweep database" in result.output


def test_bad_measure_settings_are_located(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    base = "sweep: s\nbase: resnet20\naxes: {block.groups: [1]}\n"
    for measure, needle in (
        ("{what: [latency], batch: 0}", "m.yaml:4:35: measure.batch: expected a positive integer"),
        ("{what: [latency], bacth: 8}", "m.yaml:4:28: measure.bacth: unknown measure setting"),
        ("{what: [speed]}", "m.yaml:4:10: measure: expected a list of latency, memory"),
    ):
        path.write_text(f"{base}measure: {measure}\n", encoding="utf-8")
        result = runner.invoke(app, ["sweep", "run", str(path), "--db", str(tmp_path / "m.db")])
        assert result.exit_code == 1 and needle in result.stderr, result.stderr
    assert not (tmp_path / "m.db").exists()  # refused before anything was written


def test_missing_sweep_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sweep", "run", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{tmp_path / 'none.yaml'}: cannot read sweep file")


def test_every_error_of_a_sweep_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "sweep: s\nbase: resnet50\nmode: zip\nextra: 1\naxes:\n"
        "  block.grups: [1, 2]\n  block.groups: []\n  stages.9.depth: [1]\n"
        "constraints: {mac: [1, 2], params: [3, 1]}\n"
        "measure: {what: [latency], bacth: 8, batch: 0}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["sweep", "run", str(path), "--db", str(tmp_path / "b.db")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    expected = [
        "bad.yaml:4:1: extra: unknown key",
        "bad.yaml:6:16: axes.block.grups: value 1 gives an invalid spec",
        "bad.yaml:7:17: axes.block.groups: empty axis",
        "bad.yaml:8:19: axes.stages.9.depth: stages.9: no such list index",
        "bad.yaml:9:20: constraints.mac: unknown metric",
        "bad.yaml:9:36: constraints.params: empty range: 3 > 1",
        "bad.yaml:10:28: measure.bacth: unknown measure setting 'bacth'; did you mean 'batch'?",
        "bad.yaml:10:45: measure.batch: expected a positive integer",
    ]
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected)  # one line per problem, in file order
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(f"{path.parent}/") and start in line, line
    assert not (tmp_path / "b.db").exists()


def test_commands_in_sweep_file_comments_parse() -> None:
    """Every `archprobe ...` command a shipped sweep file's comments give is a real command
    with real options: parsed by the CLI (with --help appended, so nothing runs)."""
    found = []
    for sweep in sorted(SWEEPS.glob("*.yaml")):
        for line in sweep.read_text(encoding="utf-8").splitlines():
            comment = line.partition("#")[2]
            found += [c.split() for c in re.findall(r"archprobe ([^`\n]+)", comment)]
    assert len(found) >= 3  # the files do give commands
    for args in found:
        result = runner.invoke(app, [*(a for a in args if a != "--help"), "--help"])
        assert result.exit_code == 0, f"archprobe {' '.join(args)}: {result.output}"


def test_a_random_sweep_short_of_n_says_so(tmp_path: Path) -> None:
    """4 depths x 3 group counts = 12 distinct configs; n = 20 cannot be met: the run stores the
    12, then says it stopped at the draw limit instead of reporting 12 as if they were asked."""
    path = tmp_path / "small.yaml"
    path.write_text(
        "sweep: small\nbase: resnet50\nmode: random\nseed: 0\nn: 20\naxes:\n"
        "  stages.0.depth: {int: [1, 4]}\n  block.groups: [1, 2, 4]\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["sweep", "run", str(path), "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.output
    assert "12 configs" in result.stderr
    assert "found 12 of the n = 20 configs asked for" in result.stderr
    path.write_text(path.read_text(encoding="utf-8").replace("n: 20", "n: 12"), encoding="utf-8")
    result = runner.invoke(app, ["sweep", "run", str(path), "--db", str(tmp_path / "t.db")])
    assert result.exit_code == 0 and "warning" not in result.stderr, result.output

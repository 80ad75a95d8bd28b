"""``archprobe check`` through typer's CliRunner: output a user relies on and exit codes.

The command is mounted on a local app here (``cli.py`` registers the same function), with a
second command so typer keeps ``check`` as a subcommand.
"""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from archprobe.checks import check_spec
from archprobe.cli.check import check

DATA = Path(__file__).resolve().parent.parent / "data" / "checks"
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command("check")(check)
app.command("noop")(lambda: None)
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_depth2_prints_the_proof() -> None:
    code, out, _ = invoke("depth2", "--size", "8")
    assert code == 0, out
    for text in (
        "ResNeXt Fig. 4",
        "32 × [3×3, 4; 3×3, 64], summed",  # the aggregated form
        "[3×3, 128; 3×3, 64]",  # the dense wide form
        "147,840",  # their (equal) params
        "(a) vs (b): max |Δ| float64",
        "✓ equal",
        "(a) vs (x)",
        "✓ not equivalent",
        "diagonal blocks",  # why
        "QED",
    ):
        assert text in out, text


def test_forms_prints_costs_errors_and_conclusion() -> None:
    code, out, _ = invoke(
        "forms", "-C", "3", "-d", "5", "--channels", "24", "--size", "6", "--min-time", "0.01"
    )
    assert code == 0, out
    for text in ("(a) aggregated", "(b) early concatenation", "(c) grouped conv", "QED", "Eq. 4"):
        assert text in out, text
    assert "median ± IQR" in out  # timed by default


def test_forms_no_time() -> None:
    code, out, _ = invoke("forms", "-C", "2", "-d", "4", "--channels", "16", "--no-time")
    assert code == 0 and "median" not in out and "train-mode BN" in out


def test_equivalences() -> None:
    code, out, _ = invoke("equivalences", "--size", "8")
    assert code == 0, out
    for text in ("BN folds", "option A", "option B", "plain", "projection params"):
        assert text in out, text


def test_spec_findings_are_compiler_style_lines() -> None:
    path = DATA / "rx001_trigger.yaml"
    code, out, err = invoke(str(path), "resnet50")
    assert code == 0  # warnings only
    expected = check_spec(path).findings[0].format()
    assert expected.startswith(f"{path}:5:46: RX001 warning: conv2 (layer1): basic block")
    assert expected in out.splitlines()
    assert "rx001_trigger: 1 warning (5 checks)" in err
    assert "resnet50: no findings" in err


def test_error_finding_exits_1() -> None:
    code, out, err = invoke(str(DATA / "sh002_trigger.yaml"))
    assert code == 1 and "SH002 error:" in out and "1 error" in err


def test_invalid_spec_exits_1_with_the_located_validation_error() -> None:
    path = DATA / "invalid_groups.yaml"
    code, _, err = invoke(str(path), "resnet18")
    assert code == 1
    assert f"{path}:5:5: stages.0: layer1.0: conv 16->48: groups=3 must divide" in err
    assert "resnet18: no findings" in err and "Traceback" not in err


def test_mixing_a_proof_with_specs_is_a_usage_error() -> None:
    code, _, err = invoke("depth2", "resnet50")
    assert code == 2 and "alone" in err


def test_out_of_range_option_is_a_usage_error() -> None:
    code, _, _ = invoke("depth2", "--channels", "0")
    assert code == 2

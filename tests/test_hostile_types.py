"""Strict spec types (issue #18): a boolean or a float is never read as an integer, NaN and
infinity are never numbers, wherever a spec sets one (reproducers in tests/data/hostile/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from archprobe.cli.app import app

HOSTILE = Path(__file__).parent / "data" / "hostile"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r.exit_code, r.stdout, r.stderr


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


@pytest.mark.parametrize(
    ("name", "where", "says"),
    [
        ("stride_bool.yaml", ":6:36: stages.1.stride", "an integer, not true/false"),
        ("stride_float.yaml", ":6:36: stages.1.stride", "an integer, not a float"),
        ("radix_bool.yaml", ":4:16: block.radix", "an integer, not true/false"),
        ("kernel_float.yaml", ":4:17: block.kernel", "an integer, not a float"),
        ("numbered_int.yaml", ":4:20: layout.numbered", "a valid boolean (got 1)"),
        ("dropout_nan.yaml", ":4:17: head.dropout", "a finite number (got nan)"),
        ("eps_inf.yaml", ":4:21: block.norm.eps", "a finite number (got inf)"),
    ],
)
def test_booleans_floats_nan_and_inf_are_never_taken_for_spec_numbers(
    name: str, where: str, says: str
) -> None:
    code, out, err = invoke("analyze", str(HOSTILE / name))
    line = one_line(err)
    assert code == 1 and out == ""
    assert line.startswith(f"{HOSTILE / name}{where}: ") and says in line


def test_the_same_numbers_written_as_integers_are_valid(tmp_path: Path) -> None:
    """The reproducers fail on their hostile value alone: written as ints they analyze."""
    for name, bad, good in [
        ("stride_bool.yaml", "stride: true", "stride: 2"),
        ("stride_float.yaml", "stride: 2.0", "stride: 2"),
        ("radix_bool.yaml", "radix: true", "radix: 1"),
        ("kernel_float.yaml", "kernel: 3.0", "kernel: 3"),
    ]:
        fixed = tmp_path / name
        fixed.write_text((HOSTILE / name).read_text().replace(bad, good))
        assert invoke("analyze", str(fixed))[0] == 0, name

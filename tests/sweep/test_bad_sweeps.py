"""Sweep files that must be refused, each with a located one-line error (tests/data/bad_sweeps/),
and a grid that must store every config (issue #18: nothing silently dropped or retyped)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archprobe.cli.app import app
from archprobe.errors import SpecError
from archprobe.sweep.run import run_sweep
from archprobe.sweep.spec import load_sweep

DATA = Path(__file__).resolve().parents[1] / "data"
BAD = DATA / "bad_sweeps"
CASES = {  # file: (line of the error, what it says)
    "n_true.yaml": (4, "n: random mode needs n: the number of configs to sample (a positive "
                       "integer), got True"),
    "stride_true.yaml": (5, "stages.1.stride: Input should be an integer, not true/false"),
    "stride_float.yaml": (5, "stages.1.stride: Input should be an integer, not a float"),
    "radix_true.yaml": (5, "block.radix: Input should be an integer, not true/false"),
    "constraint_nan.yaml": (6, "constraints.macs: must be [low, high]"),
    "sampler_inf.yaml": (6, "int: must be [low, high], got [1, inf]"),
    "quantize_nan.yaml": (6, "quantize must be a number, got nan"),
    "solve_target_nan.yaml": (6, "solve.target: target: a positive number"),
    "value_inf.yaml": (5, "values must be finite numbers, got [224, inf]"),
    "grid_too_large.yaml": (5, "the grid has 100 x 100 x 100 x 100 x 2 = 200,000,000 configs"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_sweep_is_located(name: str, tmp_path: Path) -> None:
    line, needle = CASES[name]
    with pytest.raises(SpecError) as info:
        run_sweep(load_sweep(BAD / name), tmp_path / "never.db")
    text = info.value.format()
    assert needle in text, text
    assert re.match(rf".*{re.escape(name)}:{line}:\d+: ", text), text
    assert not (tmp_path / "never.db").exists()


def test_every_file_in_bad_sweeps_has_a_case() -> None:
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(CASES)


def test_a_grid_stores_every_config(tmp_path: Path) -> None:
    """101 × 101 = 10,201 configs (a draw cap meant for random mode once kept 10,000)."""
    summary = run_sweep(load_sweep(DATA / "grid_101x101.yaml"), tmp_path / "g.db", batch=1000)
    assert (summary.total, summary.done, summary.tally.drawn) == (10_201, 10_201, 10_201)


@pytest.mark.parametrize("target", ["-1", "nan", "inf", "0"])
def test_solve_refuses_a_target_that_is_not_a_positive_number(target: str) -> None:
    result = CliRunner().invoke(app, ["solve", "resnet50", "--target", target])
    assert result.exit_code == 2 and "--target" in result.output, result.output

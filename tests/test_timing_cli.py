"""The CLI's device and timing settings (issue 17): no silent CUDA fallback, a visible warning
for ``--device auto`` on a CPU-only machine, bounded ``--min-time``, no CUDA settings in CPU
stamps, no profiler chatter on stderr. Tiny CIFAR nets, CPU, short runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from archprobe.cli.app import app

runner = CliRunner()
QUICK = ["--batch", "1", "--min-time", "0.01"]


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ceilings are cached under a temporary XDG cache, not the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.mark.parametrize("measure", [["--measure", "latency"], ["--roofline"]])
def test_device_cuda_without_cuda_exits_1_with_one_line(
    monkeypatch: pytest.MonkeyPatch, measure: list[str]
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = ["compare", "resnet20", "resnet32", *measure, "--device", "cuda", *QUICK]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "CUDA is not available" in lines[0] and "--device cpu" in lines[0]
    assert "Traceback" not in result.output and "measured latency" not in result.stdout


def test_device_auto_without_cuda_warns_on_stderr_and_stamps_no_cuda_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = ["compare", "resnet20", "resnet32", "--measure", "latency", "--device", "auto", *QUICK]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "warning: --device auto: no CUDA device, measuring on the CPU" in result.stderr
    assert "measured latency" in result.stdout and "threads" in result.stdout
    for cuda_only in ("cudnn_benchmark", "tf32"):
        assert cuda_only not in result.stdout


@pytest.mark.parametrize("value", ["inf", "nan", "1e9", "0"])
def test_min_time_must_be_finite_and_bounded(value: str) -> None:
    args = ["compare", "resnet20", "resnet32", "--measure", "latency", "--min-time", value]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "--min-time" in result.output


def test_roofline_prints_per_model_rows_and_the_time_accounting() -> None:
    args = ["compare", "resnet20", "resnet32", "--roofline", "--device", "cpu", *QUICK]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "conv + linear layers sum to" in result.stdout and "end-to-end latency" in result.stdout
    assert re.search(r"memory-bound: \d+ of 6 layers", result.stdout)  # resnet20's conv2
    assert re.search(r"memory-bound: \d+ of 10 layers", result.stdout)  # resnet32's conv2

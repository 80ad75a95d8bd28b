"""Issue 18 item 5: user modules that exit, cannot be copied, fail on meta for a reason the CPU
cannot fix, or ask for inputs and weights far larger than the machine (memory bounded by a
subprocess under ``ulimit -v``). Reproducers: tests/data/user_modules/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from archprobe.analysis.counters.profile import profile
from archprobe.cli.app import app
from archprobe.errors import ArchprobeError
from tests.data.user_modules.hostile import huge_linear, huge_linear_on_meta, uncopyable

ROOT = Path(__file__).resolve().parents[1]
MODULES = "tests.data.user_modules"
runner = CliRunner()
# The CLI's own peak is ~0.75 GB of address space (torch's libraries mapped); 3 GB leaves room
# for other builds of torch and is far below the 40 GB a clone of the weights or input needs.
LIMIT_KB = 3_000_000


def _cli_error(*args: str) -> str:
    result = runner.invoke(app, ["analyze", *args])
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr and lines
    return lines[0]


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("exits_on_import:model", "importing 'tests.data.user_modules.exits_on_import' called "
                                  "sys.exit(3) (SystemExit)"),
        ("interrupted_on_import:model", "was interrupted (KeyboardInterrupt)"),
        ("hostile:exits", "the factory called sys.exit(4) (SystemExit)"),
        ("hostile:interrupted", "the factory was interrupted (KeyboardInterrupt)"),
        ("hostile:exits_in_forward", "RuntimeError: the forward pass raised SystemExit(5)"),
    ],
)  # fmt: skip
def test_user_code_that_stops_is_one_clear_line(ref: str, says: str) -> None:
    line = _cli_error("--module", f"{MODULES}.{ref}", "--input", "1,4")
    assert line.startswith(f"{MODULES}.{ref}") and says in line


def test_a_failed_copy_is_named_as_such() -> None:
    with pytest.raises(ArchprobeError) as info:
        profile(uncopyable(), input_shape=(2, 4))
    text = str(info.value)
    assert text.startswith("Uncopyable cannot be copied for counting: copy.deepcopy raised "
                           "TypeError: cannot pickle '_thread.lock' object")  # fmt: skip
    assert "rejected the input" not in text


def test_weights_are_not_cloned_for_meta() -> None:
    """A 10^10-element weight stored in 4 bytes profiles without being materialised."""
    p = profile(huge_linear(), input_shape=(1, 100_000))
    assert p.device == "meta" and p.total("macs") == 10**10 and p.total("params") == 10**10 + 10**5


@pytest.mark.parametrize("factory", [huge_linear, huge_linear_on_meta])
def test_a_shape_error_on_meta_is_reported_not_retried_on_the_cpu(factory: object) -> None:
    with pytest.raises(ArchprobeError) as info:
        profile(factory(), input_shape=(1, 5))  # type: ignore[operator]
    first, at, hint = str(info.value).splitlines()
    assert first.startswith("Linear rejected the input of shape (1, 5): RuntimeError: a and b")
    assert (
        at
        == "  (at aten.addmm on (100000,), (1, 5), (100000, 100000), in the root module's forward)"
    )
    assert "--input" in hint


class CpuTensorInForward(nn.Module):
    """Makes a CPU tensor inside forward: meta and CPU tensors do not mix, the CPU copy runs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.ones(x.shape[-1])


def test_meta_limitations_still_fall_back_to_the_cpu() -> None:
    p = profile(CpuTensorInForward(), input_shape=(2, 3))
    assert p.device == "cpu" and p.total("elem_ops") == 6
    assert "meta tensors cannot run CpuTensorInForward" in p.notes[0]


def _bounded(*args: str) -> subprocess.CompletedProcess[str]:
    """``archprobe`` in a subprocess limited to LIMIT_KB of address space and 120 s."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = f"ulimit -v {LIMIT_KB}; exec {sys.executable} -m archprobe " + " ".join(args)
    return subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)  # fmt: skip


@pytest.mark.skipif(sys.platform != "linux", reason="ulimit -v bounds the address space on Linux")
def test_huge_input_on_meta_allocates_nothing() -> None:
    """--input 1,2,60000,60000 is 29 GB as fp32 zeros: on meta it is shapes only."""
    done = _bounded("analyze", "--module", "tests.modules_fixture:functional_cnn",
                    "--input", "1,2,60000,60000", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["device"] == "meta" and record["input_shape"] == [1, 2, 60000, 60000]
    # conv 3x3 (2 in, 2 out channels, padding 1): 2*9 MACs per output element, 2*60000^2 of
    # them; then the (1, 2) @ (2, 3) matmul's 6
    assert record["total"]["macs"] == 2 * 9 * 2 * 60000 * 60000 + 6


@pytest.mark.skipif(sys.platform != "linux", reason="ulimit -v bounds the address space on Linux")
def test_mis_shaped_huge_linear_reports_the_shape_in_bounded_memory() -> None:
    done = _bounded("analyze", "--module", f"{MODULES}.hostile:huge_linear", "--input", "1,5")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "rejected the input of shape (1, 5): RuntimeError: a and b must have same" in done.stderr
    assert "allocate" not in done.stderr

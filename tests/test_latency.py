"""Measured latency: row fields, OOM and no-CUDA paths by simulation, ratios, report views.

CPU only and fast (ResNet-20 at 32×32, short runs); timings are never asserted, only that they
exist. Real-CUDA checks carry ``@pytest.mark.gpu`` and run on a GPU machine.
"""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
import torch
from rich.console import Console
from torch import nn

from archprobe.analysis.results import Results
from archprobe.analysis.timing import latency
from archprobe.analysis.timing.env import resolve_device
from archprobe.analysis.timing.host import physical_cores
from archprobe.analysis.timing.latency import (
    LatencyRow,
    measure_latency,
    throughput_ratios,
    to_entries,
)
from archprobe.errors import ArchprobeError
from archprobe.report.terminal.latency import env_stamp, latency_table, progress_bar, to_text

REAL_BUILD, REAL_FREE = latency.build, latency._free
FAST: dict[str, Any] = {"min_run_time": 0.01, "min_rounds": 3, "max_warmup": 6}
ENV_KEYS = {
    "device", "device_name", "torch", "dtype", "layout", "batch", "threads", "compile",
    "autocast", "affinity", "physical_cores", "governor", "turbo", "rounds", "warm",
}  # fmt: skip
CUDA_ONLY = {"cudnn_benchmark", "tf32", "cudnn", "cuda", "driver"}


class FailAtBatch(nn.Module):
    """Wraps a model; raises ``error`` when called on a batch of ``batch`` images."""

    def __init__(self, inner: nn.Module, batch: int, error: RuntimeError) -> None:
        super().__init__()
        self.inner, self.batch, self.error = inner, batch, error

    def forward(self, x: torch.Tensor) -> Any:
        if x.shape[0] == self.batch:
            raise self.error
        return self.inner(x)


def failing_build(monkeypatch: pytest.MonkeyPatch, batch: int, error: RuntimeError) -> list[str]:
    """Make measure_latency build a model that fails at ``batch``; return the list that
    records each call of the cleanup after a failure."""
    freed: list[str] = []

    def free(device: torch.device) -> None:
        freed.append(device.type)
        REAL_FREE(device)

    monkeypatch.setattr(latency, "build", lambda s, d: FailAtBatch(REAL_BUILD(s, d), batch, error))
    monkeypatch.setattr(latency, "_free", free)
    return freed


def test_rows_have_median_iqr_throughput_and_env() -> None:
    calls: list[tuple[str, int]] = []
    rows = measure_latency(
        "resnet20", [1, 2], device="cpu", progress=lambda d, a: calls.append((d, a)), **FAST
    )
    assert [(r.model, r.batch, r.status) for r in rows] == [
        ("resnet20", 1, "ok"),
        ("resnet20", 2, "ok"),
    ]
    for r in rows:
        assert r.median_s > 0 and r.iqr_s >= 0
        assert r.throughput == pytest.approx(r.batch / r.median_s)
        assert set(r.env) >= ENV_KEYS and r.env["batch"] == r.batch and r.env["rounds"] >= 3
        assert not CUDA_ONLY & set(r.env)  # a CPU row does not depend on cuDNN settings
        assert r.env["device"] == "cpu" and r.env["dtype"] == "fp32" and "note" not in r.env
        assert r.env["threads"] == physical_cores() and r.env["torch"] == torch.__version__
        assert len(r.samples) == r.env["rounds"]
    assert sum(a for _, a in calls) == 2 and calls[0][0].startswith("batch 1: warm-up round 1")


@pytest.mark.parametrize(("dtype", "channels_last"), [("bf16", False), ("fp32", True)])
def test_autocast_and_channels_last_are_recorded(dtype: str, channels_last: bool) -> None:
    (row,) = measure_latency("resnet20", [2], "cpu", dtype, channels_last, **FAST)
    assert row.ok
    assert row.env["autocast"] == (dtype != "fp32") and row.env["dtype"] == dtype
    assert row.env["layout"] == ("channels_last" if channels_last else "contiguous")


def test_cuda_oom_marks_the_row_and_later_batches_still_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    oom = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
    freed = failing_build(monkeypatch, 4, oom)
    rows = measure_latency("resnet20", [1, 4, 2], device="cpu", **FAST)
    assert [r.status for r in rows] == ["ok", "oom", "ok"]
    assert math.isnan(rows[1].median_s) and rows[2].median_s > 0
    assert freed == ["cpu"]  # cleanup ran once, for the failed batch
    assert rows[1].env["batch"] == 4


def test_cpu_allocator_failure_is_oom_and_other_errors_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cpu_oom = RuntimeError(
        "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory"
    )
    failing_build(monkeypatch, 2, cpu_oom)
    assert [r.status for r in measure_latency("resnet20", [2, 1], "cpu", **FAST)] == ["oom", "ok"]
    wrapped = RuntimeError("backend compiler failed")  # how torch.compile re-raises an OOM
    wrapped.__cause__ = torch.cuda.OutOfMemoryError("CUDA out of memory")
    failing_build(monkeypatch, 1, wrapped)
    assert [r.status for r in measure_latency("resnet20", [1], "cpu", **FAST)] == ["oom"]
    failing_build(monkeypatch, 1, RuntimeError("cuDNN error: CUDNN_STATUS_NOT_SUPPORTED\ndetail"))
    rows = measure_latency("resnet20", [1, 2], "cpu", **FAST)
    assert [r.status for r in rows] == ["error: cuDNN error: CUDNN_STATUS_NOT_SUPPORTED", "ok"]


def test_cuda_without_cuda_is_an_error_and_auto_falls_back_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for device in ("cuda", "cuda:1"):
        with pytest.raises(ArchprobeError, match="CUDA is not available"):
            resolve_device(device)
    with pytest.raises(ArchprobeError, match="use --device cpu"):
        measure_latency("resnet20", [1], device="cuda", **FAST)
    choice = resolve_device("auto")
    assert choice.device.type == "cpu" and "measuring on the CPU" in choice.note
    (row,) = measure_latency("resnet20", [1], device="auto", **FAST)
    assert row.ok and row.env["device"] == "cpu" and row.env["requested_device"] == "auto"
    assert "note: --device auto: no CUDA device" in env_stamp([row.env])
    assert "cudnn_benchmark" not in env_stamp([row.env])


@pytest.mark.parametrize("device", ["tpu", "mps", "nonsense"])
def test_unsupported_devices_are_user_errors(device: str) -> None:
    with pytest.raises(ArchprobeError, match=f"device '{device}'"):
        resolve_device(device)


def test_unknown_dtype_is_a_user_error() -> None:
    with pytest.raises(ArchprobeError, match="expected one of fp32, fp16, bf16"):
        measure_latency("resnet20", [1], "cpu", dtype="fp64")


def row(model: str, batch: int, median: float, iqr: float, status: str = "ok") -> LatencyRow:
    return LatencyRow(model, batch, median, iqr, batch / median, status, {"batch": batch})


def timed(model: str, batch: int, samples: list[float]) -> LatencyRow:
    median = sorted(samples)[len(samples) // 2]
    return LatencyRow(model, batch, median, 0.0, batch / median, "ok", {}, tuple(samples))


def test_throughput_ratio_is_paired_with_an_interval_and_nan_for_failures() -> None:
    rows = [
        timed("base", 1, [2.0, 2.2, 1.8, 2.0, 2.4]),
        timed("other", 1, [1.0, 1.1, 0.9, 1.0, 1.2]),  # half the time in every round
        row("base", 8, 4.0, 0.4),
        row("other", 8, math.nan, math.nan, "oom"),
    ]
    first, failed = throughput_ratios(rows)
    assert (first.model, first.baseline, first.batch, first.paired) == ("other", "base", 1, True)
    assert (first.ratio, first.low, first.high) == pytest.approx((2.0, 2.0, 2.0))
    assert first.significant and first.verdict == "faster"
    assert failed.batch == 8 and math.isnan(failed.ratio) and failed.verdict == "—"
    assert throughput_ratios(rows, baseline="other")[0].ratio == pytest.approx(0.5)
    assert throughput_ratios([]) == []


def test_rows_of_other_rounds_get_an_unpaired_interval_and_rows_without_samples_none() -> None:
    a = timed("base", 1, [1.0, 1.1, 0.9, 1.05])
    b = timed("other", 1, [1.0, 0.95, 1.1])
    (ratio,) = throughput_ratios([a, b])
    assert not ratio.paired and ratio.low < 1 < ratio.high
    assert ratio.verdict == "no significant difference" and not ratio.significant
    (bare,) = throughput_ratios([row("base", 1, 2.0, 0.1), row("other", 1, 1.0, 0.1)])
    assert bare.ratio == 2.0 and math.isnan(bare.low) and bare.verdict == "no interval"


def test_rows_become_measured_results_entries() -> None:
    rows = [row("base", 4, 0.5, 0.01), row("base", 8, math.nan, math.nan, "oom")]
    entries = to_entries(rows)
    assert entries[0].method == "measured" and entries[0].values["throughput"] == 8.0
    assert entries[1].env["status"] == "oom" and math.isnan(entries[1].values["latency_s"])
    assert Results(entries[:1]).total("latency_s") == 0.5
    assert rows[0].throughput_iqr == pytest.approx(4 * 0.01 / 0.5**2)


def test_latency_table_shows_interval_verdict_flags_and_failures() -> None:
    rows = [
        timed("base", 1, [2e-3, 2.1e-3, 1.9e-3, 2e-3]),
        timed("other", 1, [1e-3, 1.5e-3, 0.6e-3, 1e-3]),  # IQR 30% of the median: noisy
        row("other", 2, 1.0, 0, "oom"),
    ]
    text = to_text(latency_table(rows, throughput_ratios(rows)), width=200)
    assert "1 (baseline)" in text and "2.000 [" in text and "faster" in text
    assert "ok · noisy" in text and "oom" in text and "noisy: IQR above 10%" in text
    assert "95% bootstrap interval" in text


def test_progress_bar_yields_a_callback() -> None:
    console = Console(file=io.StringIO(), force_terminal=False)
    with progress_bar(2, console=console) as progress:
        progress("resnet20 · batch 1: warm-up", 0)
        progress("resnet20 · batch 1: 1.00 ms", 1)


@pytest.mark.gpu
def test_cuda_fp16_channels_last_rows() -> None:
    rows = measure_latency("resnet18", [1, 8], "cuda", "fp16", channels_last=True, **FAST)
    assert all(r.ok and r.env["device"] == "cuda" for r in rows)
    assert rows[0].env["cudnn_benchmark"] is True and rows[0].env["autocast"] is True
    assert rows[0].env["device_name"] == torch.cuda.get_device_name()


@pytest.mark.gpu
def test_real_cuda_oom_then_recovers() -> None:
    # 65536 images: conv1's output alone is 65536·64·112²·4 B ≈ 210 GB, more than any GPU holds.
    rows = measure_latency("resnet18", [1, 65536, 2], "cuda", **FAST)
    assert [r.status[:9] for r in rows] == ["ok", "too large", "ok"]  # refused, not allocated

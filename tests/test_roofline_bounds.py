"""Rooflines you can believe (issue 17): no layer reports more than its ceiling without a flag,
ceilings are measured once per machine and cached outside the repository, the profiler's C++
chatter stays off stderr, and a batch that cannot fit is refused before allocation. CPU, fast."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from archprobe.analysis.timing import ceilings as ceilings_module
from archprobe.analysis.timing.ceilings import cache_path, device_ceilings
from archprobe.analysis.timing.devices import H100_SXM, DeviceCeilings
from archprobe.analysis.timing.latency import prepare_model
from archprobe.analysis.timing.layer_times import layer_times
from archprobe.analysis.timing.roofline import RooflineReport
from archprobe.analysis.timing.roofline_measure import rooflines
from archprobe.errors import ArchprobeError
from archprobe.report.terminal.latency import roofline_layer_table, time_accounting, to_text
from archprobe.spec import load_spec

SLOW = DeviceCeilings("slow", {"fp32": 1e3}, 1e3, "test")  # 1 kFLOP/s: every layer beats it


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ARCHPROBE_CACHE_DIR", raising=False)  # conftest's: the XDG path is tested
    return tmp_path / "cache"


def assert_no_unflagged_row_above_its_ceiling(report: RooflineReport) -> None:
    c = report.ceilings
    peak, bandwidth = c.flops(report.math), c.bandwidth
    for r in report.layers:
        assert r.measured_s is not None and r.measured_s > 0
        roof = min(peak, r.flops_per_byte * bandwidth)  # FLOP/s the roofline allows
        if r.below_bound:
            assert r.achieved_flops is None  # flagged, never reported as achieved
        else:
            assert r.achieved_flops is not None and r.achieved_flops <= roof * (1 + 1e-9)
    for e in report.to_results().entries:
        if e.method == "measured" and e.scope:
            assert ("achieved_flops" in e.values) == (not e.env["below_bound"])


def test_on_cpu_no_row_reports_more_than_its_measured_ceiling_without_a_flag() -> None:
    (report,) = rooflines(["resnet20"], batch=2, device="cpu", iters=2)
    assert report.ceilings.measured and len(report.layers) == 20
    assert_no_unflagged_row_above_its_ceiling(report)


def test_a_ceiling_every_layer_beats_flags_every_layer_and_a_datasheet_one_none() -> None:
    slow, fast = (
        rooflines(["resnet20"], 1, "cpu", iters=1, ceilings=c)[0] for c in (SLOW, H100_SXM)
    )
    assert len(slow.below_bound) == 20 and not fast.below_bound
    for report in (slow, fast):
        assert_no_unflagged_row_above_its_ceiling(report)
    text = to_text(roofline_layer_table(slow), width=200)
    assert text.count("below bound") >= 20
    (line,) = time_accounting([slow])
    assert "20 of 20 layers below bound (flagged)" in line and "end-to-end latency" in line


def test_sum_of_layers_is_printed_against_the_forward_and_the_latency() -> None:
    (report,) = rooflines(["resnet20"], 1, "cpu", iters=2, ceilings=H100_SXM)
    assert report.layers_s == pytest.approx(sum(r.measured_s or 0 for r in report.layers))
    assert report.latency_s is not None and report.forward_s is not None
    assert report.layers_s < report.forward_s  # BN, ReLU, adds and pools are outside them
    (line,) = time_accounting([report], {"resnet20": 0.5})
    assert "conv + linear layers sum to" in line and "end-to-end latency 500 ms" in line


def test_ceilings_are_measured_once_per_process_and_the_xdg_cache_keeps_the_best(
    monkeypatch: pytest.MonkeyPatch, _cache: Path, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(ceilings_module, "_THIS_PROCESS", {})
    calls: list[str] = []
    runs = iter([(1e11, 1e10), (5e10, 2e10), (3e11, 1e9), (1e11, 1e10)])  # (FLOP/s, B/s) per run

    def measure(device: torch.device, dtype: str, math: str | None = None) -> DeviceCeilings:
        calls.append(dtype)
        flops, bandwidth = next(runs)
        return DeviceCeilings("cpu", {"fp32": flops}, bandwidth, "measured: test", measured=True)

    monkeypatch.setattr(ceilings_module, "measure_ceilings", measure)
    cpu = torch.device("cpu")
    first = device_ceilings(cpu, "fp32")
    assert device_ceilings(cpu, "fp32") is first and calls == ["fp32"]  # once per process
    assert (first.peak_flops["fp32"], first.bandwidth) == (1e11, 1e10)
    assert cache_path() == _cache / "archprobe" / "ceilings.json" and cache_path().is_file()
    assert not list(tmp_path.glob("*.json"))  # nothing in the working directory
    monkeypatch.setattr(ceilings_module, "_THIS_PROCESS", {})  # a second process: slower FLOPs
    second = device_ceilings(cpu, "fp32")
    assert (second.peak_flops["fp32"], second.bandwidth) == (1e11, 2e10)  # each the best seen
    monkeypatch.setattr(ceilings_module, "_THIS_PROCESS", {})
    third = device_ceilings(cpu, "fp32")
    assert (third.peak_flops["fp32"], third.bandwidth) == (3e11, 2e10)
    assert "best of this and earlier runs" in third.source
    cache_path().write_text("{not json")  # a broken file: this run's measurement, not fatal
    monkeypatch.setattr(ceilings_module, "_THIS_PROCESS", {})
    assert device_ceilings(cpu, "fp32").peak_flops["fp32"] == 1e11
    assert calls == ["fp32"] * 4


def test_profiler_chatter_stays_off_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    model = prepare_model(load_spec("resnet20"), torch.device("cpu"), channels_last=False)
    with torch.inference_mode():
        times = layer_times(model, torch.randn(1, 3, 32, 32), ["conv1"], iters=1)
    assert times["conv1"] > 0 and not math.isnan(times["conv1"])
    assert "USDT" not in capfd.readouterr().err


def test_a_batch_that_cannot_fit_is_refused_before_allocation() -> None:
    with pytest.raises(ArchprobeError, match="too large: batch 1000000 needs"):
        rooflines(["resnet50"], batch=1_000_000, device="cpu", ceilings=H100_SXM)


def test_cpu_memory_measurement_keeps_the_profiler_chatter_off_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    from archprobe.analysis.memory.measure import measure_inference

    model = prepare_model(load_spec("resnet20"), torch.device("cpu"), channels_last=False)
    measured = measure_inference(model, (1, 3, 32, 32), "cpu")
    assert measured.peak_bytes > 0 and "USDT" not in capfd.readouterr().err

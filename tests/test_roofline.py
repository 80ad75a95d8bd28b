"""Roofline: intensities and bounds against hand-computed conv costs, stage summaries, profiler
ranges, device table. Fast, CPU only; timings are never asserted beyond "measured, positive"."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
from torch import nn

from archprobe.analysis.timing.ceilings import measure_ceilings
from archprobe.analysis.timing.devices import (
    A100_40,
    A100_80_PCIE,
    A100_80_SXM,
    H100_PCIE,
    H100_SXM,
    H200,
    DeviceCeilings,
    lookup,
    math_mode,
)
from archprobe.analysis.timing.latency import prepare_model
from archprobe.analysis.timing.layer_times import FORWARD, layer_times, profiler_ranges
from archprobe.analysis.timing.roofline import LayerRoofline, analytic_roofline, roofline
from archprobe.errors import ArchprobeError
from archprobe.report.terminal.latency import grouped_conv_summary, roofline_stage_table, to_text
from archprobe.spec import load_spec

# ridge = 2e12 / 1e11 = 20 FLOP/B = 10 MAC/B: between the 1×1/grouped and the dense 3×3 below
TOY = DeviceCeilings("toy", {"fp32": 2e12, "fp16": 2e12}, 1e11, "test")


def conv_cost(
    cin: int, cout: int, k: int, g: int, hw: int, batch: int, size: int
) -> tuple[int, int]:
    """(MACs, bytes) of a stride-1 k×k conv on an hw×hw map, from the conv formulas:
    MACs = H·W·Cout·(Cin/g)·k² per image; bytes = (input + output) per image + weights once."""
    weights = cout * (cin // g) * k * k
    macs = hw * hw * cout * (cin // g) * k * k * batch
    elements = (cin * hw * hw + cout * hw * hw) * batch + weights
    return macs, elements * size


def layer(model: str, scope: str, batch: int = 1, dtype: str = "fp32") -> LayerRoofline:
    report = analytic_roofline(model, batch, dtype, TOY)
    return next(r for r in report.layers if r.scope == scope)


def test_1x1_conv_intensity_and_bound() -> None:
    r = layer("resnet50", "layer1.0.conv1")  # 1×1, 64 → 64 at 56×56
    assert (r.macs, r.bytes) == conv_cost(64, 64, 1, 1, 56, 1, 4)
    assert (r.macs, r.bytes) == (12_845_056, 1_622_016)  # 56²·64·64; (2·64·56² + 64²)·4
    assert r.intensity == pytest.approx(7.919, abs=1e-3)
    assert r.bound == "memory"  # 7.9 MAC/B < ridge 10 MAC/B
    assert r.attainable_s == pytest.approx(max(2 * r.macs / 2e12, r.bytes / 1e11))
    assert r.attainable_s == pytest.approx(16.22016e-6)


def test_grouped_3x3_is_memory_bound_where_dense_3x3_is_not() -> None:
    dense = layer("resnet50", "layer1.0.conv2")  # 3×3, 64 → 64
    grouped = layer("resnext50", "layer1.0.conv2")  # 3×3, 128 → 128, C=32 (4 channels a group)
    assert (dense.macs, dense.bytes) == conv_cost(64, 64, 3, 1, 56, 1, 4)
    assert (grouped.macs, grouped.bytes) == conv_cost(128, 128, 3, 32, 56, 1, 4)
    assert dense.intensity == pytest.approx(115_605_504 / 1_753_088)  # 65.9 MAC/B
    assert grouped.intensity == pytest.approx(14_450_688 / 3_229_696)  # 4.47 MAC/B
    assert (dense.bound, grouped.bound) == ("compute", "memory")
    assert grouped.op == "3×3, 128, C=32"
    assert grouped.flops_per_byte == pytest.approx(2 * grouped.intensity)


def test_batch_reads_weights_once_and_fp16_halves_bytes() -> None:
    r = layer("resnext50", "layer1.0.conv2", batch=4, dtype="fp16")
    assert (r.macs, r.bytes) == conv_cost(128, 128, 3, 32, 56, 4, 2)


def test_every_stage_grouped_3x3_has_lower_intensity() -> None:
    base = analytic_roofline("resnet50", 1, "fp32", TOY)
    other = analytic_roofline("resnext50", 1, "fp32", TOY)
    assert [s.stage for s in base.stages()] == ["conv1", "conv2", "conv3", "conv4", "conv5", "head"]
    dense = {s.stage: s.conv3x3 for s in base.stages()}
    grouped = {s.stage: s.conv3x3 for s in other.stages()}
    assert {s: g.layers for s, g in dense.items()} == {
        "conv1": 0, "conv2": 3, "conv3": 4, "conv4": 6, "conv5": 3, "head": 0,
    }  # fmt: skip
    for stage in ("conv2", "conv3", "conv4", "conv5"):
        assert grouped[stage].intensity < dense[stage].intensity
    # conv4, a stride-1 block: 3×3, 256 at 14×14 against 3×3, 512, C=32 at 14×14
    for model, (cin, g) in (("resnet50", (256, 1)), ("resnext50", (512, 32))):
        r = layer(model, "layer3.1.conv2")
        assert (r.macs, r.bytes) == conv_cost(cin, cin, 3, g, 14, 1, 4)
    assert base.ridge_macs_per_byte == pytest.approx(10.0)
    assert base.stages()[1].all.macs == sum(r.macs for r in base.layers if r.stage == "conv2")


def test_stage_table_and_summary_render() -> None:
    base = analytic_roofline("resnet50", 1, "fp32", TOY)
    other = analytic_roofline("resnext50", 1, "fp32", TOY)
    text = to_text(roofline_stage_table([base, other]), width=200)
    assert "conv2" in text and "MAC/B" in text and "ridge 10.0 MAC/B" in text
    assert "memory-bound: 0 of 3 layers" in text  # resnet50's dense conv2 3×3
    assert "memory-bound: 3 of 3 layers" in text  # resnext50's grouped ones
    lines = grouped_conv_summary(base, other)
    assert len(lines) == 4 and lines[0].startswith("conv2 3×3: resnext50_32x4d 4.")
    assert "memory-bound: 3 of 3 layers" in lines[0] and "%" not in lines[0]


def test_each_model_has_its_own_rows_so_order_changes_nothing_but_the_order() -> None:
    base = analytic_roofline("resnet50", 1, "fp32", TOY)
    other = analytic_roofline("resnext50", 1, "fp32", TOY)
    table = roofline_stage_table([base, other])
    swapped = roofline_stage_table([other, base])
    rows = lambda t: sorted(zip(*(c._cells for c in t.columns), strict=True))  # noqa: E731
    assert rows(table) == rows(swapped) and len(rows(table)) == 8  # 4 stages × 2 models


def test_layer_times_cover_every_conv_and_linear_and_remove_hooks() -> None:
    model = prepare_model(load_spec("resnet20"), torch.device("cpu"), channels_last=False)
    scopes = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    with torch.inference_mode():
        times = layer_times(model, torch.randn(2, 3, 32, 32), scopes, iters=2)
    forward = times.pop(FORWARD)
    assert list(times) == scopes and len(scopes) == 20  # 19 convs + fc (ResNet-20)
    assert forward > max(times.values())  # the whole pass contains every layer
    assert all(t > 0 and not math.isnan(t) for t in times.values())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_ranges_are_removed_when_the_forward_fails() -> None:
    model = prepare_model(load_spec("resnet20"), torch.device("cpu"), channels_last=False)
    failing = model.get_submodule("layer1.0.conv2")

    def boom(x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom")

    failing.forward = boom  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="boom"), profiler_ranges(model, ["layer1.0.conv2"]):
        model(torch.randn(1, 3, 32, 32))
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    with (
        pytest.raises(ArchprobeError, match="no module named 'layer9'"),
        profiler_ranges(model, ["layer9"]),
    ):
        pass


def test_roofline_measures_every_layer_on_cpu() -> None:
    report = roofline("resnet20", batch=2, device="cpu", iters=2, ceilings=TOY)
    assert report.measured and len(report.layers) == 20
    assert all(r.measured_s is not None and r.measured_s > 0 for r in report.layers)
    assert report.env["device"] == "cpu" and report.env["batch"] == 2
    assert report.forward_s is not None and report.forward_s > 0
    stage = report.stages()[1]
    assert stage.all.measured_s == pytest.approx(
        sum(r.measured_s or 0 for r in report.layers if r.stage == stage.stage)
    )


def test_measured_cpu_ceilings() -> None:
    c = measure_ceilings(torch.device("cpu"), "fp32", min_run_time=0.02)
    assert c.measured and c.flops("fp32") > 0 and c.bandwidth > 0
    assert "GEMM" in c.source and "triad" in c.source
    with pytest.raises(ArchprobeError, match="no fp16 peak"):
        c.flops("fp16")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NVIDIA H100 80GB HBM3", H100_SXM),
        ("NVIDIA H100 PCIe", H100_PCIE),
        ("NVIDIA H200", H200),
        ("NVIDIA A100-SXM4-80GB", A100_80_SXM),
        ("NVIDIA A100 80GB PCIe", A100_80_PCIE),
        ("NVIDIA A100-SXM4-40GB", A100_40),
        ("NVIDIA A100-PCIE-40GB", A100_40),
        ("NVIDIA GH200 480GB", None),  # Grace Hopper: other memory, measured instead
        ("NVIDIA H100 NVL", None),
        ("NVIDIA GeForce RTX 4090", None),
    ],
)
def test_device_table_lookup(name: str, expected: DeviceCeilings | None) -> None:
    assert lookup(name) is expected


def test_device_table_values() -> None:
    assert H100_SXM.flops("fp16") == pytest.approx(989.4e12)
    assert H100_SXM.flops("tf32") == pytest.approx(494.7e12)
    assert H100_SXM.flops("fp32") == pytest.approx(66.9e12)
    assert [H100_SXM.bandwidth, H200.bandwidth, A100_80_SXM.bandwidth] == pytest.approx(
        [3.35e12, 4.8e12, 2.039e12]
    )
    assert H200.flops("bf16") == H100_SXM.flops("bf16")
    assert A100_80_SXM.flops("fp16") == pytest.approx(312e12)
    assert H100_SXM.ridge("fp16") == pytest.approx(989.4 / 3.35)


def test_math_mode() -> None:
    assert math_mode("fp32", "cuda", tf32=True) == "tf32"
    assert math_mode("fp32", "cuda", tf32=False) == "fp32"
    assert math_mode("fp32", "cpu", tf32=True) == "fp32"
    assert math_mode("bf16", "cuda", tf32=True) == "bf16"


def test_analytic_part_imports_without_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import archprobe.report.terminal.latency\n"
        "from archprobe.analysis.timing.devices import H100_SXM\n"
        "from archprobe.analysis.timing.roofline import analytic_roofline\n"
        "r = analytic_roofline('resnet50', 1, 'fp16', H100_SXM)\n"
        "assert r.layers and 'torch' not in [m for m in sys.modules if sys.modules[m]]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.gpu
def test_cuda_roofline_uses_kernel_times_and_the_table() -> None:
    report = roofline("resnet18", batch=8, device="cuda", dtype="fp16", iters=3)
    assert report.env["device"] == "cuda" and report.math == "fp16"
    assert all(r.measured_s is not None and r.measured_s > 0 for r in report.layers)
    known = lookup(torch.cuda.get_device_name())
    assert report.ceilings is known or (known is None and report.ceilings.measured)


@pytest.mark.gpu
def test_cuda_measured_ceilings_are_plausible() -> None:
    c = measure_ceilings(torch.device("cuda"), "fp16", min_run_time=0.05)
    assert c.flops("fp16") > 1e13 and c.bandwidth > 1e11  # at least a 10 TFLOP/s, 100 GB/s GPU

"""ResNet-B/C/D, SE, Res2Net and ResNeSt as spec files: the exact counts of facts.md §9.1, the
module names of the reference code (timm/GluonCV), and forward runs of the new blocks."""

from __future__ import annotations

import pytest
import torch

from archprobe.analysis.analytic import analyze_spec
from archprobe.analysis.counters.conventions import CONVENTIONS
from archprobe.analysis.counters.reconcile import reconcile
from archprobe.analysis.memory.model import predict_training
from archprobe.builder.network import build
from archprobe.spec import load_spec
from archprobe.spec.expand import expand

# facts.md §9.1 (224×224, 1000 classes; MACs of conv + fc, SE fcs included).
EXACT = {
    "resnet50c": (25_576_264, 4_328_824_832),
    "resnet50d": (25_576_264, 4_328_824_832),
    "seresnet50": (28_088_024, 4_091_699_200),
    "res2net50_26w_4s": (25_699_120, 4_255_166_464),
    "resnest50": (27_483_240, 5_371_160_576),
    "resnest50_fast_2s1x64d": (27_483_240, 4_330_711_040),
}
# facts.md §4.2 [D] (params exact, MACs to the printed 3 decimals).
RES2NET_SIBLINGS = {
    "res2net50_48w_2s": (25_287_304, 4.160),
    "res2net50_14w_8s": (25_059_816, 4.179),
}
NEW = [
    *EXACT,
    *RES2NET_SIBLINGS,
    "seresnext50_32x4d",
    "resnext50d_32x4d",
]


@pytest.mark.parametrize("name", list(EXACT))
def test_exact_counts(name: str) -> None:
    totals = analyze_spec(name).results
    assert (totals.total("params"), totals.total("macs")) == EXACT[name]


@pytest.mark.parametrize("name", list(RES2NET_SIBLINGS))
def test_res2net_siblings(name: str) -> None:
    totals = analyze_spec(name).results
    params, gmacs = RES2NET_SIBLINGS[name]
    assert totals.total("params") == params
    assert round(totals.total("macs") / 1e9, 3) == gmacs


def test_se_adds_the_papers_parameters() -> None:
    """SE Eq. 5: (2/r)·Σ N·C² weights plus the fc biases (facts §6: +2,530,992)."""
    extra = analyze_spec("seresnet50").results.total("params") - 25_557_032
    weights = 2 * sum(n * c * c // 16 for n, c in [(3, 256), (4, 512), (6, 1024), (3, 2048)])
    assert weights == 2_514_944
    assert extra == weights + 16_048


def test_deep_stem_and_avg_down_module_names() -> None:
    """timm resnet50d state_dict keys: conv1.{0,1,3,4,6}, bn1, downsample.{1,2} (pool at .0)."""
    model = build(load_spec("resnet50d"), device="meta")
    keys = set(model.state_dict())
    for k in ("conv1.0.weight", "conv1.1.weight", "conv1.3.weight", "conv1.4.running_mean"):
        assert k in keys
    assert tuple(model.state_dict()["conv1.6.weight"].shape) == (64, 32, 3, 3)
    assert {"bn1.weight", "layer1.0.downsample.1.weight", "layer2.0.downsample.2.bias"} <= keys
    assert isinstance(model.layer2[0].downsample[0], torch.nn.AvgPool2d)
    assert "0" not in dict(model.layer1[0].downsample.named_children())  # stride 1: no pool


def test_new_block_module_names() -> None:
    se = set(build(load_spec("seresnet50"), device="meta").state_dict())
    assert {"layer1.0.se.fc1.weight", "layer1.0.se.fc1.bias", "layer4.2.se.fc2.bias"} <= se
    rs = set(build(load_spec("resnest50"), device="meta").state_dict())
    assert {"layer1.0.conv2.conv.weight", "layer1.0.conv2.bn0.weight"} <= rs
    assert {
        "layer2.0.conv2.fc1.bias",
        "layer2.0.conv2.bn1.weight",
        "layer2.0.conv2.fc2.weight",
    } <= rs
    r2 = build(load_spec("res2net50_26w_4s"), device="meta")
    keys = set(r2.state_dict())  # timm's Bottle2neck: the splits' layers live on the block
    assert {"layer1.0.convs.2.weight", "layer1.0.bns.0.running_var", "layer4.2.bn3.bias"} <= keys
    assert not any(".splits." in k for k in keys)
    assert hasattr(r2.layer1[0], "pool") and not hasattr(r2.layer1[1], "pool")


def test_avd_moves_the_pool() -> None:
    """avd: the pool after the 3×3 (resnest50) or before it (the 'fast' models), stages 2-4 only."""
    slow = build(load_spec("resnest50"), device="meta")
    fast = build(load_spec("resnest50_fast_2s1x64d"), device="meta")
    assert hasattr(slow.layer2[0], "avd_last") and not hasattr(slow.layer1[0], "avd_last")
    assert hasattr(fast.layer2[0], "avd_first") and not hasattr(fast.layer2[1], "avd_first")


@pytest.mark.parametrize("name", NEW)
def test_forward_on_cpu(name: str) -> None:
    model = build(load_spec(name), device="cpu").eval()
    with torch.no_grad():
        y = model(torch.randn(2, 3, 64, 64))
    assert y.shape == (2, 1000)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", ["seresnet50", "res2net50_26w_4s", "resnest50"])
def test_every_counter_and_the_memory_model_know_the_new_ops(name: str) -> None:
    graph = expand(load_spec(name))
    for convention in CONVENTIONS.values():
        assert convention.predict(graph).unmodelled == {}
    assert CONVENTIONS["flopcounter"].predict(graph).native["conv"] > 0
    assert predict_training(graph, 2, "sgd").saved_bytes > 0


@pytest.mark.parametrize("name", ["seresnet50", "res2net50_26w_4s", "resnest50"])
def test_every_counter_counts_the_composites_as_their_ops_say(name: str) -> None:
    """SE, Res2Net splits and split attention are subgraphs of primitive ops: each third-party
    counter, run on the built module, gives what the ops' counting facts predict per category."""
    spec = load_spec(name)
    spec = spec.model_copy(update={"input": spec.input.model_copy(update={"size": 64})})
    for report in reconcile(spec).counters:
        if report.ok:
            assert report.mismatches == (), (report.counter, report.native)

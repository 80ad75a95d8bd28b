"""MobileNetV2, MobileNetV3-Large/Small and MNASNet against torchvision's published facts.

Ground truth: the torchvision oracle files (tests/data/oracles/, copied from the shared facts:
exact params, MACs = FlopCounterMode FLOPs / 2, MACs per module path, state_dict keys and
shapes), torchvision's weight metadata (facts.md §11: num_params, _ops in GMACs), and
torchvision's forward and layer settings, re-implemented here in plain torch from its source
(``torchvision/models/mobilenetv3.py`` ``InvertedResidual`` / ``SqueezeExcitation``,
``mobilenetv2.py`` ``InvertedResidual``, ``mnasnet.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from archprobe.analysis.counters.profile import match_spec
from archprobe.blocks.mobilenet import InvertedResidual, InvertedResidualParams
from archprobe.builder.network import build
from archprobe.checks import check_spec
from archprobe.errors import SpecError
from archprobe.graph.nodes import Graph, Section
from archprobe.spec import load_spec
from archprobe.spec.expand import expand
from archprobe.spec.loader import spec_from_dict

ORACLES = Path(__file__).parent.parent / "data" / "oracles"


def oracle(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ORACLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def test_mnasnet_module_names() -> None:
    """torchvision ``MNASNet``: ``layers.0``–``7`` stem, ``layers.8``–``13`` the stacks (each an
    ``nn.Sequential`` of ``_InvertedResidual`` with a flat ``layers``), ``layers.14``–``16``,
    ``classifier.1``; α = 0.5 scales the stem too (model version 2: 16, 8)."""
    state = build(load_spec("mnasnet0_5"), "meta").state_dict()
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes["layers.0.weight"] == (16, 3, 3, 3)
    assert shapes["layers.3.weight"] == (16, 1, 3, 3)
    assert shapes["layers.6.weight"] == (8, 16, 1, 1)
    assert shapes["layers.8.0.layers.0.weight"] == (24, 8, 1, 1)  # t = 3
    assert shapes["layers.9.2.layers.3.weight"] == (72, 1, 5, 5)
    assert shapes["layers.13.0.layers.6.weight"] == (160, 96 * 6, 1, 1)
    assert shapes["layers.14.weight"] == (1280, 160, 1, 1)
    assert shapes["classifier.1.weight"] == (1000, 1280)
    assert not any(k.startswith(("layers.17", "classifier.0")) for k in shapes)


def test_width_mult_follows_torchvision_rounding() -> None:
    """MobileNetV2 at 1.4: ``_make_divisible(32·1.4, 8)`` = 48, 16·1.4 → 24, 24·1.4 → 32, and the
    head ``_make_divisible(1280·max(1, 1.4), 8)`` = 1792; at 0.5 the head stays 1280."""
    base = load_spec("mobilenet_v2").model_dump(mode="json", exclude={"name", "published"})
    del base["aliases"]
    for mult, stem, first, second, head in ((1.4, 48, 24, 32, 1792), (0.5, 16, 8, 16, 1280)):
        doc = {**base, "name": "v2", "width_mult": {"multiplier": mult, "head": "up_only"}}
        spec = spec_from_dict(doc)
        assert spec.stem.width == stem  # type: ignore[attr-defined]
        assert [s.width for s in spec.stages[:2]] == [first, second]
        assert spec.head.conv.width == head  # type: ignore[attr-defined]


def _block(p: dict[str, Any], cin: int, cout: int, stride: int) -> nn.Module:
    params = InvertedResidualParams.model_validate({"type": "inverted_residual", **p})
    node = InvertedResidual.expand(params, cin, cout, stride, "b")
    model = build(Graph("one", (cin, 9, 9), (Section("all", (node,)),)), "cpu")
    return model.get_submodule("b")


def _randomize(m: nn.Module) -> None:
    """Random weights and BN statistics (small variances, so an eps mix-up shows)."""
    torch.manual_seed(0)
    for name, t in m.state_dict().items():
        if t.is_floating_point():
            t.copy_(
                torch.rand_like(t) * 0.1 + 0.001 if "running_var" in name else torch.randn_like(t)
            )


def _bn(x: torch.Tensor, sd: dict[str, torch.Tensor], key: str, eps: float) -> torch.Tensor:
    return F.batch_norm(
        x, sd[f"{key}.running_mean"], sd[f"{key}.running_var"], sd[f"{key}.weight"],
        sd[f"{key}.bias"], False, 0.0, eps,
    )  # fmt: skip


def _conv(x: torch.Tensor, w: torch.Tensor, stride: int = 1, dw: bool = False) -> torch.Tensor:
    k = w.shape[-1]
    return F.conv2d(x, w, None, stride, (k - 1) // 2, groups=w.shape[0] if dw else 1)


def test_v3_se_hardswish_block_matches_torchvision_forward() -> None:
    """torchvision MobileNetV3 ``InvertedResidual`` (80, 5, 480, 80, SE, HS, stride 1): expand
    CNA, depthwise CNA, ``SqueezeExcitation(480, _make_divisible(480 // 4, 8))`` with ReLU and
    hard-sigmoid, project CNA without activation, BN eps 0.001, then ``result += input``."""
    p = {"style": "mobilenet_v3", "expanded": 480, "kernel": 5, "act": "hardswish", "se": {},
         "norm": {"eps": 0.001, "momentum": 0.01}}  # fmt: skip
    block = _block(p, 80, 80, 1).eval()
    _randomize(block)
    sd, eps = block.state_dict(), 1e-3
    assert sd["block.2.fc1.weight"].shape == (120, 480, 1, 1)

    def reference(x: torch.Tensor) -> torch.Tensor:
        h = F.hardswish(_bn(_conv(x, sd["block.0.0.weight"]), sd, "block.0.1", eps))
        h = F.hardswish(_bn(_conv(h, sd["block.1.0.weight"], dw=True), sd, "block.1.1", eps))
        s = F.adaptive_avg_pool2d(h, 1)
        s = F.relu(F.conv2d(s, sd["block.2.fc1.weight"], sd["block.2.fc1.bias"]))
        s = F.hardsigmoid(F.conv2d(s, sd["block.2.fc2.weight"], sd["block.2.fc2.bias"]))
        h = _bn(_conv(s * h, sd["block.3.0.weight"]), sd, "block.3.1", eps)
        return h + x

    x = torch.randn(2, 80, 9, 9)
    with torch.no_grad():
        torch.testing.assert_close(block(x), reference(x))


def test_v2_block_matches_torchvision_forward() -> None:
    """torchvision MobileNetV2 ``InvertedResidual`` (t = 6, stride 2): ``conv.0`` expand CNA,
    ``conv.1`` depthwise CNA (ReLU6), ``conv.2`` projection conv, ``conv.3`` its BN; no add."""
    block = _block({"style": "mobilenet_v2", "expand_ratio": 6}, 16, 24, 2).eval()
    _randomize(block)
    sd, eps = block.state_dict(), 1e-5

    def reference(x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(_bn(_conv(x, sd["conv.0.0.weight"]), sd, "conv.0.1", eps))
        h = F.relu6(_bn(_conv(h, sd["conv.1.0.weight"], 2, dw=True), sd, "conv.1.1", eps))
        return _bn(_conv(h, sd["conv.2.weight"]), sd, "conv.3", eps)

    x = torch.randn(2, 16, 9, 9)
    with torch.no_grad():
        torch.testing.assert_close(block(x), reference(x))


# torchvision: MobileNetV2 nn.BatchNorm2d defaults; MobileNetV3 partial(nn.BatchNorm2d,
# eps=0.001, momentum=0.01); MNASNet _BN_MOMENTUM = 1 - 0.9997.
NORMS = {
    "mobilenet_v2": (1e-5, 0.1),
    "mobilenet_v3_small": (1e-3, 0.01),
    "mnasnet1_3": (1e-5, 3e-4),
}


@pytest.mark.parametrize("name", sorted(NORMS))
def test_batch_norm_settings(name: str) -> None:
    eps, momentum = NORMS[name]
    norms = [m for m in build(load_spec(name), "meta").modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.eps == eps and m.momentum == pytest.approx(momentum) for m in norms)


def test_activations_in_place_as_torchvision() -> None:
    """Conv2dNormActivation and the V3 classifier build their activations ``inplace=True``; the
    SE's ReLU (``activation()``) and hard-sigmoid (``scale_activation()``) are not in place."""
    model = build(load_spec("mobilenet_v3_large"), "meta")
    acts = dict(model.named_modules())
    assert acts["features.0.2"].inplace and acts["features.16.2"].inplace  # type: ignore[union-attr]
    assert acts["classifier.1"].inplace  # type: ignore[union-attr]
    assert isinstance(acts["features.4.block.2.activation"], nn.ReLU)
    assert not acts["features.4.block.2.activation"].inplace  # type: ignore[union-attr]
    assert not acts["features.4.block.2.scale_activation"].inplace  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["mobilenet_v2", "mobilenet_v3_small", "mnasnet0_75"])
def test_template_checks_stay_quiet_on_depthwise_separable_stages(name: str) -> None:
    """The ResNeXt §3.1 width rules (SH001 doubling, SH003 one width per size) compare template
    stages; MobileNet/MNASNet widths (16 → 24 → 32 …) are not that template."""
    assert check_spec(name).findings == ()


def test_profile_matches_the_spec() -> None:
    assert match_spec(build(load_spec("mnasnet1_0"), "meta")) == ("mnasnet1_0", (3, 224, 224))


def test_expand_layer_absent_when_t_is_one() -> None:
    """MobileNetV2's first block (t = 1): ``conv.0`` depthwise CNA, ``conv.1``/``conv.2`` the
    projection conv and BN (oracle keys ``features.1.conv.{0.0,1,2}``)."""
    keys = {leaf.scope for leaf in expand(load_spec("mobilenet_v2")).leaves}
    assert {"features.1.conv.0.0", "features.1.conv.1", "features.1.conv.2"} <= keys
    assert "features.1.conv.3" not in keys


def test_zero_expanded_width_is_a_located_error() -> None:
    doc = load_spec("mobilenet_v2").model_dump(mode="json", exclude={"name", "published"})
    del doc["aliases"]
    doc["stages"][1]["block"]["expand_ratio"] = 0.01
    with pytest.raises(SpecError, match=r"round\(16 \* t\) = 0"):
        expand(spec_from_dict({**doc, "name": "v2"}))

"""ConvNeXt (Liu et al. 2022) against torchvision: the oracle file (exact params, MACs, MACs per
module, state_dict keys and shapes; tests/data/oracles/convnext_tiny.json, from torchvision 0.28
with weights=None), facts.md §11 for the other variants, and a plain-torch re-implementation of
torchvision's CNBlock and LayerNorm2d forward (``models/convnext.py``) for the numerics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from archprobe.analysis.analytic import analyze
from archprobe.builder.network import build, build_node
from archprobe.graph.nodes import Seq
from archprobe.spec import load_spec
from archprobe.spec.expand import expand

ORACLE: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "data" / "oracles" / "convnext_tiny.json").read_text()
)


class ReferenceLayerNorm2d(nn.LayerNorm):
    """torchvision ``LayerNorm2d``, copied in behaviour from models/convnext.py."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ReferenceCNBlock(nn.Module):
    """torchvision ``CNBlock`` (stochastic depth is the identity in eval mode)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            _Permute((0, 2, 3, 1)),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim),
            nn.GELU(),
            nn.Linear(4 * dim, dim),
            _Permute((0, 3, 1, 2)),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * 1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.layer_scale * self.block(x)
        result += x
        return result


class _Permute(nn.Module):
    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)


def _randomized(module: nn.Module) -> None:
    """Every parameter random (layer scale too, so the branch matters in the comparison)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.5)


def _stage_block(name: str, stage: int, block: int) -> nn.Module:
    graph = expand(load_spec(name))
    features = graph.nodes[0]
    assert isinstance(features, Seq)
    stage_node = features.children[stage]
    assert isinstance(stage_node, Seq)
    return build_node(stage_node.children[block])


def test_cnblock_forward_equals_torchvision() -> None:
    torch.manual_seed(0)
    ours = _stage_block("convnext_tiny", 3, 1).eval()  # features.3.1: 192 channels
    reference = ReferenceCNBlock(192).eval()
    _randomized(reference)
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 192, 9, 9)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-5)


def test_stem_downsample_and_classifier_norms_equal_torchvision() -> None:
    torch.manual_seed(0)
    model = build(load_spec("convnext_tiny"), "cpu").eval()
    _randomized(model)
    x = torch.randn(2, 96, 8, 8)
    for norm in (model.features[0][1], model.features[2][0]):
        ref = ReferenceLayerNorm2d(96, eps=1e-6)
        ref.load_state_dict(norm.state_dict(), strict=True)
        with torch.no_grad():
            torch.testing.assert_close(norm(x), ref(x))
    assert isinstance(model.classifier[1], nn.Flatten)


def test_layer_scale_starts_at_1e_6() -> None:
    model = build(load_spec("convnext_tiny"), "cpu")
    scales = {k: v for k, v in model.state_dict().items() if k.endswith("layer_scale")}
    assert len(scales) == 18  # one per block: 3 + 3 + 9 + 3
    for v in scales.values():
        assert torch.equal(v, torch.full_like(v, 1e-6))
    assert isinstance(model.features[1][0].layer_scale, nn.Parameter)


ROADMAP = [
    "roadmap_01_stage_ratio",
    "roadmap_02_patchify",
    "roadmap_03_resnextify",
    "roadmap_04_inverted",
    "roadmap_05_dw_first",
    "roadmap_06_kernel7",
    "roadmap_07_gelu",
    "roadmap_08_fewer_acts",
    "roadmap_09_fewer_norms",
    "roadmap_10_layernorm",
    "roadmap_11_downsampling",
]


def test_roadmap_chain_extends_step_by_step_and_ends_at_convnext_tiny() -> None:
    from archprobe.analysis.compare import compare

    previous = "resnet50"
    for name in ROADMAP:
        path = Path(__file__).parents[2] / "specs" / "convnext_roadmap" / f"{name}.yaml"
        assert f"extends: {previous}\n" in path.read_text()
        previous = name
    table = compare(["resnet50", *ROADMAP, "convnext_tiny"])
    assert [m.name for m in table.models] == ["resnet50", *ROADMAP, "convnext_tiny"]
    last = analyze(ROADMAP[-1])
    assert last.total("params") == ORACLE["params"]
    assert last.total("macs") == ORACLE["macs"]


def test_a_bare_parameter_is_registered_on_the_enclosing_module() -> None:
    from archprobe.graph.nodes import OpNode, Residual
    from archprobe.graph.ops import Conv, LayerScale

    scale = OpNode("gamma", LayerScale(4, 0.5))
    in_seq = build_node(Seq("s", (OpNode("conv", Conv(4, 4, 1)), scale)))
    in_block = build_node(Residual("r", (OpNode("conv", Conv(4, 4, 1)), scale)))
    alone = build_node(scale)
    assert "gamma" in dict(in_seq.named_parameters()) and "gamma" in dict(
        in_block.named_parameters()
    )
    assert list(dict(alone.named_parameters())) == ["weight"]
    x = torch.randn(1, 4, 3, 3)
    with torch.no_grad():
        conv = in_block.get_submodule("conv")
        torch.testing.assert_close(in_block(x), 0.5 * conv(x) + x)
        torch.testing.assert_close(alone(x), 0.5 * x)


def test_saved_bytes_equal_autograd_hooks() -> None:
    """The memory rules of the new ops (layer norms, permutes, channels-last linears, layer
    scale, stochastic depth) against every tensor autograd keeps, on a whole ConvNeXt-T."""
    from archprobe.analysis.memory.measure import saved_tensor_bytes
    from archprobe.analysis.memory.model import predict_training

    spec = load_spec("convnext_tiny")
    spec = spec.model_copy(update={"input": spec.input.model_copy(update={"size": 64})})
    measured = saved_tensor_bytes(build(spec, "cpu"), (2, 3, 64, 64))
    assert predict_training(expand(spec), 2, "sgd").saved_bytes == measured

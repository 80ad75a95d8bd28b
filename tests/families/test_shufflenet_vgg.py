"""ShuffleNet V2 and VGG against torchvision: exact counts and module names from the oracle
files (tests/data/oracles/, torchvision 0.28 built with weights=None), the published
num_params/_ops of every other variant (facts.md §11), the blocks' forward against a plain-torch
rewrite of torchvision's ``InvertedResidual.forward`` and ``VGG.forward``, and ShuffleNet V2's
memory-access accounting (Ma et al. §2, facts.md §7.2) on its own blocks."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from archprobe.analysis.analytic import analyze_spec
from archprobe.blocks.shufflenet import ShuffleV2, ShuffleV2Params
from archprobe.blocks.vgg import VGGHead, VGGHeadParams
from archprobe.builder.network import build, build_node
from archprobe.graph.nodes import Seq


def _randomize(module: nn.Module) -> None:
    """Non-trivial BN statistics and affine terms, so every BN shows in the output."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 1.5)
            nn.init.normal_(m.weight)
            nn.init.normal_(m.bias)


def _torchvision_block(x: torch.Tensor, sd: dict[str, torch.Tensor], stride: int) -> torch.Tensor:
    """torchvision shufflenetv2.py ``InvertedResidual.forward`` and ``channel_shuffle``, eval."""

    def bn(h: torch.Tensor, p: str) -> torch.Tensor:
        w, b, m, v = (sd[f"{p}.{k}"] for k in ("weight", "bias", "running_mean", "running_var"))
        return F.batch_norm(h, m, v, w, b, False, 0.1, 1e-5)

    def conv(h: torch.Tensor, p: str, s: int = 1, dw: bool = False) -> torch.Tensor:
        groups, pad = (h.shape[1], 1) if dw else (1, 0)
        return F.conv2d(h, sd[f"{p}.weight"], None, s, pad, 1, groups)

    def branch1(h: torch.Tensor) -> torch.Tensor:
        h = bn(conv(h, "branch1.0", stride, dw=True), "branch1.1")
        return F.relu(bn(conv(h, "branch1.2"), "branch1.3"))

    def branch2(h: torch.Tensor) -> torch.Tensor:
        h = F.relu(bn(conv(h, "branch2.0"), "branch2.1"))
        h = bn(conv(h, "branch2.3", stride, dw=True), "branch2.4")
        return F.relu(bn(conv(h, "branch2.5"), "branch2.6"))

    if stride == 1:
        x1, x2 = x.chunk(2, dim=1)
        out = torch.cat((x1, branch2(x2)), dim=1)
    else:
        out = torch.cat((branch1(x), branch2(x)), dim=1)
    n, c, h, w = out.shape
    return out.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, -1, h, w)


@pytest.mark.parametrize(("cin", "cout", "stride"), [(24, 116, 2), (116, 116, 1)])
def test_shufflenet_block_forward_matches_torchvision(cin: int, cout: int, stride: int) -> None:
    torch.manual_seed(0)
    node = ShuffleV2.expand(ShuffleV2Params(type="shufflenet_v2"), cin, cout, stride, "0")
    block = build_node(node).eval()
    _randomize(block)
    sd = block.state_dict()
    names = {k.rsplit(".", 1)[0] for k in sd}
    assert ("branch1.0" in names) == (stride > 1)  # stride 1: torchvision's empty branch1
    x = torch.randn(2, cin, 14, 14)
    with torch.no_grad():
        assert torch.allclose(block(x), _torchvision_block(x, sd, stride), atol=1e-5)


def test_vgg_head_forward_matches_torchvision() -> None:
    """``VGG.forward`` after ``features``: avgpool to 7×7, flatten, classifier (eval: no dropout);
    on a 10×10 map, where the adaptive pool's windows overlap."""
    torch.manual_seed(0)
    p = VGGHeadParams(type="vgg", pool="none", hidden=(16, 8), classes=5)
    head = build_node(Seq("", VGGHead.expand(p, 4))).eval()
    sd = head.state_dict()
    x = torch.randn(2, 4, 10, 10)
    h = torch.flatten(F.adaptive_avg_pool2d(x, (7, 7)), 1)
    for i in (0, 3):
        h = F.relu(F.linear(h, sd[f"classifier.{i}.weight"], sd[f"classifier.{i}.bias"]))
    ref = F.linear(h, sd["classifier.6.weight"], sd["classifier.6.bias"])
    with torch.no_grad():
        assert torch.allclose(head(x), ref, atol=1e-6)


def test_shufflenet_memory_access_cost() -> None:
    """Ma et al. §2 (facts.md §7.2), elements moved with everything cached. G1: a balanced 1×1
    conv (c₁ = c₂) moves hw(c₁ + c₂) + c₁c₂, which meets the bound 2√(hwB) + B/(hw) of Eq. 1;
    G4: the channel shuffle has no FLOPs but reads and writes the whole map."""
    leaves = analyze_spec("shufflenet_v2_x1_0").graph.leaves
    block = [x for x in leaves if x.scope.startswith("stage2.1.")]  # 116 = 58 + 58 at 28×28
    pointwise = [x for x in block if x.op.kind == "conv" and x.op.kernel == 1]  # type: ignore[attr-defined]
    assert len(pointwise) == 2
    hw, c = 28 * 28, 58
    for leaf in pointwise:
        moved = leaf.cost.read + leaf.cost.written
        assert moved == hw * (c + c) + c * c
        b = leaf.cost.macs
        assert moved == pytest.approx(2 * math.sqrt(hw * b) + b / hw)
    (shuffle,) = [x for x in block if x.op.kind == "shuffle"]
    assert shuffle.cost.macs == 0
    assert shuffle.cost.read + shuffle.cost.written == 2 * hw * 116


# torchvision vgg.py cfgs: conv widths, "M" for a 2×2/2 max pool.
CFGS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16_bn": [64, 64, "M", 128, 128, "M", *[256] * 3, "M", *[512] * 3, "M", *[512] * 3, "M"],
}


def _make_layers(cfg: list[int | str], batch_norm: bool) -> list[str]:
    """torchvision ``make_layers``, as the module reprs it creates."""
    layers, cin = [], 3
    for v in cfg:
        if v == "M":
            layers.append(repr(nn.MaxPool2d(kernel_size=2, stride=2)))
            continue
        assert isinstance(v, int)
        layers.append(repr(nn.Conv2d(cin, v, kernel_size=3, padding=1)))
        if batch_norm:
            layers.append(repr(nn.BatchNorm2d(v)))
        layers.append(repr(nn.ReLU(inplace=True)))
        cin = v
    return layers


@pytest.mark.parametrize("name", sorted(CFGS))
def test_vgg_features_are_torchvision_make_layers(name: str) -> None:
    """Every ``features.N`` in order, the pools too (they hold no state, so the state_dict
    cannot place them)."""
    model = build(analyze_spec(name).spec, device="meta")
    got = [repr(m) for m in model.get_submodule("features")]
    assert got == _make_layers(CFGS[name], name.endswith("_bn"))
    assert repr(model.avgpool) == repr(nn.AdaptiveAvgPool2d((7, 7)))


def test_vgg_stages_are_conv1_to_conv5() -> None:
    """No stem: the stages are VGG's conv1 … conv5 (conv5_3 is the 13th conv of VGG-16), and the
    stage table has no stem row."""
    from archprobe.analysis.stages import stage_rows

    a = analyze_spec("vgg16")
    labels = [s.label for s in a.graph.sections]
    assert labels == ["stem", "conv1", "conv2", "conv3", "conv4", "conv5", "head"]
    rows = stage_rows(a.graph, a.results, ("macs",))
    assert [r.label for r in rows] == labels[1:]
    assert sum(r.values["macs"] for r in rows) == a.results.total("macs")

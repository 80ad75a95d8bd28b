"""Analytic counts against published numbers (../shared/facts.md), never against this code.

Sources: facts.md §9.1 (exact integers, matching torchvision's num_params/_ops), §7.4 (fvcore
activation counts published by timm, ShuffleNet V2 memory-access accounting), ResNet paper
Table 6 (CIFAR params) and ResNeXt Table 2 (complexity-preserving (C, d) pairs).
"""

from __future__ import annotations

import pytest

from archprobe.analysis.analytic import analyze, analyze_spec

# facts.md §9.1: (params, MACs) at 224², MACs of conv + fc, params include BN affine.
EXACT = {
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet34": (21_797_672, 3_663_761_408),
    "resnet50": (25_557_032, 4_089_184_256),
    "resnet50_v1": (25_557_032, 3_857_973_248),
    "resnet101": (44_549_160, 7_801_405_440),
    "resnext50_32x4d": (25_028_904, 4_230_479_872),
    "resnext50_2x40d": (25_425_000, 4_124_508_160),
    "resnext101_64x4d": (83_455_272, 15_460_270_080),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_exact_params_and_macs(name: str) -> None:
    params, macs = EXACT[name]
    r = analyze(name)
    assert r.total("params") == params
    assert r.total("macs") == macs


@pytest.mark.parametrize(
    ("name", "params", "gmacs"),
    [
        # facts.md §2.1 / §1.2 / §9 rounded values
        ("resnet152", 60_192_808, 11.514),
        ("resnext50_4x24d", 25_290_000, 4.160),
        ("resnext50_8x14d", 25_600_000, 4.267),
        ("resnext101_32x4d", 44_177_704, 7.970),
    ],
)
def test_published_rounded(name: str, params: int, gmacs: float) -> None:
    r = analyze(name)
    assert r.total("params") == pytest.approx(params, abs=10_000)
    assert r.total("macs") / 1e9 == pytest.approx(gmacs, abs=5e-4)


def test_resnext_paper_param_convention() -> None:
    """ResNeXt Table 1's 25.5M/25.0M are params without BN affine (facts.md §1.1)."""
    for name, without_bn in (("resnet50", 25_503_912), ("resnext50", 24_960_680)):
        r = analyze(name)
        assert r.total("params") - r.by_op("params")["norm"] == without_bn


def test_fvcore_activation_counts() -> None:
    """timm's fvcore `infer_macts`: 11.11 M (resnet50) vs 14.40 M (resnext50), facts.md §7.4."""
    assert analyze("resnet50").total("acts") == pytest.approx(11.115e6, abs=1e3)
    assert analyze("resnext50").total("acts") == pytest.approx(14.402e6, abs=1e3)


def test_conv_memory_access_cost() -> None:
    """ShuffleNet V2 accounting applied to conv layers (facts.md §7.4): 45.2 M vs 51.3 M elements,
    and the conv2 blocks 2.478 M (ResNet-50) vs 3.281 M (ResNeXt-50)."""
    for name, whole, block in (("resnet50", 45.2e6, 2.478e6), ("resnext50", 51.3e6, 3.281e6)):
        a = analyze_spec(name)
        convs = [leaf for leaf in a.graph.leaves if leaf.op.kind == "conv"]
        total = sum(leaf.cost.read + leaf.cost.written for leaf in convs)
        assert total == pytest.approx(whole, abs=0.05e6)
        # the second conv2 block (layer1.1) has no projection: 256 -> d -> d -> 256 at 56×56
        in_block = [c for c in convs if c.scope.startswith("layer1.1.")]
        assert sum(c.cost.read + c.cost.written for c in in_block) == pytest.approx(block, abs=1e3)


@pytest.mark.parametrize(
    ("name", "paper_params_m"),
    # ResNet paper Table 6 (CIFAR-10): 0.27M, 0.46M, 0.66M, 0.85M, 1.7M
    [
        ("resnet20", 0.27),
        ("resnet32", 0.46),
        ("resnet44", 0.66),
        ("resnet56", 0.85),
        ("resnet110", 1.7),
    ],
)
def test_cifar_resnets_match_table6(name: str, paper_params_m: float) -> None:
    params = analyze(name).total("params") / 1e6
    digits = 1 if paper_params_m >= 1 else 2
    assert round(params, digits) == paper_params_m


def test_resnext_table2_block_params() -> None:
    """ResNeXt Table 2 / Eq. 4: conv2 template params for (C, d) at 256 channels (facts.md §1.2)."""
    expected = {(1, 64): 69_632, (2, 40): 69_760, (4, 24): 69_888, (8, 14): 71_456, (32, 4): 70_144}
    for (c, d), params in expected.items():
        name = "resnet50" if c == 1 else f"resnext50_{c}x{d}d"
        a = analyze_spec(name)
        convs = [leaf for leaf in a.graph.leaves if leaf.scope.startswith("layer1.1.conv")]
        assert sum(leaf.cost.params for leaf in convs) == params

"""The builder: torchvision-compatible names, init flags, devices, structural nodes."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from archprobe.analysis.counters.runtime import flop_counts
from archprobe.builder.modules import ResidualBlock
from archprobe.builder.network import build, build_node
from archprobe.graph import ops
from archprobe.graph.facts import Leaf
from archprobe.graph.nodes import OpNode, Parallel, Seq, walk
from archprobe.spec import load_spec


def torchvision_resnet_keys(layers: list[int], bottleneck: bool) -> set[str]:
    """state_dict keys of torchvision's ResNet, written out from its module structure
    (torchvision/models/resnet.py: conv1 bn1 layer1..4 fc; blocks conv1..3, bn1..3, downsample)."""
    bn = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    keys = {"conv1.weight", "fc.weight", "fc.bias", *(f"bn1.{s}" for s in bn)}
    convs = 3 if bottleneck else 2
    for i, depth in enumerate(layers):
        for j in range(depth):
            p = f"layer{i + 1}.{j}"
            for c in range(1, convs + 1):
                keys.add(f"{p}.conv{c}.weight")
                keys.update(f"{p}.bn{c}.{s}" for s in bn)
            if j == 0 and (bottleneck or i > 0):
                keys.add(f"{p}.downsample.0.weight")
                keys.update(f"{p}.downsample.1.{s}" for s in bn)
    return keys


def test_state_dict_keys_follow_torchvision() -> None:
    assert set(build(load_spec("resnet50"), "meta").state_dict()) == torchvision_resnet_keys(
        [3, 4, 6, 3], bottleneck=True
    )
    assert set(build(load_spec("resnet18"), "meta").state_dict()) == torchvision_resnet_keys(
        [2, 2, 2, 2], bottleneck=False
    )


def test_checkpoint_round_trip_strict() -> None:
    """A state_dict with torchvision's keys and shapes loads with strict=True."""
    a = build(load_spec("resnext50"), "cpu")
    b = build(load_spec("resnext50"), "cpu")
    b.load_state_dict(a.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64)
    a.eval()
    b.eval()
    assert torch.equal(a(x), b(x))


def test_zero_init_residual() -> None:
    model = build(load_spec("resnet50"), "cpu", zero_init_residual=True)
    assert torch.count_nonzero(model.layer1[0].bn3.weight) == 0
    assert torch.count_nonzero(model.layer1[0].bn2.weight) > 0
    plain = build(load_spec("resnet50"), "cpu")
    assert torch.count_nonzero(plain.layer1[0].bn3.weight) > 0


def test_default_device_is_cuda_when_present() -> None:
    model = build(load_spec("resnet20"))
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(model.parameters()).device.type == expected


def test_parallel_and_option_a_parity() -> None:
    """Structural nodes build and count like the graph says (concat and sum merges)."""

    def branch(name: str, width: int) -> Seq:
        return Seq(
            name, (OpNode("conv", ops.Conv(8, width, 3)), OpNode("bn", ops.BatchNorm(width)))
        )

    merges: tuple[tuple[Literal["concat", "sum"], tuple[int, int]], ...] = (
        ("concat", (4, 12)),
        ("sum", (6, 6)),
    )
    for merge, widths in merges:
        node = Parallel("p", tuple(branch(f"b{i}", w) for i, w in enumerate(widths)), merge)
        leaves: list[Leaf] = []
        shape = walk(node, (8, 10, 10), "", leaves)
        module = nn.Sequential()
        module.add_module("p", build_node(node))
        y = module(torch.randn(1, 8, 10, 10))
        assert tuple(y.shape[1:]) == shape
        assert sum(p.numel() for p in module.parameters()) == sum(lf.cost.params for lf in leaves)
        assert flop_counts(module, (1, 8, 10, 10))[""] == 2 * sum(lf.cost.macs for lf in leaves)
    pad = build(load_spec("resnet20"), "cpu").layer2[0]
    assert isinstance(pad, ResidualBlock)
    y = pad(torch.randn(1, 16, 32, 32))
    assert y.shape == (1, 32, 16, 16)


def test_public_functions_survive_submodule_imports() -> None:
    """`archprobe.build`/`profile`/`compare` stay the functions after their modules are imported
    (modules named like the functions would shadow them)."""
    import importlib

    import archprobe

    for module in (
        "archprobe.builder.network",
        "archprobe.analysis.counters.profile",
        "archprobe.analysis.compare",
    ):
        importlib.import_module(module)
    assert callable(archprobe.build) and callable(archprobe.profile)
    assert callable(archprobe.compare) and callable(archprobe.analyze)
    assert archprobe.build(load_spec("resnet20"), device="meta") is not None

"""Against torchvision itself, where it is installed (not on the CI machine: torchvision cannot
be installed beside its torch; the GPU image has it). A torchvision model's state_dict must load
into archprobe's build with strict=True and give the same outputs."""

from __future__ import annotations

import pytest
import torch

from archprobe.builder.network import build
from archprobe.spec import load_spec

torchvision = pytest.importorskip("torchvision")

NAMES = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnext50_32x4d",
    "resnext101_64x4d",
    "wide_resnet50_2",
    # the families beyond ResNets (issue #15): one or two per family, each at 64² here
    "regnet_x_400mf",
    "regnet_y_400mf",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "mnasnet1_0",
    "efficientnet_b0",
    "efficientnet_v2_s",
    "convnext_tiny",
    "shufflenet_v2_x1_0",
    "vgg11_bn",
]


@pytest.mark.parametrize("name", NAMES)
def test_torchvision_checkpoint_loads_strict_and_matches(name: str) -> None:
    torch.manual_seed(0)
    reference = getattr(torchvision.models, name)(weights=None).eval()
    ours = build(load_spec(name), device="cpu").eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)

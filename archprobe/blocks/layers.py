"""Building pieces shared by every block type, so no block copies another's layers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictInt

from archprobe.blocks.base import BlockParams
from archprobe.graph.nodes import Node, OpNode, Residual, Seq
from archprobe.graph.ops import BatchNorm, Conv, GraphError, IdentityPad, ReLU

ShortcutKind = Literal["conv1x1", "identity_pad", "none"]

SHORTCUT_FIELD: Any = Field(
    "conv1x1",
    description=(
        "How the block's input reaches its output (ResNet §3.3). conv1x1: identity, or a strided "
        "1x1 conv + BN projection when the shape changes (option B, the ImageNet ResNets); "
        "identity_pad: strided identity with zero-padded channels, no parameters (option A, the "
        "CIFAR ResNets); none: no shortcut at all (the plain nets of ResNet Fig. 3)."
    ),
)


class GroupedWidthParams(BlockParams):
    """Knobs shared by residual blocks: grouping, width per group, shortcut kind."""

    groups: StrictInt = Field(
        1, ge=1, le=65536, description="Groups (cardinality C) of the 3x3 conv(s), ResNeXt §3.3."
    )
    width_per_group: StrictInt = Field(
        64,
        ge=1,
        le=65536,
        description=(
            "Width d per group for the 64-wide template; inner width is "
            "int(width/expansion * d/64) * C (torchvision base_width; ResNeXt Table 2: "
            "64, 40, 24, 14, 4)."
        ),
    )
    shortcut: ShortcutKind = SHORTCUT_FIELD


def conv_bn(
    index: int, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True
) -> list[Node]:
    """``conv{i}``, ``bn{i}`` and, when ``act``, ``relu{i}`` — torchvision's sublayer names."""
    nodes: list[Node] = [
        OpNode(f"conv{index}", Conv(cin, cout, kernel, stride=stride, groups=groups)),
        OpNode(f"bn{index}", BatchNorm(cout)),
    ]
    if act:
        nodes.append(OpNode(f"relu{index}", ReLU()))
    return nodes


def shortcut(kind: ShortcutKind, cin: int, cout: int, stride: int) -> Node | None:
    """The shortcut path, or None for the identity."""
    if cin == cout and stride == 1:
        return None
    if kind == "identity_pad":
        return OpNode("downsample", IdentityPad(cin, cout, stride))
    # ``downsample.0`` / ``downsample.1``: torchvision's state_dict keys.
    return Seq(
        "downsample",
        (OpNode("0", Conv(cin, cout, 1, stride=stride)), OpNode("1", BatchNorm(cout))),
    )


def residual_block(
    name: str, body: list[Node], kind: ShortcutKind, cin: int, cout: int, stride: int
) -> Node:
    """Wrap a branch ending in BN as a residual block with ReLU after the add (ResNet Fig. 2).

    With ``kind == "none"`` it is a plain block: the same layers, ReLU last, no shortcut.
    """
    index = sum(1 for n in body if n.name.startswith("conv"))
    post: tuple[Node, ...] = (OpNode(f"relu{index}", ReLU()),)
    if kind == "none":
        return Seq(name, (*body, *post))
    return Residual(name, tuple(body), shortcut(kind, cin, cout, stride), post)


def group_width(width: int, width_per_group: int, groups: int) -> int:
    """Bottleneck width ``int(width * d / 64) * C`` (torchvision; ResNeXt ``floor(n*d/64)``)."""
    if width < 1:
        raise GraphError("the block's output width is smaller than its expansion factor")
    per_group = int(width * width_per_group / 64)
    if per_group < 1:
        raise GraphError(
            f"bottleneck width int({width} * width_per_group {width_per_group} / 64) rounds to 0 "
            f"channels per group; raise width_per_group to at least {-(-64 // width)}"
        )
    return per_group * groups

"""Building pieces shared by every block type, so no block copies another's layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, StrictFloat, StrictInt

from archprobe.blocks.base import BlockParams, KnobModel
from archprobe.graph.cost import branch, some
from archprobe.graph.nodes import Gate, Node, OpNode, Residual, Seq
from archprobe.graph.op import Op
from archprobe.graph.ops import (
    AvgPool,
    BatchNorm,
    Conv,
    GraphError,
    IdentityPad,
    Mean,
    Mul,
    ReLU,
    Sigmoid,
)

ShortcutKind = Literal["conv1x1", "avgpool_conv1x1", "identity_pad", "none"]

SHORTCUT_FIELD: Any = Field(
    "conv1x1",
    description=(
        "How the block's input reaches its output (ResNet §3.3). conv1x1: identity, or a strided "
        "1x1 conv + BN projection when the shape changes (option B, the ImageNet ResNets); "
        "avgpool_conv1x1: the projection's stride moved to an AvgPool2d(stride, stride, "
        "ceil_mode, count_include_pad=False) before a stride-1 1x1 conv (ResNet-D, Bag of "
        "Tricks §4; timm avg_down); "
        "identity_pad: strided identity with zero-padded channels, no parameters (option A, the "
        "CIFAR ResNets); none: no shortcut at all (the plain nets of ResNet Fig. 3)."
    ),
)


STRIDE_3X3_ONLY: Any = Field(
    "3x3",
    description=(
        "Which conv downsamples: only 3x3 here (ResNet-B placement, as the Res2Net/ResNeSt "
        "reference code); accepted so that specs extending resnet50 keep its key."
    ),
)


class SEParams(KnobModel):
    """Squeeze-and-excitation on the residual branch, before the add (Hu et al. §3, Fig. 3)."""

    ratio: StrictFloat = Field(
        gt=0,
        le=1,
        description=(
            "Reduced width / channels: 1/r, 0.0625 for the paper's r = 16 (SE Table 1). The "
            "reduced width is floor(C * ratio), the paper's C/r; timm's make_divisible(C/r, 8) "
            "gives the same for every ResNet stage width. Zero channels is an error."
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
    se: SEParams | None = Field(
        None,
        description="Squeeze-and-excitation after the branch's last BN (SE-ResNet); null: none.",
    )

    def planes(self, cout: int) -> int:
        """The template width the group width scales from: the block's output width divided by
        its expansion (torchvision ``planes``; 1 for a basic block)."""
        return cout

    def inner_width(self, cout: int) -> int:
        """Width of the grouped conv(s) of a block with ``cout`` outputs: ``int(planes · d/64)·C``
        (torchvision ``width``; ResNeXt Table 2's C·d; Res2Net's width of one split)."""
        return group_width(self.planes(cout), self.width_per_group, self.groups)


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
    if branch(cin == cout) and stride == 1:
        return None
    if kind == "identity_pad":
        return OpNode("downsample", IdentityPad(cin, cout, stride))
    if kind == "avgpool_conv1x1":
        # ResNet-D (Bag of Tricks §4, facts §3.1): the pool takes the stride so the 1x1 conv sees
        # every input pixel. timm ``downsample_avg`` names: .0 pool (Identity at stride 1, no
        # state), .1 conv, .2 bn; kernel = stride as GluonCV/ResNeSt (timm's 2 at stride 2).
        pool = AvgPool(stride, stride, ceil_mode=True, count_include_pad=False)
        lead: tuple[Node, ...] = (OpNode("0", pool),) if stride > 1 else ()
        tail = (OpNode("1", Conv(cin, cout, 1)), OpNode("2", BatchNorm(cout)))
        return Seq("downsample", (*lead, *tail))
    # ``downsample.0`` / ``downsample.1``: torchvision's state_dict keys.
    return Seq(
        "downsample",
        (OpNode("0", Conv(cin, cout, 1, stride=stride)), OpNode("1", BatchNorm(cout))),
    )


def squeeze_excite(channels: int, reduced: int) -> Gate:
    """SE (Hu et al. §3): x · sigmoid(fc2(relu(fc1(mean(x))))), fc = 1×1 conv with bias.

    MACs 2·C·Cr (the two fcs, SE Eq. 5); params 2·C·Cr + Cr + C. Module names as timm
    ``SEModule`` (``se.fc1``, ``se.act``, ``se.fc2``, ``se.gate``), whose squeeze is a
    functional mean.
    """
    body = (
        OpNode("pool", Mean()),
        OpNode("fc1", Conv(channels, reduced, 1, bias=True)),
        OpNode("act", ReLU()),
        OpNode("fc2", Conv(reduced, channels, 1, bias=True)),
        OpNode("gate", Sigmoid()),
    )
    return Gate("se", body, OpNode("scale", Mul()), label=f"SE {channels}→{reduced}")


def se_layer(se: SEParams | None, channels: int) -> list[Node]:
    """``se``: SE on ``channels`` with floor(C * ratio) reduced channels, or nothing."""
    if se is None:
        return []
    reduced = int(channels * se.ratio + 1e-9)  # floor, robust to 1/16 printed as 0.0625
    if reduced < 1:
        raise GraphError(
            f"se.ratio {se.ratio} leaves int({channels} * {se.ratio}) = 0 channels; "
            f"use at least {1 / channels:.6g}"
        )
    return [squeeze_excite(channels, reduced)]


def residual_block(
    name: str, body: list[Node], p: GroupedWidthParams, cin: int, cout: int, stride: int
) -> Node:
    """Wrap a branch ending in BN as a residual block with ReLU after the add (ResNet Fig. 2).

    ``p.se`` adds SE after the branch's last BN, before the add (SE Fig. 3). With
    ``p.shortcut == "none"`` it is a plain block: the same layers, ReLU last, no shortcut.
    """
    index = sum(1 for n in body if n.name.startswith("conv"))
    body = [*body, *se_layer(p.se, cout)]
    post: tuple[Node, ...] = (OpNode(f"relu{index}", ReLU()),)
    if p.shortcut == "none":
        return Seq(name, (*body, *post))
    return Residual(name, tuple(body), shortcut(p.shortcut, cin, cout, stride), post)


def group_width(width: int, width_per_group: int, groups: int) -> int:
    """Bottleneck width ``int(width * d / 64) * C`` (torchvision; ResNeXt ``floor(n*d/64)``)."""
    if some(width < 1):
        raise GraphError("the block's output width is smaller than its expansion factor")
    # int(width * d / 64) in torchvision: the division by 64 is exact in binary floating point,
    # so it is the floor division below (which also takes arrays: sweep/stacked.py).
    per_group = width * width_per_group // 64
    if some(per_group < 1):
        raise GraphError(
            f"bottleneck width int({width} * width_per_group {width_per_group} / 64) rounds to 0 "
            f"channels per group; raise width_per_group to at least {-(-64 // width)}"
        )
    return per_group * groups


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """``value`` rounded to the nearest multiple of ``divisor``, never below ``min_value``
    (default ``divisor``) and never more than 10% below ``value``: the rounding of the
    MobileNet/EfficientNet/MNASNet reference code (TF ``_make_divisible``, torchvision
    ``_make_divisible``), which width multipliers and squeeze widths go through."""
    floor = divisor if min_value is None else min_value
    rounded = max(floor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def numbered(name: str, ops: Sequence[Op]) -> Seq:
    """An ``nn.Sequential`` of ops named ``0``, ``1``, … (torchvision's anonymous layers:
    ShuffleNet's ``branch2.3``, VGG's ``features.7``, ConvNeXt's ``block.3``)."""
    return Seq(name, tuple(OpNode(str(i), op) for i, op in enumerate(ops)))

"""ShuffleNet V2 (Ma et al., ECCV 2018, §3 and Fig. 3 (c)/(d), Table 5) with torchvision's module
names (``shufflenetv2.py``): ``conv1`` + ``maxpool``, ``stage2``..``stage4`` of
``InvertedResidual`` blocks (``branch1``, ``branch2``), ``conv5``, a functional mean, ``fc``.

The block follows the paper's guidelines (facts §7.2): equal widths on each branch's 1×1s (G1),
no group convolution (G2), two branches only (G3), and the ReLU only where needed, with the
concat and shuffle in place of ShuffleNet v1's element-wise add (G4).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StrictInt

from archprobe.blocks.base import (
    EXACT_INT,
    BlockParams,
    HeadParams,
    StemParams,
    register_block,
    register_head,
    register_stem,
)
from archprobe.blocks.conv_norm_act import conv_norm_act
from archprobe.blocks.layers import numbered
from archprobe.graph.nodes import Node, OpNode, Parallel, Seq, Split
from archprobe.graph.op import GraphError, Op
from archprobe.graph.ops import BatchNorm, ChannelShuffle, Conv, Linear, MaxPool, Mean, ReLU


def _depthwise(channels: int, kernel: int, stride: int) -> list[Op]:
    """Depthwise k×k, then BN with no ReLU after it (the paper's Fig. 3 (c)/(d))."""
    conv = Conv(channels, channels, kernel, stride=stride, padding=kernel // 2, groups=channels)
    return [conv, BatchNorm(channels)]


def _pointwise(cin: int, cout: int) -> list[Op]:
    """1×1 conv, BN, ReLU (in place)."""
    return [Conv(cin, cout, 1, padding=0), BatchNorm(cout), ReLU()]


class ShuffleV2Params(BlockParams):
    type: Literal["shufflenet_v2"] = Field(
        description=(
            "ShuffleNet V2 unit (Ma et al. Fig. 3 (c)/(d)): channel split, 1x1-dw3x3-1x1 on one "
            "half, concat, channel shuffle; the downsampling unit runs both branches on the full "
            "input."
        )
    )
    kernel: Annotated[Literal[3, 5, 7], EXACT_INT] = Field(
        3, description="Depthwise kernel size (3 in the paper)."
    )


@register_block("shufflenet_v2")
class ShuffleV2:
    """torchvision ``InvertedResidual``: stride 1 splits the channels in two halves, keeps the
    first and runs ``branch2`` on the second; stride 2 runs ``branch1`` (dw 3×3/2, BN, 1×1, BN,
    ReLU) and ``branch2`` on the whole input. Both concatenate and shuffle (2 groups)."""

    Params: ClassVar[type[BlockParams]] = ShuffleV2Params

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, ShuffleV2Params)
        half = cout // 2
        if stride == 1 and cin != 2 * half:  # torchvision raises the same ValueError
            raise GraphError(f"shufflenet_v2 stride 1 needs in = out = even, got {cin}→{cout}")
        k = p.kernel
        branch2 = numbered(
            "branch2",
            [
                *_pointwise(cin if stride > 1 else half, half),
                *_depthwise(half, k, stride),
                *_pointwise(half, half),
            ],
        )
        merge: Node
        if stride == 1:  # x.chunk(2): the first half passes unchanged (empty branch1)
            merge = Split("", (half, half), ((), (branch2,)), label=f"split, 1×1-dw{k}×{k}-1×1")
        else:
            branch1 = numbered("branch1", [*_depthwise(cin, k, stride), *_pointwise(cin, half)])
            merge = Parallel("", (branch1, branch2))
        # Two branches, so two shuffle groups (torchvision: channel_shuffle(out, 2)).
        return Seq(name, (merge, OpNode("shuffle", ChannelShuffle(2))))


class ShuffleStemParams(StemParams):
    type: Literal["shufflenet"] = Field(
        description="conv1: 3x3/2 conv, BN, ReLU; then maxpool 3x3/2 (ShuffleNet V2 Table 5)."
    )
    width: StrictInt = Field(24, ge=1, le=65536, description="Output channels of conv1 (24).")


@register_stem("shufflenet")
class ShuffleStem:
    """``conv1`` (.0 conv 3×3/2, .1 BN, .2 ReLU) and ``maxpool`` 3×3/2 (Table 5 "Conv1",
    "MaxPool")."""

    Params: ClassVar[type[StemParams]] = ShuffleStemParams

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
        assert isinstance(p, ShuffleStemParams)
        conv1 = conv_norm_act("conv1", in_channels, p.width, 3, stride=2)
        return (conv1, OpNode("maxpool", MaxPool(3, 2, 1))), p.width


class ShuffleHeadParams(HeadParams):
    type: Literal["shufflenet"] = Field(
        description="conv5: 1x1 conv, BN, ReLU; global mean; fc (ShuffleNet V2 Table 5)."
    )
    width: StrictInt = Field(
        1024, ge=1, le=65536, description="Output channels of conv5 (1024; 2048 for 2.0x)."
    )
    classes: StrictInt = Field(1000, ge=1, le=1048576, description="Outputs of the fc layer.")


@register_head("shufflenet")
class ShuffleHead:
    """``conv5``, ``x.mean([2, 3])`` (torchvision's functional "globalpool": no module, so no
    counter but archprobe's own sees it), ``fc``."""

    Params: ClassVar[type[HeadParams]] = ShuffleHeadParams

    @staticmethod
    def expand(p: HeadParams, cin: int) -> tuple[Node, ...]:
        assert isinstance(p, ShuffleHeadParams)
        return (
            conv_norm_act("conv5", cin, p.width, 1),
            OpNode("globalpool", Mean()),
            OpNode("fc", Linear(p.width, p.classes)),
        )

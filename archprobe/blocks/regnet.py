"""RegNet's parts as torchvision builds them (Radosavovic et al. 2020; ``models/regnet.py``):
the ``SimpleStemIN`` stem and the ``ResBottleneckBlock`` of AnyNetX/RegNetX (X block, §3.1,
Fig. 4) with optional SE (RegNetY, §5). The stage table comes from ``regnet:``
(``spec/generators/regnet.py``); the head is the default ``avgpool`` + ``fc``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, StrictFloat, StrictInt

from archprobe.blocks.base import (
    BlockParams,
    StemParams,
    register_block,
    register_stem,
)
from archprobe.blocks.conv_norm_act import conv_norm_act, squeeze_excitation
from archprobe.graph.cost import branch, rounded, some
from archprobe.graph.nodes import Node, OpNode, Residual, Seq
from archprobe.graph.op import GraphError
from archprobe.graph.ops import ReLU


class SimpleStemINParams(StemParams):
    type: Literal["simple_stem_in"] = Field(
        description="RegNet stem: 3x3/2 conv, BN, ReLU (AnyNet §3.1; torchvision SimpleStemIN)."
    )
    width: StrictInt = Field(
        32, ge=1, le=65536, description="Output channels of the 3x3 conv (32 in RegNet)."
    )


@register_stem("simple_stem_in")
class SimpleStemIN:
    """``stem``: a Conv2dNormActivation 3x3/2 (``stem.0`` conv, ``.1`` BN, ``.2`` ReLU)."""

    Params: ClassVar[type[StemParams]] = SimpleStemINParams

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
        assert isinstance(p, SimpleStemINParams)
        return (conv_norm_act("stem", in_channels, p.width, 3, stride=2),), p.width


BOTTLENECK_RATIO: Any = Field(
    1.0,
    gt=0,
    le=64,
    description="b: the 3x3's width is w_b = round(width · b) (AnyNetX §3.1; RegNetX b = 1, §4).",
)
SE_RATIO: Any = Field(
    None,
    gt=0,
    le=1,
    description=(
        "RegNetY (§5): SE after the 3x3 squeezing to round(se_ratio · block input width), "
        "torchvision's ratio 'with respect to the beginning of the block' (0.25 in every "
        "torchvision RegNetY); null: RegNetX, no SE."
    ),
)


class RegNetBottleneckParams(BlockParams):
    type: Literal["regnet_bottleneck"] = Field(
        description=(
            "X block (RegNet §3.1, Fig. 4): 1x1, 3x3 grouped (stride), [SE], 1x1, projection "
            "shortcut where the shape changes, ReLU after the add (torchvision ResBottleneckBlock)."
        )
    )
    group_width: StrictInt = Field(
        1, ge=1, le=65536, description="g: channels per group of the 3x3 (groups = w_b // g)."
    )
    bottleneck_ratio: StrictFloat = BOTTLENECK_RATIO
    se_ratio: StrictFloat | None = SE_RATIO


def _groups(w_b: int, group_width: int) -> int:
    """Groups of the 3x3: w_b // g (torchvision), which must divide w_b."""
    groups = w_b // group_width
    if some(groups < 1) or some(w_b % groups != 0):
        raise GraphError(
            f"the bottleneck width {w_b} is not a multiple of group_width {group_width}; "
            "`regnet:` makes them compatible, or set a group width dividing it"
        )
    return groups


def _squeeze(se_ratio: float, cin: int) -> int:
    squeeze = rounded(se_ratio * cin)
    if some(squeeze < 1):
        raise GraphError(f"se_ratio {se_ratio} leaves round({se_ratio} * {cin}) = 0 channels")
    return squeeze


@register_block("regnet_bottleneck")
class RegNetBottleneck:
    """X/Y block: proj (1x1/s + BN) | f.a 1x1, f.b 3x3 (g, stride), [f.se], f.c 1x1; ReLU."""

    Params: ClassVar[type[BlockParams]] = RegNetBottleneckParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, RegNetBottleneckParams)
        w_b = rounded(cout * p.bottleneck_ratio)  # torchvision int(round(w · b))
        layers: list[Node] = [
            conv_norm_act("a", cin, w_b, 1),
            conv_norm_act("b", w_b, w_b, 3, stride, _groups(w_b, p.group_width)),
        ]
        if p.se_ratio:
            # torchvision: "The SE reduction ratio is defined with respect to the beginning of
            # the block", so the squeeze width comes from the block's input width, not w_b.
            layers.append(squeeze_excitation("se", w_b, _squeeze(p.se_ratio, cin)))
        layers.append(conv_norm_act("c", w_b, cout, 1, act="none"))
        # A projection "if shape changes" (torchvision), without activation: proj.0, proj.1.
        proj = conv_norm_act("proj", cin, cout, 1, stride, act="none")
        shortcut = proj if branch(cin != cout) or stride != 1 else None
        post = (OpNode("activation", ReLU()),)  # nn.ReLU(inplace=True) after the add
        return Residual(name, (Seq("f", tuple(layers)),), shortcut, post)

"""ResNeSt bottleneck (Zhang et al. 2020; facts §5.1–5.2): 1×1, split-attention 3×3, 1×1."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StrictBool, StrictInt

from archprobe.blocks.base import EXACT_INT, BlockParams, register_block
from archprobe.blocks.layers import (
    STRIDE_3X3_ONLY,
    GroupedWidthParams,
    conv_bn,
    residual_block,
)
from archprobe.graph.nodes import Gate, Node, OpNode
from archprobe.graph.ops import (
    AvgPool,
    BatchNorm,
    Conv,
    GraphError,
    Mean,
    RadixSum,
    RadixWeighted,
    ReLU,
    RSoftmax,
)

EXPANSION = 4  # output width / planes (official resnest resnet.py Bottleneck)
MIN_INTER = 32  # official SplAtConv2d: inter_channels = max(in * radix // reduction, 32)


class ResNeStParams(GroupedWidthParams):
    type: Literal["resnest"] = Field(
        description="ResNeSt [1x1, w; 3x3 split-attention, w, R, C; 1x1, width] (ResNeSt Fig. 2)."
    )
    stride_on: Literal["3x3"] = STRIDE_3X3_ONLY
    radix: Annotated[Literal[1, 2, 4], EXACT_INT] = Field(
        2,
        description=(
            "Splits R per cardinal group (the '2s' of 2s1x64d); the ResNeSt models and ablations "
            "use 1, 2 and 4. R = 1 is an SE-like sigmoid gate per cardinal group."
        ),
    )
    reduction: StrictInt = Field(
        4, ge=1, le=1024, description="Attention fc width = max(w·R / reduction, 32) (official 4)."
    )
    avd: StrictBool = Field(
        True,
        description=(
            "Strided blocks run the 3x3 at stride 1 and downsample with AvgPool2d(3, s, 1) "
            "(ResNeSt 'avd'; first block of stages 2-4)."
        ),
    )
    avd_first: StrictBool = Field(
        False,
        description="avd pool before the 3x3, not after (the 'fast' models, ResNeSt ablation.md).",
    )

    def planes(self, cout: int) -> int:
        return cout // EXPANSION


@register_block("resnest")
class ResNeSt:
    """ResNeSt: 1x1, [avd_first], 3x3 split-attention (``conv2``), [avd_last], 1x1. timm names
    (``conv2.conv``, ``conv2.fc1``, ``avd_first``/``avd_last``)."""

    Params: ClassVar[type[BlockParams]] = ResNeStParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, ResNeStParams)
        width = p.inner_width(cout)
        # Rounded up to a multiple of C so fc1/fc2 can be grouped; a no-op whenever the official
        # code runs at all (every catalog width gives 32, 64, 128 or 256).
        inter = -(-max(width * p.radix // p.reduction, MIN_INTER) // p.groups) * p.groups
        # official resnet.py: avd only where stride > 1 (layer1 is built with is_first=False).
        avd = p.avd and stride > 1
        pool = [OpNode("avd_first" if p.avd_first else "avd_last", AvgPool(3, stride, 1))]
        attn = split_attention(width, width, 1 if avd else stride, p.radix, p.groups, inter)
        body = [
            *conv_bn(1, cin, width, 1),
            *(pool if avd and p.avd_first else []),
            attn,
            *(pool if avd and not p.avd_first else []),
            *conv_bn(3, width, cout, 1, act=False),
        ]
        return residual_block(name, body, p, cin, cout, stride)


def split_attention(cin: int, width: int, stride: int, radix: int, groups: int, inter: int) -> Gate:
    """ResNeSt split attention (facts §5.1, official ``SplAtConv2d``) as ``conv2``: 3×3 conv to R
    splits (groups K·R), BN, ReLU; sum of splits; mean; fc1 (groups K, bias), BN, ReLU; fc2;
    r-softmax across splits (sigmoid when R = 1); attention-weighted sum of splits. timm names:
    ``conv``, ``bn0``, ``act0``, ``fc1``, ``bn1``, ``act1``, ``fc2``, ``rsoftmax``."""
    wide = width * radix
    try:
        conv = Conv(cin, wide, 3, stride=stride, groups=groups * radix)
    except GraphError as exc:
        raise exc.within("conv2") from None
    pre = (
        OpNode("conv", conv),
        OpNode("bn0", BatchNorm(wide)),
        OpNode("act0", ReLU()),
    )
    body = (
        OpNode("sum", RadixSum(radix)),
        OpNode("pool", Mean()),
        OpNode("fc1", Conv(width, inter, 1, groups=groups, bias=True)),
        OpNode("bn1", BatchNorm(inter)),
        OpNode("act1", ReLU()),
        OpNode("fc2", Conv(inter, wide, 1, groups=groups, bias=True)),
        OpNode("rsoftmax", RSoftmax(radix, groups)),
    )
    label = f"3×3, {width}, split-attention R={radix}" + (f", C={groups}" if groups > 1 else "")
    return Gate("conv2", body, OpNode("attend", RadixWeighted(radix)), pre, label)

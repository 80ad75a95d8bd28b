"""ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s"), as torchvision builds it
(``models/convnext.py``): the CNBlock, the patchify stem and the LayerNorm2d/flatten/linear head.

The downsampling layers between stages (§2.6 "separate downsampling layers": LayerNorm2d, 2×2/2
conv) are the ``downsample`` transition with ``norm: layernorm`` (``transitions.py``).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StrictFloat, StrictInt

from archprobe.blocks.base import (
    EXACT_INT,
    BlockParams,
    HeadParams,
    StemParams,
    register_block,
    register_head,
    register_stem,
)
from archprobe.blocks.layers import numbered
from archprobe.graph.nodes import Node, OpNode, Residual
from archprobe.graph.op import GraphError, Op
from archprobe.graph.ops import (
    GELU,
    BatchNorm,
    ChannelsLastLinear,
    Conv,
    Flatten,
    GlobalAvgPool,
    LayerNorm,
    LayerNorm2d,
    LayerScale,
    Linear,
    Permute,
    ReLU,
    StochasticDepth,
)

TO_CHANNELS_LAST = Permute((0, 2, 3, 1))  # torchvision CNBlock block.1
TO_CHANNELS_FIRST = Permute((0, 3, 1, 2))  # block.6


def scaled_branch(
    body: tuple[Node, ...], channels: int, layer_scale: float | None, drop: float
) -> tuple[Node, ...]:
    """``stochastic_depth(layer_scale * body(x))`` (torchvision CNBlock.forward); the stochastic
    depth node is left out at p = 0, where torchvision returns its input unchanged."""
    scale = (
        () if layer_scale is None else (OpNode("layer_scale", LayerScale(channels, layer_scale)),)
    )
    depth = (OpNode("stochastic_depth", StochasticDepth(drop)),) if drop > 0 else ()
    return (*body, *scale, *depth)


class CNBlockParams(BlockParams):
    type: Literal["convnext"] = Field(
        description=(
            "ConvNeXt block (Liu et al. 2022 Fig. 4): 7x7 depthwise conv, LN, 1x1 up (linear), "
            "GELU, 1x1 down (linear) on channels-last, layer scale, stochastic depth, + input."
        )
    )
    kernel: Annotated[Literal[3, 5, 7, 9, 11], EXACT_INT] = Field(
        7, description="Depthwise kernel; §2.5 tries 3 to 11 and keeps 7 ('increasing the kernel')."
    )
    expansion: StrictInt = Field(
        4, ge=1, le=64, description="Hidden width / block width (§2.3 inverted bottleneck: 4)."
    )
    layer_scale: StrictFloat = Field(
        1e-6, gt=0, le=1, description="Init of the per-channel layer scale (torchvision 1e-6)."
    )
    stochastic_depth: StrictFloat = Field(
        0.0,
        ge=0,
        lt=1,
        description=(
            "Drop probability of the residual branch (Huang et al. 2016). torchvision ramps it "
            "linearly over all blocks (p·k/(N−1)); a stage repeats one block, so a spec gives one "
            "value per stage. 0 omits the op; no effect on params, MACs or eval."
        ),
    )


@register_block("convnext")
class CNBlock:
    """torchvision ``CNBlock``: ``block`` (.0 dw conv, .1 permute, .2 LN, .3 linear, .4 GELU,
    .5 linear, .6 permute), then ``layer_scale``, ``stochastic_depth``, ``+ input``. It keeps
    its shape: stages change it in their transition."""

    Params: ClassVar[type[BlockParams]] = CNBlockParams
    keeps_shape: ClassVar[bool] = True  # stages change the shape in their transition

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, CNBlockParams)
        if cin != cout or stride != 1:
            raise GraphError(
                f"a ConvNeXt block keeps its shape ({cin}->{cout}, stride {stride}): use "
                "`transition: {type: downsample, norm: layernorm}`"
            )
        hidden = p.expansion * cin
        block = numbered(
            "block",
            [
                Conv(cin, cin, p.kernel, padding=p.kernel // 2, groups=cin, bias=True),
                TO_CHANNELS_LAST,
                LayerNorm(cin),
                ChannelsLastLinear(cin, hidden),
                GELU(),
                ChannelsLastLinear(hidden, cin),
                TO_CHANNELS_FIRST,
            ],
        )
        return Residual(name, scaled_branch((block,), cin, p.layer_scale, p.stochastic_depth))


class PatchifyParams(StemParams):
    type: Literal["patchify"] = Field(
        description="Non-overlapping p×p/p conv with bias, then a norm (ConvNeXt §2.2)."
    )
    width: StrictInt = Field(96, ge=1, le=65536, description="Output channels of the conv.")
    patch: StrictInt = Field(4, ge=1, le=32, description="Patch size = kernel = stride (4).")
    norm: Literal["layernorm", "bn"] = Field(
        "layernorm",
        description="LayerNorm2d (ConvNeXt) or batch norm (the roadmap's ResNet step, §2.2).",
    )
    act: Literal["none", "relu"] = Field(
        "none", description="An activation after the norm (ResNet's stem has one) or none."
    )
    pool: Literal["none"] = Field(
        "none", description="No pool after the patches (the roadmap drops ResNet's max pool)."
    )


@register_stem("patchify")
class Patchify:
    """``features.0``: .0 conv p×p/p (bias), .1 norm[, .2 ReLU] (torchvision
    Conv2dNormActivation with ``activation_layer=None``)."""

    Params: ClassVar[type[StemParams]] = PatchifyParams

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
        assert isinstance(p, PatchifyParams)
        w = p.width
        norm: Op = LayerNorm2d(w) if p.norm == "layernorm" else BatchNorm(w)
        ops: list[Op] = [Conv(in_channels, w, p.patch, stride=p.patch, padding=0, bias=True), norm]
        ops += [ReLU()] if p.act == "relu" else []
        return numbered("", ops).children, w


class ConvNeXtHeadParams(HeadParams):
    type: Literal["convnext"] = Field(
        description="avgpool, then classifier (.0 LayerNorm2d, .1 flatten, .2 linear)."
    )
    pool: Literal["avg"] = Field("avg", description="Global average pool (torchvision avgpool).")
    classes: StrictInt = Field(1000, ge=1, le=1048576, description="Outputs of the linear layer.")


@register_head("convnext")
class ConvNeXtHead:
    """torchvision ConvNeXt's ``avgpool`` (AdaptiveAvgPool2d(1)) and ``classifier``."""

    Params: ClassVar[type[HeadParams]] = ConvNeXtHeadParams

    @staticmethod
    def expand(p: HeadParams, cin: int) -> tuple[Node, ...]:
        assert isinstance(p, ConvNeXtHeadParams)
        classifier = numbered("classifier", [LayerNorm2d(cin), Flatten(), Linear(cin, p.classes)])
        return (OpNode("avgpool", GlobalAvgPool()), classifier)

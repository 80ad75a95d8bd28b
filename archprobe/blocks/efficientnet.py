"""EfficientNet's blocks with torchvision's module names (``torchvision/models/efficientnet.py``):
MBConv (Tan & Le 2019 Table 1, the MnasNet inverted bottleneck with SE) and Fused-MBConv
(EfficientNetV2, Tan & Le 2021 §3.2 Fig. 2, Table 4), plus the conv-norm-act stem and head of
torchvision's ``EfficientNet.features`` (``features.0``, the last ``features.N``).

A block is ``block`` (an ``nn.Sequential`` of its layers ``block.0``, ``block.1``, …) and, when it
is residual (stride 1 and cin == cout), ``stochastic_depth`` on the branch before the add.

Stochastic depth: torchvision ramps the drop probability over the blocks,
``p_k = stochastic_depth_prob · k / N`` for block k of N. The plan repeats one block per stage,
so a spec gives one p for every residual block. That is exact for every count (no params, no
state, no MACs) and for inference numerics (the identity in eval mode, at any p); in training
the drop rates differ from the ramp (a regularisation detail), while memory only sees p > 0 vs
p = 0 (a new output and a per-sample noise tensor), and only torchvision's block 0 has p = 0:
never residual in V1 (32 → 16 channels), and in V2 ``features.1.0`` costs one noise tensor
and one output more here than in torchvision.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StrictFloat

from archprobe.blocks.base import (
    EXACT_INT,
    BlockParams,
    register_block,
)
from archprobe.blocks.conv_norm_act import (
    ACT_FIELD,
    IN_PLACE,
    InvertedBottleneck,
    Norm,
    conv_norm_act,
)
from archprobe.blocks.layers import make_divisible
from archprobe.graph.nodes import Gate, Node, OpNode, Residual, Seq
from archprobe.graph.ops import StochasticDepth

BlockAct = Literal["relu", "relu6", "hardswish", "silu"]
"""The activations of an MBConv: every one torchvision builds in place (``IN_PLACE``)."""

KERNEL_FIELD: Any = Field(3, description="Kernel size of the k×k conv (Table 1: 3 or 5).")
NORM_FIELD: Any = Field(
    default_factory=Norm,
    description=(
        "BatchNorm eps/momentum: torchvision B0–B4 keep the defaults (1e-5, 0.1), B5–B7 use "
        "(0.001, 0.01), V2 uses eps 0.001."
    ),
)


class _MBConvBase(BlockParams):
    expand: StrictFloat = Field(
        6.0,
        ge=1,
        le=16,
        description=(
            "Expansion ratio t (Table 1: MBConv1, MBConv6; V2 Table 4: 1, 4, 6); the expanded "
            "width is make_divisible(cin · t, 8) (torchvision adjust_channels)."
        ),
    )
    kernel: Annotated[Literal[1, 3, 5, 7], EXACT_INT] = KERNEL_FIELD
    act: BlockAct = ACT_FIELD
    norm: Norm = NORM_FIELD
    stochastic_depth: StrictFloat = Field(
        0.0,
        ge=0,
        lt=1,
        description=(
            "Drop probability of a residual block's branch (torchvision StochasticDepth 'row'; "
            "one value stands for torchvision's ramp, exact for counts and inference); 0: none."
        ),
    )

    def expanded(self, cin: int) -> int:
        return make_divisible(cin * self.expand, 8)


def _block(name: str, layers: list[Node], p: _MBConvBase, cin: int, cout: int, stride: int) -> Node:
    """``block`` (the layers), residual with ``stochastic_depth`` when the shape is kept
    (torchvision ``use_res_connect = stride == 1 and input_channels == out_channels``)."""
    body: tuple[Node, ...] = (Seq("block", tuple(layers)),)
    if stride != 1 or cin != cout:
        return Seq(name, body)
    if p.stochastic_depth > 0:  # torchvision's StochasticDepth returns its input at p = 0
        body += (OpNode("stochastic_depth", StochasticDepth(p.stochastic_depth)),)
    return Residual(name, body)


def _se_in_place(layer: Node, act: str) -> Node:
    """The SE's activation, in place: torchvision's MBConv builds ``SqueezeExcitation(…,
    activation=partial(nn.SiLU, inplace=True))``, while ``squeeze_excitation`` builds the
    out-of-place ``activation()`` of MobileNetV3/RegNet (only for relu and silu), so its
    placeholder activation node is swapped for the block's in-place one."""
    if not isinstance(layer, Gate):
        return layer
    body = tuple(
        OpNode(n.name, IN_PLACE[act]()) if n.name == "activation" else n for n in layer.body
    )
    return replace(layer, body=body)


class MBConvParams(_MBConvBase):
    type: Literal["mbconv"] = Field(
        description=(
            "MBConv (EfficientNet Table 1): [1x1 expand], kxk depthwise, SE, 1x1 linear "
            "project; torchvision block.0..3, stochastic_depth."
        )
    )
    se: StrictFloat = Field(
        0.25,
        ge=0,
        le=1,
        description=(
            "SE squeeze width / block *input* width: max(1, floor(cin · se)) (torchvision "
            "max(1, input_channels // 4)); 0: no SE."
        ),
    )


@register_block("mbconv")
class MBConv:
    """MBConv: expand (none at t = 1), depthwise at the stride, SE, project; SiLU everywhere."""

    Params: ClassVar[type[BlockParams]] = MBConvParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, MBConvParams)
        squeeze = max(1, int(cin * p.se)) if p.se > 0 else 0
        inv = InvertedBottleneck(  # se_act: a placeholder, swapped by _se_in_place
            cin, cout, p.expanded(cin), p.kernel, stride, p.act, squeeze, "relu", "sigmoid", p.norm
        )
        layers = [_se_in_place(layer, p.act) for layer in inv.layers()]
        return _block(name, layers, p, cin, cout, stride)


class FusedMBConvParams(_MBConvBase):
    type: Literal["fused_mbconv"] = Field(
        description=(
            "Fused-MBConv (EfficientNetV2 Fig. 2): kxk expand conv at the stride, 1x1 linear "
            "project; a single kxk conv-BN-act when t = 1. torchvision block.0, block.1."
        )
    )


@register_block("fused_mbconv")
class FusedMBConv:
    """Fused-MBConv: the expand and depthwise convs of MBConv fused into one k×k conv; no SE."""

    Params: ClassVar[type[BlockParams]] = FusedMBConvParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, FusedMBConvParams)
        e, k = p.expanded(cin), p.kernel
        if e == cin:
            layers: list[Node] = [conv_norm_act("0", cin, cout, k, stride, act=p.act, norm=p.norm)]
        else:
            layers = [
                conv_norm_act("0", cin, e, k, stride, act=p.act, norm=p.norm),
                conv_norm_act("1", e, cout, 1, act="none", norm=p.norm),
            ]
        return _block(name, layers, p, cin, cout, stride)

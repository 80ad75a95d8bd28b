"""The inverted residual of MobileNetV2, MobileNetV3 and MNASNet, with the stem and head these
families share, under torchvision's module names.

One block type: the layers are always ``InvertedBottleneck(...).layers()`` (1×1 expand, k×k
depthwise, [SE], 1×1 linear projection; MobileNetV2 §3.3); the families differ only in how
torchvision nests them (``style``):

- ``mobilenet_v2`` (torchvision ``InvertedResidual``): ``conv.0`` expand, ``conv.1`` depthwise
  (each a ``Conv2dNormActivation``), then the projection conv and its BN flattened into
  ``conv.2``, ``conv.3`` (``conv.1``, ``conv.2`` when t = 1 has no expand layer);
- ``mobilenet_v3`` (torchvision ``InvertedResidual``): ``block.0`` … ``block.N``, every layer a
  ``Conv2dNormActivation`` and the SE ``block.k.fc1/fc2``;
- ``mnasnet`` (torchvision ``_InvertedResidual``): ``layers.0`` … ``layers.7`` flat (conv, bn,
  relu, dw conv, bn, relu, conv, bn).

Every style adds the input when the stride is 1 and the width is kept (MobileNetV2 Fig. 4b).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StrictFloat, StrictInt

from archprobe.blocks.base import (
    EXACT_INT,
    BlockParams,
    HeadParams,
    KnobModel,
    StemParams,
    register_block,
    register_head,
    register_stem,
)
from archprobe.blocks.conv_norm_act import IN_PLACE, InvertedBottleneck, Norm, conv_norm_act
from archprobe.blocks.layers import make_divisible, numbered
from archprobe.graph.nodes import Node, OpNode, Residual, Seq
from archprobe.graph.op import GraphError
from archprobe.graph.ops import Dropout, GlobalAvgPool, Linear, Mean

Style = Literal["mobilenet_v2", "mobilenet_v3", "mnasnet"]
MobileAct = Literal["relu", "relu6", "hardswish", "silu"]

CONTAINER: dict[str, str] = {"mobilenet_v2": "conv", "mobilenet_v3": "block", "mnasnet": "layers"}
"""The ``nn.Sequential`` attribute of each style's block (torchvision ``self.conv``, ...)."""

NORM_FIELD: Any = Field(
    default_factory=Norm,
    description=(
        "BatchNorm2d eps/momentum (torchvision: MobileNetV2 defaults 1e-5/0.1; MobileNetV3 "
        "0.001/0.01; MNASNet momentum 1 − 0.9997 = 0.0003, the TF decay 0.9997)."
    ),
)
ACT_FIELD: Any = Field(
    "relu6",
    description="Activation: relu6 (MobileNetV2), relu / hardswish (MobileNetV3 RE / HS), relu "
    "(MNASNet); in place, as torchvision's Conv2dNormActivation.",
)


class SqueezeParams(KnobModel):
    """MobileNetV3 §5.3 squeeze-and-excite on the expanded width (torchvision
    ``SqueezeExcitation(expanded, _make_divisible(expanded // 4, 8))``)."""

    reduction: StrictInt = Field(
        4, ge=1, le=1024, description="Squeeze width = make_divisible(expanded // reduction, 8)."
    )
    gate: Literal["hardsigmoid", "sigmoid"] = Field(
        "hardsigmoid", description="Gate after fc2 (MobileNetV3: hard-sigmoid, §5.2)."
    )

    def squeeze(self, expanded: int) -> int:
        return make_divisible(expanded // self.reduction, 8)


class InvertedResidualParams(BlockParams):
    """Inverted residual with linear bottleneck (MobileNetV2 §3.3, Table 1; MobileNetV3 Tables
    1–2 "bneck"; MNASNet Fig. 7 "MBConv")."""

    type: Literal["inverted_residual"] = Field(
        description="Inverted residual: 1x1 expand, kxk depthwise, [SE], 1x1 linear projection."
    )
    style: Style = Field(
        "mobilenet_v2",
        description=(
            "torchvision module names: mobilenet_v2 (conv.N, projection flattened), "
            "mobilenet_v3 (block.N, every layer Conv2dNormActivation), mnasnet (layers.0-7 flat)."
        ),
    )
    expand_ratio: StrictInt | StrictFloat = Field(
        6,
        gt=0,
        le=64,
        description=(
            "Expansion t of the block's input width (MobileNetV2 Table 2 't'): expanded = "
            "int(round(cin * t)); t = 1 drops the expand layer."
        ),
    )
    expanded: StrictInt | None = Field(
        None,
        ge=1,
        le=65536,
        description=(
            "Expanded width itself (MobileNetV3 Tables 1-2 'exp size'); overrides expand_ratio. "
            "Equal to the input width: no expand layer."
        ),
    )
    kernel: Annotated[Literal[3, 5, 7], EXACT_INT] = Field(3, description="Depthwise kernel size.")
    act: MobileAct = ACT_FIELD
    se: SqueezeParams | None = Field(None, description="SE on the expanded width; null: none.")
    norm: Norm = NORM_FIELD

    def width(self, cin: int) -> int:
        """The expanded (depthwise) width for a block input of ``cin`` channels."""
        if self.expanded is not None:
            return self.expanded
        return round(cin * self.expand_ratio)  # torchvision int(round(inp * t))


def _flatten(layers: list[Node], start: int) -> list[Node]:
    """``layers`` with every ``Seq`` from index ``start`` on replaced by its children, all
    renumbered 0, 1, …: how torchvision lists a layer's conv and BN without a container."""
    out: list[Node] = list(layers[:start])
    for node in layers[start:]:
        out += list(node.children) if isinstance(node, Seq) else [node]
    return [replace(n, name=str(i)) for i, n in enumerate(out)]


def _styled(layers: list[Node], style: Style) -> list[Node]:
    if style == "mobilenet_v2":  # torchvision: the pw-linear conv and its BN sit in `conv`
        return _flatten(layers, len(layers) - 1)
    if style == "mnasnet":  # torchvision: one flat Sequential of 8 layers
        return _flatten(layers, 0)
    return layers


@register_block("inverted_residual")
class InvertedResidual:
    """Inverted residual (MobileNetV2/V3, MNASNet), torchvision names per ``style``."""

    Params: ClassVar[type[BlockParams]] = InvertedResidualParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, InvertedResidualParams)
        e = p.width(cin)
        if e < 1:
            raise GraphError(f"expand_ratio {p.expand_ratio} leaves round({cin} * t) = 0 channels")
        squeeze = p.se.squeeze(e) if p.se else 0
        gate = p.se.gate if p.se else "sigmoid"
        # torchvision's SqueezeExcitation: ReLU (not in place) between fc1 and fc2.
        ib = InvertedBottleneck(
            cin, cout, e, p.kernel, stride, p.act, squeeze, "relu", gate, p.norm
        )
        body = Seq(CONTAINER[p.style], tuple(_styled(ib.layers(), p.style)))
        if stride == 1 and cin == cout:  # MobileNetV2 §3.3: "shortcuts between the bottlenecks"
            return Residual(name, (body,))
        return Seq(name, (body,))


class ConvNormActStemParams(StemParams):
    type: Literal["conv_norm_act"] = Field(
        description=(
            "kxk/2 conv, BN, activation (MobileNetV2/V3 `features.0`); with `separable`, "
            "MNASNet's depthwise-separable conv after it (dw 3x3, BN, act, 1x1, BN)."
        )
    )
    width: StrictInt = Field(ge=1, le=65536, description="Output channels of the first conv.")
    kernel: Annotated[Literal[3, 5, 7], EXACT_INT] = Field(
        3, description="Kernel of the first conv."
    )
    act: MobileAct = ACT_FIELD
    separable: StrictInt | None = Field(
        None,
        ge=1,
        le=65536,
        description="Output width of a depthwise-separable conv, no skip (MNASNet); null: none.",
    )
    norm: Norm = NORM_FIELD


@register_stem("conv_norm_act")
class ConvNormActStem:
    """Layers named 0, 1, 2, … so that the layout makes them one item (``features.0.0``) or an
    item each (MNASNet ``layers.0`` … ``layers.7``)."""

    Params: ClassVar[type[StemParams]] = ConvNormActStemParams

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
        assert isinstance(p, ConvNormActStemParams)
        w = p.width
        layers: list[Node] = [
            conv_norm_act("", in_channels, w, p.kernel, 2, act=p.act, norm=p.norm)
        ]
        if p.separable is not None:
            layers += [
                conv_norm_act("", w, w, 3, groups=w, act=p.act, norm=p.norm),
                conv_norm_act("", w, p.separable, 1, act="none", norm=p.norm),
            ]
        return tuple(_flatten(layers, 0)), p.separable or w


class HeadConvParams(KnobModel):
    """The last 1×1 conv, BN, activation before the pool (MobileNetV2 1280; MobileNetV3 6× the
    last width; MNASNet 1280)."""

    width: StrictInt = Field(ge=1, le=65536, description="Output channels of the 1x1 conv.")
    act: MobileAct = ACT_FIELD
    norm: Norm = NORM_FIELD


class MobileHeadParams(HeadParams):
    type: Literal["mobile"] = Field(
        description="1x1 conv, BN, act; global average pool; classifier Sequential."
    )
    conv: HeadConvParams = Field(description="The 1x1 conv before the pool.")
    pool: Literal["module", "functional"] = Field(
        "module",
        description=(
            "module: an `avgpool` AdaptiveAvgPool2d (MobileNetV3); functional: no module "
            "(MobileNetV2's F.adaptive_avg_pool2d, MNASNet's x.mean([2, 3]))."
        ),
    )
    hidden: StrictInt | None = Field(
        None,
        ge=1,
        le=65536,
        description="Width of a hidden fc + activation before the dropout (MobileNetV3 1280/1024).",
    )
    hidden_act: MobileAct = Field("hardswish", description="Activation after the hidden fc.")
    dropout: StrictFloat = Field(0.2, ge=0, lt=1, description="Dropout before the last fc.")
    classes: StrictInt = Field(1000, ge=1, le=1048576, description="Outputs of the final fc.")


def _classifier(p: MobileHeadParams, cin: int) -> Seq:
    """``classifier``: [.0 Linear, .1 act], Dropout, Linear (torchvision's index names)."""
    ops: list[Any] = []
    if p.hidden is not None:
        ops += [Linear(cin, p.hidden), IN_PLACE[p.hidden_act]()]
        cin = p.hidden
    if p.dropout > 0:
        ops.append(Dropout(p.dropout))
    ops.append(Linear(cin, p.classes))
    return numbered("classifier", ops)


@register_head("mobile")
class MobileHead:
    """Head conv (layers 0, 1, 2: the layout places them as ``features.18`` or ``layers.14…``),
    pool, ``classifier``."""

    Params: ClassVar[type[HeadParams]] = MobileHeadParams

    @staticmethod
    def expand(p: HeadParams, cin: int) -> tuple[Node, ...]:
        assert isinstance(p, MobileHeadParams)
        c = p.conv
        conv = conv_norm_act("", cin, c.width, 1, act=c.act, norm=c.norm)
        pool = OpNode("avgpool", GlobalAvgPool() if p.pool == "module" else Mean())
        return (*_flatten([conv], 0), pool, _classifier(p, c.width))

"""Heads: the layers after the last stage (ResNet Table 1's "average pool, 1000-d fc")."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, StrictFloat, StrictInt

from archprobe.blocks.base import HeadParams, KnobModel, register_head
from archprobe.blocks.layers import numbered
from archprobe.graph.nodes import Node, OpNode
from archprobe.graph.op import Op
from archprobe.graph.ops import BatchNorm, Conv, Dropout, GlobalAvgPool, Linear, ReLU


class HeadConv(KnobModel):
    """A 1×1 conv before the pool (MobileNetV2's 320 → 1280, EfficientNet's ``conv_head``)."""

    width: StrictInt = Field(ge=1, le=65536, description="Output channels of the 1x1 conv.")
    norm: Literal["bn", "none"] = Field("bn", description="BN after the conv, or none.")
    act: Literal["relu", "none"] = Field("relu", description="Activation after it, or none.")


class ClassifierParams(HeadParams):
    type: Literal["classifier"] = Field(
        "classifier",
        description="[1x1 conv], global average pool, [hidden fc layers], fc (the default head).",
    )
    conv: HeadConv | None = Field(None, description="A 1x1 conv before the pool; null: none.")
    pool: Literal["avg"] = Field("avg", description="Global pooling before the classifier.")
    hidden: tuple[StrictInt, ...] = Field(
        (), description="Widths of hidden fc layers, each followed by ReLU (VGG: [4096, 4096])."
    )
    dropout: StrictFloat = Field(
        0.0,
        ge=0,
        lt=1,
        description=(
            "Dropout probability after each hidden layer's ReLU, or before the fc when there is "
            "no hidden layer (VGG, MobileNet); 0: none. Free at inference."
        ),
    )
    classes: StrictInt = Field(1000, ge=1, le=1048576, description="Outputs of the final fc layer.")


def _head_conv(conv: HeadConv, cin: int) -> list[Node]:
    """``conv_head``, ``bn_head``, ``act_head`` (timm EfficientNet's names, without the 2s)."""
    nodes: list[Node] = [OpNode("conv_head", Conv(cin, conv.width, 1, bias=conv.norm == "none"))]
    if conv.norm == "bn":
        nodes.append(OpNode("bn_head", BatchNorm(conv.width)))
    if conv.act == "relu":
        nodes.append(OpNode("act_head", ReLU()))
    return nodes


def _classifier(p: ClassifierParams, cin: int) -> list[Node]:
    """``fc`` alone (torchvision ResNet), or ``fc`` as a Sequential of its layers when there are
    hidden ones (.0 linear, .1 ReLU, [.2 dropout], ...), with a lone dropout before a lone fc."""
    drop = [Dropout(p.dropout)] if p.dropout > 0 else []
    if not p.hidden:
        return [*(OpNode("dropout", d) for d in drop), OpNode("fc", Linear(cin, p.classes))]
    ops: list[Op] = []
    for width in p.hidden:
        ops += [Linear(cin, width), ReLU(), *drop]
        cin = width
    return [numbered("fc", [*ops, Linear(cin, p.classes)])]


@register_head("classifier")
class Classifier:
    """[conv_head, bn_head, act_head], avgpool, [dropout], fc: torchvision's ``avgpool``, ``fc``."""

    Params: ClassVar[type[HeadParams]] = ClassifierParams

    @staticmethod
    def expand(p: HeadParams, cin: int) -> tuple[Node, ...]:
        assert isinstance(p, ClassifierParams)
        nodes = _head_conv(p.conv, cin) if p.conv else []
        width = p.conv.width if p.conv else cin
        return (*nodes, OpNode("avgpool", GlobalAvgPool()), *_classifier(p, width))

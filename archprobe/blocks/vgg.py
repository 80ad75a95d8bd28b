"""VGG (Simonyan & Zisserman, ICLR 2015, Table 1 configurations A/B/D/E) with torchvision's
module names (``vgg.py``): ``features.N`` numbered over single ops, ``avgpool``, ``classifier``.

A stage is a run of 3×3 convs of one width; §2.1: "spatial pooling is carried out by five
max-pooling layers, which follow some of the conv. layers … over a 2×2 pixel window, with
stride 2". Here the pool that ends a stage opens the next one: the first block of a stage at
stride 2 starts with the 2×2/2 max pool (the convs keep stride 1 and padding 1), and the fifth
pool, after the last stage, opens the head. With ``layout: {unroll: op, head: items}`` every op
is one ``features`` item in torchvision's order.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar, Literal

from pydantic import Field, StrictFloat, StrictInt

from archprobe.blocks.base import (
    BlockParams,
    HeadParams,
    StemParams,
    register_block,
    register_head,
    register_stem,
)
from archprobe.blocks.heads import ClassifierParams, _classifier
from archprobe.blocks.layers import numbered
from archprobe.graph.nodes import Node, OpNode
from archprobe.graph.op import GraphError, Op
from archprobe.graph.ops import AdaptiveAvgPool, BatchNorm, Conv, MaxPool, ReLU


class VGGParams(BlockParams):
    type: Literal["vgg"] = Field(
        description="One VGG layer: 3x3 conv (stride 1, pad 1, with bias), [BN], ReLU (Table 1)."
    )
    norm: Literal["bn", "none"] = Field(
        "none", description="none: the paper's VGG; bn: torchvision's vgg*_bn (BN after each conv)."
    )


@register_block("vgg")
class VGG:
    """torchvision ``make_layers``: conv 3×3 (bias), [BatchNorm2d], ReLU(inplace); at stride 2
    first the 2×2/2 max pool that ends the previous stage (the convs never stride, §2.1)."""

    Params: ClassVar[type[BlockParams]] = VGGParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, VGGParams)
        if stride not in (1, 2):
            raise GraphError(f"vgg downsamples by a 2x2/2 max pool: stride {stride}")
        ops: list[Op] = [MaxPool(2, 2)] if stride == 2 else []
        ops.append(Conv(cin, cout, 3, padding=1, bias=True))
        if p.norm == "bn":
            ops.append(BatchNorm(cout))
        ops.append(ReLU())
        return numbered(name, ops)


class NoStemParams(StemParams):
    type: Literal["none"] = Field(
        description="No stem: the first stage takes the input (VGG's first conv is stage 1)."
    )


@register_stem("none")
class NoStem:
    """No layers before the first stage (VGG Table 1 starts with conv3-64)."""

    Params: ClassVar[type[StemParams]] = NoStemParams

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
        return (), in_channels


class VGGHeadParams(HeadParams):
    type: Literal["vgg"] = Field(
        description=(
            "The last 2x2/2 max pool, an adaptive average pool to size x size, then the "
            "classifier: FC-4096, ReLU, dropout, FC-4096, ReLU, dropout, FC-classes (Table 1)."
        )
    )
    pool: Literal["max", "none"] = Field(
        "max", description="max: the fifth 2x2/2 max pool, after the last stage (§2.1)."
    )
    size: StrictInt = Field(
        7, ge=2, le=64, description="Output size of torchvision's AdaptiveAvgPool2d (7)."
    )
    hidden: tuple[StrictInt, ...] = Field(
        (4096, 4096), min_length=1, description="Widths of the hidden fc layers (4096, 4096)."
    )
    dropout: StrictFloat = Field(
        0.5, ge=0, lt=1, description="Dropout after each hidden ReLU (0.5, §3.1); 0: none."
    )
    classes: StrictInt = Field(1000, ge=1, le=1048576, description="Outputs of the last fc.")


@register_head("vgg")
class VGGHead:
    """[pool], ``avgpool`` (AdaptiveAvgPool2d((7, 7))), ``classifier`` .0 … .6 (the linear
    layers flatten their input, as ``torch.flatten(x, 1)`` in ``VGG.forward``)."""

    Params: ClassVar[type[HeadParams]] = VGGHeadParams

    @staticmethod
    def expand(p: HeadParams, cin: int) -> tuple[Node, ...]:
        assert isinstance(p, VGGHeadParams)
        pool = (OpNode("pool", MaxPool(2, 2)),) if p.pool == "max" else ()
        fc = ClassifierParams(hidden=p.hidden, dropout=p.dropout, classes=p.classes)
        (classifier,) = _classifier(fc, cin * p.size * p.size)  # one Seq: hidden is never empty
        return (
            *pool,
            OpNode("avgpool", AdaptiveAvgPool(p.size)),
            replace(classifier, name="classifier"),
        )

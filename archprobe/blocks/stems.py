"""Stems: the layers before the first stage (ResNet Table 1 "conv1"), torchvision names."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, StrictInt

from archprobe.blocks.base import StemParams, register_stem
from archprobe.graph.nodes import Node, OpNode
from archprobe.graph.ops import BatchNorm, Conv, MaxPool, ReLU


class Conv7x7Params(StemParams):
    type: Literal["conv7x7"] = Field(
        description="7x7/2 conv, BN, ReLU, then a pool (ResNet, timm 'b')."
    )
    width: StrictInt = Field(64, ge=1, le=65536, description="Output channels of the 7x7 conv.")
    pool: Literal["max", "none"] = Field("max", description="max: 3x3/2 max pool (ResNet); none.")


@register_stem("conv7x7")
class Conv7x7:
    """conv1 7x7/2, bn1, relu, maxpool 3x3/2 (ResNet Table 1)."""

    Params: ClassVar[type[StemParams]] = Conv7x7Params

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
        assert isinstance(p, Conv7x7Params)
        nodes: list[Node] = [
            OpNode("conv1", Conv(in_channels, p.width, 7, stride=2, padding=3)),
            OpNode("bn1", BatchNorm(p.width)),
            OpNode("relu", ReLU()),
        ]
        if p.pool == "max":
            nodes.append(OpNode("maxpool", MaxPool(3, 2, 1)))
        return tuple(nodes), p.width


class CifarParams(StemParams):
    type: Literal["cifar"] = Field(
        description="3x3/1 conv, BN, ReLU; no pool (ResNet §4.2, CIFAR)."
    )
    width: StrictInt = Field(
        16, ge=1, le=65536, description="Output channels of the 3x3 conv (16 in ResNet §4.2)."
    )


@register_stem("cifar")
class Cifar:
    """conv1 3x3/1, bn1, relu (the CIFAR-10 ResNets of ResNet §4.2)."""

    Params: ClassVar[type[StemParams]] = CifarParams

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
        assert isinstance(p, CifarParams)
        nodes: tuple[Node, ...] = (
            OpNode("conv1", Conv(in_channels, p.width, 3)),
            OpNode("bn1", BatchNorm(p.width)),
            OpNode("relu", ReLU()),
        )
        return nodes, p.width

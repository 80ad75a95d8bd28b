"""Stems: the layers before the first stage (ResNet Table 1 "conv1"), torchvision names."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, StrictInt

from archprobe.blocks.base import StemParams, register_stem
from archprobe.graph.nodes import Node, OpNode, Seq
from archprobe.graph.ops import BatchNorm, Conv, MaxPool, ReLU

POOL_FIELD: Any = Field("max", description="max: 3x3/2 max pool (ResNet); none.")


def _finish(first: Node, width: int, pool: str) -> tuple[Node, ...]:
    """``conv1`` (given), ``bn1``, ``relu``, then ``maxpool`` 3x3/2 unless ``pool == "none"``."""
    nodes: list[Node] = [first, OpNode("bn1", BatchNorm(width)), OpNode("relu", ReLU())]
    if pool == "max":
        nodes.append(OpNode("maxpool", MaxPool(3, 2, 1)))
    return tuple(nodes)


class Conv7x7Params(StemParams):
    type: Literal["conv7x7"] = Field(
        description="7x7/2 conv, BN, ReLU, then a pool (ResNet, timm 'b')."
    )
    width: StrictInt = Field(64, ge=1, le=65536, description="Output channels of the 7x7 conv.")
    pool: Literal["max", "none"] = POOL_FIELD


@register_stem("conv7x7")
class Conv7x7:
    """conv1 7x7/2, bn1, relu, maxpool 3x3/2 (ResNet Table 1)."""

    Params: ClassVar[type[StemParams]] = Conv7x7Params

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
        assert isinstance(p, Conv7x7Params)
        conv = OpNode("conv1", Conv(in_channels, p.width, 7, stride=2, padding=3))
        return _finish(conv, p.width, p.pool), p.width


class DeepParams(StemParams):
    type: Literal["deep"] = Field(
        description=(
            "ResNet-C (Bag of Tricks §4, timm 'c'/'d'): three 3x3 convs, stem_width, stem_width, "
            "width; stride 2 on the first only (GluonCV deep_stem, timm), then BN, ReLU, pool."
        )
    )
    width: StrictInt = Field(64, ge=1, le=65536, description="Output channels of the last 3x3.")
    stem_width: StrictInt = Field(
        32, ge=1, le=65536, description="Channels of the first two 3x3s (32 in ResNet-C)."
    )
    pool: Literal["max", "none"] = POOL_FIELD

    def inner(self) -> tuple[int, int]:
        """Output channels of the first two convs."""
        return self.stem_width, self.stem_width


class DeepTieredParams(DeepParams):
    type: Literal["deep_tiered"] = Field(  # type: ignore[assignment]
        description="timm 't' tiered deep stem: 3x3 widths 3/4·stem_width, stem_width, width."
    )

    def inner(self) -> tuple[int, int]:
        return 3 * (self.stem_width // 4), self.stem_width  # timm: (3 * (w // 4), w) = 24, 32


def _deep(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
    """``conv1`` as timm's deep stem Sequential: .0 conv/2, .1 bn, .2 relu, .3 conv, .4 bn,
    .5 relu, .6 conv; then ``bn1``, ``relu``, ``maxpool`` (the last conv's BN is bn1)."""
    assert isinstance(p, DeepParams)
    a, b = p.inner()
    convs = [Conv(in_channels, a, 3, stride=2), Conv(a, b, 3), Conv(b, p.width, 3)]
    layers: list[Node] = []
    for i, (conv, c) in enumerate(zip(convs[:2], (a, b), strict=True)):
        layers += [
            OpNode(str(3 * i), conv),
            OpNode(str(3 * i + 1), BatchNorm(c)),
            OpNode(str(3 * i + 2), ReLU()),
        ]
    layers.append(OpNode("6", convs[2]))
    return _finish(Seq("conv1", tuple(layers)), p.width, p.pool), p.width


@register_stem("deep")
class Deep:
    """ResNet-C deep stem: conv1.{0,3,6} 3x3 (first /2), bn1, relu, maxpool 3x3/2."""

    Params: ClassVar[type[StemParams]] = DeepParams

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
        return _deep(p, in_channels)


@register_stem("deep_tiered")
class DeepTiered:
    """timm's tiered deep stem (24, 32, 64), otherwise as ``deep``."""

    Params: ClassVar[type[StemParams]] = DeepTieredParams

    @staticmethod
    def expand(p: StemParams, in_channels: int) -> tuple[tuple[Node, ...], int]:
        return _deep(p, in_channels)


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

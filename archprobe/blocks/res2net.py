"""Res2Net bottleneck (Gao et al., TPAMI 2021; facts §4.1): 1×1, hierarchical 3×3 splits, 1×1."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, StrictInt

from archprobe.blocks.base import BlockParams, register_block
from archprobe.blocks.layers import (
    STRIDE_3X3_ONLY,
    GroupedWidthParams,
    conv_bn,
    residual_block,
)
from archprobe.graph.nodes import Node, OpNode, Split
from archprobe.graph.ops import AvgPool, BatchNorm, Conv, GraphError, ReLU

EXPANSION = 4  # output width / planes, as ResNet-50 (official res2net.py Bottle2neck)


class Res2NetParams(GroupedWidthParams):
    type: Literal["res2net"] = Field(
        description="Res2Net Bottle2neck [1x1, w·s; s−1 hierarchical 3x3, w; 1x1, width]."
    )
    stride_on: Literal["3x3"] = STRIDE_3X3_ONLY
    width_per_group: StrictInt = Field(
        26,
        ge=1,
        le=65536,
        description=(
            "Width w of each split for the 64-wide template, Res2Net's baseWidth (26w, 14w, 48w): "
            "w = int(width/4 · d/64) · C."
        ),
    )
    scale: StrictInt = Field(
        4,
        ge=1,
        le=64,
        description="Number of splits s (the '4s' of 26w_4s); at least 2 (s = 1 is a bottleneck).",
    )

    def planes(self, cout: int) -> int:
        return cout // EXPANSION


@register_block("res2net")
class Res2Net:
    """Res2Net: 1x1, [3x3 on split i + output of split i−1] × (s−1), 1x1. The block with a
    projection (first of each stage) is the 'stage' form: strided 3x3s without the carries and
    an AvgPool2d(3, stride, 1) on the last split (official ``stype='stage'``; timm ``is_first``).
    Module names as timm ``Bottle2neck``: ``convs.i``, ``bns.i``, ``pool`` on the block."""

    Params: ClassVar[type[BlockParams]] = Res2NetParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, Res2NetParams)
        width = p.inner_width(cout)
        splits = hierarchical_splits(width, p.scale, stride, p.groups, stride > 1 or cin != cout)
        body = [
            *conv_bn(1, cin, width * p.scale, 1),
            splits,
            *conv_bn(3, width * p.scale, cout, 1, act=False),
        ]
        return residual_block(name, body, p, cin, cout, stride)


def hierarchical_splits(width: int, scale: int, stride: int, groups: int, stage: bool) -> Split:
    """Res2Net's 3×3s (facts §4.1, official ``Bottle2neck``): the input split into ``scale``
    chunks of ``width``; chunk i (< s−1) goes through 3×3 conv, BN, ReLU after adding the
    previous chunk's output ('normal' form); the last chunk passes unchanged, or through
    ``AvgPool2d(3, stride, 1)`` in the 'stage' form (no adds, strided convs). Inline, with timm's
    names on the block itself: ``convs.i``, ``bns.i``, one ``relu``, ``pool``."""
    if scale < 2:
        raise GraphError(
            f"res2net scale {scale}: needs at least 2 splits (scale 1 is a bottleneck)"
        )
    branches = tuple(
        (
            OpNode(f"convs.{i}", Conv(width, width, 3, stride=stride, groups=groups)),
            OpNode(f"bns.{i}", BatchNorm(width)),
            OpNode("relu", ReLU()),
        )
        for i in range(scale - 1)
    )
    last = (OpNode("pool", AvgPool(3, stride, 1)),) if stage else ()
    carry = tuple(not stage and 0 < i < scale - 1 for i in range(scale))
    label = f"3×3, {width}, ×{scale - 1} hierarchical"
    return Split("", (width,) * scale, (*branches, last), carry, label)

"""ResNet basic block: two 3×3 convs (ResNet Fig. 5 left), depth 2."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from archprobe.blocks.base import BlockParams, register_block
from archprobe.blocks.layers import GroupedWidthParams, conv_bn, residual_block
from archprobe.graph.nodes import Node


class BasicParams(GroupedWidthParams):
    """Basic block knobs. ``groups > 1`` here is NOT ResNeXt aggregation: with depth 2 an
    aggregated block is trivially wide (ResNeXt §3.3, Fig. 4); use a bottleneck block."""

    type: Literal["basic"] = Field(
        description="ResNet basic block: [3x3, w; 3x3, w] (ResNet Fig. 5)."
    )


@register_block("basic")
class Basic:
    """Basic: 3x3 (stride), 3x3; ReLU after the add. torchvision ``BasicBlock`` names."""

    Params: ClassVar[type[BlockParams]] = BasicParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, BasicParams)
        width = p.inner_width(cout)
        body = [
            *conv_bn(1, cin, width, 3, stride=stride, groups=p.groups),
            *conv_bn(2, width, cout, 3, groups=p.groups, act=False),
        ]
        return residual_block(name, body, p, cin, cout, stride)

"""ResNet/ResNeXt bottleneck: 1×1 reduce, 3×3 (grouped), 1×1 expand (ResNet Fig. 5 right)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, StrictInt

from archprobe.blocks.base import BlockParams, register_block
from archprobe.blocks.layers import GroupedWidthParams, conv_bn, residual_block
from archprobe.graph.nodes import Node


class BottleneckParams(GroupedWidthParams):
    type: Literal["bottleneck"] = Field(
        description="Bottleneck [1x1, w; 3x3, w, C; 1x1, width] (ResNet Fig. 5; ResNeXt Fig. 3c)."
    )
    stride_on: Literal["1x1", "3x3"] = Field(
        "3x3",
        description=(
            "Which conv downsamples. 3x3: ResNet-B / torchvision 'v1.5' / ResNeXt §4; "
            "1x1: the original ResNet paper (pycls STRIDE_1X1)."
        ),
    )
    expansion: StrictInt = Field(
        4, ge=1, le=64, description="Output width / planes (4 in ResNet and ResNeXt)."
    )

    def planes(self, cout: int) -> int:
        return cout // self.expansion


@register_block("bottleneck")
class Bottleneck:
    """Bottleneck: 1x1, 3x3 (groups), 1x1; stride on 3x3 or 1x1. torchvision names."""

    Params: ClassVar[type[BlockParams]] = BottleneckParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, BottleneckParams)
        width = p.inner_width(cout)
        s1, s3 = (stride, 1) if p.stride_on == "1x1" else (1, stride)
        body = [
            *conv_bn(1, cin, width, 1, stride=s1),
            *conv_bn(2, width, width, 3, stride=s3, groups=p.groups),
            *conv_bn(3, width, cout, 1, act=False),
        ]
        return residual_block(name, body, p, cin, cout, stride)

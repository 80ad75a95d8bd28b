"""ResNet basic block: two 3×3 convs (ResNet Fig. 5 left), depth 2."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, StrictInt

from archprobe.blocks.base import BlockParams, register_block
from archprobe.blocks.layers import (
    SHORTCUT_FIELD,
    ShortcutKind,
    conv_bn,
    group_width,
    residual_block,
)
from archprobe.graph.nodes import Node


class BasicParams(BlockParams):
    type: Literal["basic"] = Field(
        description="ResNet basic block: [3x3, w; 3x3, w] (ResNet Fig. 5)."
    )
    groups: StrictInt = Field(
        1,
        ge=1,
        le=65536,
        description=(
            "Groups of both 3x3 convs. With depth 2 this is NOT ResNeXt aggregation: ResNeXt §3.3 "
            "(Fig. 4) shows aggregated depth-2 blocks are trivially wide; use a bottleneck block."
        ),
    )
    width_per_group: StrictInt = Field(
        64,
        ge=1,
        le=65536,
        description="Channels per group per 64 of output width (torchvision base_width).",
    )
    shortcut: ShortcutKind = SHORTCUT_FIELD


@register_block("basic")
class Basic:
    """Basic: 3x3 (stride), 3x3; ReLU after the add. torchvision ``BasicBlock`` names."""

    Params: ClassVar[type[BlockParams]] = BasicParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, BasicParams)
        width = group_width(cout, p.width_per_group, p.groups)
        body = [
            *conv_bn(1, cin, width, 3, stride=stride, groups=p.groups),
            *conv_bn(2, width, cout, 3, groups=p.groups, act=False),
        ]
        return residual_block(name, body, p.shortcut, cin, cout, stride)

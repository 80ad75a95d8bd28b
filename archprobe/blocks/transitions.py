"""Stage transitions: how a stage changes width and resolution.

``none`` (ResNet): the first block of the stage does it, with its stride and its projection
shortcut. ``downsample``: a layer of its own between stages (ConvNeXt's LayerNorm + 2×2/2 conv,
Liu et al. 2022 §2.5 "separate downsampling layers"), after which every block keeps its shape.
A transition runs only where the shape changes (stride > 1 or a new width).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, StrictInt

from archprobe.blocks.base import TransitionParams, register_transition
from archprobe.blocks.layers import numbered
from archprobe.graph.nodes import Node
from archprobe.graph.op import Op
from archprobe.graph.ops import BatchNorm, Conv, LayerNorm2d


class NoneParams(TransitionParams):
    type: Literal["none"] = Field(
        "none", description="No layer between stages: the first block downsamples (ResNet)."
    )


@register_transition("none")
class NoTransition:
    """The stage's first block changes the shape (ResNet Table 1)."""

    Params: ClassVar[type[TransitionParams]] = NoneParams

    @staticmethod
    def expand(p: TransitionParams, cin: int, cout: int, stride: int, name: str) -> Node | None:
        return None


class DownsampleParams(TransitionParams):
    type: Literal["downsample"] = Field(
        description="A norm and a strided conv between stages (ConvNeXt §2.5)."
    )
    norm: Literal["bn", "layernorm", "none"] = Field(
        "bn",
        description="Batch norm, LayerNorm2d (ConvNeXt §2.6, torchvision) or no norm.",
    )
    order: Literal["norm_conv", "conv_norm"] = Field(
        "norm_conv", description="Norm before the conv (ConvNeXt) or after it."
    )
    kernel: StrictInt | None = Field(
        None, ge=1, le=15, description="Conv kernel; default the stride (non-overlapping patches)."
    )


@register_transition("downsample")
class Downsample:
    """``.0``/``.1``: norm and conv (k = stride, padding so that k = s tiles the map), in
    ``order``; the conv has a bias unless a norm follows it."""

    Params: ClassVar[type[TransitionParams]] = DownsampleParams

    @staticmethod
    def expand(p: TransitionParams, cin: int, cout: int, stride: int, name: str) -> Node | None:
        assert isinstance(p, DownsampleParams)
        k = p.kernel or stride
        norm_after = p.norm != "none" and p.order == "conv_norm"
        conv = Conv(cin, cout, k, stride=stride, padding=(k - stride + 1) // 2, bias=not norm_after)
        layers: list[Op] = [conv]
        if p.norm != "none":
            c = cout if norm_after else cin
            norm = BatchNorm(c) if p.norm == "bn" else LayerNorm2d(c)
            layers.insert(len(layers) if norm_after else 0, norm)
        return numbered(name, layers)

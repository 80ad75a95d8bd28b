"""The ResNet-50 bottleneck modernized step by step towards the ConvNeXt block (Liu et al. 2022
§2, Fig. 2): one knob per step of the roadmap, so that ``specs/convnext_roadmap/`` is a chain of
specs each extending the one before, from ``resnet50`` to a network with ConvNeXt-T's params and
MACs.

The block is channels-first (1×1 convs, BatchNorm or LayerNorm2d) under ResNet-style names
(``conv1``, ``norm1``, ``act1``, ``downsample``); torchvision's channels-last CNBlock
(``convnext.py``) has the same params and MACs once every knob takes its ConvNeXt value, since a
1×1 conv on NCHW and a linear layer on NHWC are the same product.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StrictBool, StrictFloat

from archprobe.blocks.base import EXACT_INT, BlockParams, register_block
from archprobe.blocks.bottleneck import BottleneckParams
from archprobe.blocks.convnext import scaled_branch
from archprobe.blocks.layers import numbered
from archprobe.graph.nodes import Node, OpNode, Residual
from archprobe.graph.op import Op
from archprobe.graph.ops import GELU, BatchNorm, Conv, LayerNorm2d, ReLU


class ModernParams(BottleneckParams):
    type: Literal["modern_bottleneck"] = Field(  # type: ignore[assignment]
        description="ResNet bottleneck with the ConvNeXt roadmap's knobs (Liu et al. 2022 §2)."
    )
    # The roadmap strides on the spatial conv with ResNet's projection shortcut and has no SE.
    stride_on: Literal["3x3"] = Field(
        "3x3", description="The spatial conv downsamples (ResNet-B, as resnet50)."
    )
    shortcut: Literal["conv1x1"] = Field(
        "conv1x1", description="1x1 projection + norm where the shape changes (option B)."
    )
    se: None = Field(None, description="No squeeze-and-excitation.")
    depthwise: StrictBool = Field(
        False, description="The spatial conv is depthwise: groups = its width (§2.3 ResNeXt-ify)."
    )
    inverted: StrictBool = Field(
        False,
        description="Hidden width = width·expansion, not width/expansion (§2.4 inverted).",
    )
    depthwise_first: StrictBool = Field(
        False, description="The spatial conv comes first, on the block input (§2.5 'moving up')."
    )
    kernel: Annotated[Literal[3, 5, 7, 9, 11], EXACT_INT] = Field(
        3, description="Spatial kernel (§2.5 tries 3 to 11 and keeps 7)."
    )
    act: Literal["relu", "gelu"] = Field("relu", description="Activation (§2.6: ReLU → GELU).")
    acts: Literal["every", "one"] = Field(
        "every",
        description=(
            "every: after each conv but the last, and after the add (ResNet); one: only after the "
            "second conv, between the two 1×1s once the spatial conv is first (§2.6)."
        ),
    )
    norms: Literal["every", "one"] = Field(
        "every", description="every: after each conv (ResNet); one: after the first conv (§2.6)."
    )
    norm: Literal["bn", "layernorm"] = Field(
        "bn", description="Batch norm or LayerNorm2d, eps 1e-6 (§2.6 'substituting BN with LN')."
    )
    bias: StrictBool = Field(
        False, description="Every conv has a bias (torchvision CNBlock's convs and linears do)."
    )
    layer_scale: StrictFloat | None = Field(
        None, gt=0, le=1, description="Init of a per-channel layer scale on the branch; null: none."
    )

    def planes(self, cout: int) -> int:
        return cout * self.expansion if self.inverted else cout // self.expansion


def _norm(p: ModernParams, channels: int) -> Op:
    return LayerNorm2d(channels) if p.norm == "layernorm" else BatchNorm(channels)


def _act(p: ModernParams) -> Op:
    return GELU() if p.act == "gelu" else ReLU()


def _convs(p: ModernParams, cin: int, cout: int, stride: int) -> list[Conv]:
    """The three convs in order: spatial (depthwise or grouped) and two 1×1s, or the ResNet
    order 1×1, spatial, 1×1."""
    hidden = p.inner_width(cout)
    first = cin if p.depthwise_first else hidden
    groups = first if p.depthwise else p.groups
    spatial = Conv(first, first, p.kernel, stride=stride, groups=groups, bias=p.bias)
    if p.depthwise_first:
        return [spatial, Conv(cin, hidden, 1, bias=p.bias), Conv(hidden, cout, 1, bias=p.bias)]
    return [Conv(cin, hidden, 1, bias=p.bias), spatial, Conv(hidden, cout, 1, bias=p.bias)]


def _shortcut(p: ModernParams, cin: int, cout: int, stride: int) -> Node | None:
    """ResNet's projection (option B) where the shape changes, with the block's norm."""
    if cin == cout and stride == 1:
        return None
    return numbered("downsample", [Conv(cin, cout, 1, stride=stride), _norm(p, cout)])


@register_block("modern_bottleneck")
class ModernBottleneck:
    """``conv1``/``norm1``/``act1`` … ``conv3``/``norm3``, [layer scale, stochastic depth], + the
    shortcut, then ``act`` (ResNet's ReLU after the add, while ``acts: every``)."""

    Params: ClassVar[type[BlockParams]] = ModernParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, ModernParams)
        body: list[Node] = []
        for i, conv in enumerate(_convs(p, cin, cout, stride), 1):
            body.append(OpNode(f"conv{i}", conv))
            if p.norms == "every" or i == 1:
                body.append(OpNode(f"norm{i}", _norm(p, conv.cout)))
            if i < 3 and (p.acts == "every" or i == 2):
                body.append(OpNode(f"act{i}", _act(p)))
        branch = scaled_branch(tuple(body), cout, p.layer_scale, 0.0)
        post = (OpNode("act", _act(p)),) if p.acts == "every" else ()
        return Residual(name, branch, _shortcut(p, cin, cout, stride), post)

"""A user's plugin, as the README's worked example: a new primitive (Mish) and a new block that
uses it (MobileNetV2's inverted residual, Sandler et al. 2018 §3.3, Table 1), registered with
archprobe's public decorators. Loaded by ``ARCHPROBE_PLUGINS=tests.plugins.mobile``.

Nothing in archprobe knows these names; the analytic counts, the built module, the memory model
and the counters all read the facts stated here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field, StrictInt

from archprobe.blocks import BlockParams, register_block
from archprobe.graph import Node, OpNode, Residual, Seq, register_op
from archprobe.graph.ops import Activation, BatchNorm, Conv


@register_op("mish")
@dataclass(frozen=True)
class Mish(Activation):
    """x·tanh(softplus(x)): every other fact is the Activation default (no MACs, a new output,
    autograd keeps the input, no counter counts it)."""

    aten: ClassVar[tuple[str, ...]] = ("mish",)

    def label(self) -> str:
        return "Mish"

    def module(self) -> Any:
        from torch import nn

        return nn.Mish()


class InvertedResidualParams(BlockParams):
    type: Literal["mish_inverted_residual"] = Field(
        description="MobileNetV2: 1x1 expand, 3x3 depthwise, 1x1 linear projection."
    )
    expand_ratio: StrictInt = Field(6, ge=1, le=64, description="Expansion factor t.")


def _conv_bn_act(name: str, cin: int, cout: int, kernel: int, stride: int, groups: int) -> Seq:
    layers = (Conv(cin, cout, kernel, stride=stride, groups=groups), BatchNorm(cout), Mish())
    return Seq(name, tuple(OpNode(str(i), op) for i, op in enumerate(layers)))


@register_block("mish_inverted_residual")
class InvertedResidual:
    """torchvision names: ``conv.0`` expand, ``conv.1`` depthwise, ``conv.2``/``conv.3`` the
    projection and its BN; the identity shortcut only where the shape is kept."""

    Params: ClassVar[type[BlockParams]] = InvertedResidualParams

    @staticmethod
    def expand(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
        assert isinstance(p, InvertedResidualParams)
        hidden = cin * p.expand_ratio
        layers: list[Node] = []
        if p.expand_ratio != 1:
            layers.append(_conv_bn_act("0", cin, hidden, 1, 1, 1))
        layers.append(_conv_bn_act(str(len(layers)), hidden, hidden, 3, stride, hidden))
        n = len(layers)
        layers += [OpNode(str(n), Conv(hidden, cout, 1)), OpNode(str(n + 1), BatchNorm(cout))]
        conv = Seq("conv", tuple(layers))
        if stride == 1 and cin == cout:
            return Residual(name, (conv,))
        return Seq(name, (conv,))

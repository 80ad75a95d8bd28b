"""torchvision's shared building pieces for the mobile and modern families, so no family copies
another's layers: ``Conv2dNormActivation`` (conv, BN, activation named ``0``, ``1``, ``2``),
``SqueezeExcitation`` (``fc1``, ``fc2`` as 1×1 convs with bias) and the inverted bottleneck of
MobileNetV2/V3, MNASNet and EfficientNet (expand 1×1, depthwise k×k, [SE], project 1×1).

Activations are named by the spec (``relu``, ``relu6``, ``hardswish``, ``silu``, ``gelu``);
``ACTIVATIONS`` gives the op torchvision builds for each: in place inside
``Conv2dNormActivation``, out of place inside ``SqueezeExcitation``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic import Field, StrictFloat

from archprobe.blocks.base import KnobModel
from archprobe.graph.nodes import Gate, Node, OpNode, Seq
from archprobe.graph.op import Op
from archprobe.graph.ops import (
    BatchNorm,
    Conv,
    Hardsigmoid,
    Hardswish,
    Mean,
    Mul,
    ReLU,
    ReLU6,
    ReLUOutOfPlace,
    Sigmoid,
    SiLU,
    SiLUInPlace,
)

ActName = Literal["relu", "relu6", "hardswish", "silu", "none"]
GateName = Literal["sigmoid", "hardsigmoid"]

IN_PLACE: dict[str, type[Op]] = {
    "relu": ReLU,
    "relu6": ReLU6,
    "hardswish": Hardswish,
    "silu": SiLUInPlace,
}
"""The activation ``Conv2dNormActivation`` builds (``inplace=True``) for each name."""

OUT_OF_PLACE: dict[str, type[Op]] = {"relu": ReLUOutOfPlace, "silu": SiLU}
"""The activation ``SqueezeExcitation`` builds (``activation()``, not in place)."""

GATES: dict[str, type[Op]] = {"sigmoid": Sigmoid, "hardsigmoid": Hardsigmoid}

ACT_FIELD: Any = Field(
    "relu",
    description=(
        "Activation: relu, relu6 (MobileNetV2), hardswish (MobileNetV3), silu (EfficientNet), "
        "none (a linear layer, MobileNetV2's linear bottleneck)."
    ),
)


class Norm(KnobModel):
    """Batch norm settings (torchvision: MobileNetV3 eps 0.001, momentum 0.01; EfficientNet
    eps 0.001; MNASNet momentum 0.0003). Only training and the numerics of a loaded
    checkpoint see them; counts do not."""

    eps: StrictFloat = Field(1e-5, gt=0, lt=1, description="BatchNorm2d eps.")
    momentum: StrictFloat = Field(0.1, gt=0, le=1, description="BatchNorm2d momentum.")

    def op(self, channels: int) -> BatchNorm:
        return BatchNorm(channels, self.eps, self.momentum)


BN = Norm()


def conv_norm_act(
    name: str, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1,
    act: str = "relu", norm: Norm = BN,
) -> Seq:  # fmt: skip
    """``Conv2dNormActivation``: ``.0`` conv (padding (k−1)/2, no bias), ``.1`` BN, ``.2`` the
    activation (in place), or no ``.2`` for ``act="none"``."""
    layers: list[Node] = [
        OpNode(
            "0", Conv(cin, cout, kernel, stride=stride, padding=(kernel - 1) // 2, groups=groups)
        ),
        OpNode("1", norm.op(cout)),
    ]
    if act != "none":
        layers.append(OpNode("2", IN_PLACE[act]()))
    return Seq(name, tuple(layers))


def squeeze_excitation(
    name: str, channels: int, squeeze: int, act: str = "relu", gate: str = "sigmoid"
) -> Gate:
    """torchvision ``SqueezeExcitation`` (Hu et al. §3): x · gate(fc2(act(fc1(avgpool(x))))),
    fc1/fc2 1×1 convs with bias; MACs 2·C·S. The pool is ``AdaptiveAvgPool2d(1)``, stateless,
    so the functional mean stands for it."""
    body = (
        OpNode("avgpool", Mean()),
        OpNode("fc1", Conv(channels, squeeze, 1, bias=True)),
        OpNode("activation", OUT_OF_PLACE[act]()),
        OpNode("fc2", Conv(squeeze, channels, 1, bias=True)),
        OpNode("scale_activation", GATES[gate]()),
    )
    return Gate(name, body, OpNode("scale", Mul()), label=f"SE {channels}→{squeeze}")


@dataclass(frozen=True)
class InvertedBottleneck:
    """The layers of an inverted residual (MobileNetV2 §3.3, Table 1): 1×1 expand to
    ``expanded`` (none when it equals ``cin``), k×k depthwise at ``stride``, SE on the expanded
    width (``squeeze`` > 0), 1×1 linear projection to ``cout`` (no activation)."""

    cin: int
    cout: int
    expanded: int
    kernel: int
    stride: int
    act: str
    squeeze: int = 0
    se_act: str = "relu"
    gate: str = "sigmoid"
    norm: Norm = BN

    def layers(self) -> list[Node]:
        """``0`` expand, ``1`` depthwise, [``2`` SE], last: project (torchvision's ``block.N``)."""
        e, out = self.expanded, list[Node]()
        if e != self.cin:
            out.append(conv_norm_act("", self.cin, e, 1, act=self.act, norm=self.norm))
        out.append(conv_norm_act("", e, e, self.kernel, self.stride, e, self.act, self.norm))
        if self.squeeze:
            out.append(squeeze_excitation("", e, self.squeeze, self.se_act, self.gate))
        out.append(conv_norm_act("", e, self.cout, 1, act="none", norm=self.norm))
        return [replace(n, name=str(i)) for i, n in enumerate(out)]

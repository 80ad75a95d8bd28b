"""Activations: ReLU (in place, as torchvision) and the sigmoid gate of SE (Hu et al. §3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.facts import CountRule, MemoryRule, uncounted
from archprobe.graph.op import Example, Op, register_op


@dataclass(frozen=True)
class Activation(Op):
    """Base of a unary activation (GELU, hard-swish, ReLU6, ...): every fact has a default but
    the module (or ``forward``), so a plain activation is a module and a name.

    Defaults: no MACs; a new output tensor; autograd keeps the input (true of GELU, SiLU,
    hard-swish, hardtanh); no counter counts it.
    """

    kind: ClassVar[str] = "act"
    memory: ClassVar[MemoryRule] = MemoryRule(saves=(0,))
    counting: ClassVar[Mapping[str, CountRule]] = uncounted()

    @classmethod
    def example(cls) -> Example:
        return cls(), ((4, 5, 5),)


@register_op("relu")
@dataclass(frozen=True)
class ReLU(Activation):
    """``nn.ReLU(inplace=True)``: no MACs, no new storage."""

    # relu_ backward uses its result (threshold_backward(grad, result)), which is the input's
    # storage: no new bytes, and the next conv saves that same storage.
    memory: ClassVar[MemoryRule] = MemoryRule(alias=True, saves_output=True)
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        # fvcore jit_analysis.py _IGNORED_OPS holds aten::relu and aten::relu_: 0, never listed.
        fvcore="aten::relu_ is in _IGNORED_OPS (jit_analysis.py): never listed",
        thop="zero_ops",
    )
    aten: ClassVar[tuple[str, ...]] = ("relu", "threshold", "clamp_min", "hardtanh", "leaky_relu")

    def label(self) -> str:
        return "ReLU"

    def module(self) -> Any:
        from torch import nn

        return nn.ReLU(inplace=True)


@register_op("sigmoid")
@dataclass(frozen=True)
class Sigmoid(Activation):
    """``nn.Sigmoid``: the gate of squeeze-and-excitation (timm ``SEModule.gate``)."""

    memory: ClassVar[MemoryRule] = MemoryRule(saves_output=True)  # σ' = σ(1 − σ): the result
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::sigmoid: no handle in fvcore's _DEFAULT_SUPPORTED_OPS (listed)",
        thop="nn.Sigmoid has no thop rule (listed)",
    )
    aten: ClassVar[tuple[str, ...]] = ("sigmoid",)

    def label(self) -> str:
        return "sigmoid"

    def module(self) -> Any:
        from torch import nn

        return nn.Sigmoid()

    @classmethod
    def example(cls) -> Example:
        return cls(), ((4, 1, 1),)

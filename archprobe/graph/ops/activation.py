"""Activations: ReLU (in place, as torchvision), the sigmoid gate of SE (Hu et al. §3), and the
mobile/modern ones (ReLU6, hard-swish, hard-sigmoid, SiLU, GELU), in place where torchvision
builds them so."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Shape, numel
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


def _input_copy(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    return (numel(x) * batch * db,)


@dataclass(frozen=True)
class InPlaceActivation(Activation):
    """An activation applied in place (torchvision's ``Conv2dNormActivation`` builds every one
    with ``inplace=True``). Unlike ``relu_``, whose backward reads its result, the in-place
    ``hardtanh_``/``hardswish_``/``silu_``/``hardsigmoid_`` need their input, which the op then
    overwrites, so autograd saves a copy of it: no new output, one saved input-sized tensor
    (measured with ``saved_tensors_hooks`` on torch 2.13)."""

    memory: ClassVar[MemoryRule] = MemoryRule(alias=True, saved_extra=_input_copy)


def _torch(name: str, **kwargs: Any) -> Any:
    from torch import nn

    return getattr(nn, name)(**kwargs)


@register_op("relu_new")
@dataclass(frozen=True)
class ReLUOutOfPlace(Activation):
    """``nn.ReLU()`` (not in place): torchvision's ``SqueezeExcitation.activation``."""

    memory: ClassVar[MemoryRule] = MemoryRule(saves_output=True)  # threshold_backward(result)
    counting: ClassVar[Mapping[str, CountRule]] = ReLU.counting
    aten: ClassVar[tuple[str, ...]] = ()  # ReLU's names: one category table entry per name

    def label(self) -> str:
        return "ReLU"

    def module(self) -> Any:
        return _torch("ReLU")


@register_op("relu6")
@dataclass(frozen=True)
class ReLU6(InPlaceActivation):
    """``nn.ReLU6(inplace=True)``: min(max(x, 0), 6) (MobileNetV2, Sandler et al. §3)."""

    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::hardtanh_: no handle in fvcore's _DEFAULT_SUPPORTED_OPS (listed)",
        thop="zero_ops (nn.ReLU6 in thop's register_hooks)",
    )

    def label(self) -> str:
        return "ReLU6"

    def module(self) -> Any:
        return _torch("ReLU6", inplace=True)


@register_op("hardswish")
@dataclass(frozen=True)
class Hardswish(InPlaceActivation):
    """``nn.Hardswish(inplace=True)``: x · ReLU6(x + 3) / 6 (MobileNetV3, Howard et al. §5.2)."""

    aten: ClassVar[tuple[str, ...]] = ("hardswish",)

    def label(self) -> str:
        return "h-swish"

    def module(self) -> Any:
        return _torch("Hardswish", inplace=True)


@register_op("hardsigmoid")
@dataclass(frozen=True)
class Hardsigmoid(Activation):
    """``nn.Hardsigmoid()``: ReLU6(x + 3) / 6, MobileNetV3's SE gate (Howard et al. §5.3)."""

    aten: ClassVar[tuple[str, ...]] = ("hardsigmoid",)

    def label(self) -> str:
        return "h-sigmoid"

    def module(self) -> Any:
        return _torch("Hardsigmoid")

    @classmethod
    def example(cls) -> Example:
        return cls(), ((4, 1, 1),)


@register_op("silu_")
@dataclass(frozen=True)
class SiLUInPlace(InPlaceActivation):
    """``nn.SiLU(inplace=True)``: x · σ(x), EfficientNet's activation (Tan & Le 2019, "swish")."""

    aten: ClassVar[tuple[str, ...]] = ("silu",)

    def label(self) -> str:
        return "SiLU"

    def module(self) -> Any:
        return _torch("SiLU", inplace=True)


@register_op("silu")
@dataclass(frozen=True)
class SiLU(Activation):
    """``nn.SiLU()`` (not in place): EfficientNet's ``SqueezeExcitation.activation``."""

    def label(self) -> str:
        return "SiLU"

    def module(self) -> Any:
        return _torch("SiLU")


@register_op("gelu")
@dataclass(frozen=True)
class GELU(Activation):
    """``nn.GELU()`` (exact erf form): ConvNeXt's activation (Liu et al. 2022 §2.6)."""

    aten: ClassVar[tuple[str, ...]] = ("gelu",)

    def label(self) -> str:
        return "GELU"

    def module(self) -> Any:
        return _torch("GELU")

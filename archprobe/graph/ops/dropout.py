"""Dropout before a classifier (MobileNet, EfficientNet, VGG heads): free at inference."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Shape, numel
from archprobe.graph.facts import CountRule, MemoryRule, uncounted
from archprobe.graph.op import Example, GraphError, Op, register_op

MASK_BYTES = 1  # CUDA's fused native_dropout keeps a bool mask


def _noise(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # CPU dropout is `input * noise` with a float noise tensor of the input's size, which
    # MulBackward keeps for the input's gradient.
    return (batch * numel(x) * db,)


def _mask(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    return (batch * numel(x) * MASK_BYTES,)


@register_op("dropout")
@dataclass(frozen=True)
class Dropout(Op):
    """``nn.Dropout(p)``: the identity in eval mode (no cost); in training a new output and
    the noise (CPU) or mask (CUDA) kept for backward."""

    kind: ClassVar[str] = "dropout"
    memory: ClassVar[MemoryRule] = MemoryRule(eval_alias=True, saved_extra=_noise)
    memory_cuda: ClassVar[MemoryRule | None] = MemoryRule(eval_alias=True, saved_extra=_mask)
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::dropout is in _IGNORED_OPS (jit_analysis.py): never listed",
        thop="zero_ops",
    )
    aten: ClassVar[tuple[str, ...]] = ("dropout", "native_dropout")

    p: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.p < 1:
            raise GraphError(f"dropout probability {self.p} must lie in (0, 1)")

    def label(self) -> str:
        return f"dropout {self.p:g}"

    def module(self) -> Any:
        from torch import nn

        return nn.Dropout(self.p)

    @classmethod
    def example(cls) -> Example:
        return cls(0.25), ((6, 1, 1),)


def _row_noise(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # "row" mode draws one Bernoulli per sample, an (N, 1, 1, 1) tensor that MulBackward keeps.
    return (batch * db,)


@register_op("stochastic_depth")
@dataclass(frozen=True)
class StochasticDepth(Op):
    """torchvision ``ops.StochasticDepth(p, "row")`` on a residual branch (Huang et al. 2016;
    EfficientNet, ConvNeXt): in eval mode the identity; in training each sample's branch is
    kept with probability 1−p and scaled by 1/(1−p), a new output and the (N,1,1,1) noise kept
    for backward. No parameters, no state, no MACs."""

    kind: ClassVar[str] = "dropout"
    memory: ClassVar[MemoryRule] = MemoryRule(eval_alias=True, saved_extra=_row_noise)
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="no op in eval mode (identity)", thop="no thop rule for its module (listed)"
    )
    aten: ClassVar[tuple[str, ...]] = ("bernoulli",)

    p: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.p < 1:
            raise GraphError(f"stochastic depth probability {self.p} must lie in [0, 1)")

    def label(self) -> str:
        return f"stochastic depth {self.p:g}"

    def module(self) -> Any:
        from archprobe.graph.ops.torch_modules import RowStochasticDepth

        return RowStochasticDepth(self.p)

    @classmethod
    def example(cls) -> Example:
        return cls(0.25), ((6, 3, 3),)

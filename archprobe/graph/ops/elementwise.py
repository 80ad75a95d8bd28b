"""Ops on several tensors: the residual sum, the gate product, channel concatenation.

The sum is the ``+`` of a residual block or a Res2Net carry and the concatenation merges branches:
both run inside a structural node's forward (no module). The product multiplies a feature map
by per-channel weights (SE, Hu et al. §3 Eq. 4), and becomes a module of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Shape, differ
from archprobe.graph.facts import FVCORE_UNSUPPORTED, CountRule, MemoryRule, uncounted
from archprobe.graph.op import Example, GraphError, Op, register_op


@register_op("add")
@dataclass(frozen=True)
class Add(Op):
    """Element-wise sum of two tensors of one shape (the residual branch and the shortcut)."""

    kind: ClassVar[str] = "add"
    arity: ClassVar[int] = 2
    # AddBackward returns the incoming gradient for both operands (alpha = 1): no copy, no save.
    memory: ClassVar[MemoryRule] = MemoryRule(grad_pass=True)
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::add: " + FVCORE_UNSUPPORTED,
        # The residual `+` runs inside the block's forward; thop hooks modules (profile.py).
        thop="functional + in the block's forward: no module, never seen",
    )
    aten: ClassVar[tuple[str, ...]] = ("add",)

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        if any(differ(o, x) for o in others):
            raise GraphError(f"cannot add tensors of shapes {x} and {others[0]}")
        return x

    def label(self) -> str:
        return "add"

    def forward(self, *xs: Any) -> Any:
        return xs[0] + xs[1]

    @classmethod
    def example(cls) -> Example:
        return cls(), ((4, 5, 5), (4, 5, 5))


@register_op("mul")
@dataclass(frozen=True)
class Mul(Op):
    """``x * g``: a feature map times per-channel weights (C, 1, 1) or a map of its shape."""

    kind: ClassVar[str] = "elementwise"
    arity: ClassVar[int] = 2
    # MulBackward needs each operand for the other's gradient.
    memory: ClassVar[MemoryRule] = MemoryRule(saves=(0, 1))
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::mul: " + FVCORE_UNSUPPORTED
    )
    aten: ClassVar[tuple[str, ...]] = ("mul",)

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        for g in others:
            if g not in (x, (x[0], 1, 1)):
                raise GraphError(f"cannot scale a {x} map by {g} (need {(x[0], 1, 1)} or {x})")
        return x

    def label(self) -> str:
        return "scale"

    def forward(self, *xs: Any) -> Any:
        return xs[0] * xs[1]

    @classmethod
    def example(cls) -> Example:
        return cls(), ((4, 5, 5), (4, 1, 1))


@register_op("concat")
@dataclass(frozen=True)
class Concat(Op):
    """``torch.cat`` along channels of two or more maps of one spatial size."""

    kind: ClassVar[str] = "concat"
    arity: ClassVar[int] = 2  # at least; the graph passes every branch output
    # torch.cat's backward hands each input a narrow view of the gradient.
    memory: ClassVar[MemoryRule] = MemoryRule(grad_pass=True)
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::cat: no flops (listed when traced)",
        thop="torch.cat in the forward: no module, never seen",
    )
    aten: ClassVar[tuple[str, ...]] = ("cat",)

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        if any(o[1:] != x[1:] for o in others):
            raise GraphError(f"branches disagree on spatial size: {[x, *others]}")
        return (x[0] + sum(o[0] for o in others), x[1], x[2])

    def label(self) -> str:
        return "concat"

    def forward(self, *xs: Any) -> Any:
        import torch

        return torch.cat(xs, 1)

    @classmethod
    def example(cls) -> Example:
        return cls(), ((4, 5, 5), (2, 5, 5))

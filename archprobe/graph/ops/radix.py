"""The three steps of ResNeSt's split attention around its fcs (Zhang et al. 2020, Fig. 2;
facts §5.1, official ``SplAtConv2d``, timm ``SplitAttn``), for a map of R radix splits stacked
on channels (R·w, H, W):

- :class:`RadixSum` sums the splits to (w, H, W) before the global pool;
- :class:`RSoftmax` turns the fc2 logits (R·w, 1, 1) into weights: a softmax across the R
  splits of each cardinal group, or a sigmoid when R = 1 ("rSoftMax");
- :class:`RadixWeighted` is the attention-weighted sum of the splits, Σ_r w_r · x_r.

None has a module in the reference code (they are tensor code in the forward), so none has a
thop rule, and none has a FlopCounterMode formula.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Shape, numel
from archprobe.graph.facts import FVCORE_UNSUPPORTED, CountRule, MemoryRule, uncounted
from archprobe.graph.op import Example, GraphError, Op, register_op


@dataclass(frozen=True)
class _Radix(Op):
    kind: ClassVar[str] = "elementwise"
    radix: int

    def out_channels_last(self, x_channels_last: bool) -> bool:
        return False  # a reduction over the view's radix dim writes a contiguous result

    def _split(self, x: Shape) -> int:
        if x[0] % self.radix:
            raise GraphError(f"{x[0]} channels do not split into radix {self.radix}")
        return x[0] // self.radix


@register_op("radix_sum")
@dataclass(frozen=True)
class RadixSum(_Radix):
    """``x.view(n, R, C/R, H, W).sum(1)``: the splits summed before the pool."""

    memory: ClassVar[MemoryRule] = MemoryRule()  # sum's backward needs only the shape
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::sum: " + FVCORE_UNSUPPORTED
    )

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        return (self._split(x), x[1], x[2])

    def label(self) -> str:
        return f"sum of {self.radix} splits"

    def forward(self, *xs: Any) -> Any:
        x = xs[0]
        n, c = x.shape[:2]
        return x.view(n, self.radix, c // self.radix, *x.shape[2:]).sum(1)

    @classmethod
    def example(cls) -> Example:
        return cls(2), ((6, 4, 4),)


@register_op("rsoftmax")
@dataclass(frozen=True)
class RSoftmax(_Radix):
    """Softmax across the R splits of each of ``groups`` cardinal groups; sigmoid when R = 1."""

    memory: ClassVar[MemoryRule] = MemoryRule(saves_output=True)  # both backwards use the result
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::softmax / aten::sigmoid: " + FVCORE_UNSUPPORTED,
        thop="softmax in the forward: no nn.Softmax module, never seen",
    )
    groups: int = 1

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        if self._split(x) % self.groups:
            raise GraphError(f"{x[0]} channels do not split into {self.groups} groups")
        return x

    def label(self) -> str:
        return "r-softmax" if self.radix > 1 else "sigmoid"

    def forward(self, *xs: Any) -> Any:
        x = xs[0]
        if self.radix == 1:
            return x.sigmoid()
        n = x.shape[0]
        weights = x.view(n, self.groups, self.radix, -1).transpose(1, 2).softmax(dim=1)
        return weights.reshape(n, -1, 1, 1)

    @classmethod
    def example(cls) -> Example:
        return cls(2, groups=3), ((12, 1, 1),)


def _products(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # `(splits * attn).sum(1)`: the product of every split is a full (R·w, H, W) temporary.
    return (batch * numel(x) * db,)


@register_op("radix_weighted")
@dataclass(frozen=True)
class RadixWeighted(_Radix):
    """``(x.view(n, R, C/R, H, W) * a.view(n, R, C/R, 1, 1)).sum(1)``: the attention-weighted sum
    of the splits (inputs: the splits and the weights)."""

    arity: ClassVar[int] = 2
    # MulBackward keeps both operands (views of the splits and of the softmax result); the grad
    # of the weights reduces a full-size product.
    memory: ClassVar[MemoryRule] = MemoryRule(
        saves=(0, 1), workspace=_products, bwd_transient=_products
    )
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::mul, aten::sum: " + FVCORE_UNSUPPORTED
    )

    def inputs(self, x: Shape, others: tuple[Shape, ...]) -> tuple[Shape, ...]:
        return others or ((x[0], 1, 1),)

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        if others and others[0] != (x[0], 1, 1):
            raise GraphError(f"attention weights {others[0]} do not match {x[0]} channels")
        return (self._split(x), x[1], x[2])

    def label(self) -> str:
        return f"attention-weighted sum of {self.radix} splits"

    def forward(self, *xs: Any) -> Any:
        x, a = xs
        n, c = x.shape[:2]
        shape = (n, self.radix, c // self.radix)
        return (x.view(*shape, *x.shape[2:]) * a.view(*shape, 1, 1)).sum(1)

    @classmethod
    def example(cls) -> Example:
        return cls(2), ((6, 4, 4), (6, 1, 1))

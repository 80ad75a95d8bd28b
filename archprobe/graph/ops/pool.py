"""Pooling: max and average windows, the global average pool of the head (and its adaptive form
to a fixed output size, VGG's 7×7), and the functional spatial mean inside SE and split attention
(``x.mean((2, 3), keepdim=True)``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Shape, numel
from archprobe.graph.facts import (
    FVCORE_UNSUPPORTED,
    CountRule,
    Leaf,
    MemoryRule,
    input_plus_output,
    per_input,
    uncounted,
)
from archprobe.graph.op import Example, GraphError, Op, register_op
from archprobe.graph.ops.conv import conv_out

INDEX_BYTES = 8  # max-pool indices are int64


@dataclass(frozen=True)
class Pool(Op):
    """Shared shape rule of max and average pooling (``nn.MaxPool2d``/``nn.AvgPool2d``)."""

    kind: ClassVar[str] = "pool"
    mode: ClassVar[str] = ""
    kernel: int
    stride: int
    padding: int = 0
    ceil_mode: bool = False

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        h = conv_out(x[1], self.kernel, self.stride, self.padding, self.ceil_mode)
        w = conv_out(x[2], self.kernel, self.stride, self.padding, self.ceil_mode)
        return (x[0], h, w)

    def label(self) -> str:
        return f"{self.kernel}×{self.kernel} {self.mode} pool, stride {self.stride}"


def _pool_indices(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # max_pool2d_with_indices returns the argmax of every output element as int64.
    return (batch * numel(y) * INDEX_BYTES,)


@register_op("max_pool")
@dataclass(frozen=True)
class MaxPool(Pool):
    mode: ClassVar[str] = "max"
    # max_pool2d runs max_pool2d_with_indices even under no_grad (seen on CPU and CUDA), so
    # inference allocates the indices and drops them when the op returns.
    memory: ClassVar[MemoryRule] = MemoryRule(
        saves=(0,), saved_extra=_pool_indices, no_grad_extra=_pool_indices
    )
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::max_pool2d: " + FVCORE_UNSUPPORTED, thop="zero_ops"
    )
    aten: ClassVar[tuple[str, ...]] = ("max_pool2d", "max_pool2d_with_indices")

    def module(self) -> Any:
        from torch import nn

        return nn.MaxPool2d(self.kernel, self.stride, self.padding, ceil_mode=self.ceil_mode)

    @classmethod
    def example(cls) -> Example:
        return cls(3, 2, 1), ((3, 9, 9),)


def _window_sum(size: int, out: int, op: AvgPool) -> int:
    """Elements summed along one axis over all windows: thop ``count_avgpool``'s inner sum."""
    k, s, p = op.kernel, op.stride, op.padding
    lower, upper = (-p, size + p) if op.count_include_pad else (0, size)
    return sum(max(min(i * s - p + k, upper) - max(i * s - p, lower), 0) for i in range(out))


def _thop_avg_pool(leaf: Leaf) -> int:
    """thop ``count_avgpool``: one add per input element of every window, one divide per output."""
    op = leaf.op
    if not isinstance(op, AvgPool):
        raise TypeError(f"{leaf.scope}: expected AvgPool, got {type(op).__name__}")
    c, h, w = leaf.in_shape
    _, ho, wo = leaf.out_shape
    return c * _window_sum(h, ho, op) * _window_sum(w, wo, op) + numel(leaf.out_shape)


@register_op("avg_pool")
@dataclass(frozen=True)
class AvgPool(Pool):
    """Average pool; ``count_include_pad`` as in ``nn.AvgPool2d`` (ResNet-D uses False)."""

    mode: ClassVar[str] = "avg"
    memory: ClassVar[MemoryRule] = MemoryRule(saves=(0,))
    counting: ClassVar[Mapping[str, CountRule]] = {
        **uncounted(fvcore="aten::avg_pool2d: " + FVCORE_UNSUPPORTED),
        "thop": CountRule(
            _thop_avg_pool, "count_avgpool: 1 add per window element + 1 divide per output"
        ),
    }
    aten: ClassVar[tuple[str, ...]] = ("avg_pool2d",)
    count_include_pad: bool = True

    def module(self) -> Any:
        from torch import nn

        return nn.AvgPool2d(
            self.kernel, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )

    @classmethod
    def example(cls) -> Example:
        return cls(3, 2, 1, ceil_mode=True, count_include_pad=False), ((3, 8, 8),)


@register_op("global_avg_pool")
@dataclass(frozen=True)
class GlobalAvgPool(Op):
    """``nn.AdaptiveAvgPool2d(1)``: the head's pool (torchvision ``avgpool``)."""

    kind: ClassVar[str] = "pool"
    # adaptive_avg_pool2d to 1×1 is `mean` over H, W, whose backward needs only the input shape.
    memory: ClassVar[MemoryRule] = MemoryRule()
    counting: ClassVar[Mapping[str, CountRule]] = {
        **uncounted(),
        # fvcore flop_count.py: "aten::adaptive_avg_pool2d": elementwise_flop_counter(1, 0).
        "fvcore": CountRule(
            per_input(1), "adaptive_avg_pool2d: elementwise_flop_counter(1, 0), 1 per input"
        ),
        # thop basic_hooks.py count_adap_avgpool: one add per pooled input + one divide per output.
        "thop": CountRule(
            input_plus_output, "count_adap_avgpool: 1 add per input + 1 divide per output"
        ),
    }
    aten: ClassVar[tuple[str, ...]] = ("adaptive_avg_pool2d", "_adaptive_avg_pool2d")

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        return (x[0], 1, 1)

    def label(self) -> str:
        return "global average pool"

    def module(self) -> Any:
        from torch import nn

        return nn.AdaptiveAvgPool2d(1)

    @classmethod
    def example(cls) -> Example:
        return cls(), ((4, 5, 5),)


def _adaptive_windows(size: int, out: int) -> int:
    """Elements summed along one axis: output j of ``nn.AdaptiveAvgPool2d`` pools
    [floor(j·I/O), ceil((j+1)·I/O)), so windows overlap where O does not divide I."""
    return sum(-(-(j + 1) * size // out) - j * size // out for j in range(out))


def _thop_adaptive(leaf: Leaf) -> int:
    """thop ``count_adap_avgpool``: one add per pooled window element + one divide per output."""
    c, h, w = leaf.in_shape
    _, ho, wo = leaf.out_shape
    return c * _adaptive_windows(h, ho) * _adaptive_windows(w, wo) + numel(leaf.out_shape)


@register_op("adaptive_avg_pool")
@dataclass(frozen=True)
class AdaptiveAvgPool(GlobalAvgPool):
    """``nn.AdaptiveAvgPool2d((size, size))`` with size > 1: VGG's ``avgpool`` to 7×7, which
    lets the classifier take any input resolution (an identity at 224², where the map is 7×7).
    A global pool of the head all the same (the layout splits the head at it)."""

    # size > 1 runs _adaptive_avg_pool2d, whose backward needs its input (size 1 runs `mean`).
    memory: ClassVar[MemoryRule] = MemoryRule(saves=(0,))
    counting: ClassVar[Mapping[str, CountRule]] = {
        **GlobalAvgPool.counting,
        "thop": CountRule(
            _thop_adaptive, "count_adap_avgpool: 1 add per window element + 1 divide"
        ),
    }
    size: int = 7

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        if self.size < 2:
            raise GraphError(f"adaptive pool to {self.size}×{self.size}: use GlobalAvgPool for 1")
        if x[1] < 1 or x[2] < 1:
            raise GraphError(f"adaptive pool of an empty {x[1]}×{x[2]} map")
        return (x[0], self.size, self.size)

    def label(self) -> str:
        return f"adaptive average pool to {self.size}×{self.size}"

    def module(self) -> Any:
        from torch import nn

        return nn.AdaptiveAvgPool2d((self.size, self.size))

    @classmethod
    def example(cls) -> Example:
        return cls(2), ((4, 5, 5),)


@register_op("mean")
@dataclass(frozen=True)
class Mean(Op):
    """Spatial mean written functionally, ``x.mean((2, 3), keepdim=True)``, as the squeeze of SE
    and split attention in timm: no pooling module, so thop never sees it and fvcore lists
    ``aten::mean`` as unsupported (a ``GlobalAvgPool`` would be counted by both)."""

    kind: ClassVar[str] = "pool"
    memory: ClassVar[MemoryRule] = MemoryRule()  # mean's backward needs only the input shape
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::mean: " + FVCORE_UNSUPPORTED,
        thop="x.mean in the forward: no pooling module, never seen",
    )
    # AdaptiveAvgPool2d(1) also dispatches as aten.mean (FlopCounterMode's trace shows it).
    aten: ClassVar[tuple[str, ...]] = ("mean",)

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        if x[1] < 1 or x[2] < 1:
            raise GraphError(f"mean over an empty {x[1]}×{x[2]} map")
        return (x[0], 1, 1)

    def label(self) -> str:
        return "spatial mean"

    def forward(self, *xs: Any) -> Any:
        return xs[0].mean((2, 3), keepdim=True)

    @classmethod
    def example(cls) -> Example:
        return cls(), ((4, 5, 5),)

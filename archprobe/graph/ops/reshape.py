"""Views that change a map's layout, not its values: torchvision's ``Permute`` (ConvNeXt's
channels-last segment, ``ops/misc.py``) and ``nn.Flatten`` (ConvNeXt's classifier ``.1``).

Shapes are per sample, so a permutation of NCHW acts on the (C, H, W) tuple with the batch dim
fixed: ``Permute((0, 2, 3, 1))`` maps (C, H, W) to the channels-last (H, W, C).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Shape, numel
from archprobe.graph.facts import CountRule, MemoryRule, uncounted
from archprobe.graph.op import Example, GraphError, Op, register_op

# A view: the output shares the input's storage, and the backward hands the incoming gradient
# on as a view of it (PermuteBackward / ViewBackward keep nothing).
_VIEW = MemoryRule(alias=True, grad_pass=True)


@register_op("permute")
@dataclass(frozen=True)
class Permute(Op):
    """``torch.permute(x, dims)`` of an N-first 4-d tensor (``dims[0]`` must be 0)."""

    kind: ClassVar[str] = "reshape"
    memory: ClassVar[MemoryRule] = _VIEW
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::permute is in _IGNORED_OPS (jit_analysis.py): never listed",
    )
    aten: ClassVar[tuple[str, ...]] = ("permute",)

    dims: tuple[int, int, int, int]

    def __post_init__(self) -> None:
        if self.dims[0] != 0 or sorted(self.dims) != [0, 1, 2, 3]:
            raise GraphError(f"permute {self.dims} must keep the batch dim first")

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        a, b, c = (x[d - 1] for d in self.dims[1:])
        return (a, b, c)

    def label(self) -> str:
        return f"permute {self.dims}"

    def forward(self, *xs: Any) -> Any:
        return xs[0].permute(*self.dims)

    @classmethod
    def example(cls) -> Example:
        return cls((0, 2, 3, 1)), ((4, 3, 2),)


@register_op("flatten")
@dataclass(frozen=True)
class Flatten(Op):
    """``nn.Flatten(1)``: a (C, H, W) map as a (C·H·W, 1, 1) vector (a view when contiguous)."""

    kind: ClassVar[str] = "reshape"
    memory: ClassVar[MemoryRule] = _VIEW
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::flatten is in _IGNORED_OPS (jit_analysis.py): never listed",
    )
    aten: ClassVar[tuple[str, ...]] = ("flatten", "view", "_unsafe_view")

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        return (numel(x), 1, 1)

    def label(self) -> str:
        return "flatten"

    def module(self) -> Any:
        from torch import nn

        return nn.Flatten(1)

    @classmethod
    def example(cls) -> Example:
        return cls(), ((6, 1, 1),)

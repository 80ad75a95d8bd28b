"""Fully connected layer on the flattened input (torchvision's ``fc``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Cost, Shape, numel
from archprobe.graph.facts import CountRule, MemoryRule, flops, macs
from archprobe.graph.op import Example, GraphError, Op, register_op


@register_op("linear")
@dataclass(frozen=True)
class Linear(Op):
    """Fully connected layer on the flattened input: Cin·Cout MACs, bias add not counted."""

    kind: ClassVar[str] = "linear"
    # addmm saves mat1 (the flattened input, a view of the pool output's storage) and weight.t().
    memory: ClassVar[MemoryRule] = MemoryRule(saves=(0,))
    counting: ClassVar[Mapping[str, CountRule]] = {
        "analytic": CountRule(macs, "Cin·Cout; bias add not counted"),
        "flopcounter": CountRule(flops, "addmm_flop: 2·m·k·n, bias add not counted"),
        # fvcore jit_handles.py linear_flop_jit (aten::linear) / addmm_flop_jit: prod(in) · out.
        "fvcore": CountRule(macs, "linear_flop_jit: prod(input)·out_features, bias ignored"),
        # thop basic_hooks.py count_linear: in_features · out numel.
        "thop": CountRule(macs, "count_linear: in_features·out numel, bias ignored"),
    }
    aten: ClassVar[tuple[str, ...]] = (
        "linear",
        "addmm",
        "mm",
        "bmm",
        "baddbmm",
        "matmul",
        "einsum",
        "_scaled_mm",
    )

    cin: int
    cout: int
    bias: bool = True

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        if numel(x) != self.cin:
            raise GraphError(f"linear expects {self.cin} features, got {x} = {numel(x)}")
        return (self.cout, 1, 1)

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        params = self.cin * self.cout + (self.cout if self.bias else 0)
        return Cost(params=params, macs=self.cin * self.cout, acts=self.cout)

    def param_tensors(self) -> int:
        return 2 if self.bias else 1

    def label(self) -> str:
        return f"{self.cout}-d fc"

    def module(self) -> Any:
        from archprobe.graph.ops.torch_modules import FlattenLinear

        return FlattenLinear(self.cin, self.cout, bias=self.bias)

    @classmethod
    def example(cls) -> Example:
        return cls(12, 5), ((3, 2, 2),)

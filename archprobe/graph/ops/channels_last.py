"""``nn.Linear`` on the last dim of a channels-last (H, W, C) map: ConvNeXt's pointwise layers
(torchvision CNBlock ``block.3`` / ``block.5``; Liu et al. 2022 §2.3 "inverted bottleneck"), a
1×1 conv in all but layout."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Cost, Shape, numel
from archprobe.graph.facts import CountRule, flops, macs
from archprobe.graph.op import Example, GraphError, register_op
from archprobe.graph.ops.linear import Linear


@register_op("linear_channels_last")
@dataclass(frozen=True)
class ChannelsLastLinear(Linear):
    """(H, W, Cin) -> (H, W, Cout): H·W·Cin·Cout MACs per sample, bias add not counted. The
    fields, parameters, aten names, fvcore/thop rules and memory rule are Linear's: on a 4-d
    input aten::linear is matmul(x, W.t()) + b, matmul folds x to 2-d (a view of x's storage)
    and mm keeps it for the weight's gradient, as addmm keeps the flattened input."""

    counting: ClassVar[Mapping[str, CountRule]] = {
        **Linear.counting,
        "analytic": CountRule(macs, "H·W·Cin·Cout; bias add not counted"),
        "flopcounter": CountRule(flops, "mm_flop on the folded input: 2·(H·W)·Cin·Cout"),
    }

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        if x[-1] != self.cin:
            raise GraphError(f"channels-last linear expects {self.cin} channels, got {x}")
        return (x[0], x[1], self.cout)

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        params = super().own_cost(x, y).params
        return Cost(params=params, macs=numel(x) * self.cout, acts=numel(y))

    def label(self) -> str:
        return f"1×1, {self.cout} (linear)"

    def out_channels_last(self, x_channels_last: bool) -> bool:
        return True  # a contiguous (N, H, W, Cout) result: the torch.permute back is a view

    def module(self) -> Any:
        from torch import nn

        return nn.Linear(self.cin, self.cout, bias=self.bias)

    @classmethod
    def example(cls) -> Example:
        return cls(6, 10), ((3, 4, 6),)

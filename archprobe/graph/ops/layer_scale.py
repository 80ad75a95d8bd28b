"""Layer scale (Touvron et al. 2021, CaiT §3 "LayerScale"): a learnt per-channel factor on a
residual branch, initialised small so that every block starts near the identity. ConvNeXt uses it
with init 1e-6 (Liu et al. 2022 §3; torchvision CNBlock ``self.layer_scale``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Cost, Shape, numel
from archprobe.graph.facts import FVCORE_UNSUPPORTED, CountRule, MemoryRule, uncounted
from archprobe.graph.op import Example, GraphError, Op, register_op


def _param_grad_product(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # The broadcast parameter's gradient is (grad · x) of the map's size, summed down to C×1×1.
    return (batch * numel(x) * db,)


@register_op("layer_scale")
@dataclass(frozen=True)
class LayerScale(Op):
    """``layer_scale * x`` with ``layer_scale`` an ``nn.Parameter`` of shape (C, 1, 1) kept on the
    block itself (torchvision's state_dict key ``features.1.0.layer_scale``): C params, no MACs
    (a product, which no counter counts: the oracles' MACs agree)."""

    kind: ClassVar[str] = "elementwise"
    bare_parameter: ClassVar[bool] = True
    # MulBackward keeps both operands: the map (for the parameter's gradient) and the parameter.
    memory: ClassVar[MemoryRule] = MemoryRule(saves=(0,), bwd_transient=_param_grad_product)
    counting: ClassVar[Mapping[str, CountRule]] = uncounted(
        fvcore="aten::mul: " + FVCORE_UNSUPPORTED,
        thop="a parameter of the block, not a module: never seen",
    )
    aten: ClassVar[tuple[str, ...]] = ("mul",)

    channels: int
    init: float = 1e-6  # torchvision ConvNeXt(layer_scale=1e-6)

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        if x[0] != self.channels:
            raise GraphError(f"layer scale of {self.channels} channels got {x}")
        return x

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        return Cost(params=self.channels)

    def param_tensors(self) -> int:
        return 1

    def label(self) -> str:
        return f"layer scale {self.init:g}"

    def parameter(self) -> Any:
        import torch
        from torch import nn

        # torchvision: nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        return nn.Parameter(torch.ones(self.channels, 1, 1) * self.init)

    def forward(self, *xs: Any) -> Any:
        return xs[1] * xs[0]  # torchvision's operand order: self.layer_scale * self.block(input)

    @classmethod
    def example(cls) -> Example:
        return cls(6), ((6, 3, 3),)

"""Layer norm (Ba et al. 2016) as ConvNeXt uses it (Liu et al. 2022 §2.6 "substituting BN with LN").

Two forms, both torchvision's (``models/convnext.py``), both ``eps=1e-6``:

- :class:`LayerNorm`: ``nn.LayerNorm(C)`` over the last dim of a channels-last (H, W, C) map,
  inside the CNBlock after its ``Permute([0, 2, 3, 1])``;
- :class:`LayerNorm2d`: torchvision's ``LayerNorm2d`` on an NCHW map (stem, downsampling layers,
  classifier): permute to NHWC, ``F.layer_norm`` over C, permute back.

No MACs by archprobe's convention: neither torchvision's ``_ops`` nor FlopCounterMode counts a
layer norm (``torch/utils/flop_counter.py`` has no formula), and the oracles' MACs agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from archprobe.graph.cost import Cost, Shape, numel
from archprobe.graph.facts import NO_FORMULA, CountRule, MemoryRule, per_input, zero
from archprobe.graph.op import Example, GraphError, Op, register_op
from archprobe.graph.ops.norm import STAT_BYTES

EPS = 1e-6  # torchvision ConvNeXt: partial(nn.LayerNorm, eps=1e-6) / partial(LayerNorm2d, ...)


def _ln_stats(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # native_layer_norm returns and autograd keeps mean and rstd, one per normalized row (each
    # pixel of each sample), in the accumulation type (fp32); the input is kept as it was passed.
    rows = batch * numel(x) // _channels(op)
    return (rows * STAT_BYTES, rows * STAT_BYTES)


def _channels(op: Op) -> int:
    assert isinstance(op, LayerNorm | LayerNorm2d)
    return op.channels


_RULE = MemoryRule(saves=(0,), saved_extra=_ln_stats)
# fvcore jit_handles.py norm_flop_counter(2) for aten::layer_norm: numel · 5 with an affine.
_FVCORE = CountRule(per_input(5), "norm_flop_jit (aten::layer_norm): 5 per element with affine")
_ATEN = ("layer_norm", "native_layer_norm")


def _counting(thop: str) -> dict[str, CountRule]:
    """Both forms count alike: nothing analytically or in FlopCounterMode, fvcore 5 and thop 4
    per element (its note says which of its rules applies)."""
    return {
        "analytic": CountRule(zero, "0: torchvision _ops and FlopCounterMode count no norm"),
        "flopcounter": CountRule(zero, NO_FORMULA),
        "fvcore": _FVCORE,
        "thop": CountRule(per_input(4), thop),
    }


@dataclass(frozen=True)
class _Norm(Op):
    """Shared facts of both forms: 2C affine params (γ, β), no buffers, no MACs."""

    kind: ClassVar[str] = "norm"
    memory: ClassVar[MemoryRule] = _RULE
    aten: ClassVar[tuple[str, ...]] = _ATEN

    channels: int
    eps: float = EPS

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        return Cost(params=2 * self.channels)

    def param_tensors(self) -> int:
        return 2

    def label(self) -> str:
        return "LN"

    def out_channels_last(self, x_channels_last: bool) -> bool:
        # F.layer_norm writes a contiguous result over the (H, W, C) order it normalises in, so
        # channels are innermost; LayerNorm2d's permute back to NCHW is a view of that storage.
        return True


@register_op("layer_norm")
@dataclass(frozen=True)
class LayerNorm(_Norm):
    """``nn.LayerNorm(C, eps)`` over the last dim of a channels-last (H, W, C) map."""

    # thop profile.py register_hooks: nn.LayerNorm -> count_normalization, 2 per element,
    # ×2 with elementwise_affine.
    counting: ClassVar[Mapping[str, CountRule]] = _counting(
        "count_normalization: 2 per element, ×2 affine"
    )

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        if x[-1] != self.channels:
            raise GraphError(f"layer norm over {self.channels} channels got channels-last {x}")
        return x

    def module(self) -> Any:
        from torch import nn

        return nn.LayerNorm(self.channels, eps=self.eps)

    @classmethod
    def example(cls) -> Example:
        return cls(6), ((5, 4, 6),)


@register_op("layer_norm_2d")
@dataclass(frozen=True)
class LayerNorm2d(_Norm):
    """torchvision ``LayerNorm2d(C, eps)``: a layer norm over C of a (C, H, W) map."""

    # thop resolves a rule along the module's MRO: nn.LayerNorm's count_normalization.
    counting: ClassVar[Mapping[str, CountRule]] = _counting(
        "count_normalization (nn.LayerNorm in its MRO): 4/elem"
    )

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        self._expect_channels(x, self.channels)
        return x

    def module(self) -> Any:
        return _layer_norm_2d()(self.channels, eps=self.eps)

    @classmethod
    def example(cls) -> Example:
        return cls(6), ((6, 5, 4),)


@cache
def _layer_norm_2d() -> Any:
    """torchvision's ``LayerNorm2d`` class, defined on first use (the graph imports no torch)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class TorchLayerNorm2d(nn.LayerNorm):
        """``nn.LayerNorm`` over the channels of NCHW (torchvision ``LayerNorm2d.forward``)."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x.permute(0, 2, 3, 1)
            x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
            return x.permute(0, 3, 1, 2)

    TorchLayerNorm2d.__name__ = TorchLayerNorm2d.__qualname__ = "LayerNorm2d"
    return TorchLayerNorm2d

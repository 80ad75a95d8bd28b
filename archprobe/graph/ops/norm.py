"""Batch norm, with every fact about it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from archprobe.graph.cost import Cost, Shape
from archprobe.graph.facts import NO_FORMULA, CountRule, MemoryRule, per_input, zero
from archprobe.graph.op import Example, Op, register_op

STAT_BYTES = 4  # BN save_mean/save_invstd are fp32 whatever the input dtype (float accumulation)


def _bn_stats(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # Training BN keeps the batch mean and 1/std per channel for its backward (save_mean,
    # save_invstd); the running statistics are buffers, updated in place.
    return (x[0] * STAT_BYTES, x[0] * STAT_BYTES)


@register_op("batch_norm")
@dataclass(frozen=True)
class BatchNorm(Op):
    """Batch norm: 2C affine params; running mean/var (2C) + num_batches_tracked are buffers.

    0 MACs: it folds into the preceding conv at inference (torchvision ``_ops``, the papers).
    """

    kind: ClassVar[str] = "norm"
    memory: ClassVar[MemoryRule] = MemoryRule(saves=(0,), saved_extra=_bn_stats)
    counting: ClassVar[Mapping[str, CountRule]] = {
        "analytic": CountRule(zero, "0: folds into the preceding conv at inference"),
        "flopcounter": CountRule(zero, NO_FORMULA),
        # fvcore jit_handles.py batchnorm_flop_jit, not training: numel · (2 if affine else 1).
        "fvcore": CountRule(per_input(2), "batchnorm_flop_jit (eval): 2 per element, γ/β affine"),
        # thop basic_hooks.py count_normalization: calculate_norm (2 per element), ×2 if affine.
        "thop": CountRule(
            per_input(4), "count_normalization: 2 per element, ×2 with affine: 4 per element"
        ),
    }
    aten: ClassVar[tuple[str, ...]] = (
        "batch_norm",
        "native_batch_norm",
        "_native_batch_norm_legit",
        "cudnn_batch_norm",
        "_native_batch_norm_legit_no_training",
        "miopen_batch_norm",
        "_batch_norm_impl_index",
        "_batch_norm_no_update",
        "_batch_norm_with_update",
    )

    channels: int
    eps: float = 1e-5
    momentum: float = 0.1  # torch's convention: new = (1 − momentum)·old + momentum·batch

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        self._expect_channels(x, self.channels)
        return x

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        return Cost(params=2 * self.channels, buffers=2 * self.channels + 1)

    def state_read(self, x: Shape) -> int:
        return 2 * self.channels  # running mean and variance

    def param_tensors(self) -> int:
        return 2  # weight and bias

    def label(self) -> str:
        return "BN"

    def module(self) -> Any:
        from torch import nn

        return nn.BatchNorm2d(self.channels, eps=self.eps, momentum=self.momentum)

    @classmethod
    def example(cls) -> Example:
        return cls(6), ((6, 5, 5),)

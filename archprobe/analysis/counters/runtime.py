"""Runtime counting on the built module: FlopCounterMode's per-module FLOPs.

The numbers are ``torch.utils.flop_counter.FlopCounterMode``'s (its formulas, its attribution of
an op to every module running it), read from one :mod:`~archprobe.analysis.counters.dispatch`
recording; a test holds them equal to FlopCounterMode itself. Runs on the model's device (meta:
no memory, no compute); FlopCounterMode counts 2 FLOPs per multiply-add, so ``flops == 2 × macs``.
Attention is where they differ: the recorder also counts the SDPA kernels torch has no formula
for (the CPU's) and runs nn.MultiheadAttention unfused (:mod:`.attention`), so a transformer
counts the same on every device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from archprobe.analysis.counters.dispatch import module_flops, record
from archprobe.analysis.results import Entry, Results

if TYPE_CHECKING:
    from torch import nn


def flop_counts(
    model: nn.Module, input_shape: tuple[int, ...], device: str | torch.device | None = None
) -> dict[str, int]:
    """FLOPs (2×MAC) per module scope ("" = whole model) as FlopCounterMode reports them: a
    parent's count includes its children's; modules that run no op with a formula are absent.

    Args:
        model: any module; it is run once in eval mode under ``no_grad`` and left unchanged.
        input_shape: full input shape including the batch dimension.
        device: where to run; defaults to the device of the model's first parameter.
    """
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        rec = record(model, torch.empty(input_shape, device=device))
    finally:
        model.train(was_training)
    return module_flops(rec)


def traced(model: nn.Module, input_shape: tuple[int, ...], name: str) -> Results:
    """FlopCounterMode FLOPs as Results rows (method ``traced``), one per leaf module."""
    counts = flop_counts(model, input_shape)
    leaves = {n for n, m in model.named_modules() if n and not list(m.children())}
    return Results(
        Entry(name, scope, "", "traced", {"flops": value})
        for scope, value in counts.items()
        if scope in leaves
    )

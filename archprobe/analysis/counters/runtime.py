"""Runtime counting on the built module: ``torch.utils.flop_counter.FlopCounterMode``.

Runs on the ``meta`` device by default (no memory, no compute), batch 1, and reports FLOPs per
module scope; FlopCounterMode counts 2 FLOPs per multiply-add, so ``flops == 2 × macs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch.utils.flop_counter import FlopCounterMode

from archprobe.analysis.results import Entry, Results

if TYPE_CHECKING:
    from torch import nn


def flop_counts(
    model: nn.Module, input_shape: tuple[int, ...], device: str | torch.device | None = None
) -> dict[str, int]:
    """FLOPs (2×MAC) per module scope ("" = whole model), by FlopCounterMode.

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
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.empty(input_shape, device=device))
    finally:
        model.train(was_training)
    root = type(model).__name__
    out: dict[str, int] = {}
    for name, per_op in counter.get_flop_counts().items():
        if name == "Global":
            continue
        scope = (
            name[len(root) + 1 :] if name.startswith(root + ".") else ("" if name == root else name)
        )
        out[scope] = int(sum(per_op.values()))
    return out


def traced(model: nn.Module, input_shape: tuple[int, ...], name: str) -> Results:
    """FlopCounterMode FLOPs as Results rows (method ``traced``), one per leaf module."""
    counts = flop_counts(model, input_shape)
    leaves = {n for n, m in model.named_modules() if n and not list(m.children())}
    return Results(
        Entry(name, scope, "", "traced", {"flops": value})
        for scope, value in counts.items()
        if scope in leaves
    )

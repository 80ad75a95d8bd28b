"""The torch modules of built-in ops that ``torch.nn`` does not have (imported only by the ops'
``module()``, so the graph package itself imports without torch)."""

from __future__ import annotations

import torch
from torch import nn


class FlattenLinear(nn.Linear):
    """``fc``: flattens (N, C, 1, 1) before the matmul, so the head needs no extra module."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.flatten(x, 1))

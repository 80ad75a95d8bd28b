"""The torch modules of built-in ops that ``torch.nn`` does not have (imported only by the ops'
``module()``, so the graph package itself imports without torch)."""

from __future__ import annotations

import torch
from torch import nn


class FlattenLinear(nn.Linear):
    """``fc``: flattens (N, C, 1, 1) before the matmul, so the head needs no extra module."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.flatten(x, 1))


class RowStochasticDepth(nn.Module):
    """torchvision ``ops.StochasticDepth(p, mode="row")`` without torchvision: per sample, drop
    the branch with probability ``p`` and scale survivors by 1/(1−p); identity in eval mode or
    at p = 0 (the same early return as torchvision, so block 0 stays exact)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        noise = torch.empty([x.shape[0]] + [1] * (x.ndim - 1), dtype=x.dtype, device=x.device)
        noise = noise.bernoulli_(survival).div_(survival)
        return x * noise

    def extra_repr(self) -> str:
        return f"p={self.p}, mode=row"

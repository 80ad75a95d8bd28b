"""Reproducers for issue 18 item 5: user modules that exit, cannot be copied, or are huge."""

from __future__ import annotations

import sys
import threading

import torch
from torch import nn


def exits() -> nn.Module:
    """A factory that ends the process the way a script's ``main()`` does."""
    sys.exit(4)


def interrupted() -> nn.Module:
    raise KeyboardInterrupt


class ExitsInForward(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sys.exit(5)


def exits_in_forward() -> nn.Module:
    return ExitsInForward()


class Uncopyable(nn.Module):
    """Holds a lock (say, a data loader's): ``copy.deepcopy`` cannot pickle it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.lock = threading.Lock()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


def uncopyable() -> nn.Module:
    return Uncopyable()


def huge_linear() -> nn.Module:
    """``Linear(100000, 100000)`` whose weight is one stored zero broadcast to 10^10 elements
    (40 GB as fp32 once cloned; 4 bytes as it is): a fault test must not allocate it."""
    fc = nn.Linear(1, 1)
    fc.in_features = fc.out_features = 100_000
    fc.weight = nn.Parameter(torch.zeros(()).expand(100_000, 100_000))
    fc.bias = nn.Parameter(torch.zeros(()).expand(100_000))
    return fc


def huge_linear_on_meta() -> nn.Module:
    """The same layer built on meta, as one inspects a model too big to build."""
    return nn.Linear(100_000, 100_000, device="meta")

"""The torch module of each structural node, and the wrapper of an op without a module of its own.

Children are registered under their graph names (dotted names such as Res2Net's ``convs.0``
create containers), so ``named_modules()`` equals the graph's scopes and state_dict keys follow
torchvision/timm. Each forward is the node's data flow written once for every block that uses
the node; the memory model's replay follows exactly these forwards (what each keeps alive).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

Named = Sequence[tuple[str, nn.Module]]


def add_child(parent: nn.Module, name: str, module: nn.Module) -> nn.Module:
    """Register ``module`` at the dotted ``name`` under ``parent`` and return the module now
    registered there: a name already taken keeps its module (one module several branches use)."""
    *path, leaf = name.split(".")
    for part in path:
        if part not in parent._modules:
            parent.add_module(part, nn.ModuleDict())
        parent = parent._modules[part]  # type: ignore[assignment]
    existing = parent._modules.get(leaf)
    if existing is not None:
        return existing
    parent.add_module(leaf, module)
    return module


def _register(parent: nn.Module, named: Named) -> list[nn.Module]:
    return [add_child(parent, name, module) for name, module in named]


def run(modules: Sequence[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """``for m in modules: out = m(out)``, as ``nn.Sequential.forward`` does."""
    for m in modules:
        x = m(x)
    return x


class OpModule(nn.Module):
    """An op that has no torch module of its own (a product, a softmax across splits): its
    forward is the op's functional code. Parameter-free, so it never changes a state_dict."""

    def __init__(self, op: Any) -> None:
        super().__init__()
        self.op = op

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.op.forward(*xs)
        return out

    def extra_repr(self) -> str:
        return f"{type(self.op).__name__}: {self.op.label()}"


class ResidualBlock(nn.Module):
    """``post(body(x) + downsample(x))``; body and post layers are direct children."""

    def __init__(self, body: Named, shortcut: nn.Module | None, post: Named) -> None:
        super().__init__()
        self._body = _register(self, body)
        if shortcut is not None:
            self.downsample = shortcut
        self._post = _register(self, post)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = run(self._body, x)
        identity = self.downsample(x) if hasattr(self, "downsample") else x
        out = out + identity
        return run(self._post, out)

    def last_norm(self) -> nn.Module | None:
        """The last BN of the branch: zero-initialised by ``zero_init_residual``."""
        norms = [m for m in self._body if isinstance(m, nn.BatchNorm2d)]
        return norms[-1] if norms else None


class ParallelBranches(nn.Module):
    """Branches on the same input, concatenated on channels or summed."""

    def __init__(self, branches: Named, merge: str) -> None:
        super().__init__()
        self._branches = _register(self, branches)
        self.merge = merge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs: list[torch.Tensor] = [branch(x) for branch in self._branches]
        if self.merge == "concat":
            return torch.cat(outs, dim=1)
        total = outs[0]
        for o in outs[1:]:
            total = total + o
        return total


class GateBlock(nn.Module):
    """``combine(h, body(h))`` with ``h = pre(x)`` (SE, split attention); children inline."""

    def __init__(self, pre: Named, body: Named, combine: tuple[str, nn.Module]) -> None:
        super().__init__()
        self._pre = _register(self, pre)
        self._body = _register(self, body)
        self._combine = add_child(self, *combine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = run(self._pre, x)
        out: torch.Tensor = self._combine(h, run(self._body, h))
        return out


class SplitBlock(nn.Module):
    """Channel chunks through their branches, each first adding the previous output where it
    carries (Res2Net), concatenated; branch children inline, shared names one module."""

    def __init__(
        self, chunks: Sequence[int], branches: Sequence[Named], carry: Sequence[bool]
    ) -> None:
        super().__init__()
        self.chunks, self.carry = list(chunks), list(carry)
        self._branches = [_register(self, named) for named in branches]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = torch.split(x, self.chunks, 1)
        outs: list[torch.Tensor] = []
        for i, (part, branch) in enumerate(zip(parts, self._branches, strict=True)):
            h = outs[-1] + part if self.carry[i] and outs else part
            outs.append(run(branch, h))
        return torch.cat(outs, 1)

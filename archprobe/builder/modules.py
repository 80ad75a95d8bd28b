"""The torch module of each structural node, and the wrapper of an op without a module of its own.

Children are registered under their graph names (dotted names such as Res2Net's ``convs.0``
create containers), so ``named_modules()`` equals the graph's scopes and state_dict keys follow
torchvision/timm. Each forward is the node's data flow written once for every block that uses
the node; the memory model's replay follows exactly these forwards (what each keeps alive).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

Step = Callable[[torch.Tensor], torch.Tensor]


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


class Inline:
    """A structural node with no module of its own (graph name ""): its children are registered
    on the enclosing module, which runs their data flow with :meth:`attach`'s step (timm's
    Bottle2neck keeps ``convs.i``, ``bns.i`` and ``pool`` on the block itself)."""

    def attach(self, parent: nn.Module) -> Step:
        """Register the children on ``parent``; return the callable that runs them."""
        raise NotImplementedError


Named = Sequence[tuple[str, "nn.Module | Inline"]]


def _register(parent: nn.Module, named: Named) -> list[Step]:
    return [
        module.attach(parent) if isinstance(module, Inline) else add_child(parent, name, module)
        for name, module in named
    ]


def run(steps: Sequence[Step], x: torch.Tensor) -> torch.Tensor:
    """``for m in modules: out = m(out)``, as ``nn.Sequential.forward`` does."""
    for m in steps:
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


class BareParameter(Inline):
    """An op whose weight is a parameter of the enclosing module itself, not a module of its own
    (``Op.bare_parameter``): torchvision CNBlock keeps ``layer_scale`` on the block, so its
    state_dict key is ``features.1.0.layer_scale``. The step applies the op's forward to the
    input and the parameter as registered now (``.to()`` may have replaced it)."""

    def __init__(self, name: str, op: Any) -> None:
        if not name or "." in name:
            raise ValueError(f"a bare parameter needs a plain attribute name, not {name!r}")
        self.name, self.op = name, op

    def attach(self, parent: nn.Module) -> Step:
        parent.register_parameter(self.name, self.op.parameter())
        return ParameterStep(parent, self.name, self.op)


class ParameterStep:
    """``op.forward(x, owner.<name>)``: the step of a :class:`BareParameter`."""

    def __init__(self, owner: nn.Module, name: str, op: Any) -> None:
        self.owner, self.name, self.op = owner, name, op

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.op.forward(x, getattr(self.owner, self.name))
        return out


class ParameterOp(nn.Module):
    """A bare-parameter op with no enclosing block (a top-level node, an op's own test): a
    module holding the parameter as ``weight``."""

    def __init__(self, op: Any) -> None:
        super().__init__()
        self._step = BareParameter("weight", op).attach(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._step(x)


class Chain(nn.Module):
    """A sequence holding an inline node (a plain Res2Net block, a bare parameter:
    ``nn.Sequential`` cannot run a step that is not a module); otherwise sequences are
    ``nn.Sequential``."""

    def __init__(self, named: Named) -> None:
        super().__init__()
        self._steps = _register(self, named)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run(self._steps, x)


class ResidualBlock(nn.Module):
    """``post(body(x) + shortcut(x))``; body and post layers are direct children, the shortcut
    is registered under its graph name (torchvision ResNet ``downsample``, RegNet ``proj``)."""

    def __init__(self, body: Named, shortcut: tuple[str, nn.Module] | None, post: Named) -> None:
        super().__init__()
        self._body = _register(self, body)
        self._shortcut = [add_child(self, *shortcut)] if shortcut is not None else []
        self._post = _register(self, post)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = run(self._body, x)
        identity = self._shortcut[0](x) if self._shortcut else x
        out = out + identity
        return run(self._post, out)

    def last_norm(self) -> nn.Module | None:
        """The last BN of the branch: zero-initialised by ``zero_init_residual``."""
        norms = [m for m in self._body if isinstance(m, nn.BatchNorm2d)]
        return norms[-1] if norms else None


class ParallelRun:
    """Branches on the same input, concatenated on channels or summed; over modules registered
    on its owner."""

    def __init__(self, branches: list[Step], merge: str) -> None:
        self.branches, self.merge = branches, merge

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        outs: list[torch.Tensor] = [branch(x) for branch in self.branches]
        if self.merge == "concat":
            return torch.cat(outs, dim=1)
        total = outs[0]
        for o in outs[1:]:
            total = total + o
        return total


class InlineParallel(Inline):
    """Parallel branches registered on the enclosing module (a ``Parallel`` named ""):
    ShuffleNet V2's ``branch1``/``branch2`` sit on the block, whose forward shuffles after."""

    def __init__(self, branches: Named, merge: str) -> None:
        self.branches, self.merge = branches, merge

    def attach(self, parent: nn.Module) -> Step:
        return ParallelRun(_register(parent, self.branches), self.merge)


class ParallelBranches(nn.Module):
    """Branches on the same input, concatenated on channels or summed."""

    def __init__(self, branches: Named, merge: str) -> None:
        super().__init__()
        self._run = InlineParallel(branches, merge).attach(self)
        self.merge = merge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self._run(x)
        return out


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


class SplitRun:
    """Channel chunks through their branches, each first adding the previous output where it
    carries (Res2Net), concatenated; over modules registered on its owner."""

    def __init__(
        self, chunks: Sequence[int], branches: list[list[Step]], carry: list[bool]
    ) -> None:
        self.chunks, self.branches, self.carry = list(chunks), branches, carry

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        parts = torch.split(x, self.chunks, 1)
        outs: list[torch.Tensor] = []
        for i, (part, branch) in enumerate(zip(parts, self.branches, strict=True)):
            h = outs[-1] + part if self.carry[i] and outs else part
            outs.append(run(branch, h))
        return torch.cat(outs, 1)


class InlineSplit(Inline):
    """A split whose branch children live on the enclosing module (a ``Split`` named "")."""

    def __init__(
        self, chunks: Sequence[int], branches: Sequence[Named], carry: Sequence[bool]
    ) -> None:
        self.chunks, self.branches, self.carry = chunks, branches, list(carry)

    def attach(self, parent: nn.Module) -> Step:
        return SplitRun(self.chunks, [_register(parent, b) for b in self.branches], self.carry)


class SplitBlock(nn.Module):
    """A split with a module of its own; branch children inline, shared names one module."""

    def __init__(
        self, chunks: Sequence[int], branches: Sequence[Named], carry: Sequence[bool]
    ) -> None:
        super().__init__()
        self._run = InlineSplit(chunks, branches, carry).attach(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self._run(x)
        return out

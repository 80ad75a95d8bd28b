"""Graph -> ``nn.Module``: each op builds its own module (or is wrapped in :class:`OpModule`), each
structural node has one generic module (``builder/modules.py``).

Module names are the graph's scopes, which follow torchvision (``layer1.0.downsample.0``), so a
torchvision checkpoint of the same architecture loads with ``strict=True``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from archprobe.builder.modules import (
    BareParameter,
    Chain,
    GateBlock,
    Inline,
    InlineParallel,
    InlineSplit,
    OpModule,
    ParallelBranches,
    ParameterOp,
    ResidualBlock,
    SplitBlock,
)
from archprobe.graph.nodes import Gate, Graph, Node, OpNode, Parallel, Residual, Seq, Split

if TYPE_CHECKING:
    from archprobe.spec.schema import ArchSpec


def op_module(node: OpNode) -> nn.Module:
    """The module an op states (``Op.module``), or its functional code wrapped."""
    if node.op.bare_parameter:
        return ParameterOp(node.op)
    module = node.op.module()
    return OpModule(node.op) if module is None else module


def _is_inline(node: Node) -> bool:
    """No module of its own: a split or parallel named "", or an op whose weight is a bare
    parameter of the enclosing module (``Op.bare_parameter``)."""
    return not node.name or (isinstance(node, OpNode) and node.op.bare_parameter)


def _named(nodes: tuple[Node, ...]) -> list[tuple[str, nn.Module | Inline]]:
    """Each node's module under its name, or its inline step registrar (:func:`_is_inline`)."""
    return [(n.name, _inline(n) if _is_inline(n) else build_node(n)) for n in nodes]


def _inline(node: Node) -> Inline:
    if isinstance(node, OpNode):
        return BareParameter(node.name, node.op)
    if isinstance(node, Parallel):
        return InlineParallel(_named(node.branches), node.merge)
    if not isinstance(node, Split):
        raise TypeError(
            f"only a split or parallel branches can be inline (nameless), not a "
            f"{type(node).__name__}"
        )
    carry = [node.carries(i) for i in range(len(node.branches))]
    return InlineSplit(node.chunks, [_named(b) for b in node.branches], carry)


def _seq(node: Seq) -> nn.Module:
    if not any(_is_inline(n) for n in node.children):
        return nn.Sequential(OrderedDict((n.name, build_node(n)) for n in node.children))
    return Chain(_named(node.children))


def _residual(node: Residual) -> nn.Module:
    s = node.shortcut
    shortcut = (s.name, build_node(s)) if s is not None else None
    return ResidualBlock(_named(node.body), shortcut, _named(node.post))


def _parallel(node: Parallel) -> nn.Module:
    return ParallelBranches(_named(node.branches), node.merge)


def _gate(node: Gate) -> nn.Module:
    combine = (node.combine.name, op_module(node.combine))
    return GateBlock(_named(node.pre), _named(node.body), combine)


def _split(node: Split) -> nn.Module:
    carry = [node.carries(i) for i in range(len(node.branches))]
    return SplitBlock(node.chunks, [_named(b) for b in node.branches], carry)


_MODULES: dict[type, Callable[[Any], nn.Module]] = {
    OpNode: op_module,
    Seq: _seq,
    Residual: _residual,
    Parallel: _parallel,
    Gate: _gate,
    Split: _split,
}
"""The module of every structural node type (the memory replay has the same table, walk.py)."""


def build_node(node: Node) -> nn.Module:
    """The module for one node (recursively)."""
    return _MODULES[type(node)](node)


def _init_weights(model: nn.Module, zero_init_residual: bool) -> None:
    """torchvision's init: He (fan_out) for convs, BN γ=1 β=0.

    ``zero_init_residual`` zeroes γ of the last BN of each residual branch, so every block starts
    as the identity (Goyal et al. 2017, "Accurate, Large Minibatch SGD", §5.1).
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            norm = m.last_norm() if isinstance(m, ResidualBlock) else None
            if isinstance(norm, nn.BatchNorm2d):
                nn.init.zeros_(norm.weight)


def default_device() -> torch.device:
    """CUDA when present, CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def build(
    spec: ArchSpec | Graph,
    device: str | torch.device | None = None,
    zero_init_residual: bool = False,
) -> nn.Module:
    """Instantiate a spec (or an expanded graph) as an ``nn.Module``.

    Args:
        spec: a validated spec or its graph.
        device: ``"cuda"``, ``"cpu"``, ``"meta"`` (no memory, for counting) or None for CUDA
            when available, else CPU.
        zero_init_residual: zero the last BN γ of each residual branch.
    """
    from archprobe.spec.expand import expand

    graph = spec if isinstance(spec, Graph) else expand(spec)
    target = default_device() if device is None else torch.device(device)
    with target:
        model = nn.Sequential(OrderedDict((n.name, build_node(n)) for n in graph.nodes))
        if target.type != "meta":
            _init_weights(model, zero_init_residual)
    return model

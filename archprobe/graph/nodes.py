"""Structural nodes over ops, shape propagation and the walk every analyzer shares.

A node's ``name`` is its local module name; scopes are dotted paths of names, identical to the
built ``nn.Module``'s ``named_modules()`` (``layer1.0.conv2``), so graph, module and every report
row share one name (DESIGN "Decisions").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, NamedTuple

from archprobe.graph.cost import Cost, Shape
from archprobe.graph.ops import Add, GraphError, Op


@dataclass(frozen=True)
class OpNode:
    """A leaf: one primitive op under a module name."""

    name: str
    op: Op


@dataclass(frozen=True)
class Seq:
    """Children applied in order (``nn.Sequential``)."""

    name: str
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Residual:
    """``post(body(x) + shortcut(x))``; ``shortcut=None`` is the identity.

    Body and post children are registered directly on the block (torchvision's ``conv1``,
    ``bn1``, ...); the shortcut is registered as ``downsample``.
    """

    name: str
    body: tuple[Node, ...]
    shortcut: Node | None = None
    post: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Parallel:
    """Branches applied to the same input, merged by channel concatenation or by sum."""

    name: str
    branches: tuple[Node, ...]
    merge: Literal["concat", "sum"] = "concat"


Node = OpNode | Seq | Residual | Parallel


class Leaf(NamedTuple):
    """One op as placed in a graph: its scope, input and output shapes and its cost."""

    scope: str
    op: Op
    in_shape: Shape
    out_shape: Shape
    cost: Cost


_ADD = Add()


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _walk_seq(nodes: tuple[Node, ...], x: Shape, prefix: str, out: list[Leaf]) -> Shape:
    for child in nodes:
        x = walk(child, x, prefix, out)
    return x


def walk(node: Node, x: Shape, prefix: str, out: list[Leaf]) -> Shape:
    """Append the leaves under ``node`` to ``out`` in execution order; return the output shape."""
    scope = _join(prefix, node.name)
    if isinstance(node, OpNode):
        try:
            y = node.op.out_shape(x)
        except GraphError as exc:
            raise GraphError(str(exc), scope) from None
        out.append(Leaf(scope, node.op, x, y, node.op.cost_at(x, y)))
        return y
    if isinstance(node, Seq):
        return _walk_seq(node.children, x, scope, out)
    if isinstance(node, Residual):
        y = _walk_seq(node.body, x, scope, out)
        s = x if node.shortcut is None else walk(node.shortcut, x, scope, out)
        if s != y:
            raise GraphError(f"residual branch gives {y} but the shortcut gives {s}", scope)
        out.append(Leaf(_join(scope, "add"), _ADD, y, y, _ADD.cost_at(y, y)))
        return _walk_seq(node.post, y, scope, out)
    return _walk_parallel(node, x, scope, out)


def _walk_parallel(node: Parallel, x: Shape, scope: str, out: list[Leaf]) -> Shape:
    shapes = [walk(b, x, scope, out) for b in node.branches]
    spatial = {s[1:] for s in shapes}
    if len(spatial) != 1:
        raise GraphError(f"branches disagree on spatial size: {shapes}", scope)
    if node.merge == "concat":
        return (sum(s[0] for s in shapes), *shapes[0][1:])
    if len(set(shapes)) != 1:
        raise GraphError(f"summed branches must have equal shapes, got {shapes}", scope)
    y = shapes[0]
    for i in range(1, len(shapes)):
        out.append(Leaf(_join(scope, f"add{i}"), _ADD, y, y, _ADD.cost_at(y, y)))
    return y


@dataclass(frozen=True)
class Section:
    """Top-level nodes shown as one row of a stage table (ResNet Table 1's "layer name")."""

    label: str  # the paper's name: conv1, conv2, ..., head
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Graph:
    """A whole network: sections of top-level nodes applied in order to ``input_shape``."""

    name: str
    input_shape: Shape
    sections: tuple[Section, ...]

    @property
    def nodes(self) -> tuple[Node, ...]:
        return tuple(n for s in self.sections for n in s.nodes)

    @cached_property
    def leaves(self) -> tuple[Leaf, ...]:
        """Every op in execution order, with shapes and costs (computed once)."""
        out: list[Leaf] = []
        _walk_seq(self.nodes, self.input_shape, "", out)
        return tuple(out)

    @cached_property
    def output_shape(self) -> Shape:
        return self.leaves[-1].out_shape

    def section_of(self, scope: str) -> str:
        """The section label of a scope (its top-level module decides)."""
        top = scope.split(".", 1)[0]
        for s in self.sections:
            if any(n.name == top for n in s.nodes):
                return s.label
        raise KeyError(scope)


def iter_ops(node: Node) -> Iterator[Op]:
    """The ops under ``node`` in definition order (no shapes needed)."""
    if isinstance(node, OpNode):
        yield node.op
    elif isinstance(node, Seq):
        for c in node.children:
            yield from iter_ops(c)
    elif isinstance(node, Residual):
        for c in node.body:
            yield from iter_ops(c)
    else:
        for b in node.branches:
            yield from iter_ops(b)

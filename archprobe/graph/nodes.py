"""Structural nodes over ops, shape propagation and the walk every analyzer shares.

A node's ``name`` is its local module name; scopes are dotted paths of names, identical to the
built ``nn.Module``'s ``named_modules()`` (``layer1.0.conv2``), so graph, module and every report
row share one name (DESIGN "Decisions"). Composites (SE, split attention, Res2Net's splits) are
subgraphs of primitive ops under these few structural nodes; no composite has code of its own.

The walk emits one :class:`Leaf` per op in execution order, including the ops a structural node
applies itself (the residual ``add``, a concatenation ``cat``), which have no module.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, TypeVar

from archprobe.graph.cost import Shape, differ
from archprobe.graph.facts import Leaf
from archprobe.graph.op import GraphError, Op
from archprobe.graph.ops import Add, Concat

_ADD = Add()
_CAT = Concat()

# A stage repeats one block under other names (``layer2.1``, ``layer2.2``, ...: the same body,
# shortcut and post objects), and the plan's cached parts (a stage's first block, the stem, the
# head) recur in every graph of a spec, so a Residual's or a memo Seq's leaves are walked once per
# input shape and renamed. Keyed by the identity of its parts, as hashing a whole block per
# lookup costs more than the walk it saves; each entry holds its parts, so an identity is not
# reused while its entry exists (sweep/fast.py's rule).
_BlockKey = tuple[int, int, int, Shape]
_Parts = tuple[object, object, object]  # (body, shortcut, post) of a Residual; (children,) of a Seq
_BLOCKS: dict[_BlockKey, _Walked] = {}
_MAX_BLOCKS = 1 << 12
_new = tuple.__new__  # a Leaf from a ready tuple: half the time of Leaf(...) with six arguments


@dataclass(slots=True)
class _Walked:
    """A memo entry: the parts, their leaves as first walked under a scope of length ``cut``,
    and the output shape. Most entries (a sweep's blocks) are never hit, so the leaves are split
    into scope tails and the rest of their fields on the first hit only."""

    parts: _Parts
    leaves: list[Leaf]
    cut: int
    y: Shape
    tails: list[tuple[str, tuple[object, ...]]] | None = None

    def under(self, scope: str) -> list[Leaf]:
        """The leaves under ``scope`` instead of the scope they were walked under."""
        if self.tails is None:
            n = self.cut
            self.tails = [(f[0][n:], f[1:]) for f in self.leaves]
            self.leaves = []
        return [_new(Leaf, (scope + tail, *rest)) for tail, rest in self.tails]


def memo_walk(
    parts: _Parts, x: Shape, scope: str, out: list[Leaf],
    walk_fn: Callable[[Shape, str, list[Leaf]], Shape],
) -> Shape:  # fmt: skip
    """``walk_fn(x, scope, out)``, or the leaves an earlier walk of the same parts on ``x`` gave,
    renamed to ``scope``."""
    key = (id(parts[0]), id(parts[1]), id(parts[2]), x)
    try:
        hit = _BLOCKS.get(key)
    except TypeError:  # sizes are arrays of many configs (sweep/stacked.py): not cached
        return walk_fn(x, scope, out)
    if hit is not None and all(map(operator.is_, hit.parts, parts)):
        out += hit.under(scope)
        return hit.y
    start = len(out)
    y = walk_fn(x, scope, out)
    if len(_BLOCKS) >= _MAX_BLOCKS:
        _BLOCKS.clear()
    _BLOCKS[key] = _Walked(parts, out[start:], len(scope), y)
    return y


def join(prefix: str, name: str) -> str:
    """``layer1.0`` + ``conv1`` -> ``layer1.0.conv1``; a nameless (inline) node adds nothing."""
    if not name:
        return prefix
    return f"{prefix}.{name}" if prefix else name


def emit(out: list[Leaf], scope: str, op: Op, x: Shape, *others: Shape) -> Shape:
    """Append the leaf of ``op`` on inputs ``x`` (and ``others``); return its output shape."""
    try:
        y = op.out_shape(x, *others)
    except GraphError as exc:
        raise exc.within(scope) from None
    out.append(Leaf(scope, op, x, y, op.cost_at(x, y, *others), others))
    return y


@dataclass(frozen=True)
class OpNode:
    """A leaf: one primitive op under a module name."""

    name: str
    op: Op

    def walk(self, x: Shape, prefix: str, out: list[Leaf]) -> Shape:
        return emit(out, join(prefix, self.name), self.op, x)


@dataclass(frozen=True)
class Seq:
    """Children applied in order (``nn.Sequential``)."""

    name: str
    children: tuple[Node, ...]
    # Walk once per input shape, renamed where it recurs: set on the parts the plan caches
    # (spec/expand.py), never on a container rebuilt per graph, whose entries would only hold
    # dead leaves.
    memo: bool = field(default=False, compare=False)

    def walk(self, x: Shape, prefix: str, out: list[Leaf]) -> Shape:
        scope = join(prefix, self.name)
        if self.memo:
            return memo_walk((self.children, None, None), x, scope, out, self._walk)
        return walk_seq(self.children, x, scope, out)

    def _walk(self, x: Shape, scope: str, out: list[Leaf]) -> Shape:
        return walk_seq(self.children, x, scope, out)


@dataclass(frozen=True)
class Residual:
    """``post(body(x) + shortcut(x))``; ``shortcut=None`` is the identity.

    Body and post children are registered directly on the block (torchvision's ``conv1``,
    ``bn1``, ...); the shortcut under its own name (``downsample``; RegNet's ``proj``).
    """

    name: str
    body: tuple[Node, ...]
    shortcut: Node | None = None
    post: tuple[Node, ...] = ()

    def walk(self, x: Shape, prefix: str, out: list[Leaf]) -> Shape:
        parts = (self.body, self.shortcut, self.post)
        return memo_walk(parts, x, join(prefix, self.name), out, self._walk)

    def _walk(self, x: Shape, scope: str, out: list[Leaf]) -> Shape:
        y = walk_seq(self.body, x, scope, out)
        s = x if self.shortcut is None else self.shortcut.walk(x, scope, out)
        if differ(s, y):
            raise GraphError(f"residual branch gives {y} but the shortcut gives {s}", scope)
        y = emit(out, join(scope, "add"), _ADD, y, s)
        return walk_seq(self.post, y, scope, out)


@dataclass(frozen=True)
class Parallel:
    """Branches applied to the same input, merged by channel concatenation or by sum."""

    name: str
    branches: tuple[Node, ...]
    merge: Literal["concat", "sum"] = "concat"

    def walk(self, x: Shape, prefix: str, out: list[Leaf]) -> Shape:
        scope = join(prefix, self.name)
        shapes = [b.walk(x, scope, out) for b in self.branches]
        if self.merge == "concat":
            return emit(out, join(scope, "cat"), _CAT, *shapes)
        y = shapes[0]
        for i, s in enumerate(shapes[1:], 1):
            y = emit(out, join(scope, f"add{i}"), _ADD, y, s)
        return y


@dataclass(frozen=True)
class Gate:
    """``combine(h, body(h))`` with ``h = pre(x)``: a map modulated by a function of itself.

    SE (Hu et al. §3): body = mean, fc1, ReLU, fc2, sigmoid; combine = the product. ResNeSt split
    attention: pre = the radix conv, BN, ReLU; body = sum of splits, mean, fc1, BN, ReLU, fc2,
    r-softmax; combine = the weighted sum of the splits. Pre, body and combine are registered
    directly on the node's module (timm's ``se.fc1``, ``conv2.bn0``).
    """

    name: str
    body: tuple[Node, ...]
    combine: OpNode
    pre: tuple[Node, ...] = ()
    label: str = field(default="", compare=False)  # the papers' notation, for stage tables

    def walk(self, x: Shape, prefix: str, out: list[Leaf]) -> Shape:
        scope = join(prefix, self.name)
        h = walk_seq(self.pre, x, scope, out)
        a = walk_seq(self.body, h, scope, out)
        return emit(out, join(scope, self.combine.name), self.combine.op, h, a)


@dataclass(frozen=True)
class Split:
    """Channels split into ``chunks``; branch i maps chunk i, first adding branch i−1's output
    where ``carry[i]``; the outputs are concatenated.

    Res2Net's hierarchical 3×3s (Gao et al. §3.1) carry; ShuffleNet V2's channel split does not.
    Branch children are registered directly on the node's module, and a name several branches
    use is one module (Res2Net's single ``relu``); an empty branch passes its chunk through.
    Named "", the split is inline: its children belong to the enclosing module (timm's names).
    """

    name: str
    chunks: tuple[int, ...]
    branches: tuple[tuple[Node, ...], ...]
    carry: tuple[bool, ...] = ()
    label: str = field(default="", compare=False)  # the papers' notation, for stage tables

    def carries(self, i: int) -> bool:
        return i < len(self.carry) and self.carry[i]

    def walk(self, x: Shape, prefix: str, out: list[Leaf]) -> Shape:
        scope = join(prefix, self.name)
        if sum(self.chunks) != x[0] or len(self.chunks) != len(self.branches):
            raise GraphError(f"cannot split {x[0]} channels into {self.chunks}", scope)
        outs: list[Shape] = []
        for i, (c, branch) in enumerate(zip(self.chunks, self.branches, strict=True)):
            h: Shape = (c, x[1], x[2])
            if self.carries(i) and outs:
                h = emit(out, join(scope, f"add{i}"), _ADD, outs[-1], h)
            outs.append(walk_seq(branch, h, scope, out))
        return emit(out, join(scope, "cat"), _CAT, *outs)


Node = OpNode | Seq | Residual | Parallel | Gate | Split
NodeT = TypeVar("NodeT", bound=Node)


def renamed(node: NodeT, name: str) -> NodeT:
    """``dataclasses.replace(node, name=name)`` without re-running ``__init__``: a graph renames
    every repeated block and container item, and ``replace`` was a fifth of a whole analytic
    total (profiled, EfficientNet-B0). Nodes are immutable, so a node already so named is
    returned as is."""
    if node.name == name:
        return node
    new: NodeT = object.__new__(type(node))
    fields = new.__dict__
    fields.update(node.__dict__)
    fields["name"] = name  # the frozen dataclass's __init__ also sets its fields past __setattr__
    return new


def walk_seq(nodes: tuple[Node, ...], x: Shape, prefix: str, out: list[Leaf]) -> Shape:
    """Walk ``nodes`` in order; return the last output shape."""
    for child in nodes:
        x = child.walk(x, prefix, out)
    return x


def walk(node: Node, x: Shape, prefix: str, out: list[Leaf]) -> Shape:
    """Append the leaves under ``node`` to ``out`` in execution order; return the output shape."""
    return node.walk(x, prefix, out)


@dataclass(frozen=True)
class Section:
    """Nodes shown as one row of a stage table (ResNet Table 1's "layer name").

    ``within[k]`` is the top-level container node ``k`` sits in (torchvision's ``features``,
    RegNet's ``trunk_output``), "" for the top level; consecutive nodes of one container, across
    sections, are one ``nn.Sequential``. A stage's section records its repeated ``block``, its
    ``depth``, the scope of its ``first`` block and how many nodes ``lead`` the blocks, whatever the
    naming layout.
    """

    label: str  # the paper's name: conv1, conv2, ..., head
    nodes: tuple[Node, ...]
    within: tuple[str, ...] = ()  # per node; () = every node at the top level
    block: Node | None = field(default=None, compare=False)
    depth: int = 0
    first: str = ""
    lead: int = 0  # nodes before the blocks (the stem's pool, the transition)

    def container(self, k: int) -> str:
        return self.within[k] if self.within else ""

    @property
    def scopes(self) -> tuple[str, ...]:
        """The module path of each node (``features.3``, ``layer2``)."""
        return tuple(join(self.container(k), n.name) for k, n in enumerate(self.nodes))


@dataclass(frozen=True)
class Graph:
    """A whole network: sections of top-level nodes applied in order to ``input_shape``."""

    name: str
    input_shape: Shape
    sections: tuple[Section, ...]

    @cached_property
    def nodes(self) -> tuple[Node, ...]:
        """The top-level modules: each container is one ``Seq`` of its nodes.

        Raises:
            GraphError: a container's nodes are not consecutive.
        """
        groups: list[tuple[str, list[Node]]] = []  # (container or "", its nodes) in order
        for s in self.sections:
            for k, node in enumerate(s.nodes):
                box = s.container(k)
                if box and groups and groups[-1][0] == box:
                    groups[-1][1].append(node)
                    continue
                if box and any((b or ns[0].name) == box for b, ns in groups):
                    raise GraphError(f"the nodes of container {box!r} are not consecutive", box)
                groups.append((box, [node]))
        # each container made once, not rebuilt with every node it receives
        return tuple(Seq(box, tuple(ns)) if box else ns[0] for box, ns in groups)

    @cached_property
    def leaves(self) -> tuple[Leaf, ...]:
        """Every op in execution order, with shapes and costs (computed once)."""
        out: list[Leaf] = []
        walk_seq(self.nodes, self.input_shape, "", out)
        return tuple(out)

    @cached_property
    def output_shape(self) -> Shape:
        return self.leaves[-1].out_shape

    def section_index(self, scope: str) -> int:
        """The index of the section a scope lies in.

        Raises:
            KeyError: no section holds ``scope``.
        """
        for i, s in enumerate(self.sections):
            if any(scope == p or scope.startswith(p + ".") for p in s.scopes):
                return i
        raise KeyError(scope)

    def section_of(self, scope: str) -> str:
        """The section label of a scope."""
        return self.sections[self.section_index(scope)].label

    def stage(self, i: int) -> Section:
        """Stage ``i``'s section (sections are the stem, each stage, then the head)."""
        return self.sections[i + 1]


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly under ``node`` in definition order (shortcut last for a residual)."""
    if isinstance(node, Seq):
        return node.children
    if isinstance(node, Residual):
        return (*node.body, *((node.shortcut,) if node.shortcut else ()), *node.post)
    if isinstance(node, Parallel):
        return node.branches
    if isinstance(node, Gate):
        return (*node.pre, *node.body, node.combine)
    if isinstance(node, Split):
        return tuple(n for branch in node.branches for n in branch)
    return ()


def iter_ops(node: Node) -> Iterator[Op]:
    """The ops under ``node`` in definition order (no shapes needed)."""
    if isinstance(node, OpNode):
        yield node.op
    for child in children(node):
        yield from iter_ops(child)

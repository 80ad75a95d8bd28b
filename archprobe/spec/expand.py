"""ArchSpec -> Graph: stem, stages of registered blocks (entered through a transition), head.

:func:`plan` expands each part once, from the widths alone: the stem, then per stage its
transition, its first block and the block it repeats, then the head. :func:`expand` turns a plan
into the graph with torchvision's module names; the sweep's fast path walks the same plan,
costing a repeated block once (``sweep/fast.py``). Part expansions are cached, so a sweep over
thousands of specs that share blocks expands each distinct block once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from archprobe.blocks import get_block, get_head, get_stem, get_transition
from archprobe.blocks.base import BlockParams, HeadParams, StemParams, TransitionParams
from archprobe.blocks.layout import StageParts, arrange
from archprobe.errors import SpecError
from archprobe.graph.nodes import Graph, Node, Section, Seq, renamed
from archprobe.graph.op import GraphError

if TYPE_CHECKING:
    from archprobe.spec.schema import ArchSpec, StageSpec

CACHE = 1 << 14
BLOCK_CACHE = 1 << 10  # built blocks are many objects (GC-tracked); a sweep caches their costs


def memo(node: Node) -> Node:
    """``node``, walked once per input shape if it is a sequence: the parts cached here recur
    (by identity) in every graph of a spec, as the first block of a stage, the stem or the head;
    a residual block always is (``graph/nodes.py``)."""
    return replace(node, memo=True) if isinstance(node, Seq) else node


@lru_cache(maxsize=CACHE)
def stem_nodes(p: StemParams, channels: int) -> tuple[tuple[Node, ...], int]:
    """The stem's nodes and output width (cached)."""
    nodes, width = get_stem(p.type).expand(p, channels)
    return tuple(map(memo, nodes)), width


@lru_cache(maxsize=BLOCK_CACHE)
def block_node(p: BlockParams, cin: int, cout: int, stride: int, name: str) -> Node:
    """One block (cached: the blocks a stage repeats are one object)."""
    return memo(get_block(p.type).expand(p, cin, cout, stride, name))


_NODES: dict[tuple[int, int, int, int, str], tuple[BlockParams, Node]] = {}


def transition_node(
    p: TransitionParams, cin: int, cout: int, stride: int, name: str
) -> Node | None:
    """The layers between two stages where the shape changes, or None (the registered
    transition's own answer; ``none`` always gives None)."""
    if stride == 1 and cin == cout:
        return None
    return get_transition(p.type).expand(p, cin, cout, stride, name)


@lru_cache(maxsize=CACHE)
def head_nodes(p: HeadParams, cin: int) -> tuple[Node, ...]:
    """The head's nodes on ``cin`` channels (cached)."""
    return tuple(map(memo, get_head(p.type).expand(p, cin)))


@dataclass(frozen=True)
class BlockCall:
    """One block of a stage as the part registry will expand it: its knobs and its shape
    arguments. Hashable and cheap, so a sweep can key costs on it without building the block."""

    params: BlockParams
    cin: int
    cout: int
    stride: int
    scope: str  # layer2.0: the first block; layer2.1: the one repeated after it
    # A sweep looks a call up in several dicts; hashing the pydantic params each time was a
    # tenth of a solved sweep (measured), so the hash is taken once, on first use: expanding a
    # spec never hashes its calls.
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash((self.params, self.cin, self.cout, self.stride, self.scope))
            object.__setattr__(self, "_hash", h)
        return h

    def __reduce__(self) -> tuple[type[BlockCall], tuple[BlockParams, int, int, int, str]]:
        # string hashes differ between processes: an unpickled call hashes itself anew
        return (BlockCall, (self.params, self.cin, self.cout, self.stride, self.scope))

    def node(self) -> Node:
        """The block's nodes (cached by the part's arguments).

        Raises:
            GraphError: an impossible block, scoped to ``scope``.
        """
        name = self.scope[-1:]
        # The params object of a spec's stage recurs on every expansion of that spec: found by
        # identity, it is not hashed again (a twelfth of EfficientNet-B0's analytic total).
        key = (id(self.params), self.cin, self.cout, self.stride, name)
        hit = _NODES.get(key)
        if hit is not None and hit[0] is self.params:
            return hit[1]
        try:
            node = block_node(self.params, self.cin, self.cout, self.stride, name)
        except GraphError as exc:
            raise exc.within(self.scope) from None
        if len(_NODES) >= BLOCK_CACHE:
            _NODES.clear()
        _NODES[key] = (self.params, node)  # holds the params: their id is not reused meanwhile
        return node


@dataclass(frozen=True)
class StagePlan:
    """One stage: its transition (or none), its first block and the block repeated after it."""

    name: str
    transition: tuple[Node, ...]
    first: BlockCall
    repeat: BlockCall | None
    depth: int

    def node(self) -> Seq:
        """The stage with all its blocks named ``0 … depth-1`` (torchvision ``layerN.j``)."""
        blocks = [self.first.node()]
        if self.repeat is not None:
            repeat = self.repeat.node()
            blocks += [renamed(repeat, str(j)) for j in range(1, self.depth)]
        return Seq(self.name, tuple(blocks))


@dataclass(frozen=True)
class Plan:
    """Every part of a network, expanded once."""

    stem: tuple[Node, ...]
    stages: tuple[StagePlan, ...]
    head: tuple[Node, ...]


def plan_stage(spec: ArchSpec, i: int, cin: int, block: BlockParams | None = None) -> StagePlan:
    """Stage ``i`` of ``spec`` from ``cin`` channels; ``block`` replaces its block (the width
    solver).

    Raises:
        GraphError: an impossible block or transition, scoped to its module name.
    """
    return stage_plan(spec.transition, spec.stages[i], i, cin, block)


def stage_plan(
    transition: TransitionParams, stage: StageSpec, i: int, cin: int,
    block: BlockParams | None = None,
) -> StagePlan:  # fmt: skip
    """:func:`plan_stage` from the parts it reads: the spec's transition and stage ``i`` (a
    RegNet sweep plans its stage parts without a spec per part)."""
    name, down = f"layer{i + 1}", f"transition{i + 1}"
    p = block or stage.block
    try:
        trans = transition_node(transition, cin, stage.width, stage.stride, down)
    except GraphError as exc:
        raise exc.within(down) from None
    if trans is not None:  # the transition takes the shape change; the blocks keep theirs
        cin, stride = stage.width, 1
    else:
        stride = stage.stride
    first = BlockCall(p, cin, stage.width, stride, f"{name}.0")
    repeat = BlockCall(p, stage.width, stage.width, 1, f"{name}.1") if stage.depth > 1 else None
    return StagePlan(name, (trans,) if trans else (), first, repeat, stage.depth)


def plan(spec: ArchSpec, blocks: Sequence[BlockParams] | None = None) -> Plan:
    """Expand every part of ``spec`` (with each stage's block replaced by ``blocks[i]``).

    Raises:
        GraphError: an impossible part, scoped to its module (``layer2.0``, ``transition3``).
    """
    stem, cin = stem_nodes(spec.stem, spec.input.channels)
    stages = []
    for i, stage in enumerate(spec.stages):
        stages.append(plan_stage(spec, i, cin, blocks[i] if blocks else None))
        cin = stage.width
    return Plan(stem, tuple(stages), head_nodes(spec.head, cin))


def _located(spec: ArchSpec, path: tuple[str | int, ...], message: str) -> SpecError:
    from archprobe.spec.errors_map import locate

    loc = locate(spec.source, path) if spec.source else None
    return SpecError(message, loc, ".".join(map(str, path)))


def _sections(spec: ArchSpec, p: Plan) -> tuple[Section, ...]:
    """The plan's parts named by the spec's layout (``blocks/layout.py``)."""
    stages = tuple(StageParts(st.transition, st.node().children) for st in p.stages)
    return arrange(spec.layout, p.stem, stages, p.head)


def expand(spec: ArchSpec) -> Graph:
    """Build the op graph of a spec.

    Module names follow the spec's ``layout:`` (by default torchvision's ResNet: ``conv1 bn1
    relu maxpool layer1..N avgpool fc``); stage labels follow the papers (``conv1``, ``conv2``,
    ... ``conv5``, ``head``), with the stem pool in ``conv2`` as in ResNet/ResNeXt Table 1.

    Raises:
        SpecError: when the spec describes an impossible network (e.g. a bottleneck width that
            rounds to zero, or a feature map that shrinks below 1×1), located at the stage.
    """
    size = spec.input.size
    try:
        sections = _sections(spec, plan(spec))
    except GraphError as exc:
        raise _located(spec, _stage_path(exc), str(exc)) from None
    graph = Graph(spec.name, (spec.input.channels, size, size), sections)
    try:
        graph.leaves  # noqa: B018  (shape propagation; fails early with a located error)
    except GraphError as exc:
        raise _located(spec, _stage_path(exc, graph), f"{exc} (input {size}×{size})") from None
    return graph


def _stage_path(exc: GraphError, graph: Graph | None = None) -> tuple[str | int, ...]:
    """The spec key an error belongs to: its stage (the plan's ``layer3…``, ``transition3``, or
    a stage section of the graph), else the input size (the stem or head cannot take it)."""
    top = exc.scope.split(".", 1)[0]
    for prefix in ("layer", "transition"):
        if graph is None and top.startswith(prefix) and top[len(prefix) :].isdigit():
            return ("stages", int(top[len(prefix) :]) - 1)
    if graph is not None:
        try:
            i = graph.section_index(exc.scope)
        except KeyError:
            i = 0
        if 0 < i < len(graph.sections) - 1:
            return ("stages", i - 1)
    return ("input", "size")

"""Naming layouts: where a network's parts sit in its module tree, so state_dict keys are the
reference implementation's (``layer2.0.conv1``, ``features.4.conv.1.0``,
``trunk_output.block2.block2-0.f.a.0``, ``stage3.0.branch2.0``).

A layout arranges the expanded parts (stem, per stage its transition and blocks, head) into the
sections of a graph. Families differ in three ways only: whether the parts sit in one numbered
container (torchvision's ``features`` / ``layers``) or under names of their own; how far a part
is unrolled into that container (a stage as one item, each block an item, each op an item); and
the names of stages and blocks. ``layout:`` of a spec states those, so a new family needs no code
here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, StrictBool, StrictInt, model_validator

from archprobe.blocks.base import KnobModel
from archprobe.graph.nodes import Node, OpNode, Section, Seq, renamed
from archprobe.graph.op import GraphError
from archprobe.graph.ops import GlobalAvgPool, Mean

Placement = Literal["top", "item", "items"]
POOLS = (GlobalAvgPool, Mean)  # a head's global pool: where the trunk ends


class LayoutParams(KnobModel):
    """``layout:``: the module names of the parts (the default is torchvision's ResNet)."""

    container: str = Field(
        "",
        pattern=r"^([A-Za-z_][A-Za-z0-9_]*)?$",
        description=(
            "Top-level module holding the stages (torchvision `features`, MNASNet `layers`, "
            "RegNet `trunk_output`); '': the stages are top-level modules (ResNet)."
        ),
    )
    numbered: StrictBool = Field(
        False,
        description=(
            "The container's items are named 0, 1, 2, ... in order (an nn.Sequential: "
            "torchvision `features.N`); false: stages are named by `stage`."
        ),
    )
    stem: Placement = Field(
        "top",
        description=(
            "top: the stem's layers are top-level modules under their own names (ResNet "
            "`conv1`, RegNet `stem`); item: the stem is the container's first item "
            "(`features.0`); items: each stem layer is an item (MNASNet `layers.0`..)."
        ),
    )
    unroll: Literal["stage", "block", "op"] = Field(
        "stage",
        description=(
            "In a numbered container, what one item is: a stage (EfficientNet `features.2.0`), "
            "a block (MobileNet `features.3`) or an op of a block (VGG `features.7`)."
        ),
    )
    stage: str = Field(
        "layer{n}",
        pattern=r"^[A-Za-z_{][A-Za-z0-9_{}-]*$",
        description="Name of stage n when the container is not numbered (`layer{n}`, `block{n}`).",
    )
    first_stage: StrictInt = Field(
        1, ge=0, le=100, description="n of the first stage (ShuffleNet V2 starts at `stage2`)."
    )
    block: str = Field(
        "{j}",
        pattern=r"^[A-Za-z0-9_{][A-Za-z0-9_{}-]*$",
        description="Name of block j of stage n inside its stage (`{j}`; RegNet `block{n}-{j}`).",
    )
    head: Placement = Field(
        "top",
        description=(
            "Where the head's layers before its global pool go: top (their own names), one "
            "container item (MobileNet's last 1x1 conv `features.18`), or an item each (MNASNet)."
        ),
    )

    @model_validator(mode="after")
    def _needs_numbered(self) -> LayoutParams:
        if (
            self.stem != "top" or self.head != "top" or self.unroll != "stage"
        ) and not self.numbered:
            raise ValueError(
                "stem/head `item(s)` and `unroll: block|op` place parts in a numbered "
                "container: set `container:` and `numbered: true`"
            )
        if self.numbered and not self.container:
            raise ValueError("`numbered: true` needs a `container:` name (e.g. features)")
        return self


@dataclass(frozen=True)
class StageParts:
    """One expanded stage: its transition nodes and its blocks (named 0 … depth−1)."""

    transition: tuple[Node, ...]
    blocks: tuple[Node, ...]


class _Items:
    """Nodes placed in order, each in the container or at the top level."""

    def __init__(self, layout: LayoutParams) -> None:
        self.layout = layout
        self.nodes: list[Node] = []
        self.within: list[str] = []
        self.count = 0  # items in the numbered container so far

    def top(self, nodes: tuple[Node, ...]) -> None:
        self.nodes += nodes
        self.within += [""] * len(nodes)

    def put(self, node: Node) -> str:
        """``node`` in the container (renamed to its index when numbered), or at the top level
        when there is none; its scope."""
        box = self.layout.container
        if self.layout.numbered:
            node = renamed(node, str(self.count))
            self.count += 1
        self.nodes.append(node)
        self.within.append(box)
        return f"{box}.{node.name}" if box else node.name

    def take(self) -> tuple[tuple[Node, ...], tuple[str, ...]]:
        nodes, within = tuple(self.nodes), tuple(self.within)
        self.nodes, self.within = [], []
        return nodes, within


def _ops(node: Node) -> tuple[Node, ...]:
    """The children of a plain sequence, for op-level unrolling (VGG ``features.N``)."""
    if isinstance(node, OpNode):
        return (node,)
    if isinstance(node, Seq):
        return node.children
    raise GraphError(f"layout unroll: op needs sequential blocks, not a {type(node).__name__}")


def _place(items: _Items, nodes: tuple[Node, ...], how: Placement) -> None:
    if how == "top":
        items.top(nodes)
    elif how == "item" and nodes:
        # ``nodes`` is the plan's cached stem, or the cached part of its head: the same tuple in
        # every graph of a spec, so the item is walked once per input shape (graph/nodes.py)
        items.put(Seq("", nodes, memo=True) if len(nodes) > 1 else nodes[0])
    else:
        for node in nodes:
            items.put(node)


def _stage(items: _Items, i: int, stage: StageParts) -> str:
    """Place stage ``i``; return the scope of its first block."""
    layout, n = items.layout, i + items.layout.first_stage
    if not layout.numbered:  # named stages (layer2, block2), in the container or at the top
        for node in stage.transition:
            items.put(node)
        blocks = [renamed(b, layout.block.format(n=n, j=j)) for j, b in enumerate(stage.blocks)]
        return f"{items.put(Seq(layout.stage.format(n=n), tuple(blocks)))}.{blocks[0].name}"
    unroll = _ops if layout.unroll == "op" else (lambda node: (node,))
    for node in stage.transition:
        for op in unroll(node):
            items.put(op)
    if layout.unroll == "stage":
        return f"{items.put(Seq('', stage.blocks))}.0"
    scopes = [items.put(op) for b in stage.blocks for op in unroll(b)]
    return scopes[0]


_SPLITS: dict[int, tuple[tuple[Node, ...], tuple[Node, ...], tuple[Node, ...]]] = {}


def _split_head(head: tuple[Node, ...]) -> tuple[tuple[Node, ...], tuple[Node, ...]]:
    """The head's nodes before its global pool (they belong to the trunk), and the rest.

    Kept by the head's identity (the plan's cached head recurs in every graph of a spec; each
    entry holds it, so its id is not reused meanwhile): a slice is a new tuple each time."""
    hit = _SPLITS.get(id(head))
    if hit is not None and hit[0] is head:
        return hit[1], hit[2]
    pools = [k for k, n in enumerate(head) if isinstance(n, OpNode) and isinstance(n.op, POOLS)]
    k = pools[0] if pools else 0
    if len(_SPLITS) >= 1 << 10:
        _SPLITS.clear()
    _SPLITS[id(head)] = (head, head[:k], head[k:])
    return _SPLITS[id(head)][1:]


def arrange(
    layout: LayoutParams, stem: tuple[Node, ...], stages: tuple[StageParts, ...],
    head: tuple[Node, ...],
) -> tuple[Section, ...]:  # fmt: skip
    """The sections of a network: ``conv1`` (the stem), ``conv2`` … (one per stage), ``head``;
    without a stem an empty ``stem`` section and stages ``conv1`` ….

    With a top-level layout, a stem's pool is listed under ``conv2``, as ResNet/ResNeXt Table 1
    do; the modules keep their place.
    """
    items = _Items(layout)
    first_label = 2 if stem else 1  # no stem (VGG): the first stage is conv1 (conv1_1 …)
    pools: tuple[Node, ...] = ()
    if layout.stem == "top" and not layout.container:
        pools = tuple(n for n in stem if isinstance(n, OpNode) and n.op.kind == "pool")
        stem = tuple(n for n in stem if n not in pools)
    _place(items, stem, layout.stem)
    sections = [Section("conv1" if first_label == 2 else "stem", *items.take())]
    for i, stage in enumerate(stages):
        items.top(pools if i == 0 else ())
        lead = len(items.nodes) + len(stage.transition)
        first = _stage(items, i, stage)
        nodes, within = items.take()
        lead = (
            lead if layout.unroll != "op" else len(nodes) - sum(len(_ops(b)) for b in stage.blocks)
        )
        depth = len(stage.blocks)
        label = f"conv{i + first_label}"
        sections.append(Section(label, nodes, within, stage.blocks[-1], depth, first, lead))
    trunk, rest = _split_head(head)
    _place(items, trunk, layout.head)
    items.top(rest)
    return (*sections, Section("head", *items.take()))

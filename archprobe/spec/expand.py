"""ArchSpec -> Graph: stem, stages of registered blocks, head; torchvision module names."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archprobe.blocks import get_block, get_stem
from archprobe.errors import SpecError
from archprobe.graph.nodes import Graph, Node, OpNode, Section, Seq
from archprobe.graph.ops import GlobalAvgPool, GraphError, Linear

if TYPE_CHECKING:
    from archprobe.spec.schema import ArchSpec


def _stage(spec: ArchSpec, i: int, cin: int) -> Seq:
    stage = spec.stages[i]
    block = get_block(stage.block.type)
    blocks: list[Node] = []
    for j in range(stage.depth):
        stride = stage.stride if j == 0 else 1
        try:
            blocks.append(block.expand(stage.block, cin, stage.width, stride, str(j)))
        except GraphError as exc:
            raise exc.within(f"layer{i + 1}.{j}") from None
        cin = stage.width
    return Seq(f"layer{i + 1}", tuple(blocks))


def _located(spec: ArchSpec, path: tuple[str | int, ...], message: str) -> SpecError:
    from archprobe.spec.errors_map import locate

    loc = locate(spec.source, path) if spec.source else None
    return SpecError(message, loc, ".".join(map(str, path)))


def head_nodes(cin: int, classes: int) -> tuple[Node, ...]:
    """Global average pool and the fc classifier (torchvision's ``avgpool``, ``fc``)."""
    return (OpNode("avgpool", GlobalAvgPool()), OpNode("fc", Linear(cin, classes)))


def expand(spec: ArchSpec) -> Graph:
    """Build the op graph of a spec.

    Module names follow torchvision: ``conv1 bn1 relu maxpool layer1..N avgpool fc``; stage
    labels follow the papers (``conv1``, ``conv2``, ... ``conv5``, ``head``), with the stem pool
    in ``conv2`` as in ResNet/ResNeXt Table 1.

    Raises:
        SpecError: when the spec describes an impossible network (e.g. a bottleneck width that
            rounds to zero, or a feature map that shrinks below 1×1), located at the stage.
    """
    stem_nodes, cin = get_stem(spec.stem.type).expand(spec.stem, spec.input.channels)
    # Table 1 of both papers lists the stem's max pool under conv2, not conv1.
    pools = tuple(n for n in stem_nodes if isinstance(n, OpNode) and n.op.kind == "pool")
    sections = [Section("conv1", tuple(n for n in stem_nodes if n not in pools))]
    for i, stage in enumerate(spec.stages):
        lead = pools if i == 0 else ()
        try:
            sections.append(Section(f"conv{i + 2}", (*lead, _stage(spec, i, cin))))
        except GraphError as exc:
            raise _located(spec, ("stages", i), str(exc)) from None
        cin = stage.width
    head = head_nodes(cin, spec.head.classes)
    sections.append(Section("head", head))
    size = spec.input.size
    graph = Graph(spec.name, (spec.input.channels, size, size), tuple(sections))
    try:
        graph.leaves  # noqa: B018  (shape propagation; fails early with a located error)
    except GraphError as exc:
        top = exc.scope.split(".", 1)[0]
        path: tuple[str | int, ...] = ("input", "size")
        if top.startswith("layer"):
            path = ("stages", int(top[5:]) - 1)
        raise _located(spec, path, f"{exc} (input {size}×{size})") from None
    return graph

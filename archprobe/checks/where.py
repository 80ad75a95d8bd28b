"""Where a per-stage finding points, and how it names the stage (torch-free helpers).

A per-stage finding points at the stage line (DESIGN §7.7), or, when the stage is inherited from
a base file, at the key of the user's own file that makes the stage trigger (``block: {groups:
2}`` over ``extends: resnet18``): the user should land on a line they wrote.
"""

from __future__ import annotations

from collections.abc import Sequence

from archprobe.analysis.results import Results, in_scope
from archprobe.errors import SourceLoc
from archprobe.graph.cost import Shape
from archprobe.graph.nodes import Graph
from archprobe.graph.ops import Conv
from archprobe.spec.errors_map import locate
from archprobe.spec.schema import ArchSpec
from archprobe.spec.strict_yaml import KeyPath, SourceMap


def own_first(
    spec: ArchSpec, paths: Sequence[KeyPath], fallback: KeyPath | None = None
) -> SourceLoc | None:
    """The first of ``paths`` set in the spec's own file; else where ``fallback`` (default
    ``paths[0]``) or its nearest ancestor was set."""
    smap: SourceMap | None = spec.source
    if not smap:
        return None
    own = smap[()].value.file
    for path in paths:
        found = smap.get(path)
        if found is not None and found.value.file == own:
            return found.value
    return locate(smap, paths[0] if fallback is None else fallback)


def stage_where(
    spec: ArchSpec, i: int, keys: Sequence[str] = (), extra: Sequence[KeyPath] = ()
) -> SourceLoc | None:
    """Location of a finding about stage ``i`` triggered by block or stage ``keys``.

    Preference: a stage-level key (``- {..., groups: 2}``), the stage line, the model-level
    ``block:`` key, then ``extra`` paths; the first one written in the spec's own file wins.
    """
    paths: list[KeyPath] = [("stages", i, k) for k in keys]
    paths.append(("stages", i))
    paths += [("block", k) for k in keys]
    paths += list(extra)
    return own_first(spec, paths, fallback=("stages", i))


def stage_scopes(graph: Graph, i: int) -> tuple[str, ...]:
    """The module scopes of stage ``i``'s blocks (torchvision ``layer1`` for the first ResNet stage;
    ``features.2``, ``features.3`` where each block is an item of ``features``)."""
    section = graph.stage(i)
    return section.scopes[section.lead :]  # the blocks, not the stem pool or a transition


def first_block(graph: Graph, i: int) -> str:
    """The scope of stage ``i``'s first block (``layer2.0``, ``features.4``)."""
    return graph.stage(i).first


def stage_name(graph: Graph, i: int) -> str:
    """``conv3 (layer2)``: the paper's stage label and the module scope(s)."""
    scopes = stage_scopes(graph, i)
    where = scopes[0] if len(scopes) == 1 else f"{scopes[0]}…{scopes[-1]}"
    return f"{graph.stage(i).label} ({where})"


def stage_macs(graph: Graph, results: Results, i: int) -> float:
    """Stage ``i``'s MACs per sample."""
    return sum(results.total("macs", s) for s in stage_scopes(graph, i))


def depthwise_stage(graph: Graph, i: int) -> bool:
    """Stage ``i``'s blocks hold a depthwise conv (groups = input = output channels > 1): the
    depthwise-separable blocks of MobileNet/MNASNet, whose widths follow a cost budget per
    resolution (MobileNetV2 Table 2), not the ResNeXt template's doubling (§3.1)."""
    scopes = stage_scopes(graph, i)
    return any(
        isinstance(leaf.op, Conv) and 1 < leaf.op.groups == leaf.op.cin == leaf.op.cout
        for leaf in graph.leaves
        if any(in_scope(leaf.scope, s) for s in scopes)
    )


def stage_output(graph: Graph, i: int) -> Shape:
    """Output shape (C, H, W) of stage ``i``."""
    scopes = stage_scopes(graph, i)
    leaves = [leaf for leaf in graph.leaves if any(in_scope(leaf.scope, s) for s in scopes)]
    return leaves[-1].out_shape

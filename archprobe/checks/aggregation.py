"""RX checks: aggregation and cardinality (ResNeXt, Xie et al. 2017; facts.md §1.3, §1.6)."""

from __future__ import annotations

from collections.abc import Iterator

from archprobe.analysis.results import Results, in_scope
from archprobe.checks.finding import Hit
from archprobe.checks.registry import register_check
from archprobe.checks.where import first_block, stage_name, stage_where
from archprobe.errors import SourceLoc
from archprobe.graph.nodes import Graph
from archprobe.graph.ops import Conv
from archprobe.spec.schema import ArchSpec

MIN_WIDTH_PER_GROUP = 4
"""ResNeXt §5.1 / Table 3: accuracy saturates at small bottleneck widths, "So we adopt a
bottleneck width no smaller than 4d"."""


def _first_conv(graph: Graph, i: int, grouped: bool) -> Conv:
    """The first conv of stage ``i``'s first block (grouped only, when ``grouped``)."""
    block = first_block(graph, i)
    for leaf in graph.leaves:
        op = leaf.op
        if in_scope(leaf.scope, block) and isinstance(op, Conv) and (op.groups > 1 or not grouped):
            return op
    raise LookupError(f"no {'grouped ' if grouped else ''}conv in {block}")


@register_check(
    "RX001",
    "warning",
    "basic block with groups > 1: depth-2 aggregation is trivially wide",
    "ResNeXt §3.3, Fig. 4",
)
def basic_block_groups(spec: ArchSpec, graph: Graph, results: Results) -> Iterator[Hit]:
    """A depth-2 block of C paths is "trivially a wide, dense module" (ResNeXt §3.3, Fig. 4).

    Grouping both 3×3 convs of a basic block makes them block-diagonal: that is neither ResNeXt
    aggregation nor its dense equivalent (torchvision refuses it: "BasicBlock only supports
    groups=1 and base_width=64").
    """
    # One finding per (location, C, d): a model-level `block: {groups: 2}` is one mistake,
    # not one per stage.
    stages: dict[tuple[SourceLoc | None, int, int], list[int]] = {}
    for i, stage in enumerate(spec.stages):
        groups = getattr(stage.block, "groups", 1)
        if stage.block.type == "basic" and groups > 1:
            d = getattr(stage.block, "width_per_group", 64)
            stages.setdefault((stage_where(spec, i, ("groups",)), groups, d), []).append(i)
    for (where, groups, d), indexes in stages.items():
        names = ", ".join(stage_name(graph, i) for i in indexes)
        yield Hit(
            f"{names}: basic block with groups={groups}: aggregating depth-2 paths gives only "
            f"a wide, dense block, and grouping both 3×3 convs makes it block-diagonal instead; "
            "for ResNeXt use type: bottleneck (depth 3), for the dense equivalent groups: 1, "
            f"width_per_group: {groups * d} (`archprobe check depth2` shows both)",
            where,
        )


@register_check(
    "RX002",
    "warning",
    "bottleneck width per group below 4",
    "ResNeXt §5.1, Table 3",
)
def narrow_groups(spec: ArchSpec, graph: Graph, results: Results) -> Iterator[Hit]:
    """Fewer than 4 channels per group in a bottleneck's grouped 3×3 (ResNeXt Table 3).

    The paper's cardinality ablation saturates as d shrinks (32×4d 22.2%, ...) and it adopts
    "a bottleneck width no smaller than 4d". The width per group is read from the graph.
    """
    for i, stage in enumerate(spec.stages):
        if stage.block.type != "bottleneck" or getattr(stage.block, "groups", 1) == 1:
            continue
        conv = _first_conv(graph, i, grouped=True)
        per_group = conv.cin // conv.groups
        if per_group >= MIN_WIDTH_PER_GROUP:
            continue
        planes = stage.width // getattr(stage.block, "expansion", 4)
        d_min = -(-MIN_WIDTH_PER_GROUP * 64 // planes)
        yield Hit(
            f"{stage_name(graph, i)}: the grouped 3×3 has C={conv.groups} groups of "
            f"{per_group} channel{'s' if per_group > 1 else ''} (below {MIN_WIDTH_PER_GROUP}d, "
            "where ResNeXt's accuracy saturates); raise width_per_group to at least "
            f"{d_min} ({MIN_WIDTH_PER_GROUP} channels per group here) or lower groups",
            stage_where(spec, i, ("width_per_group", "groups")),
        )

"""SH checks: feature-map sizes and widths across stages (ResNet §3.3, ResNeXt §3.1)."""

from __future__ import annotations

from collections.abc import Iterator

from archprobe.analysis.results import Results
from archprobe.checks.finding import Hit
from archprobe.checks.registry import register_check
from archprobe.checks.where import (
    depthwise_stage,
    stage_macs,
    stage_name,
    stage_output,
    stage_where,
)
from archprobe.graph.nodes import Graph
from archprobe.graph.ops import Conv
from archprobe.spec.generators import GENERATORS
from archprobe.spec.schema import ArchSpec


def _generated_widths(spec: ArchSpec) -> bool:
    """The stage table was written by a stage generator (``regnet:``): its widths follow that
    design's own rule, not the template's doubling (RegNet §3.3 quantizes a linear ramp, and §4
    finds the best models at wm ≈ 2.5 rather than 2)."""
    smap = spec.source
    if not smap or ("stages",) not in smap:
        return False
    return any(smap.get((key,)) == smap[("stages",)] for key in GENERATORS)


def _depthwise_network(graph: Graph) -> bool:
    """The template rules are the ResNet/ResNeXt template's; depthwise-separable networks
    (MobileNetV2/V3, MNASNet, EfficientNet) choose their widths otherwise, in every stage:
    EfficientNetV2's dense Fused-MBConv stages come from the same searched table (Tan & Le 2021
    Table 4) as its depthwise ones."""
    return any(depthwise_stage(graph, j) for j in range(len(graph.sections) - 2))


def _block_macs(graph: Graph, results: Results, spec: ArchSpec, i: int) -> float:
    return stage_macs(graph, results, i) / spec.stages[i].depth


@register_check(
    "SH001",
    "warning",
    "width does not double when the resolution halves",
    "ResNeXt §3.1 rule (ii); ResNet §3.3",
)
def width_not_doubling(spec: ArchSpec, graph: Graph, results: Results) -> Iterator[Hit]:
    """Template rule (ii): "each time when the spatial map is downsampled by a factor of 2, the
    width of the blocks is multiplied by a factor of 2", so the cost per block stays about equal
    (ResNeXt §3.1; the same rule for plain nets in ResNet §3.3)."""
    if _generated_widths(spec) or _depthwise_network(graph):
        return
    for i in range(1, len(spec.stages)):
        if spec.stages[i].stride == 1:
            continue
        (c0, h0, _), (c1, h1, _) = stage_output(graph, i - 1), stage_output(graph, i)
        if c1 == 2 * c0:
            continue
        ratio = _block_macs(graph, results, spec, i) / _block_macs(graph, results, spec, i - 1)
        yield Hit(
            f"{stage_name(graph, i)}: the resolution halves ({h0}×{h0} → {h1}×{h1}) but the "
            f"width goes {c0} → {c1}, not {2 * c0}; the template doubles the width at each "
            f"downsampling so every block costs about the same (here a block costs {ratio:.2f}× "
            f"one of {stage_name(graph, i - 1)})",
            stage_where(spec, i, ("width",)),
        )


@register_check(
    "SH002",
    "error",
    "feature map reaches 1×1 before the last stage",
    "ResNet Table 1; conv arithmetic",
)
def collapsed_map(spec: ArchSpec, graph: Graph, results: Results) -> Iterator[Hit]:
    """A stage before the last outputs 1×1: every later k×k conv (k > 1) sees one pixel inside
    zero padding, so all its taps but the centre multiply zeros and never train."""
    for i in range(len(spec.stages) - 1):
        _, h, w = stage_output(graph, i)
        if (h, w) != (1, 1):
            continue
        convs = [
            leaf.op
            for leaf in graph.leaves
            if isinstance(leaf.op, Conv) and leaf.op.kernel > 1 and leaf.in_shape[1:] == (1, 1)
        ]
        total = sum(c.cout * (c.cin // c.groups) * c.kernel**2 for c in convs)
        dead = sum(c.cout * (c.cin // c.groups) * (c.kernel**2 - 1) for c in convs)
        waste = (
            f"; the k×k convs after it see one pixel in zero padding, so {dead:,} of their "
            f"{total:,} weights ({dead / total:.0%}) only ever multiply zeros"
            if total
            else ""
        )
        size = spec.input.size
        yield Hit(
            f"{stage_name(graph, i)} outputs 1×1 (input {size}×{size}) before the last stage"
            f"{waste}; raise input.size or remove a stride-2 stage",
            stage_where(spec, i, extra=[("input", "size")]),
        )
        return


@register_check(
    "SH003",
    "info",
    "width changes while the resolution stays",
    "ResNeXt §3.1 rule (i); ResNet §3.3",
)
def width_change_same_size(spec: ArchSpec, graph: Graph, results: Results) -> Iterator[Hit]:
    """Template rule (i): "if producing spatial maps of the same size, the blocks share the same
    hyper-parameters (width and filter sizes)" (ResNeXt §3.1)."""
    if _depthwise_network(graph):
        return
    for i in range(1, len(spec.stages)):
        (c0, _, _), (c1, h1, _) = stage_output(graph, i - 1), stage_output(graph, i)
        if spec.stages[i].stride == 1 and c1 != c0:
            yield Hit(
                f"{stage_name(graph, i)}: the width changes {c0} → {c1} at the same resolution "
                f"({h1}×{h1}); the template keeps one width per map size, so this is one stage "
                "split in two",
                stage_where(spec, i, ("width",)),
            )

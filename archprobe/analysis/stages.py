"""Per-stage summary in the shape of ResNet/ResNeXt Table 1 (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass

from archprobe.analysis.results import Results, in_scope
from archprobe.graph.nodes import Graph, Node, OpNode, Residual, Section, Seq, iter_ops
from archprobe.graph.ops import Conv


@dataclass(frozen=True)
class StageRow:
    """One row of a stage table; metric values are per sample."""

    label: str  # conv1, conv2, ..., head
    scopes: tuple[str, ...]  # top-level module names in this section
    output: str  # e.g. "56×56"
    shape: str  # e.g. "[1×1, 128; 3×3, 128, C=32; 1×1, 256] ×3"
    values: dict[str, float]


def _block_shape(block: Node) -> str:
    # kind "conv" covers composites too (SE, split attention, Res2Net splits): their MACs are convs'
    body = block.body if isinstance(block, Residual) else (block,)
    convs = [op.label() for n in body for op in iter_ops(n) if op.kind == "conv"]
    return "[" + "; ".join(convs) + "]"


def _stem_convs(node: Node) -> list[str]:
    """``7×7, 64, stride 2``; a deep stem (ResNet-C) lists each of its convs."""
    return [
        op.label() + (f", stride {op.stride}" if op.stride > 1 else "")
        for op in iter_ops(node)
        if isinstance(op, Conv)
    ]


def describe(section: Section) -> str:
    """A Table-1 style description of a section's layers."""
    parts: list[str] = []
    for node in section.nodes:
        if isinstance(node, Seq) and node.name.startswith("layer"):
            parts.append(f"{_block_shape(node.children[-1])} ×{len(node.children)}")
        elif isinstance(node, Seq) or (isinstance(node, OpNode) and isinstance(node.op, Conv)):
            parts += _stem_convs(node)
        elif isinstance(node, OpNode) and node.op.kind in ("pool", "linear"):
            parts.append(node.op.label())
    return "; ".join(parts)


def stage_rows(graph: Graph, results: Results, metrics: tuple[str, ...]) -> list[StageRow]:
    """One row per section (stem, each stage, head) with the totals of ``metrics``."""
    rows = []
    for section in graph.sections:
        scopes = tuple(n.name for n in section.nodes)
        last = [leaf for leaf in graph.leaves if any(in_scope(leaf.scope, s) for s in scopes)][-1]
        _, h, w = last.out_shape
        output = f"{h}×{w}" if (h, w) != (1, 1) else "1×1"
        values = {m: sum(results.total(m, s, graph.name) for s in scopes) for m in metrics}
        rows.append(StageRow(section.label, scopes, output, describe(section), values))
    return rows

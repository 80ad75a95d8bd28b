"""Per-stage summary in the shape of ResNet/ResNeXt Table 1 (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass

from archprobe.analysis.results import Results, in_scope
from archprobe.graph.nodes import (
    Gate,
    Graph,
    Node,
    OpNode,
    Residual,
    Section,
    Seq,
    Split,
    children,
    iter_ops,
)
from archprobe.graph.ops import Conv


@dataclass(frozen=True)
class StageRow:
    """One row of a stage table; metric values are per sample."""

    label: str  # conv1, conv2, ..., head
    scopes: tuple[str, ...]  # top-level module names in this section
    output: str  # e.g. "56×56"
    shape: str  # e.g. "[1×1, 128; 3×3, 128, C=32; 1×1, 256] ×3"
    values: dict[str, float]


def _conv_labels(node: Node) -> list[str]:
    """The convs under ``node`` in the papers' notation; a composite that names itself (SE, split
    attention, Res2Net's splits) is one entry, as in the papers' tables."""
    if isinstance(node, Gate | Split) and node.label:
        return [node.label]
    if isinstance(node, OpNode):
        return [node.op.label()] if node.op.kind == "conv" else []
    return [label for child in children(node) for label in _conv_labels(child)]


def _block_shape(block: Node) -> str:
    body = block.body if isinstance(block, Residual) else (block,)  # the branch, no shortcut
    return "[" + "; ".join(label for n in body for label in _conv_labels(n)) + "]"


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
    # A stage: what precedes its blocks (the stem's pool, a transition), then block × depth,
    # whatever the module layout.
    nodes = section.nodes if section.block is None else section.nodes[: section.lead]
    for node in nodes:
        if isinstance(node, Seq) or (isinstance(node, OpNode) and isinstance(node.op, Conv)):
            parts += _stem_convs(node)
        elif isinstance(node, OpNode) and node.op.kind in ("pool", "linear"):
            parts.append(node.op.label())
    if section.block is not None:
        parts.append(f"{_block_shape(section.block)} ×{section.depth}")
    return "; ".join(parts)


def stage_rows(graph: Graph, results: Results, metrics: tuple[str, ...]) -> list[StageRow]:
    """One row per section (stem, each stage, head) with the totals of ``metrics``."""
    rows = []
    for section in graph.sections:
        if not section.nodes:  # no stem (VGG): no row
            continue
        scopes = section.scopes
        last = [leaf for leaf in graph.leaves if any(in_scope(leaf.scope, s) for s in scopes)][-1]
        _, h, w = last.out_shape
        output = f"{h}×{w}" if (h, w) != (1, 1) else "1×1"
        values = {m: sum(results.total(m, s, graph.name) for s in scopes) for m in metrics}
        rows.append(StageRow(section.label, scopes, output, describe(section), values))
    return rows

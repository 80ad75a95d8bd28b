"""Per-stage summary in the shape of ResNet/ResNeXt Table 1 (torch-free)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from archprobe.analysis.results import Results
from archprobe.graph.facts import Leaf
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
    if isinstance(node, OpNode):  # a block's linears are its channels-last 1×1s (ConvNeXt)
        return [node.op.label()] if node.op.kind in ("conv", "linear") else []
    return [label for child in children(node) for label in _conv_labels(child)]


def _block_shape(block: Node) -> str:
    body = block.body if isinstance(block, Residual) else (block,)  # the branch, no shortcut
    return "[" + "; ".join(label for n in body for label in _conv_labels(n)) + "]"


def _stem_convs(node: Node) -> list[str]:
    """``7×7, 64, stride 2``; a deep stem (ResNet-C) lists each of its convs, a classifier
    sequence its fc layers (VGG, MobileNetV3, ConvNeXt)."""
    return [
        op.label() + (f", stride {op.stride}" if isinstance(op, Conv) and op.stride > 1 else "")
        for op in iter_ops(node)
        if op.kind in ("conv", "linear")
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


def _section_index(graph: Graph) -> dict[str, int]:
    """Each section's module paths (``layer2``, ``features.3``) -> the section's index."""
    return {scope: i for i, s in enumerate(graph.sections) for scope in s.scopes}


def _owner(scope: str, index: dict[str, int]) -> int | None:
    """The section of a leaf's scope: its longest dotted prefix that is a section's module."""
    while True:
        if scope in index:
            return index[scope]
        if "." not in scope:
            return None
        scope = scope.rsplit(".", 1)[0]


def stage_rows(graph: Graph, results: Results, metrics: tuple[str, ...]) -> list[StageRow]:
    """One row per section (stem, each stage, head) with the totals of ``metrics``.

    One pass over the leaves and one over the results, whatever the number of sections (a
    scan per section made 800 stages cost 13× 200 stages, issue 18).
    """
    index = _section_index(graph)
    last: dict[int, Leaf] = {}
    for leaf in graph.leaves:
        i = _owner(leaf.scope, index)
        if i is not None:
            last[i] = leaf
    totals: dict[int, dict[str, float]] = {}
    for e in results.entries:
        i = _owner(e.scope, index) if e.model == graph.name else None
        if i is not None:
            row = totals.setdefault(i, dict.fromkeys(metrics, 0))
            for m in metrics:
                row[m] += e.values.get(m, 0)
    rows = []
    for i, section in enumerate(graph.sections):
        if not section.nodes:  # no stem (VGG): no row
            continue
        _, h, w = last[i].out_shape
        output = f"{h}×{w}" if (h, w) != (1, 1) else "1×1"
        values = totals.get(i, dict.fromkeys(metrics, 0))
        rows.append(StageRow(section.label, section.scopes, output, describe(section), values))
    return rows


def _merged(a: StageRow, b: StageRow) -> StageRow:
    """Two consecutive stages at one resolution as one row (``conv2–conv3``)."""
    label = f"{a.label.split('–')[0]}–{b.label}"
    values = {m: a.values[m] + b.values[m] for m in a.values}
    return StageRow(label, a.scopes + b.scopes, b.output, f"{a.shape}; {b.shape}", values)


def _stride_key(graph: Graph, row: StageRow) -> str:
    """``1/4``: the row's output stride, input size over output size rounded to a power of two,
    so a 300² EfficientNet-B3's 75×75 stage meets a 224² ResNet's 56×56 one."""
    if row.output == "1×1":
        return "head"
    ratio = graph.input_shape[1] / int(row.output.split("×")[0])
    return f"1/{2 ** round(math.log2(ratio))}"


def _by_stride(graph: Graph, rows: list[StageRow]) -> dict[str, StageRow]:
    out: dict[str, StageRow] = {}
    for r in rows:
        key = "head" if r is rows[-1] else _stride_key(graph, r)
        out[key] = _merged(out[key], r) if key in out else r
    return out


def _order(key: str) -> int:
    return 1 << 30 if key == "head" else int(key.split("/")[1])


def aligned_stages(
    models: Sequence[tuple[Graph, Results]], metrics: tuple[str, ...]
) -> list[dict[str, StageRow]]:
    """Each model's stage rows under shared row keys, in display order.

    Models whose stages agree (same labels at the same resolutions: ResNet vs ResNeXt) align by
    stage label, as ResNeXt Table 1. Otherwise (ResNet vs MobileNet vs ConvNeXt: other stage
    counts, other stems, other input sizes) they align by output stride (``1/4`` = a quarter of
    the input's side), the one thing every ImageNet network shares: the stages of a model that
    end at one stride are summed into one row, labelled with that model's own stage names, and
    rows run from the largest map to the head.
    """
    per = [stage_rows(g, r, metrics) for g, r in models]
    shapes = {tuple((r.label, r.output) for r in rows) for rows in per}
    if len(shapes) == 1:
        return [{r.label: r for r in rows} for rows in per]
    grouped = [_by_stride(g, rows) for (g, _), rows in zip(models, per, strict=True)]
    keys = sorted({k for g in grouped for k in g}, key=_order)
    return [{k: g[k] for k in keys if k in g} for g in grouped]


def row_keys(aligned: Sequence[dict[str, StageRow]]) -> list[str]:
    """The row keys of :func:`aligned_stages` in display order."""
    keys = list(dict.fromkeys(k for rows in aligned for k in rows))
    if any(k != r.label for rows in aligned for k, r in rows.items()):
        keys.sort(key=_order)
    return keys

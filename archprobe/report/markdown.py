"""Markdown tables of a comparison's analytic parts: stages, totals, the paper line.

The assembly (``report/assemble.py``) gives each of these to its section; measured parts have
no Markdown of their own (the report writes their terminal text in a fenced block).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from archprobe.analysis.analytic import Analysis
from archprobe.analysis.paper import PaperCheck
from archprobe.analysis.stages import aligned_stages, row_keys
from archprobe.units import binary_bytes, si, signed_percent

TOTALS = (
    ("params", "params"),
    ("macs", "MACs"),
    ("acts", "activations (elements)"),
    ("bytes_read", "bytes read (fp32)"),
    ("bytes_written", "bytes written (fp32)"),
)


Cell = str | tuple[str, ...]
"""A table cell: text, or its lines (joined by ``<br>``, the one HTML the exports write)."""


def md_text(text: object) -> str:
    """User text made literal for Markdown: HTML's ``& < >`` as entities (a renderer would
    otherwise run ``<script>`` or swallow ``<tag>``), ``|`` escaped (a table cell's end),
    line breaks as spaces (a table row is one line)."""
    out = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(out.replace("|", "\\|").splitlines())


def md_code(text: object) -> str:
    """``text`` as an inline code span that no backtick inside it can close (CommonMark:
    the fence is one backtick longer than the longest run inside)."""
    body = " ".join(str(text).splitlines())
    fence = "`" * (max(map(len, re.findall("`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def md_fenced(lines: Sequence[str], info: str = "text") -> list[str]:
    """A fenced code block that no line of ``lines`` can close (its fence is longer)."""
    runs = [len(r) for line in lines for r in re.findall("`{3,}", line)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return [f"{fence}{info}", *lines, fence]


def md_table(header: Sequence[Cell], rows: Sequence[Sequence[Cell]]) -> list[str]:
    """A Markdown table; every cell's text goes through :func:`md_text`."""

    def cell(c: Cell) -> str:
        return "<br>".join(map(md_text, c)) if isinstance(c, tuple) else md_text(c)

    def line(cells: Sequence[Cell]) -> str:
        return "| " + " | ".join(map(cell, cells)) + " |"

    return [line(header), "| " + " | ".join(["---"] * len(header)) + " |", *map(line, rows)]


def stages_markdown(models: Sequence[Analysis]) -> list[str]:
    """Stage-aligned shapes, params and MACs, one column per model."""
    aligned = aligned_stages([(m.graph, m.results) for m in models], ("params", "macs"))
    rows = []
    for key in row_keys(aligned):
        cells: list[Cell] = [key]
        for rows_of in aligned:
            r = rows_of.get(key)
            own = f"{r.label} " if r is not None and r.label != key else ""
            cells.append(
                "—"
                if r is None
                else (f"{own}{r.output}: {r.shape}",
                      f"{si(r.values['params'])} params, {si(r.values['macs'], 'MAC')}")
            )  # fmt: skip
        rows.append(cells)
    return ["## Stages", "", *md_table(["stage", *(m.name for m in models)], rows), ""]


def totals_markdown(models: Sequence[Analysis]) -> list[str]:
    """Whole-model totals, each with its change against the first model."""
    base = models[0]
    rows = []
    for metric, label in TOTALS:
        cells: list[Cell] = [label]
        ref = base.results.total(metric)
        for m in models:
            v = m.results.total(metric)
            text = binary_bytes(v) if metric.startswith("bytes") else f"{v:,.0f}"
            cells.append(text if m is base else f"{text} ({signed_percent(v, ref)})")
        rows.append(cells)
    header = ["metric", *(m.name for m in models)]
    return ["## Totals (per image)", "", *md_table(header, rows), ""]


def paper_markdown(checks: Sequence[PaperCheck]) -> list[str]:
    """The papers' printed figures beside the exact counts ([] when no model has any)."""
    if not checks:
        return []
    rows = [
        [
            c.model,
            c.source,
            c.metric,
            c.printed,
            f"{c.exact:,.0f}" + (" (w/o BN)" if c.convention == "without_bn" else ""),
            c.agreement or "DIFFERS",
        ]
        for c in checks
    ]
    header = ["model", "source", "metric", "printed", "exact", "agrees"]
    return ["## Paper vs exact", "", *md_table(header, rows), ""]

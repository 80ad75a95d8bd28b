"""Markdown tables of a comparison's analytic parts: stages, totals, the paper line.

The assembly (``report/assemble.py``) gives each of these to its section; measured parts have
no Markdown of their own (the report writes their terminal text in a fenced block).
"""

from __future__ import annotations

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


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table; ``|`` in a cell is escaped."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in rows)]


def stages_markdown(models: Sequence[Analysis]) -> list[str]:
    """Stage-aligned shapes, params and MACs, one column per model."""
    aligned = aligned_stages([(m.graph, m.results) for m in models], ("params", "macs"))
    rows = []
    for key in row_keys(aligned):
        cells = [key]
        for rows_of in aligned:
            r = rows_of.get(key)
            own = f"{r.label} " if r is not None and r.label != key else ""
            cells.append(
                "—"
                if r is None
                else f"{own}{r.output}: {r.shape}<br>{si(r.values['params'])} params, "
                f"{si(r.values['macs'], 'MAC')}"
            )
        rows.append(cells)
    return ["## Stages", "", *md_table(["stage", *(m.name for m in models)], rows), ""]


def totals_markdown(models: Sequence[Analysis]) -> list[str]:
    """Whole-model totals, each with its change against the first model."""
    base = models[0]
    rows = []
    for metric, label in TOTALS:
        cells = [label]
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

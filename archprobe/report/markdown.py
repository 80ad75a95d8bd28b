"""Markdown tables of a comparison's analytic parts: stages, totals, the paper line.

The assembly (``report/assemble.py``) gives each of these to its section; measured parts have
no Markdown of their own (the report writes their terminal text in a fenced block).
"""

from __future__ import annotations

from collections.abc import Sequence

from archprobe.analysis.analytic import Analysis
from archprobe.analysis.paper import PaperCheck
from archprobe.analysis.stages import stage_rows
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
    per_model = {
        m.name: {r.label: r for r in stage_rows(m.graph, m.results, ("params", "macs"))}
        for m in models
    }
    labels = list(dict.fromkeys(label for rows in per_model.values() for label in rows))
    rows = []
    for label in labels:
        cells = [label]
        for rows_of in per_model.values():
            r = rows_of.get(label)
            cells.append(
                "—"
                if r is None
                else f"{r.output}: {r.shape}<br>{si(r.values['params'])} params, "
                f"{si(r.values['macs'], 'MAC')}"
            )
        rows.append(cells)
    return ["## Stages", "", *md_table(["stage", *per_model], rows), ""]


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

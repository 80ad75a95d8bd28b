"""The tables of the notebook views (``notebook.py``): compact, exact, escaped; no plotly.

Counts are printed exact (``25,557,032``), as the totals table prints them, because a notebook
user copies them. A comparison's tables are its report sections' own terminal tables
(:func:`~archprobe.report.html.sections.tables_of`), so a notebook and the report never disagree.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from archprobe.analysis.compare import Comparison
from archprobe.analysis.results import Results
from archprobe.checks import SpecCheck
from archprobe.report.assemble import assemble
from archprobe.report.html.page import esc, simple_table
from archprobe.report.html.sections import tables_of

if TYPE_CHECKING:
    from archprobe.sweep.analysis import SweepFrame

PER_IMAGE = {
    "params": "params",
    "buffers": "buffers",
    "macs": "MACs",
    "acts": "activations",
    "bytes_read": "bytes read",
    "bytes_written": "bytes written",
    "flops": "FLOPs (2×MAC)",
    "flops_bwd": "backward FLOPs (2×MAC)",
    "elem_ops": "elementwise ops",
}
"""The additive per-image counts a Results view totals, in column order, with their labels."""
SWEEP_ROWS = 12
"""Configs listed in a sweep frame's view (``.frame`` holds them all)."""


def exact(value: Any) -> str:
    """A count with thousands separators; a non-integer with 4 significant digits; NaN as —."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"
    return str(value)


def _note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def results_html(r: Results) -> str:
    """Per-image totals per model, then per top-level scope (collapsed); rows measured or at a
    batch (memory, latency, roofline, counters: those with settings) are counted, not summed."""
    counts = Results(e for e in r.entries if not e.env)
    metrics = [m for m in PER_IMAGE if any(e.values.get(m) for e in counts.entries)]
    rows = [[m, *(exact(counts.total(k, model=m)) for k in metrics)] for m in counts.models]
    right = set(range(1, len(metrics) + 1))
    header = ["model", *(PER_IMAGE[k] for k in metrics)]
    parts = [simple_table(header, rows, right)] if metrics else []
    shown = [k for k in ("params", "macs") if k in metrics]
    scoped = [
        [model, scope, *(exact(counts.by_scope(k, model=model).get(scope, 0)) for k in shown)]
        for model in counts.models
        for scope in counts.by_scope("params" if shown else "macs", model=model)
    ]  # fmt: skip
    if scoped and shown:
        header = ["model", "scope", *(PER_IMAGE[k] for k in shown)]
        table = simple_table(header, scoped, set(range(2, 2 + len(shown))))
        parts.append(f"<details><summary>per scope</summary>{table}</details>")
    others = len(r.entries) - len(counts.entries)
    if others:  # per batch, device or counter: a sum over them would mean nothing
        text = f"+ {others:,} entries of memory, latency, roofline or counters (per batch, "
        parts.append(_note(text + "device or counter), not summed; .to_frame() has all."))
    parts.append(_note("per image; MACs = multiply-accumulates (the papers' 'FLOPs')"))
    return "".join(parts)


def comparison_tables(c: Comparison) -> list[str]:
    """The report's totals table (with deltas), or the profiles' aligned tables; the
    latency table when measured; a note naming the parts only the full report shows."""
    report = assemble(c)
    keys = ("totals", "latency") if c.models else ("profiles", "latency")
    parts = [table for key in keys for table in tables_of(report, key)]
    hidden = [p for p in c.parts()[1:] if not p.startswith("latency")]
    more = f"Also computed: {', '.join(hidden)}. " if hidden else ""
    text = ".figure() returns the report's plots by name, .to_frame() every row; "
    parts.append(_note(f"{more}{text}`archprobe report ... --html` writes every section."))
    return parts


def check_html(sc: SpecCheck) -> str:
    """The findings, located, in file order (or that none were found)."""
    if not sc.findings:
        return f'<p class="ok">no findings ({sc.checks_run} checks ran)</p>'
    rows = [[str(f.where or "<spec>"), f.code, f.severity, f.message, f.ref] for f in sc.findings]
    table = simple_table(["where", "code", "severity", "message", "source"], rows)
    return table + _note(f"{sc.checks_run} checks ran")


def _config_rows(sf: SweepFrame, columns: list[str]) -> list[list[str]]:
    return [
        [exact(v) for v in record]
        for record in sf.frame[columns].head(SWEEP_ROWS).itertuples(index=False)
    ]


def sweep_html(sf: SweepFrame) -> str:
    """The sweep report's summary (sweeps, cost ranges, axes), then the first configs with
    their exact costs and, when measured, latencies."""
    from archprobe.report.html.page import Page
    from archprobe.report.html.sweep import summary_section

    page = Page("")
    summary_section(page, sf.frame)
    df = sf.frame
    several = len(sf.sweeps) > 1
    columns = [*(["sweep"] if several else []), "idx", *sf.axes, "params", "macs", "acts"]
    columns += [c for c in ("latency_ms", "latency_iqr_ms", "status") if c in df.columns]
    header = [{"macs": "MACs", "acts": "activations"}.get(c, c) for c in columns]
    right = {i for i, c in enumerate(columns) if c not in ("sweep", "status", *sf.axes)}
    parts = [*page.sections[0].parts, simple_table(header, _config_rows(sf, columns), right)]
    if len(df) > SWEEP_ROWS:
        parts.append(_note(f"first {SWEEP_ROWS} of {len(df):,} configs; .frame holds them all"))
    return "".join(parts)

"""Rich view of a counters reconciliation: op categories × counters, everything in MACs.

Each column header names the counter's native convention; FlopCounterMode's FLOPs are shown
halved (1 MAC = 2 FLOP) so every column reads in the same unit. A cell that differs from the
prediction of the conventions is red and shows the prediction under it. The caption
says why each counter differs from archprobe's MACs, category by category, and lists the ops
each counter ran without counting.
"""

from __future__ import annotations

from archprobe.analysis.counters.conventions import CATEGORIES, CATEGORY_LABELS
from archprobe.analysis.counters.reconcile import CounterReport, Reconciliation
from archprobe.report.terminal.render import Table, escape
from archprobe.units import si, signed_si

_ALWAYS = ("conv", "linear", "norm", "pool", "add", "act", "bias")  # the rows the issue names


def _header(r: CounterReport) -> str:
    unit = r.convention.unit
    native = "FLOP, shown ÷ 2" if r.convention.per_mac == 2 else unit
    return f"{escape(r.convention.label)}\n[dim]native: {escape(native)}[/dim]"


def _cell(r: CounterReport, cat: str) -> str:
    if not r.ok:
        return "—"
    value, predicted = r.macs.get(cat, 0.0), r.predicted.get(cat, 0.0)
    text = f"{value:,.0f}" if value else "[dim]0[/dim]"
    if r.native.get(cat, 0) != r.predicted_native.get(cat, 0):
        return f"[red]{value:,.0f}[/red]\n[dim]predicted {predicted:,.0f}[/dim]"
    return text


def _rows(rec: Reconciliation) -> list[str]:
    """The issue's categories always; "other" only where some counter has something there."""
    return [
        c
        for c in CATEGORIES
        if c in _ALWAYS or any(r.native.get(c) or r.predicted_native.get(c) for r in rec.counters)
    ]


def _check(r: CounterReport) -> str:
    if not r.ok:
        return f"[yellow]{escape(r.status)}[/yellow]"
    if r.unmodelled:
        return "[yellow]no rule: " + escape(", ".join(r.unmodelled)) + "[/yellow]"
    if r.mismatches:
        return "[red]✗ " + ", ".join(CATEGORY_LABELS[c] for c in r.mismatches) + "[/red]"
    return "[green]✓ every category[/green]"


def _native_total(r: CounterReport) -> str:
    if not r.ok:
        return "—"
    unit = "FLOP" if r.convention.per_mac == 2 else r.convention.unit
    return f"{r.native_total:,.0f} {unit}"


def _totals(t: Table, rec: Reconciliation) -> None:
    t.add_section()
    t.add_row("total (MAC)", *[f"{r.total:,.0f}" if r.ok else "—" for r in rec.counters])
    t.add_row("", *[si(r.total, "MAC") if r.ok else "—" for r in rec.counters], style="bold")
    t.add_row("native total", *[_native_total(r) for r in rec.counters])
    t.add_row("= ops' counting facts", *[_check(r) for r in rec.counters])


def _why(r: CounterReport, baseline: CounterReport | None) -> str:
    """One caption line: the convention, each category that differs from archprobe's MACs and
    why, then the ops the counter ran but did not count."""
    head = f"[bold]{escape(r.convention.label)}[/bold] ({escape(r.convention.summary)})"
    if not r.ok:
        return f"{head}: [yellow]{escape(r.message)}[/yellow]"
    parts = []
    if baseline is not None and baseline.ok and baseline is not r:
        for cat in CATEGORIES:
            delta = r.macs.get(cat, 0.0) - baseline.macs.get(cat, 0.0)
            if delta:
                note = r.notes.get(cat, "")
                parts.append(f"{CATEGORY_LABELS[cat]} {signed_si(delta, 'MAC')}: {escape(note)}")
    if r.uncounted:
        listed = ", ".join(f"{o.name} ×{o.calls}" for o in r.uncounted)
        parts.append(f"ran, not counted: {escape(listed)}")
    if r.counter != "analytic" and r.zero_notes:
        by_note: dict[str, list[str]] = {}
        for op, note in r.zero_notes.items():
            by_note.setdefault(note, []).append(op)
        rules = "; ".join(f"{', '.join(o)}: {n}" for n, o in by_note.items())
        parts.append("0 by rule: " + escape(rules))
    return head + "".join(f"\n  • {p}" for p in parts)


def reconciliation_table(rec: Reconciliation) -> Table:
    """Categories as rows, counters as columns (MACs), totals, and a "why" caption per counter."""
    batch = f"batch {rec.batch}, input {'×'.join(map(str, rec.input_shape[1:]))}"
    t = Table(title=f"{escape(rec.model)}: counters reconciled per op category ({batch}; MAC)")
    t.add_column("category", no_wrap=True)
    for r in rec.counters:
        t.add_column(_header(r), justify="right", no_wrap=True)
    for cat in _rows(rec):
        t.add_row(CATEGORY_LABELS[cat], *[_cell(r, cat) for r in rec.counters])
    _totals(t, rec)
    baseline = next((r for r in rec.counters if r.counter == "analytic"), None)
    t.caption = "\n".join(_why(r, baseline) for r in rec.counters)
    t.caption_justify = "left"
    return t

"""Rich tables for profiled modules (presentation only; the numbers come from ``profile``), and
the record of what they show (``analyze --module --json``). Module paths and names come from the
user's code, so they are escaped before they reach markup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from archprobe.report.terminal.render import Table, escape
from archprobe.units import binary_bytes, exact, si

if TYPE_CHECKING:
    from archprobe.analysis.counters.profile import Profile
    from archprobe.analysis.results import Results

SCOPE_METRICS = ("params", "macs", "acts", "elem_ops", "flops", "flops_bwd")
CATEGORY_METRICS = ("macs", "elem_ops", "flops_bwd", "elem_ops_bwd")


def _metrics(p: Profile, metrics: tuple[str, ...]) -> tuple[str, ...]:
    """``metrics`` less the backward ones when the profile did not count the backward pass."""
    return metrics if p.backward else tuple(m for m in metrics if not m.endswith("_bwd"))


_HEADERS = {
    "params": "params",
    "macs": "MACs",
    "acts": "acts",
    "elem_ops": "elem ops",
    "flops": "fwd FLOPs",
    "flops_bwd": "bwd FLOPs",
}


def scope_table(p: Profile) -> Table:
    """One row per top-level module path: params, MACs, acts, element ops, fwd/bwd FLOPs."""
    shape = "×".join(str(d) for d in p.input_shape)
    where = f"input {shape}, counted on {escape(p.device)}, whole batch"
    t = Table(title=f"{escape(p.name)}  ({where})")
    t.add_column("scope", no_wrap=True)
    metrics = _metrics(p, SCOPE_METRICS)
    for m in metrics:
        t.add_column(_HEADERS[m], justify="right", no_wrap=True)
    per = {m: p.by_scope(m) for m in metrics}
    scopes = list(dict.fromkeys(s for m in metrics for s in per[m]))
    for scope in scopes:
        cells = (si(per[m].get(scope, 0), digits=2) for m in metrics)
        t.add_row(escape(scope) or "(root)", *cells)
    t.add_section()
    t.add_row("total", *(si(p.total(m), digits=2) for m in metrics), style="bold")
    moved = p.total("bytes_read") + p.total("bytes_written")
    t.caption = (
        f"params {p.total('params'):,.0f} · MACs {p.total('macs'):,.0f} "
        f"({si(p.total('macs'), 'MACs')}, multiply-accumulates) · bytes moved {binary_bytes(moved)}"
        " · FLOPs = 2×MAC (FlopCounterMode) · elem ops = pointwise/reduction output elements"
    )
    return t


def category_table(p: Profile) -> Table:
    """Per op category: MACs, element ops and backward FLOPs (when counted); nothing is a
    silent zero."""
    t = Table(title=f"{escape(p.name)}: by op category")
    t.add_column("category", no_wrap=True)
    metrics = _metrics(p, CATEGORY_METRICS)
    for m in metrics:
        t.add_column(m, justify="right", no_wrap=True)
    per = {m: p.by_op(m) for m in metrics}
    for cat in dict.fromkeys(c for v in per.values() for c in v):
        t.add_row(escape(cat) or "(module)", *(f"{v.get(cat, 0):,.0f}" for v in per.values()))
    return t


def profile_lines(p: Profile) -> list[str]:
    """The spec match, uncounted ops and notes, one line each; first, loudly, a warning when a
    contraction (conv, matmul, attention) ran without a formula, so the MACs are too low."""
    lines = []
    if p.undercounted:
        lines.append(
            f"WARNING: MACs undercounted: {', '.join(p.undercounted)} ran without a FLOP formula, "
            "so their multiply-adds are missing from every MAC and FLOP total"
        )
    lines.append(f"matches spec: {p.match}" if p.match else "matches spec: none in the catalog")
    if p.uncounted:
        ops = ", ".join(f"{op} ×{n} ({cat})" for op, cat, n in p.uncounted)
        lines.append(f"uncounted ops: {ops}")
    else:
        lines.append("uncounted ops: none")
    lines += [f"note: {n}" for n in p.notes]
    return lines


def profile_records(p: Profile) -> dict[str, Any]:
    """What :func:`scope_table`, :func:`category_table` and :func:`profile_lines` show, with
    exact counts (whole batch)."""
    sm, cm = _metrics(p, SCOPE_METRICS), _metrics(p, CATEGORY_METRICS)
    per = {m: p.by_scope(m) for m in sm}
    scopes = list(dict.fromkeys(s for m in sm for s in per[m]))
    by_op = {m: p.by_op(m) for m in cm}
    categories = list(dict.fromkeys(c for v in by_op.values() for c in v))
    return {
        "model": p.name,
        "input_shape": list(p.input_shape),
        "device": p.device,
        "scopes": [{"scope": s, **{m: exact(per[m].get(s, 0)) for m in sm}} for s in scopes],
        "total": {m: exact(p.total(m)) for m in (*sm, "bytes_read", "bytes_written")},
        "categories": [{"category": c, **{m: exact(by_op[m].get(c, 0)) for m in cm}}
                       for c in categories],
        "match": p.match,
        "uncounted": [{"op": op, "category": cat, "calls": n} for op, cat, n in p.uncounted],
        "undercounted": list(p.undercounted),
        "notes": list(p.notes),
    }  # fmt: skip


def aligned_table(results: Results, models: Sequence[str], metric: str = "macs") -> Table:
    """Models side by side per top-level module path (stage-aligned by path prefix)."""
    t = Table(title=f"{metric} by scope (module path prefix)")
    t.add_column("scope", no_wrap=True)
    per = {m: results.by_scope(metric, model=m) for m in models}
    for m in models:
        t.add_column(escape(m), justify="right", no_wrap=True)
    scopes = list(dict.fromkeys(s for m in models for s in per[m]))
    for scope in scopes:
        t.add_row(escape(scope) or "(root)", *(si(per[m].get(scope, 0), digits=3) for m in models))
    t.add_section()
    t.add_row("total", *(f"{results.total(metric, model=m):,.0f}" for m in models), style="bold")
    return t

"""The catalog table of ``archprobe list`` and its records (``--json``), from rows that are
cached between runs (``archprobe/spec/rows.py``): a warm ``list`` loads and analyses no spec.

Names, aliases and folders come from spec files, so they are escaped before they reach markup.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from archprobe.report.terminal.render import Table, escape
from archprobe.spec import rows as cache
from archprobe.spec.catalog import CatalogEntry, list_specs
from archprobe.units import exact


@dataclass(frozen=True)
class CatalogRow:
    """What ``list`` shows of one network: its entry, input and exact analytic totals."""

    entry: CatalogEntry
    channels: int
    size: int
    params: int | float
    macs: int | float


def _computed(entry: CatalogEntry) -> dict[str, Any]:
    from archprobe.analysis.analytic import analyze_spec  # pydantic models, parts: on a miss only

    a = analyze_spec(entry.path)
    return {"channels": a.spec.input.channels, "size": a.spec.input.size,
            "params": exact(a.results.total("params")),
            "macs": exact(a.results.total("macs"))}  # fmt: skip


def catalog_rows(entries: list[CatalogEntry] | None = None) -> list[CatalogRow]:
    """One row per network of ``entries`` (default: the catalog), sorted by family (folder)
    then MACs: cached rows where nothing they depend on changed, the others analysed (and
    stored for the next run)."""
    started = time.time_ns()
    entries = list_specs() if entries is None else entries
    env = cache.environment()
    hits = cache.cached(entries, env)
    fresh = {e.path: _computed(e) for e in entries if e.path not in hits}
    if fresh:
        cache.store(fresh, env, started)
    rows = [CatalogRow(e, **{**hits, **fresh}[e.path]) for e in entries]
    rows.sort(key=lambda r: (r.entry.path.parent.name, r.macs))
    return rows


def catalog_table(rows: list[CatalogRow]) -> Table:
    """One row per catalog model: name, aliases, family (its folder), input, exact params and
    MACs (multiply-accumulates)."""
    t = Table(title="archprobe catalog (analytic, per image; MACs = multiply-accumulates)")
    t.add_column("name", no_wrap=True)
    t.add_column("aliases", overflow="fold")
    t.add_column("family", no_wrap=True)
    t.add_column("input", no_wrap=True)
    t.add_column("params", justify="right", no_wrap=True)
    t.add_column("MACs", justify="right", no_wrap=True)
    for r in rows:
        t.add_row(
            escape(r.entry.name),
            escape(", ".join(r.entry.aliases)),
            escape(r.entry.path.parent.name),
            f"{r.size}×{r.size}",
            f"{r.params:,.0f}",
            f"{r.macs:,.0f}",
        )
    return t


def catalog_records(rows: list[CatalogRow]) -> list[dict[str, Any]]:
    """What :func:`catalog_table` shows, one record per model, with exact counts."""
    return [
        {
            "name": r.entry.name,
            "aliases": list(r.entry.aliases),
            "family": r.entry.path.parent.name,
            "path": str(r.entry.path),
            "input": {"channels": r.channels, "size": r.size},
            "params": r.params,
            "macs": r.macs,
        }
        for r in rows
    ]

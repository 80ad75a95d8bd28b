"""Rich tables: per-stage tables (ResNeXt Table 1 shape), side-by-side compare;
and the records of the stage tables (``--json``: what the table shows, exactly).

Names, aliases and sources come from spec files, so they are escaped before they reach markup.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archprobe.analysis.analytic import Analysis
from archprobe.analysis.paper import PaperCheck, paper_checks
from archprobe.analysis.stages import StageRow, aligned_stages, row_keys, stage_rows
from archprobe.report.terminal.render import Table, escape
from archprobe.units import MINUS, binary_bytes, exact, si, signed_percent, signed_si

STAGE_METRICS = ("params", "macs", "acts", "bytes_read", "bytes_written")


def _fmt(metric: str, value: float) -> str:
    if metric in ("bytes_read", "bytes_written", "bytes", "weight_bytes"):
        return binary_bytes(value)
    return si(value)


def _bytes(row: StageRow) -> float:
    return row.values["bytes_read"] + row.values["bytes_written"]


def stage_table(a: Analysis) -> Table:
    """One row per stage: output size, block shape, params, MACs, activations, bytes moved."""
    size = a.spec.input.size
    t = Table(title=f"{escape(a.name)}  (input {a.spec.input.channels}×{size}×{size}, per image)")
    t.add_column("stage", no_wrap=True)
    t.add_column("layers", overflow="fold", ratio=1, min_width=16)
    for col in ("params", "MACs", "acts", "bytes"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in stage_rows(a.graph, a.results, STAGE_METRICS):
        v = r.values
        t.add_row(
            f"{r.label}\n[dim]{r.output}[/dim]",
            escape(r.shape),
            si(v["params"], digits=2),
            si(v["macs"], digits=2),
            si(v["acts"], digits=2),
            binary_bytes(_bytes(r)),
        )
    res = a.results
    moved = res.total("bytes_read") + res.total("bytes_written")
    t.add_section()
    t.add_row(
        "total",
        "",
        si(res.total("params"), digits=2),
        si(res.total("macs"), digits=2),
        si(res.total("acts"), digits=2),
        binary_bytes(moved),
        style="bold",
    )
    t.caption = (
        f"params {res.total('params'):,.0f} · "
        f"MACs {res.total('macs'):,.0f} (multiply-accumulates) · "
        "acts = conv/fc output elements · bytes = fp32 reads + writes of every op"
    )
    return t


def _stage_cell(r: StageRow | None, key: str) -> str:
    if r is None:
        return "—"
    v = r.values
    own = f"[bold]{escape(r.label)}[/bold]: " if r.label != key else ""  # aligned by resolution
    shape = f"{own}{escape(r.shape)}"
    return f"{shape}\n[dim]{si(v['params'])} params · {si(v['macs'], 'MAC')}[/dim]"


def compare_table(models: list[Analysis]) -> Table:
    """Stage-aligned side-by-side table in the layout of ResNeXt Table 1, one column per model;
    models whose stages differ share rows by output resolution (``aligned_stages``)."""
    per_model = aligned_stages([(m.graph, m.results) for m in models], STAGE_METRICS)
    keys = row_keys(per_model)
    by_stage = all(r.label == k for rows in per_model for k, r in rows.items())
    how = "stage-aligned comparison" if by_stage else "comparison aligned by output stride"
    t = Table(title=f"{how} (per image; MAC = multiply-accumulate)", show_lines=True)
    t.add_column("stage" if by_stage else "stride", no_wrap=True)
    t.add_column("output", no_wrap=True)
    for m in models:
        t.add_column(escape(m.name), overflow="fold", ratio=1)
    for key in keys:
        outputs = list(dict.fromkeys(rows[key].output for rows in per_model if key in rows))
        cells = [_stage_cell(rows.get(key), key) for rows in per_model]
        t.add_row(escape(key), " / ".join(outputs), *cells)
    return t


def _delta(metric: str, delta: float, unit: str) -> str:
    if unit == "B":
        return ("+" if delta >= 0 else MINUS) + binary_bytes(abs(delta))
    return signed_si(delta, unit)


def totals_table(models: list[Analysis]) -> Table:
    """Whole-model totals, with absolute and relative deltas against the first model."""
    base = models[0]
    t = Table(title=f"totals (Δ relative to {escape(base.name)})")
    t.add_column("metric", no_wrap=True)
    for m in models:
        t.add_column(escape(m.name), justify="right", no_wrap=True)
    for m in models[1:]:
        t.add_column(f"Δ {escape(m.name)}", justify="right", no_wrap=True)
    metrics = [
        ("params", "params", ""),
        ("macs", "MACs", "MAC"),
        ("acts", "activations", ""),
        ("bytes_read", "bytes read", "B"),
        ("bytes_written", "bytes written", "B"),
    ]
    for metric, label, unit in metrics:
        values = [m.results.total(metric) for m in models]
        exact = [f"{v:,.0f}" if metric in ("params", "macs") else _fmt(metric, v) for v in values]
        deltas = [
            f"{_delta(metric, v - values[0], unit)} ({signed_percent(v, values[0])})"
            for v in values[1:]
        ]
        t.add_row(label, *exact, *deltas)
    return t


def _paper_cell(check: PaperCheck | None) -> str:
    if check is None:
        return "—"
    exact = f"{check.exact:,.0f}" if check.metric == "params" else si(check.exact)
    if check.convention == "without_bn":
        exact += " w/o BN"
    verdict = f"✓ {check.agreement}" if check.agreement else "[red]✗ differs[/red]"
    return f"{escape(check.printed)}\n[dim]exact {exact}[/dim] {verdict}"


def paper_table(models: list[Analysis]) -> Table | None:
    """Published figures beside the exact counts in the same convention (None if none)."""
    t = Table(title="paper vs exact (MACs = the papers' multiply-add 'FLOPs')", show_lines=True)
    t.add_column("model", no_wrap=True)
    t.add_column("source", overflow="fold")
    for col in ("params", "MACs"):  # a number and its verdict: wraps between words only
        t.add_column(col, justify="right", overflow="fold")
    for m in models:
        by_source: dict[str, dict[str, PaperCheck]] = {}
        for c in paper_checks(m):
            by_source.setdefault(c.source, {})[c.metric] = c
        for source, checks in by_source.items():
            t.add_row(
                escape(m.name),
                escape(source),
                _paper_cell(checks.get("params")),
                _paper_cell(checks.get("macs")),
            )
    t.caption = (
        "w/o BN = conv and fc weights only: the convention that reproduces the ResNeXt paper's "
        "25.5M/25.0M; torchvision counts BN γ/β too."
    )
    return t if t.row_count else None


def stage_records(a: Analysis) -> dict[str, Any]:
    """What :func:`stage_table` shows: each stage's output, layers and exact costs, and the
    totals (``bytes`` of the table = ``bytes_read`` + ``bytes_written``)."""
    stages = [
        {"stage": r.label, "output": r.output, "layers": r.shape,
         **{m: exact(r.values[m]) for m in STAGE_METRICS}}
        for r in stage_rows(a.graph, a.results, STAGE_METRICS)
    ]  # fmt: skip
    return {
        "model": a.name,
        "input": {"channels": a.spec.input.channels, "size": a.spec.input.size},
        "stages": stages,
        "total": {m: exact(a.results.total(m)) for m in STAGE_METRICS},
    }


def trait_records() -> list[dict[str, Any]]:
    """Each trait of the catalog: its name, file and the key paths it sets."""
    from archprobe.spec.catalog import list_traits
    from archprobe.spec.loader import load_trait

    return [
        {"trait": e.name, "path": _shown_path(e.path), "sets": load_trait(e.path)}
        for e in list_traits()
    ]


def traits_table(records: list[dict[str, Any]]) -> Table:
    """What :func:`trait_records` holds, one row per trait."""
    t = Table(title="archprobe traits: mix in with `extends: [base, trait]`")
    for column in ("trait", "file", "sets"):
        t.add_column(column, no_wrap=column != "sets")
    for r in records:
        sets = ", ".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}"
                         for k, v in r["sets"].items())  # fmt: skip
        t.add_row(escape(r["trait"]), escape(r["path"]), escape(sets))
    return t


def _shown_path(path: Path) -> str:
    """A path relative to the working directory when under it, else as given."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)

"""Rich tables: the catalog, per-stage tables (ResNeXt Table 1 shape), side-by-side compare."""

from __future__ import annotations

from rich.table import Table

from archprobe.analysis.analytic import Analysis
from archprobe.analysis.paper import PaperCheck, paper_checks
from archprobe.analysis.stages import StageRow, stage_rows
from archprobe.spec.catalog import CatalogEntry
from archprobe.units import binary_bytes, si, signed_percent, signed_si

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
    t = Table(title=f"{a.name}  (input {a.spec.input.channels}×{size}×{size}, per image)")
    t.add_column("stage", no_wrap=True)
    t.add_column("layers", overflow="fold", ratio=1, min_width=16)
    for col in ("params", "MACs", "acts", "bytes"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in stage_rows(a.graph, a.results, STAGE_METRICS):
        v = r.values
        t.add_row(
            f"{r.label}\n[dim]{r.output}[/dim]",
            r.shape,
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


def _stage_cell(r: StageRow | None) -> str:
    if r is None:
        return "—"
    v = r.values
    return f"{r.shape}\n[dim]{si(v['params'])} params · {si(v['macs'], 'MAC')}[/dim]"


def compare_table(models: list[Analysis]) -> Table:
    """Stage-aligned side-by-side table in the layout of ResNeXt Table 1, one column per model."""
    t = Table(
        title="stage-aligned comparison (per image; MAC = multiply-accumulate)", show_lines=True
    )
    t.add_column("stage")
    t.add_column("output")
    per_model = [
        {r.label: r for r in stage_rows(m.graph, m.results, STAGE_METRICS)} for m in models
    ]
    for m in models:
        t.add_column(m.name, overflow="fold", ratio=1)
    labels = list(dict.fromkeys(label for rows in per_model for label in rows))
    for label in labels:
        outputs = list(dict.fromkeys(rows[label].output for rows in per_model if label in rows))
        t.add_row(label, " / ".join(outputs), *(_stage_cell(rows.get(label)) for rows in per_model))
    return t


def _delta(metric: str, delta: float, unit: str) -> str:
    if unit == "B":
        return ("+" if delta >= 0 else "−") + binary_bytes(abs(delta))
    return signed_si(delta, unit)


def totals_table(models: list[Analysis]) -> Table:
    """Whole-model totals, with absolute and relative deltas against the first model."""
    base = models[0]
    t = Table(title=f"totals (Δ relative to {base.name})")
    t.add_column("metric")
    for m in models:
        t.add_column(m.name, justify="right")
    for m in models[1:]:
        t.add_column(f"Δ {m.name}", justify="right")
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
    return f"{check.printed}\n[dim]exact {exact}[/dim] {verdict}"


def paper_table(models: list[Analysis]) -> Table | None:
    """Published figures beside the exact counts in the same convention (None if none)."""
    t = Table(title="paper vs exact (MACs = the papers' multiply-add 'FLOPs')", show_lines=True)
    for col in ("model", "source", "params", "MACs"):
        t.add_column(col, justify="left" if col in ("model", "source") else "right")
    for m in models:
        by_source: dict[str, dict[str, PaperCheck]] = {}
        for c in paper_checks(m):
            by_source.setdefault(c.source, {})[c.metric] = c
        for source, checks in by_source.items():
            t.add_row(
                m.name, source, _paper_cell(checks.get("params")), _paper_cell(checks.get("macs"))
            )
    t.caption = (
        "w/o BN = conv and fc weights only: the convention that reproduces the ResNeXt paper's "
        "25.5M/25.0M; torchvision counts BN γ/β too."
    )
    return t if t.row_count else None


def catalog_table(entries: list[tuple[CatalogEntry, Analysis]]) -> Table:
    t = Table(title="archprobe catalog (analytic, per image)")
    t.add_column("name", no_wrap=True)
    t.add_column("aliases")
    t.add_column("family")
    t.add_column("input", no_wrap=True)
    t.add_column("params", justify="right", no_wrap=True)
    t.add_column("MACs", justify="right", no_wrap=True)
    for entry, a in entries:
        size = a.spec.input.size
        t.add_row(
            entry.name,
            ", ".join(entry.aliases),
            entry.path.parent.name,
            f"{size}×{size}",
            si(a.results.total("params"), digits=2),
            si(a.results.total("macs"), "MAC", 2),
        )
    return t

"""``archprobe solve`` and ``archprobe sweep run|results`` (torch-free unless a sweep measures)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from archprobe.cli.common import err, out, ready, user_errors
from archprobe.units import binary_bytes, parse_positive_ints, si


def solve(
    base: Annotated[str, typer.Argument(help="Catalog name or YAML path of the base network.")],
    groups: Annotated[str, typer.Option(help="Cardinalities, comma-separated.")] = "1,2,4,8,32",
    preserve: Annotated[
        str, typer.Option(help="block-params|block-macs|stage-params|net-params|net-macs")
    ] = "block-params",
    per_stage: Annotated[
        bool, typer.Option(help="One d per stage (net-params/net-macs): lands within ~1%.")
    ] = False,
    target: Annotated[
        float | None, typer.Option(help="Target value instead of the base's (e.g. 4.1e9 MACs).")
    ] = None,
) -> None:
    """Width per group d keeping the base's cost at each cardinality C (ResNeXt Table 2).

    A single d moves a stage's group width in steps of C channels, so whole-network targets can
    miss by a few percent at large C; --per-stage gives each stage its own d.

    Example: archprobe solve resnet50 --groups 1,2,4,8,32 --preserve block-params
    Example: archprobe solve resnet50 --preserve net-macs --per-stage
    """
    from archprobe.sweep.solve import NET_TARGETS, solve_width

    if per_stage and preserve not in NET_TARGETS:
        raise typer.BadParameter(
            f"per-stage widths need a whole-network target: --preserve {'|'.join(NET_TARGETS)}",
            param_hint="--per-stage",
        )

    with user_errors():
        table = Table(title=f"{base}: preserve {preserve}")
        d_column = "d per stage" if per_stage else "d"
        for col in ("C", d_column, "group width", "block params", "block MACs", "params", "MACs"):
            table.add_column(col, justify="right")
        table.add_column(f"{preserve} vs target", justify="right")
        goal = None if target is None else round(target)
        cardinalities = parse_positive_ints(groups)
        if cardinalities is None:
            raise typer.BadParameter(f"{groups!r}; expected positive integers like 1,2,4,8,32")
        for c in cardinalities:
            s = solve_width(base, c, preserve, target=goal, per_stage=per_stage)
            d = ", ".join(map(str, s.stage_widths)) if per_stage else str(s.width_per_group)
            table.add_row(
                str(c), d, str(s.group_width), f"{s.block_params:,}", f"{s.block_macs:,}",
                f"{s.params:,}", f"{s.macs:,}",
                f"{si(s.value)} / {si(s.target)} ({s.rel_error:+.2%})",
            )  # fmt: skip
        out.print(table)


sweep_app = typer.Typer(
    help="Design-space sweeps: run a sweep file into SQLite (resumable), then read, export and "
    "plot the results.",
    no_args_is_help=True,
)
SHOWN_ROWS = 25


@sweep_app.command("run")
def run(
    path: Annotated[Path, typer.Argument(help="Sweep file (specs/sweeps/*.yaml).")],
    db: Annotated[Path | None, typer.Option(help="SQLite file (default: PATH with .db).")] = None,
    executor: Annotated[
        str, typer.Option(help="auto | inline | pool | ray (auto: pool when --workers > 1).")
    ] = "auto",
    workers: Annotated[int, typer.Option(min=1, help="Processes (pool) or CPUs (local Ray).")] = 1,
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (ray executor); none: a local Ray.")
    ] = None,
) -> None:
    """Run a sweep into SQLite; rerunning (after a crash or kill) skips the configs stored.

    Analytic sweeps never build a model; sweeps with `measure:` build and time each config.

    Example: archprobe sweep run specs/sweeps/resnext50_cardinality.yaml --db x50.db
    Example: archprobe sweep run specs/sweeps/resnext50_cardinality_latency.yaml --executor ray
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Configs per second (rich's own speed column is for bytes)."""

        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:,.1f} configs/s" if task.speed else "")

    from archprobe.sweep.run import run_sweep
    from archprobe.sweep.spec import load_sweep

    with user_errors():
        target = db or path.with_suffix(".db")
        sweep = load_sweep(path)
        if "latency" in sweep.measure and workers > 1 and executor != "ray":
            err.print(
                f"note: {workers} workers time configs at the same time on this machine, sharing "
                "its cores and GPU; use --workers 1 (or Ray nodes) for timings you will compare"
            )
        columns = (TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                   TextColumn("ETA"), TimeRemainingColumn())  # fmt: skip
        try:
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("sweep", total=None)
                summary = run_sweep(
                    sweep, target, progress=lambda d, t: bar.update(task, completed=d, total=t),
                    executor=executor, workers=workers, address=address,
                )  # fmt: skip
        except KeyboardInterrupt:  # every finished config is already committed to the store
            err.print(f"interrupted: the finished configs are in {target}; rerun to resume")
            raise typer.Exit(130) from None
        t = summary.tally
        rate = summary.done / summary.seconds if summary.seconds else 0.0
        err.print(
            f"{summary.total} configs ({summary.skipped} already stored, {summary.done} new) "
            f"from {t.drawn} draws ({t.rejected} rejected by constraints, {t.invalid} invalid, "
            f"{t.duplicates} duplicates) in {summary.seconds:.2f} s ({rate:,.0f} configs/s) "
            f"-> {target}"
        )


def _flat(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**{k: v for k, v in r.items() if k not in ("config", "measured")},
             **r["config"], **(r["measured"] or {})} for r in rows]  # fmt: skip


def _cell(key: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if key == "macs":
        return si(value, "MAC")
    if key in ("params", "acts"):
        return si(value)
    if key.endswith("_bytes"):
        return binary_bytes(value)
    if key.endswith("_s") and isinstance(value, float):
        return f"{value * 1e3:.3f} ms"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


@sweep_app.command("results")
def results(
    db: Annotated[Path, typer.Argument(help="SQLite file written by `archprobe sweep run`.")],
    csv: Annotated[Path | None, typer.Option(help="Write every row as CSV.")] = None,
    html: Annotated[
        Path | None, typer.Option(help="Write an offline HTML report: Pareto fronts, EDFs, trends.")
    ] = None,
) -> None:
    """Print a sweep database's rows (the first 25; --csv writes all), or export them.

    Example: archprobe sweep results x50.db --csv x50.csv --html x50.html
    """
    import csv as csvlib

    from archprobe.sweep.store import Store

    if not db.is_file():
        raise typer.BadParameter(f"no such database: {db}", param_hint="DB")
    store = Store(db)
    try:
        flat = _flat(store.rows())
    finally:
        store.close()
    fields = [f for f in dict.fromkeys(k for r in flat for k in r) if f not in ("key", "created")]
    if csv is not None:
        with ready(csv).open("w", newline="", encoding="utf-8") as fh:
            writer = csvlib.DictWriter(fh, fieldnames=["key", *fields, "created"])
            writer.writeheader()
            writer.writerows(flat)
    if html is not None:
        from archprobe.report.export import stamp
        from archprobe.report.html.sweep import write_sweep_html

        devices = sorted({str(r["device_name"]) for r in flat if r.get("device_name")})
        measured = any(r.get("latency_s") is not None for r in flat)
        device = ", ".join(devices) or ("not recorded" if measured else "analytic (no device)")
        write_sweep_html(db, ready(html), stamp(device))
    if csv is not None or html is not None:
        return
    table = Table(*fields, title=f"{db}: {len(flat)} configs")
    for r in flat[:SHOWN_ROWS]:
        table.add_row(*[_cell(f, r.get(f)) for f in fields])
    out.print(table)
    if len(flat) > SHOWN_ROWS:
        err.print(f"... {len(flat) - SHOWN_ROWS} more rows: --csv PATH writes them all")

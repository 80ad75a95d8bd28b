"""``archprobe solve``, ``archprobe sweep`` and ``archprobe sweep-results`` (torch-free)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from archprobe.cli_common import err, out, user_errors
from archprobe.units import parse_positive_ints, si


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


def sweep(
    path: Annotated[Path, typer.Argument(help="Sweep file (specs/sweeps/*.yaml).")],
    db: Annotated[Path | None, typer.Option(help="SQLite file (default: PATH with .db).")] = None,
    workers: Annotated[int, typer.Option(help="Processes for measured sweeps.")] = 1,
) -> None:
    """Run a sweep into SQLite; rerunning skips the configs already stored.

    Example: archprobe sweep specs/sweeps/resnext50_cardinality.yaml --db x50.db
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from archprobe.sweep.run import run_sweep

    with user_errors():
        target = db or path.with_suffix(".db")
        columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("sweep", total=None)
            summary = run_sweep(
                path, target, workers, lambda d, t: bar.update(task, completed=d, total=t)
            )
        t = summary.tally
        rate = summary.done / summary.seconds if summary.seconds else 0.0
        err.print(
            f"{summary.total} configs ({summary.skipped} already stored, {summary.done} new) "
            f"from {t.drawn} draws ({t.rejected} rejected by constraints, {t.invalid} invalid) "
            f"in {summary.seconds:.2f} s ({rate:,.0f} configs/s) -> {target}"
        )


def sweep_results(
    db: Annotated[Path, typer.Argument(help="SQLite file written by `archprobe sweep`.")],
    csv: Annotated[Path | None, typer.Option(help="Write the rows as CSV.")] = None,
) -> None:
    """Print (or write as CSV) the rows of a sweep database.

    Example: archprobe sweep-results x50.db --csv x50.csv
    """
    import csv as csvlib

    from archprobe.sweep.store import Store

    if not db.is_file():
        raise typer.BadParameter(f"no such database: {db}")
    rows = Store(db).rows()
    flat = [{**{k: v for k, v in r.items() if k not in ("config", "measured")},
             **r["config"], **(r["measured"] or {})} for r in rows]  # fmt: skip
    fields = list(dict.fromkeys(k for r in flat for k in r))
    if csv is not None:
        with csv.open("w", newline="", encoding="utf-8") as fh:
            writer = csvlib.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(flat)
        err.print(f"wrote {len(flat)} rows to {csv}")
        return
    table = Table(*[f for f in fields if f not in ("key", "created")])
    for r in flat:
        table.add_row(*[f"{r.get(f, ''):,}" if isinstance(r.get(f), int) else str(r.get(f, ""))
                        for f in fields if f not in ("key", "created")])  # fmt: skip
    out.print(table)

"""``archprobe solve`` and ``archprobe sweep run|results`` (torch-free unless a sweep measures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from archprobe.cli.boundary import BoundaryGroup, Command
from archprobe.cli.common import emit, err, ready, user_errors, wants_json
from archprobe.cli.options import (
    HELP_OPTIONS,
    AddressOpt,
    BaseArg,
    DbArg,
    DbOpt,
    ExecutorOpt,
    GroupsOpt,
    JsonOutOpt,
    PerStageOpt,
    PlainOpt,
    PreserveOpt,
    SweepCsvOpt,
    SweepFileArg,
    SweepHtmlOpt,
    TargetOpt,
    WorkersOpt,
    parse_ints,
)
from archprobe.errors import printable


def solve(
    base: BaseArg,
    groups: GroupsOpt = "1,2,4,8,32",
    preserve: PreserveOpt = "block-params",
    per_stage: PerStageOpt = False,
    target: TargetOpt = None,
    json_out: JsonOutOpt = False,
    plain: PlainOpt = False,
) -> None:
    """Width per group d keeping the base's cost at each cardinality C (ResNeXt Table 2).

    A single d moves a stage's group width in steps of C channels, so whole-network targets can
    miss by a few percent at large C; --per-stage gives each stage its own d.

    Example: archprobe solve resnet50 --groups 1,2,4,8,32 --preserve block-params
    Example: archprobe solve resnet50 --preserve net-macs --per-stage
    """
    from archprobe.report.terminal.solve import solve_records, solve_table
    from archprobe.sweep.solve import NET_TARGETS, PRESERVE, solve_width

    if preserve not in PRESERVE:
        raise typer.BadParameter(
            f"{preserve!r}; allowed: {', '.join(PRESERVE)}", param_hint="--preserve"
        )
    if per_stage and preserve not in NET_TARGETS:
        raise typer.BadParameter(
            f"per-stage widths need a whole-network target: --preserve {'|'.join(NET_TARGETS)}",
            param_hint="--per-stage",
        )
    goal = None if target is None else round(target)
    with user_errors():
        cardinalities = parse_ints(groups, "1,2,4,8,32")
        found = [solve_width(base, c, preserve, target=goal, per_stage=per_stage)
                 for c in cardinalities]  # fmt: skip
        table = lambda: [solve_table(base, preserve, found, per_stage)]  # noqa: E731
        emit(json_out, plain, table, lambda: solve_records(base, found))


sweep_app = typer.Typer(
    cls=BoundaryGroup,
    help="Design-space sweeps: run a sweep file into SQLite (resumable), then read, export and "
    "plot the results.",
    no_args_is_help=True,
    context_settings={"help_option_names": HELP_OPTIONS},
)


@sweep_app.command("run", cls=Command)
def run(
    path: SweepFileArg,
    db: DbOpt = None,
    executor: ExecutorOpt = "auto",
    workers: WorkersOpt = 1,
    address: AddressOpt = None,
) -> None:
    """Run a sweep into SQLite; rerunning (after a crash or kill) skips the configs stored.

    Analytic sweeps never build a model; sweeps with `measure:` build and time each config.

    Example: archprobe sweep run specs/sweeps/resnext50_cardinality.yaml --db x50.db
    Example: archprobe sweep run specs/sweeps/resnext50_cardinality_latency.yaml --executor ray
    """
    from archprobe.report.terminal.sweep import run_summary, shared_workers_note, sweep_progress
    from archprobe.sweep.run import run_sweep
    from archprobe.sweep.spec import load_sweep

    with user_errors():
        target = db or path.with_suffix(".db")
        sweep = load_sweep(path)
        _note_corrupt(target)
        if "latency" in sweep.measure and workers > 1 and executor != "ray":
            err.print(shared_workers_note(workers))
        try:
            with sweep_progress(err) as progress:
                summary = run_sweep(sweep, target, progress=progress, executor=executor,
                                    workers=workers, address=address)  # fmt: skip
        except KeyboardInterrupt:  # every finished config is already committed to the store
            err.print(f"interrupted: the finished configs are in {target}; rerun to resume")
            raise typer.Exit(130) from None
        err.print(run_summary(summary, target, sweep.n if sweep.mode == "random" else None))


@sweep_app.command("results", cls=Command)
def results(
    db: DbArg,
    csv: SweepCsvOpt = None,
    html: SweepHtmlOpt = None,
    json_out: JsonOutOpt = False,
    plain: PlainOpt = False,
) -> None:
    """Print a sweep database's rows (the first 25; --csv and --json give all), or export them.

    Example: archprobe sweep results x50.db --csv x50.csv --html x50.html
    """
    from archprobe.report.outputs import check_outputs
    from archprobe.report.terminal import sweep as view

    named = {k: p for k, p in (("--csv", csv), ("--html", html)) if p is not None}
    check_outputs(named, inputs=[db])  # never over the database, or one file twice
    flat = _stored_rows(db)
    if named:
        _export(db, flat, csv, html)
        return
    emit(json_out, plain, lambda: [view.results_table(db, flat)],
         lambda: view.sweep_records(db, flat))  # fmt: skip
    if len(flat) > view.SHOWN_ROWS and not wants_json(json_out, plain):
        err.print(f"... {len(flat) - view.SHOWN_ROWS} more rows: --csv PATH writes them all")


def _stored_rows(db: Path) -> list[dict[str, Any]]:
    """Every row of a sweep database, flat (``sweep.results.flat_row``)."""
    from archprobe.sweep.results import flat_row
    from archprobe.sweep.store import Store

    with Store.reader(db) as store:  # read-only; refuses a file that is not a sweep store
        rows = store.rows()
    if store.corrupt:
        err.print(printable(corrupt_note(db, store.corrupt)))
    return [flat_row(r) for r in rows]


RERUN = "left out; `archprobe sweep run` on the sweep file measures them again"


def _note_corrupt(db: Path) -> None:
    """Say that the corrupt rows of an existing store will be measured again (the store
    leaves them out of the keys it has, so the run redoes them)."""
    from archprobe.sweep.store import Store

    if db.exists():
        with Store.reader(db) as store:
            store.keys()
        if store.corrupt:
            err.print(printable(corrupt_note(db, store.corrupt, "measuring them again")))


def corrupt_note(db: Path, keys: list[str], then: str = RERUN) -> str:
    """The warning for stored rows that do not parse (left out of what is shown)."""
    shown = ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "")
    return f"{db}: {len(keys)} stored row(s) are corrupt ({shown}); {then}"


def _export(db: Path, flat: list[dict[str, Any]], csv: Path | None, html: Path | None) -> None:
    """``--csv`` and ``--html`` of ``sweep results``."""
    from archprobe.report.outputs import write_located
    from archprobe.sweep.store import StoreError

    if csv is not None:
        from archprobe.report.export import write_sweep_csv

        write_located(ready(csv), lambda path: write_sweep_csv(flat, path))
    if html is not None:
        if not flat:  # before "writing": nothing will be
            raise StoreError(f"{db}: no intact rows to report; run the sweep into it first")
        from archprobe.report.export import stamp
        from archprobe.report.html.sweep import write_sweep_html
        from archprobe.report.terminal.sweep import sweep_device

        provenance = stamp(sweep_device(flat))
        write_located(ready(html), lambda path: write_sweep_html(db, path, provenance))

"""Rich views of sweeps: the progress bar of ``sweep run``, its summary line, and the table of
stored rows of ``sweep results``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
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

from archprobe.report.terminal.render import Table, escape
from archprobe.units import binary_bytes, si

if TYPE_CHECKING:
    from archprobe.sweep.run import Progress as ProgressFn
    from archprobe.sweep.run import RunSummary

SHOWN_ROWS = 25
HIDDEN = ("key", "created")  # in the CSV, not in the terminal table


class RateColumn(ProgressColumn):
    """Configs per second (rich's own speed column is for bytes)."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.1f} configs/s" if task.speed else "")


@contextmanager
def sweep_progress(console: Console) -> Iterator[ProgressFn]:
    """A transient progress bar; yields the ``progress(done, total)`` callback of ``run_sweep``."""
    columns = (TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), RateColumn(),
               TextColumn("ETA"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("sweep", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def run_summary(summary: RunSummary, target: Path, wanted: int | None = None) -> str:
    """One line: configs stored and new, what generation rejected, time and rate, the store;
    then a warning where a random sweep found fewer than the ``wanted`` (its ``n``)."""
    t = summary.tally
    rate = summary.done / summary.seconds if summary.seconds else 0.0
    line = (
        f"{summary.total} configs ({summary.skipped} already stored, {summary.done} new) "
        f"from {t.drawn} draws ({t.rejected} rejected by constraints, {t.invalid} invalid, "
        f"{t.duplicates} duplicates) in {summary.seconds:.2f} s ({rate:,.0f} configs/s) "
        f"-> {target}"
    )
    short = short_of_n(summary, wanted)
    return line if short is None else f"{line}\n{short}"


def short_of_n(summary: RunSummary, wanted: int | None) -> str | None:
    """The warning when a random sweep stopped before ``n`` configs (its draws ran out: every
    config found, or the constraints and duplicates left too few), else None."""
    if wanted is None or summary.total >= wanted:
        return None
    t = summary.tally
    return (
        f"warning: found {summary.total:,} of the n = {wanted:,} configs asked for; stopped at "
        f"the draw limit ({t.drawn:,} draws: {t.duplicates:,} duplicates, {t.rejected:,} "
        f"rejected, {t.invalid:,} invalid), so the space under its constraints may hold no "
        "more distinct configs: lower n, or widen the axes or constraints"
    )


def shared_workers_note(workers: int) -> str:
    return (
        f"note: {workers} workers time configs at the same time on this machine, sharing "
        "its cores and GPU; use --workers 1 (or Ray nodes) for timings you will compare"
    )


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


def row_fields(flat: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every column of the flat rows, in first-seen order, without the key and time."""
    return [f for f in dict.fromkeys(k for r in flat for k in r) if f not in HIDDEN]


def results_table(db: Path, flat: Sequence[Mapping[str, Any]]) -> Table:
    """The first :data:`SHOWN_ROWS` stored rows, each value in its unit."""
    fields = row_fields(flat)
    table = Table(title=f"{escape(db)}: {len(flat)} configs")
    for f in fields:  # many columns: on a narrow terminal they fold (never cut with "…")
        table.add_column(escape(f), overflow="fold")
    for r in flat[:SHOWN_ROWS]:
        table.add_row(*[escape(_cell(f, r.get(f))) for f in fields])
    return table


def sweep_records(db: Path, flat: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Every stored row (not only the :data:`SHOWN_ROWS` the table shows), values unformatted."""
    return {"db": str(db), "configs": len(flat), "rows": [dict(r) for r in flat]}


def sweep_device(flat: Sequence[Mapping[str, Any]]) -> str:
    """The devices the rows were measured on, for a report's stamp."""
    devices = sorted({str(r["device_name"]) for r in flat if r.get("device_name")})
    measured = any(r.get("latency_s") is not None for r in flat)
    return ", ".join(devices) or ("not recorded" if measured else "analytic (no device)")

"""Rich view of width-solver solutions (``archprobe solve``): ResNeXt Table 2 and beyond, and
the records of what it shows (``--json``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archprobe.report.terminal.render import Table, escape
from archprobe.sweep.solve import Solution
from archprobe.units import si, signed

RECORD_KEYS = (
    "groups", "width_per_group", "stage_widths", "group_width", "block_params", "block_macs",
    "params", "macs", "preserve", "value", "target", "rel_error",
)  # fmt: skip


def solve_table(base: str, preserve: str, solutions: Sequence[Solution], per_stage: bool) -> Table:
    """One row per cardinality C: d (one per stage with ``per_stage``), the conv2 template's
    group width, block and network costs, and the preserved metric against its target."""
    table = Table(title=f"{escape(base)}: preserve {escape(preserve)}")
    d_column = "d per stage" if per_stage else "d"
    for col in ("C", d_column, "group width", "block params", "block MACs", "params", "MACs"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column(f"{escape(preserve)} vs target", justify="right", no_wrap=True)
    for s in solutions:
        d = ", ".join(map(str, s.stage_widths)) if per_stage else str(s.width_per_group)
        table.add_row(
            str(s.groups), d, str(s.group_width), f"{s.block_params:,}", f"{s.block_macs:,}",
            f"{s.params:,}", f"{s.macs:,}",
            f"{si(s.value)} / {si(s.target)} ({signed(s.rel_error, '.2%')})",
        )  # fmt: skip
    return table


def solve_records(base: str, solutions: Sequence[Solution]) -> dict[str, Any]:
    """What :func:`solve_table` shows, exactly: one record per cardinality."""
    rows = [{key: getattr(s, key) for key in RECORD_KEYS} for s in solutions]
    for row in rows:
        row["stage_widths"] = list(row["stage_widths"])
    return {"base": base, "solutions": rows}

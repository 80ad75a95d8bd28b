"""Rich view of width-solver solutions (``archprobe solve``): ResNeXt Table 2 and beyond."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from archprobe.sweep.solve import Solution
from archprobe.units import si


def solve_table(base: str, preserve: str, solutions: Sequence[Solution], per_stage: bool) -> Table:
    """One row per cardinality C: d (one per stage with ``per_stage``), the conv2 template's
    group width, block and network costs, and the preserved metric against its target."""
    table = Table(title=f"{base}: preserve {preserve}")
    d_column = "d per stage" if per_stage else "d"
    for col in ("C", d_column, "group width", "block params", "block MACs", "params", "MACs"):
        table.add_column(col, justify="right")
    table.add_column(f"{preserve} vs target", justify="right")
    for s in solutions:
        d = ", ".join(map(str, s.stage_widths)) if per_stage else str(s.width_per_group)
        table.add_row(
            str(s.groups), d, str(s.group_width), f"{s.block_params:,}", f"{s.block_macs:,}",
            f"{s.params:,}", f"{s.macs:,}",
            f"{si(s.value)} / {si(s.target)} ({s.rel_error:+.2%})",
        )  # fmt: skip
    return table

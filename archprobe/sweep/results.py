"""Sweep rows and width-solver solutions as Results entries, and a stored row as one flat record.

A stored sweep row (``Store.rows()``) becomes, for the model ``{sweep}-{idx}`` (the name the
config's spec gets when the sweep's name is made of safe characters):

- one "analytic" entry: ``params``, ``macs``, ``acts`` (per image) and any predicted value of
  ``measure:`` (``train_peak_predicted_bytes``);
- with measurements, one "measured" entry: every other numeric measured value (``latency_s``,
  ``latency_iqr_s``, ``train_peak_measured_bytes`` …), with the text values (``status``,
  ``device``, ``device_name``, ``torch``, ``dtype``, ``layout``, ``memory_method``) in its env.

Both carry the sweep, index, key and every config axis (``block.groups`` …) in their env. A
solver :class:`~archprobe.sweep.solve.Solution` becomes one analytic entry of the network it
solved (:func:`solution_entry`). Torch- and pandas-free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from archprobe.analysis.results import Entry, Results
from archprobe.sweep.solve import Solution

ANALYTIC = ("params", "macs", "acts")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def row_entries(row: Mapping[str, Any]) -> list[Entry]:
    """One stored sweep row as entries (module docstring)."""
    model = f"{row['sweep']}-{row['idx']}"
    env = {"sweep": row["sweep"], "idx": row["idx"], "key": row["key"], **row["config"]}
    measured = row["measured"] or {}
    numbers = {k: v for k, v in measured.items() if _number(v)}
    predicted = {k: v for k, v in numbers.items() if "predicted" in k}
    analytic = {k: row[k] for k in ANALYTIC if row.get(k) is not None}
    out = [Entry(model, "", "", "analytic", {**analytic, **predicted}, env)]
    timed = {k: v for k, v in numbers.items() if k not in predicted}
    if timed:
        texts = {k: v for k, v in measured.items() if k not in numbers and v is not None}
        out.append(Entry(model, "", "", "measured", timed, {**env, **texts}))
    return out


def sweep_results(rows: Iterable[Mapping[str, Any]]) -> Results:
    """Every stored row of a sweep database (``Store(db).rows()``) as one Results."""
    return Results(e for row in rows for e in row_entries(row))


def load_results(db: Path | str) -> Results:
    """The rows of a sweep database as Results (the store is opened and closed here)."""
    from archprobe.sweep.store import Store

    store = Store.reader(db)  # read-only: reading never writes to the database
    try:
        return sweep_results(store.rows())
    finally:
        store.close()


def solution_name(base: str, s: Solution) -> str:
    """``resnet50_32x4d``: the base's name with C×d as in ResNeXt's model names; per-stage
    widths are joined by dashes (``resnet50_8x14-14-15-14d``)."""
    widths = s.stage_widths or (s.width_per_group,)
    d = str(widths[0]) if len(set(widths)) == 1 else "-".join(map(str, widths))
    return f"{base}_{s.groups}x{d}d"


def solution_entry(base: str, s: Solution) -> Entry:
    """One analytic entry for the network a solution solved (:func:`solution_name`).

    Values: whole-network ``params`` and ``macs``, the conv2 template block's ``block_params``
    and ``block_macs``, and its ``group_width``. The env holds the inputs and the fit: ``base``,
    ``groups`` (C), ``width_per_group`` (d), ``stage_widths`` ("64,64,64,64"), ``preserve``,
    ``target`` and ``value`` (in the unit of the preserved metric) and ``rel_error``.
    """
    values = {"params": s.params, "macs": s.macs, "block_params": s.block_params,
              "block_macs": s.block_macs, "group_width": s.group_width}  # fmt: skip
    env = {"base": base, "groups": s.groups, "width_per_group": s.width_per_group,
           "stage_widths": ",".join(map(str, s.stage_widths)), "preserve": s.preserve,
           "target": s.target, "value": s.value, "rel_error": s.rel_error}  # fmt: skip
    return Entry(solution_name(base, s), "", "", "analytic", values, env)


def solution_results(base: str, solutions: Iterable[Solution]) -> Results:
    """Solutions of one base (``solve_width`` at several C) as one Results."""
    return Results(solution_entry(base, s) for s in solutions)


def flat_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as one record: its columns, then the config axes, then measured values
    (what ``archprobe sweep results`` prints and writes as CSV)."""
    plain = {k: v for k, v in row.items() if k not in ("config", "measured")}
    return {**plain, **row["config"], **(row["measured"] or {})}

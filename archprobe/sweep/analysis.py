"""Sweep results as a pandas frame, and the views the sweep report draws from it.

One row per config (:func:`load_frame`); :func:`pareto_front`, :func:`edf` and :func:`trend` are
plain functions of that frame, so a notebook and the HTML report compute the same numbers. The
views follow pycls's sweep analysis (Radosavovic et al. 2019, "On Network Design Spaces for
Visual Recognition"; 2020, "Designing Network Design Spaces"): EDFs of a metric over a design
space, and the trend of a metric along one axis.

In a notebook, :func:`load_sweep` wraps the frame in a :class:`SweepFrame`, which shows a summary
and the configs' exact costs (``_repr_html_``, drawn by report/) and has the views as methods.

pandas is imported inside each function, never at module level: ``archprobe.sweep`` stays
importable without pandas (and torch) for workers and analytic sweeps (tests/test_boundaries.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archprobe.analysis.results import draw, name_list

if TYPE_CHECKING:
    import pandas as pd

BASE_COLUMNS = ("key", "sweep", "idx", "params", "macs", "acts")
"""Columns every frame starts with; ``params``/``macs``/``acts`` are analytic, per image."""
MAX_LEVELS = 8
"""An axis with at most this many distinct values is shown per value; more are binned."""


def _cell(value: Any) -> Any:
    """A config value as a frame cell: lists and dicts as JSON text, since pandas cannot group
    by unhashable values."""
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value


def _flat(row: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """One stored row as a flat record, plus its axis and measured names in record order."""
    record = {k: row[k] for k in BASE_COLUMNS}
    axes, measured = [], []
    for name, value in row["config"].items():
        column = name if name not in record else f"config.{name}"
        record[column] = _cell(value)
        axes.append(column)
    for name, value in (row["measured"] or {}).items():
        column = name if name not in record else f"measured.{name}"
        record[column] = math.nan if value is None else value
        measured.append(column)
    return record, axes, measured


def load_frame(db: Path | str) -> pd.DataFrame:
    """One row per stored config, in sweep and index order.

    Columns: ``key, sweep, idx, params, macs, acts`` (analytic MACs = multiply-accumulates, per
    image), then each config axis under its dotted key path (``block.groups``), then each
    measured value (``latency_s``, ``latency_iqr_s``, ``status``, ``train_peak_bytes``…), then
    derived columns: ``latency_ms`` and ``latency_iqr_ms`` when latency was measured, NaN where
    the measurement failed (``status`` other than ``ok``). A name that clashes with an earlier
    column gets a ``config.``/``measured.`` prefix. Axes missing from a sweep are NaN.

    The axis and measured column names are in ``df.attrs["axes"]`` and ``df.attrs["measured"]``.

    Raises:
        FileNotFoundError: when ``db`` does not exist (SQLite would create an empty file).
    """
    import pandas as pd

    from archprobe.sweep.store import Store

    path = Path(db)
    if not path.is_file():
        raise FileNotFoundError(f"no such sweep database: {path}")
    store = Store.reader(path)  # read-only: a report never writes to the database
    try:
        flat = [_flat(row) for row in store.rows()]
    finally:
        store.close()
    axes = list(dict.fromkeys(a for _, row_axes, _ in flat for a in row_axes))
    measured = list(dict.fromkeys(m for _, _, row_measured in flat for m in row_measured))
    df = pd.DataFrame([r for r, _, _ in flat], columns=[*BASE_COLUMNS, *axes, *measured])
    _derive(df)
    df.attrs["axes"], df.attrs["measured"] = axes, measured
    return df


def _derive(df: pd.DataFrame) -> None:
    """Milliseconds next to the stored seconds; a failed run's time is NaN, whatever it stored."""
    if "latency_s" not in df.columns:
        return
    ok = df["status"].eq("ok") if "status" in df.columns else df["latency_s"].notna()
    for name in ("latency_s", "latency_iqr_s"):
        if name in df.columns:
            seconds = df[name].astype("float64").where(ok)
            df[name.removesuffix("_s") + "_ms"] = seconds * 1e3


def axis_columns(df: pd.DataFrame) -> list[str]:
    """The config axes of a frame from :func:`load_frame` (``attrs`` may be lost by pandas
    operations; then every column not a base, measured or derived one with a dot in its name)."""
    if "axes" in df.attrs:
        return [a for a in df.attrs["axes"] if a in df.columns]
    return [c for c in df.columns if "." in c and not c.startswith("measured.")]


def axis_values(df: pd.DataFrame, axis: str) -> list[Any]:
    """The distinct values of an axis, sorted (by their text when types do not compare)."""
    values = df[axis].dropna().unique().tolist()
    try:
        return sorted(values)
    except TypeError:  # one axis given ints in one sweep and strings in another
        return sorted(values, key=str)


def pareto_front(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """The rows no other row dominates when minimising both ``x`` and ``y``, sorted by ``x``.

    A row is dominated by one at least as small in both and smaller in one. Rows with NaN in
    ``x`` or ``y`` are left out. Exact duplicates do not dominate each other, so all of them stay
    on the front. O(n log n): one sort, then a running minimum of ``y`` over smaller ``x``.

    Returns:
        The front's rows with their original index, sorted by ``x`` then ``y``.
    """
    d = df[df[x].notna() & df[y].notna()]
    if d.empty:
        return d
    import numpy as np

    d = d.sort_values([x, y], kind="mergesort")  # stable: equal points keep the frame's order
    xs, ys = d[x].to_numpy(), d[y].to_numpy()
    # Sorted by x then y, each run of equal x starts at its smallest y. Only rows at that y can
    # survive, and only if it beats every y at a strictly smaller x (an equal y at a smaller x
    # dominates them). Numpy on the raw values keeps int64 exact (no float NaN fill).
    starts = np.r_[True, xs[1:] != xs[:-1]]
    group = np.cumsum(starts) - 1
    group_min = ys[starts]
    running = np.minimum.accumulate(group_min)
    beats_before = np.r_[True, group_min[1:] < running[:-1]]
    front: pd.DataFrame = d[(ys == group_min[group]) & beats_before[group]]
    return front


def edf(df: pd.DataFrame, metric: str, by: str | None = None) -> pd.DataFrame:
    """Empirical distribution function of ``metric``: the fraction of configs with metric <= v.

    One row per distinct value ``v`` (the top of each step), over the rows where ``metric`` is
    not NaN. With ``by``, one EDF per value of that axis (rows with NaN in ``by`` left out), each
    normalised by its own count, as pycls compares design spaces.

    Returns:
        Columns ``by`` (named after the axis, only when ``by`` is given), ``value``, ``fraction``;
        sorted by the axis value, then ``value``.
    """
    import pandas as pd

    if by is None:
        return _edf(df[metric].dropna())
    d = df.loc[df[metric].notna() & df[by].notna(), [by, metric]]
    parts = [
        _edf(group[metric]).assign(**{by: level})[[by, "value", "fraction"]]
        for level, group in d.groupby(by, sort=True)
    ]
    if not parts:
        return pd.DataFrame({by: [], "value": [], "fraction": []})
    return pd.concat(parts, ignore_index=True)


def _edf(values: pd.Series) -> pd.DataFrame:
    import pandas as pd

    counts = values.value_counts(sort=False).sort_index()
    fraction = counts.cumsum() / counts.sum()
    return pd.DataFrame({"value": counts.index.to_numpy(), "fraction": fraction.to_numpy()})


def trend(df: pd.DataFrame, axis: str, metric: str) -> pd.DataFrame:
    """Summary of ``metric`` per value of ``axis``: count, median, min, max and mean.

    NaN metrics are not counted; axis values with no metric left are dropped.

    Returns:
        Columns ``axis`` (named after it), ``count``, ``median``, ``min``, ``max``, ``mean``,
        sorted by the axis value.
    """
    d = df.loc[df[axis].notna() & df[metric].notna(), [axis, metric]]
    stats = d.groupby(axis, sort=True)[metric].agg(["count", "median", "min", "max", "mean"])
    return stats.reset_index()


def bin_axis(df: pd.DataFrame, axis: str, bins: int = MAX_LEVELS) -> pd.Series:
    """``axis`` with at most ``bins`` distinct values: each value replaced by the median of its
    quantile bin, so trends along an axis drawn by a random int sampler stay readable.

    An axis that already has at most ``bins`` distinct values, or is not numeric, is returned as
    is. Bins hold about equal numbers of configs (pandas ``qcut``; equal edges merged).
    """
    import pandas as pd

    values = df[axis]
    if values.nunique() <= bins or not pd.api.types.is_numeric_dtype(values):
        return values
    labels = pd.qcut(values, bins, labels=False, duplicates="drop")
    return values.groupby(labels).transform("median")


@dataclass(frozen=True, eq=False)  # eq=False: DataFrames do not compare to a bool
class SweepFrame:
    """A sweep database's frame (:func:`load_frame`) with its views as methods, for notebooks.

    Attributes:
        frame: one row per config, columns as :func:`load_frame` documents.
        db: the database it was read from.
    """

    frame: pd.DataFrame
    db: Path

    @property
    def sweeps(self) -> list[str]:
        return [str(s) for s in dict.fromkeys(self.frame["sweep"])]

    @property
    def axes(self) -> list[str]:
        return axis_columns(self.frame)

    def pareto_front(self, x: str = "params", y: str = "macs") -> pd.DataFrame:
        return pareto_front(self.frame, x, y)

    def edf(self, metric: str, by: str | None = None) -> pd.DataFrame:
        return edf(self.frame, metric, by)

    def trend(self, axis: str, metric: str) -> pd.DataFrame:
        return trend(self.frame, axis, metric)

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        axes = name_list(self.axes) or "no axes"
        return f"SweepFrame({name_list(self.sweeps)}: {len(self)} configs; axes {axes})"

    def _repr_html_(self) -> str:
        """A notebook's view: sweeps, axes and the configs' exact costs (drawn by report/)."""
        html: str = draw("html", self)
        return html


def load_sweep(db: Path | str) -> SweepFrame:
    """:func:`load_frame` wrapped for a notebook (the frame is ``.frame``).

    Raises:
        FileNotFoundError: when ``db`` does not exist.
    """
    return SweepFrame(load_frame(db), Path(db))

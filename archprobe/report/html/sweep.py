"""One self-contained, offline HTML report of a sweep database: summary, Pareto fronts, EDFs and
per-axis trends (``archprobe sweep results DB --html OUT``).

The page follows the comparison report (``report/html.py``): a list of section functions over
a :class:`~archprobe.report.html.page.Page`, figures through :func:`figure_html` with fixed div ids,
plotly.js inlined once by :func:`render_page`. So two runs on one database write the same file
apart from the footer's stamp. The figures are drawn in ``report/sweep_figures.py`` from the
frame of :func:`archprobe.sweep.analysis.load_frame`; latency plots appear only where the
database holds measured latencies.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from plotly.offline import get_plotlyjs

from archprobe.errors import ArchprobeError
from archprobe.report.html import sweep_figures as figures
from archprobe.report.html.compare import figure_html
from archprobe.report.html.page import Page, esc, render_page, simple_table
from archprobe.sweep.analysis import (
    MAX_LEVELS,
    axis_columns,
    axis_values,
    load_frame,
    pareto_front,
)
from archprobe.units import si

if TYPE_CHECKING:
    import pandas as pd

SweepSectionFn = Callable[[Page, "pd.DataFrame"], None]
COST = ("params", "macs", "acts")
FRONT_ROWS = 20
"""Rows of a Pareto front listed in its table (the figure shows them all)."""
_LATENCY_NOTE = (
    "No measured latency in this database (the sweep has no `measure:` with latency, or every "
    "run failed), so the MACs–latency and activations–latency fronts and the latency trend are "
    "omitted."
)


def has_latency(df: pd.DataFrame) -> bool:
    """Whether any config has a measured (status ok) latency."""
    return "latency_ms" in df.columns and bool(df["latency_ms"].notna().any())


def _span(df: pd.DataFrame, metric: str, unit: str = "") -> str:
    values = df[metric].dropna()
    if values.empty:
        return "—"
    return f"{si(values.min(), unit, 2)} – {si(values.max(), unit, 2)}"


def _sweep_rows(df: pd.DataFrame) -> list[list[str]]:
    rows = []
    for name, d in df.groupby("sweep", sort=True):
        axes = [a for a in axis_columns(df) if d[a].notna().any()]
        timed = int(d["latency_ms"].notna().sum()) if "latency_ms" in d.columns else 0
        rows.append([str(name), f"{len(d):,}", ", ".join(axes), _span(d, "params"),
                     _span(d, "macs", "MAC"), _span(d, "acts"), f"{timed:,}"])  # fmt: skip
    return rows


def _axis_rows(df: pd.DataFrame) -> list[list[str]]:
    rows = []
    for axis in axis_columns(df):
        values = axis_values(df, axis)
        many = len(values) > MAX_LEVELS
        shown = f"{values[0]} … {values[-1]}" if many else ", ".join(map(str, values))
        how = "binned (trends); no EDF colouring" if many else "per value"
        rows.append([axis, str(len(values)), shown, how])
    return rows


def summary_section(page: Page, df: pd.DataFrame) -> None:
    """Sweeps with their config counts and cost ranges, then every axis and its values."""
    s = page.section("summary", "Summary")
    header = ["sweep", "configs", "axes", "params", "MACs", "activations", "timed"]
    s.parts.append(simple_table(header, _sweep_rows(df), right={1, 3, 4, 5, 6}))
    header = ["axis", "distinct values", "values", "shown"]
    s.parts.append(simple_table(header, _axis_rows(df), right={1}))


def _pairs(df: pd.DataFrame) -> list[tuple[str, str]]:
    pairs = [("params", "macs")]
    if has_latency(df):
        pairs += [("macs", "latency_ms"), ("acts", "latency_ms")]
    return pairs


def _front_table(df: pd.DataFrame, x: str, y: str) -> str:
    front = pareto_front(df, x, y)
    axes = axis_columns(df)
    several = df["sweep"].nunique() > 1  # name the sweep only where it tells configs apart
    rows = [
        [f"{r['sweep']} #{r['idx']}" if several else f"#{r['idx']}", figures.fmt(x, r[x]),
         figures.fmt(y, r[y]), *(str(r[a]) if figures.present(r[a]) else "—" for a in axes)]
        for r in front.head(FRONT_ROWS).to_dict("records")
    ]  # fmt: skip
    header = ["config", figures.LABELS.get(x, x), figures.LABELS.get(y, y), *axes]
    more = len(front) - FRONT_ROWS
    caption = f"Pareto front, {figures.LABELS.get(y, y)} vs {figures.LABELS.get(x, x)}: "
    caption += f"{len(front)} of {len(df)} configs"
    if more > 0:
        caption += f" (the first {FRONT_ROWS} by {figures.LABELS.get(x, x)}; all in the plot)"
    return f"<h3>{esc(caption)}</h3>" + simple_table(header, rows, right={1, 2})


def pareto_section(page: Page, df: pd.DataFrame) -> None:
    """Fronts of configs minimising both cost axes, over all points; latency ones if timed."""
    s = page.section("pareto", "Pareto fronts")
    pairs = _pairs(df)
    fig = figures.pareto_figure(df, pairs, axis_columns(df))
    s.parts.append(figure_html(fig, "fig-pareto", 460))
    s.parts.append(f'<p class="note">{esc(_PARETO_NOTE)}</p>')
    if not has_latency(df):
        s.parts.append(f'<p class="note">{esc(_LATENCY_NOTE)}</p>')
    s.parts += [_front_table(df, x, y) for x, y in pairs]


_PARETO_NOTE = (
    "Each point is one config; coloured points are its Pareto front: no other config is at least "
    "as small on both axes and smaller on one. Hover a point for its axis values. MACs are "
    "multiply-accumulates per image; latency is the measured median per forward pass."
)


def _level_axes(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Axes worth an EDF per value: 2 to MAX_LEVELS values with about two configs or more each
    (one config per value, as in a zip sweep, makes each EDF a single step). Then the rest."""
    axes = axis_columns(df)
    counts = {a: df[a].nunique() for a in axes}
    few = [a for a in axes if 2 <= counts[a] <= MAX_LEVELS and df[a].count() >= 2 * counts[a]]
    return few, [a for a in axes if a not in few]


def edf_section(page: Page, df: pd.DataFrame) -> None:
    """EDFs of the analytic costs, split by the values of each axis that has few of them."""
    few, many = _level_axes(df)
    s = page.section("edf", "Cost distributions (EDF)")
    s.parts.append(figure_html(figures.edf_figure(df, COST, few), "fig-edf", 440))
    note = (
        "Empirical distribution functions (pycls, Radosavovic et al. 2019): the fraction of "
        "configs whose cost is at most the value on the x axis. The dashed grey line is every "
        "config; the coloured lines split them by the axis chosen in the menu."
    )
    if many:
        note += (
            f" Not offered for colouring (one value, more than {MAX_LEVELS} values, or fewer "
            f"than two configs per value): {', '.join(many)}."
        )
    if not few:
        note += " So only the EDF of all configs is drawn."
    s.parts.append(f'<p class="note">{esc(note)}</p>')


def trend_section(page: Page, df: pd.DataFrame) -> None:
    """Median and min–max of each metric along each axis (chosen in the figure's menu)."""
    metrics = [*COST, "latency_ms"] if has_latency(df) else list(COST)
    axes = [a for a in axis_columns(df) if df[a].nunique() >= 2]
    s = page.section("trends", "Trends along each axis")
    height = 440 if len(metrics) <= 3 else 700
    s.parts.append(figure_html(figures.trend_figure(df, metrics, axes), "fig-trends", height))
    note = (
        "For the axis chosen in the menu: every config (grey), the median per axis value (line) "
        f"and the min–max range (band). Axes with more than {MAX_LEVELS} values are cut into "
        f"{MAX_LEVELS} bins holding about equal numbers of configs; hover shows each bin's range."
    )
    s.parts.append(f'<p class="note">{esc(note)}</p>')
    if not has_latency(df):
        s.parts.append(f'<p class="note">{esc(_LATENCY_NOTE)}</p>')


SECTIONS: tuple[SweepSectionFn, ...] = (summary_section, pareto_section, edf_section, trend_section)
"""The sections of a sweep report, in page order."""


class EmptySweep(ArchprobeError, ValueError):
    """A sweep database without one intact row: there is nothing to plot."""


def sweep_html(df: pd.DataFrame, stamp: dict[str, str]) -> str:
    """The whole report of a sweep frame (from :func:`load_frame`) as one HTML document."""
    if df.empty:
        raise EmptySweep("the sweep database has no rows to report (none intact); run it first")
    names = ", ".join(sorted(df["sweep"].unique().tolist()))
    page = Page(
        f"Sweep: {names}",
        "MACs are multiply-accumulates (the papers' 'FLOPs'); params, MACs and activations are "
        "analytic, per image. Hover a plot for config values; the legend toggles traces.",
    )
    for section in SECTIONS:
        section(page, df)
    return render_page(page, stamp, get_plotlyjs())


def write_sweep_html(db: Path | str, path: Path, stamp: dict[str, str] | None = None) -> None:
    """Write the sweep report of the database ``db`` to ``path``.

    Args:
        db: SQLite file written by ``archprobe sweep``.
        path: the HTML file to write (its folder must exist).
        stamp: provenance for the footer; default: versions, no device, the running command.

    Raises:
        FileNotFoundError: when ``db`` does not exist.
        EmptySweep: when it holds no intact row (a ValueError too).
    """
    if stamp is None:
        from archprobe.report.export import stamp as default_stamp

        stamp = default_stamp()
    path.write_text(sweep_html(load_frame(db), stamp), encoding="utf-8")

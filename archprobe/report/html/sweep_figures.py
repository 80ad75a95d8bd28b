"""Plotly figures of a sweep frame (``archprobe.sweep.analysis.load_frame``): Pareto fronts, EDFs
and per-axis trends, for the sweep report (``report/sweep_html.py``).

The numbers come from :mod:`archprobe.sweep.analysis`; this module only draws them. Data go in as
Python lists, not numpy arrays, because plotly writes arrays as base64 blobs and lists as JSON:
the page stays readable, and tests can read the plotted points back. When there are several
axes to colour or trend by, one figure carries all of them and a menu shows one axis at a time,
so the page has three figures whatever the number of axes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from archprobe.report.html.compare import COLORS
from archprobe.report.html.page import esc
from archprobe.sweep.analysis import axis_values, bin_axis, edf, pareto_front, trend
from archprobe.units import si

if TYPE_CHECKING:
    import pandas as pd

LABELS = {"params": "params", "macs": "MACs", "acts": "activations (elements)",
          "latency_ms": "latency (ms, median)"}  # fmt: skip
UNITS = {"params": "", "macs": "MAC", "acts": "", "latency_ms": "ms"}
LOG_SPAN = 30.0
"""A positive metric spanning more than this ratio gets a log axis."""
LOG_SPAN_AXIS = 10.0
"""The same for an axis's values: power-of-2 and log-uniform samplers span a decade or more."""
_ALL = "#9a9aa5"
MENU_LIFT = 52
"""Pixels between the top of the plots and the bottom of an axis menu: above the subplot
titles and the legend row."""


def fmt(metric: str, value: float) -> str:
    """A metric value with its unit: ``4.089 GMAC``, ``25.557 M``, ``20.026 ms``."""
    if metric == "latency_ms":
        return f"{value:.3f} ms"
    return si(value, UNITS.get(metric, ""))


def hover_text(df: pd.DataFrame, axes: Sequence[str]) -> list[str]:
    """One hover label per row: sweep and index, then every axis value of that config."""
    out = []
    for row in df.to_dict("records"):
        values = [f"{esc(a)} = {esc(row[a])}" for a in axes if present(row.get(a))]
        out.append("<br>".join([f"<b>{esc(row['sweep'])} #{row['idx']}</b>", *values]))
    return out


def present(value: Any) -> bool:
    """Whether a frame cell holds a value (not None or NaN: an axis another sweep lacks)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _scale(values: Sequence[Any], span: float = LOG_SPAN) -> str:
    """The axis type: log for positive numbers spanning more than ``span``, else linear."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    positive = [v for v in numbers if v > 0]
    if len(positive) < len(values) or not positive:
        return "linear"
    return "log" if max(positive) / min(positive) > span else "linear"


def pareto_figure(
    df: pd.DataFrame, pairs: Sequence[tuple[str, str]], axes: Sequence[str]
) -> go.Figure:
    """One panel per (x, y) pair: every config in grey, the front (both minimised) in colour,
    joined as a staircase. Front traces carry ``meta="pareto:x:y"`` and the config keys."""
    titles = [f"{LABELS.get(y, y)} vs {LABELS.get(x, x)}" for x, y in pairs]
    fig = make_subplots(rows=1, cols=len(pairs), subplot_titles=titles, horizontal_spacing=0.07)
    for k, (x, y) in enumerate(pairs):
        d = df[df[x].notna() & df[y].notna()]
        front = pareto_front(d, x, y)
        template = (f"%{{text}}<br>{LABELS.get(x, x)} %{{x:,.4s}}<br>"
                    f"{LABELS.get(y, y)} %{{y:,.4s}}<extra></extra>")  # fmt: skip
        fig.add_trace(go.Scatter(
            x=d[x].tolist(), y=d[y].tolist(), mode="markers", name="all configs",
            legendgroup="all", showlegend=k == 0, text=hover_text(d, axes),
            marker={"color": _ALL, "size": 6, "opacity": 0.6}, hovertemplate=template,
        ), row=1, col=k + 1)  # fmt: skip
        fig.add_trace(go.Scatter(
            x=front[x].tolist(), y=front[y].tolist(), mode="markers+lines", name="Pareto front",
            legendgroup="front", showlegend=k == 0, text=hover_text(front, axes),
            customdata=front["key"].tolist(), meta=f"pareto:{x}:{y}",
            line={"color": COLORS[0], "shape": "hv", "width": 1.5},
            marker={"color": COLORS[0], "size": 9, "line": {"color": "white", "width": 1}},
            hovertemplate=template,
        ), row=1, col=k + 1)  # fmt: skip
        fig.update_xaxes(title_text=LABELS.get(x, x), type=_scale(d[x].tolist()), row=1, col=k + 1)
        fig.update_yaxes(title_text=LABELS.get(y, y), type=_scale(d[y].tolist()), row=1, col=k + 1)
    return fig


def level_colors(n: int) -> list[str]:
    """``n`` colours along viridis, stopping short of its pale yellow end (unreadable on white):
    axis values are ordered, so their colours are too."""
    if n == 1:
        return [COLORS[0]]
    return list(sample_colorscale("Viridis", [0.88 * i / (n - 1) for i in range(n)]))


def _steps(e: pd.DataFrame) -> tuple[list[Any], list[float]]:
    """An EDF as a step line that starts at 0 on its smallest value (no line if empty)."""
    xs, ys = e["value"].tolist(), e["fraction"].tolist()
    return ([xs[0], *xs], [0.0, *ys]) if xs else ([], [])


def _menu(labels: Sequence[str], visible: Sequence[list[bool]], layouts: Sequence[dict[str, Any]]
          ) -> list[dict[str, Any]]:  # fmt: skip
    """A dropdown that shows one group of traces (and its axis titles) at a time.

    It sits top left, above the legend row: the top right belongs to plotly's toolbar (the
    modebar), which it used to cover. Plotly grows the top margin to make room for it."""
    buttons = [{"label": label, "method": "update", "args": [{"visible": v}, layout]}
               for label, v, layout in zip(labels, visible, layouts, strict=True)]  # fmt: skip
    return [{"type": "dropdown", "buttons": buttons, "active": 0, "showactive": True,
             "x": 0.0, "xanchor": "left", "y": 1.0, "yanchor": "bottom", "pad": {"b": MENU_LIFT},
             "bgcolor": "white", "bordercolor": "#bbb", "font": {"size": 12}}]  # fmt: skip


def edf_figure(df: pd.DataFrame, metrics: Sequence[str], axes: Sequence[str]) -> go.Figure:
    """One panel per metric: the EDF of all configs (grey, dashed), and one EDF per value of
    the axis chosen in the menu (``axes``: those with few values), coloured in value order."""
    fig = make_subplots(rows=1, cols=len(metrics), horizontal_spacing=0.07,
                        subplot_titles=[f"EDF of {LABELS.get(m, m)}" for m in metrics])  # fmt: skip
    groups: list[int] = []  # the axis each trace belongs to (-1: always shown)
    for k, m in enumerate(metrics):
        xs, ys = _steps(edf(df, m))
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", line={"shape": "hv", "color": _ALL, "dash": "dash"},
            name=f"all (n={len(df)})", legendgroup="all", showlegend=k == 0,
            hovertemplate=f"{LABELS.get(m, m)} ≤ %{{x:,.4s}}: %{{y:.1%}}<extra>all</extra>",
        ), row=1, col=k + 1)  # fmt: skip
        fig.update_xaxes(title_text=LABELS.get(m, m), type=_scale(xs), row=1, col=k + 1)
        groups.append(-1)
    for i, axis in enumerate(axes):
        groups += [i] * _edf_traces(fig, df, metrics, axis, visible=i == 0)
    fig.update_yaxes(range=[0, 1.02])
    fig.update_yaxes(title_text="fraction of configs ≤ value", col=1)
    if axes:  # a menu even for one axis: it says what the colours split by
        # The legend title names the axis, so the entries can be bare values on one line.
        titles = [{"legend.title.text": f"{a}:"} for a in axes]
        fig.update_layout(titles[0])
        visible = [[g in (-1, i) for g in groups] for i in range(len(axes))]
        fig.update_layout(updatemenus=_menu([f"colour by {a}" for a in axes], visible, titles))
    return fig


def _edf_traces(fig: go.Figure, df: pd.DataFrame, metrics: Sequence[str], axis: str, visible: bool
                ) -> int:  # fmt: skip
    """Adds the per-value EDF traces of one axis; returns how many."""
    levels = axis_values(df, axis)
    colors = level_colors(len(levels))
    added = 0
    for k, m in enumerate(metrics):
        per = edf(df, m, by=axis)
        for level, color in zip(levels, colors, strict=True):
            e = per[per[axis] == level]
            if e.empty:
                continue
            xs, ys = _steps(e)
            name = f"{level} (n={int((df[axis] == level).sum())})"
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines", line={"shape": "hv", "color": color}, name=esc(name),
                legendgroup=f"{axis}={level}", showlegend=k == 0, visible=visible,
                hovertemplate=f"{LABELS.get(m, m)} ≤ %{{x:,.4s}}: %{{y:.1%}}"
                              f"<extra>{esc(axis)} = {esc(level)}</extra>",
            ), row=1, col=k + 1)  # fmt: skip
            added += 1
    return added


def _grid(n: int) -> tuple[int, int]:
    """Panels for ``n`` metrics: one row up to three, then two columns."""
    return (1, n) if n <= 3 else ((n + 1) // 2, 2)


def _axis_title(axis: str, binned: bool) -> str:
    return f"{axis} (binned: median of each bin)" if binned else axis


def _bin_labels(t: pd.DataFrame, d: pd.DataFrame, axis: str) -> list[str]:
    """Hover labels of the trend's x values: the value, or the raw range a bin covers."""
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(d["_raw"]):  # text values are never binned
        return [f"{esc(axis)} = {esc(value)}" for value in t[axis].tolist()]
    ranges = trend(d, axis, "_raw").set_index(axis).reindex(t[axis])
    return [
        f"{esc(axis)} = {esc(lo)}" if lo == hi else f"{esc(axis)} in [{lo:g}, {hi:g}]"
        for lo, hi in zip(ranges["min"].tolist(), ranges["max"].tolist(), strict=True)
    ]  # fmt: skip


def trend_figure(df: pd.DataFrame, metrics: Sequence[str], axes: Sequence[str]) -> go.Figure:
    """One panel per metric: for the axis chosen in the menu, every config as a faint point, the
    median per axis value as a line and the min–max range as a band. An axis with many values
    (a random int sampler) is binned into quantile bins, plotted at each bin's median."""
    rows, cols = _grid(len(metrics))
    fig = make_subplots(rows=rows, cols=cols, horizontal_spacing=0.07, vertical_spacing=0.16,
                        subplot_titles=[LABELS.get(m, m) for m in metrics])  # fmt: skip
    groups: list[int] = []
    layouts: list[dict[str, Any]] = []
    for i, axis in enumerate(axes):
        binned = bin_axis(df, axis)
        is_binned = not binned.equals(df[axis])
        d = df.assign(**{axis: binned})
        layout: dict[str, Any] = {}
        values = axis_values(df, axis)
        scale = _scale(values, LOG_SPAN_AXIS)
        # Few values: a tick on each, not 1.5 between depths 1 and 2 (None: plotly's default).
        ticks = None if is_binned else values
        for k, m in enumerate(metrics):
            where = {"row": k // cols + 1, "col": k % cols + 1}
            n = _trend_traces(fig, df[axis], d, axis, m, where, first=k == 0, visible=i == 0)
            groups += [i] * n
            xaxis = f"xaxis{k + 1 if k else ''}"
            layout[f"{xaxis}.title.text"] = _axis_title(axis, is_binned)
            layout[f"{xaxis}.type"] = scale
            layout[f"{xaxis}.tickvals"] = ticks
        layouts.append(layout)
    for k, m in enumerate(metrics):
        fig.update_yaxes(title_text=LABELS.get(m, m), row=k // cols + 1, col=k % cols + 1)
    if layouts:
        fig.update_layout(layouts[0])
    if len(layouts) > 1:
        visible = [[g == i for g in groups] for i in range(len(axes))]
        fig.update_layout(updatemenus=_menu([f"trend along {a}" for a in axes], visible, layouts))
    return fig


def _trend_traces(fig: go.Figure, raw: pd.Series, d: pd.DataFrame, axis: str, metric: str,
                  where: dict[str, int], first: bool, visible: bool) -> int:  # fmt: skip
    """Adds the points, band and median line of one axis in one panel; returns how many (3)."""
    t = trend(d, axis, metric)
    labels = _bin_labels(t, d.assign(_raw=raw), axis)
    text = [
        f"{label} (n={n})<br>median {fmt(metric, med)}<br>min {fmt(metric, lo)} · "
        f"max {fmt(metric, hi)}"
        for label, n, med, lo, hi in zip(labels, t["count"].tolist(), t["median"].tolist(),
                                         t["min"].tolist(), t["max"].tolist(), strict=True)
    ]  # fmt: skip
    keep = raw.notna() & d[metric].notna()
    xs = t[axis].tolist()
    fig.add_trace(go.Scatter(
        x=raw[keep].tolist(), y=d.loc[keep, metric].tolist(), mode="markers", name="configs",
        legendgroup="points", showlegend=first, visible=visible,
        marker={"color": _ALL, "size": 4, "opacity": 0.35},
        hovertemplate="%{x}: %{y:,.4s}<extra>config</extra>",
    ), **where)  # fmt: skip
    fig.add_trace(go.Scatter(
        x=[*xs, *xs[::-1]], y=[*t["max"].tolist(), *t["min"].tolist()[::-1]], fill="toself",
        mode="lines", line={"width": 0}, fillcolor="rgba(59, 111, 182, 0.18)", name="min–max",
        legendgroup="band", showlegend=first, visible=visible, hoverinfo="skip",
    ), **where)  # fmt: skip
    fig.add_trace(go.Scatter(
        x=xs, y=t["median"].tolist(), mode="lines+markers", name="median", text=text,
        legendgroup="median", showlegend=first, visible=visible,
        line={"color": COLORS[0], "width": 2}, marker={"color": COLORS[0], "size": 7},
        hovertemplate="%{text}<extra></extra>",
    ), **where)  # fmt: skip
    return 3

"""One self-contained, offline HTML report of a comparison (plotly figures, inlined plotly.js).

With the sweep report's ``sweep_figures.py``/``sweep_html.py`` (which reuse :func:`figure_html`),
the only modules that import plotly (DESIGN §7.11). The page draws the HTML sections an
assembled :class:`~archprobe.report.assemble.Report` names, in its page order, each by one
function of :data:`DRAW` (``draw(page, report)``); which sections exist is the assembly's
decision, never this module's. plotly.js is inlined once in the head, every figure
is a ``<div>`` plus its data, so the file opens with no network. Figures get fixed ids, so two
runs write the same file apart from the footer's stamp. :data:`FIGURES` lists every figure of a
comparison; the notebook view (``notebook.py``, ``Comparison.figure()``) draws from it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from archprobe.analysis.compare import REFERENCE_CEILINGS, Comparison
from archprobe.analysis.stages import aligned_stages, row_keys
from archprobe.analysis.timing.roofline import RooflineReport
from archprobe.proofs.results import Proof
from archprobe.report.assemble import Report
from archprobe.report.html import sections as tables
from archprobe.report.html.page import Page, render_page

SectionFn = Callable[[Page, Report], None]
COLORS = ("#3b6fb6", "#d9822b", "#3a9a5b", "#b8403f", "#7b5ea7", "#8c6d31", "#c4569c")
CONFIG = {"displaylogo": False, "responsive": True}
_AXIS = {"showgrid": True, "gridcolor": "#e6e6ea", "linecolor": "#888", "ticks": "outside",
         "zeroline": False, "mirror": True, "exponentformat": "SI"}  # fmt: skip
STAGE_METRICS = (
    ("params", "params"),
    ("macs", "MACs"),
    ("acts", "activations (elements)"),
    ("bytes", "bytes moved (fp32, read + written)"),
)


def style_figure(fig: go.Figure, height: int) -> go.Figure:
    """The report's look (white, gridded, legend on top) at ``height`` px, in place."""
    fig.update_layout(
        template="none", height=height, margin={"l": 70, "r": 20, "t": 50, "b": 50},
        font={"family": "system-ui, Helvetica, Arial, sans-serif", "size": 12},
        paper_bgcolor="white", plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "x": 0},
    )  # fmt: skip
    fig.update_xaxes(**_AXIS)
    fig.update_yaxes(**_AXIS)
    return fig


def figure_html(fig: go.Figure, div_id: str, height: int) -> str:
    """A figure as a ``<div>`` and its script (plotly.js comes once, from the page head)."""
    body = pio.to_html(
        style_figure(fig, height), include_plotlyjs=False, full_html=False, div_id=div_id,
        config=CONFIG, default_width="100%", default_height=f"{height}px",
    )  # fmt: skip
    return f'<div class="figure">{body}</div>'


def _stage_values(c: Comparison) -> tuple[list[str], list[dict[str, dict[str, float]]]]:
    metrics = ("params", "macs", "acts", "bytes_read", "bytes_written")
    aligned = aligned_stages([(a.graph, a.results) for a in c.models], metrics)
    return row_keys(aligned), [
        {key: {**r.values, "bytes": r.values["bytes_read"] + r.values["bytes_written"]}
         for key, r in rows.items()}
        for rows in aligned
    ]  # fmt: skip


def stage_figure(c: Comparison) -> go.Figure:
    """Per-stage grouped bars of params, MACs, activations and bytes, one colour per model."""
    fig = make_subplots(rows=2, cols=2, subplot_titles=[t for _, t in STAGE_METRICS],
                        vertical_spacing=0.16, horizontal_spacing=0.08)  # fmt: skip
    labels, per_model = _stage_values(c)
    for i, (a, values) in enumerate(zip(c.models, per_model, strict=True)):
        for k, (metric, _) in enumerate(STAGE_METRICS):
            y = [values[label][metric] if label in values else None for label in labels]
            fig.add_trace(
                go.Bar(x=labels, y=y, name=a.name, legendgroup=a.name, showlegend=k == 0,
                       marker_color=COLORS[i % len(COLORS)],
                       hovertemplate=f"{a.name}<br>%{{x}}: %{{y:,.4s}}<extra></extra>"),
                row=k // 2 + 1, col=k % 2 + 1,
            )  # fmt: skip
    fig.update_layout(barmode="group", bargap=0.2)
    return fig


def _reports(c: Comparison) -> tuple[Sequence[RooflineReport], str]:
    """The measured roofline reports when the comparison has them, else the analytic ones at
    batch 1 against a reference device's datasheet ceilings (``Comparison.reference_roofline``)."""
    if c.roofline:
        return c.roofline, "measured device"
    return c.reference_roofline, f"reference: {REFERENCE_CEILINGS.name} datasheet fp32, batch 1"


def _layer_text(r: Any) -> str:
    time = f"<br>measured {r.measured_s * 1e6:,.1f} µs" if r.measured_s is not None else ""
    return f"{r.scope}<br>{r.op}<br>{r.intensity:.1f} MAC/B, {r.bound}-bound{time}"


def roofline_figure(reports: Sequence[RooflineReport], where: str) -> go.Figure:
    """Per-layer MACs vs bytes moved (log-log), with the ridge intensity as a line: layers
    below it are memory-bound on that device."""
    fig = go.Figure()
    for i, rep in enumerate(reports):
        fig.add_trace(go.Scatter(
            x=[r.bytes for r in rep.layers], y=[r.macs for r in rep.layers], mode="markers",
            name=rep.model, text=[_layer_text(r) for r in rep.layers],
            marker={"color": COLORS[i % len(COLORS)], "size": 8, "opacity": 0.75,
                    "symbol": ["circle" if r.bound == "compute" else "x" for r in rep.layers]},
            hovertemplate="%{text}<br>%{y:,.4s} MAC · %{x:,.4s} B<extra></extra>",
        ))  # fmt: skip
    nbytes = [r.bytes for rep in reports for r in rep.layers]
    ridge = reports[0].ridge_macs_per_byte
    xs = [min(nbytes) / 2, max(nbytes) * 2]
    fig.add_trace(go.Scatter(
        x=xs, y=[x * ridge for x in xs], mode="lines", line={"color": "#555", "dash": "dash"},
        name=f"ridge {ridge:.1f} MAC/B ({where})", hoverinfo="skip",
    ))  # fmt: skip
    fig.update_xaxes(type="log", dtick=1, title_text="bytes moved per layer (read + written)")
    fig.update_yaxes(type="log", dtick=1, title_text="MACs per layer")
    fig.update_layout(title={"text": "per-layer roofline: ● compute-bound, × memory-bound",
                             "font": {"size": 13}, "x": 0, "y": 0.99})  # fmt: skip
    return fig


def measured_roofline_figure(reports: Sequence[RooflineReport]) -> go.Figure:
    """Attained FLOP/s (2·MACs / measured time) against FLOP/B, under the device's roof."""
    fig = go.Figure()
    flagged = 0
    for i, rep in enumerate(reports):
        # a layer measured below its bound is an attribution error, never an achieved point
        layers = [r for r in rep.layers if r.achieved_flops is not None]
        flagged += len(rep.below_bound)
        fig.add_trace(go.Scatter(
            x=[r.flops_per_byte for r in layers],
            y=[r.achieved_flops for r in layers], mode="markers",
            name=rep.model, text=[_layer_text(r) for r in layers],
            marker={"color": COLORS[i % len(COLORS)], "size": 8, "opacity": 0.75},
            hovertemplate="%{text}<br>%{y:,.4s} FLOP/s<extra></extra>",
        ))  # fmt: skip
    if flagged:
        fig.add_annotation(text=f"{flagged} layer(s) measured below their bound: not drawn "
                           "(attribution errors)", xref="paper", yref="paper", x=0, y=1.06,
                           showarrow=False, font={"size": 11})  # fmt: skip
    base = reports[0]
    peak, bw = base.ceilings.flops(base.math), base.ceilings.bandwidth
    xs = [0.1 * 1.2**k for k in range(80)]
    fig.add_trace(go.Scatter(x=xs, y=[min(peak, x * bw) for x in xs], mode="lines",
                             line={"color": "#555"}, name=f"roof: {base.ceilings.name}",
                             hoverinfo="skip"))  # fmt: skip
    fig.update_xaxes(type="log", title_text="arithmetic intensity (FLOP/B, FLOP = 2×MAC)")
    fig.update_yaxes(type="log", title_text="attained FLOP/s (measured)")
    return fig


def latency_figure(rows: Sequence[Any]) -> go.Figure:
    """Median latency per batch and model, with the interquartile range as error bars."""
    fig = go.Figure()
    for i, model in enumerate(dict.fromkeys(r.model for r in rows)):
        ok = [r for r in rows if r.model == model and r.ok]
        fig.add_trace(go.Bar(
            x=[f"batch {r.batch}" for r in ok], y=[r.median_s * 1e3 for r in ok], name=model,
            error_y={"type": "data", "array": [r.iqr_s * 1e3 / 2 for r in ok], "visible": True},
            marker_color=COLORS[i % len(COLORS)],
            hovertemplate="%{x}: %{y:.3f} ms<extra>" + model + "</extra>",
        ))  # fmt: skip
    fig.update_yaxes(title_text="ms per forward pass (median; bars ± IQR/2)")
    fig.update_layout(barmode="group")
    return fig


def _stages(c: Comparison) -> go.Figure | None:
    return stage_figure(c) if c.models else None


def _roofline(c: Comparison) -> go.Figure | None:
    reports, where = _reports(c)
    return roofline_figure(reports, where) if reports else None


def _roofline_measured(c: Comparison) -> go.Figure | None:
    measured = c.roofline and all(r.measured for r in c.roofline)
    return measured_roofline_figure(c.roofline) if measured else None


def _latency(c: Comparison) -> go.Figure | None:
    return latency_figure(c.latency.rows) if c.latency is not None else None


FIGURES: dict[str, tuple[Callable[[Comparison], go.Figure | None], int]] = {
    "stages": (_stages, 620),
    "roofline": (_roofline, 520),
    "roofline-measured": (_roofline_measured, 480),
    "latency": (_latency, 420),
}
"""Every figure of a comparison: name (the page's div id is ``fig-<name>``) -> how it is drawn
(None when the comparison lacks its part) and its height in px. The report's sections and the
notebook's :meth:`Comparison.figure` both draw from here, so they show the same plots."""


def draw_figure(c: Comparison, name: str) -> go.Figure | None:
    """Figure ``name`` of :data:`FIGURES`, styled as on the page, or None when it has no data."""
    draw, height = FIGURES[name]
    fig = draw(c)
    return None if fig is None else style_figure(fig, height)


def comparison_figures(c: Comparison) -> dict[str, go.Figure]:
    """Every figure the report would draw for ``c``, by name, in page order."""
    drawn = {name: draw_figure(c, name) for name in FIGURES}
    return {name: fig for name, fig in drawn.items() if fig is not None}


def _figure_part(c: Comparison, name: str) -> list[str]:
    fig = draw_figure(c, name)
    return [] if fig is None else [figure_html(fig, f"fig-{name}", FIGURES[name][1])]


def stages_section(page: Page, report: Report) -> None:
    s = page.section("stages", "Stages")
    s.parts += _figure_part(report.comparison, "stages")
    s.parts += tables.tables_of(report, "stages")


def roofline_section(page: Page, report: Report) -> None:
    c = report.comparison
    s = page.section("roofline", "Per-layer roofline")
    s.parts += _figure_part(c, "roofline")
    s.parts.append(f'<p class="note">{_ROOFLINE_NOTE}</p>')
    if c.roofline:
        s.parts += _figure_part(c, "roofline-measured")
        s.parts += tables.roofline_tables_html(report)


_ROOFLINE_NOTE = (
    "One point per conv or fc layer. Bytes are the layer's input, weights and output (ShuffleNet "
    "V2's memory access cost), with no cache reuse between layers. Below the dashed ridge a layer "
    "moves too many bytes per MAC to reach the device's peak: it is memory-bound there. Without "
    "--roofline the ridge is a reference device's datasheet; with it, the measured device's, "
    "and the measured per-layer times are plotted under its roof."
)


def latency_section(page: Page, report: Report) -> None:
    s = page.section("latency", "Measured latency")
    s.parts += _figure_part(report.comparison, "latency")
    s.parts += tables.tables_of(report, "latency")


DRAW: dict[str, SectionFn] = {
    "summary": tables.summary_section,
    "profiles": tables.profiles_section,
    "stages": stages_section,
    "roofline": roofline_section,
    "counters": tables.counters_section,
    "memory": tables.memory_section,
    "latency": latency_section,
    "checks": tables.checks_section,
    "specs": tables.specs_section,
}
"""How each HTML section is drawn; ``Report.html_sections`` says which exist, in what order."""


def comparison_html(report: Report, stamp: Mapping[str, str]) -> str:
    """The whole report as one HTML document."""
    page = Page(
        report.title,
        "MACs are multiply-accumulates (the papers' 'FLOPs'); counts are per image unless a "
        "batch is named. Hover a plot for values; the legend toggles models.",
    )
    for key in report.html_sections:
        DRAW[key](page, report)
    return render_page(page, stamp, get_plotlyjs())


def proofs_html(proofs: Sequence[Proof], stamp: Mapping[str, str]) -> str:
    """A report of numeric proofs (``archprobe check depth2``), no figures."""
    page = Page("archprobe check: " + ", ".join(p.title.split(":")[0] for p in proofs))
    for i, proof in enumerate(proofs):
        tables.proof_section(page, proof, f"proof-{i + 1}")
    return render_page(page, stamp, "")


def write_html(report: Report, path: Path, provenance: Mapping[str, str] | None = None) -> None:
    """Write the report as HTML, stamped with versions, device and command (default: this
    process's command line)."""
    from archprobe.report.export import stamp

    path.write_text(comparison_html(report, provenance or stamp(report.device)), encoding="utf-8")

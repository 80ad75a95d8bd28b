"""Notebook display: what ``_repr_html_`` and ``figure()`` of the result objects draw.

:class:`~archprobe.analysis.results.Results`, :class:`~archprobe.analysis.compare.Comparison`,
:class:`~archprobe.checks.SpecCheck` and :class:`~archprobe.sweep.analysis.SweepFrame` call
:func:`~archprobe.analysis.results.draw`, and ``archprobe/__init__.py`` registers :func:`html`
and :func:`figures` of this module for it: analysis/ sits below report/ and never imports it.

Every view is one ``<div class="archprobe">`` with its own scoped CSS (a notebook page is not
ours to restyle), built from the report's own pieces: the terminal tables through
:func:`~archprobe.report.html.page.rich_table_html`, the figures from
:data:`~archprobe.report.html.compare.FIGURES`. plotly (and pandas, for sweeps) load on the first
draw, never at ``import archprobe``.

plotly.js (4.8 MB) is inlined once per kernel, in the first output with a figure, as plotly's own
offline ``notebook`` renderer does; later figures use the page's ``window.Plotly``, so the notebook
needs no network. Each figure script checks for it and otherwise says how to get it back (the
output that held it was cleared). Colab shows each output in its own frame, so there every
figure output carries plotly.js.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from typing import Any

from archprobe.analysis.compare import Comparison
from archprobe.analysis.results import Results
from archprobe.checks import SpecCheck
from archprobe.report.html.notebook_tables import (
    check_html,
    comparison_tables,
    results_html,
    sweep_html,
)
from archprobe.report.html.page import esc
from archprobe.sweep.analysis import SweepFrame

CSS = """
.archprobe{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;
 color:#1d1d1f}
.archprobe table{border-collapse:collapse;margin:4px 0 6px;font-variant-numeric:tabular-nums}
.archprobe th,.archprobe td{border:1px solid #d8d8de;padding:3px 7px;text-align:left;
 vertical-align:top}
.archprobe th{background:#f3f4f7;font-weight:600}
.archprobe td.r,.archprobe th.r{text-align:right}
.archprobe caption{caption-side:top;text-align:left;font-weight:600;padding:2px 0 4px}
.archprobe .note{color:#555;font-size:12px;margin:2px 0 8px;white-space:pre-line}
.archprobe .bad{color:#b3261e;font-weight:600}.archprobe .warn{color:#8a6100}
.archprobe .ok{color:#1d7a34}.archprobe .dim{color:#6b6b76}
.archprobe details{margin:4px 0}.archprobe summary{cursor:pointer}
"""
NO_PLOTLY = (
    "plotly.js is not on this page: archprobe inlines it in the first figure output of a "
    "session, and that output is gone. Run archprobe.report.html.notebook.reset_plotlyjs(), "
    "then this cell again."
)
# Colab renders each output in a sandboxed frame of its own: a window.Plotly from an earlier
# output is not visible there, so every figure output brings plotly.js.
EVERY_OUTPUT = "google.colab" in sys.modules


class _PlotlyJs:
    """Whether this kernel has already sent plotly.js to the notebook page."""

    sent = False


def reset_plotlyjs() -> None:
    """Inline plotly.js again in the next figure output (after the one holding it was cleared)."""
    _PlotlyJs.sent = False


def _plotlyjs() -> str:
    """plotly.js as an inline script the first time (every time in Colab), else nothing."""
    if _PlotlyJs.sent and not EVERY_OUTPUT:
        return ""
    from plotly.offline import get_plotlyjs

    _PlotlyJs.sent = True
    return f'<script type="text/javascript">{get_plotlyjs()}</script>'


def figure_block(fig: Any, height: int) -> str:
    """A figure as a ``<div>`` and the script that draws it into the page's ``window.Plotly``.

    The id is random: a notebook holds many outputs, from many kernels. ``</`` is escaped in the
    data (as ``plotly.io.to_html`` does), so text from specs cannot close the script.
    """
    from archprobe.report.html.compare import CONFIG

    div_id = f"archprobe-{uuid.uuid4().hex[:12]}"
    data = fig.to_json().replace("</", "<\\/")
    script = (
        f"(function(){{var el=document.getElementById({json.dumps(div_id)});if(!el){{return;}}"
        f"if(!window.Plotly){{el.className='note';el.textContent={json.dumps(NO_PLOTLY)};return;}}"
        f"var f={data};Plotly.newPlot(el,f.data,f.layout,{json.dumps(CONFIG)});}})();"
    )
    return (
        f'<div id="{div_id}" class="plotly-graph-div" style="height:{height}px;width:100%"></div>'
        f'<script type="text/javascript">{script}</script>'
    )


def _comparison_figures(c: Comparison) -> list[str]:
    """The stage bars and, when the roofline was measured, the roofline (the reference one,
    drawn without measurements, stays in ``figure()`` and the report)."""
    from archprobe.report.html.compare import FIGURES, draw_figure

    names = ["stages", "roofline"] if c.roofline else ["stages"]
    drawn = [(draw_figure(c, name), FIGURES[name][1]) for name in names]
    blocks = [figure_block(fig, height) for fig, height in drawn if fig is not None]
    return [_plotlyjs(), *blocks] if blocks else []


def comparison_html(c: Comparison) -> str:
    """Totals with deltas (or the profiles' tables), the stage bars, and what else is there."""
    return "".join([*comparison_tables(c), *_comparison_figures(c)])


def _wrap(obj: object, body: str) -> str:
    """One view: scoped CSS, the object's one-line repr as its heading, then the body."""
    head = f"<p><b>{esc(repr(obj))}</b></p>"
    return f'<div class="archprobe"><style>{CSS}</style>{head}{body}</div>'


VIEWS: dict[type, Callable[[Any], str]] = {
    Results: results_html,
    Comparison: comparison_html,
    SpecCheck: check_html,
    SweepFrame: sweep_html,
}
"""The body of each displayable type's view."""


def html(obj: object) -> str:
    """The notebook HTML of a Results, Comparison, SpecCheck or SweepFrame."""
    for cls, body in VIEWS.items():
        if isinstance(obj, cls):
            return _wrap(obj, body(obj))
    raise TypeError(f"no notebook view for {type(obj).__name__}")


def figures(obj: object) -> dict[str, Any]:
    """The plotly figures of a Comparison, by name, as the HTML report draws them."""
    from archprobe.report.html.compare import comparison_figures

    if not isinstance(obj, Comparison):
        raise TypeError(f"no figures for {type(obj).__name__}; a Comparison has them")
    figs: dict[str, Any] = comparison_figures(obj)
    return figs

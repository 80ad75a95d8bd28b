"""Notebook views in a real browser: headless Chromium, networking off, as a notebook shows them.

The page holds each ``_repr_html_`` in a ``<template>`` and, on load, inserts them one after the
other the way JupyterLab renders an HTML output: ``innerHTML``, then every ``<script>`` re-created
so that it runs, in order. Its own script then writes the outcome into ``#render-status`` (script
errors, plots drawn, tables), which ``--dump-dom`` returns. Skips without Debian's ``chromium``,
as tests/test_browser.py does (its helpers are reused).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import archprobe
from archprobe.report.html import notebook
from tests.test_browser import CHROMIUM, WIDTH, _chromium

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)"
)
NUMBERS = ("25,557,032", "4,089,184,256", "25,028,904", "4,230,479,872")  # facts.md
NOTEBOOK_JS = """
window.__errors=[];
window.addEventListener('error',function(e){window.__errors.push(String(e.message));});
function show(t){  // JupyterLab's renderHTML: innerHTML, then re-create each script to run it
 var cell=document.createElement('div');cell.className='jp-OutputArea-output';
 cell.innerHTML=t.innerHTML;document.getElementById('notebook').appendChild(cell);t.remove();
 cell.querySelectorAll('script').forEach(function(old){var s=document.createElement('script');
  s.textContent=old.textContent;old.parentNode.replaceChild(s,old);});}
window.addEventListener('load',function(){
 document.querySelectorAll('template.output').forEach(show);
 setTimeout(function(){var s=document.getElementById('render-status'),n=document;
  s.setAttribute('data-status',window.__errors.length?'error':'ok');
  s.setAttribute('data-plots',String(n.querySelectorAll('#notebook .js-plotly-plot').length));
  s.setAttribute('data-svgs',String(n.querySelectorAll('#notebook .main-svg').length));
  s.setAttribute('data-tables',String(n.querySelectorAll('#notebook .archprobe table').length));
  s.textContent=window.__errors.join('\\n');},0);});
"""


def notebook_page(outputs: list[str], path: Path) -> Path:
    templates = "".join(f'<template class="output">{html}</template>' for html in outputs)
    path.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>notebook</title></head><body>"
        f'<main id="notebook"></main>{templates}<div id="render-status" hidden '
        f'data-status="pending"></div><script>{NOTEBOOK_JS}</script></body></html>\n',
        encoding="utf-8",
    )
    return path


def rendered(page: Path) -> dict[str, str]:
    dom = _chromium(page.as_uri(), f"--window-size={WIDTH},1200", "--dump-dom")
    found = re.search(r'<div id="render-status"([^>]*)>(.*?)</div>', dom, re.S)
    assert found, "the page's status element is missing from the DOM"
    attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', found.group(1)))
    notebook_part = dom.split('<main id="notebook">', 1)[1]
    return {**attrs, "errors": found.group(2), "dom": notebook_part}


def test_comparison_and_results_render_in_a_notebook(tmp_path: Path) -> None:
    """Results (tables), then two comparisons: the first brings plotly.js, the second reuses
    the page's ``window.Plotly``; every table is there, both plots draw, no script error."""
    notebook.reset_plotlyjs()
    c = archprobe.compare(["resnet50", "resnext50"])
    outputs = [c.results._repr_html_(), c._repr_html_(), c._repr_html_()]
    assert "plotly.js v" in outputs[1] and "plotly.js v" not in outputs[2]
    status = rendered(notebook_page(outputs, tmp_path / "notebook.html"))
    assert status["status"] == "ok", status["errors"]
    assert int(status["plots"]) == 2 and int(status["svgs"]) >= 2
    assert int(status["tables"]) >= 3  # the results' totals (+ per scope), each totals table
    assert all(n in status["dom"] for n in NUMBERS)
    assert "totals (Δ relative to resnet50)" in status["dom"]


def test_a_figure_without_plotlyjs_says_so_instead_of_failing(tmp_path: Path) -> None:
    """The output that held plotly.js was cleared: the figure shows how to get it back."""
    notebook.reset_plotlyjs()
    c = archprobe.compare(["resnet50", "resnext50"])
    c._repr_html_()  # sends plotly.js; that output is "cleared"
    status = rendered(notebook_page([c._repr_html_()], tmp_path / "cleared.html"))
    assert status["status"] == "ok", status["errors"]
    assert int(status["plots"]) == 0 and "reset_plotlyjs()" in status["dom"]
    assert all(n in status["dom"] for n in NUMBERS)  # the tables do not need plotly.js

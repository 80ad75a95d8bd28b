"""A self-contained HTML page built from sections: escaping, rich tables as HTML, the layout.

No plotly here (figures come in as ready HTML fragments from ``report/html.py``). Every string
that reaches the page goes through :func:`esc` unless it is markup this module built itself, so
text from specs (names, paths, papers, sources, comments) always renders inert.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field

from rich.errors import MarkupError
from rich.table import Table
from rich.text import Text

# Rich styles that carry meaning in the terminal tables, kept as CSS classes in the page.
_STYLE_CLASSES = (("red", "bad"), ("yellow", "warn"), ("green", "ok"), ("dim", "dim"))

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1d1d1f;
 max-width:1280px;margin:0 auto;padding:24px 32px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;padding-bottom:4px;
 border-bottom:1px solid #d0d0d7}h3{font-size:15px;margin:18px 0 6px}
p.lead{color:#555;margin:0 0 12px}nav{font-size:13px;margin:8px 0 16px}
nav a{margin-right:14px;color:#2856a3;text-decoration:none}
table{border-collapse:collapse;margin:6px 0 4px;font-size:13px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d8d8de;padding:4px 8px;vertical-align:top}
th{background:#f3f4f7;text-align:left;font-weight:600}td.r,th.r{text-align:right}
caption{caption-side:top;text-align:left;font-weight:600;padding:2px 0 6px}
.note{color:#555;font-size:12.5px;margin:2px 0 12px;white-space:pre-line}
.bad{color:#b3261e;font-weight:600}.warn{color:#8a6100}.ok{color:#1d7a34}.dim{color:#6b6b76}
.figure{margin:4px 0 8px}details{margin:8px 0}summary{cursor:pointer;font-weight:600}
.table-wrap{max-width:100%;overflow-x:auto}
pre{background:#f6f7f9;border:1px solid #e1e2e6;padding:8px 10px;overflow-x:auto;font-size:12px}
ul.findings{padding-left:18px}ul.findings li{margin:2px 0;font-family:ui-monospace,monospace;
 font-size:12.5px}
footer{margin-top:36px;border-top:1px solid #d0d0d7;padding-top:8px;font-size:12px;color:#555}
footer code{font-size:11.5px}
"""

# Records script errors (window.onerror) and, after load, how many plots rendered, the page's
# scroll width, how many parts of a section run past the page's right edge and how many figure
# menus cover plotly's toolbar (both 0: the layout fits): the browser test reads #render-status.
# Inline, like everything else: no network at view time.
STATUS_JS = """
window.__archprobeErrors=[];
window.addEventListener('error',function(e){window.__archprobeErrors.push(String(e.message));});
window.addEventListener('load',function(){setTimeout(function(){
 var s=document.getElementById('render-status');if(!s){return;}
 var errs=window.__archprobeErrors;
 s.setAttribute('data-status',errs.length?'error':'ok');
 s.setAttribute('data-plots',String(document.querySelectorAll('.js-plotly-plot').length));
 s.setAttribute('data-svgs',String(document.querySelectorAll('.js-plotly-plot .main-svg').length));
 s.setAttribute('data-height',String(document.documentElement.scrollHeight));
 s.setAttribute('data-width',String(document.documentElement.scrollWidth));
 var body=document.body,edge=body.getBoundingClientRect().right
  -parseFloat(getComputedStyle(body).paddingRight);
 var wide=Array.from(document.querySelectorAll('section > *')).filter(function(e){
  return e.getBoundingClientRect().right>edge+1;});
 s.setAttribute('data-wide',String(wide.length));
 var overlaps=0;
 document.querySelectorAll('.js-plotly-plot').forEach(function(p){
  var bar=p.querySelector('.modebar');if(!bar){return;}var b=bar.getBoundingClientRect();
  p.querySelectorAll('.updatemenu-header-group').forEach(function(m){
   var r=m.getBoundingClientRect();
   if(r.left<b.right&&b.left<r.right&&r.top<b.bottom&&b.top<r.bottom){overlaps++;}});});
 s.setAttribute('data-overlaps',String(overlaps));
 s.textContent=errs.join('\\n');},0);});
"""


def esc(text: object) -> str:
    """HTML-escape anything shown on the page (quotes too, so it is safe in attributes)."""
    return html.escape(str(text), quote=True)


def _text(cell: object) -> Text:
    """A rich table cell as Text: markup strings parsed, others as plain text."""
    if isinstance(cell, Text):
        return cell
    try:
        return Text.from_markup(str(cell))
    except MarkupError:
        return Text(str(cell))


def _cell_html(cell: object) -> str:
    """One cell: its plain text escaped, lines kept, styled spans mapped to CSS classes."""
    text = _text(cell)
    parts: list[str] = []
    for line in text.split("\n"):
        classes = [c for name, c in _STYLE_CLASSES if any(name in str(s.style) for s in line.spans)]
        body = esc(line.plain)
        parts.append(f'<span class="{classes[0]}">{body}</span>' if classes else body)
    return "<br>".join(parts)


def rich_table_html(table: Table) -> str:
    """A rich Table as an HTML table: same title, columns, cells and caption (escaped)."""
    right = [c.justify == "right" for c in table.columns]
    head = "".join(
        f"<th{' class=r' if r else ''}>{_cell_html(c.header)}</th>"
        for c, r in zip(table.columns, right, strict=True)
    )
    columns = [list(c.cells) for c in table.columns]
    rows = []
    for i in range(table.row_count):
        cells = "".join(
            f"<td{' class=r' if r else ''}>{_cell_html(col[i])}</td>"
            for col, r in zip(columns, right, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    title = f"<caption>{_cell_html(table.title)}</caption>" if table.title else ""
    caption = f'<div class="note">{_cell_html(table.caption)}</div>' if table.caption else ""
    body = f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return wrap_table(body) + caption


def wrap_table(table_html: str) -> str:
    """A table in a box as wide as the page that scrolls sideways: a table with many columns
    (memory at four batch sizes) never makes the page wider than the window."""
    return f'<div class="table-wrap">{table_html}</div>'


def simple_table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    """An HTML table from plain strings (escaped here); ``right`` = right-aligned columns."""

    def cell(tag: str, i: int, value: str) -> str:
        cls = " class=r" if right and i in right else ""
        return f"<{tag}{cls}>{esc(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows
    )
    return wrap_table(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


@dataclass
class Section:
    """One titled part of the page; ``parts`` are HTML fragments (already escaped)."""

    key: str
    title: str
    parts: list[str] = field(default_factory=list)


@dataclass
class Page:
    """The page being built: a title, sections in order, and the provenance stamp."""

    title: str
    lead: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, key: str, title: str) -> Section:
        """Start a section (its anchor is ``key``) and return it for adding parts."""
        s = Section(key, title)
        self.sections.append(s)
        return s


def _nav(page: Page) -> str:
    links = "".join(f'<a href="#{esc(s.key)}">{esc(s.title)}</a>' for s in page.sections)
    return f"<nav>{links}</nav>"


def _footer(stamp: Mapping[str, str]) -> str:
    items = " · ".join(f"{esc(k)} <code>{esc(v)}</code>" for k, v in stamp.items())
    status = '<div id="render-status" hidden data-status="pending"></div>'
    return f"<footer>{items}{status}</footer>"


def render_page(page: Page, stamp: Mapping[str, str], plotly_js: str) -> str:
    """The whole document: inline CSS and scripts, no external resources."""
    body = "".join(
        f'<section id="{esc(s.key)}"><h2>{esc(s.title)}</h2>{"".join(s.parts)}</section>'
        for s in page.sections
    )
    lead = f'<p class="lead">{esc(page.lead)}</p>' if page.lead else ""
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{esc(page.title)}</title><style>{CSS}</style>"
        f"<script>{STATUS_JS}</script>"
        f'<script type="text/javascript">{plotly_js}</script></head>\n'
        f"<body><h1>{esc(page.title)}</h1>{lead}{_nav(page)}{body}{_footer(stamp)}</body></html>\n"
    )

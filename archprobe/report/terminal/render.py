"""What every terminal view shares: a table that never cuts a number, plain (TSV-like) text of
any view, and the escaping of user text for rich markup.

Rich fits a table to the console's width and cuts what does not fit with ``…``; off a terminal
that width is a guess (80 columns, or the terminal that stderr happens to be on), so a piped
``archprobe solve`` once printed ``25,557,0…``. :class:`Table` renders at its natural width
when the output is not a terminal, and on a terminal never narrower than its columns that do
not wrap (numbers, names): those lines run past the edge instead, and the terminal wraps them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from rich import box as rich_box
from rich import table as rich_table
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.errors import MarkupError
from rich.markup import escape as _escape
from rich.measure import Measurement
from rich.text import Text

from archprobe.errors import printable

UNLIMITED = 1_000_000
"""A width no table reaches: measuring against it gives a table's natural width."""
CELL_LINES = " · "
"""What joins the lines of one cell in plain text (a plain row is one line)."""


def escape(text: object) -> str:
    """User text (spec names, aliases, sources, module paths, messages) made literal for rich
    markup, so ``[thop]`` or ``[/bold]x[/]`` print as written instead of being read as tags,
    and for the terminal: control characters are shown as escapes (``\\x1b``), not obeyed."""
    return _escape(printable(str(text)))


def writes_to_terminal(console: Console) -> bool:
    """Whether the console's file is a terminal (``FORCE_COLOR`` aside: colour is not width)."""
    isatty = getattr(console.file, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:  # a closed file
        return False


class Table(rich_table.Table):
    """A rich ``Table`` that never truncates its ``no_wrap`` columns (STYLE: numbers are exact).

    Off a terminal it renders at its natural width (each cell on as few lines as it has);
    on a terminal at the console's width, or wider when its unwrappable columns need it.
    Columns that may wrap should fold (``overflow="fold"``), so text wraps rather than ends
    in ``…``.
    """

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wide = options.update_width(UNLIMITED)
        natural = self.__rich_measure__(console, wide).maximum
        if writes_to_terminal(console):
            natural = max(options.max_width, natural - self._wrap_slack(console, wide))
        yield from super().__rich_console__(console, options.update_width(natural))

    def _wrap_slack(self, console: Console, options: ConsoleOptions) -> int:
        """How much narrower than its natural width the table can get by wrapping the columns
        that may wrap (each down to its longest word); ``no_wrap`` columns keep their width."""
        slack = 0
        for column in self.columns:
            if column.no_wrap:
                continue
            cells = [column.header, *column.cells] if self.show_header else list(column.cells)
            sizes = [Measurement.get(console, options, cell) for cell in cells]
            if sizes:
                slack += max(m.maximum for m in sizes) - max(m.minimum for m in sizes)
        return slack


_SIMPLE = {"justify": ("left", "right"), "ratio": (None,), "width": (None,),
           "min_width": (None,), "max_width": (None,)}  # fmt: skip
"""Column settings the fast path lays out as rich does (styles print nothing without colour)."""


def _literal(cell: object) -> str | None:
    """``cell`` as printed when it is text rich prints as it is (no markup, emoji or control
    characters, one cell per character), else None."""
    if not isinstance(cell, str) or any(c in cell for c in "[]\\:\n\t\r\x1b"):
        return None
    return cell if cell.isprintable() and cell_len(cell) == len(cell) else None


def _simple_table(table: Table, console: Console) -> bool:
    """Whether the fast path (:func:`fast_table_text`) prints exactly what rich would."""
    colourless = console.color_system is None and not console.legacy_windows
    utf = console.encoding.lower().startswith("utf")  # else rich swaps in an ASCII box
    return (
        colourless and utf and not writes_to_terminal(console)
        and table.box is rich_box.HEAVY_HEAD and table.show_header and table.show_edge
        and not (table.show_lines or table.show_footer or table.caption or table.leading
                 or table.collapse_padding or table.width or table.min_width or table.expand)
        and table.pad_edge and table.padding == (0, 1, 0, 1)
        and all(getattr(c, k) in ok for c in table.columns for k, ok in _SIMPLE.items())
        and not any(r.end_section for r in table.rows)
    )  # fmt: skip


def fast_table_text(table: Table, console: Console) -> str | None:
    """The table as rich prints it off a terminal without colour (natural width, heavy head
    box), built directly: rich's layout engine costs ~50 ms for the ~90-row catalog table of
    ``archprobe list`` (issue 16: start-up). None when the table uses anything else (styles,
    markup, wide characters, a caption...): rich renders those. tests/test_render.py checks the
    two agree."""
    if not _simple_table(table, console):
        return None
    columns = [[_literal(c.header), *map(_literal, c.cells)] for c in table.columns]
    title = _literal(table.title or "")
    if title is None or any(cell is None for col in columns for cell in col):
        return None
    cols = [[str(cell) for cell in col] for col in columns]
    widths = [max(len(cell) for cell in col) + 2 for col in cols]
    total = sum(widths) + len(widths) + 1
    if len(title) > total:
        return None
    lines = [_centred(title, total)] if title else []
    rule = {w: "━" * w for w in widths}
    lines.append("┏" + "┳".join(rule[w] for w in widths) + "┓")
    justify = [str(c.justify) for c in table.columns]  # the header's too, as in rich
    lines.append(_row([col[0] for col in cols], widths, justify, "┃"))
    lines.append("┡" + "╇".join(rule[w] for w in widths) + "┩")
    for i in range(1, table.row_count + 1):
        lines.append(_row([col[i] for col in cols], widths, justify, "│"))
    lines.append("└" + "┴".join("─" * w for w in widths) + "┘")
    return "\n".join(lines) + "\n"


def _centred(text: str, width: int) -> str:
    left = (width - len(text)) // 2
    return " " * left + text + " " * (width - len(text) - left)


def _row(cells: list[str], widths: list[int], justify: list[str], bar: str) -> str:
    parts = [
        " " + (cell.rjust(w - 2) if how == "right" else cell.ljust(w - 2)) + " "
        for cell, w, how in zip(cells, widths, justify, strict=True)
    ]
    return bar + bar.join(parts) + bar


def _plain(cell: object) -> str:
    """A cell's text without markup, its lines joined (:data:`CELL_LINES`)."""
    if isinstance(cell, Text):
        text = cell.plain
    else:
        try:
            text = Text.from_markup(str(cell), emoji=False).plain
        except MarkupError:  # not valid markup: shown as it is
            text = str(cell)
    return CELL_LINES.join(line.strip() for line in text.splitlines() if line.strip())


def table_text(table: rich_table.Table) -> str:
    """A table as tab-separated lines: ``# title``, the header, one line per row, then
    ``# caption`` lines. Cells keep their text (units and all), never cut."""
    columns = [list(c.cells) for c in table.columns]
    lines = [f"# {_plain(table.title)}"] if table.title else []
    if table.show_header:
        lines.append("\t".join(_plain(c.header) for c in table.columns))
    lines += ["\t".join(_plain(col[i]) for col in columns) for i in range(table.row_count)]
    if table.caption:
        caption = table.caption.plain if isinstance(table.caption, Text) else str(table.caption)
        lines += [f"# {_plain(line)}" for line in caption.splitlines() if line.strip()]
    return "\n".join(lines)


def plain_text(renderable: RenderableType) -> str:
    """Any view as plain text: tables as :func:`table_text`, strings as they are, Text
    without its styles, groups part by part, anything else rendered without colour."""
    if isinstance(renderable, rich_table.Table):
        return table_text(renderable)
    if isinstance(renderable, str):
        return renderable
    if isinstance(renderable, Text):
        return renderable.plain
    if isinstance(renderable, Group):
        return "\n".join(plain_text(r) for r in renderable.renderables)
    return to_text(renderable)


def plain_lines(renderables: Iterable[RenderableType]) -> str:
    """Several views as plain text, a blank line between two tables."""
    return "\n\n".join(plain_text(r) for r in renderables)


def to_text(renderable: Any, width: int = 120) -> str:
    """Render anything to text without colour (tables at their natural width, see
    :class:`Table`; other text wrapped at ``width``). Lines are not cropped at ``width``: a
    table wider than it (the memory table of two models: 8 columns) kept only its first
    columns in Markdown reports."""
    console = Console(width=width, file=io.StringIO(), color_system=None, emoji=False)
    console.print(renderable, crop=False)
    value = console.file.getvalue()  # type: ignore[attr-defined]
    return str(value)

"""report/terminal/render.py: tables never cut a number, plain text of any view, escaping."""

from __future__ import annotations

import io

from rich.console import Console, Group
from rich.text import Text

from archprobe.report.terminal.render import Table, escape, plain_text, table_text
from archprobe.units import signed, signed_percent, signed_si


class Terminal(io.StringIO):
    """A file that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _table() -> Table:
    t = Table(title="t")
    t.add_column("name", overflow="fold")
    t.add_column("MACs", justify="right", no_wrap=True)
    t.add_row("a long name that may wrap over several lines", "4,089,184,256")
    return t


def _render(file: io.StringIO, width: int) -> str:
    Console(file=file, width=width, color_system=None).print(_table(), crop=False)
    return file.getvalue()


def test_narrow_terminal_keeps_numbers_whole() -> None:
    text = _render(Terminal(), 20)
    assert "4,089,184,256" in text and "…" not in text
    assert max(len(line) for line in text.splitlines()) > 20  # runs past the edge instead


def test_wide_terminal_fits_and_files_get_the_natural_width() -> None:
    assert max(len(line) for line in _render(Terminal(), 200).splitlines()) < 80  # no padding
    lines = _render(io.StringIO(), 20).splitlines()  # not a terminal: one line per row
    assert any("a long name that may wrap over several lines" in line for line in lines)


def test_plain_text() -> None:
    assert table_text(_table()).splitlines() == [
        "# t",
        "name\tMACs",
        "a long name that may wrap over several lines\t4,089,184,256",
    ]
    t = Table(caption=escape("[thop] hint"))
    t.add_column(escape("[b]x"))
    t.add_row("[dim]1[/dim]\n2")
    assert table_text(t).splitlines() == ["[b]x", "1 · 2", "# [thop] hint"]
    assert plain_text(Group(Text("a", style="bold"), "b")) == "a\nb"


def test_one_minus_sign() -> None:
    assert signed(-2.1) == "−2.1" and signed(3.5) == "+3.5"
    assert signed_percent(97.9, 100) == "−2.1%" and signed_si(-528_128) == "−528.128 k"
    assert signed(-0.0109, ".2%") == "−1.09%"

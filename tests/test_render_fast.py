"""render.fast_table_text (the piped, colourless layout of a plain table, issue 16 start-up)
prints exactly what rich prints, byte for byte, and leaves to rich every table it cannot lay out
as rich does. The reference is rich's own rendering of the same table."""

from __future__ import annotations

import io
import random

import pytest
from rich.console import Console

from archprobe.cli.common import print_view
from archprobe.report.terminal.catalog import catalog_rows, catalog_table
from archprobe.report.terminal.render import Table, fast_table_text

WORDS = ["", "a", "resnet50", "x" * 37, "4,089,184,256", "224×224", "wide_resnet50_2", "é", "–5.1%"]


def rich_text(table: Table) -> str:
    file = io.StringIO()
    Console(file=file, color_system=None, emoji=False, width=80).print(table, crop=False)
    return file.getvalue()


def piped() -> Console:
    return Console(file=io.StringIO(), color_system=None, emoji=False, width=80)


def random_table(rng: random.Random) -> Table:
    title = rng.choice(["", "t", "a title longer than most of the tables it sits over" * 2])
    t = Table(title=title or None)
    for i in range(rng.randint(1, 6)):
        justify = rng.choice(["left", "right"])
        overflow = rng.choice(["fold", "ellipsis"])
        t.add_column(rng.choice(WORDS) or f"c{i}", justify=justify, overflow=overflow)
    for _ in range(rng.randint(0, 12)):
        t.add_row(*(rng.choice(WORDS) for _ in t.columns))
    return t


@pytest.mark.parametrize("seed", range(200))
def test_random_plain_tables_print_as_rich_prints_them(seed: int) -> None:
    table = random_table(random.Random(seed))
    fast = fast_table_text(table, piped())
    if fast is not None:  # e.g. a title wider than the table goes to rich (it wraps it)
        assert fast == rich_text(table)


def test_the_catalog_table_takes_the_fast_path_and_matches_rich() -> None:
    table = catalog_table(catalog_rows())
    fast = fast_table_text(table, piped())
    assert fast is not None and fast == rich_text(table)
    assert fast.count("\n") == table.row_count + 5  # title, 3 rules, header, rows


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.add_row("[bold]x[/]", *[""] * (len(t.columns) - 1)),  # markup
        lambda t: t.add_row("日本", *[""] * (len(t.columns) - 1)),  # two cells per character
        lambda t: setattr(t, "caption", "a caption"),
        lambda t: setattr(t, "show_lines", True),
        lambda t: t.columns[0].__setattr__("justify", "center"),
    ],
    ids=["markup", "wide", "caption", "lines", "center"],
)
def test_what_it_cannot_lay_out_goes_to_rich(change: object) -> None:
    table = Table(title="t")
    table.add_column("name")
    table.add_column("MACs", justify="right")
    table.add_row("resnet50", "4,089,184,256")
    assert fast_table_text(table, piped()) is not None
    assert callable(change)
    change(table)
    assert fast_table_text(table, piped()) is None


def test_a_terminal_a_recording_or_colour_gets_rich() -> None:
    table = Table(title="t")
    table.add_column("name")
    table.add_row("resnet50")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert fast_table_text(table, Console(file=Terminal(), color_system=None)) is None
    assert fast_table_text(table, Console(file=io.StringIO(), color_system="truecolor")) is None
    recording = Console(file=io.StringIO(), color_system=None, record=True)
    print_view([table], console=recording)
    assert "resnet50" in recording.export_text()

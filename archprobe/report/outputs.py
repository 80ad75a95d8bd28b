"""Every output of one report in one call: the terminal view and the files asked for.

``archprobe compare``, ``archprobe report`` and ``tools/regenerate_reports.py`` all end in
:func:`write_outputs`, so the three write the same files from the same assembly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from archprobe.report.assemble import Report
from archprobe.report.export import json_text, stamp, write_csv, write_json, write_markdown
from archprobe.report.terminal.render import plain_lines

STDOUT = Path("-")
"""As the JSON path: print the JSON on stdout, instead of the terminal view."""


@dataclass(frozen=True)
class Outputs:
    """Where a report goes.

    Attributes:
        json, csv, md, html: files to write (None: not written); parent folders are created.
            ``json`` may be :data:`STDOUT`: the JSON is printed instead of the terminal view.
        console: print the terminal view there (None: no terminal output).
        plain: print the terminal view as plain text (tables tab-separated, no colour).
        command: the command line the files' stamp names (default: this process's).
    """

    json: Path | None = None
    csv: Path | None = None
    md: Path | None = None
    html: Path | None = None
    console: Console | None = None
    plain: bool = False
    command: str | None = None

    @property
    def files(self) -> tuple[Path, ...]:
        """The files written (stdout is not one)."""
        paths = (self.json, self.csv, self.md, self.html)
        return tuple(p for p in paths if p is not None and p != STDOUT)


def print_report(report: Report, console: Console, plain: bool = False) -> None:
    """The terminal view: every section's renderables, as rich tables or plain text.

    Sentences (str parts) are printed as they are, never read as markup: they hold model names.
    """
    parts = report.renderables()
    if plain:
        console.file.write(plain_lines(parts) + "\n")
        return
    for part in parts:
        if isinstance(part, str):
            console.print(part, markup=False, highlight=False, emoji=False, soft_wrap=True)
        else:  # never cropped: a table wider than the terminal runs on (render.Table)
            console.print(part, crop=False)


def write_outputs(
    report: Report, outputs: Outputs, announce: Callable[[Path], None] | None = None
) -> tuple[Path, ...]:
    """Print the report and write its files (JSON, CSV, Markdown, HTML, in that order).

    Args:
        report: the assembled report (``assemble(comparison)``).
        outputs: what to print and which files to write.
        announce: called with each file's path before it is written.

    Returns:
        The files written.
    """
    provenance = stamp(report.device, outputs.command)
    if outputs.json == STDOUT:
        sys.stdout.write(json_text(report, provenance))
    elif outputs.console is not None:
        print_report(report, outputs.console, outputs.plain)
    writers: tuple[tuple[Path | None, Callable[[Path], None]], ...] = (
        (outputs.json, lambda path: write_json(report, path, provenance)),
        (outputs.csv, lambda path: write_csv(report, path)),
        (outputs.md, lambda path: write_markdown(report, path, provenance)),
        (outputs.html, lambda path: _write_html(report, path, provenance)),
    )
    for path, write in writers:
        if path is None or path == STDOUT:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if announce is not None:
            announce(path)
        write(path)
    return outputs.files


def _write_html(report: Report, path: Path, provenance: Mapping[str, str]) -> None:
    from archprobe.report.html.compare import write_html  # plotly: imported only when asked

    write_html(report, path, provenance)

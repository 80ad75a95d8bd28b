"""Every output of one report in one call: the terminal view and the files asked for.

``archprobe compare``, ``archprobe report`` and ``tools/regenerate_reports.py`` all end in
:func:`write_outputs`, so the three write the same files from the same assembly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from archprobe.errors import OutputError

if TYPE_CHECKING:  # the writers import on use: `compare` checks its outputs before it analyses
    from archprobe.report.assemble import Report

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
        return tuple(self.named().values())

    def named(self) -> dict[str, Path]:
        """The files written, by the option that names them (``--md``: its path)."""
        paths = {"--json": self.json, "--csv": self.csv, "--md": self.md, "--html": self.html}
        return {k: p for k, p in paths.items() if p is not None and p != STDOUT}


def check_outputs(named: Mapping[str, Path], inputs: Iterable[Path] = ()) -> None:
    """Refuse, before anything is computed or written, outputs that would fail or lose data:
    two outputs to one file (the second would replace the first), an output that is one of the
    ``inputs``, a folder, an empty path, or a path under a file.

    Raises:
        OutputError: ``--option PATH: problem; fix`` for the first such output.
    """
    inputs_at = {_key(p) for p in inputs}
    seen: dict[Path, str] = {}
    for option, path in named.items():
        where = f"{option} {path}"
        if str(path) in ("", "."):
            raise OutputError(f"{option}: empty path; give a file name")
        if path.is_dir():
            raise OutputError(f"{where}: is a folder; give a file path inside it")
        parent = next((a for a in path.parents if a.exists()), None)
        if parent is not None and not parent.is_dir():
            raise OutputError(f"{where}: {parent} is a file, not a folder; check the path")
        key = _key(path)
        if key in inputs_at:
            raise OutputError(f"{where}: is an input of this command, and writing would "
                              "replace it; give another path")  # fmt: skip
        if key in seen:
            raise OutputError(f"{where}: {seen[key]} is written there too, and one file cannot "
                              "hold both; give each output its own path")  # fmt: skip
        seen[key] = option


def _key(path: Path) -> Path:
    """One name for one file: ``a/../x.md`` and ``x.md`` are the same output."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: it fails when written, located there
        return path.absolute()


def print_report(report: Report, console: Console, plain: bool = False) -> None:
    """The terminal view: every section's renderables, as rich tables or plain text.

    Sentences (str parts) are printed as they are, never read as markup: they hold model names.
    """
    from archprobe.report.terminal.render import plain_lines

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
    from archprobe.report.export import json_text, stamp, write_csv, write_json, write_markdown

    check_outputs(outputs.named())
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
        write_located(path, write)
    return outputs.files


def write_located(path: Path, write: Callable[[Path], object]) -> None:
    """``write(path)``; an OS error that names no file (a full disk, ``/dev/full``) is given
    this path, so the one line the user sees says which output failed."""
    try:
        write(path)
    except OSError as exc:
        if not exc.filename:
            exc.filename = str(path)
        raise


def _write_html(report: Report, path: Path, provenance: Mapping[str, str]) -> None:
    from archprobe.report.html.compare import write_html  # plotly: imported only when asked

    write_html(report, path, provenance)

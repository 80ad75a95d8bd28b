"""Every output of one report in one call: the terminal view and the files asked for.

``archprobe compare``, ``archprobe report`` and ``tools/regenerate_reports.py`` all end in
:func:`write_outputs`, so the three write the same files from the same assembly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from archprobe.report.assemble import Report
from archprobe.report.export import stamp, write_csv, write_json, write_markdown


@dataclass(frozen=True)
class Outputs:
    """Where a report goes.

    Attributes:
        json, csv, md, html: files to write (None: not written); parent folders are created.
        console: print the terminal view there (None: no terminal output).
        command: the command line the files' stamp names (default: this process's).
    """

    json: Path | None = None
    csv: Path | None = None
    md: Path | None = None
    html: Path | None = None
    console: Console | None = None
    command: str | None = None

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.json, self.csv, self.md, self.html) if p is not None)


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
    if outputs.console is not None:
        for part in report.renderables():
            outputs.console.print(part)
    provenance = stamp(report.device, outputs.command)
    writers: tuple[tuple[Path | None, Callable[[Path], None]], ...] = (
        (outputs.json, lambda path: write_json(report, path, provenance)),
        (outputs.csv, lambda path: write_csv(report, path)),
        (outputs.md, lambda path: write_markdown(report, path, provenance)),
        (outputs.html, lambda path: _write_html(report, path, provenance)),
    )
    for path, write in writers:
        if path is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if announce is not None:
            announce(path)
        write(path)
    return outputs.files


def _write_html(report: Report, path: Path, provenance: Mapping[str, str]) -> None:
    from archprobe.report.html.compare import write_html  # plotly: imported only when asked

    write_html(report, path, provenance)

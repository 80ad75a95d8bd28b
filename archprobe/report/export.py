"""Exports of an assembled report: JSON and CSV of the Results rows, and a Markdown report.

Every file but the CSV is stamped with the archprobe and torch versions, the device and the
command that wrote it (DESIGN "Decisions": reports are reproducible artefacts).
"""

from __future__ import annotations

import csv
import json
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from archprobe.analysis.results import COLUMNS
from archprobe.report.assemble import ANALYTIC_DEVICE, Report
from archprobe.report.markdown import md_code, md_text


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def archprobe_version() -> str:
    """The installed version, or the source tree's when run from a checkout (``PYTHONPATH=.``)."""
    installed = _version("archprobe")
    if installed != "not installed":
        return installed
    from archprobe import __version__

    return f"{__version__} (source tree)"


def stamp(device: str = ANALYTIC_DEVICE, command: str | None = None) -> dict[str, str]:
    """Provenance of a report: versions, device, command and time (UTC).

    Args:
        device: what the measurements ran on (``Report.device``).
        command: the command line that wrote the report; default this process's
            ``archprobe ARGS``.
    """
    return {
        "archprobe": archprobe_version(),
        "torch": _version("torch"),
        "python": platform.python_version(),
        "device": device,
        "command": command or " ".join(["archprobe", *sys.argv[1:]]),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _findings(report: Report) -> dict[str, list[dict[str, Any]]]:
    from archprobe.report.terminal.checks import finding_record

    return {result.name: [finding_record(f) for f in result.findings] for result in report.checks}


def json_text(report: Report, provenance: Mapping[str, str] | None = None) -> str:
    """The stamp, the models, every Results row, the papers' printed figures and, for spec
    models, the check findings by model, as a JSON document."""
    c = report.comparison
    payload: dict[str, Any] = {
        "stamp": dict(provenance or stamp(report.device)),
        "models": [m.name for m in c.models],
        "rows": c.results.to_records(),
    }
    if report.paper:
        payload["paper"] = [asdict(p) for p in report.paper]
    if c.models:
        payload["findings"] = _findings(report)
    return json.dumps(payload, indent=1, default=str) + "\n"


def write_json(report: Report, path: Path, provenance: Mapping[str, str] | None = None) -> None:
    """:func:`json_text` written to ``path``."""
    path.write_text(json_text(report, provenance), encoding="utf-8")


def write_csv(report: Report, path: Path) -> None:
    """Long rows, one per (model, scope, op, metric, method); env keys become extra columns."""
    records = report.comparison.results.to_records()
    extra = list(dict.fromkeys(k for r in records for k in r if k not in COLUMNS))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*COLUMNS, *extra])
        writer.writeheader()
        writer.writerows(records)


def markdown(report: Report, provenance: Mapping[str, str] | None = None) -> str:
    """A Markdown report: the title, every section's Markdown (``Report.markdown_body``), then
    the stamp."""
    lines = [
        f"# {md_text(report.title)}",
        "",
        "MACs are multiply-accumulates (the papers' 'FLOPs'); all counts are per image.",
        "",
        *report.markdown_body(),
    ]
    items = (provenance or stamp(report.device)).items()
    lines += ["## Provenance", "", *(f"- {k}: {md_code(v)}" for k, v in items), ""]
    return "\n".join(lines)


def write_markdown(report: Report, path: Path, provenance: Mapping[str, str] | None = None) -> None:
    path.write_text(markdown(report, provenance), encoding="utf-8")


def write_sweep_csv(flat: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Stored sweep rows (``sweep.results.flat_row``), one a line: the key, every column, then
    the time it was stored."""
    fields = [f for f in dict.fromkeys(k for r in flat for k in r) if f not in ("key", "created")]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["key", *fields, "created"])
        writer.writeheader()
        writer.writerows(flat)

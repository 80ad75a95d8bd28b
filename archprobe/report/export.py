"""Exports of a Comparison: JSON and CSV of the Results rows, and a Markdown report.

Every file is stamped with the archprobe and torch versions, the device and the command that
wrote it (DESIGN "Decisions": reports are reproducible artefacts).
"""

from __future__ import annotations

import csv
import json
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from archprobe.analysis.compare import Comparison
from archprobe.analysis.paper import paper_checks
from archprobe.analysis.results import COLUMNS
from archprobe.analysis.stages import stage_rows
from archprobe.units import binary_bytes, si


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _archprobe_version() -> str:
    """The installed version, or the source tree's when run from a checkout (``PYTHONPATH=.``)."""
    installed = _version("archprobe")
    if installed != "not installed":
        return installed
    from archprobe import __version__

    return f"{__version__} (source tree)"


def stamp(device: str = "analytic (no device)") -> dict[str, str]:
    """Provenance of a report: versions, device, command and time (UTC)."""
    return {
        "archprobe": _archprobe_version(),
        "torch": _version("torch"),
        "python": platform.python_version(),
        "device": device,
        "command": " ".join(["archprobe", *sys.argv[1:]]),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def write_json(comparison: Comparison, path: Path, device: str = "analytic (no device)") -> None:
    payload: dict[str, Any] = {
        "stamp": stamp(device),
        "models": [m.name for m in comparison.models],
        "rows": comparison.results.to_records(),
    }
    path.write_text(json.dumps(payload, indent=1, default=str) + "\n", encoding="utf-8")


def write_csv(comparison: Comparison, path: Path) -> None:
    """Long rows, one per (model, scope, op, metric, method); env keys become extra columns."""
    records = comparison.results.to_records()
    extra = list(dict.fromkeys(k for r in records for k in r if k not in COLUMNS))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*COLUMNS, *extra])
        writer.writeheader()
        writer.writerows(records)


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in rows)]


def _stage_section(comparison: Comparison) -> list[str]:
    per_model = {
        m.name: {r.label: r for r in stage_rows(m.graph, m.results, ("params", "macs"))}
        for m in comparison.models
    }
    labels = list(dict.fromkeys(label for rows in per_model.values() for label in rows))
    rows = []
    for label in labels:
        cells = [label]
        for rows_of in per_model.values():
            r = rows_of.get(label)
            cells.append(
                "—"
                if r is None
                else f"{r.output}: {r.shape}<br>{si(r.values['params'])} params, "
                f"{si(r.values['macs'], 'MAC')}"
            )
        rows.append(cells)
    return ["## Stages", "", *_md_table(["stage", *per_model], rows), ""]


def _totals_section(comparison: Comparison) -> list[str]:
    metrics = (
        ("params", "params"),
        ("macs", "MACs"),
        ("acts", "activations (elements)"),
        ("bytes_read", "bytes read (fp32)"),
        ("bytes_written", "bytes written (fp32)"),
    )
    base = comparison.baseline.results
    rows = []
    for metric, label in metrics:
        cells = [label]
        for m in comparison.models:
            v = m.results.total(metric)
            text = binary_bytes(v) if metric.startswith("bytes") else f"{v:,.0f}"
            ref = base.total(metric)
            cells.append(text if m is comparison.baseline else f"{text} ({(v - ref) / ref:+.1%})")
        rows.append(cells)
    header = ["metric", *(m.name for m in comparison.models)]
    return ["## Totals (per image)", "", *_md_table(header, rows), ""]


def _paper_section(comparison: Comparison) -> list[str]:
    checks = [c for m in comparison.models for c in paper_checks(m)]
    if not checks:
        return []
    rows = [
        [
            c.model,
            c.source,
            c.metric,
            c.printed,
            f"{c.exact:,.0f}" + (" (w/o BN)" if c.convention == "without_bn" else ""),
            c.agreement or "DIFFERS",
        ]
        for c in checks
    ]
    header = ["model", "source", "metric", "printed", "exact", "agrees"]
    return ["## Paper vs exact", "", *_md_table(header, rows), ""]


def markdown(
    comparison: Comparison, extra: list[str] | None = None, device: str = "analytic (no device)"
) -> str:
    """A Markdown report: stages, totals, paper check, any extra sections, then the stamp."""
    names = " vs ".join(comparison.results.models)
    lines = [
        f"# {names}",
        "",
        "MACs are multiply-accumulates (the papers' 'FLOPs'); all counts are per image.",
        "",
    ]
    if comparison.models:  # spec models (profiled modules come as extra sections)
        lines += _stage_section(comparison) + _totals_section(comparison)
        lines += _paper_section(comparison)
    lines += extra or []
    lines += ["## Provenance", "", *(f"- {k}: `{v}`" for k, v in stamp(device).items()), ""]
    return "\n".join(lines)


def write_markdown(
    comparison: Comparison,
    path: Path,
    extra: list[str] | None = None,
    device: str = "analytic (no device)",
) -> None:
    path.write_text(markdown(comparison, extra, device), encoding="utf-8")

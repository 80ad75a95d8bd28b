"""``archprobe compare``: parse options, call :func:`archprobe.compare.compare`, render.

torch is imported only when an option needs it (counters, measurements).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from archprobe.cli_common import err, out, ready, user_errors

if TYPE_CHECKING:
    from archprobe.compare import Comparison

SpecsArg = Annotated[
    list[str],
    typer.Argument(help="Two or more catalog names or YAML paths; the first is the baseline."),
]
CountersOpt = Annotated[
    bool,
    typer.Option(
        "--counters",
        help="Reconcile analytic MACs with FlopCounterMode, fvcore and thop, by op category.",
    ),
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the result rows as JSON.")]
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Write the result rows as CSV.")]
MdOpt = Annotated[Path | None, typer.Option("--md", help="Write a Markdown report.")]


def compare(
    specs: SpecsArg,
    counters: CountersOpt = False,
    json_path: JsonOpt = None,
    csv_path: CsvOpt = None,
    md_path: MdOpt = None,
) -> None:
    """Stage-aligned comparison with totals, deltas and the papers' printed figures.

    Example: archprobe compare resnet50 resnext50 --counters --md reports/r50_vs_x50.md
    """
    from archprobe.compare import Measure
    from archprobe.compare import compare as compare_models

    with user_errors():
        comparison = compare_models(list(specs), measure=Measure(counters=counters))
        render(comparison)
        export(comparison, json_path, csv_path, md_path)


def render(comparison: Comparison) -> None:
    """Print every section of a comparison, analytic first."""
    from archprobe.report.table import compare_table, paper_table, totals_table

    out.print(compare_table(comparison.models))
    out.print(totals_table(comparison.models))
    paper = paper_table(comparison.models)
    if paper is not None:
        out.print(paper)
    if "counters" in comparison.sections:
        from archprobe.report.counters import reconciliation_table

        for rec in comparison.sections["counters"]:
            out.print(reconciliation_table(rec))


def export(
    comparison: Comparison,
    json_path: Path | None,
    csv_path: Path | None,
    md_path: Path | None,
    device: str = "analytic (no device)",
) -> None:
    """Write the requested exports of the same rows."""
    from archprobe.report import export as exports

    if json_path is not None:
        exports.write_json(comparison, ready(json_path), device)
    if csv_path is not None:
        exports.write_csv(comparison, ready(csv_path))
    if md_path is not None:
        exports.write_markdown(comparison, ready(md_path), None, device)
    if not (json_path or csv_path or md_path):
        err.print("(add --md/--csv/--json PATH to save this report)")

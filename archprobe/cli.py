"""The ``archprobe`` command: thin typer wrappers over library functions (STYLE rule 12).

Start-up matters: nothing here imports torch or pandas; commands that need them import lazily.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.syntax import Syntax

from archprobe.errors import ArchprobeError

if TYPE_CHECKING:
    from archprobe.compare import Comparison

app = typer.Typer(
    help="Exact params, MACs, activations and memory traffic of ResNet/ResNeXt-style CNNs, "
    "from declarative YAML specs. MACs are multiply-accumulates (the papers' 'FLOPs').",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)

SpecArg = Annotated[
    str, typer.Argument(help="Catalog name or alias (see `archprobe list`), or a YAML path.")
]


@contextmanager
def user_errors() -> Iterator[None]:
    """Print user errors once, compiler-style, and exit 1 (traceback if ARCHPROBE_DEBUG=1)."""
    try:
        yield
    except ArchprobeError as exc:
        if os.environ.get("ARCHPROBE_DEBUG") == "1":
            raise
        err.print(exc.format() if hasattr(exc, "format") else str(exc))
        raise typer.Exit(1) from None


@app.command("list")
def list_cmd() -> None:
    """List the catalog with params and MACs.

    Example: archprobe list
    """
    from archprobe.analytic import analyze_spec
    from archprobe.report.table import catalog_table
    from archprobe.spec import list_specs

    with user_errors():
        entries = [(e, analyze_spec(e.path)) for e in list_specs()]
        entries.sort(key=lambda ea: (ea[0].path.parent.name, ea[1].results.total("macs")))
        out.print(catalog_table(entries))


@app.command()
def show(
    spec: SpecArg,
    resolved: Annotated[
        bool, typer.Option(help="Print the fully resolved spec (extends merged, per-stage blocks).")
    ] = False,
) -> None:
    """Print a spec file, or with --resolved the spec after `extends:` and stage defaults.

    Example: archprobe show resnext50 --resolved
    """
    import yaml

    from archprobe.spec import find_spec, load_spec

    with user_errors():
        path = find_spec(spec)
        if resolved:
            data = load_spec(path).model_dump(mode="json")
            text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
        else:
            text = path.read_text(encoding="utf-8")
        out.print(f"# {path}", style="dim")
        out.print(
            Syntax(text, "yaml", theme="ansi_dark", background_color="default", word_wrap=True)
        )


@app.command()
def analyze(spec: SpecArg) -> None:
    """Per-stage table: output size, block shape, params, MACs, activations, bytes moved.

    Example: archprobe analyze resnext50_32x4d
    """
    from archprobe.analytic import analyze_spec
    from archprobe.report.table import stage_table

    with user_errors():
        out.print(stage_table(analyze_spec(spec)))


JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the result rows as JSON.")]
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Write the result rows as CSV.")]
MdOpt = Annotated[Path | None, typer.Option("--md", help="Write a Markdown report.")]
SpecsArg = Annotated[
    list[str],
    typer.Argument(help="Two or more catalog names or YAML paths; the first is the baseline."),
]


@app.command()
def compare(
    specs: SpecsArg, json_path: JsonOpt = None, csv_path: CsvOpt = None, md_path: MdOpt = None
) -> None:
    """Stage-aligned comparison with totals, deltas and the papers' printed figures.

    Example: archprobe compare resnet50 resnext50 --md reports/resnet50_vs_resnext50.md
    """
    from archprobe.compare import compare as compare_models
    from archprobe.report.table import compare_table, paper_table, totals_table

    with user_errors():
        comparison = compare_models(list(specs))
        out.print(compare_table(comparison.models))
        out.print(totals_table(comparison.models))
        paper = paper_table(comparison.models)
        if paper is not None:
            out.print(paper)
        _export(comparison, json_path, csv_path, md_path)


def _export(
    comparison: Comparison,
    json_path: Path | None,
    csv_path: Path | None,
    md_path: Path | None,
    extra_md: list[str] | None = None,
    device: str = "analytic (no device)",
) -> None:
    """Write the requested exports of the same rows; say where each went (on stderr)."""
    from archprobe.report import export

    if json_path is not None:
        export.write_json(comparison, _ready(json_path), device)
    if csv_path is not None:
        export.write_csv(comparison, _ready(csv_path))
    if md_path is not None:
        export.write_markdown(comparison, _ready(md_path), extra_md, device)


def _ready(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    err.print(f"writing {path}")
    return path


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Write the JSON Schema of spec files (for editor completion and validation).

    Example: archprobe schema -o archprobe.schema.json
    """
    from archprobe.spec.jsonschema import file_schema

    text = json.dumps(file_schema(), indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        err.print(f"wrote {output}")


def _register_subcommands() -> None:
    # Commands whose code lives in their own modules (kept small; imports stay lazy inside).
    from archprobe.cli_check import check

    app.command("check")(check)


_register_subcommands()


def main() -> None:
    """Console-script entry point."""
    app()

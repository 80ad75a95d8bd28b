"""The ``archprobe`` command: thin typer wrappers over library functions (STYLE rule 12).

Start-up matters: nothing here imports torch or pandas; commands that need them import lazily.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.syntax import Syntax

from archprobe.cli_common import err, out, user_errors

app = typer.Typer(
    help="Exact params, MACs, activations and memory traffic of ResNet/ResNeXt-style CNNs, "
    "from declarative YAML specs. MACs are multiply-accumulates (the papers' 'FLOPs').",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
SpecArg = Annotated[
    str, typer.Argument(help="Catalog name or alias (see `archprobe list`), or a YAML path.")
]


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
    from archprobe.cli_compare import compare
    from archprobe.cli_report import report

    app.command("compare")(compare)
    app.command("report")(report)
    app.command("check")(check)


_register_subcommands()


def main() -> None:
    """Console-script entry point."""
    app()

"""The ``archprobe`` command: thin typer wrappers over library functions (STYLE rule 12).

Start-up matters: nothing here imports torch or pandas; commands that need them import lazily.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from archprobe.cli.common import err, out, user_errors
from archprobe.cli.options import (
    InputShapeOpt,
    KwargsOpt,
    ModuleOpt,
    OptionalSpecArg,
    ResolvedOpt,
    SchemaOutputOpt,
    SpecArg,
    TraitsOpt,
)

app = typer.Typer(
    help="Exact params, MACs, activations and memory traffic of ResNet/ResNeXt-style CNNs, "
    "from declarative YAML specs. MACs are multiply-accumulates (the papers' 'FLOPs').",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("list")
def list_cmd(traits: TraitsOpt = False) -> None:
    """List the catalog with params and MACs; --traits: the traits and what each one sets.

    Example: archprobe list; archprobe list --traits
    """
    from archprobe.analysis.analytic import analyze_spec
    from archprobe.report.terminal.table import catalog_table
    from archprobe.spec import list_specs

    with user_errors():
        if traits:
            out.print(_traits_table())
            return
        entries = [(e, analyze_spec(e.path)) for e in list_specs()]
        entries.sort(key=lambda ea: (ea[0].path.parent.name, ea[1].results.total("macs")))
        out.print(catalog_table(entries))


def _traits_table() -> Table:
    """Each trait: its catalog name, file and the key paths it sets."""
    from archprobe.spec.catalog import list_traits
    from archprobe.spec.loader import load_trait

    t = Table(title=Text("archprobe traits: mix in with `extends: [base, trait]`"))
    for column in ("trait", "file", "sets"):
        t.add_column(column, no_wrap=column != "sets")
    for entry in list_traits():
        sets = load_trait(entry.path).items()
        shown = ", ".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}" for k, v in sets)
        t.add_row(Text(entry.name), Text(_shown_path(entry.path)), Text(shown))  # no markup
    return t


def _shown_path(path: Path) -> str:
    """A path relative to the working directory when under it, else as given."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


@app.command()
def show(spec: SpecArg, resolved: ResolvedOpt = False) -> None:
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
def analyze(
    spec: OptionalSpecArg = None,
    module: ModuleOpt = None,
    input_shape: InputShapeOpt = None,
    kwargs: KwargsOpt = None,
) -> None:
    """Per-stage table: output size, block shape, params, MACs, activations, bytes moved.

    Example: archprobe analyze resnext50_32x4d; archprobe analyze --module mymodels:my_resnet
    """
    with user_errors():
        if module is not None:
            _analyze_module(module, input_shape, kwargs)
            return
        if spec is None:
            raise typer.BadParameter("give a spec name or path, or --module pkg.mod:factory")
        from archprobe.analysis.analytic import analyze_spec
        from archprobe.report.terminal.table import stage_table

        out.print(stage_table(analyze_spec(spec)))


def _analyze_module(ref: str, input_shape: str | None, kwargs: str | None) -> None:
    """``--module``: import, profile (torch, imported only here) and print the tables."""
    from archprobe.analysis.counters.profile import profile
    from archprobe.builder.user_model import load_module, parse_kwargs, parse_shape
    from archprobe.report.terminal.profile import category_table, profile_lines, scope_table

    model = load_module(ref, parse_kwargs(kwargs))
    shape = parse_shape(input_shape) if input_shape else None
    p = profile(model, input_shape=shape, name=None)
    out.print(scope_table(p))
    out.print(category_table(p))
    for line in profile_lines(p):
        out.print(line, markup=False, highlight=False)


@app.command()
def schema(output: SchemaOutputOpt = None) -> None:
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
    from archprobe.cli.check import check
    from archprobe.cli.compare import compare
    from archprobe.cli.report import report
    from archprobe.cli.sweep import solve, sweep_app

    app.command("compare")(compare)
    app.command("report")(report)
    app.command("check")(check)
    app.command("solve")(solve)
    app.add_typer(sweep_app, name="sweep")


_register_subcommands()


def main() -> None:
    """Console-script entry point: a plugin that failed to load stops every command, since a
    spec using its parts would otherwise read as an unknown type."""
    from archprobe.blocks.plugins import PluginError, check

    try:
        check()
    except PluginError as exc:
        err.print(str(exc))
        raise SystemExit(1) from None
    app()

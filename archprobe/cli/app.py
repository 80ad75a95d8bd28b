"""The ``archprobe`` command: thin typer wrappers over library functions (STYLE rule 12).

Start-up matters: nothing here imports torch or pandas; commands that need them import lazily.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from archprobe.cli import main as main  # the entry point (kept here for its old import path)
from archprobe.cli.boundary import BoundaryGroup, Command
from archprobe.cli.common import emit, err, out, ready, user_errors
from archprobe.cli.options import (
    HELP_OPTIONS,
    CheckOpt,
    InputShapeOpt,
    JsonOutOpt,
    KwargsOpt,
    ModuleOpt,
    OptionalSpecArg,
    PlainOpt,
    ResolvedOpt,
    SchemaOutputOpt,
    SpecArg,
    TraitsOpt,
    VersionOpt,
)

if TYPE_CHECKING:
    from rich.console import RenderableType

app = typer.Typer(
    cls=BoundaryGroup,  # every command inside the one error boundary (cli/boundary.py)
    help="Exact params, MACs, activations and memory traffic of ResNet/ResNeXt-style CNNs, "
    "from declarative YAML specs. MACs are multiply-accumulates (the papers' 'FLOPs').",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": HELP_OPTIONS},
)


@app.callback()
def _app_options(version: VersionOpt = False) -> None:
    # Options of `archprobe` itself (before a command); --version acts in its callback.
    del version


@app.command("list", cls=Command)
def list_cmd(
    traits: TraitsOpt = False, json_out: JsonOutOpt = False, plain: PlainOpt = False
) -> None:
    """List the catalog with params and MACs; --traits: the traits and what each one sets.

    Example: archprobe list; archprobe list --traits
    """
    with user_errors():
        if traits:
            from archprobe.report.terminal.table import trait_records, traits_table

            rows = trait_records()
            emit(json_out, plain, lambda: [traits_table(rows)], lambda: rows)
            return
        from archprobe.report.terminal.catalog import catalog_records, catalog_rows, catalog_table

        models = catalog_rows()
        emit(json_out, plain, lambda: [catalog_table(models)], lambda: catalog_records(models))


@app.command(cls=Command)
def show(spec: SpecArg, resolved: ResolvedOpt = False, check: CheckOpt = True) -> None:
    """Print a spec file as it is, or with --resolved as YAML after `extends:` and stage
    defaults; then validate it (errors on stderr, exit 1), unless --no-check.

    Example: archprobe show resnext50 > my_x50.yaml; archprobe show resnext50 --resolved
    """
    from archprobe.report.terminal.spec import print_spec, resolved_yaml
    from archprobe.spec import find_spec, load_spec
    from archprobe.spec.loader import check_file

    with user_errors():
        path = find_spec(spec)
        err.print(f"# {path}" + (" (resolved)" if resolved else ""))
        data = resolved_yaml(load_spec(path)).encode() if resolved else path.read_bytes()
        print_spec(data, out)
        if check and not resolved:  # --resolved has loaded (so validated) it already
            check_file(path)


@app.command(cls=Command)
def analyze(
    spec: OptionalSpecArg = None,
    module: ModuleOpt = None,
    input_shape: InputShapeOpt = None,
    kwargs: KwargsOpt = None,
    json_out: JsonOutOpt = False,
    plain: PlainOpt = False,
) -> None:
    """Per-stage table: output size, block shape, params, MACs, activations, bytes moved.

    Example: archprobe analyze resnext50_32x4d; archprobe analyze --module mymodels:my_resnet
    """
    with user_errors():
        if module is not None:
            _analyze_module(module, input_shape, kwargs, json_out, plain)
            return
        if spec is None:
            raise typer.BadParameter("give a spec name or path, or --module pkg.mod:factory")
        from archprobe.analysis.analytic import analyze_spec
        from archprobe.report.terminal.table import stage_records, stage_table

        a = analyze_spec(spec)
        emit(json_out, plain, lambda: [stage_table(a)], lambda: stage_records(a))


def _analyze_module(
    ref: str, input_shape: str | None, kwargs: str | None, json_out: bool, plain: bool
) -> None:
    """``--module``: import, profile (torch, imported only here) and print the tables, titled
    with the user's reference (the catalog spec it matches is a line of its own)."""
    from archprobe.analysis.counters.profile import profile
    from archprobe.builder.user_model import load_module, parse_kwargs, parse_shape
    from archprobe.report.terminal.profile import (
        category_table,
        profile_lines,
        profile_records,
        scope_table,
    )

    model = load_module(ref, parse_kwargs(kwargs))
    shape = parse_shape(input_shape) if input_shape else None
    p = profile(model, input_shape=shape, name=ref, backward=True)

    def views() -> list[RenderableType]:
        return [scope_table(p), category_table(p), "\n".join(profile_lines(p))]

    emit(json_out, plain, views, lambda: profile_records(p))


@app.command(cls=Command)
def schema(output: SchemaOutputOpt = None) -> None:
    """Write the JSON Schema of spec files (for editor completion and validation).

    Example: archprobe schema -o archprobe.schema.json
    """
    from archprobe.report.outputs import check_outputs, write_located
    from archprobe.spec.jsonschema import file_schema

    text = json.dumps(file_schema(), indent=2)
    if output is None:
        typer.echo(text)
        return
    check_outputs({"--output": output})
    write_located(ready(output), lambda path: path.write_text(text + "\n", encoding="utf-8"))


def _register_subcommands() -> None:
    # Commands whose code lives in their own modules (kept small; imports stay lazy inside).
    from archprobe.cli.check import check
    from archprobe.cli.compare import compare
    from archprobe.cli.report import report
    from archprobe.cli.sweep import solve, sweep_app

    app.command("compare", cls=Command)(compare)
    app.command("report", cls=Command)(report)
    app.command("check", cls=Command)(check)
    app.command("solve", cls=Command)(solve)
    app.add_typer(sweep_app, name="sweep")


_register_subcommands()

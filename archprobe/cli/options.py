"""Every option and argument of every ``archprobe`` command, as ``Annotated`` aliases (STYLE 13),
and the parsers of the option values that typer cannot check by type alone.

An option without an explicit name takes it from the parameter that uses it (``batch`` →
``--batch``), so a command keeps its option names by keeping its parameter names.
Imports nothing beyond typer: every command module can import this at start-up.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from archprobe.units import parse_positive_ints


# --- number checks typer does not make -----------------------------------------------------------
def finite(value: float | None) -> float | None:
    """An option's float, refused when NaN or infinite: ``float("nan")`` parses, passes every
    ``min=`` bound (NaN compares false) and would reach the measurement or the solver."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value


def positive_finite(value: float | None) -> float | None:
    """A finite option value above zero (a cost target: params or MACs)."""
    if finite(value) is not None and value is not None and value <= 0:
        raise typer.BadParameter(f"{value:g} is not above zero (a params or MACs count)")
    return value


# --- every command -----------------------------------------------------------------------------
HELP_OPTIONS = ["-h", "--help"]
"""``-h`` beside ``--help`` on every command (the app's ``context_settings``)."""


def _print_version(value: bool) -> None:
    if value:
        from archprobe.report.export import archprobe_version

        typer.echo(f"archprobe {archprobe_version()}")
        raise typer.Exit()


VersionOpt = Annotated[
    bool,
    typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
]
PlainOpt = Annotated[
    bool,
    typer.Option(
        "--plain", help="Print tables as plain text: tab-separated columns, one row a line."
    ),
]
JsonOutOpt = Annotated[
    bool,
    typer.Option("--json", help="Print what the table shows as JSON (exact numbers) instead."),
]

# --- specs (list, show, analyze, schema) -------------------------------------------------------
SpecArg = Annotated[
    str, typer.Argument(help="Catalog name or alias (see `archprobe list`), or a YAML path.")
]
ResolvedOpt = Annotated[
    bool,
    typer.Option(help="Print the fully resolved spec as YAML (extends merged, per-stage blocks)."),
]
CheckOpt = Annotated[
    bool,
    typer.Option(
        "--check/--no-check", help="Validate the spec after printing it (exit 1 if invalid)."
    ),
]
OptionalSpecArg = Annotated[
    str | None,
    typer.Argument(help="Catalog name or alias, or a YAML path (omit with --module)."),
]
ModuleOpt = Annotated[
    str | None,
    typer.Option("--module", help="Profile a model: package.module:factory (imports torch)."),
]
InputShapeOpt = Annotated[
    str | None, typer.Option("--input", help="Input shape with --module, e.g. 1,3,224,224.")
]
KwargsOpt = Annotated[
    str | None,
    typer.Option("--kwargs", help="JSON factory arguments: '{\"num_classes\": 10}'."),
]
SchemaOutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
]

# --- compare and report -------------------------------------------------------------------------
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
MemoryOpt = Annotated[
    bool,
    typer.Option("--memory", help="Predict inference and training memory at each --batch."),
]
ReportCountersOpt = Annotated[
    bool,
    typer.Option("--counters/--no-counters", help="Reconcile analytic MACs with other counters."),
]
ReportMemoryOpt = Annotated[
    bool, typer.Option("--memory/--no-memory", help="Predict inference and training memory.")
]
MeasureOpt = Annotated[
    str,
    typer.Option(
        "--measure",
        help="Comma list of measurements: latency (median ± IQR), memory (predicted vs measured).",
    ),
]
RooflineOpt = Annotated[
    bool, typer.Option("--roofline", help="Per-layer roofline at the largest --batch.")
]
BatchOpt = Annotated[str, typer.Option("--batch", help="Batch sizes, comma-separated: 1,32,256.")]
DeviceOpt = Annotated[
    str, typer.Option("--device", help="auto (CUDA if present), cpu, cuda or cuda:N.")
]
DtypeOpt = Annotated[
    str, typer.Option("--dtype", help="fp32, or fp16/bf16 under autocast (latency, roofline).")
]
ChannelsLastOpt = Annotated[
    bool, typer.Option("--channels-last", help="Measure in NHWC (channels_last) memory format.")
]
CompileOpt = Annotated[bool, typer.Option("--compile", help="torch.compile before timing.")]
OptimizerOpt = Annotated[
    str, typer.Option("--optimizer", help="Training memory: sgd, sgd_momentum or adam.")
]


MinTimeOpt = Annotated[
    float,
    typer.Option(
        "--min-time", min=0.01, max=600.0, callback=finite,
        help="Seconds of timed rounds per model and batch (0.01 to 600).",
    ),
]  # fmt: skip
ThreadsOpt = Annotated[
    int | None,
    typer.Option("--threads", min=1, help="CPU intra-op threads (default: one per physical core)."),
]
JsonOpt = Annotated[
    Path | None,
    typer.Option("--json", help="Write the result rows as JSON (`-`: print them, no tables)."),
]
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Write the result rows as CSV.")]
MdOpt = Annotated[Path | None, typer.Option("--md", help="Write a Markdown report.")]
HtmlOpt = Annotated[
    Path | None, typer.Option("--html", help="Write a self-contained HTML report (offline).")
]

# --- check ---------------------------------------------------------------------------------------
TargetsArg = Annotated[
    list[str],
    typer.Argument(
        help="`forms` (ResNeXt Fig. 3), `depth2` (Fig. 4), `equivalences` (BN folding, "
        "shortcuts A/B, plain vs residual), or spec names / YAML paths to check.",
        show_default=False,
    ),
]
CardinalityOpt = Annotated[int, typer.Option("--cardinality", "-C", min=1, help="C, paths.")]
WidthOpt = Annotated[int, typer.Option("--width", "-d", min=1, help="d, width of each path.")]
ChannelsOpt = Annotated[
    int | None,
    typer.Option(min=1, help="Block channels (default 256 for forms, 64 for depth2)."),
]
SizeOpt = Annotated[int, typer.Option(min=1, help="Feature map side for costs and timing.")]
ProofBatchOpt = Annotated[int, typer.Option(min=1, help="Images per timed forward (forms).")]
TimeOpt = Annotated[bool, typer.Option("--time/--no-time", help="Time the forms (CPU, CUDA).")]
ProofMinTimeOpt = Annotated[
    float,
    typer.Option(min=0.01, callback=finite, help="Seconds measured per form and device (forms)."),
]

# --- solve ---------------------------------------------------------------------------------------
BaseArg = Annotated[str, typer.Argument(help="Catalog name or YAML path of the base network.")]
GroupsOpt = Annotated[str, typer.Option(help="Cardinalities, comma-separated.")]
PreserveOpt = Annotated[
    str, typer.Option(help="block-params|block-macs|stage-params|net-params|net-macs")
]
PerStageOpt = Annotated[
    bool, typer.Option(help="One d per stage (net-params/net-macs): lands within ~1%.")
]
TargetOpt = Annotated[
    float | None,
    typer.Option(
        callback=positive_finite, help="Target value instead of the base's (e.g. 4.1e9 MACs)."
    ),
]

# --- sweep run / results -------------------------------------------------------------------------
SweepFileArg = Annotated[Path, typer.Argument(help="Sweep file (specs/sweeps/*.yaml).")]
DbOpt = Annotated[Path | None, typer.Option(help="SQLite file (default: PATH with .db).")]
ExecutorOpt = Annotated[
    str, typer.Option(help="auto | inline | pool | ray (auto: pool when --workers > 1).")
]
WorkersOpt = Annotated[int, typer.Option(min=1, help="Processes (pool) or CPUs (local Ray).")]
AddressOpt = Annotated[
    str | None, typer.Option(help="Ray cluster address (ray executor); none: a local Ray.")
]
DbArg = Annotated[Path, typer.Argument(help="SQLite file written by `archprobe sweep run`.")]
SweepCsvOpt = Annotated[Path | None, typer.Option(help="Write every row as CSV.")]
SweepHtmlOpt = Annotated[
    Path | None, typer.Option(help="Write an offline HTML report: Pareto fronts, EDFs, trends.")
]

# --- value parsers -------------------------------------------------------------------------------
MEASUREMENTS = ("latency", "memory")
CHOICES = {"dtype": ("fp32", "fp16", "bf16"), "optimizer": ("sgd", "sgd_momentum", "adam")}


def parse_choice(name: str, value: str) -> str:
    """``value`` when it is one of the choices of option ``--name``, else a usage error."""
    if value not in CHOICES[name]:
        raise typer.BadParameter(
            f"{value!r}; allowed: {', '.join(CHOICES[name])}", param_hint=f"--{name}"
        )
    return value


def parse_ints(text: str, example: str, hint: str | None = None) -> tuple[int, ...]:
    """Comma-separated positive integers, else a usage error (naming ``hint``, the option)."""
    values = parse_positive_ints(text)
    if values is None:
        raise typer.BadParameter(
            f"{text!r}; expected positive integers like {example}", param_hint=hint
        )
    return values


def parse_batches(text: str) -> tuple[int, ...]:
    return parse_ints(text, "1,32,256", "--batch")


def parse_measurements(text: str) -> set[str]:
    """The ``--measure`` list, each one of :data:`MEASUREMENTS`."""
    asked = {m.strip() for m in text.split(",") if m.strip()}
    unknown = asked - set(MEASUREMENTS)
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(sorted(unknown))}; allowed: {', '.join(MEASUREMENTS)}",
            param_hint="--measure",
        )
    return asked


# --- list --traits ------------------------------------------------------------------------------
TraitsOpt = Annotated[
    bool,
    typer.Option(
        "--traits", help="List the traits: partial specs to mix in with `extends: [base, trait]`."
    ),
]

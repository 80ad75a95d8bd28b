"""``archprobe compare``: parse options, call :func:`archprobe.analysis.compare.compare`, render.

torch is imported only when an option needs it (counters, measurements).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from archprobe.cli.common import err, out, ready, user_errors
from archprobe.units import parse_positive_ints

if TYPE_CHECKING:
    from archprobe.analysis.compare import Comparison, Measure

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
    float, typer.Option("--min-time", min=0.01, help="Seconds of timing per model and batch.")
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the result rows as JSON.")]
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Write the result rows as CSV.")]
MdOpt = Annotated[Path | None, typer.Option("--md", help="Write a Markdown report.")]
HtmlOpt = Annotated[
    Path | None, typer.Option("--html", help="Write a self-contained HTML report (offline).")
]

_MEASUREMENTS = ("latency", "memory")
_CHOICES = {"dtype": ("fp32", "fp16", "bf16"), "optimizer": ("sgd", "sgd_momentum", "adam")}


def _choice(name: str, value: str) -> str:
    if value not in _CHOICES[name]:
        raise typer.BadParameter(
            f"{value!r}; allowed: {', '.join(_CHOICES[name])}", param_hint=f"--{name}"
        )
    return value


def _batches(text: str) -> tuple[int, ...]:
    batches = parse_positive_ints(text)
    if batches is None:
        raise typer.BadParameter(
            f"{text!r}; expected positive integers like 1,32,256", param_hint="--batch"
        )
    return batches


def _measurements(text: str) -> set[str]:
    asked = {m.strip() for m in text.split(",") if m.strip()}
    unknown = asked - set(_MEASUREMENTS)
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(sorted(unknown))}; allowed: {', '.join(_MEASUREMENTS)}",
            param_hint="--measure",
        )
    return asked


def compare(
    specs: SpecsArg,
    counters: CountersOpt = False,
    memory: MemoryOpt = False,
    measure: MeasureOpt = "",
    roofline: RooflineOpt = False,
    batch: BatchOpt = "1",
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = "fp32",
    channels_last: ChannelsLastOpt = False,
    compile: CompileOpt = False,
    optimizer: OptimizerOpt = "sgd_momentum",
    min_time: MinTimeOpt = 0.5,
    json_path: JsonOpt = None,
    csv_path: CsvOpt = None,
    md_path: MdOpt = None,
    html_path: HtmlOpt = None,
) -> None:
    """Stage-aligned comparison with totals, deltas and the papers' printed figures; optionally
    counters reconciled, memory, measured latency and a per-layer roofline.

    Example: archprobe compare resnet50 resnext50 --measure latency,memory --batch 1,32 --roofline
    """
    from archprobe.analysis.compare import Measure

    asked = _measurements(measure)
    options = Measure(
        counters=counters, memory=memory, measure_memory="memory" in asked,
        latency="latency" in asked, roofline=roofline, batches=_batches(batch), device=device,
        dtype=_choice("dtype", dtype), channels_last=channels_last, compile=compile,
        optimizer=_choice("optimizer", optimizer), min_run_time=min_time,
    )  # fmt: skip
    with user_errors():
        comparison = _run(list(specs), options)
        render(comparison)
        export(comparison, json_path, csv_path, md_path, _device_stamp(comparison), html_path)


def _run(specs: list[str], options: Measure) -> Comparison:
    """The library call, with a progress bar while latency is measured."""
    from archprobe.analysis.compare import compare as compare_models

    if not options.latency:
        return compare_models(specs, measure=options)
    from archprobe.report.terminal.latency import progress_bar

    total = len(specs) * len(options.batches)
    with progress_bar(total, out) as progress:
        return compare_models(specs, measure=options, progress=progress)


def _device_stamp(comparison: Comparison) -> str:
    rows = comparison.sections.get("latency") or []
    envs = {_describe(r.env) for r in rows if r.env.get("device_name")}
    return ", ".join(sorted(envs)) or "analytic (no device)"


def _describe(env: dict[str, Any]) -> str:
    """Device name, plus CUDA runtime, driver and cuDNN versions for a GPU."""
    name = str(env["device_name"])
    if env.get("device") != "cuda":
        return name
    return f"{name} (CUDA {env.get('cuda')}, driver {env.get('driver')}, cuDNN {env.get('cudnn')})"


def section_renderables(comparison: Comparison) -> list[Any]:
    """Every section of a comparison as rich renderables, analytic first."""
    from archprobe.report.terminal.table import compare_table, paper_table, totals_table

    c = comparison
    if "profiles" in c.sections:
        return _profile_parts(c)
    parts: list[Any] = [compare_table(c.models), totals_table(c.models), paper_table(c.models)]
    if "counters" in c.sections:
        from archprobe.report.terminal.counters import reconciliation_table

        parts += [reconciliation_table(rec) for rec in c.sections["counters"]]
    if "memory" in c.sections:
        from archprobe.report.terminal.memory import memory_table

        parts.append(memory_table(c.sections["memory"]))
    if "latency" in c.sections:
        from archprobe.report.terminal.latency import latency_table

        parts.append(latency_table(c.sections["latency"], c.sections["ratios"]))
    if "roofline" in c.sections:
        parts += _roofline_parts(c.sections["roofline"])
    return [p for p in parts if p is not None]


def _profile_parts(c: Comparison) -> list[Any]:
    """Models given as modules: dispatch-level counts side by side by module path."""
    from archprobe.report.terminal.profile import aligned_table, category_table, profile_lines

    profiles = c.sections["profiles"]
    names = [p.name for p in profiles]
    parts: list[Any] = [
        aligned_table(c.results, names, "macs"),
        aligned_table(c.results, names, "params"),
    ]
    for p in profiles:
        parts += [category_table(p), "\n".join(profile_lines(p))]
    if "latency" in c.sections:
        from archprobe.report.terminal.latency import latency_table

        parts.append(latency_table(c.sections["latency"], c.sections["ratios"]))
    return parts


def _roofline_parts(reports: list[Any]) -> list[Any]:
    from archprobe.report.terminal.latency import grouped_conv_summary, roofline_stage_table

    parts: list[Any] = [roofline_stage_table(reports)]
    for other in reports[1:]:
        parts += grouped_conv_summary(reports[0], other)
    return parts


def render(comparison: Comparison) -> None:
    for part in section_renderables(comparison):
        out.print(part)


def _measured_markdown(comparison: Comparison) -> list[str]:
    """Counters and measurements, as the terminal shows them, in fenced blocks."""
    from archprobe.report.terminal.latency import to_text

    skip = 0 if "profiles" in comparison.sections else 3  # analytic tables have their own Markdown
    parts = section_renderables(comparison)[skip:]
    if not parts:
        return []
    blocks = [to_text(p) if not isinstance(p, str) else p for p in parts]
    return ["## Counters and measurements", "", "```text", *blocks, "```", ""]


def export(
    comparison: Comparison,
    json_path: Path | None,
    csv_path: Path | None,
    md_path: Path | None,
    device: str = "analytic (no device)",
    html_path: Path | None = None,
) -> None:
    """Write the requested exports of the same rows."""
    from archprobe.report import export as exports

    if json_path is not None:
        exports.write_json(comparison, ready(json_path), device)
    if csv_path is not None:
        exports.write_csv(comparison, ready(csv_path))
    if md_path is not None:
        exports.write_markdown(comparison, ready(md_path), _measured_markdown(comparison), device)
    if html_path is not None:
        from archprobe.report.html.compare import write_html

        write_html(comparison, ready(html_path), device)
    if not (json_path or csv_path or md_path or html_path):
        err.print("(add --md/--csv/--json/--html PATH to save this report)")

"""``archprobe compare``: parse options, call :func:`archprobe.analysis.compare.compare`, then
print and write its assembled report (``archprobe.report``) in one call.

torch is imported only when an option needs it (counters, measurements). The terminal view of
an analytic comparison with no output file is kept between runs (``cli/replay.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from archprobe.cli.common import announce, err, measure_options, out, run_compare, user_errors
from archprobe.cli.consoles import SAVE_HINT
from archprobe.cli.options import (
    BatchOpt,
    ChannelsLastOpt,
    CompileOpt,
    CountersOpt,
    CsvOpt,
    DeviceOpt,
    DtypeOpt,
    HtmlOpt,
    JsonOpt,
    MdOpt,
    MeasureOpt,
    MemoryOpt,
    MinTimeOpt,
    OptimizerOpt,
    PlainOpt,
    RooflineOpt,
    SpecsArg,
    ThreadsOpt,
)

if TYPE_CHECKING:
    from archprobe.analysis.measure_options import Measure
    from archprobe.report.assemble import Report
    from archprobe.report.outputs import Outputs


def compare(
    ctx: typer.Context,
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
    threads: ThreadsOpt = None,
    json_path: JsonOpt = None,
    csv_path: CsvOpt = None,
    md_path: MdOpt = None,
    html_path: HtmlOpt = None,
    plain: PlainOpt = False,
) -> None:
    """Stage-aligned comparison with totals, deltas and the papers' printed figures; optionally
    counters reconciled, memory, measured latency and a per-layer roofline.

    Example: archprobe compare resnet50 resnext50 --measure latency,memory --batch 1,32 --roofline
    Example: archprobe compare resnet50 resnext50 --json - | jq '.rows | length'
    """
    from archprobe.report.outputs import STDOUT, Outputs, check_outputs

    options = measure_options(
        measure, batch, dtype, optimizer, counters=counters, memory=memory, roofline=roofline,
        device=device, channels_last=channels_last, compile=compile, min_run_time=min_time,
        threads=threads,
    )  # fmt: skip
    files = Outputs(json=json_path, csv=csv_path, md=md_path, html=html_path, console=out,
                    plain=plain)  # fmt: skip
    with user_errors():
        check_outputs(files.named())  # before the comparison runs: it may take minutes
        written = _write(specs, options, files, ctx.obj)
    if not written and json_path != STDOUT:
        err.print(SAVE_HINT)


def _write(specs: list[str], options: Measure, files: Outputs, invoked: object) -> tuple[Path, ...]:
    """Print the report and write its files; an analytic view with no file is printed through
    the cache of ``cli/replay.py`` (start-up: a repeated comparison analyses nothing), kept
    under the command line of ``invoked`` (the context's ``obj``, set by the entry point)."""
    from archprobe.report.outputs import write_outputs

    def report() -> Report:  # the analysis, imported only when run (not for a stored view)
        from archprobe.report.assemble import assemble

        return assemble(run_compare(specs, options))

    measured = (options.counters or options.memory or options.measure_memory or options.latency
                or options.roofline)  # fmt: skip
    if measured or files.json is not None or files.named() or files.console is None:
        return write_outputs(report(), files, announce)
    from archprobe.cli.replay import print_analytic

    print_analytic(specs, files.console, files.plain, report, invoked)
    return ()

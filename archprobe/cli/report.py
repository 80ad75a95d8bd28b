"""``archprobe report``: a comparison written to files (HTML, Markdown, CSV, JSON), not printed.

Registered in ``cli/app.py`` as ``app.command("report")(report)``. Counters and memory
predictions are on by default (torch on CPU, no GPU needed); measured latency and the roofline
are opt-in. Its measurement options are ``compare``'s, from the same aliases.
"""

from __future__ import annotations

import typer

from archprobe.cli.common import announce, measure_options, run_compare, user_errors
from archprobe.cli.options import (
    BatchOpt,
    ChannelsLastOpt,
    CompileOpt,
    CsvOpt,
    DeviceOpt,
    DtypeOpt,
    HtmlOpt,
    JsonOpt,
    MdOpt,
    MeasureOpt,
    MinTimeOpt,
    OptimizerOpt,
    ReportCountersOpt,
    ReportMemoryOpt,
    RooflineOpt,
    SpecsArg,
    ThreadsOpt,
)


def report(
    specs: SpecsArg,
    html_path: HtmlOpt = None,
    md_path: MdOpt = None,
    csv_path: CsvOpt = None,
    json_path: JsonOpt = None,
    counters: ReportCountersOpt = True,
    memory: ReportMemoryOpt = True,
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
) -> None:
    """Write a comparison report: self-contained HTML with plots, Markdown, CSV or JSON rows.

    Example: archprobe report resnet50 resnext50 --html reports/resnet50_vs_resnext50.html
    """
    from archprobe.report.assemble import assemble
    from archprobe.report.outputs import Outputs, check_outputs, write_outputs

    files = Outputs(json=json_path, csv=csv_path, md=md_path, html=html_path)
    if json_path is None and not files.files:
        raise typer.BadParameter("give at least one of --html, --md, --csv, --json PATH")
    options = measure_options(
        measure, batch, dtype, optimizer, counters=counters, memory=memory, roofline=roofline,
        device=device, channels_last=channels_last, compile=compile, min_run_time=min_time,
        threads=threads,
    )  # fmt: skip
    with user_errors():
        check_outputs(files.named())  # before the comparison runs: it may take minutes
        write_outputs(assemble(run_compare(specs, options)), files, announce)

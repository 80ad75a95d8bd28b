"""``archprobe report``: a comparison written to files (HTML, Markdown, CSV, JSON), not printed.

Registered in ``cli.py`` as ``app.command("report")(report)``. Counters and memory predictions
are on by default (torch on CPU, no GPU needed); measured latency and the roofline are opt-in.
"""

from __future__ import annotations

from typing import Annotated

import typer

from archprobe.cli.common import user_errors
from archprobe.cli.compare import (
    BatchOpt,
    CsvOpt,
    DeviceOpt,
    DtypeOpt,
    HtmlOpt,
    JsonOpt,
    MdOpt,
    MeasureOpt,
    RooflineOpt,
    SpecsArg,
)

ReportCountersOpt = Annotated[
    bool,
    typer.Option("--counters/--no-counters", help="Reconcile analytic MACs with other counters."),
]
ReportMemoryOpt = Annotated[
    bool, typer.Option("--memory/--no-memory", help="Predict inference and training memory.")
]


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
) -> None:
    """Write a comparison report: self-contained HTML with plots, Markdown, CSV or JSON rows.

    Example: archprobe report resnet50 resnext50 --html reports/resnet50_vs_resnext50.html
    """
    from archprobe.analysis.compare import Measure
    from archprobe.cli.compare import _batches, _choice, _device_stamp, _measurements, _run, export

    if not (html_path or md_path or csv_path or json_path):
        raise typer.BadParameter("give at least one of --html, --md, --csv, --json PATH")
    asked = _measurements(measure)
    options = Measure(
        counters=counters, memory=memory, measure_memory="memory" in asked,
        latency="latency" in asked, roofline=roofline, batches=_batches(batch), device=device,
        dtype=_choice("dtype", dtype),
    )  # fmt: skip
    with user_errors():
        comparison = _run(list(specs), options)
        export(comparison, json_path, csv_path, md_path, _device_stamp(comparison), html_path)

"""``archprobe compare``: parse options, call :func:`archprobe.analysis.compare.compare`, then
print and write its assembled report (``archprobe.report``) in one call.

torch is imported only when an option needs it (counters, measurements).
"""

from __future__ import annotations

from archprobe.cli.common import announce, err, measure_options, out, run_compare, user_errors
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
    from archprobe.report.assemble import assemble
    from archprobe.report.outputs import STDOUT, Outputs, check_outputs, write_outputs

    options = measure_options(
        measure, batch, dtype, optimizer, counters=counters, memory=memory, roofline=roofline,
        device=device, channels_last=channels_last, compile=compile, min_run_time=min_time,
        threads=threads,
    )  # fmt: skip
    files = Outputs(json=json_path, csv=csv_path, md=md_path, html=html_path, console=out,
                    plain=plain)  # fmt: skip
    with user_errors():
        check_outputs(files.named())  # before the comparison runs: it may take minutes
        written = write_outputs(assemble(run_compare(specs, options)), files, announce)
    if not written and json_path != STDOUT:
        err.print("(add --md/--csv/--json/--html PATH to save this report)")

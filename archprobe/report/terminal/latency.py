"""Rich views of measured latency and per-layer rooflines, and the progress bar while measuring.

torch-free: rows and reports come in as plain data (``timing.latency.LatencyRow``,
``archprobe.analysis.timing.roofline.RooflineReport``), so rendering never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from archprobe.report.terminal.render import Table, escape
from archprobe.report.terminal.render import to_text as to_text  # scripts import it from here
from archprobe.units import si

if TYPE_CHECKING:
    from archprobe.analysis.timing.latency import ProgressFn
    from archprobe.analysis.timing.latency_rows import LatencyRow, Ratio
    from archprobe.analysis.timing.roofline import Group, RooflineReport

STAMP_KEYS = (
    "device_name", "torch", "cudnn", "dtype", "layout", "threads", "affinity", "physical_cores",
    "governor", "turbo", "cudnn_benchmark", "tf32", "compile",
)  # fmt: skip
CUDA_KEYS = frozenset({"cudnn", "cudnn_benchmark", "tf32"})
"""Settings that exist only for CUDA rows: never printed for a CPU row."""


@contextmanager
def progress_bar(total: int, console: Console | None = None) -> Iterator[ProgressFn]:
    """A rich progress bar over ``total`` (model, batch) rows; yields the callback to pass as
    ``measure_latency(..., progress=...)``.

    Example::

        with progress_bar(len(models) * len(batches)) as progress:
            rows = [r for m in models for r in measure_latency(m, batches, progress=progress)]
    """
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("measuring", total=total)

        def update(description: str, advance: int) -> None:
            bar.update(task, description=description, advance=advance)

        yield update


def _time(seconds: float | None) -> str:
    """Seconds as s, ms or µs with three significant digits; "—" when missing."""
    if seconds is None or math.isnan(seconds):
        return "—"
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def env_stamp(envs: Sequence[Mapping[str, Any]]) -> str:
    """One line naming what the measurements depend on; a key that varies lists its values.
    CUDA-only settings (cuDNN, TF32) are taken from CUDA rows only."""
    parts = []
    for key in STAMP_KEYS:
        rows = [e for e in envs if key not in CUDA_KEYS or e.get("device") == "cuda"]
        values = list(dict.fromkeys(str(e[key]) for e in rows if e.get(key, "") != ""))
        if values:
            parts.append(f"{key} {'/'.join(values)}")
    notes = list(dict.fromkeys(str(e["note"]) for e in envs if e.get("note")))
    return " · ".join(parts) + "".join(f"\nnote: {n}" for n in notes)


def ratio_cell(ratio: Ratio | None, is_baseline: bool) -> str:
    """``0.781 [0.772, 0.790]``: the ratio and its 95 % interval; "1 (baseline)"."""
    if is_baseline:
        return "1 (baseline)"
    if ratio is None:
        return ""
    if math.isnan(ratio.ratio):
        return "—"
    if math.isnan(ratio.low):
        return f"{ratio.ratio:.3f}"
    return f"{ratio.ratio:.3f} [{ratio.low:.3f}, {ratio.high:.3f}]"


def _status(r: LatencyRow) -> str:
    return " · ".join([r.status, *r.flags])


RATIO_NOTE = (
    "ratio = throughput / baseline throughput: median of the per-round ratios of interleaved, "
    "shuffled rounds, [95% bootstrap interval]; no significant difference when it contains 1"
)
NOISY_NOTE = "noisy: IQR above 10% of the median (torch.utils.benchmark's warning threshold)"


def latency_table(rows: Sequence[LatencyRow], ratios: Sequence[Ratio] = ()) -> Table:
    """Median ± IQR latency and throughput per model and batch, the throughput ratio to the
    baseline with its interval and verdict (``latency_rows.throughput_ratios``), and each row's
    status and flags (noisy, warm-up unsettled)."""
    t = Table(title="measured latency (median ± IQR per forward pass of the batch)")
    for col in ("model", "batch", "latency", "throughput (img/s)", "ratio vs baseline"):
        t.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    t.add_column("verdict", overflow="fold")
    t.add_column("status", overflow="fold")
    by_key = {(r.model, r.batch): r for r in ratios}
    baseline = ratios[0].baseline if ratios else None
    for batch in dict.fromkeys(r.batch for r in rows):
        for r in (r for r in rows if r.batch == batch):
            latency = f"{_time(r.median_s)} ± {_time(r.iqr_s)}" if r.ok else "—"
            thr = f"{r.throughput:,.1f} ± {r.throughput_iqr:,.1f}" if r.ok else "—"
            ratio = by_key.get((r.model, r.batch))
            cell = ratio_cell(ratio, r.model == baseline)
            verdict = ratio.verdict if ratio is not None else ""
            t.add_row(escape(r.model), str(r.batch), latency, thr, cell, verdict,
                      escape(_status(r)))  # fmt: skip
        t.add_section()
    notes = [RATIO_NOTE] if ratios else []
    notes += [NOISY_NOTE] if any(r.noisy for r in rows) else []
    t.caption = escape("\n".join([env_stamp([r.env for r in rows]), *notes]))
    return t


def _group_cell(g: Group) -> str:
    """One model's 3×3 convs of one stage, on its own (no cross-model delta)."""
    if not g.layers:
        return "—"
    flagged = f" · {g.below_bound} below bound (flagged)" if g.below_bound else ""
    return (
        f"{g.intensity:.1f} MAC/B · {g.bound_summary}\n"
        f"roofline {_time(g.attainable_s)} · measured {_time(g.measured_s)}{flagged}"
    )


def _of_bound(g: Group) -> str:
    """Measured time over the roofline bound: ``3.2× bound`` (≥ 1 unless flagged)."""
    if g.measured_s is None or not g.attainable_s:
        return "—"
    return f"{g.measured_s / g.attainable_s:.2f}× bound"


def roofline_caption(report: RooflineReport) -> str:
    c = report.ceilings
    peak = c.flops(report.math)
    return (
        f"{c.name}: {si(peak, 'FLOP/s')} ({report.math}), {si(c.bandwidth, 'B/s')} "
        f"({c.source}) · ridge {report.ridge_macs_per_byte:.1f} MAC/B "
        f"({report.ridge_flops_per_byte:.1f} FLOP/B) · batch {report.batch}, {report.dtype}"
    )


BELOW_BOUND_NOTE = (
    "below bound: measured faster than the roofline allows, a measurement-attribution error "
    "(profiler ranges, or cache reuse the no-reuse byte count ignores), never plotted as achieved"
)


def roofline_stage_table(reports: Sequence[RooflineReport]) -> Table:
    """Per model and stage, its own 3×3 convs: intensity, how many are memory-bound, roofline
    bound, measured time and measured / bound. Each model stands on its own rows, so the order
    of the models changes the order of the rows and nothing else."""
    t = Table(title="roofline per stage: 3×3 convs (grouped or dense)", show_lines=True)
    for col in ("model", "stage", "3×3 convs", "measured / bound"):
        t.add_column(col, justify="right" if col == "measured / bound" else "left",
                     overflow="fold")  # fmt: skip
    for r in reports:
        for s in r.stages():
            if s.conv3x3.layers:  # the stem's 7×7 and the head have no 3×3 conv
                t.add_row(escape(r.model), s.stage, _group_cell(s.conv3x3), _of_bound(s.conv3x3))
    notes = [roofline_caption(reports[0])] if reports else []
    notes += [BELOW_BOUND_NOTE] if any(r.below_bound for r in reports) else []
    t.caption = escape("\n".join(notes))
    return t


def roofline_layer_table(report: RooflineReport) -> Table:
    """Every conv and linear layer: op, MACs, bytes, intensity, bound, roofline, measured, and
    the FLOP/s achieved (blank and flagged where measured below the bound)."""
    t = Table(title=f"{escape(report.model)}: per-layer roofline")
    cols = ("scope", "op", "MACs", "bytes", "MAC/B", "bound", "roofline", "measured", "achieved")
    for col in cols:
        t.add_column(col, justify="left" if col in ("scope", "op", "bound") else "right",
                     no_wrap=True)  # fmt: skip
    for r in report.layers:
        achieved = "below bound" if r.below_bound else (
            si(r.achieved_flops, "FLOP/s") if r.achieved_flops else "—"
        )  # fmt: skip
        t.add_row(escape(r.scope), escape(r.op), si(r.macs), si(r.bytes, "B"),
                  f"{r.intensity:.1f}", r.bound, _time(r.attainable_s), _time(r.measured_s),
                  achieved)  # fmt: skip
    t.caption = escape(roofline_caption(report))
    return t


def grouped_conv_summary(base: RooflineReport, other: RooflineReport) -> list[str]:
    """One sentence per stage giving each model's own 3×3 numbers (no cross-model delta: a
    reader compares the two, and swapping the models swaps the halves, nothing else)."""
    lines = []
    theirs = {s.stage: s.conv3x3 for s in other.stages()}
    for s in base.stages():
        a, b = s.conv3x3, theirs.get(s.stage)
        if not a.layers or b is None or not b.layers:
            continue
        lines.append(f"{s.stage} 3×3: {_sentence(other.model, b)}; {_sentence(base.model, a)}")
    return lines


def _sentence(model: str, g: Group) -> str:
    flag = f", {g.below_bound} below bound (flagged)" if g.below_bound else ""
    return (
        f"{model} {g.intensity:.1f} MAC/B, {g.bound_summary}, measured {_time(g.measured_s)} "
        f"({_of_bound(g)}{flag})"
    )


def time_accounting(
    reports: Sequence[RooflineReport], latency: Mapping[str, float] | None = None
) -> list[str]:
    """Per model: the conv + linear layers' summed profiled time against the profiled forward
    and the unprofiled end-to-end latency (``latency``: median by model, e.g. from the latency
    rows at the roofline's batch; default the interleaved warm-up's median)."""
    lines = []
    for r in reports:
        if r.layers_s is None:
            continue
        end = (latency or {}).get(r.model, r.latency_s)
        share = f" ({r.layers_s / r.forward_s:.0%})" if r.forward_s else ""
        forward = f" of a {_time(r.forward_s)} profiled forward{share}" if r.forward_s else ""
        e2e = f"; end-to-end latency {_time(end)} (unprofiled median)" if end else ""
        flagged = len(r.below_bound)
        flags = f"; {flagged} of {len(r.layers)} layers below bound (flagged)" if flagged else ""
        lines.append(
            f"{r.model}: conv + linear layers sum to {_time(r.layers_s)}{forward}{e2e}{flags}"
        )
    return lines

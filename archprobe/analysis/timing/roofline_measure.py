"""Measured rooflines of several models, profiled in interleaved rounds (torch imported lazily).

Profiling one model after another favours neither only if the machine stays the same; it does
not (the first model of a run was repeatedly slower, and a stage's delta flipped sign when the
order was swapped, issue 17). So, as for latency (``rounds.run_rounds``):

1. all models are warmed up together in shuffled rounds until their unprofiled times settle;
   those rounds also give each model's end-to-end latency (median, no profiler attached);
2. then ``iters`` profiling rounds, each profiling one forward of every model in a freshly
   shuffled order; a layer's time is the median over the rounds.

The per-layer sum is kept beside the profiled forward and the unprofiled latency, so a reader
sees how much of the time the conv and linear layers account for, and how much the profiler adds.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from archprobe.analysis.analytic import analyze_spec
from archprobe.analysis.memory.fits import available_bytes, too_large
from archprobe.analysis.timing.devices import DeviceCeilings, math_mode
from archprobe.analysis.timing.layer_times import FORWARD
from archprobe.analysis.timing.roofline import RooflineReport, analytic_roofline
from archprobe.analysis.timing.rounds import Plan, Subject, run_rounds
from archprobe.errors import ArchprobeError
from archprobe.spec.schema import ArchSpec

Progress = Callable[[str, int], None]
WARMUP_PLAN = Plan(min_time=0.2, min_rounds=5, max_rounds=50, max_warmup=20)
"""Interleaved warm-up and unprofiled end-to-end timing before profiling."""


def _profile_rounds(
    prepared: Sequence[tuple[RooflineReport, Any, Any]], iters: int, seed: int, progress: Progress
) -> list[dict[str, float]]:
    """Median seconds per scope (and :data:`FORWARD`) of each model, over ``iters`` rounds of
    one profiled forward per model in shuffled order."""
    from archprobe.analysis.timing.layer_times import layer_times

    rng = random.Random(seed)
    samples: list[dict[str, list[float]]] = [{} for _ in prepared]
    for i in range(iters):
        progress(f"roofline: profiling round {i + 1} of {iters}", 0)
        for k in rng.sample(range(len(prepared)), len(prepared)):
            report, model, x = prepared[k]
            found = layer_times(model, x, [r.scope for r in report.layers], 1)
            for scope, seconds in found.items():
                samples[k].setdefault(scope, []).append(seconds)
    return [{s: statistics.median(v) for s, v in per.items()} for per in samples]


def _check_fits(reports: Sequence[RooflineReport], graphs: Sequence[Any], device: Any) -> None:
    free = available_bytes(device)
    for report, graph in zip(reports, graphs, strict=True):
        refusal = too_large(graph, report.batch, free, backend=device.type)
        if refusal:
            raise ArchprobeError(f"roofline of {report.model}: {refusal}")


def rooflines(
    refs: Sequence[ArchSpec | str | Path],
    batch: int = 1,
    device: str = "auto",
    dtype: str = "fp32",
    channels_last: bool = False,
    measure: bool = True,
    iters: int = 5,
    ceilings: DeviceCeilings | None = None,
    progress: Progress | None = None,
    seed: int = 0,
) -> list[RooflineReport]:
    """Per-layer rooflines of models on one device, profiled in interleaved rounds.

    Args:
        refs: specs, or catalog names / YAML paths (distinct models).
        batch: images per forward pass (refused before allocating if predicted not to fit).
        device: as ``env.resolve_device`` ("cuda" without CUDA is an error).
        dtype: "fp32", or "fp16"/"bf16" under autocast. fp32 convolutions on CUDA use the TF32
            peak while ``torch.backends.cudnn.allow_tf32`` is True (PyTorch's default).
        channels_last: measure the models and inputs in NHWC.
        measure: profile per-layer times (eager mode; ``torch.compile`` fuses layers away).
        iters: profiling rounds; each layer's time is their median.
        ceilings: the device's ceilings (default: ``ceilings.device_ceilings``: the datasheet of
            a known GPU, else this machine's cached measurement), shared by every model.
        progress: ``progress(description, advance)``; advance 1 per model profiled.
    """
    from archprobe.analysis.timing import env as torch_env
    from archprobe.analysis.timing import latency
    from archprobe.analysis.timing.ceilings import device_ceilings

    report = progress or (lambda description, advance: None)
    analyses = [analyze_spec(r) for r in refs]
    choice = torch_env.resolve_device(device)
    math = math_mode(torch_env.check_dtype(dtype), choice.device.type, torch_env.tf32_enabled())
    if ceilings is None:
        report("roofline: ceilings (GEMM, copy/triad; cached per machine)", 0)
        ceilings = device_ceilings(choice.device, dtype, math)
    reports = [analytic_roofline(a, batch, dtype, ceilings, math) for a in analyses]
    if not measure:
        return reports
    _check_fits(reports, [a.graph for a in analyses], choice.device)
    prepared = [
        (r, latency.prepare_model(a.spec, choice.device, channels_last),
         latency.make_input(a.spec, batch, choice.device, channels_last))
        for r, a in zip(reports, analyses, strict=True)
    ]  # fmt: skip
    subjects = [Subject(r.model, _runner(m, x), _sync(choice.device)) for r, m, x in prepared]
    with torch_env.cudnn_benchmark(True), torch_env.inference_context(choice.device, dtype):
        warm = run_rounds(subjects, WARMUP_PLAN, progress=lambda d: report(f"roofline: {d}", 0))
        times = _profile_rounds(prepared, iters, seed, report)
        env = torch_env.measurement_env(choice, dtype, channels_last, batch=batch, iters=iters)
    out = []
    for r, t, w in zip(reports, times, warm, strict=True):
        latency_s = statistics.median(w.samples) if w.samples else None
        out.append(r.with_times(t, env, latency_s))
        report(f"roofline: {r.model} profiled", 1)
    return out


def _sync(device: Any) -> Callable[[], None]:
    import torch

    if device.type != "cuda":
        return lambda: None
    return lambda: torch.cuda.synchronize(device)


def _runner(model: Any, x: Any) -> Callable[[int], None]:
    def run(number: int) -> None:
        for _ in range(number):
            model(x)

    return run


__all__ = ["FORWARD", "rooflines"]

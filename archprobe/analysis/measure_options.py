"""What a comparison runs beyond the analytic counts: a module of its own, so the command line
builds its options without importing the analysis (``compare``'s cached view: issue 16)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    """What to run beyond the analytic counts (all off by default; all but ``memory`` need torch).

    Measured rows record device, torch version, dtype, layout, batch, threads and cudnn.benchmark.
    """

    counters: bool = False  # analytic vs FlopCounterMode vs fvcore vs thop, by op category
    memory: bool = False  # predicted inference and training memory (torch-free)
    measure_memory: bool = False  # ... and measured (CUDA max_memory_allocated / CPU profiler)
    latency: bool = False  # median and IQR per batch (torch.utils.benchmark)
    roofline: bool = False  # per-layer intensity, bound and profiled time, at the largest batch
    batches: tuple[int, ...] = (1,)
    device: str = "auto"  # auto = cuda when available, else cpu + note; cuda without CUDA: error
    dtype: str = "fp32"  # fp32 | fp16 | bf16 (autocast)
    channels_last: bool = False
    compile: bool = False  # torch.compile before timing
    optimizer: str = "sgd_momentum"  # sgd | sgd_momentum | adam (training memory)
    min_run_time: float = 0.5  # seconds of timing per (model, batch), finite, at most 600
    threads: int | None = None  # CPU intra-op threads (default: one per physical core)

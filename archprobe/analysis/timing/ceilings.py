"""This machine's roofline ceilings: peak FLOP/s from a matmul and bandwidth from a large copy,
measured with ``torch.utils.benchmark`` (torch imported lazily), or a known GPU's datasheet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archprobe.analysis.timing.devices import DeviceCeilings, MathMode, lookup, math_mode

if TYPE_CHECKING:
    import torch


def _median_s(stmt: str, env: dict[str, Any], min_run_time: float) -> float:
    import torch
    from torch.utils import benchmark

    timer = benchmark.Timer(stmt, globals=env, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median


def measure_ceilings(
    device: torch.device, dtype: str, math: MathMode | None = None, min_run_time: float = 0.2
) -> DeviceCeilings:
    """Peak FLOP/s from an n×n matmul and bandwidth from a large copy, measured on ``device``.

    The matmul (n = 1024 on CPU, 8192 on CUDA) runs in ``dtype``, with TF32 allowed when ``math``
    is "tf32" (default: the mode convolutions would use). The copy moves a buffer larger than any
    cache (256 MiB on CPU, 1 GiB on CUDA) and counts bytes read + written. Both are rates that
    well-tuned kernels reach, so the roofline built on them is attainable rather than nominal.
    """
    import torch

    from archprobe.analysis.timing.env import DTYPES, device_name, tf32_enabled

    math = math or math_mode(dtype, device.type, tf32_enabled())
    cuda = device.type == "cuda"
    n, size = (8192, 1 << 30) if cuda else (1024, 1 << 28)
    a = torch.randn(n, n, device=device, dtype=DTYPES[dtype])
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = math == "tf32"
    try:
        flops = 2 * n**3 / _median_s("torch.mm(a, a)", {"torch": torch, "a": a}, min_run_time)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    src = torch.empty(size, dtype=torch.uint8, device=device)
    env = {"src": src, "dst": torch.empty_like(src)}
    bandwidth = 2 * size / _median_s("dst.copy_(src)", env, min_run_time)
    source = f"measured: {n}×{n} {dtype} matmul ({math}), {size >> 20} MiB copy"
    return DeviceCeilings(device_name(device), {math: flops}, bandwidth, source, measured=True)


def device_ceilings(
    device: torch.device, dtype: str, math: MathMode | None = None
) -> DeviceCeilings:
    """The table entry for a known GPU (H100, H200, A100), else measured ceilings.

    Measure once and pass the result to every :func:`roofline` of a comparison: two
    measurements differ by a few percent, and the models should share one roofline.
    """
    import torch

    if device.type == "cuda":
        known = lookup(torch.cuda.get_device_name(device))
        if known is not None:
            return known
    return measure_ceilings(device, dtype, math)

"""This machine's roofline ceilings, measured once and cached per machine (torch imported lazily).

- **Compute**: the best FLOP/s of square GEMMs in the asked dtype (n = 512, 1024, 2048 on CPU;
  4096, 8192 on CUDA): the rate a tuned kernel reaches, so a roofline built on it is attainable.
  On CPU a dense 3×3 convolution is timed too: oneDNN's convolutions outran MKL's GEMMs on the
  2-core development machine (ResNet-50's 3×3 convs at ~1.25× the best GEMM rate, so the GEMM
  roof put them above it).
- **Bandwidth**: the best of a copy (``dst = src``: 2 bytes moved per byte) and a STREAM triad
  (``a = b + s·c``: 3 arrays moved; McCalpin's STREAM benchmark) over buffers larger than any
  cache (256 MiB per array on CPU, 1 GiB on CUDA).
- The **fastest** repetition is kept, not the median: a ceiling is what the machine can do, and
  interference (another process, a clock dip) only ever slows a run down.

Known GPUs (H100, H200, A100) use their datasheet figures (``devices.lookup``) instead. Measured
ceilings are kept in ``ceilings.json`` in archprobe's cache folder (``archprobe/cache.py``:
``$ARCHPROBE_CACHE_DIR``, else ``$XDG_CACHE_HOME/archprobe``), keyed by device name, torch version,
threads, dtype and math mode; never in the working directory. Each process measures once more
(~1–2 s, beside the minutes of a roofline's latency measurements) and the file keeps the best of
every run: a ceiling measured while the machine was loaded is only ever too low, and a cached
one that stayed low made every later roofline report its layers as faster than the roof (a 2-core
machine's 86 GFLOP/s from a loaded run, against ResNet-50 layers reaching ~136 GFLOP/s on the
quiet machine). ``ARCHPROBE_CACHE_DIR=off`` keeps nothing between processes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from archprobe.analysis.timing.devices import DeviceCeilings, MathMode, lookup, math_mode
from archprobe.cache import cache_dir

if TYPE_CHECKING:
    import torch

CACHE_FILE = "ceilings.json"


def cache_path() -> Path | None:
    """``ceilings.json`` in archprobe's cache folder (:func:`archprobe.cache.cache_dir`), or None
    when caching is off (then the ceilings are measured in every process)."""
    root = cache_dir()
    return None if root is None else root / CACHE_FILE


def _fastest_s(stmt: str, env: dict[str, Any], min_run_time: float) -> float:
    """Seconds of the fastest block of ``stmt`` (per call)."""
    import torch
    from torch.utils import benchmark

    timer = benchmark.Timer(stmt, globals=env, num_threads=torch.get_num_threads())
    m = timer.blocked_autorange(min_run_time=min_run_time)
    return min(m.times)


def _peak_flops(device: torch.device, dtype: str, math_: MathMode, min_run_time: float) -> float:
    import torch

    from archprobe.analysis.timing.env import DTYPES

    sizes = (4096, 8192) if device.type == "cuda" else (512, 1024, 2048)
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = math_ == "tf32"
    best = 0.0
    try:
        for n in sizes:
            a = torch.randn(n, n, device=device, dtype=DTYPES[dtype])
            seconds = _fastest_s("torch.mm(a, a)", {"torch": torch, "a": a}, min_run_time)
            best = max(best, 2 * n**3 / seconds)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    if device.type == "cpu":  # on CUDA, cuDNN's TF32 switch would blur the fp32 roof
        best = max(best, _conv_flops(device, DTYPES[dtype], min_run_time))
    return best


def _conv_flops(device: torch.device, dtype: torch.dtype, min_run_time: float) -> float:
    """FLOP/s of a dense 3×3 convolution of ResNet-50's conv3 shape (batch 8, 256 channels,
    28×28), the layers a CNN roofline is drawn for."""
    import torch

    x = torch.randn(8, 256, 28, 28, device=device, dtype=dtype)
    w = torch.randn(256, 256, 3, 3, device=device, dtype=dtype)
    env = {"F": torch.nn.functional, "x": x, "w": w}
    seconds = _fastest_s("F.conv2d(x, w, padding=1)", env, min_run_time)
    return 2 * 8 * 256 * 256 * 9 * 28 * 28 / seconds


def _bandwidth(device: torch.device, min_run_time: float) -> float:
    import torch

    numel = (1 << 28) if device.type == "cuda" else (1 << 26)  # fp32: 1 GiB / 256 MiB per array
    a, b, c = (torch.empty(numel, device=device) for _ in range(3))
    b.fill_(1.0)
    c.fill_(2.0)
    copy = 2 * a.nbytes / _fastest_s("a.copy_(b)", {"a": a, "b": b}, min_run_time)
    triad = "torch.add(b, c, alpha=3.0, out=a)"
    env = {"torch": torch, "a": a, "b": b, "c": c}
    return max(copy, 3 * a.nbytes / _fastest_s(triad, env, min_run_time))


def measure_ceilings(
    device: torch.device, dtype: str, math: MathMode | None = None, min_run_time: float = 0.2
) -> DeviceCeilings:
    """Peak FLOP/s (GEMM) and bandwidth (copy/triad) measured on ``device`` (module doc).

    ``math`` is the mode convolutions would use (default: from dtype and TF32); TF32 is allowed
    in the GEMM only when it is "tf32".
    """
    from archprobe.analysis.timing.env import device_name, tf32_enabled

    math = math or math_mode(dtype, device.type, tf32_enabled())
    flops = _peak_flops(device, dtype, math, min_run_time)
    bandwidth = _bandwidth(device, min_run_time)
    kernels = "GEMM or 3×3 conv" if device.type == "cpu" else "GEMM"
    source = f"measured: best {dtype} {kernels} ({math}), best of copy/triad"
    return DeviceCeilings(device_name(device), {math: flops}, bandwidth, source, measured=True)


def _key(device: torch.device, dtype: str, math: MathMode) -> str:
    import torch

    from archprobe.analysis.timing.env import device_name

    return (
        f"{device_name(device)}|torch {torch.__version__}|threads {torch.get_num_threads()}|"
        f"{dtype}|{math}"
    )


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return cast(dict[str, Any], data) if isinstance(data, dict) else {}


def cached_ceilings(key: str, path: Path | None = None) -> DeviceCeilings | None:
    """The cached measurement under ``key``, or None (absent, unreadable, or not finite)."""
    path = path or cache_path()
    entry = _load(path).get(key) if path is not None else None
    if not isinstance(entry, dict):
        return None
    try:
        flops = {cast(MathMode, k): float(v) for k, v in entry["peak_flops"].items()}
        bandwidth = float(entry["bandwidth"])
        name, source = str(entry["name"]), str(entry["source"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if not all(math.isfinite(v) and v > 0 for v in (*flops.values(), bandwidth)):
        return None
    return DeviceCeilings(name, flops, bandwidth, f"{source} (cached)", measured=True)


def store_ceilings(key: str, c: DeviceCeilings, path: Path | None = None) -> None:
    """Add ``c`` under ``key`` to the cache file (a cache that cannot be written is skipped)."""
    path = path or cache_path()
    if path is None:  # caching is off
        return
    data = _load(path)
    data[key] = {"name": c.name, "peak_flops": dict(c.peak_flops), "bandwidth": c.bandwidth,
                 "source": c.source}  # fmt: skip
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


def device_ceilings(
    device: torch.device, dtype: str, math: MathMode | None = None
) -> DeviceCeilings:
    """The table entry for a known GPU (H100, H200, A100), else this machine's ceilings: the
    best of this process' measurement (made once per process) and the kept ones (module doc).

    Pass the result to every :func:`roofline` of a comparison: the models share one roof.
    """
    import torch

    from archprobe.analysis.timing.env import tf32_enabled

    if device.type == "cuda":
        known = lookup(torch.cuda.get_device_name(device))
        if known is not None:
            return known
    math = math or math_mode(dtype, device.type, tf32_enabled())
    key = _key(device, dtype, math)
    if key not in _THIS_PROCESS:
        fresh = measure_ceilings(device, dtype, math)
        kept = cached_ceilings(key)
        best = fresh if kept is None else _best(fresh, kept)
        store_ceilings(key, best)
        _THIS_PROCESS[key] = best
    return _THIS_PROCESS[key]


_THIS_PROCESS: dict[str, DeviceCeilings] = {}


def _best(fresh: DeviceCeilings, kept: DeviceCeilings) -> DeviceCeilings:
    """Each ceiling's higher value: interference only ever slows a measurement down."""
    flops = {m: max(v, kept.peak_flops.get(m, 0.0)) for m, v in fresh.peak_flops.items()}
    source = fresh.source.removesuffix(" (cached)") + ", best of this and earlier runs"
    return DeviceCeilings(fresh.name, flops, max(fresh.bandwidth, kept.bandwidth), source,
                          measured=True)  # fmt: skip

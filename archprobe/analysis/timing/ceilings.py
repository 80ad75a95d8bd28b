"""This machine's roofline ceilings, measured once and cached per machine (torch imported lazily).

- **Compute**: the best FLOP/s of square GEMMs in the asked dtype (n = 512, 1024, 2048 on CPU;
  4096, 8192 on CUDA): the rate a tuned kernel reaches, so a roofline built on it is attainable.
- **Bandwidth**: the best of a copy (``dst = src``: 2 bytes moved per byte) and a STREAM triad
  (``a = b + s·c``: 3 arrays moved; McCalpin's STREAM benchmark) over buffers larger than any
  cache (256 MiB per array on CPU, 1 GiB on CUDA).
- The **fastest** repetition is kept, not the median: a ceiling is what the machine can do, and
  interference (another process, a clock dip) only ever slows a run down.

Known GPUs (H100, H200, A100) use their datasheet figures (``devices.lookup``) instead. Measured
ceilings are cached in ``ceilings.json`` in archprobe's cache folder (``archprobe/cache.py``:
``$ARCHPROBE_CACHE_DIR``, else ``$XDG_CACHE_HOME/archprobe``), keyed by device name, torch version,
threads, dtype and math mode, so every run on a machine draws the same roof; never in the working
directory. ``ARCHPROBE_CACHE_DIR=off`` measures afresh in every process.
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
    return best


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
    source = f"measured: best {dtype} GEMM ({math}), best of copy/triad"
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
    """The table entry for a known GPU (H100, H200, A100), else this machine's cached or freshly
    measured (and then cached) ceilings.

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
    found = cached_ceilings(key)
    if found is None:
        found = measure_ceilings(device, dtype, math)
        store_ceilings(key, found)
    return found

"""The settings a measurement runs under: device choice, dtype/autocast, cuDNN autotuning, and
the flat record of all of them that every measured row carries (DESIGN §7.8)."""

from __future__ import annotations

import platform
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

import torch

from archprobe.analysis.timing.host import host_facts, physical_cores
from archprobe.errors import ArchprobeError

Dtype = Literal["fp32", "fp16", "bf16"]
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


@dataclass(frozen=True)
class DeviceChoice:
    """The device measurements run on, and why it differs from the one asked for (if it does)."""

    device: torch.device
    note: str = ""


AUTO_FALLBACK = "--device auto: no CUDA device, measuring on the CPU"


def resolve_device(device: str = "auto") -> DeviceChoice:
    """``auto`` is CUDA when available, else the CPU with a note saying so (the CLI prints it
    as a warning before any table); an explicit device is that device or an error, never a
    silent fallback (a CPU number under a "cuda" heading is worse than no number).

    Raises:
        ArchprobeError: for a device torch does not know, ``cuda`` without CUDA, or a CUDA
            index that does not exist.
    """
    if device == "auto":
        if torch.cuda.is_available():
            return DeviceChoice(torch.device("cuda"))
        return DeviceChoice(torch.device("cpu"), AUTO_FALLBACK)
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ArchprobeError(f"device {device!r}: expected auto, cpu, cuda or cuda:N") from None
    if dev.type not in ("cpu", "cuda"):
        raise ArchprobeError(f"device {device!r}: only cpu and cuda are supported")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ArchprobeError(
            f"--device {device}: CUDA is not available (torch {torch.__version__}); "
            "use --device cpu or --device auto"
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ArchprobeError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s)")
    return DeviceChoice(dev)


def device_name(device: torch.device) -> str:
    """``torch.cuda.get_device_name`` for CUDA, the CPU model name otherwise."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # not Linux: fall through to platform's guess
        pass
    return platform.processor() or platform.machine() or "cpu"


@lru_cache(maxsize=1)
def cuda_driver() -> str:
    """The NVIDIA driver version (``nvidia-smi``), or the CUDA driver API version torch reports.

    Cached: every measured row records it, and it cannot change while the process runs.
    """
    import shutil
    import subprocess

    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            done = subprocess.run(
                [smi, "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=10, check=True,
            )  # fmt: skip
            return done.stdout.splitlines()[0].strip()
        except (OSError, subprocess.SubprocessError, IndexError):
            pass
    version = int(getattr(torch._C, "_cuda_getDriverVersion", lambda: 0)())
    return f"CUDA driver API {version // 1000}.{version % 1000 // 10}" if version else "unknown"


def check_dtype(dtype: str) -> Dtype:
    """``dtype`` if it is fp32, fp16 or bf16; an ArchprobeError naming the allowed set otherwise."""
    if dtype not in DTYPES:
        raise ArchprobeError(f"dtype {dtype!r}: expected one of {', '.join(DTYPES)}")
    return cast(Dtype, dtype)


def tf32_enabled() -> bool:
    """Whether cuDNN may run fp32 convolutions on TF32 tensor cores (PyTorch's default: True)."""
    return bool(torch.backends.cudnn.allow_tf32)


@contextmanager
def inference_context(device: torch.device, dtype: str) -> Iterator[None]:
    """No autograd, plus autocast for fp16/bf16; entered once around warm-up and timing.

    Under autocast it is ``no_grad``, not ``inference_mode``: autocast caches its fp16 copies of
    the weights (for the life of the context) only outside inference mode, where every call
    would re-cast every weight (checked with the profiler: 3 casts per conv call instead of 1).
    """
    if dtype == "fp32":
        with torch.inference_mode():
            yield
        return
    with torch.no_grad(), torch.autocast(device.type, dtype=DTYPES[dtype]):
        yield


@contextmanager
def cudnn_benchmark(enabled: bool | None) -> Iterator[None]:
    """Set ``torch.backends.cudnn.benchmark`` for the block and restore it afterwards."""
    previous = torch.backends.cudnn.benchmark
    if enabled is not None:
        torch.backends.cudnn.benchmark = enabled
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


def cpu_threads(threads: int | None) -> int:
    """Intra-op threads for a CPU measurement: ``threads`` if given, else one per physical
    core (a hyper-thread sibling shares its core's FMA units, and oversubscribed threads make
    timings noisy)."""
    if threads is not None:
        if threads < 1:
            raise ArchprobeError(f"threads {threads}: expected a positive number")
        return threads
    return physical_cores()


@contextmanager
def intra_op_threads(threads: int) -> Iterator[None]:
    """``torch.set_num_threads(threads)`` for the block, the previous count restored after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def measurement_env(
    choice: DeviceChoice, dtype: str, channels_last: bool, **extra: Any
) -> dict[str, Any]:
    """What a measured number depends on, as flat scalars (one DataFrame column each).

    ``extra`` adds or overrides keys (batch, threads, compile, ...). Call it while the settings
    it reads (``cudnn.benchmark``, TF32, the thread count) are the ones being measured. CUDA rows
    carry the CUDA, driver and cuDNN versions and cuDNN's settings; CPU rows the host's threads,
    affinity, physical cores, governor and turbo (:func:`host.host_facts`), and no CUDA keys.
    """
    env: dict[str, Any] = {
        "device": choice.device.type,
        "device_name": device_name(choice.device),
        "torch": torch.__version__,
        "dtype": dtype,
        "autocast": dtype != "fp32",
        "layout": "channels_last" if channels_last else "contiguous",
    }
    if choice.device.type == "cuda":  # settings that exist only for CUDA rows
        env.update(cuda=torch.version.cuda or "", driver=cuda_driver(),
                   cudnn=torch.backends.cudnn.version() or "",  # type: ignore[no-untyped-call]
                   cudnn_benchmark=bool(torch.backends.cudnn.benchmark), tf32=tf32_enabled(),
                   threads=torch.get_num_threads())  # fmt: skip
    else:
        env.update(host_facts(torch.get_num_threads()))
    env.update(extra)
    if choice.note:
        env["note"] = choice.note
    return env

"""Compute and bandwidth ceilings of known accelerators, for the roofline (torch-free).

Peaks are the vendors' dense (no 2:4 sparsity) boost-clock figures in FLOP/s (2×MAC) and the
peak DRAM bandwidth in bytes/s; sustained rates are lower (typically 70–90 %), so a roofline built
on them is an upper bound on speed. Devices not in the table are measured instead
(:func:`archprobe.analysis.timing.ceilings.measure_ceilings`: a matmul and a large copy).

Sources:
- [H100-DS] NVIDIA H100 Tensor Core GPU datasheet (SXM5 and PCIe columns; tensor figures there are
  "with sparsity", halved here), as tabulated at https://glennklockwood.com/garden/processors/h100
  (dense: FP32 66.9, TF32 494.7, FP16/BF16 989.4 TFLOP/s; 3.35 TB/s) and
  https://archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html (PCIe: FP32 51, TF32 756*,
  FP16 1,513* TFLOP/s, * = sparse; 2,000 GB/s).
- [H200-DS] NVIDIA H200 datasheet: the same GH100 compute as H100 SXM with 141 GB HBM3e at
  4.8 TB/s (https://lzwjava.github.io/nvidia-h200-gpu-specs-en,
  https://www.aiminingco.com/gpu/h200/specs).
- [A100-DS] NVIDIA A100 datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf) via
  https://glennklockwood.com/garden/processors/A100 (FP32 19.5, TF32 156, FP16/BF16 312 TFLOP/s;
  40 GB 1,555 GB/s, 80 GB SXM 2,039 GB/s) and
  https://www.thundercompute.com/blog/nvidia-a100-specs-full-guide (80 GB PCIe 1,935 GB/s).

Math modes: ``fp32`` is the CUDA-core rate; ``tf32`` the tensor-core rate that cuDNN uses for fp32
convolutions while ``torch.backends.cudnn.allow_tf32`` is True (PyTorch's default); ``fp16`` and
``bf16`` the tensor-core rates used under autocast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from archprobe.errors import ArchprobeError

MathMode = Literal["fp32", "tf32", "fp16", "bf16"]
TERA = 1e12


@dataclass(frozen=True)
class DeviceCeilings:
    """Peak compute per math mode and peak memory bandwidth of one device.

    Attributes:
        name: a readable device name (e.g. "NVIDIA H100 SXM5 80GB").
        peak_flops: FLOP/s (2×MAC) per math mode.
        bandwidth: bytes per second, DRAM (HBM) read + write.
        source: a citation tag of the module docstring, or how the numbers were measured.
    """

    name: str
    peak_flops: Mapping[MathMode, float]
    bandwidth: float
    source: str
    measured: bool = False

    def flops(self, math: MathMode) -> float:
        """Peak FLOP/s for ``math`` (a measured device has only the mode it was measured in)."""
        if math not in self.peak_flops:
            known = ", ".join(self.peak_flops)
            raise ArchprobeError(f"{self.name}: no {math} peak (known: {known})")
        return self.peak_flops[math]

    def ridge(self, math: MathMode) -> float:
        """Ridge point in FLOP per byte: layers below it are memory-bound (Williams et al. 2009)."""
        return self.flops(math) / self.bandwidth


def _gpu(name: str, fp32: float, tf32: float, fp16: float, tbps: float, src: str) -> DeviceCeilings:
    flops: dict[MathMode, float] = {
        "fp32": fp32 * TERA,
        "tf32": tf32 * TERA,
        "fp16": fp16 * TERA,
        "bf16": fp16 * TERA,  # bf16 and fp16 tensor-core rates are equal on A100/H100/H200
    }
    return DeviceCeilings(name, flops, tbps * TERA, src)


@dataclass(frozen=True)
class _Match:
    """Substrings a ``torch.cuda.get_device_name()`` must contain (and must not), upper-cased."""

    ceilings: DeviceCeilings
    all_of: tuple[str, ...]
    none_of: tuple[str, ...] = field(default=())

    def matches(self, device_name: str) -> bool:
        upper = device_name.upper()
        return all(s in upper for s in self.all_of) and not any(s in upper for s in self.none_of)


H100_SXM = _gpu("NVIDIA H100 SXM5 80GB", 66.9, 494.7, 989.4, 3.35, "[H100-DS]")
H100_PCIE = _gpu("NVIDIA H100 PCIe 80GB", 51.0, 378.0, 756.0, 2.0, "[H100-DS]")
H200 = _gpu("NVIDIA H200 SXM 141GB", 66.9, 494.7, 989.4, 4.8, "[H200-DS]")
A100_80_SXM = _gpu("NVIDIA A100 SXM4 80GB", 19.5, 156.0, 312.0, 2.039, "[A100-DS]")
A100_80_PCIE = _gpu("NVIDIA A100 PCIe 80GB", 19.5, 156.0, 312.0, 1.935, "[A100-DS]")
A100_40 = _gpu("NVIDIA A100 40GB", 19.5, 156.0, 312.0, 1.555, "[A100-DS]")

# First match wins, so the specific entries come before the generic ones. Grace Hopper ("GH200")
# and the NVL parts have other clocks or memory and are measured rather than guessed.
KNOWN: tuple[_Match, ...] = (
    _Match(H200, ("H200",), ("GH200", "NVL")),
    _Match(H100_PCIE, ("H100", "PCIE")),
    _Match(H100_SXM, ("H100",), ("NVL",)),
    _Match(A100_80_PCIE, ("A100", "80GB", "PCIE")),
    _Match(A100_80_SXM, ("A100", "80GB")),
    _Match(A100_40, ("A100",)),
)


def lookup(device_name: str) -> DeviceCeilings | None:
    """The table entry for a CUDA device name (``torch.cuda.get_device_name()``), if known.

    Example names: "NVIDIA H100 80GB HBM3" (SXM), "NVIDIA H100 PCIe", "NVIDIA H200",
    "NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB PCIe", "NVIDIA A100-SXM4-40GB".
    """
    for entry in KNOWN:
        if entry.matches(device_name):
            return entry.ceilings
    return None


def math_mode(dtype: str, device_type: str, tf32: bool) -> MathMode:
    """The math mode convolutions run in: autocast dtype, or fp32/tf32 on CUDA.

    Args:
        dtype: "fp32", "fp16" or "bf16".
        device_type: "cuda" or "cpu"; CPUs have no TF32.
        tf32: ``torch.backends.cudnn.allow_tf32`` (True by default in PyTorch).
    """
    if dtype in ("fp16", "bf16"):
        return "fp16" if dtype == "fp16" else "bf16"
    return "tf32" if device_type == "cuda" and tf32 else "fp32"

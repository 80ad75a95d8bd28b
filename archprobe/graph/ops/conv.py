"""2-d convolution, dense or grouped (ResNeXt Fig. 3c), with every fact about it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from archprobe.graph.cost import Cost, Shape, numel, some
from archprobe.graph.facts import CountRule, MemoryRule, flops, macs
from archprobe.graph.op import Example, GraphError, Op, register_op


def conv_out(size: int, kernel: int, stride: int, padding: int, ceil: bool = False) -> int:
    """Output size along one axis of a conv or pool (PyTorch's formula)."""
    span = size + 2 * padding - kernel
    out = (-(-span // stride) if ceil else span // stride) + 1
    if ceil:  # PyTorch: the last window must start inside (elementwise where sizes are arrays)
        out = out - ((out - 1) * stride >= size + padding)
    if some(out < 1):
        raise GraphError(f"spatial size {size} is too small for kernel {kernel}, stride {stride}")
    return out


def _nhwc_copies(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # cuDNN 9 runs these convs in NHWC and takes a workspace holding transformed copies of the
    # input, the output and the weight (H100, torch 2.11: in + out + weight + at most 147 B).
    return (batch * (numel(x) + numel(y)) * db + op.cost_at(x, y).params * db,)


def _nhwc_spatial(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # 1×1 forward convs ask for a few hundred bytes; k×k ones for the NHWC copies.
    return _nhwc_copies(op, x, y, batch, db) if getattr(op, "kernel", 1) > 1 else ()


def _nhwc_depthwise_scratch(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    # oneDNN's channels-last depthwise backward takes a scratch of C·(257·k² + 1) elements for
    # k ≥ 5 and C·(2·k² + 1) below, whatever the batch and map size, freed before the node
    # returns (torch 2.13 CPU, profiler memory events, 1 and 2 threads, k 1..11, C 48..768,
    # maps 7..56; tests/graph/test_channels_last_memory.py). ConvNeXt's depthwise convs get
    # channels-last inputs from torchvision's permutes: 37 MiB for the 768-channel 7×7.
    conv = cast("Conv", op)
    if not (conv.groups == conv.cin == conv.cout and conv.cin > 1):
        return ()
    per_tap = 257 if conv.kernel >= 5 else 2
    return (conv.cin * (per_tap * conv.kernel * conv.kernel + 1) * db,)


@register_op("conv")
@dataclass(frozen=True)
class Conv(Op):
    """2-d convolution; ``groups`` > 1 is a grouped conv (ResNeXt Fig. 3c).

    MACs Ho·Wo·Cout·(Cin/g)·k², params Cout·(Cin/g)·k² (+Cout bias), acts Cout·Ho·Wo: the papers'
    "FLOPs (# of multiply-adds)" (ResNet §3.3, ResNeXt §3.1) and torchvision's ``_ops``.
    """

    kind: ClassVar[str] = "conv"
    # conv backward needs the input for grad_weight (the weight is a parameter, counted there).
    memory: ClassVar[MemoryRule] = MemoryRule(saves=(0,))
    # cuDNN workspaces come from the caching allocator, so they count in max_memory_allocated:
    # forward k×k convs, and every backward (data and filter passes, each about in + out, plus
    # the weight for k×k: modelled as one in + out + weight workspace alive across both), as
    # seen on an H100 with cuDNN 9.19 (torch 2.11).
    memory_cuda: ClassVar[MemoryRule | None] = MemoryRule(
        saves=(0,), workspace=_nhwc_spatial, bwd_transient=_nhwc_copies
    )
    memory_channels_last: ClassVar[MemoryRule | None] = MemoryRule(
        saves=(0,), bwd_transient=_nhwc_depthwise_scratch
    )
    counting: ClassVar[Mapping[str, CountRule]] = {
        "analytic": CountRule(macs, "Ho·Wo·Cout·(Cin/g)·k² (graph/ops.py Conv)"),
        "flopcounter": CountRule(flops, "conv_flop: 2 × MACs, bias not counted"),
        # fvcore/nn/jit_handles.py conv_flop_count: batch · prod(w_shape) · prod(out spatial).
        "fvcore": CountRule(macs, "conv_flop_jit: batch·prod(weight)·Ho·Wo, bias ignored"),
        # thop/vision/calc_func.py calculate_conv2d_flops: out numel · (Cin/g) · prod(kernel).
        "thop": CountRule(macs, "count_convNd: out numel·(Cin/g)·k², bias ignored"),
    }
    aten: ClassVar[tuple[str, ...]] = (
        "conv",
        "convolution",
        "_convolution",
        "convolution_overrideable",
        "cudnn_convolution",
        "_slow_conv2d_forward",
        "mkldnn_convolution",
        "_convolution_mode",
    )

    cin: int
    cout: int
    kernel: int
    stride: int = 1
    padding: int | None = None  # None = kernel // 2 ("same" for odd kernels at stride 1)
    groups: int = 1
    bias: bool = False

    def __post_init__(self) -> None:
        sizes = (self.cin, self.cout, self.kernel, self.stride, self.groups)
        try:
            small = min(sizes) < 1
        except ValueError:  # arrays (blocks expanded together, sweep/stacked.py): any entry
            small = any(some(v < 1) for v in sizes)
        if small:
            raise GraphError(
                f"conv {self.cin}->{self.cout} k={self.kernel} s={self.stride} g={self.groups}: "
                "every size must be at least 1"
            )
        if some(self.cin % self.groups != 0) or some(self.cout % self.groups != 0):
            raise GraphError(
                f"conv {self.cin}->{self.cout}: groups={self.groups} must divide both widths"
            )

    @property
    def pad(self) -> int:
        return self.kernel // 2 if self.padding is None else self.padding

    def out_shape(self, x: Shape, *others: Shape) -> Shape:
        self._expect_channels(x, self.cin)
        h = conv_out(x[1], self.kernel, self.stride, self.pad)
        w = conv_out(x[2], self.kernel, self.stride, self.pad)
        return (self.cout, h, w)

    def own_cost(self, x: Shape, y: Shape) -> Cost:
        per_output = (self.cin // self.groups) * self.kernel * self.kernel
        params = self.cout * per_output + (self.cout if self.bias else 0)
        return Cost(params=params, macs=numel(y) * per_output, acts=numel(y))

    def param_tensors(self) -> int:
        return 2 if self.bias else 1

    def label(self) -> str:
        k = f"{self.kernel}×{self.kernel}, {self.cout}"
        return k + (f", C={self.groups}" if self.groups > 1 else "")

    def module(self) -> Any:
        from torch import nn

        return nn.Conv2d(
            self.cin, self.cout, self.kernel, self.stride, self.pad, groups=self.groups,
            bias=self.bias,
        )  # fmt: skip

    @classmethod
    def example(cls) -> Example:
        return cls(4, 8, 3, stride=2, groups=2, bias=True), ((4, 9, 9),)

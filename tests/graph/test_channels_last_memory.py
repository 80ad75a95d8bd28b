"""Memory formats in the memory model: which ops write channels innermost, and the CPU rule for
a conv on a channels-last input, both checked against torch (strides, profiler memory events)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import archprobe.graph.ops  # noqa: F401  (registers the built-in ops)
from archprobe.analysis.memory.measure import peak_above_baseline
from archprobe.analysis.memory.replay import rule_for
from archprobe.builder.network import op_module
from archprobe.graph.nodes import OpNode
from archprobe.graph.op import OPS
from archprobe.graph.ops import ChannelsLastLinear, Conv, LayerNorm, LayerNorm2d

BATCH = 2
# Ops whose input is a channels-last (H, W, C) map or that permute the order: checked below.
LOGICAL_HWC = {"layer_norm", "linear_channels_last", "permute"}


def _channels_innermost(y: torch.Tensor, channel_dim: int) -> bool:
    return y.dim() == 4 and y.stride(channel_dim) == 1 and y.shape[channel_dim] > 1


@pytest.mark.parametrize("name", sorted(set(OPS) - LOGICAL_HWC))
@pytest.mark.parametrize("channels_last", [False, True])
def test_output_memory_format_matches_torch(name: str, channels_last: bool) -> None:
    op, shapes = OPS[name].example()
    y_shape = op.out_shape(shapes[0], *shapes[1:])
    if len(shapes[0]) != 3 or min(shapes[0]) < 2 or min(y_shape) < 2:
        pytest.skip("a vector or a 1-wide map has no unambiguous memory format")
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    xs = [torch.randn(BATCH, *s).contiguous(memory_format=fmt) for s in shapes]
    with torch.no_grad():
        y = op_module(OpNode("m", op)).eval()(*xs)
    assert _channels_innermost(y, 1) == op.out_channels_last(channels_last)


@pytest.mark.parametrize("channels_last", [False, True])
def test_channels_last_ops_write_channels_innermost(channels_last: bool) -> None:
    nchw = torch.randn(BATCH, 6, 5, 4)
    nchw = nchw.contiguous(memory_format=torch.channels_last) if channels_last else nchw
    nhwc = nchw.permute(0, 2, 3, 1)  # torchvision CNBlock block.1: a view of the same storage
    with torch.no_grad():
        ln = op_module(OpNode("m", LayerNorm(6)))(nhwc)
        linear = op_module(OpNode("m", ChannelsLastLinear(6, 10)))(nhwc)
        ln2d = op_module(OpNode("m", LayerNorm2d(6)))(nchw)
    assert _channels_innermost(ln, 3) and LayerNorm(6).out_channels_last(channels_last)
    assert _channels_innermost(linear, 3)
    assert ChannelsLastLinear(6, 10).out_channels_last(channels_last)
    assert _channels_innermost(ln2d, 1) and LayerNorm2d(6).out_channels_last(channels_last)


def _backward_scratch(conv: nn.Conv2d, x: torch.Tensor) -> int:
    """Bytes a conv's backward allocates beyond its input, weight and bias gradients."""
    x.requires_grad_(True)
    y = conv(x)
    gy = torch.ones_like(y)

    def run() -> None:
        torch.autograd.grad(y, (x, conv.weight, conv.bias), gy, retain_graph=True)

    peak, _ = peak_above_baseline(torch.device("cpu"), run)
    return peak - x.numel() * 4 - sum(p.numel() * 4 for p in conv.parameters())


@pytest.mark.parametrize(
    ("channels", "kernel", "size", "batch"),
    [(48, 7, 8, 2), (96, 7, 14, 1), (96, 5, 8, 2), (96, 9, 8, 1), (96, 3, 8, 2), (64, 1, 8, 2)],
)
def test_depthwise_channels_last_backward_scratch(
    channels: int, kernel: int, size: int, batch: int
) -> None:
    conv = nn.Conv2d(channels, channels, kernel, padding=kernel // 2, groups=channels)
    x = torch.randn(batch, channels, size, size).contiguous(memory_format=torch.channels_last)
    op = Conv(channels, channels, kernel, groups=channels, bias=True)
    rule = rule_for(op, "cpu", channels_last=True)
    shape = (channels, size, size)
    assert sum(rule.bwd_transient(op, shape, shape, batch, 4)) == _backward_scratch(conv, x)


def test_channels_last_rule_is_cpu_only_and_depthwise_only() -> None:
    dense = Conv(8, 16, 3)
    assert (
        rule_for(dense, "cpu", channels_last=True).bwd_transient(dense, (8, 8, 8), (16, 8, 8), 2, 4)
        == ()
    )
    dw = Conv(8, 8, 7, groups=8)
    assert rule_for(dw, "cuda", channels_last=True) is not rule_for(dw, "cpu", channels_last=True)
    assert rule_for(dw, "cpu") is Conv.memory

"""Closed-form op costs (fvcore test_conv style) and shape rules checked against torch."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from archprobe.graph.cost import Cost
from archprobe.graph.ops import (
    Add,
    AvgPool,
    BatchNorm,
    Conv,
    GlobalAvgPool,
    GraphError,
    IdentityPad,
    Linear,
    MaxPool,
    ReLU,
)


def test_conv_closed_form() -> None:
    # ResNeXt Fig. 3(c) middle layer: (128, 3×3, 128, groups=32) at 56×56
    cost = Conv(128, 128, 3, groups=32).cost((128, 56, 56))
    per_out = (128 // 32) * 9
    assert cost.params == 128 * per_out
    assert cost.macs == 128 * 56 * 56 * per_out
    assert cost.acts == 128 * 56 * 56
    # ShuffleNet V2 Eq. 2 (generalised to k×k): hw·c1 + hw·c2 + k²·c1·c2/g
    assert cost.read + cost.written == 56 * 56 * 128 * 2 + 9 * 128 * 128 // 32


def test_batchnorm_params_and_buffers() -> None:
    cost = BatchNorm(64).cost((64, 7, 7))
    assert (cost.params, cost.buffers, cost.macs) == (128, 129, 0)


def test_linear_and_zero_cost_ops() -> None:
    assert Linear(2048, 1000).cost((2048, 1, 1)).params == 2048 * 1000 + 1000
    assert Linear(2048, 1000).cost((2048, 1, 1)).macs == 2048 * 1000
    for op in (ReLU(), GlobalAvgPool(), MaxPool(3, 2, 1), Add()):
        assert op.cost((8, 4, 4)).macs == 0
    assert Add().cost((8, 4, 4)) == Cost(read=2 * 128, written=128)


def test_shape_errors_are_graph_errors() -> None:
    with pytest.raises(GraphError, match="groups=3"):
        Conv(8, 8, 3, groups=3)
    with pytest.raises(GraphError, match="expects 8 channels"):
        Conv(8, 8, 3).out_shape((4, 8, 8))
    with pytest.raises(GraphError, match="too small"):
        Conv(8, 8, 7, padding=0).out_shape((8, 3, 3))
    with pytest.raises(GraphError, match="cannot shrink"):
        IdentityPad(8, 4, 2).out_shape((8, 4, 4))


@settings(max_examples=60, deadline=None)
@given(
    cin_g=st.integers(1, 4),
    cout_g=st.integers(1, 4),
    groups=st.integers(1, 4),
    kernel=st.sampled_from([1, 3, 5, 7]),
    stride=st.integers(1, 3),
    size=st.integers(7, 20),
    bias=st.booleans(),
)
def test_conv_matches_torch(
    cin_g: int, cout_g: int, groups: int, kernel: int, stride: int, size: int, bias: bool
) -> None:
    op = Conv(cin_g * groups, cout_g * groups, kernel, stride=stride, groups=groups, bias=bias)
    module = nn.Conv2d(op.cin, op.cout, kernel, stride, op.pad, groups=groups, bias=bias)
    y = module(torch.empty(1, op.cin, size, size + 1))
    assert tuple(y.shape[1:]) == op.out_shape((op.cin, size, size + 1))
    assert sum(p.numel() for p in module.parameters()) == op.cost((op.cin, size, size + 1)).params


@settings(max_examples=60, deadline=None)
@given(
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    pad=st.integers(0, 1),
    size=st.integers(4, 17),
    ceil=st.booleans(),
    include=st.booleans(),
)
def test_pool_shapes_match_torch(
    kernel: int, stride: int, pad: int, size: int, ceil: bool, include: bool
) -> None:
    if pad * 2 > kernel:
        return  # torch rejects padding larger than half the kernel
    x = torch.empty(1, 2, size, size)
    avg = AvgPool(kernel, stride, pad, ceil, include)
    got = nn.AvgPool2d(kernel, stride, pad, ceil, include)(x)
    assert tuple(got.shape[1:]) == avg.out_shape((2, size, size))
    mx = nn.MaxPool2d(kernel, stride, pad)(x)
    assert tuple(mx.shape[1:]) == MaxPool(kernel, stride, pad).out_shape((2, size, size))

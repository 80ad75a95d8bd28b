"""What ``profile`` lists as uncounted: activations are costed, data movement is not listed,
and a contraction without a formula is a warning, not only a line in a list."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from archprobe.analysis.counters.dispatch import record, uncounted
from archprobe.analysis.counters.op_classes import contracts
from archprobe.analysis.counters.profile import profile
from archprobe.report.terminal.profile import profile_lines, profile_records

ACTIVATIONS = {
    "hardswish": nn.Hardswish(),
    "hardswish_": nn.Hardswish(inplace=True),
    "hardsigmoid": nn.Hardsigmoid(),
    "silu_": nn.SiLU(inplace=True),
    "gelu": nn.GELU(),
    "gelu_tanh": nn.GELU("tanh"),
    "relu6": nn.ReLU6(),
    "hardtanh": nn.Hardtanh(),
    "mish": nn.Mish(),
    "mish_": nn.Mish(inplace=True),
    "elu": nn.ELU(),
    "selu": nn.SELU(),
    "prelu": nn.PReLU(),
    "rrelu": nn.RReLU(),
    "tanh": nn.Tanh(),
    "softplus": nn.Softplus(),
}


@pytest.mark.parametrize("device", ["meta", "cpu"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_are_pointwise_act(name: str, device: str) -> None:
    """One element op per output element, in the "act" category (hardswish and the in-place
    mish_ carry no pointwise tag in torch: they were uncounted "other" before)."""
    model = nn.Sequential(nn.Linear(4, 4), ACTIVATIONS[name])
    p = profile(model, input_shape=(2, 4), device=device, backward=True)
    assert p.uncounted == ()
    assert p.by_op("elem_ops") == {"act": 2 * 4}
    assert p.by_op("elem_ops_bwd").get("act", 0) > 0  # its backward is an activation too


class Movement(nn.Module):
    """Every kind of data movement: allocation, arange, index, gather, embedding lookup,
    _unsafe_view (matmul of 3-d by 2-d), in-place restride, clone, copy, dtype cast, roll,
    stack; and the arithmetic around it (mul, add, softmax), which must stay listed."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.w = nn.Parameter(torch.ones(4, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(x.shape[1], device=x.device)
        y = x + self.emb(pos)  # (B, 3, 4) + lookup
        y = (y @ self.w).clone()  # 3-d @ 2-d: mm on an _unsafe_view
        y = y[:, torch.tensor([0, 2], device=x.device)]  # aten.index
        y = torch.gather(y, 1, torch.zeros_like(y, dtype=torch.long))
        z = y.new_zeros(y.shape).copy_(y)
        z = z.as_strided_(z.shape, z.stride()).to(torch.float64).float()
        z = torch.stack([torch.roll(z, 1, 1), z]).sum(0)
        return (z * 2).softmax(-1)


def test_uncounted_lists_only_ops_that_do_arithmetic() -> None:
    rec = record(Movement(), torch.randn(2, 3, 4))
    ran = {s.name for s in rec}
    assert {"arange", "embedding", "_unsafe_view", "index", "gather", "new_zeros", "copy_",
            "_to_copy", "roll", "stack", "as_strided_", "clone"} <= ran  # fmt: skip
    listed = uncounted(rec)  # the FlopCounterMode column's list
    assert set(listed) == {"aten.add", "aten.mul", "aten.sum", "aten._softmax"}
    p = profile(Movement(), input_shape=(2, 3, 4), device="cpu")
    assert p.uncounted == ()  # add, mul and softmax are costed as element ops
    assert p.by_op("elem_ops")["elementwise"] > 0 and p.by_op("elem_ops")["add"] == 2 * 3 * 4


class FusedAttention(nn.Module):
    """Calls the fused MHA kernel itself: an op that does multiply-adds but has no formula."""

    def __init__(self, e: int = 8, h: int = 2) -> None:
        super().__init__()
        self.e, self.h = e, h
        self.qkv = nn.Parameter(torch.randn(3 * e, e))
        self.qkv_bias = nn.Parameter(torch.zeros(3 * e))
        self.proj = nn.Parameter(torch.randn(e, e))
        self.proj_bias = nn.Parameter(torch.zeros(e))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        args = (self.e, self.h, self.qkv, self.qkv_bias, self.proj, self.proj_bias)
        with torch.no_grad():  # the fused kernel has no derivative: forward only
            return torch._native_multi_head_attention(x, x, x, *args, need_weights=False)[0]


def test_undercount_of_a_costly_op_is_a_warning() -> None:
    p = profile(FusedAttention(), input_shape=(1, 5, 8), device="cpu")
    assert ("_native_multi_head_attention", "other", 1) in p.uncounted
    assert p.undercounted == ("_native_multi_head_attention",)
    first = profile_lines(p)[0]
    assert first.startswith("WARNING: MACs undercounted: _native_multi_head_attention ran")
    assert profile_records(p)["undercounted"] == ["_native_multi_head_attention"]


def test_cheap_uncounted_ops_are_listed_without_warning() -> None:
    """Bilinear upsampling does arithmetic without a rule, but no multiply-add is missing."""
    model = nn.Sequential(nn.Conv2d(1, 1, 1), nn.Upsample(scale_factor=2, mode="bilinear"))
    p = profile(model, input_shape=(1, 1, 4, 4))
    assert p.uncounted == (("upsample_bilinear2d", "other", 1),) and p.undercounted == ()
    assert not any(line.startswith("WARNING") for line in profile_lines(p))


@pytest.mark.parametrize(
    ("name", "costly"),
    [("_native_multi_head_attention", True), ("_transformer_encoder_layer_fwd", True),
     ("_scaled_dot_product_fused_attention_overrideable", True), ("slow_conv3d_forward", True),
     ("conv_depthwise2d", True), ("mkldnn_rnn_layer", True), ("baddbmm", True),
     ("_weight_int8pack_mm", True), ("einsum", True),
     ("_convert_indices_from_coo_to_csr", False), ("upsample_bilinear2d", False),
     ("upsample_linear1d", False), ("mvlgamma", False), ("mul", False), ("_softmax", False)],
)  # fmt: skip
def test_contraction_names(name: str, costly: bool) -> None:
    assert contracts(name) is costly

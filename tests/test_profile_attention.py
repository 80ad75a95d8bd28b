"""Attention counted the same on every device and on both of nn.MultiheadAttention's paths.

Ground truth is the closed form from the shapes. Per encoder layer, with L tokens of width E,
H heads and an FFN of width F: the in-projection is 3·L·E² MACs, QK^T is H·L·L·(E/H) = L²·E,
AV another L²·E, the out-projection L·E² and the FFN's two linears 2·L·E·F, so
L·(4E² + 2·L·E + 2·E·F) per layer and sample. Before the fix the CPU's SDPA kernel
(``_scaled_dot_product_flash_attention_for_cpu``) and the fused fast path
(``_transformer_encoder_layer_fwd``, ``_native_multi_head_attention``) had no formula.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from archprobe.analysis.counters.dispatch import record, recording, total_flops, uncounted
from archprobe.analysis.counters.profile import profile
from archprobe.analysis.counters.runtime import flop_counts

B, L, E, H, FFN, LAYERS = 2, 10, 32, 4, 64, 2


def _layer_macs(tokens: int, width: int, ffn: int) -> int:
    in_proj, scores, mix, out_proj = 3 * width**2, tokens * width, tokens * width, width**2
    return tokens * (in_proj + scores + mix + out_proj + 2 * width * ffn)


def _encoder(norm_first: bool = False, activation: str = "relu") -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(E, H, FFN, dropout=0.0, activation=activation,
                                       batch_first=True, norm_first=norm_first)  # fmt: skip
    return nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)


class Tokens(nn.Module):
    """Token ids -> embedding -> encoder -> self-attention: with every parameter frozen nothing
    needs grad, so a CPU forward takes both fused fast paths."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(100, E)
        self.enc = _encoder()
        self.attn = nn.MultiheadAttention(E, H, batch_first=True)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.enc(self.emb(ids))
        return self.attn(x, x, x, need_weights=False)[0]


class TinyViT(nn.Module):
    """ViT-B/16's layout at toy size: 32×32 input, 8×8 patches (16 + 1 class token)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_proj = nn.Conv2d(3, E, 8, 8)
        self.class_token = nn.Parameter(torch.zeros(1, 1, E))
        self.encoder = _encoder(norm_first=True, activation="gelu")
        self.head = nn.Linear(E, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.head(self.encoder(x)[:, 0])


class SDPA(nn.Module):
    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, q, q)


class _Ops(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """The aten ops a plain forward runs, without archprobe (what the model does by itself)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.seen: set[str] = set()

    def __torch_dispatch__(
        self, func: Any, types: Any, args: Any = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        self.seen.add(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


def _frozen(model: nn.Module) -> nn.Module:
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def test_fast_path_is_what_a_plain_cpu_forward_runs() -> None:
    """The premise of the next test: without archprobe, torch fuses both layers on the CPU."""
    ids = torch.zeros(B, L, dtype=torch.long)
    with torch.no_grad(), _Ops() as ops:
        _frozen(Tokens())(ids)
    assert {"aten._transformer_encoder_layer_fwd", "aten._native_multi_head_attention"} <= ops.seen


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_frozen_encoder_counts_what_the_shapes_say(device: str) -> None:
    """Fast path (CPU) or not (meta), the MACs are the closed form, scope by scope."""
    ids = torch.zeros(B, L, dtype=torch.long)
    p = profile(_frozen(Tokens()), ids, device=device)
    encoder, attn = LAYERS * B * _layer_macs(L, E, FFN), B * L * (4 * E * E + 2 * L * E)
    assert p.device == device and p.total("macs") == encoder + attn
    assert p.total("macs", scope="enc") == encoder and p.total("macs", scope="attn") == attn
    assert p.uncounted == () and p.undercounted == ()
    # Per layer: the attention (its out_proj is called functionally) and each FFN linear in
    # its own scope, as on the composite path, not one fused op at the layer's scope.
    per_layer = p.by_scope("macs", depth=4)
    assert per_layer["enc.layers.0.self_attn"] == attn
    assert per_layer["enc.layers.0.linear1"] == per_layer["enc.layers.1.linear2"] == B * L * E * FFN
    assert torch.backends.mha.get_fastpath_enabled()  # restored after counting


def test_fast_path_and_composite_path_count_the_same() -> None:
    """Same model, same device: counted with torch's fast path switched off by the caller, and
    with it on (the default, which a frozen CPU forward takes): one total, one row set."""
    ids = torch.zeros(B, L, dtype=torch.long)
    model = _frozen(Tokens())
    fused = profile(model, ids, device="cpu")
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        composite = profile(model, ids, device="cpu")
        assert not torch.backends.mha.get_fastpath_enabled()  # the caller's choice is kept
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    assert fused.total("macs") == composite.total("macs") > 0
    assert fused.by_scope("macs", depth=4) == composite.by_scope("macs", depth=4)
    assert fused.total("elem_ops") == composite.total("elem_ops")


def test_flop_counts_of_a_frozen_encoder_on_cpu() -> None:
    """``flop_counts`` runs under no_grad, where torch takes the fast path (it gave 0 before)."""
    counts = flop_counts(_encoder().eval(), (B, L, E), device="cpu")
    assert counts[""] == 2 * LAYERS * B * _layer_macs(L, E, FFN)


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_vit_counts_attention_on_every_device(device: str) -> None:
    """The CPU's SDPA kernel gets torch's own SDPA formula (ViT-B/16: 17.56 GMACs, not 16.85)."""
    p = profile(TinyViT(), input_shape=(1, 3, 32, 32), device=device)
    patches, tokens = 16, 17
    hand = E * 3 * 8 * 8 * patches + LAYERS * _layer_macs(tokens, E, FFN) + E * 10
    assert p.total("macs") == hand and p.uncounted == ()


def test_cpu_sdpa_forward_and_backward_use_torchs_formulas() -> None:
    """QK^T and AV forward; backward as torch counts its flash kernels: the scores recomputed,
    then dV, dP, dQ and dK, five products of B·H·L·L·d multiply-adds."""
    b, h, n, d = 2, 2, 10, 16
    p = profile(SDPA(), input_shape=(b, h, n, d), device="cpu", backward=True)
    product = b * h * n * n * d
    assert p.total("macs") == 2 * product and p.total("flops_bwd") == 2 * 5 * product
    rec = record(SDPA(), torch.randn(b, h, n, d))
    ops = {s.op for s in rec}
    assert "aten._scaled_dot_product_flash_attention_for_cpu" in ops
    # FlopCounterMode itself has no formula for it: its column still lists it as uncounted.
    assert uncounted(rec) == {"aten._scaled_dot_product_flash_attention_for_cpu": 1}


def test_flopcountermode_column_lists_attention_it_does_not_count() -> None:
    """Under inference_mode SDPA reaches the recorder undecomposed; its CPU decomposition is
    counted by archprobe's formula, which FlopCounterMode lacks: so that column lists it."""
    q = torch.randn(1, 2, 10, 16)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter, recording(SDPA()) as r:
        SDPA()(q)
    assert counter.get_total_flops() == 0 and total_flops(r.sites) == 2 * 2 * (2 * 10 * 10 * 16)
    assert uncounted(r.sites) == {"aten.scaled_dot_product_attention": 1}

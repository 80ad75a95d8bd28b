"""Attention counted exactly at dispatch level, on every device.

Two gaps in ``torch.utils.flop_counter`` undercount attention by its QK^T and AV products:

* Scaled dot-product attention reaches a different kernel per device: meta decomposes it into
  ``bmm`` (counted), CUDA runs ``_scaled_dot_product_flash_attention`` / ``_efficient_attention``
  (counted), but the CPU runs ``_scaled_dot_product_flash_attention_for_cpu`` and XPU/MPS run
  their own variants, for which torch has no formula. :data:`FORMULAS` gives them torch's own
  ``sdpa_flop_count`` / ``sdpa_backward_flop_count``, so every device counts what CUDA counts.
* ``nn.MultiheadAttention`` and ``nn.TransformerEncoderLayer`` in eval mode without grad, on a
  real device, take a fused fast path (``_native_multi_head_attention``,
  ``_transformer_encoder_layer_fwd``) that no formula counts: :func:`unfused_attention`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.utils.flop_counter import sdpa_backward_flop_count, sdpa_flop_count


def _sdpa(query: Any, key: Any, value: Any, *args: Any, **kwargs: Any) -> int:
    """Forward SDPA FLOPs as torch counts its CUDA kernels: QK^T and AV, 2 per multiply-add
    (no discount for a causal mask, as in torch)."""
    return int(sdpa_flop_count(query.shape, key.shape, value.shape))  # type: ignore[no-untyped-call]


def _sdpa_backward(grad: Any, query: Any, key: Any, value: Any, *args: Any, **kwargs: Any) -> int:
    """Backward SDPA FLOPs as torch counts its CUDA kernels' backward (scores recomputed)."""
    shapes = (grad.shape, query.shape, key.shape, value.shape)
    return int(sdpa_backward_flop_count(*shapes))  # type: ignore[no-untyped-call]


def _formulas() -> dict[Any, Any]:
    # Every one of these takes (query, key, value, ...) forward and (grad_out, query, key,
    # value, ...) backward, the argument order torch's CUDA formulas rely on too.
    forward = ("_scaled_dot_product_flash_attention_for_cpu",
               "_scaled_dot_product_fused_attention_overrideable",
               "_scaled_dot_product_attention_math_for_mps")  # fmt: skip
    backward = ("_scaled_dot_product_flash_attention_for_cpu_backward",
                "_scaled_dot_product_fused_attention_overrideable_backward")  # fmt: skip
    aten = torch.ops.aten
    table = {getattr(aten, n): _sdpa for n in forward if hasattr(aten, n)}
    return table | {getattr(aten, n): _sdpa_backward for n in backward if hasattr(aten, n)}


FORMULAS: dict[Any, Any] = _formulas()
"""FLOP formulas (2 per multiply-add) by aten packet, for the attention kernels that
``torch.utils.flop_counter.flop_registry`` lacks; called like its entries, ``out_val=`` included.
Kept here rather than registered with torch, so the user's own FlopCounterMode is unchanged."""


@contextmanager
def unfused_attention() -> Iterator[None]:
    """Run ``nn.MultiheadAttention`` / ``nn.TransformerEncoderLayer`` on their composite path.

    Why not formulas for the fused ops instead: the composite path runs the very products the
    fused kernels do (in-projection 3·E² per token, QK^T, AV, out-projection E², the two FFN
    linears) as ops that already have formulas, so it is exact by construction, mask, bias and
    ``norm_first`` cases included. It also keeps each product in its own module's scope
    (``self_attn.out_proj``, ``linear1``, ``linear2``) and counts layer norms, softmax and
    residual adds as element ops, where one formula per fused op would lump a whole layer into
    one op. Without the fast path ``nn.TransformerEncoder`` does not turn padded input into
    nested tensors either, so padding tokens count as the dense layers compute them.

    The switch (``torch.backends.mha.set_fastpath_enabled``) is process-wide; the previous value
    is restored on exit, so nesting and the caller's own setting are kept.
    """
    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(before)

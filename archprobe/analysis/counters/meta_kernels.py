"""Fast output allocation for the ops whose meta kernels are slow, used while recording on meta.

Torch implements many meta kernels in Python (``torch/_decomp/decompositions.py``,
``torch/_refs``): ``native_batch_norm`` is ~0.7 ms a call, ``hardswish`` ~1.3 ms, while the
convolution is ~0.05 ms. Batch norm alone is ~85% of a meta forward of ResNet-50 (39 of 45 ms,
measured) and ~45% of its backward. On meta an op only has to return outputs of the right
shape, strides and dtype, so for the common, unambiguous cases (plain float tensors laid out
contiguous or channels-last, shapes that agree) the outputs are allocated directly here.

Anything else (mixed dtypes, broadcasting, odd strides, shapes that do not agree) returns
``NotImplemented`` and the real kernel runs: it computes the layout, and raises torch's own error
for a shape that is wrong. ``tests/test_profile_meta_kernels.py`` checks every rule against the
real kernel's outputs (shape, strides of every dim longer than 1, dtype, aliasing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

aten = torch.ops.aten
FLOATS = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
Rule = Callable[..., Any]


def _meta_float(t: Any) -> bool:
    """A floating-point tensor on meta, in any layout."""
    return isinstance(t, torch.Tensor) and t.device.type == "meta" and t.dtype in FLOATS


def _plain(t: Any) -> bool:
    """A meta float tensor laid out contiguous or channels-last (the layouts a conv net uses)."""
    return _meta_float(t) and (
        t.is_contiguous() or t.is_contiguous(memory_format=torch.channels_last)
    )


def _new(t: torch.Tensor, shape: Sequence[int], dtype: torch.dtype | None = None) -> torch.Tensor:
    """``t.new_empty(shape, dtype=dtype)``, contiguous, by ``torch.empty`` (half the cost)."""
    return torch.empty(shape, dtype=dtype or t.dtype, device=t.device)


def _like(t: torch.Tensor) -> torch.Tensor:
    """``torch.empty_like(t)``: on meta that is torch's Python reference (``torch/_refs``
    ``empty_like``, 30-250 us a call, measured), while ``empty_strided`` is a C++ kernel
    (~3 us). ``empty_like`` keeps the strides of a dense tensor (contiguous, channels-last)
    and lays anything else out contiguous."""
    if t.is_contiguous():
        return _new(t, t.shape)
    if t.is_contiguous(memory_format=torch.channels_last):
        return torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device=t.device)
    return torch.empty_like(t)


def _alike(a: Any, b: Any) -> bool:
    """Two plain tensors with one shape, dtype and layout: any pointwise result is laid out so."""
    return (
        _plain(a)
        and _plain(b)
        and a.shape == b.shape
        and a.dtype == b.dtype
        and a.stride() == b.stride()
    )


def _stats_dtype(x: torch.Tensor) -> torch.dtype:
    # Norm statistics are kept in the computation dtype: fp32 for half inputs
    # (torch/_prims_common get_computation_dtype, used by the norm decompositions).
    return torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype


def _unary(inplace: bool) -> Rule:
    def rule(x: Any, *args: Any, **kwargs: Any) -> Any:
        if not _plain(x):
            return NotImplemented
        return x if inplace else _like(x)

    return rule


def _pointwise2(inplace: bool) -> Rule:
    """Binary pointwise (forward ``x + y``, or an activation's backward ``f'(grad, x)``)."""

    def rule(a: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
        if not _alike(a, b):
            return NotImplemented
        return a if inplace else _like(a)

    return rule


def _scale(small: Any, full: Any) -> bool:
    """``small`` broadcasts to ``full`` along one dim at most: a per-channel or per-feature
    vector (layer scale ``gamma * x`` with gamma (C, 1, 1), a bias (C,)) or a scalar tensor.
    Expanded, its strides are 0 everywhere but that dim, so torch's output layout
    (``compute_elementwise_output_logical_to_physical_perm``, which skips stride-0 operands)
    is the full operand's alone."""
    if not _meta_float(small) or small.dtype != full.dtype or small.dim() > full.dim():
        return False
    sizes = full.shape[full.dim() - small.dim() :]
    if any(n not in (1, m) for n, m in zip(small.shape, sizes, strict=True)):
        return False
    return sum(1 for n in small.shape if n > 1) <= 1


def _arith(inplace: bool) -> Rule:
    """``add``/``mul``: alike operands; two full-size plain operands in different layouts (a
    residual add of a channels-last branch to a contiguous shortcut: laid out as the first,
    whose distinct strides decide every comparison of the layout sort); or one scaled by a
    vector (:func:`_scale`). Other broadcasts run the real kernel."""
    same = _pointwise2(inplace)

    def rule(a: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
        if _alike(a, b) or not _plain(a):
            return same(a, b)
        if _plain(b) and a.shape == b.shape and a.dtype == b.dtype:
            return a if inplace else _like(a)
        if _scale(b, a):
            return a if inplace else _like(a)
        if not inplace and _plain(b) and _scale(a, b):
            return _like(b)
        return NotImplemented

    return rule


def _vector(t: Any, n: int) -> bool:
    """None, or a meta vector of ``n`` elements (a norm's weight, bias or running stat)."""
    return t is None or (
        isinstance(t, torch.Tensor) and t.device.type == "meta" and t.shape == (n,)
    )


def _batch_norm(x: Any, w: Any, b: Any, mean: Any, var: Any, training: bool, *rest: Any) -> Any:
    """``native_batch_norm``: (out, save_mean, save_invstd), out laid out as the input and (C,)
    statistics; training on one value per channel is left to the real kernel (it raises)."""
    if not _plain(x) or x.dim() < 2 or (training and x.numel() <= x.shape[1]):
        return NotImplemented
    c = x.shape[1]
    if not all(_vector(t, c) for t in (w, b, mean, var)):
        return NotImplemented
    stats = _stats_dtype(x)
    return _like(x), _new(x, (c,), stats), _new(x, (c,), stats)


def _batch_norm_eval(x: Any, w: Any, b: Any, mean: Any, var: Any, *rest: Any) -> Any:
    """``_native_batch_norm_legit_no_training``: as :func:`_batch_norm` in eval mode."""
    return _batch_norm(x, w, b, mean, var, False)


def _batch_norm_backward(grad: Any, x: Any, w: Any, *args: Any) -> Any:
    """(grad_input, grad_weight, grad_bias); the weight's grads are None where ``output_mask``
    is False (the meta kernel returns grad_input whatever the mask says)."""
    mask: Sequence[bool] = args[-1]
    if not _alike(grad, x) or x.dim() < 2 or not _vector(w, x.shape[1]) or w is None:
        return NotImplemented
    gx = _like(x)
    gw = _like(w) if mask[1] else None
    gb = _like(w) if mask[2] else None
    return gx, gw, gb


def _layer_norm(x: Any, shape: Sequence[int], w: Any, b: Any, eps: float) -> Any:
    """(out, mean, rstd): out contiguous, statistics with 1 for every normalized dim, whatever
    the input's layout: torch's kernel (``torch/_refs`` ``native_layer_norm``) makes the input
    contiguous first. ConvNeXt's LayerNorm2d feeds it a permuted NCHW map (N, H, W, C), for
    which the Python kernel took 2 ms a call, 2/3 of a ConvNeXt-T forward on meta."""
    k = len(shape)
    if not _meta_float(x) or k == 0 or tuple(x.shape[-k:]) != tuple(shape):
        return NotImplemented
    if not all(t is None or (_plain(t) and tuple(t.shape) == tuple(shape)) for t in (w, b)):
        return NotImplemented
    stats = (*x.shape[:-k], *([1] * k))
    dtype = _stats_dtype(x)
    out = _new(x, x.shape)
    return out, _new(x, stats, dtype), _new(x, stats, dtype)


def _layer_norm_backward(
    grad: Any, x: Any, shape: Sequence[int], mean: Any, rstd: Any, w: Any, b: Any, mask: Any
) -> Any:
    """(grad_input, grad_weight, grad_bias), each contiguous: torch's kernel
    (``torch/_decomp`` ``native_layer_norm_backward``) makes every input contiguous first; a
    weight's (bias's) grad is None without the weight (bias) or where ``mask`` is False. In
    ConvNeXt-T's backward on meta it was 23 calls of ~4 ms, over half the pass."""
    k = len(shape)
    if not (_meta_float(grad) and _meta_float(x)) or k == 0 or grad.shape != x.shape:
        return NotImplemented
    stats = (*x.shape[:-k], *([1] * k))
    if tuple(x.shape[-k:]) != tuple(shape) or grad.dtype != x.dtype:
        return NotImplemented
    if not all(_meta_float(t) and tuple(t.shape) == stats for t in (mean, rstd)):
        return NotImplemented
    if not all(t is None or (_meta_float(t) and tuple(t.shape) == tuple(shape)) for t in (w, b)):
        return NotImplemented
    gx = _new(x, x.shape) if mask[0] else None
    gw = _new(w, w.shape) if mask[1] and w is not None else None
    gb = _new(b, b.shape) if mask[2] and b is not None else None
    return gx, gw, gb


def _matrices(a: Any, b: Any) -> bool:
    return (
        isinstance(a, torch.Tensor)
        and isinstance(b, torch.Tensor)
        and a.device.type == b.device.type == "meta"
        and a.dim() == b.dim() == 2
        and a.dtype == b.dtype
        and a.dtype in FLOATS
        and a.shape[1] == b.shape[0]
    )


def _mm(a: Any, b: Any) -> Any:
    return _new(a, (a.shape[0], b.shape[1])) if _matrices(a, b) else NotImplemented


def _addmm(bias: Any, a: Any, b: Any, **kwargs: Any) -> Any:
    """``bias + a @ b`` (nn.Linear): a bias of the output's row, or of the whole output."""
    if not _matrices(a, b) or not isinstance(bias, torch.Tensor) or bias.dtype != a.dtype:
        return NotImplemented
    n, m = a.shape[0], b.shape[1]
    if bias.device.type != "meta" or tuple(bias.shape) not in ((m,), (1, m), (n, m)):
        return NotImplemented
    return _new(a, (n, m))


_UNARY = ("relu", "hardswish", "hardsigmoid", "gelu", "silu", "sigmoid", "tanh", "hardtanh",
          "leaky_relu", "elu", "mish")  # fmt: skip
_GRADS = ("threshold", "hardswish", "hardsigmoid", "gelu", "silu", "sigmoid", "tanh", "hardtanh",
          "leaky_relu", "mish")  # fmt: skip


def _rules() -> dict[Any, Rule]:
    rules: dict[Any, Rule] = {}
    for name in _UNARY:
        rules[getattr(aten, name).default] = _unary(inplace=False)
        rules[getattr(aten, name + "_").default] = _unary(inplace=True)
    for name in _GRADS:
        rules[getattr(aten, name + "_backward").default] = _pointwise2(inplace=False)
    for name in ("add", "mul"):
        rules[getattr(aten, name).Tensor] = _arith(inplace=False)
        rules[getattr(aten, name + "_").Tensor] = _arith(inplace=True)
    rules[aten.native_batch_norm.default] = _batch_norm
    rules[aten._native_batch_norm_legit_no_training.default] = _batch_norm_eval
    rules[aten.native_batch_norm_backward.default] = _batch_norm_backward
    rules[aten.native_layer_norm.default] = _layer_norm
    rules[aten.native_layer_norm_backward.default] = _layer_norm_backward
    rules[aten.mm.default] = _mm
    rules[aten.addmm.default] = _addmm
    return rules


RULES = _rules()


def fast_meta(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The outputs of ``func`` on meta tensors, or ``NotImplemented`` (run the real kernel)."""
    rule = RULES.get(func)
    return NotImplemented if rule is None else rule(*args, **kwargs)

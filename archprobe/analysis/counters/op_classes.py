"""What kind of work an aten op does, by name and by torch's op tags: the classes the dispatch
recorder's cost rules (:mod:`.dispatch`) and the "uncounted" lists are built from.

torch marks views (``OpOverload.is_view``, ``torch.Tag.inplace_view``, ``view_copy``) and
pointwise ops (``torch.Tag.pointwise``); what its tags do not say is spelled out here as small
named sets, each with why its members belong together.
"""

from __future__ import annotations

import re
from typing import Any

import torch


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Reductions and normalisations: no MACs by archprobe's convention, but real work, so counted
# as one element op per input element rather than left as silent zeros.
REDUCTIONS = _names(
    "native_batch_norm _native_batch_norm_legit _native_batch_norm_legit_no_training "
    "_native_batch_norm_legit_functional native_batch_norm_backward native_layer_norm "
    "native_layer_norm_backward native_group_norm native_group_norm_backward "
    "max_pool2d_with_indices max_pool2d_with_indices_backward avg_pool2d avg_pool2d_backward "
    "_adaptive_avg_pool2d _adaptive_avg_pool2d_backward mean sum amax amin _softmax "
    "_safe_softmax _log_softmax _softmax_backward_data _log_softmax_backward_data cumsum var_mean"
)
# Ops that only allocate, copy or describe tensors: free at this level of accounting.
_FREE = _names(
    "empty empty_like empty_strided zeros zeros_like ones_like ones full full_like new_empty "
    "new_zeros new_ones new_empty_strided detach _to_copy copy_ clone lift_fresh "
    "_local_scalar_dense sym_size sym_stride sym_numel is_same_size zero_ fill_ cat "
    "constant_pad_nd"
)
# Aliases torch does not mark as views (``is_view`` is False for them): ``_unsafe_view`` is a
# view autograd does not track as one; ``alias``, ``lift_fresh`` and ``detach`` return their
# input as another tensor object.
_ALIASES = _names("_unsafe_view _reshape_alias alias lift_fresh detach")
# Data movement without arithmetic, by class; an "uncounted" list leaves these out, since a
# missing formula for them hides no multiply-add. Allocations and fills write constants;
# copies and dtype casts move values unchanged; rearrangements (split, stack, roll, flip,
# repeat, pixel shuffle) put values elsewhere; gathers (indexing, an embedding lookup, nearest
# upsampling) read values by index. ``cat`` and ``constant_pad_nd`` are not here: they are the
# graph's own concatenation and shortcut padding, which the reconciliation lists as "other".
_MOVES = _ALIASES | _names(
    "empty empty_like empty_strided zeros zeros_like ones ones_like full full_like new_empty "
    "new_zeros new_ones new_full new_empty_strided arange scalar_tensor zero_ fill_ "
    "clone copy_ _to_copy lift_fresh_copy contiguous _local_scalar_dense sym_size sym_stride "
    "sym_numel is_same_size "
    "unsafe_split unsafe_split_with_sizes unsafe_chunk stack roll flip repeat pixel_shuffle "
    "pixel_unshuffle channel_shuffle native_channel_shuffle "
    "index index_select gather take embedding upsample_nearest1d upsample_nearest2d "
    "upsample_nearest3d _upsample_nearest_exact1d _upsample_nearest_exact2d "
    "_upsample_nearest_exact3d"
)
# Activation functions: pointwise, though torch tags only some of them (hardswish and the
# in-place gelu_ and mish_ carry no ``pointwise`` tag); all are the report's "act" category,
# whether or not one of archprobe's graph ops names them.
_ACTIVATIONS = _names(
    "relu relu6 leaky_relu rrelu_with_noise prelu _prelu_kernel elu selu celu gelu silu mish "
    "hardswish hardsigmoid hardtanh sigmoid tanh softplus log_sigmoid log_sigmoid_forward glu "
    "threshold clamp_min hardshrink softshrink"
)
# Kernels whose work is a contraction (multiply-adds over a shared dimension): run without a
# formula, they leave a model-sized hole in the MACs, not a few element ops. "conv" but not
# "convert"; "linear" but not "upsample_linear1d"; mm, baddbmm, _int_mm but not "mmap".
_CONTRACTION = re.compile(
    r"conv(?!ert)|attention|multi_head|transformer|lstm|gru|rnn|einsum|tensordot|matmul|"
    r"cdist|vecdot|^bilinear$|^addr$|(^|_)linear($|_)|(^|_)[a-z0-9]*mm($|_)|(^|_)(add)?mv$|"
    r"(^|_)v?dot$"
)


def base_name(func: Any) -> str:
    """``aten.relu_.default`` -> ``relu_``."""
    return str(func.overloadpacket).split(".")[-1]


def activation(base: str) -> bool:
    """An activation function's op name, in place or not: ``hardswish``, ``gelu_`` -> True."""
    return base in _ACTIVATIONS or base.removesuffix("_") in _ACTIVATIONS


def alias(func: Any) -> bool:
    """A view, an in-place restride (``as_strided_``, ``t_``) or a view under another name."""
    return func.is_view or torch.Tag.inplace_view in func.tags or base_name(func) in _ALIASES


def free(func: Any) -> bool:
    """Costs nothing at this level of accounting: an alias, an allocation, a copy, ``cat``."""
    base = base_name(func)
    return alias(func) or base.rstrip("_") in _FREE or base in _FREE


def does_arithmetic(func: Any) -> bool:
    """False for ops that only alias, allocate, fill, copy or gather data (what an "uncounted"
    list leaves out: no formula is missing for them); True for the rest (add, softmax, ...)."""
    moves = alias(func) or torch.Tag.view_copy in func.tags or base_name(func) in _MOVES
    return not moves


def contracts(name: str) -> bool:
    """An aten op name (``_native_multi_head_attention``) that names a contraction kernel:
    conv, matmul, attention or a recurrent cell, whose missing formula undercounts MACs."""
    return _CONTRACTION.search(name) is not None

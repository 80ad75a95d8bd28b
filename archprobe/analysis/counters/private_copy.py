"""The private copy ``profile`` counts on: the user's model is never touched, and its weights are
never cloned to be thrown away.

``copy.deepcopy(model).to("meta")`` clones every parameter on the CPU, then drops the clones:
0.65 of 2.07 s of a ConvNeXt-T profile (issue 16), and for a model whose weights are stride-0
views (``torch.zeros(()).expand(100000, 100000)``, 4 bytes) a 40 GB allocation. Instead
``deepcopy``'s memo is seeded with the copy of every parameter and buffer, made directly where
counting runs (``copy.deepcopy`` returns ``memo[id(x)]`` for an object already copied, which is
how it keeps shared objects shared): the module tree is copied, the tensors are made once, on
meta for free.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from archprobe.errors import ArchprobeError


def _moved(t: torch.Tensor, device: str, dtype: torch.dtype) -> torch.Tensor:
    """``t`` as ``Module.to(device, dtype)`` leaves it, but always a new tensor: floats cast,
    layout kept (``empty_like``/``to`` preserve strides), values copied unless on meta."""
    cast = dtype if t.is_floating_point() else t.dtype
    if device == "meta":
        return torch.empty_like(t, device="meta", dtype=cast)
    return t.detach().to(device=device, dtype=cast, copy=True)


def _memo(model: nn.Module, device: str, dtype: torch.dtype) -> tuple[dict[int, Any], bool]:
    """``deepcopy`` memo: id of each plain parameter/buffer -> its copy on ``device``; and
    whether that was every one of them (then the copy needs no ``Module.to``).

    Tensor subclasses (lazy ``UninitializedParameter``, quantized or wrapper tensors) are left
    to ``deepcopy`` and ``Module.to``, which know how to copy them."""
    memo: dict[int, Any] = {}
    complete = True
    for p in model.parameters():
        if type(p) is nn.Parameter:
            memo[id(p)] = nn.Parameter(_moved(p, device, dtype), requires_grad=p.requires_grad)
        else:
            complete = False
    for b in model.buffers():
        if type(b) is torch.Tensor:
            memo[id(b)] = _moved(b, device, dtype)
        else:
            complete = False
    return memo, complete


def private_copy(model: nn.Module, device: str, dtype: torch.dtype, name: str) -> nn.Module:
    """A copy of ``model`` in eval mode (BN statistics stay put) on ``device`` in ``dtype``.

    Raises:
        ArchprobeError: the model cannot be deep-copied (an unpicklable attribute, a custom
            ``__deepcopy__`` that raises) or moved to ``device``, named as a copy failure.
    """
    memo, complete = _memo(model, device, dtype)
    try:
        private = copy.deepcopy(model, memo)
    except Exception as exc:  # the model's own objects refuse to be copied
        raise ArchprobeError(
            f"{name} cannot be copied for counting: copy.deepcopy raised {first_line(exc)}\n"
            "  (archprobe counts on a private copy so that your model is never modified; make "
            "the module deep-copyable, e.g. keep locks, files and generators out of its attributes)"
        ) from exc
    try:
        return (private if complete else private.to(device=device, dtype=dtype)).eval()
    except Exception as exc:  # e.g. weights on meta, which have no values to copy to the CPU
        raise ArchprobeError(
            f"{name} cannot be copied to {device} for counting: {first_line(exc)}"
        ) from exc


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (torch's messages run on for many lines)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")

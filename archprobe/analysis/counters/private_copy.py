"""The private copy ``profile`` counts on: the user's model is never touched, and its weights are
never cloned to be thrown away.

``copy.deepcopy(model).to("meta")`` clones every parameter on the CPU, then drops the clones:
0.65 of 2.07 s of a ConvNeXt-T profile (issue 16), and for a model whose weights are stride-0
views (``torch.zeros(()).expand(100000, 100000)``, 4 bytes) a 40 GB allocation. Instead
``deepcopy``'s memo is seeded with the copy of every parameter and buffer, made directly where
counting runs (``copy.deepcopy`` returns ``memo[id(x)]`` for an object already copied, which is
how it keeps shared objects shared): the module tree is copied, the tensors are made once, on
meta for free.

The tree itself is copied by :func:`_copy_module`, which does what ``deepcopy`` does for a
plain ``nn.Module`` (``__reduce_ex__`` -> ``__getstate__``, each value deep-copied,
``__setstate__``) without its generic machinery: ``deepcopy`` reconstructs each of a
module's ~15 empty hook dicts through ``__reduce_ex__``, 15-20 ms of a 50 ms ConvNeXt-T
profile (203 modules). Anything else (a class with its own copy protocol, an attribute that
is not a dict, set or module) goes to ``copy.deepcopy`` with the same memo, so sharing and
custom ``__deepcopy__`` behave as under ``deepcopy``.
"""

from __future__ import annotations

import copy
import copyreg
import types
from collections import OrderedDict
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


# Values ``deepcopy`` returns as they are (copy._deepcopy_atomic's types).
_ATOMIC = frozenset({type(None), int, float, bool, complex, str, bytes, type, range,
                     types.FunctionType, types.BuiltinFunctionType})  # fmt: skip


_PLAIN: dict[type, bool] = {}


def _plain_module(cls: type) -> bool:
    """``deepcopy`` copies instances of ``cls`` through ``__getstate__`` and ``__setstate__``
    (nn.Module's, or a subclass's own, as Conv2d's): no ``__deepcopy__``, no pickling hooks
    of its own, no copyreg entry. Asked once per class."""
    known = _PLAIN.get(cls)
    if known is None:
        known = _PLAIN[cls] = _copied_by_state(cls)
    return known


def _copied_by_state(cls: type) -> bool:
    return (
        issubclass(cls, nn.Module)
        and getattr(cls, "__deepcopy__", None) is None
        and cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
        and not hasattr(cls, "__getnewargs_ex__")
        and not hasattr(cls, "__getnewargs__")
        and cls not in copyreg.dispatch_table
    )


def _copy_value(value: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy(value, memo)``, by hand for modules, dicts, lists, tuples and sets of
    strings (what a module's state holds)."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if id(value) in memo:
        return memo[id(value)]
    if kind is dict or kind is OrderedDict:
        new = memo[id(value)] = kind()
        for key, item in value.items():
            new[_copy_value(key, memo)] = _copy_value(item, memo)
        return new
    if kind is list:
        items = memo[id(value)] = []
        items.extend(_copy_value(item, memo) for item in value)
        return items
    if kind is tuple:  # as deepcopy: the same tuple when every item is its own copy
        copied = tuple(_copy_value(item, memo) for item in value)
        if all(a is b for a, b in zip(copied, value, strict=True)):
            return value
        memo[id(value)] = copied
        return copied
    if kind is set and all(type(v) is str for v in value):
        new_set = memo[id(value)] = set(value)
        return new_set
    if _plain_module(kind):
        return _copy_module(value, memo)
    return copy.deepcopy(value, memo)


def _copy_module(module: nn.Module, memo: dict[int, Any]) -> nn.Module:
    """A module as ``deepcopy`` copies it: ``cls.__new__``, memo entry, its ``__getstate__``
    deep-copied, ``__setstate__``."""
    state = module.__getstate__()  # type: ignore[no-untyped-call]  # (unannotated in torch)
    if type(state) is not dict:  # a state of its own making: deepcopy knows what to do
        return copy.deepcopy(module, memo)
    # Kept alive, as deepcopy's _keep_alive does: a custom __getstate__ may return new objects,
    # whose ids must not be reused (and then found in the memo) while the copy runs.
    memo.setdefault(id(memo), []).append(state)
    cls = type(module)
    new = memo[id(module)] = cls.__new__(cls)
    copied = {key: _copy_value(value, memo) for key, value in state.items()}
    new.__setstate__(copied)  # type: ignore[no-untyped-call]
    return new


def private_copy(model: nn.Module, device: str, dtype: torch.dtype, name: str) -> nn.Module:
    """A copy of ``model`` in eval mode (BN statistics stay put) on ``device`` in ``dtype``.

    Raises:
        ArchprobeError: the model cannot be deep-copied (an unpicklable attribute, a custom
            ``__deepcopy__`` that raises) or moved to ``device``, named as a copy failure.
    """
    memo, complete = _memo(model, device, dtype)
    try:
        private: nn.Module = _copy_value(model, memo)
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

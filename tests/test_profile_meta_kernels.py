"""Every fast meta rule against the real kernel: same shapes, strides (dims longer than 1),
dtypes and aliasing, for each layout and dtype a network feeds it; and a mis-shaped call
falls through to the real kernel, which raises torch's own error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

from archprobe.analysis.counters.meta_kernels import _GRADS, _UNARY, FLOATS, RULES, fast_meta

aten = torch.ops.aten
LAST = torch.channels_last


def _t(*shape: int, dtype: torch.dtype = torch.float32, fmt: Any = None) -> torch.Tensor:
    t = torch.empty(shape, device="meta", dtype=dtype)
    return t.contiguous(memory_format=fmt) if fmt is not None else t


def _layouts(dtype: torch.dtype) -> list[torch.Tensor]:
    """NCHW and NHWC feature maps (also 1×1 spatial, where both layouts coincide), a
    (batch, features) matrix and a token tensor."""
    return [_t(2, 8, 5, 5, dtype=dtype), _t(2, 8, 5, 5, dtype=dtype, fmt=LAST),
            _t(1, 8, 1, 1, dtype=dtype, fmt=LAST), _t(3, 16, dtype=dtype),
            _t(2, 7, 12, dtype=dtype)]  # fmt: skip


Case = tuple[Any, Callable[[], tuple[Any, ...]]]


def _cases() -> list[Case]:
    cases: list[Case] = []
    for dtype in FLOATS:
        for x in _layouts(dtype):
            for name in _UNARY:
                for op in (getattr(aten, name).default, getattr(aten, name + "_").default):
                    cases.append((op, lambda x=x: (x,)))
            for name in _GRADS:
                extra: tuple[Any, ...] = {"threshold": (0.0,), "hardtanh": (0.0, 6.0),
                                          "leaky_relu": (0.01, False)}.get(name, ())  # fmt: skip
                op = getattr(aten, name + "_backward").default
                cases.append((op, lambda x=x, e=extra: (torch.empty_like(x), x, *e)))
            for op in (aten.add.Tensor, aten.mul.Tensor, aten.add_.Tensor, aten.mul_.Tensor):
                cases.append((op, lambda x=x: (x, torch.empty_like(x))))
            cases += _norm_cases(x)
        cases += _matmul_cases(dtype) + _broadcast_cases(dtype) + _permuted_norm_cases(dtype)
    return cases


def _broadcast_cases(dtype: torch.dtype) -> list[Case]:
    """add/mul of a feature map and a per-channel vector (layer scale: gamma (C, 1, 1) first),
    either order, both layouts, size-1 dims included; a residual add of two layouts."""
    cases: list[Case] = []
    for shape in ((2, 8, 5, 5), (1, 8, 5, 7), (2, 8, 1, 5), (2, 1, 5, 5), (1, 8, 1, 1)):
        for fmt in (None, LAST):
            x = _t(*shape, dtype=dtype, fmt=fmt)
            c = shape[1]
            for v in (_t(c, 1, 1, dtype=dtype), _t(1, c, 1, 1, dtype=dtype), _t(dtype=dtype)):
                for op in (aten.add.Tensor, aten.mul.Tensor):
                    cases += [(op, lambda x=x, v=v: (v, x)), (op, lambda x=x, v=v: (x, v))]
                cases.append((aten.mul_.Tensor, lambda x=x, v=v: (x, v)))
            other = _t(*shape, dtype=dtype, fmt=LAST if fmt is None else torch.contiguous_format)
            for op in (aten.add.Tensor, aten.add_.Tensor):
                cases.append((op, lambda x=x, o=other: (x, o)))
    tokens = _t(2, 7, 12, dtype=dtype)
    cases.append((aten.add.Tensor, lambda: (tokens, _t(12, dtype=dtype))))
    return cases


def _permuted_norm_cases(dtype: torch.dtype) -> list[Case]:
    """ConvNeXt's LayerNorm2d: layer norm over C of an NCHW or NHWC map permuted to NHWC, and
    its backward (a contiguous grad against the permuted input); tokens too."""
    cases: list[Case] = []
    maps = [_t(2, 8, 5, 7, dtype=dtype, fmt=fmt).permute(0, 2, 3, 1) for fmt in (None, LAST)]
    for x in (*maps, _t(2, 7, 8, dtype=dtype)):
        for wb in (None, _t(8, dtype=dtype)):
            ln = aten.native_layer_norm.default
            cases.append((ln, lambda x=x, wb=wb: (x, [8], wb, wb, 1e-6)))
            stats = _t(*x.shape[:-1], 1, dtype=torch.float32 if dtype != torch.float64 else dtype)
            grad = _t(*x.shape, dtype=dtype)
            for mask in ([True, True, True], [True, False, False], [False, True, True]):
                back = aten.native_layer_norm_backward.default
                cases.append((back, lambda x=x, wb=wb, m=mask, s=stats, g=grad:
                              (g, x, [8], s, s, wb, wb, m)))  # fmt: skip
    return cases


def _norm_cases(x: torch.Tensor) -> list[Case]:
    c, dtype = x.shape[1], x.dtype
    cases: list[Case] = []
    for training in (False, True) if x.numel() > c else (False,):
        for w in (_t(c), _t(c, dtype=dtype)):  # fp32 weights under a half input (autocast-like)
            args = (x, w, w, torch.empty_like(w), torch.empty_like(w))
            bn = aten.native_batch_norm.default
            cases.append((bn, lambda a=args, t=training: (*a, t, 0.1, 1e-5)))
            cases.append((aten._native_batch_norm_legit_no_training.default,
                          lambda a=args: (*a, 0.1, 1e-5)))  # fmt: skip
    w = _t(c, dtype=dtype)
    g = torch.empty_like(x)
    for mask in ([True, True, True], [True, False, False], [False, True, True]):
        cases.append((aten.native_batch_norm_backward.default,
                      lambda m=mask: (g, x, w, w, w, w, w, True, 1e-5, m)))  # fmt: skip
    ln = tuple(x.shape[-1:])
    for wb in (None, _t(*ln, dtype=dtype)):
        cases.append((aten.native_layer_norm.default, lambda wb=wb: (x, list(ln), wb, wb, 1e-6)))
    return cases


def _matmul_cases(dtype: torch.dtype) -> list[Case]:
    a, b, bt = _t(3, 5, dtype=dtype), _t(5, 4, dtype=dtype), _t(4, 5, dtype=dtype).t()
    cases: list[Case] = [(aten.mm.default, lambda: (a, b)), (aten.mm.default, lambda: (a, bt))]
    for bias in (_t(4, dtype=dtype), _t(1, 4, dtype=dtype), _t(3, 4, dtype=dtype)):
        cases.append((aten.addmm.default, lambda bias=bias: (bias, a, bt)))
    return cases


CASES = _cases()


def _layout(t: Any) -> Any:
    if not isinstance(t, torch.Tensor):
        return t
    strides = tuple(s for s, n in zip(t.stride(), t.shape, strict=True) if n > 1)
    return (tuple(t.shape), strides, t.dtype, t.device.type)


def _flat(out: Any) -> tuple[Any, ...]:
    return tuple(out) if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_rule_matches_the_real_kernel(case: int) -> None:
    op, make = CASES[case]
    args = make()
    fast = fast_meta(op, args, {})
    assert fast is not NotImplemented, f"{op} fell through for {[_layout(a) for a in args]}"
    real = op(*make())
    assert [_layout(t) for t in _flat(fast)] == [_layout(t) for t in _flat(real)], op
    if op._schema.name.endswith("_") or "_." in str(op):  # in place: the output is self
        assert fast is args[0]


def test_every_rule_is_checked() -> None:
    assert set(RULES) == {op for op, _ in CASES}


@pytest.mark.parametrize(
    "op, args",
    [
        (aten.addmm.default, (_t(4), _t(3, 5), _t(6, 4))),  # mis-shaped Linear
        (aten.mm.default, (_t(3, 5), _t(6, 4))),
        (aten.native_batch_norm.default, (_t(2, 8, 5, 5), *[_t(7)] * 4, False, 0.1, 1e-5)),
        (aten.native_layer_norm.default, (_t(2, 5, 8), [7], None, None, 1e-6)),
        (
            aten.native_layer_norm_backward.default,
            (_t(2, 5, 8), _t(2, 5, 8), [8], _t(2, 5, 1), _t(2, 5, 1), _t(7), None, [True] * 3),
        ),
        (aten.add.Tensor, (_t(2, 8), _t(3, 8))),
    ],
)
def test_wrong_shapes_fall_through_to_torch(op: Any, args: tuple[Any, ...]) -> None:
    assert fast_meta(op, args, {}) is NotImplemented
    with pytest.raises(RuntimeError):
        op(*args)


def test_unusual_layouts_fall_through() -> None:
    x = _t(2, 8, 5, 5)
    one = (_t(1, 8, 1, 1), None, None, None, None, True, 0.1, 1e-5)  # training, 1 value/channel
    assert fast_meta(aten.native_batch_norm.default, one, {}) is NotImplemented
    assert fast_meta(aten.gelu.default, (x.transpose(2, 3),), {}) is NotImplemented
    assert fast_meta(aten.add.Tensor, (x, _t(8, 5, 1)), {}) is NotImplemented  # 2-dim broadcast
    assert fast_meta(aten.mul.Tensor, (x, _t(8, 1, 1, dtype=torch.float16)), {}) is NotImplemented
    assert fast_meta(aten.mul_.Tensor, (_t(8, 1, 1), x), {}) is NotImplemented  # self broadcast
    assert fast_meta(aten.relu.default, (torch.empty(2, 3),), {}) is NotImplemented  # not meta
    assert fast_meta(aten.convolution.default, (x,), {}) is NotImplemented  # no rule


@pytest.mark.parametrize("name", ["convnext_tiny", "resnet50", "mobilenet_v3_large"])
def test_catalog_forwards_take_the_rules(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every op of these forwards that has a rule takes it (ConvNeXt's permuted layer norms,
    layer scale and mixed-layout residual adds included): none falls through to torch's
    Python kernels, which cost a ConvNeXt-T profile 2/3 of its forward."""
    import archprobe
    from archprobe.analysis.counters import dispatch
    from archprobe.builder.network import build

    missed: list[str] = []

    def watched(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        out = fast_meta(func, args, kwargs)
        if out is NotImplemented and func in RULES:
            missed.append(f"{func} {[_layout(a) for a in args]}")
        return out

    monkeypatch.setattr(dispatch, "fast_meta", watched)
    model = build(archprobe.load_spec(name), device="meta").eval()
    dispatch.record(model, torch.zeros((1, 3, 224, 224), device="meta"))
    assert not missed, missed[:3]

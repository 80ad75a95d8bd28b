"""Per-aten-op cost rules for profiling any ``nn.Module`` (STYLE rule 7: one table, one walk).

Every aten op that runs is attributed to the innermost module executing it (its scope, the module
path) and costed by the first rule that applies:

| rule        | ops                                         | metric                            |
|-------------|---------------------------------------------|-----------------------------------|
| MAC formula | conv, mm, addmm, bmm, baddbmm, sdpa, ...    | ``macs`` = FlopCounterMode FLOPs/2 |
| pointwise   | every op tagged ``torch.Tag.pointwise``     | ``elem_ops`` = output elements     |
| reduction   | batch norm, pooling, mean, sum, softmax ... | ``elem_ops`` = input elements      |
| view        | ``OpOverload.is_view`` / metadata ops       | free (not listed)                  |
| otherwise   |                                             | listed as uncounted, with calls   |

The MAC formulas are FlopCounterMode's own (``torch.utils.flop_counter.flop_registry``), which
counts 2 FLOPs per multiply-add; archprobe's canonical unit is the MAC, so ``macs = flops / 2``.
``acts`` are the output elements of MAC ops (the fvcore/timm convention of the analytic path).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry
from torch.utils.module_tracker import ModuleTracker

from archprobe.analysis.counters.conventions import op_category


# Reductions and normalisations: no MACs by archprobe's convention, but real work, so counted
# as one element op per input element rather than left as silent zeros.
def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_REDUCTIONS = _names(
    "native_batch_norm _native_batch_norm_legit _native_batch_norm_legit_no_training "
    "_native_batch_norm_legit_functional native_batch_norm_backward native_layer_norm "
    "native_layer_norm_backward native_group_norm native_group_norm_backward "
    "max_pool2d_with_indices max_pool2d_with_indices_backward avg_pool2d avg_pool2d_backward "
    "_adaptive_avg_pool2d _adaptive_avg_pool2d_backward mean sum amax amin _softmax "
    "_log_softmax _softmax_backward_data _log_softmax_backward_data cumsum var_mean"
)
# Ops that only allocate, copy or describe tensors: free at this level of accounting.
_FREE = _names(
    "empty empty_like empty_strided zeros zeros_like ones_like ones full full_like new_empty "
    "new_zeros new_ones new_empty_strided detach _to_copy copy_ clone lift_fresh "
    "_local_scalar_dense sym_size sym_stride sym_numel is_same_size zero_ fill_ cat "
    "constant_pad_nd"
)


def _base(func: Any) -> str:
    """``aten.relu_.default`` -> ``relu_``."""
    return str(func.overloadpacket).split(".")[-1]


def _numel(tree: Any) -> int:
    return sum(t.numel() for t in tree_flatten(tree)[0] if isinstance(t, torch.Tensor))


def _nbytes(tree: Any) -> int:
    return sum(
        t.numel() * t.element_size() for t in tree_flatten(tree)[0] if isinstance(t, torch.Tensor)
    )


def category(func: Any) -> str:
    """Report category of an aten op: the reconciliation's (conv, linear, norm, pool, add, act),
    "elementwise" for other pointwise ops, else "other"."""
    # Backward ops share their forward op's category: convolution_backward is conv work.
    cat = op_category(_base(func).removesuffix("_backward"))
    if cat == "other" and torch.Tag.pointwise in func.tags:
        return "elementwise"
    return cat


# TorchDispatchMode is not fully annotated in torch, hence the no-untyped-call ignores.
class OpRecorder(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Costs every aten op with the rules above, per (scope, category, phase).

    ``phase`` is "fwd" or "bwd" and is set by the caller between the two passes. Scopes come from
    a :class:`ModuleTracker`, which uses global module hooks while active and removes them on
    exit: nothing is registered on the model itself.
    """

    def __init__(self, tracker: ModuleTracker, root: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.tracker, self.root, self.phase = tracker, root, "fwd"
        self.values: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.order: list[str] = []  # scopes in first-execution order
        self.uncounted: Counter[tuple[str, str]] = Counter()  # (op, category) -> calls

    def scope(self) -> str:
        """Innermost module path running now ("" = the root or no module)."""
        inner = max(self.tracker.parents, key=lambda p: p.count("."))
        if inner == "Global" or inner == self.root:
            return ""
        return inner[len(self.root) + 1 :] if inner.startswith(self.root + ".") else inner

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        self._record(func, args, kwargs, out)
        return out

    def _record(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        base = _base(func)
        if func.is_view or base.rstrip("_") in _FREE or base in _FREE:
            return
        if self.phase == "bwd" and self.tracker.parents == {"Global"}:
            return  # the loss sum profile() adds to start backward: not the model's work
        scope, cat = self.scope(), category(func)
        if scope not in self.order:
            self.order.append(scope)
        v = self.values[scope, cat]
        v["calls"] += 1
        if self.phase == "bwd":
            if func.overloadpacket in flop_registry:
                v["flops_bwd"] += _flops(func, args, kwargs, out)
            else:
                v["elem_ops_bwd"] += _numel(out)
            return
        v["bytes_read"] += _nbytes((args, kwargs))
        v["bytes_written"] += _nbytes(out)
        self._forward_cost(func, args, kwargs, out, v)

    def _forward_cost(
        self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any, v: Counter[str]
    ) -> None:
        base = _base(func)
        if func.overloadpacket in flop_registry:
            flops = _flops(func, args, kwargs, out)
            v["flops"] += flops
            v["macs"] += flops // 2  # FlopCounterMode: 2 FLOPs per multiply-add
            v["acts"] += _numel(out)
        elif torch.Tag.pointwise in func.tags:
            v["elem_ops"] += _numel(out)
        elif base in _REDUCTIONS:
            v["elem_ops"] += _numel(args[0]) if args else 0
        else:
            self.uncounted[base, category(func)] += 1


def _flops(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> int:
    """FlopCounterMode's formula for one call (its registry converts tensors to shapes)."""
    return int(flop_registry[func.overloadpacket](*args, **kwargs, out_val=out))

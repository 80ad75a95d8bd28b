"""The counters themselves: analytic, FlopCounterMode, fvcore and thop, each by op category.

Every runner returns a :class:`Measured`: the counter's own numbers per category of the
conventions' ``CATEGORIES`` (they always add up to the counter's own total; anything unattributed
lands in "other") and the ops it ran without counting, with call counts, never dropped. The torch
runners take a private model in eval mode (:mod:`~archprobe.analysis.counters.reconcile` makes
the copy), an input and the op graph the model was built from.

fvcore and thop are imported inside the functions that use them: fvcore only when its counter
runs, and thop (AGPL-3.0) only when the thop counter is requested.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from archprobe.analysis.analytic import analyze
from archprobe.analysis.counters import dispatch
from archprobe.analysis.counters.conventions import CATEGORIES, category, op_category
from archprobe.graph.nodes import Graph


class OpCalls(NamedTuple):
    """An op a counter executed but did not count, with how often it ran."""

    name: str
    calls: int
    category: str


class Measured(NamedTuple):
    """What one counter reported, in its native unit: per category, its own total figure (which
    the categories must add up to) and the ops it ran without counting."""

    native: dict[str, float]
    reported: float
    uncounted: tuple[OpCalls, ...]


Runner = Callable[[nn.Module, torch.Tensor, Graph], Measured]
"""A torch counter: (private model in eval mode, input, the model's op graph) -> Measured."""


def _by_category(counts: Mapping[str, float]) -> dict[str, float]:
    out = dict.fromkeys(CATEGORIES, 0.0)
    for name, value in counts.items():
        out[op_category(name)] += value
    return out


def count_flopcounter(model: nn.Module, x: torch.Tensor, graph: Graph) -> Measured:
    """FlopCounterMode FLOPs (2 per MAC) per category; ops without a formula are uncounted.

    The numbers are torch's own FlopCounterMode's (what this column reports); the recorder
    above it in the same forward lists the ops it ran and FlopCounterMode did not count.
    """
    # The recorder enters last, so it sees each op before FlopCounterMode does (as dispatched).
    with (
        torch.no_grad(),
        FlopCounterMode(display=False) as counter,
        dispatch.recording(model) as recorder,
    ):
        model(x)
    flops = {str(op): n for op, n in counter.get_flop_counts().get("Global", {}).items()}
    uncounted = tuple(
        OpCalls(op, n, op_category(op)) for op, n in dispatch.uncounted(recorder.sites).items()
    )
    return Measured(_by_category(flops), counter.get_total_flops(), uncounted)


def count_fvcore(model: nn.Module, x: torch.Tensor, graph: Graph) -> Measured:
    """fvcore ``FlopCountAnalysis`` (MACs) per category; its ``unsupported_ops()`` are listed.

    Ops in fvcore's ignore list (``aten::relu_``, views) are neither counted nor reported by
    fvcore; :mod:`archprobe.analysis.counters.conventions` notes them.
    """
    with warnings.catch_warnings():
        # fvcore.nn's import jit-scripts its losses, which torch>=2.10 deprecates: not our call.
        warnings.simplefilter("ignore", DeprecationWarning)
        from fvcore.nn import FlopCountAnalysis  # optional convention: imported only when used

    analysis = FlopCountAnalysis(model, (x,))
    # Our report lists unsupported ops itself; fvcore would also log them.
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    by_op = {str(k): float(v) for k, v in analysis.by_operator().items()}
    uncounted = tuple(
        OpCalls(str(op), int(n), op_category(str(op)))
        for op, n in analysis.unsupported_ops().items()
    )
    return Measured(_by_category(by_op), float(analysis.total()), uncounted)


def module_categories(graph: Graph) -> dict[str, str]:
    """The category of every module path that is an op: the graph op's at that scope (the
    built modules' names are the graph's scopes, composites included, since they are
    subgraphs). Containers are absent: thop counts none of their inline ops."""
    return {leaf.scope: category(leaf.op) for leaf in graph.leaves}


def _thop_tree(
    tree: Mapping[str, Any], categories: Mapping[str, str], prefix: str, out: dict[str, float]
) -> None:
    """Add each module's own ops (its total minus its children's) to its category."""
    for name, (ops, _params, children) in tree.items():
        path = f"{prefix}.{name}" if prefix else name
        own = float(ops) - sum(float(c[0]) for c in children.values())
        out[categories.get(path, "other")] += own
        _thop_tree(children, categories, path, out)


@contextmanager
def _calls(modules: Sequence[nn.Module]) -> Iterator[Counter[str]]:
    """Count forward calls per module type while inside (hooks on our private copy only)."""
    calls: Counter[str] = Counter()
    handles = [
        m.register_forward_hook(lambda mod, args, out: calls.update([type(mod).__name__]))
        for m in modules
    ]
    try:
        yield calls
    finally:
        for h in handles:
            h.remove()


def count_thop(model: nn.Module, x: torch.Tensor, graph: Graph) -> Measured:
    """thop ``profile`` ops (MACs) per category; modules without a thop rule are listed.

    thop hooks modules only, so arithmetic written functionally in a forward (the residual
    ``+``) is never seen: the module holding it appears among the modules without a rule.
    """
    import thop  # AGPL-3.0: imported only when the thop counter is requested
    from thop.profile import register_hooks

    # Categories first: thop leaves counters on the modules it ran.
    categories = module_categories(graph)
    # thop resolves a module's rule along its MRO (profile.py _resolve_rule); so do we.
    no_rule = [m for m in model.modules() if not any(t in register_hooks for t in type(m).__mro__)]
    with _calls(no_rule) as calls:
        total, _params, tree = thop.profile(model, (x,), verbose=False, ret_layer_info=True)
    native = dict.fromkeys(CATEGORIES, 0.0)
    _thop_tree(tree, categories, "", native)
    # The root's own ops and functional products thop counts outside modules (torch.matmul).
    native["other"] += float(total) - sum(native.values())
    uncounted = tuple(OpCalls(f"{n} (no thop rule)", c, "other") for n, c in calls.items())
    return Measured(native, float(total), uncounted)


def count_analytic(graph: Graph, batch: int = 1) -> Measured:
    """archprobe's own MACs per category; ops that are 0 by convention are listed as uncounted."""
    native = dict.fromkeys(CATEGORIES, 0.0)
    zero: Counter[tuple[str, str]] = Counter()
    for leaf in graph.leaves:
        native[category(leaf.op)] += batch * leaf.cost.macs
        if not leaf.cost.macs:
            zero[type(leaf.op).__name__, category(leaf.op)] += batch
    reported = batch * analyze(graph).total("macs")  # the Results path, not the sum above
    return Measured(native, reported, tuple(OpCalls(n, c, cat) for (n, cat), c in zero.items()))


TORCH_COUNTERS: dict[str, Runner] = {
    "flopcounter": count_flopcounter,
    "fvcore": count_fvcore,
    "thop": count_thop,
}
"""The counters that run on a built module, by key."""

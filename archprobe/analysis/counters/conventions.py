"""What each counter counts, predicted per op category from the op graph alone (torch-free).

Counters disagree on ResNet-50 (4.089 / 4.11 / 4.13 G) not because one is wrong but because each
has its own table of per-op handles (STYLE rule 7). This module mirrors those tables, one
:class:`Rule` per :class:`~archprobe.graph.ops.Op` type and counter, so that the number a counter
will report is known before it runs, category by category, and the difference to archprobe's MACs
has a stated reason:

| op         | analytic | FlopCounterMode | fvcore (MAC)         | thop (MAC)              |
|------------|----------|-----------------|----------------------|-------------------------|
| conv       | MACs     | 2 × MACs        | MACs                 | MACs                    |
| linear     | Cin·Cout | 2 × Cin·Cout    | Cin·Cout             | Cin·Cout                |
| batch norm | 0        | 0 (no formula)  | 2 per element (eval) | 4 per element           |
| global avg | 0        | 0 (no formula)  | 1 per input element  | 1 per input + 1 per out |
| max pool   | 0        | 0 (no formula)  | 0 (unsupported)      | 0 (zero_ops)            |
| add, ReLU  | 0        | 0 (no formula)  | 0 (add unsupported)  | 0 (add never seen)      |

Bias adds are counted by none of them (conv and linear formulas take the weight shape only).
Every count is per sample; each of these rules is linear in the batch (the third-party formulas
multiply by the batch dimension), so a batch of B is B times the per-sample prediction.
Counters run their model in eval mode: fvcore's batch-norm handle counts 5 per element in training.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from archprobe.graph import composite, ops
from archprobe.graph.cost import numel
from archprobe.graph.nodes import Graph, Leaf, OpNode, Section

CATEGORIES = ("conv", "linear", "norm", "pool", "add", "act", "bias", "other")
"""Rows of the reconciliation; the first six are graph op kinds (``Op.kind``)."""

CATEGORY_LABELS = {
    "conv": "conv",
    "linear": "linear (fc)",
    "norm": "batch norm",
    "pool": "pooling",
    "add": "elementwise add",
    "act": "activation",
    "bias": "bias",
    "other": "other",
}


def category(op: ops.Op) -> str:
    """The reconciliation category of a graph op (its ``kind``; shortcut padding is "other")."""
    return op.kind if op.kind in CATEGORIES else "other"


# Op names (aten packets, fvcore operator keys) -> category. Names are normalised by
# _op_base: "aten.relu_" and "aten::relu" are both "relu".
_OP_NAMES = {
    "conv": "conv convolution _convolution convolution_overrideable cudnn_convolution "
    "_slow_conv2d_forward mkldnn_convolution _convolution_mode",
    "linear": "linear addmm mm bmm baddbmm matmul einsum _scaled_mm",
    "norm": "batch_norm native_batch_norm _native_batch_norm_legit cudnn_batch_norm "
    "_native_batch_norm_legit_no_training miopen_batch_norm _batch_norm_impl_index "
    "_batch_norm_no_update _batch_norm_with_update",
    # AdaptiveAvgPool2d(1) dispatches as aten.mean.
    "pool": "max_pool2d max_pool2d_with_indices avg_pool2d adaptive_avg_pool2d "
    "_adaptive_avg_pool2d mean",
    "add": "add",
    "act": "relu threshold clamp_min hardtanh leaky_relu",
}
_OP_CATEGORIES = {name: cat for cat, names in _OP_NAMES.items() for name in names.split()}
"""Op names of aten packets and fvcore operator keys, after :func:`_op_base`, by category."""


def _op_base(name: str) -> str:
    """``aten.relu_.default``, ``aten::relu_`` -> ``relu``."""
    base = name.split("::")[-1]
    if base.startswith("aten."):
        base = base.split(".")[1]
    return base.rstrip("_") if base.endswith("_") and not base.startswith("_") else base


def op_category(name: str) -> str:
    """Category of an aten op or fvcore operator name; "other" when it is not arithmetic."""
    return _OP_CATEGORIES.get(_op_base(name), "other")


Count = Callable[[Leaf], int]
"""Native units one counter reports for one leaf, per sample."""


@dataclass(frozen=True)
class Rule:
    """How one counter treats one op type: the count and the reason, with its source."""

    count: Count
    note: str


class Prediction(NamedTuple):
    """A counter's predicted count per category (native units, whole batch).

    ``unmodelled`` names graph op types this module has no rule for (with leaf counts), so a new
    op shows up as a gap in the prediction instead of a silent zero.
    """

    native: dict[str, int]
    unmodelled: dict[str, int]


@dataclass(frozen=True)
class Convention:
    """One counter's handle table.

    Attributes:
        counter: key used by :func:`~archprobe.analysis.counters.reconcile.reconcile` ("fvcore").
        label: display name ("FlopCounterMode").
        unit: the counter's native unit, "MAC" or "2×FLOP".
        per_mac: native units per multiply-accumulate (1 or 2).
        summary: one line on the convention, with its source.
        rules: per op type, the count and why.
        hidden: op types inside composites that the counter never sees (their global pool is
            a functional ``x.mean``: no fvcore handle, no thop module).
    """

    counter: str
    label: str
    unit: str
    per_mac: int
    summary: str
    rules: Mapping[type[ops.Op], Rule]
    hidden: tuple[type[ops.Op], ...] = ()

    def predict(self, graph: Graph, batch: int = 1) -> Prediction:
        """Predicted native count per category of every category in :data:`CATEGORIES`."""
        native = dict.fromkeys(CATEGORIES, 0)
        unmodelled: Counter[str] = Counter()
        for leaf in _flat(graph, self.hidden):
            rule = self.rules.get(type(leaf.op))
            if rule is None:
                unmodelled[type(leaf.op).__name__] += 1
            else:
                native[category(leaf.op)] += batch * rule.count(leaf)
        return Prediction(native, dict(unmodelled))

    def notes(self, graph: Graph) -> dict[str, str]:
        """Per category, why the counter counts what it does: the notes of the rules that give a
        non-zero count for some op of ``graph`` ("; "-joined)."""
        seen: dict[str, dict[str, None]] = {}
        for leaf in _flat(graph, self.hidden):
            rule = self.rules.get(type(leaf.op))
            if rule is not None and rule.count(leaf):
                seen.setdefault(category(leaf.op), {})[rule.note] = None
        return {c: "; ".join(notes) for c, notes in seen.items()}

    def zero_notes(self, graph: Graph) -> dict[str, str]:
        """Per op type of ``graph`` that this counter counts as 0, why (some are never listed
        by the counter itself, such as ReLU in fvcore's ignore list)."""
        out: dict[str, str] = {}
        for leaf in _flat(graph, self.hidden):
            rule = self.rules.get(type(leaf.op))
            if rule is not None and not rule.count(leaf):
                out.setdefault(type(leaf.op).__name__, rule.note)
        return out


def _macs(leaf: Leaf) -> int:
    return leaf.cost.macs


def _flops(leaf: Leaf) -> int:
    return 2 * leaf.cost.macs


def _zero(leaf: Leaf) -> int:
    return 0


def _per_input(k: int) -> Count:
    def count(leaf: Leaf) -> int:
        return k * numel(leaf.in_shape)

    return count


def _input_plus_output(leaf: Leaf) -> int:
    return numel(leaf.in_shape) + numel(leaf.out_shape)


def _window_sum(size: int, out: int, op: ops.AvgPool) -> int:
    """Elements summed along one axis over all windows: thop ``count_avgpool``'s inner sum."""
    k, s, p = op.kernel, op.stride, op.padding
    lower, upper = (-p, size + p) if op.count_include_pad else (0, size)
    return sum(max(min(i * s - p + k, upper) - max(i * s - p, lower), 0) for i in range(out))


def _thop_avg_pool(leaf: Leaf) -> int:
    """thop ``count_avgpool``: one add per input element of every window, one divide per output."""
    op = leaf.op
    if not isinstance(op, ops.AvgPool):
        raise TypeError(f"{leaf.scope}: expected AvgPool, got {type(op).__name__}")
    c, h, w = leaf.in_shape
    _, ho, wo = leaf.out_shape
    return c * _window_sum(h, ho, op) * _window_sum(w, wo, op) + numel(leaf.out_shape)


_COMPOSITES = (composite.SqueezeExcite, composite.SplitAttention, composite.Res2NetSplits)


def _table(
    conv: Rule, linear: Rule, norm: Rule, rest: Mapping[type[ops.Op], Rule]
) -> dict[type[ops.Op], Rule]:
    table = {ops.Conv: conv, ops.Linear: linear, ops.BatchNorm: norm, **rest}

    def parts(leaf: Leaf) -> int:
        graph = Graph("", leaf.in_shape, (Section("", (OpNode(leaf.scope, leaf.op),)),))
        return sum(table[type(p.op)].count(p) for p in _flat(graph, ()))

    # A composite is counted as its parts (``_flat`` expands them before any rule is looked up,
    # so each part lands in its own category); this entry says so and gives the same total.
    note = "counted as its conv/BN/pool parts, each by its own rule"
    return table | {c: Rule(parts, note) for c in _COMPOSITES}


def _flat(graph: Graph, hidden: tuple[type[ops.Op], ...]) -> Iterator[Leaf]:
    """The graph's leaves with each composite (SE, split attention, Res2Net splits) replaced by
    its primitive parts, so each part lands in its own category; ``hidden``: part types the
    counter never sees inside a composite."""
    for leaf in graph.leaves:
        if not isinstance(leaf.op, composite.Composite):
            yield leaf
            continue
        for part, x in leaf.op.parts(leaf.in_shape):
            if not isinstance(part, hidden):
                y = part.out_shape(x)
                yield Leaf(leaf.scope, part, x, y, part.cost_at(x, y))


_NONE = "0 (archprobe convention)"

ANALYTIC = Convention(
    "analytic",
    "analytic",
    "MAC",
    1,
    "conv + fc multiply-accumulates: the papers' FLOPs, torchvision _ops",
    _table(
        Rule(_macs, "Ho·Wo·Cout·(Cin/g)·k² (graph/ops.py Conv)"),
        Rule(_macs, "Cin·Cout; bias add not counted"),
        Rule(_zero, "0: folds into the preceding conv at inference"),
        {
            op: Rule(_zero, _NONE)
            for op in (ops.ReLU, ops.MaxPool, ops.AvgPool, ops.GlobalAvgPool, ops.Add)
        }
        | {ops.IdentityPad: Rule(_zero, "0: strided slice + zero channels")},
    ),
)

_NO_FORMULA = "no formula in torch/utils/flop_counter.py"

FLOPCOUNTER = Convention(
    "flopcounter",
    "FlopCounterMode",
    "2×FLOP",
    2,
    "torch.utils.flop_counter: 2 FLOPs per multiply-add, only ops with a formula",
    _table(
        Rule(_flops, "conv_flop: 2 × MACs, bias not counted"),
        Rule(_flops, "addmm_flop: 2·m·k·n, bias add not counted"),
        Rule(_zero, _NO_FORMULA),
        {
            op: Rule(_zero, _NO_FORMULA)
            for op in (
                ops.ReLU,
                ops.MaxPool,
                ops.AvgPool,
                ops.GlobalAvgPool,
                ops.Add,
                ops.IdentityPad,
            )
        },
    ),
)

_FV_UNSUPPORTED = "no handle in _DEFAULT_SUPPORTED_OPS: unsupported (listed)"

FVCORE = Convention(
    "fvcore",
    "fvcore",
    "MAC",
    1,
    "FlopCountAnalysis: one fused multiply-add = one flop, per-op jit handles",
    _table(
        # fvcore/nn/jit_handles.py conv_flop_count: batch · prod(w_shape) · prod(out spatial).
        Rule(_macs, "conv_flop_jit: batch·prod(weight)·Ho·Wo, bias ignored"),
        # jit_handles.py linear_flop_jit (aten::linear) / addmm_flop_jit: prod(input) · out.
        Rule(_macs, "linear_flop_jit: prod(input)·out_features, bias ignored"),
        # jit_handles.py batchnorm_flop_jit, not training: numel · (2 if affine else 1).
        Rule(_per_input(2), "batchnorm_flop_jit (eval): 2 per element, γ/β affine"),
        {
            # flop_count.py: "aten::adaptive_avg_pool2d": elementwise_flop_counter(1, 0).
            ops.GlobalAvgPool: Rule(
                _per_input(1), "adaptive_avg_pool2d: elementwise_flop_counter(1, 0), 1 per input"
            ),
            ops.MaxPool: Rule(_zero, "aten::max_pool2d: " + _FV_UNSUPPORTED),
            ops.AvgPool: Rule(_zero, "aten::avg_pool2d: " + _FV_UNSUPPORTED),
            ops.Add: Rule(_zero, "aten::add: " + _FV_UNSUPPORTED),
            # jit_analysis.py _IGNORED_OPS holds aten::relu and aten::relu_: 0, never reported.
            ops.ReLU: Rule(_zero, "aten::relu_ is in _IGNORED_OPS (jit_analysis.py): never listed"),
            ops.IdentityPad: Rule(_zero, "aten::slice ignored, aten::pad unsupported (listed)"),
        },
    ),
    hidden=(ops.GlobalAvgPool,),
)

THOP = Convention(
    "thop",
    "thop",
    "MAC",
    1,
    "ultralytics-thop profile(): per-module forward hooks; its 'ops' are MACs",
    _table(
        # thop/vision/calc_func.py calculate_conv2d_flops: out numel · (Cin/g) · prod(kernel).
        Rule(_macs, "count_convNd: out numel·(Cin/g)·k², bias ignored"),
        # basic_hooks.py count_linear: in_features · out numel.
        Rule(_macs, "count_linear: in_features·out numel, bias ignored"),
        # basic_hooks.py count_normalization: calculate_norm (2 per element), doubled if affine.
        Rule(_per_input(4), "count_normalization: 2 per element, ×2 with affine: 4 per element"),
        {
            # basic_hooks.py count_adap_avgpool: one add per pooled input + one divide per output.
            ops.GlobalAvgPool: Rule(
                _input_plus_output, "count_adap_avgpool: 1 add per input + 1 divide per output"
            ),
            ops.AvgPool: Rule(
                _thop_avg_pool, "count_avgpool: 1 add per window element + 1 divide per output"
            ),
            ops.MaxPool: Rule(_zero, "zero_ops"),
            ops.ReLU: Rule(_zero, "zero_ops"),
            # The residual `+` runs inside the block's forward; thop hooks modules (profile.py).
            ops.Add: Rule(_zero, "functional + in the block's forward: no module, never seen"),
            ops.IdentityPad: Rule(_zero, "no thop rule (listed)"),
        },
    ),
    hidden=(ops.GlobalAvgPool,),
)

CONVENTIONS: dict[str, Convention] = {c.counter: c for c in (ANALYTIC, FLOPCOUNTER, FVCORE, THOP)}
"""Every counter ``reconcile`` knows, by key, in display order."""

"""What each counter counts, predicted per op category from the op graph alone (torch-free).

Counters disagree on ResNet-50 (4.089 / 4.11 / 4.13 G) not because one is wrong but because each
has its own table of per-op handles (STYLE rule 7). Every op states, as its ``counting`` fact,
how each counter counts it and why (``archprobe/graph/ops/``), so the number a counter will
report is known before it runs, category by category, and the difference to archprobe's MACs
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
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from archprobe.graph.facts import CountRule, Leaf
from archprobe.graph.nodes import Graph
from archprobe.graph.op import OPS, Op

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


def kind_category(kind: str) -> str:
    """The reconciliation category of an op kind ("other" for kinds without a row)."""
    return kind if kind in CATEGORIES else "other"


def category(op: Op) -> str:
    """The reconciliation category of a graph op (its ``kind``; shortcut padding is "other")."""
    return kind_category(op.kind)


@lru_cache(maxsize=1)
def _name_table(registered: int) -> dict[str, str]:
    return {name: kind_category(cls.kind) for cls in OPS.values() for name in cls.aten}


def _op_categories() -> dict[str, str]:
    """aten op names and fvcore operator keys -> category, from every registered op's ``aten``
    fact (keyed by the number of registered ops: rebuilt when a plugin registers more)."""
    return _name_table(len(OPS))


def _op_base(name: str) -> str:
    """``aten.relu_.default``, ``aten::relu_`` -> ``relu``."""
    base = name.split("::")[-1]
    if base.startswith("aten."):
        base = base.split(".")[1]
    return base.rstrip("_") if base.endswith("_") and not base.startswith("_") else base


def op_category(name: str) -> str:
    """Category of an aten op or fvcore operator name; "other" when it is not arithmetic."""
    return _op_categories().get(_op_base(name), "other")


class Prediction(NamedTuple):
    """A counter's predicted count per category (native units, whole batch).

    ``unmodelled`` names graph op types that state no rule for this counter (with leaf counts),
    so an op defined without registration shows up as a gap instead of a silent zero.
    """

    native: dict[str, int]
    unmodelled: dict[str, int]


@dataclass(frozen=True)
class Convention:
    """One counter: its unit and summary; the per-op rules live on the ops.

    Attributes:
        counter: key of the ops' ``counting`` fact and of ``reconcile`` ("fvcore").
        label: display name ("FlopCounterMode").
        unit: the counter's native unit, "MAC" or "2×FLOP".
        per_mac: native units per multiply-accumulate (1 or 2).
        summary: one line on the convention, with its source.
    """

    counter: str
    label: str
    unit: str
    per_mac: int
    summary: str

    def rule(self, op: Op) -> CountRule | None:
        """How this counter counts ``op`` (None: the op states no rule)."""
        return getattr(type(op), "counting", {}).get(self.counter)

    def _ruled(self, graph: Graph) -> Iterator[tuple[Leaf, CountRule | None]]:
        for leaf in graph.leaves:
            yield leaf, self.rule(leaf.op)

    def predict(self, graph: Graph, batch: int = 1) -> Prediction:
        """Predicted native count per category of every category in :data:`CATEGORIES`."""
        native = dict.fromkeys(CATEGORIES, 0)
        unmodelled: Counter[str] = Counter()
        for leaf, rule in self._ruled(graph):
            if rule is None:
                unmodelled[type(leaf.op).__name__] += 1
            else:
                native[category(leaf.op)] += batch * rule.count(leaf)
        return Prediction(native, dict(unmodelled))

    def notes(self, graph: Graph) -> dict[str, str]:
        """Per category, why the counter counts what it does: the notes of the rules that give a
        non-zero count for some op of ``graph`` ("; "-joined)."""
        seen: dict[str, dict[str, None]] = {}
        for leaf, rule in self._ruled(graph):
            if rule is not None and rule.count(leaf):
                seen.setdefault(category(leaf.op), {})[rule.note] = None
        return {c: "; ".join(notes) for c, notes in seen.items()}

    def zero_notes(self, graph: Graph) -> dict[str, str]:
        """Per op type of ``graph`` that this counter counts as 0, why (some are never listed
        by the counter itself, such as ReLU in fvcore's ignore list)."""
        out: dict[str, str] = {}
        for leaf, rule in self._ruled(graph):
            if rule is not None and not rule.count(leaf):
                out.setdefault(type(leaf.op).__name__, rule.note)
        return out


ANALYTIC = Convention(
    "analytic",
    "analytic",
    "MAC",
    1,
    "conv + fc multiply-accumulates: the papers' FLOPs, torchvision _ops",
)
FLOPCOUNTER = Convention(
    "flopcounter",
    "FlopCounterMode",
    "2×FLOP",
    2,
    "torch.utils.flop_counter: 2 FLOPs per multiply-add, only ops with a formula",
)
FVCORE = Convention(
    "fvcore",
    "fvcore",
    "MAC",
    1,
    "FlopCountAnalysis: one fused multiply-add = one flop, per-op jit handles",
)
THOP = Convention(
    "thop",
    "thop",
    "MAC",
    1,
    "ultralytics-thop profile(): per-module forward hooks; its 'ops' are MACs",
)

CONVENTIONS: dict[str, Convention] = {c.counter: c for c in (ANALYTIC, FLOPCOUNTER, FVCORE, THOP)}
"""Every counter ``reconcile`` knows, by key, in display order."""

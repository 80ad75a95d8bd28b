"""The kinds of facts an op owns besides its shape rule and cost (torch-free types).

- :class:`MemoryRule`: what eager PyTorch allocates and keeps for the op (read by the memory
  model's allocation replay);
- :class:`CountRule`: how one counter (archprobe's own convention, FlopCounterMode, fvcore,
  thop) counts the op, with the reason (read by the counters' reconciliation).

The functions at the bottom are the counts most ops share, so an op's table names them instead
of spelling out a formula again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from archprobe.graph.cost import Cost, Shape, numel

if TYPE_CHECKING:
    from archprobe.graph.op import Op

COUNTERS = ("analytic", "flopcounter", "fvcore", "thop")
"""Every counter an op states its count for, in display order (analytic = archprobe's MACs)."""


class Leaf(NamedTuple):
    """One op as placed in a graph: its scope, input and output shapes and its cost.

    ``others`` are the shapes of the op's further inputs (the shortcut of an add, the gate of a
    product); most ops have none.
    """

    scope: str
    op: Op
    in_shape: Shape
    out_shape: Shape
    cost: Cost
    others: tuple[Shape, ...] = ()


Sizes = Callable[["Op", Shape, Shape, int, int], tuple[int, ...]]
"""(op, first input shape, output shape, batch, dtype_bytes) -> bytes of each tensor."""


def nothing(op: Op, x: Shape, y: Shape, batch: int, db: int) -> tuple[int, ...]:
    """No tensor (the default of every :class:`MemoryRule` size)."""
    return ()


@dataclass(frozen=True)
class MemoryRule:
    """What eager PyTorch allocates and keeps for one op, for the memory model's replay.

    Attributes:
        alias: the output shares the first input's storage (``ReLU(inplace=True)``, views).
        eval_alias: ... and in eval mode only (dropout returns its input unchanged).
        saves: indices of the inputs autograd keeps for the backward formula.
        saves_output: autograd keeps the output (``relu_``, sigmoid, softmax).
        saved_extra: bytes of new tensors kept for backward (BN statistics, pool indices).
        no_grad_extra: bytes allocated and dropped inside the op under ``no_grad``.
        workspace: bytes allocated after the output and dropped before the op returns.
        grad_pass: backward hands the incoming gradient on unchanged (add, concat, views).
        bwd_transient: bytes of intermediate gradients in the backward chain.
    """

    alias: bool = False
    eval_alias: bool = False
    saves: tuple[int, ...] = ()
    saves_output: bool = False
    saved_extra: Sizes = nothing
    no_grad_extra: Sizes = nothing
    workspace: Sizes = nothing
    grad_pass: bool = False
    bwd_transient: Sizes = nothing


Count = Callable[[Leaf], int]
"""Native units one counter reports for one leaf, per sample."""


@dataclass(frozen=True)
class CountRule:
    """How one counter treats one op: the count per sample and why, with its source."""

    count: Count
    note: str


def macs(leaf: Leaf) -> int:
    """The op's own multiply-accumulates (archprobe's unit)."""
    return leaf.cost.macs


def flops(leaf: Leaf) -> int:
    """2 FLOPs per multiply-accumulate (FlopCounterMode's unit)."""
    return 2 * leaf.cost.macs


def zero(leaf: Leaf) -> int:
    """Not counted."""
    return 0


def per_input(k: int) -> Count:
    """``k`` per element of the op's (first) input."""

    def count(leaf: Leaf) -> int:
        return k * numel(leaf.in_shape)

    return count


def input_plus_output(leaf: Leaf) -> int:
    """One per input element and one per output element (thop's adaptive average pool)."""
    return numel(leaf.in_shape) + numel(leaf.out_shape)


NO_FORMULA = "no formula in torch/utils/flop_counter.py"
FVCORE_UNSUPPORTED = "no handle in fvcore's _DEFAULT_SUPPORTED_OPS: unsupported (listed)"
THOP_NO_RULE = "no thop rule for its module (listed)"
ARCHPROBE_ZERO = "0 (archprobe convention)"


def uncounted(analytic: str = ARCHPROBE_ZERO, fvcore: str = FVCORE_UNSUPPORTED,
              thop: str = THOP_NO_RULE) -> dict[str, CountRule]:  # fmt: skip
    """The table of an op no counter counts, with the reason each one gives."""
    return {
        "analytic": CountRule(zero, analytic),
        "flopcounter": CountRule(zero, NO_FORMULA),
        "fvcore": CountRule(zero, fvcore),
        "thop": CountRule(zero, thop),
    }

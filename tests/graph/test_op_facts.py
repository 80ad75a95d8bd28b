"""Every registered op states every fact, and each fact holds against torch on the op's example.

Ground truth is torch itself: the built module's parameters and buffers, its output shape,
``torch.utils.flop_counter.FlopCounterMode`` (2 FLOPs per MAC), the storages autograd's
``saved_tensors_hooks`` receive, and, for single-input ops, the counters' own numbers
(reconciliation mismatches are differences between a counter and the op's ``counting`` fact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import archprobe.graph.ops  # noqa: F401  (registers the built-in ops)
from archprobe.analysis.counters.reconcile import reconcile
from archprobe.analysis.memory.replay import Replay
from archprobe.builder.network import op_module
from archprobe.graph.cost import numel
from archprobe.graph.facts import COUNTERS, MemoryRule
from archprobe.graph.nodes import Graph, OpNode, Section
from archprobe.graph.op import OPS, Op, OpDefinitionError, missing_facts, register_op

BATCH = 2
NAMES = sorted(OPS)


def _inputs(shapes: tuple[tuple[int, int, int], ...]) -> list[torch.Tensor]:
    # Non-leaf tensors that need grad: an in-place op (ReLU) may then run on them.
    return [(torch.randn(BATCH, *s, requires_grad=True) * 1.0) for s in shapes]


def test_builtin_ops_are_registered() -> None:
    assert {"conv", "batch_norm", "relu", "linear", "add", "mul", "mean", "concat"} <= set(OPS)


@pytest.mark.parametrize("name", NAMES)
def test_every_fact_is_stated(name: str) -> None:
    cls = OPS[name]
    assert missing_facts(cls) == []
    assert set(COUNTERS) <= set(cls.counting)
    op, shapes = cls.example()
    assert isinstance(op, cls) and len(shapes) >= op.arity


@pytest.mark.parametrize("name", NAMES)
def test_module_matches_shape_and_cost(name: str) -> None:
    op, shapes = OPS[name].example()
    module = op_module(OpNode("m", op))
    cost = op.cost(shapes[0], *shapes[1:])
    assert sum(p.numel() for p in module.parameters()) == cost.params
    assert len(list(module.parameters())) == op.param_tensors()
    assert sum(b.numel() for b in module.buffers()) == cost.buffers
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = module.eval()(*_inputs(shapes))
    # A vector is (features, 1, 1) per sample in the graph (graph/cost.py Shape).
    per_sample = tuple(y.shape[1:]) if y.dim() == 4 else (y.shape[1], 1, 1)
    assert per_sample == op.out_shape(shapes[0], *shapes[1:])
    assert counter.get_total_flops() == 2 * BATCH * cost.macs


def _autograd_saved(module: torch.nn.Module, xs: list[torch.Tensor]) -> tuple[int, torch.Tensor]:
    state = {t.untyped_storage().data_ptr() for t in [*module.parameters(), *module.buffers()]}
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        if st.data_ptr() not in state:
            saved[st.data_ptr()] = st.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = module.train()(*xs)
    return sum(saved.values()), y


def _predicted_saved(op: Op, shapes: tuple[tuple[int, int, int], ...]) -> int:
    run = Replay(BATCH, 4, True, "cpu")
    values = tuple(run.value(run.pool.alloc(run.bytes_of(s)), s, True) for s in shapes)
    run.op("m", op, values)
    return sum(run.pool.size[s] for s in run.saved)


@pytest.mark.parametrize("name", NAMES)
def test_memory_rule_matches_autograd(name: str) -> None:
    op, shapes = OPS[name].example()
    xs = _inputs(shapes)
    measured, y = _autograd_saved(op_module(OpNode("m", op)), xs)
    assert _predicted_saved(op, shapes) == measured
    shares = y.untyped_storage().data_ptr() == xs[0].untyped_storage().data_ptr()
    assert shares == op.memory.alias


@pytest.mark.parametrize("name", [n for n in NAMES if OPS[n].arity == 1])
def test_counters_count_as_the_op_says(name: str) -> None:
    op, shapes = OPS[name].example()
    graph = Graph(name, shapes[0], (Section("all", (OpNode("m", op),)),))
    rec = reconcile(graph, batch=BATCH)
    for report in rec.counters:
        if report.ok:
            assert report.mismatches == (), (report.counter, report.native)
            assert not report.unmodelled


def test_a_missing_fact_is_an_error_at_registration() -> None:
    @dataclass(frozen=True)
    class Half(Op):
        kind: ClassVar[str] = "act"
        memory: ClassVar[MemoryRule] = MemoryRule()

        def forward(self, *xs: Any) -> Any:
            return xs[0] / 2

    with pytest.raises(OpDefinitionError, match=r"lacks counting\['analytic'\].*example\(\)"):
        register_op("half")(Half)
    assert "half" not in OPS


def test_a_taken_name_is_an_error() -> None:
    with pytest.raises(OpDefinitionError, match="already registered"):
        register_op("conv")(OPS["relu"])


def test_read_and_written_follow_the_shapes() -> None:
    op, shapes = OPS["mul"].example()
    cost = op.cost(*shapes)
    assert cost.read == numel(shapes[0]) + numel(shapes[1])
    assert cost.written == numel(shapes[0])

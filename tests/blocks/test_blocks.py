"""Every registered block, with hypothesis-drawn knobs: shapes, params, buffers and FLOPs of the
built module equal the graph's, and it runs forward on CPU. A new block gets this for free."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

import archprobe.blocks
from archprobe.analysis.counters.runtime import flop_counts
from archprobe.blocks import BLOCKS, STEMS, register_block
from archprobe.builder.network import build_node
from archprobe.graph.nodes import Leaf, walk
from archprobe.graph.ops import GraphError


def knob_strategy(params_cls: type, name: str) -> st.SearchStrategy[typing.Any]:
    """Draw values for every field of a block's Params from its annotation."""
    fields: dict[str, st.SearchStrategy[typing.Any]] = {}
    for field, info in params_cls.model_fields.items():
        ann = info.annotation
        if field == "type":
            fields[field] = st.just(name)
        elif typing.get_origin(ann) is typing.Literal:
            fields[field] = st.sampled_from(typing.get_args(ann))
        elif ann is int:
            fields[field] = st.sampled_from([1, 2, 4, 8, 16, 64])
        elif ann is bool:
            fields[field] = st.booleans()
    return st.fixed_dictionaries(fields).map(lambda d: params_cls(**d))


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_block_parity(name: str) -> None:
    block = BLOCKS[name]

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        p=knob_strategy(block.Params, name),
        cin=st.sampled_from([8, 16, 32]),
        cout=st.sampled_from([16, 32, 64]),
        stride=st.sampled_from([1, 2]),
    )
    def check(p: typing.Any, cin: int, cout: int, stride: int) -> None:
        try:
            node = block.expand(p, cin, cout, stride, "blk")
            leaves: list[Leaf] = []
            shape = walk(node, (cin, 9, 9), "", leaves)
        except GraphError:
            assume(False)
            return
        model = nn.Sequential()
        model.add_module("blk", build_node(node))
        assert sum(q.numel() for q in model.parameters()) == sum(lf.cost.params for lf in leaves)
        assert sum(b.numel() for b in model.buffers()) == sum(lf.cost.buffers for lf in leaves)
        assert flop_counts(model, (1, cin, 9, 9))[""] == 2 * sum(lf.cost.macs for lf in leaves)
        y = model.eval()(torch.randn(1, cin, 9, 9))
        assert tuple(y.shape[1:]) == shape

    check()


def test_duplicate_registration_is_an_error() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_block("bottleneck")(type("Again", (), {}))  # type: ignore[arg-type]


def test_every_block_module_is_registered() -> None:
    """Each module in archprobe/blocks/ (but the helpers) registers a block or stem, and is
    imported by blocks/__init__.py, so nothing depends on import order."""
    folder = Path(archprobe.blocks.__file__).parent
    init = ast.parse((folder / "__init__.py").read_text())
    imported = {
        a.name
        for n in ast.walk(init)
        if isinstance(n, ast.ImportFrom) and n.module == "archprobe.blocks"
        for a in n.names
    }
    modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "base", "layers"}
    assert modules <= imported
    registered = {cls.__module__.rsplit(".", 1)[1] for cls in [*BLOCKS.values(), *STEMS.values()]}
    assert modules == registered

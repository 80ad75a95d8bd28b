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
from archprobe.blocks import BLOCKS, PARTS, register_block
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
    keeps_shape = getattr(block, "keeps_shape", False)  # ConvNeXt: the transition changes it

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        p=knob_strategy(block.Params, name),
        cin=st.sampled_from([8, 16, 32]),
        cout=st.sampled_from([16, 32, 64]),
        stride=st.sampled_from([1, 2]),
    )
    def check(p: typing.Any, cin: int, cout: int, stride: int) -> None:
        if keeps_shape:
            cout, stride = cin, 1
        try:
            node = block.expand(p, cin, cout, stride, "blk")
            leaves: list[Leaf] = []
            shape = walk(node, (cin, 9, 9), "", leaves)
        except GraphError:
            assume(False)
            return
        # The knobs are drawn independently, so a draw may ask for a block of gigabytes
        # (groups 64 × width_per_group 64 × an 11×11 kernel); such a block is valid but too big
        # to build here: parity is checked on blocks a CI machine can hold.
        assume(sum(lf.cost.params for lf in leaves) <= 20_000_000)
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
    """Each module in archprobe/blocks/ (but the helpers) registers a spec part, and is
    imported by blocks/__init__.py, so nothing depends on import order."""
    folder = Path(archprobe.blocks.__file__).parent
    init = ast.parse((folder / "__init__.py").read_text())
    imported = {
        a.name
        for n in ast.walk(init)
        if isinstance(n, ast.ImportFrom) and n.module == "archprobe.blocks"
        for a in n.names
    }
    helpers = {"__init__", "base", "conv_norm_act", "layers", "layout", "plugins"}
    modules = {p.stem for p in folder.glob("*.py")} - helpers
    assert modules <= imported
    registered = {
        cls.__module__.rsplit(".", 1)[1] for parts in PARTS.values() for cls in parts.values()
    }
    assert modules == registered


def _net(head: dict[str, typing.Any], transition: dict[str, typing.Any]) -> typing.Any:
    from archprobe.spec import spec_from_dict

    return spec_from_dict(
        {
            "name": "parts",
            "input": {"channels": 3, "size": 32},
            "stem": {"type": "cifar", "width": 16},
            "block": {"type": "basic"},
            "transition": transition,
            "stages": [
                {"depth": 2, "width": 16, "stride": 1},
                {"depth": 2, "width": 32, "stride": 2},
            ],
            "head": head,
        }
    )


HEADS = [
    {"classes": 10},
    {"conv": {"width": 48}, "dropout": 0.2, "classes": 10},
    {"hidden": [24, 12], "dropout": 0.5, "classes": 7},
]
TRANSITIONS = [
    {"type": "none"},
    {"type": "downsample"},
    {"type": "downsample", "order": "conv_norm", "kernel": 3},
    {"type": "downsample", "norm": "none"},
]


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("transition", TRANSITIONS)
def test_heads_and_transitions_build_and_count_as_their_graph(
    head: dict[str, typing.Any], transition: dict[str, typing.Any]
) -> None:
    from archprobe.analysis.analytic import analyze
    from archprobe.analysis.memory.measure import saved_tensor_bytes
    from archprobe.analysis.memory.model import predict_training
    from archprobe.builder.network import build
    from archprobe.spec.expand import expand

    spec = _net(head, transition)
    graph, results = expand(spec), analyze(spec)
    model = build(spec, "cpu")
    assert sum(p.numel() for p in model.parameters()) == results.total("params")
    assert flop_counts(model, (2, 3, 32, 32))[""] == 2 * 2 * results.total("macs")
    assert model.eval()(torch.randn(2, 3, 32, 32)).shape == (2, head["classes"])
    predicted = predict_training(graph, 2, "sgd", backend="cpu")  # dropout keeps float noise
    assert saved_tensor_bytes(model, (2, 3, 32, 32)) == predicted.saved_bytes
    names = {n for n, _ in model.named_modules()}
    assert ("transition2" in names) == (transition["type"] != "none")  # only where shapes change
    assert "transition1" not in names  # stage 1 keeps the stem's width and resolution

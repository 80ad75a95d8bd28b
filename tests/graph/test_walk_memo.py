"""The walk's memo: a Residual, or a Seq the plan marks ``memo``, is walked once per input shape
and its leaves renamed where it recurs (graph/nodes.py). The rule is keyed by the identity of
the node's parts, so these tests check that a hit gives exactly what a walk gives, that the key
tells input shapes apart, that analyzing a spec again adds no entry (containers rebuilt per graph
are not memoised) and that the memoised graph of EfficientNet-B0 (whose stage-first blocks are
Seqs) still matches torchvision: the oracle file tests/data/oracles/efficientnet_b0.json (exact
params, MACs, MACs per module path, torchvision 0.28 built with weights=None).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from archprobe.analysis.analytic import analyze
from archprobe.blocks.conv_norm_act import conv_norm_act
from archprobe.graph import nodes
from archprobe.graph.facts import Leaf
from archprobe.graph.nodes import Seq, renamed, walk
from archprobe.spec import list_specs, load_spec
from archprobe.spec.expand import expand

ORACLE = Path(__file__).parent.parent / "data" / "oracles" / "efficientnet_b0.json"


@pytest.fixture
def cold() -> Iterator[None]:
    """An empty memo, so the first walk in a test is a real walk."""
    saved = dict(nodes._BLOCKS)
    nodes._BLOCKS.clear()
    yield
    nodes._BLOCKS.clear()
    nodes._BLOCKS.update(saved)


def _leaves(node: nodes.Node, size: int, prefix: str) -> list[Leaf]:
    out: list[Leaf] = []
    walk(node, (16, size, size), prefix, out)
    return out


def _block(memo: bool) -> Seq:
    layers = (conv_norm_act("0", 16, 32, 3, 2), conv_norm_act("1", 32, 32, 3, groups=32))
    return Seq("0", layers, memo=memo)


@pytest.mark.usefixtures("cold")
def test_a_hit_is_the_walk_renamed() -> None:
    """The second walk of a memo Seq, under another name, equals an unmemoised walk there."""
    block = _block(memo=True)
    first = _leaves(block, 56, "features.2")
    assert len(nodes._BLOCKS) == 1
    again = _leaves(renamed(block, "1"), 56, "features.3")
    assert len(nodes._BLOCKS) == 1  # a hit: nothing walked, nothing added
    assert again == _leaves(renamed(_block(memo=False), "1"), 56, "features.3")
    assert [f.scope for f in again] == [f.scope.replace("2.0", "3.1", 1) for f in first]
    assert [f[1:] for f in again] == [f[1:] for f in first]


@pytest.mark.usefixtures("cold")
def test_the_key_tells_input_shapes_apart() -> None:
    block = _block(memo=True)
    for size in (56, 28, 56, 28):
        assert _leaves(block, size, "b") == _leaves(_block(memo=False), size, "b")
    assert len(nodes._BLOCKS) == 2


def test_analyzing_a_spec_again_adds_no_entry() -> None:
    """Only the plan's cached parts are memoised: a container rebuilt with each graph would
    leave an entry (and its leaves) behind on every analysis. Every catalog spec, as each
    layout places the parts differently."""
    for name in (e.name for e in list_specs()):
        spec = load_spec(name)
        expand(spec)
        before = len(nodes._BLOCKS)
        expand(spec)
        assert len(nodes._BLOCKS) == before, name


@pytest.mark.usefixtures("cold")
def test_memoised_graph_matches_torchvision() -> None:
    """EfficientNet-B0 walked cold, then from the memo: the same leaves, and the oracle's exact
    params, MACs and MACs of every module path."""
    oracle = json.loads(ORACLE.read_text())
    spec = load_spec("efficientnet_b0")
    walked, remembered = expand(spec).leaves, expand(spec).leaves
    assert remembered == walked
    r = analyze(spec)
    assert (r.total("params"), r.total("macs")) == (oracle["params"], oracle["macs"])
    for module, macs in oracle["macs_by_module"].items():
        assert sum(f.cost.macs for f in remembered if f"{f.scope}.".startswith(f"{module}.")) == (
            macs
        ), module

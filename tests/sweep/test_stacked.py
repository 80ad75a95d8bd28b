"""Blocks costed together with arrays as the ops' hyper-parameters (sweep/stacked.py) equal the
per-config graph walk.

For every shipped sweep file, the specs of 1,000 draws (or the whole grid) are costed in one
``spec_costs`` call and, one by one, by the op-by-op walk of the expanded graph (``expand``):
every Cost field of the total and of each stage, and every error, must agree. The stacked walk
must actually run (not only its per-block fallback) on the spaces it is for.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from archprobe.errors import ArchprobeError, SpecError
from archprobe.graph.cost import Cost, Shape
from archprobe.graph.nodes import Node
from archprobe.graph.ops import GraphError
from archprobe.spec import list_specs, load_spec
from archprobe.spec.expand import BlockCall, expand
from archprobe.spec.schema import ArchSpec
from archprobe.sweep import stacked
from archprobe.sweep.configs import make_spec
from archprobe.sweep.draws import batches
from archprobe.sweep.fast import SpecCost, spec_cost
from archprobe.sweep.spec import load_sweep

SWEEPS = Path(__file__).resolve().parents[2] / "specs" / "sweeps"
FILES = sorted(p.name for p in SWEEPS.glob("*.yaml"))
DRAWS = 1000
STACKED = {"resnext_random.yaml", "resnext_random_solved.yaml", "regnetx_400mf.yaml"}
CATALOG = [e.name for e in list_specs()]
REFUSED = (stacked.Mismatch, GraphError, TypeError, ValueError)  # expand_once cannot: fallback


def _specs(name: str) -> list[ArchSpec]:
    sweep = load_sweep(SWEEPS / name)
    cols = next(batches(sweep, DRAWS))
    specs = []
    for i in range(len(cols[0].codes)):
        values = {c.axis.key: c.table[int(c.codes[i])] for c in cols}
        try:
            specs.append(make_spec(sweep, values, i)[0])
        except (SpecError, GraphError):
            continue
    return specs


@pytest.mark.parametrize("name", FILES)
def test_stacked_costs_equal_the_graph_walk(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stacked, "_MEMO", {})  # no costs carried over from other tests
    walked: list[int] = []
    real = stacked._walk

    def counted(node: Node, shapes: Sequence[Shape]) -> Any:
        out = real(node, shapes)
        walked.append(len(shapes))
        return out

    monkeypatch.setattr(stacked, "_walk", counted)
    specs = _specs(name)
    got = stacked.spec_costs(specs)
    assert len(got) == len(specs) > 0
    for spec, cost in zip(specs, got, strict=True):
        try:
            total = sum((leaf.cost for leaf in expand(spec).leaves), Cost())
        except (SpecError, GraphError) as exc:
            assert isinstance(cost, ArchprobeError) and str(cost) == str(exc), spec.name
            continue
        assert isinstance(cost, SpecCost), (spec.name, cost)
        assert cost.total == total, spec.name
        assert cost == spec_cost(spec), spec.name  # per-stage breakdown (the solver reads it)
    if name in STACKED:
        assert sum(walked) >= len(specs), walked  # most blocks went through the stacked walk


def test_a_stacked_group_with_an_invalid_entry_falls_back_to_exact_results() -> None:
    """Four inputs of one block, three with the wrong channel count: one stacked group, which the
    shape rules refuse, so each entry gets its own walk's cost or error."""
    call = stacked.plan(_specs("resnext_random.yaml")[0]).stages[1].first
    shapes: list[Shape] = [(call.cin + k, 28, 28) for k in range(4)]
    with pytest.raises(GraphError):
        stacked.walk_stacked([call.node()] * 4, shapes)
    got = stacked.block_costs([(call, x) for x in shapes])
    assert got[0] == stacked.part_cost(call.node(), shapes[0], memo=False)
    for x, result in zip(shapes[1:], got[1:], strict=True):
        with pytest.raises(GraphError) as exc:
            stacked.part_cost(call.node(), x, memo=False)
        assert isinstance(result, GraphError) and str(result) == str(exc.value)


def test_stacked_walk_equals_each_block_walk() -> None:
    """Blocks of one structure but different widths, walked once with array fields."""
    specs = _specs("resnext_random.yaml")[:50]
    calls = [(p.stages[2].first, (p.stages[2].first.cin, 14, 14)) for p in map(stacked.plan, specs)]
    nodes = [c.node() for c, _ in calls]
    got = stacked.walk_stacked(nodes, [x for _, x in calls])
    assert got == [
        stacked.part_cost(n, x, memo=False) for n, (_, x) in zip(nodes, calls, strict=True)
    ]


def _calls(spec: ArchSpec) -> list[tuple[BlockCall, Shape]]:
    """Every stage's first and repeated block of ``spec`` with its input shape."""
    p = stacked.plan(spec)
    _, x = stacked.part_cost(p.stem, (spec.input.channels, spec.input.size, spec.input.size))
    out = []
    for stage in p.stages:
        if stage.transition:
            _, x = stacked.part_cost(stage.transition, x, memo=False)
        for call in (stage.first, stage.repeat):
            if call is not None:
                out.append((call, x))
                _, x = stacked.part_cost(call.node(), x, memo=False)
    return out


def _widened(call: BlockCall, x: Shape, k: int) -> tuple[BlockCall, Shape]:
    return dataclasses.replace(call, cin=call.cin * k, cout=call.cout * k), (x[0] * k, *x[1:])


@pytest.mark.parametrize("name", CATALOG)
def test_a_block_expanded_once_with_arrays_equals_each_block(name: str) -> None:
    """Every catalog block, at 1-4x its widths: where ``expand_once`` takes the arrays, each
    entry's cost and shape is its own expansion's, and no entry its own expansion refuses is
    accepted; where it cannot, it refuses (the per-block path then runs)."""
    for call, x in _calls(load_spec(name)):
        group = [_widened(call, x, k) for k in (1, 2, 3, 4)]
        try:
            want: list[object] = [stacked.part_cost(c.node(), y, memo=False) for c, y in group]
        except GraphError:
            want = []  # some entry is refused: the array path must refuse the group too
        try:
            got = stacked._walk(stacked.expand_once([c for c, _ in group]), [y for _, y in group])
        except REFUSED:
            continue
        assert got == want, (name, call.scope)


def test_regnet_blocks_are_expanded_once() -> None:
    """The RegNet sweep's blocks take the array path (the cold sweep's cost is this path)."""
    for call, x in _calls(load_spec("regnet_x_400mf")) + _calls(load_spec("regnet_y_400mf")):
        group = [_widened(call, x, k) for k in (1, 2, 4, 8)]
        node = stacked.expand_once([c for c, _ in group])
        got = stacked._walk(node, [y for _, y in group])
        assert got == [stacked.part_cost(c.node(), y, memo=False) for c, y in group]


def test_a_block_call_pickled_in_another_process_hashes_as_made_here(tmp_path: Path) -> None:
    """BlockCall keeps its hash; one unpickled from a process with another string-hash seed
    must hash (and so be found in a dict) as an equal call made here."""
    made = (
        "import pickle, sys\n"
        "from archprobe.spec import load_spec\n"
        "from archprobe.spec.expand import plan\n"
        "call = plan(load_spec('resnext50_32x4d')).stages[1].first\n"
        "sys.stdout.buffer.write(pickle.dumps(call))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    blob = subprocess.run([sys.executable, "-c", made], capture_output=True, check=True, env=env)
    theirs = pickle.loads(blob.stdout)
    ours = stacked.plan(load_spec("resnext50_32x4d")).stages[1].first
    assert theirs == ours and hash(theirs) == hash(ours) and {ours: 1}[theirs] == 1

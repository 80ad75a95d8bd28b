"""The solver's table (sweep/width_table.py) and its fill (sweep/width_fill.py): costs of
(core, d) pairs computed on arrays without copying a spec per pair, looked up through a dense
[core, d] index, and the gallop's start (sweep/vsolve.py), which changes only how many widths
are costed, never the answer.

The reference is the scalar path: the spec copied at (C, d) (``solve.with_width``) and walked op
by op from its expanded graph (``spec.expand``), or the scalar solver (``make_spec``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from archprobe.errors import ArchprobeError, SpecError
from archprobe.graph.cost import Cost
from archprobe.graph.ops import GraphError
from archprobe.spec import load_spec
from archprobe.spec.expand import expand
from archprobe.spec.schema import ArchSpec
from archprobe.sweep import stacked, vsolve
from archprobe.sweep.configs import Generation, make_spec
from archprobe.sweep.draws import batches
from archprobe.sweep.fast import SpecCost
from archprobe.sweep.solve import (
    MAX_WIDTH_PER_GROUP,
    block_with,
    uniform_cost,
    uniform_costs,
    with_width,
)
from archprobe.sweep.spec import SweepSpec, load_sweep
from archprobe.sweep.vector import Int64s
from archprobe.sweep.width_fill import pair_costs

SOLVED = Path(__file__).resolve().parents[2] / "specs" / "sweeps" / "resnext_random_solved.yaml"
PAIRS = [(1, 1), (1, 64), (8, 3), (8, 14), (32, 4), (64, 1), (64, 2), (2, 4096)]


def _walked(spec: ArchSpec, groups: int, d: int) -> Cost | str:
    """The op-by-op total of ``spec`` copied at (C, d), or the error its expansion raises."""
    try:
        graph = expand(with_width(spec, groups, d))
    except (SpecError, GraphError) as exc:
        return str(exc)
    return sum((leaf.cost for leaf in graph.leaves), Cost())


@pytest.mark.parametrize("name", ["resnext50_32x4d", "resnest50"])
def test_block_override_equals_the_copied_spec(name: str) -> None:
    """``spec_costs`` with each stage's block replaced (no spec copy) = the copied spec's walk,
    invalid widths included (ResNeSt at C = 2 refuses odd d; d = 1 rounds to zero at C = 1)."""
    spec = load_spec(name)
    pairs = [*PAIRS, (2, 3), (2, 5)]
    blocks = [[block_with(s.block, c, d, i) for i, s in enumerate(spec.stages)] for c, d in pairs]
    got = stacked.spec_costs([spec] * len(pairs), blocks)
    invalid = 0
    for (c, d), cost in zip(pairs, got, strict=True):
        walked = _walked(spec, c, d)
        if isinstance(walked, str):
            assert isinstance(cost, ArchprobeError), (c, d)
            invalid += 1
            continue
        assert isinstance(cost, SpecCost) and cost.total == walked, (c, d)
    assert uniform_costs([(spec, c, d) for c, d in pairs]) == [
        c if isinstance(c, SpecCost) else None for c in got
    ]
    assert invalid < len(pairs) and (invalid > 0) == (name == "resnest50")


@pytest.mark.parametrize("name", ["resnext50_32x4d", "resnest50", "resnet18"])
def test_pair_costs_equal_the_scalar_rule(name: str) -> None:
    """The array fill = ``uniform_cost`` of each pair (validity, totals, every stage's first
    block with its transition and repeated block) and the copied spec's op-by-op walk; pairs of
    two cores (one with a depth-1 stage) in one call."""
    base = load_spec(name)
    shallow = base.model_copy(
        update={"stages": (base.stages[0].model_copy(update={"depth": 1}), *base.stages[1:])}
    )
    todo = [(spec, c, d) for spec in (base, shallow) for c, d in [*PAIRS, (2, 3), (2, 5)]]
    got = pair_costs(todo)
    for k, (spec, c, d) in enumerate(todo):
        cost = uniform_cost(spec, c, d)
        assert bool(got.valid[k]) == (cost is not None), (c, d)
        if cost is None:
            assert not got.total[k].any()
            continue
        assert tuple(got.total[k].tolist()) == tuple(cost.total) == tuple(_walked(spec, c, d))
        for i, stage in enumerate(cost.stages):
            assert tuple(got.first[k, i].tolist()) == tuple(stage.first), (c, d, i)
            assert tuple(got.repeat[k, i].tolist()) == tuple(stage.repeat or Cost()), (c, d, i)
    assert got.valid.any() and (not got.valid.all()) == (name == "resnest50")


def _generation(n: int = 64) -> tuple[Generation, SweepSpec]:
    sweep = load_sweep(SOLVED)
    gen = Generation(sweep)
    gen.evaluate(next(batches(sweep, n)))
    return gen, sweep


def test_dense_index_rows_equal_the_walk() -> None:
    """Rows looked up for widths inside and outside 1..MAX: row 0 (invalid) outside; inside, the
    costs of the walked copy; the index widens on demand and keeps what it knew."""
    gen, _ = _generation()
    table = vsolve.table_of(gen.cores)
    core, groups = table.cores[0]
    assert core.spec is not None
    before = table.index.shape[1]
    d = np.array([0, 3, 17, MAX_WIDTH_PER_GROUP, MAX_WIDTH_PER_GROUP + 1, -2], dtype=np.int64)
    rows = table.rows(np.zeros(len(d), dtype=np.int64), d)
    assert rows[0] == rows[4] == rows[5] == 0 and not table.valid[0]
    assert table.index.shape[1] == MAX_WIDTH_PER_GROUP + 1 > before
    spec = core.spec
    for width, row in zip(d[1:4].tolist(), rows[1:4].tolist(), strict=True):
        walked = _walked(spec, groups, width)
        assert bool(table.valid[row]) == isinstance(walked, Cost), width
        if isinstance(walked, Cost):
            assert tuple(table.total[row].tolist()) == tuple(walked), width
    again = table.rows(np.zeros(len(d), dtype=np.int64), d)
    assert again.tolist() == rows.tolist()  # known pairs are not filled twice


def test_the_index_restarts_beyond_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``MAX_INDEX`` entries the table restarts between batches, with the same answers."""
    monkeypatch.setattr(vsolve, "MAX_INDEX", 1)
    sweep = load_sweep(SOLVED)
    gen, stream, offset = Generation(sweep), batches(sweep, 30), 0
    for _ in range(2):
        cols = next(stream)
        ev, _ = gen.evaluate(cols)
        for i in range(len(cols[0].codes)):
            values = {c.axis.key: c.table[int(c.codes[i])] for c in cols}
            try:
                _, cost = make_spec(sweep, values, offset + i)
            except (SpecError, GraphError):
                assert not ev.valid[i]
                continue
            assert cost is not None and bool(ev.valid[i])
            assert tuple(ev.totals[i].tolist()) == tuple(cost.total)
            assert int(ev.solved[i]) == values["block.width_per_group"]
        offset += len(cols[0].codes)
    assert vsolve.table_of(gen.cores).epoch > 1


@pytest.mark.parametrize("start", [1, 4096, "random"])
def test_the_gallop_start_changes_only_the_cost(
    start: int | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any start finds the same widths (the predicate is monotone); the base's C·d start costs
    fewer widths than galloping from d = 1."""
    sweep = load_sweep(SOLVED)
    cols = next(batches(sweep, 400))
    gen = Generation(sweep)
    ev, _ = gen.evaluate(cols)
    filled = len(vsolve.table_of(gen.cores).valid)
    rng = np.random.default_rng(0)

    def fixed(block: object, groups: Int64s) -> Int64s:
        if start == "random":
            return rng.integers(1, MAX_WIDTH_PER_GROUP + 1, len(groups))
        return np.full(len(groups), start, dtype=np.int64)

    monkeypatch.setattr(vsolve, "start_widths", fixed)
    other = Generation(sweep)
    got, _ = other.evaluate(cols)
    assert ev.solved is not None and got.solved is not None
    assert got.solved.tolist() == ev.solved.tolist()
    assert got.valid.tolist() == ev.valid.tolist()
    assert got.totals.tolist() == ev.totals.tolist()
    if start == 1:
        assert filled < len(vsolve.table_of(other.cores).valid)


def test_start_widths_spread_the_base_over_groups() -> None:
    base = {"groups": 32, "width_per_group": 4}
    got = vsolve.start_widths(base, np.array([1, 2, 8, 32, 64, 1 << 20], dtype=np.int64))
    assert got.tolist() == [128, 64, 16, 4, 2, 1]
    assert vsolve.start_widths(None, np.array([4])).tolist() == [1]
    assert vsolve.start_widths({"groups": 1, "width_per_group": 64}, np.array([1])).tolist() == [64]

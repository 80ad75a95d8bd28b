"""The batched evaluation (sweep/vector.py, sweep/vsolve.py) equals the per-config graph walk.

For every shipped sweep file, one batch of its configs (1,000 draws, or the whole grid/zip) is
costed by the arrays and, config by config, by the reference path: the spec validated from the
values (``make_spec``, the scalar width solver included) and walked op by op (``expand``). Every
Cost field, validity, the solved width and the store key must agree.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from archprobe.errors import SpecError
from archprobe.graph.cost import Cost
from archprobe.graph.ops import GraphError
from archprobe.spec.expand import expand
from archprobe.sweep.configs import Generation, config_key, generate, make_spec
from archprobe.sweep.draws import batches
from archprobe.sweep.spec import SweepSpec, load_sweep

SWEEPS = Path(__file__).resolve().parents[2] / "specs" / "sweeps"
FILES = sorted(p.name for p in SWEEPS.glob("*.yaml"))
DRAWS = 1000


def _walk(sweep: SweepSpec, values: dict[str, object], i: int) -> tuple[Cost | None, object]:
    try:
        spec, _ = make_spec(sweep, values, i)
        return sum((leaf.cost for leaf in expand(spec).leaves), Cost()), spec
    except (SpecError, GraphError):
        return None, None


@pytest.mark.parametrize("name", FILES)
def test_batch_costs_equal_the_graph_walk(name: str) -> None:
    sweep = load_sweep(SWEEPS / name)
    gen = Generation(sweep)
    cols = next(batches(sweep, DRAWS))
    ev, _ = gen.evaluate(cols)
    n = len(cols[0].codes)
    assert n == min(DRAWS, n) and (n >= DRAWS or sweep.mode != "random")
    checked = 0
    for i in range(n):
        values = {c.axis.key: c.table[int(c.codes[i])] for c in cols}
        walked, _ = _walk(sweep, values, i)
        assert bool(ev.valid[i]) == (walked is not None), (values, ev.errors[i])
        if walked is None:
            continue
        assert tuple(int(v) for v in ev.totals[i]) == tuple(walked), values
        if ev.solved is not None and not (ev.scalar is not None and ev.scalar[i]):
            assert int(ev.solved[i]) == values["block.width_per_group"], values
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", FILES)
def test_stored_keys_and_specs_equal_the_per_config_path(name: str) -> None:
    """Keys come from templates and specs are built lazily: both as ``make_spec`` gives them."""
    sweep = dataclasses.replace(load_sweep(SWEEPS / name), constraints={}, n=40)
    configs = [c for batch in Generation(sweep, 256) for c in batch][:40]
    for c in configs:
        values = {a.key: c.values[a.key] for a in sweep.axes}
        spec, _ = make_spec(sweep, values, 0)
        assert values == c.values
        assert c.key == config_key(spec, sweep) == config_key(c.spec, sweep)
        assert c.spec.model_dump(exclude={"name"}) == spec.model_dump(exclude={"name"})


def test_batch_size_does_not_change_a_random_sweep() -> None:
    sweep = load_sweep(SWEEPS / "resnext_random.yaml")
    small = [c.key for batch in Generation(sweep, 100) for c in batch]
    large = [c.key for batch in Generation(sweep, 5000) for c in batch]
    assert small == large and len(small) == sweep.n


def test_generate_matches_the_per_config_reference_order(tmp_path: Path) -> None:
    """A grid keeps the product order of its axes, every config stored once."""
    path = tmp_path / "g.yaml"
    path.write_text(
        "sweep: g\nbase: resnet50\nmode: grid\naxes:\n  block.groups: [1, 2, 4]\n"
        "  stages.2.depth: [1, 2, 6]\n  stages.0.depth: [1, 3]\n",
        encoding="utf-8",
    )
    configs, tally = generate(load_sweep(path))
    order = [(c.values["block.groups"], c.values["stages.2.depth"], c.values["stages.0.depth"])
             for c in configs]  # fmt: skip
    assert order == [(g, d, e) for g in (1, 2, 4) for d in (1, 2, 6) for e in (1, 3)]
    assert tally.drawn == 18 and tally.duplicates == 0

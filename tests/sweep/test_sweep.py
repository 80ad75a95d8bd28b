"""Sweeps: solver (ResNeXt Table 2), samplers, sweep specs, store resume."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from archprobe.errors import SpecError
from archprobe.graph.cost import Cost
from archprobe.spec import list_specs, load_spec
from archprobe.spec.expand import expand
from archprobe.sweep.configs import generate
from archprobe.sweep.fast import spec_cost
from archprobe.sweep.run import run_sweep
from archprobe.sweep.samplers import Sampler
from archprobe.sweep.solve import solve_width
from archprobe.sweep.spec import load_sweep
from archprobe.sweep.store import Store

SWEEPS = Path(__file__).resolve().parents[2] / "specs" / "sweeps"
TABLE2 = [(1, 64, 64), (2, 40, 80), (4, 24, 96), (8, 14, 112), (32, 4, 128)]


@pytest.mark.parametrize(("c", "d", "width"), TABLE2)
def test_solver_reproduces_table2(c: int, d: int, width: int) -> None:
    s = solve_width("resnet50", c, "block-params")
    assert (s.width_per_group, s.group_width) == (d, width)


def test_sampler_deterministic_and_quantized() -> None:
    s = Sampler("int", 8, 64, "log_uniform", 8)
    a = [s.sample(random.Random(3)) for _ in range(50)]
    assert a == [s.sample(random.Random(3)) for _ in range(50)]
    assert all(v % 8 == 0 and 8 <= v <= 64 for v in a)
    p2 = Sampler("int", 1, 64, "power2_uniform")
    assert {p2.sample(random.Random(i)) for i in range(200)} <= {1, 2, 4, 8, 16, 32, 64}


def test_float_steps_are_stored_as_the_multiples_they_are() -> None:
    """RegNet's wa in steps of 0.1 (pycls): 169 · 0.1 is 16.900000000000002 in binary floating
    point; a stored draw must read 16.9, on the grid and inside the range."""
    s = Sampler("float", 8.0, 255.9, "log_uniform", 0.1)
    draws = [s.sample(random.Random(i)) for i in range(300)]
    assert all(len(repr(v).split(".")[1]) == 1 for v in draws)
    assert all(8.0 <= v <= 255.9 and abs(v * 10 - round(v * 10)) < 1e-9 for v in draws)


def test_cardinality_zip() -> None:
    configs, _ = generate(load_sweep(SWEEPS / "resnext50_cardinality.yaml"))
    assert [c.metrics["params"] for c in configs][-1] == 25_028_904
    assert len(configs) == 5


def _write(tmp: Path, body: str) -> Path:
    p = tmp / "s.yaml"
    p.write_text(body, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("sweep: s\nbase: resnet50\naxes:\n  block.grups: [1, 2]\n", "did you mean 'groups'"),
        ("sweep: s\nbase: resnet50\naxes:\n  block.groups: []\n", "empty axis"),
        ("sweep: s\nbase: resnet50\naxes:\n  stages.9.depth: [1]\n", "no such list index"),
        (
            "sweep: s\nbase: resnet50\naxes:\n  block.groups: [1, 2]\n"
            "constraints: {macs: [1, 2]}\n",
            "reject all 2",
        ),
    ],
)
def test_bad_sweeps(tmp_path: Path, body: str, needle: str) -> None:
    with pytest.raises(SpecError) as info:
        generate(load_sweep(_write(tmp_path, body)))
    assert needle in info.value.format()


def test_random_deterministic_and_constrained(tmp_path: Path) -> None:
    body = (
        "sweep: r\nbase: resnet50\nmode: random\nn: 20\nseed: 1\naxes:\n"
        "  stages.2.depth: {int: [2, 8]}\n  block.groups: {int: [1, 8], dist: power2_uniform}\n"
        "constraints: {macs: [3.5e9, 4.5e9]}\n"
    )
    a, _ = generate(load_sweep(_write(tmp_path, body)))
    b, _ = generate(load_sweep(_write(tmp_path, body)))
    assert [c.key for c in a] == [c.key for c in b]
    assert all(3.5e9 <= c.metrics["macs"] <= 4.5e9 for c in a)


def test_store_resume(tmp_path: Path) -> None:
    sweep = load_sweep(SWEEPS / "resnext50_cardinality.yaml")
    full = tmp_path / "full.db"
    run_sweep(sweep, full)
    configs, _ = generate(sweep)
    partial = tmp_path / "part.db"
    store = Store(partial)
    store.add([{"key": c.key, "sweep": sweep.name, "idx": c.index, "config": c.values,
                **c.metrics} for c in configs[:2]])  # fmt: skip
    store.close()
    summary = run_sweep(sweep, partial)
    assert (summary.skipped, summary.done) == (2, 3)
    strip = [{k: v for k, v in r.items() if k != "created"} for r in Store(partial).rows()]
    assert strip == [{k: v for k, v in r.items() if k != "created"} for r in Store(full).rows()]


@pytest.mark.parametrize("name", [e.name for e in list_specs()])
def test_fast_totals_equal_the_graph_walk(name: str) -> None:
    """The sweep's memoised per-block costs equal the full graph walk for every catalog spec."""
    spec = load_spec(name)
    graph_total = sum((leaf.cost for leaf in expand(spec).leaves), Cost())
    assert spec_cost(spec).total == graph_total


def test_a_trait_as_the_base_is_located_at_base(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("sweep: s\nbase: deep_stem\nmode: grid\naxes:\n  block.groups: [1, 2]\n")
    with pytest.raises(SpecError, match=r"s\.yaml:2:7: base: 'deep_stem' is a trait"):
        load_sweep(path)

"""The batched width solver (sweep/vsolve.py) equals the scalar one where the shipped sweeps do not
go: targets no d reaches, every preserve target, depth-1 stages, widths with invalid holes
(ResNeSt), a block without a width per group, and a table reused across batches or restarted.

The reference is the per-config path: ``make_spec`` validates the config and runs
``solve.solve_width`` (secant, galloping and bisection over ``_Values``), so the solved d, the
costs and an invalid row's message come from the scalar code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archprobe.errors import SpecError
from archprobe.graph.ops import GraphError
from archprobe.spec import load_spec
from archprobe.sweep import vsolve
from archprobe.sweep.configs import Generation, make_spec
from archprobe.sweep.draws import batches
from archprobe.sweep.solve import metric, uniform_cost
from archprobe.sweep.spec import SweepSpec, load_sweep
from archprobe.sweep.vector import Evaluated

DRAWS = 120
DEPTHS = """  stages.0.depth: {int: [1, 3]}
  stages.1.depth: {int: [1, 4]}
  stages.2.depth: {int: [1, 6]}
  stages.3.depth: {int: [1, 3]}
"""
GROUPS = "  block.groups: {int: [1, 64], dist: power2_uniform}\n"


def _sweep(tmp_path: Path, base: str, axes: str, solve: str, seed: int = 0) -> SweepSpec:
    path = tmp_path / "s.yaml"
    path.write_text(
        f"sweep: s\nbase: {base}\nmode: random\nseed: {seed}\nn: {DRAWS}\naxes:\n{axes}"
        f"solve: {solve}\n",
        encoding="utf-8",
    )
    return load_sweep(path)


def _check(sweep: SweepSpec, ev: Evaluated, cols: list, offset: int = 0) -> int:
    """Every row of ``ev`` as the scalar solver has it; returns how many rows are valid."""
    valid = 0
    for i in range(len(cols[0].codes)):
        values = {c.axis.key: c.table[int(c.codes[i])] for c in cols}
        try:
            _, cost = make_spec(sweep, values, offset + i)
        except (SpecError, GraphError) as exc:
            assert not ev.valid[i], values
            assert ev.errors[i] == str(exc), values
            continue
        assert cost is not None
        assert bool(ev.valid[i]), (values, ev.errors[i])
        assert tuple(int(v) for v in ev.totals[i]) == tuple(cost.total), values
        if ev.scalar is None or not ev.scalar[i]:
            assert int(ev.solved[i]) == values["block.width_per_group"], values
        valid += 1
    return valid


def _batch(sweep: SweepSpec, size: int = DRAWS) -> tuple[Evaluated, list]:
    cols = next(batches(sweep, size))
    return Generation(sweep).evaluate(cols)[0], cols


@pytest.mark.parametrize(
    "solve",
    [
        "{preserve: net-macs, target: 4.1e9}",
        "{preserve: net-params}",
        "{preserve: stage-params}",
        "{preserve: block-macs}",
        "{preserve: block-params, target: 5.0e4}",
    ],
)
def test_every_target_with_depth_one_stages(tmp_path: Path, solve: str) -> None:
    """Depth 1 in a swept stage (no repeated block: the template is its first block)."""
    sweep = _sweep(tmp_path, "resnext50_32x4d", DEPTHS + GROUPS, solve)
    ev, cols = _batch(sweep)
    assert _check(sweep, ev, cols) == DRAWS
    assert not ev.scalar.any()  # every row settled on the arrays


@pytest.mark.parametrize("target", ["1.0e16", "1"])
def test_targets_no_width_reaches_or_every_width_passes(tmp_path: Path, target: str) -> None:
    """Above every d's cost the scalar solver keeps the largest valid value (the smallest d
    giving it); at 1 MAC, the smallest valid d."""
    sweep = _sweep(tmp_path, "resnext50_32x4d", DEPTHS + GROUPS,
                   f"{{preserve: net-macs, target: {target}}}")  # fmt: skip
    ev, cols = _batch(sweep, 40)
    assert _check(sweep, ev, cols) == 40
    expected = 4096 if target != "1" else 1
    assert (ev.solved == expected).any()


def test_widths_with_invalid_holes(tmp_path: Path) -> None:
    """ResNeSt's split 3×3 has C·R groups: at C = 2, R = 2 every odd d is invalid, so the
    nearest-valid walks of the search are exercised."""
    axes = DEPTHS + "  block.groups: [1, 2, 3, 4]\n"
    sweep = _sweep(tmp_path, "resnest50", axes, "{preserve: net-macs}")
    gen, cols = Generation(sweep), next(batches(sweep, DRAWS))
    ev, _ = gen.evaluate(cols)
    assert _check(sweep, ev, cols) == DRAWS
    assert not vsolve.table_of(gen.cores).valid[1:].all()  # the search met invalid widths


def test_a_block_without_width_per_group_is_refused_by_name(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path, "mobilenet_v2", "  stages.1.depth: {int: [1, 3]}\n",
                   "{preserve: net-macs}")  # fmt: skip
    ev, cols = _batch(sweep, 10)
    assert _check(sweep, ev, cols) == 0
    assert "has no width_per_group" in ev.errors[0]


@pytest.mark.parametrize("entries", [vsolve.MAX_ENTRIES, 8])
def test_table_kept_across_batches_or_restarted(
    tmp_path: Path, entries: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Later batches read the costs earlier ones computed; a table restarted between batches
    (``MAX_ENTRIES`` exceeded) hands out fresh core ids and gives the same answers."""
    monkeypatch.setattr(vsolve, "MAX_ENTRIES", entries)
    sweep = _sweep(tmp_path, "resnext50_32x4d", DEPTHS + GROUPS,
                   "{preserve: net-macs, target: 4.1e9}", seed=3)  # fmt: skip
    gen, stream, offset = Generation(sweep), batches(sweep, 40), 0
    for _ in range(3):
        cols = next(stream)
        ev, _ = gen.evaluate(cols)
        assert _check(sweep, ev, cols, offset) == 40
        offset += 40
    table = vsolve.table_of(gen.cores)
    assert (table.epoch > 1) == (entries == 8)


@pytest.mark.parametrize("preserve", ["block-params", "stage-params"])
def test_runs_of_one_value_take_their_smallest_width(tmp_path: Path, preserve: str) -> None:
    """A 64-wide first stage has 16 planes: its group width ``int(16·d/64)·C`` holds for four
    d in a row, so the search walks down to the smallest d of the value below the target."""
    axes = DEPTHS + GROUPS + "  stages.0.width: {int: [64, 128], quantize: 64}\n"
    sweep = _sweep(tmp_path, "resnext50_32x4d", axes, f"{{preserve: {preserve}}}")
    ev, cols = _batch(sweep)
    assert _check(sweep, ev, cols) == DRAWS
    assert (ev.solved % 4 != 0).any()


def test_a_tie_goes_to_the_width_above(tmp_path: Path) -> None:
    """A target halfway between two neighbouring values: the one at or above it wins."""
    base = load_spec("resnext50_32x4d")
    values = [metric(uniform_cost(base, 8, d), "block-params") for d in range(10, 30)]
    d = next(i for i in range(len(values) - 1) if (values[i + 1] - values[i]) % 2 == 0)
    target = (values[d] + values[d + 1]) // 2
    path = tmp_path / "t.yaml"
    path.write_text(
        "sweep: t\nbase: resnext50_32x4d\nmode: grid\naxes:\n  block.groups: [8]\n"
        f"  stages.1.depth: [1, 2, 5]\nsolve: {{preserve: block-params, target: {target}}}\n",
        encoding="utf-8",
    )
    sweep = load_sweep(path)
    ev, cols = _batch(sweep, 3)
    assert _check(sweep, ev, cols) == 3
    assert ev.solved.tolist() == [10 + d + 1] * 3

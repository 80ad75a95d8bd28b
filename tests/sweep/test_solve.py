"""The width solver's search against a brute-force scan, and whole-network targets per stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from archprobe.analysis.analytic import analyze
from archprobe.blocks import BLOCKS
from archprobe.blocks.layers import GroupedWidthParams
from archprobe.errors import SpecError
from archprobe.graph.ops import Conv, GraphError
from archprobe.spec import ArchSpec, load_spec
from archprobe.spec.expand import expand
from archprobe.sweep.configs import generate
from archprobe.sweep.fast import spec_cost
from archprobe.sweep.solve import metric, solve_width, with_width
from archprobe.sweep.spec import load_sweep

RESNET50_MACS = 4_089_184_256  # facts.md §9.1: resnet50 (stride on 3×3)
CARDINALITIES = (1, 2, 4, 8, 32)


def _scan(base: str, groups: int, preserve: str, target: int) -> int:
    """The nearest d by trying every d up to 300 (the solver's documented tie rule)."""
    spec = load_spec(base)
    found: dict[int, int] = {}  # value -> smallest d
    for d in range(1, 300):
        try:
            found.setdefault(metric(spec_cost(with_width(spec, groups, d)), preserve), d)
        except GraphError:
            continue
    value = min(found, key=lambda v: (abs(v - target), v < target, found[v]))
    return found[value]


@pytest.mark.parametrize("groups", (1, 3, 8, 32))
@pytest.mark.parametrize("preserve", ("block-macs", "stage-params", "net-macs"))
@pytest.mark.parametrize("scale", (0.5, 1.0, 1.37))
def test_search_equals_a_brute_force_scan(groups: int, preserve: str, scale: float) -> None:
    target = round(metric(spec_cost(load_spec("resnet50")), preserve) * scale)
    solved = solve_width("resnet50", groups, preserve, target=target)
    assert solved.width_per_group == _scan("resnet50", groups, preserve, target)


@pytest.mark.parametrize("groups", CARDINALITIES)
def test_per_stage_widths_land_within_2_percent_of_resnet50(groups: int) -> None:
    solved = solve_width("resnet50", groups, "net-macs", per_stage=True)
    spec = with_width(load_spec("resnet50"), groups, solved.stage_widths)
    macs = analyze(spec).total("macs")  # the graph walk, not the solver's fast path
    assert macs == solved.macs
    assert abs(macs - RESNET50_MACS) / RESNET50_MACS < 0.02


def test_one_width_cannot_reach_2_percent_at_every_cardinality() -> None:
    """Why per-stage widths exist: with one d, C = 8 misses resnet50's MACs by more than 2%."""
    errors = [solve_width("resnet50", c, "net-macs").rel_error for c in CARDINALITIES]
    assert max(abs(e) for e in errors) > 0.02


def test_per_stage_needs_a_network_target() -> None:
    with pytest.raises(SpecError, match="whole-network target"):
        solve_width("resnet50", 4, "block-params", per_stage=True)


def _sweep(tmp: Path, solve: str, extra: str = "") -> Path:
    path = tmp / "s.yaml"
    path.write_text(
        f"sweep: s\nbase: resnet50\nmode: zip\naxes:\n  block.groups: [1, 8, 32]\n"
        f"solve: {solve}\n{extra}",
        encoding="utf-8",
    )
    return path


def test_sweep_solves_per_stage_to_a_target(tmp_path: Path) -> None:
    path = _sweep(tmp_path, "{preserve: net-macs, per_stage: true, target: 4.1e9}")
    configs, _ = generate(load_sweep(path))
    for c in configs:
        assert abs(analyze(c.spec).total("macs") - 4.1e9) / 4.1e9 < 0.02
        widths = [c.values[f"stages.{i}.width_per_group"] for i in range(4)]
        assert [s.block.width_per_group for s in c.spec.stages] == widths  # type: ignore[union-attr]


def test_sweep_records_the_solved_width(tmp_path: Path) -> None:
    configs, _ = generate(load_sweep(_sweep(tmp_path, "{preserve: block-params}")))
    assert [c.values["block.width_per_group"] for c in configs] == [64, 14, 4]  # Table 2


@pytest.mark.parametrize(
    ("solve", "needle"),
    [
        ("{preserve: block-params, per_stage: true}", "whole-network target"),
        ("{preserve: net-macs, targte: 4e9}", "unknown key 'targte'"),
        ("{preserve: net-macs, target: -1}", "positive number"),
        ("{preserve: everything}", "solve.preserve: expected {preserve: block-params|"),
    ],
)
def test_bad_solve_is_located(tmp_path: Path, solve: str, needle: str) -> None:
    with pytest.raises(SpecError) as info:
        load_sweep(_sweep(tmp_path, solve))
    text = info.value.format()
    assert needle in text and "s.yaml:6:" in text


# One catalog base per block type; the scan below walks the full graph (analyze), not the
# solver's fast path, and reads the group width off the built graph's grouped conv.
BASES = {"basic": "resnet18", "bottleneck": "resnet50", "res2net": "res2net50_26w_4s",
         "resnest": "resnest50"}  # fmt: skip
GROUPED_CONV = {"basic": "conv1", "bottleneck": "conv2", "res2net": "convs.0",
                "resnest": "conv2.conv"}  # fmt: skip


def _walked(spec: ArchSpec, preserve: str) -> int:
    results = analyze(spec)
    if preserve == "block-params":
        return int(results.total("params", "layer1.1"))  # a repeated block of the first stage
    return int(results.total("macs" if preserve == "net-macs" else "params"))


def _scan_walk(base: ArchSpec, groups: int, preserve: str, target: int) -> int:
    found: dict[int, int] = {}  # value -> smallest d
    for d in range(1, 100):
        try:
            found.setdefault(_walked(with_width(base, groups, d), preserve), d)
        except SpecError:  # a width that rounds to zero, or groups that do not divide it
            continue
    return found[min(found, key=lambda v: (abs(v - target), v < target, found[v]))]


def test_every_block_type_has_a_base() -> None:
    # the blocks with a width_per_group to solve for (ShuffleNet V2 and VGG have none)
    assert set(BASES) == {n for n, b in BLOCKS.items() if issubclass(b.Params, GroupedWidthParams)}


@pytest.mark.parametrize("block", sorted(BASES))
@pytest.mark.parametrize("groups", (2, 4))
@pytest.mark.parametrize("preserve", ("block-params", "net-macs"))
def test_every_block_type_solves_like_a_graph_walk_scan(
    block: str, groups: int, preserve: str
) -> None:
    base = load_spec(BASES[block])
    target = _walked(base, preserve)
    solved = solve_width(base, groups, preserve)
    d = _scan_walk(base, groups, preserve, target)
    assert solved.width_per_group == d
    assert abs(solved.value - target) / target < 0.05  # "within a few percent" of the base
    conv = build_conv(with_width(base, groups, d), f"layer1.1.{GROUPED_CONV[block]}")
    radix = getattr(base.block, "radix", 1)  # ResNeSt's conv holds R splits of the width
    assert solved.group_width == conv.cout // radix
    assert conv.groups == groups * radix


def build_conv(spec: ArchSpec, scope: str) -> Conv:
    """The conv op at ``scope`` of the expanded graph."""
    op = next(leaf.op for leaf in expand(spec).leaves if leaf.scope == scope)
    assert isinstance(op, Conv)
    return op

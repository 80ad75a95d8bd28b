"""Naming layouts: the same network under another module tree keeps every count, and its
built module's keys are the graph's scopes (blocks/layout.py)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from archprobe.analysis.analytic import analyze_spec
from archprobe.analysis.stages import stage_rows
from archprobe.builder.network import build
from archprobe.errors import SpecError
from archprobe.spec import load_spec
from archprobe.spec.expand import expand
from archprobe.spec.loader import spec_from_dict

BASE = load_spec("resnet18").model_dump(mode="json", exclude={"name", "aliases", "published"})

LAYOUTS: dict[str, dict[str, Any]] = {
    "by_stage": {"container": "features", "numbered": True, "stem": "item"},
    "by_block": {"container": "features", "numbered": True, "stem": "item", "unroll": "block"},
    "named": {"container": "trunk_output", "stage": "block{n}", "block": "block{n}-{j}"},
    "shifted": {"stage": "stage{n}", "first_stage": 2},
}


def _spec(layout: dict[str, Any]) -> Any:
    return spec_from_dict({**BASE, "name": "r18", "layout": layout})


@pytest.mark.parametrize("kind", sorted(LAYOUTS))
def test_layout_keeps_counts_and_names_modules(kind: str) -> None:
    spec = _spec(LAYOUTS[kind])
    ref = analyze_spec(load_spec("resnet18")).results
    got = analyze_spec(spec).results
    for metric in ("params", "macs", "acts"):
        assert got.total(metric) == ref.total(metric)
    model = build(spec, device="meta")
    keys = {k.rsplit(".", 1)[0] for k in model.state_dict()}
    scopes = {leaf.scope for leaf in expand(spec).leaves}
    assert keys <= scopes  # every parameter's module is a graph scope
    # the stage table still has the stem, four stages and the head, blocks × depth each
    rows = stage_rows(expand(spec), got, ("macs",))
    assert [r.shape.rsplit("×", 1)[-1] for r in rows[1:5]] == ["2"] * 4


def test_numbered_container_names() -> None:
    model = build(_spec(LAYOUTS["by_block"]), device="meta")
    keys = model.state_dict()
    # stem features.0; 8 blocks features.1..8 (one item each); the head stays fc
    assert "features.0.conv1.weight" in keys
    assert "features.8.conv2.weight" in keys and "features.9.conv1.weight" not in keys
    assert "fc.weight" in keys
    named = build(_spec(LAYOUTS["named"]), device="meta").state_dict()
    assert "trunk_output.block2.block2-1.conv1.weight" in named
    assert "stage5.1.conv2.weight" in build(_spec(LAYOUTS["shifted"]), device="meta").state_dict()


def test_forward_is_unchanged_by_the_layout() -> None:
    torch.manual_seed(0)
    a, b = build(load_spec("resnet18"), "cpu").eval(), build(_spec(LAYOUTS["by_block"]), "cpu")
    b.eval().load_state_dict(dict(zip(b.state_dict(), a.state_dict().values(), strict=True)))
    x = torch.randn(1, 3, 64, 64)
    assert torch.equal(a(x), b(x))


def test_numbered_placement_needs_a_container() -> None:
    with pytest.raises(SpecError, match="numbered"):
        _spec({"stem": "item"})

"""Every catalog spec: loads, and the built module agrees with the analytic graph.

The ground truth here is the second counter: PyTorch's own ``numel`` and ``FlopCounterMode``
(which counts 2 FLOPs per multiply-add) on the module built from the same spec.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from archprobe.analysis.analytic import analyze_spec
from archprobe.analysis.counters.runtime import flop_counts
from archprobe.builder.network import build
from archprobe.spec import list_specs, load_spec
from archprobe.spec.catalog import list_traits

CATALOG = [e.name for e in list_specs()]

REQUIRED = {
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet50_v1",
    "resnet101",
    "resnet152",
    "plain18",
    "plain34",
    "resnext50_32x4d",
    "resnext50_2x40d",
    "resnext50_4x24d",
    "resnext50_8x14d",
    "resnext101_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "wide_resnet50_2",
    "wide_resnet101_2",
    "resnet20",
    "resnet32",
    "resnet44",
    "resnet56",
    "resnet110",
}


def test_catalog_has_the_issue_list() -> None:
    assert set(CATALOG) >= REQUIRED
    assert load_spec("resnext50").name == "resnext50_32x4d"  # alias


@pytest.mark.parametrize("name", CATALOG)
def test_built_module_matches_analytic(name: str) -> None:
    a = analyze_spec(name)
    model = build(a.spec, device="meta")
    assert sum(p.numel() for p in model.parameters()) == a.results.total("params")
    assert sum(b.numel() for b in model.buffers()) == a.results.total("buffers")
    size = a.spec.input.size
    flops = flop_counts(model, (1, a.spec.input.channels, size, size))
    assert flops[""] == 2 * a.results.total("macs")
    for top, _ in model.named_children():
        assert flops.get(top, 0) == 2 * a.results.total("macs", top), top
    # the first stage's blocks, wherever the layout puts them (layer1, stage2, features)
    stage = a.graph.stage(0).first.rsplit(".", 1)[0]
    for block, _ in model.get_submodule(stage).named_children():
        scope = f"{stage}.{block}"
        assert flops.get(scope, 0) == 2 * a.results.total("macs", scope), scope


@pytest.mark.parametrize("trait", [t.name for t in list_traits()])
def test_every_trait_mixes_into_resnet50(trait: str, tmp_path: Path) -> None:
    """A trait is no network (not in ``CATALOG``), but mixed in by name it builds one whose
    module agrees with the analytic counts."""
    assert trait not in CATALOG
    path = tmp_path / f"r50_{trait}.yaml"
    path.write_text(f"extends: [resnet50, {trait}]\nname: r50_{trait}\n", encoding="utf-8")
    a = analyze_spec(path)
    model = build(a.spec, device="meta")
    assert sum(p.numel() for p in model.parameters()) == a.results.total("params")
    plain = {"name", "paper", "published"}
    assert a.spec.model_dump(exclude=plain) != load_spec("resnet50").model_dump(exclude=plain)


@pytest.mark.parametrize("name", ["resnet18", "resnext50_32x4d", "resnet20", "plain18"])
def test_forward_on_cpu(name: str) -> None:
    a = analyze_spec(name)
    model = build(a.spec, device="cpu").eval()
    size = min(a.spec.input.size, 64)
    with torch.no_grad():
        y = model(torch.randn(2, a.spec.input.channels, size, size))
    assert y.shape == (2, a.spec.head.classes)
    assert torch.isfinite(y).all()

"""Counters reconciliation: categories sum to each counter's own total, every third-party count
equals the prediction of the counters' conventions per category, and the caller's model is never
mutated. Published cross-checks: timm lists 4.11 (resnet50) and 4.26 (resnext50_32x4d) fvcore
GMACs; torchvision's _ops 4.089 / 4.23 are archprobe's MACs (facts.md)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import torch
from rich.console import Console
from torch import nn

from archprobe.analysis.counters import reconcile as counters_mod
from archprobe.analysis.counters import runners
from archprobe.analysis.counters.conventions import CATEGORIES, op_category
from archprobe.analysis.counters.reconcile import Reconciliation, reconcile
from archprobe.builder.network import build
from archprobe.errors import ArchprobeError
from archprobe.graph import ops
from archprobe.graph.nodes import Graph, OpNode, Section, Seq
from archprobe.report.terminal.counters import reconciliation_table
from archprobe.spec import load_spec
from archprobe.spec.expand import expand
from archprobe.spec.schema import ArchSpec

THIRD_PARTY = ("flopcounter", "fvcore")  # always installed; thop tests skip without it


@pytest.fixture(scope="module")
def r50() -> Reconciliation:
    return reconcile("resnet50")  # 224×224: the published fvcore number


@pytest.fixture(scope="module")
def rx50() -> Reconciliation:
    return reconcile("resnext50_32x4d")


@pytest.fixture(scope="module")
def r18() -> Reconciliation:
    return reconcile("resnet18")


def _small(name: str, size: int) -> ArchSpec:
    spec = load_spec(name)
    return spec.model_copy(update={"input": spec.input.model_copy(update={"size": size})})


def _ran(rec: Reconciliation) -> list[Any]:
    return [r for r in rec.counters if r.ok]


@pytest.mark.parametrize("fixture", ["r50", "rx50", "r18"])
def test_categories_sum_to_each_counters_own_total(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rec: Reconciliation = request.getfixturevalue(fixture)
    assert {"analytic", *THIRD_PARTY} <= {r.counter for r in _ran(rec)}
    for r in _ran(rec):
        assert set(r.native) == set(CATEGORIES), r.counter
        assert sum(r.native.values()) == r.reported, r.counter
        assert r.total * r.convention.per_mac == r.reported, r.counter


@pytest.mark.parametrize("fixture", ["r50", "rx50", "r18"])
def test_every_counter_matches_its_convention_per_category(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rec: Reconciliation = request.getfixturevalue(fixture)
    for r in _ran(rec):
        assert r.mismatches == (), (r.counter, r.native, r.predicted_native)
        assert not r.unmodelled, r.counter


def test_flopcounter_is_twice_analytic_per_category(r50: Reconciliation) -> None:
    flops, analytic = r50["flopcounter"], r50["analytic"]
    assert flops.convention.unit == "2×FLOP"
    assert flops.native_total == 2 * analytic.total == 2 * 4_089_184_256
    assert flops.macs == analytic.macs


def test_flopcounter_lists_the_ops_it_does_not_count(r50: Reconciliation) -> None:
    uncounted = {o.name: (o.calls, o.category) for o in r50["flopcounter"].uncounted}
    assert uncounted["aten.native_batch_norm"] == (53, "norm")
    assert uncounted["aten.relu_"] == (49, "act")
    assert uncounted["aten.add"] == (16, "add")
    assert uncounted["aten.max_pool2d_with_indices"] == (1, "pool")
    assert uncounted["aten.mean"] == (1, "pool")  # AdaptiveAvgPool2d(1)
    assert "aten.convolution" not in uncounted and "aten.addmm" not in uncounted


def test_fvcore_resnet50_breakdown(r50: Reconciliation) -> None:
    fv = r50["fvcore"]
    assert fv.convention.unit == "MAC"
    assert fv.total == 4_111_512_576
    assert round(fv.total / 1e9, 2) == 4.11  # timm's published fvcore GMACs
    # conv + fc are archprobe's MACs; the rest is eval BN (2 per element) and the global pool.
    assert fv.macs["conv"] + fv.macs["linear"] == 4_089_184_256
    assert fv.macs["norm"] == 2 * 11_113_984  # BN output elements = conv output elements
    assert fv.macs["pool"] == 2048 * 7 * 7
    assert {(o.name, o.calls) for o in fv.uncounted} == {("aten::max_pool2d", 1), ("aten::add", 16)}


def test_fvcore_resnext50_is_timms_number(rx50: Reconciliation) -> None:
    assert rx50["fvcore"].total == 4_259_381_248
    assert round(rx50["fvcore"].total / 1e9, 2) == 4.26
    assert rx50["analytic"].total == 4_230_479_872


def test_thop_matches_its_rules() -> None:
    pytest.importorskip("thop")
    rec = reconcile("resnet50", counters=("analytic", "thop"))
    th = rec["thop"]
    assert th.ok and th.mismatches == ()
    assert th.total == 4_133_742_592  # + 4 per BN element + (input + output) of the global pool
    assert th.macs["norm"] == 4 * 11_113_984
    assert th.macs["pool"] == 2048 * 7 * 7 + 2048
    assert th.macs["other"] == 0  # every op thop counts is attributed to a module category
    assert ("ResidualBlock (no thop rule)", 16) in {(o.name, o.calls) for o in th.uncounted}


@pytest.mark.parametrize("name", ["seresnet50", "resnest50", "res2net50_26w_4s"])
def test_thop_categories_inside_composites(name: str) -> None:
    """A composite's sub-layers (SE's fc1/fc2, ResNeSt's bn0/bn1, Res2Net's bns and pool) land
    in the category of their graph op, as the prediction has it."""
    pytest.importorskip("thop")
    th = reconcile(_small(name, 64), counters=("thop",))["thop"]
    assert th.ok and th.mismatches == (), (th.native, th.predicted_native)
    assert th.native["other"] == 0 and th.native["norm"] > 0


def test_module_categories_come_from_the_graph() -> None:
    graph = expand(_small("resnest50", 32))
    cats = runners.module_categories(graph)
    assert cats["layer1.0.bn1"] == "norm" and cats["fc"] == "linear"
    assert cats["layer1.0.conv2.bn0"] == "norm"  # split attention is a subgraph: its BN a leaf
    assert cats["layer1.0.conv2.fc1"] == "conv" and cats["layer1.0.conv2.act1"] == "act"
    assert "layer1" not in cats and "layer1.0.conv2" not in cats  # containers


def _pool_graph() -> Graph:
    """Avg pools with padding, ceil_mode and count_include_pad=False (ResNet-D's avg_down)."""
    pools = (
        OpNode("p0", ops.AvgPool(3, 2, 1, ceil_mode=True, count_include_pad=False)),
        OpNode("p1", ops.AvgPool(2, 2, 0, ceil_mode=True, count_include_pad=True)),
        OpNode("p2", ops.MaxPool(3, 2, 1)),
    )
    return Graph("pools", (4, 11, 11), (Section("pools", (Seq("body", pools),)),))


@pytest.mark.parametrize("counter", ["fvcore", "thop", "flopcounter"])
def test_pool_rules_match_the_counters(counter: str) -> None:
    if counter == "thop":
        pytest.importorskip("thop")
    r = reconcile(_pool_graph(), counters=(counter,), batch=2)[counter]
    assert r.ok, r.message
    assert r.mismatches == (), (r.native, r.predicted_native)


def test_batch_scales_every_counter() -> None:
    one, two = reconcile("resnet20"), reconcile("resnet20", batch=2)
    assert two.input_shape == (2, 3, 32, 32)
    for a, b in zip(_ran(one), _ran(two), strict=True):
        assert b.mismatches == ()
        assert b.native == {c: 2 * v for c, v in a.native.items()}, a.counter


def test_identity_pad_shortcut_is_listed_not_dropped() -> None:
    rec = reconcile("resnet20", counters=("flopcounter", "fvcore"))
    assert "aten.constant_pad_nd" in {o.name for o in rec["flopcounter"].uncounted}
    assert ("aten::pad", 2) in {(o.name, o.calls) for o in rec["fvcore"].uncounted}


def _snapshot(model: nn.Module) -> dict[str, Any]:
    return {
        "state": {k: v.clone() for k, v in model.state_dict().items()},
        "buffers": [n for n, _ in model.named_buffers()],
        "hooks": [
            (
                n,
                len(m._forward_hooks),
                len(m._forward_pre_hooks),
                len(m._backward_hooks),
                len(m._backward_pre_hooks),
                sorted(m.__dict__),
            )
            for n, m in model.named_modules()
        ],
        "training": [m.training for m in model.modules()],
    }


def test_counters_never_mutate_the_callers_model() -> None:
    spec = _small("resnet18", 64)
    model = build(spec, device="cpu")
    model.train()  # BN in training mode would update running stats if a counter ran it
    model.layer1[0].bn1.eval()  # mixed flags must come back exactly
    handle = model.fc.register_forward_hook(lambda m, i, o: None)
    before = _snapshot(model)
    rec = reconcile(spec, model=model)
    assert {"analytic", *THIRD_PARTY} <= {r.counter for r in _ran(rec)}
    after = _snapshot(model)
    assert after["state"].keys() == before["state"].keys()
    for key, tensor in before["state"].items():
        assert torch.equal(after["state"][key], tensor), key
    assert {k: after[k] for k in ("buffers", "hooks", "training")} == {
        k: before[k] for k in ("buffers", "hooks", "training")
    }
    handle.remove()


def test_importing_counters_loads_neither_thop_nor_fvcore() -> None:
    code = (
        "import sys, archprobe.analysis.counters.reconcile, archprobe.report.terminal.counters\n"
        "assert 'thop' not in sys.modules, 'thop imported'\n"
        "assert 'fvcore' not in sys.modules, 'fvcore imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_conventions_are_torch_free() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\nimport archprobe.analysis.counters.conventions\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_package_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    real = counters_mod.importlib.util.find_spec
    monkeypatch.setattr(
        counters_mod.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "thop" else real(name, *a),
    )
    r = reconcile("resnet20", counters=("thop",))["thop"]
    assert r.status == "not installed"
    assert "pip install archprobe[thop]" in r.message


def test_failing_counter_is_reported_with_its_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(model: nn.Module, x: torch.Tensor, graph: Graph) -> Any:
        raise RuntimeError("trace exploded")

    monkeypatch.setitem(runners.TORCH_COUNTERS, "fvcore", boom)
    rec = reconcile("resnet20", counters=("analytic", "fvcore"))
    assert rec["analytic"].ok
    assert rec["fvcore"].status == "error"
    assert rec["fvcore"].message == "RuntimeError: trace exploded"


def test_unknown_counter_is_a_user_error() -> None:
    with pytest.raises(ArchprobeError, match="unknown counter 'ptflops'"):
        reconcile("resnet20", counters=("ptflops",))


def test_op_names_map_to_categories() -> None:
    assert op_category("aten.relu_") == "act"
    assert op_category("aten::add") == "add"
    assert op_category("aten._convolution") == "conv"
    assert op_category("batch_norm") == "norm"
    assert op_category("aten.view") == "other"


def test_results_entries(r50: Reconciliation) -> None:
    res = r50.to_results()
    fv = [e for e in res.entries if e.env["counter"] == "fvcore"]
    assert {e.op for e in fv} == set(CATEGORIES)
    assert sum(e.values["macs"] for e in fv) == 4_111_512_576
    assert {e.method for e in fv} == {"traced"}
    assert fv[0].env["convention"] == "MAC" and fv[0].env["batch"] == 1
    flop = [e for e in res.entries if e.env["counter"] == "flopcounter"]
    assert flop[0].env["convention"] == "2×FLOP"
    assert sum(e.values["macs"] for e in flop) == 4_089_184_256


def test_table_renders_totals_and_reasons(r50: Reconciliation) -> None:
    console = Console(record=True, width=200)
    console.print(reconciliation_table(r50))
    text = console.export_text()
    for needle in (
        "4,089,184,256",
        "4,111,512,576",
        "8,178,368,512 FLOP",
        "batchnorm_flop_jit",
        "aten::add ×16",
        "✓ every category",
    ):
        assert needle in text, needle


def test_fvcore_on_a_meta_model_says_why() -> None:
    spec = _small("resnet18", 32)
    r = reconcile(spec, counters=("fvcore",), model=build(spec, device="meta"))["fvcore"]
    assert r.status == "error"
    assert "needs a CPU or CUDA model" in r.message

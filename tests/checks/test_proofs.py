"""Numeric proofs: ResNeXt Fig. 3 forms, Fig. 4 depth-2, BN folding, shortcuts, plain twins.

Ground truth is closed-form (Eq. 4, ResNeXt Table 2) and the built module (``sum(numel)``,
FlopCounterMode = 2×MACs); equivalence bounds are checked in float64. Timings are never
asserted.
"""

from __future__ import annotations

import pytest
import torch

from archprobe.analysis.counters.runtime import flop_counts
from archprobe.blocks.basic import Basic, BasicParams
from archprobe.blocks.bottleneck import Bottleneck, BottleneckParams
from archprobe.builder.network import build_node
from archprobe.proofs.depth2 import prove_depth2
from archprobe.proofs.equivalences import prove_bn_fold, prove_shortcuts
from archprobe.proofs.forms import prove_forms
from archprobe.proofs.graphs import analytic_form, bottleneck_forms, depth2_forms
from archprobe.proofs.results import Proof
from archprobe.proofs.timing import TimingPlan, time_forms
from archprobe.proofs.twins import prove_twins

# (C, d, channels): the paper's 32×4d at 256 channels, Table 2's 2×40d, a non-power-of-two
# pair, and C=1 (plain ResNet bottleneck).
FORM_CASES = [(32, 4, 256), (2, 40, 256), (3, 5, 24), (1, 8, 16)]
DEPTH2_CASES = [(32, 4, 64), (3, 5, 12), (4, 6, 8)]


def _agreement(proof: Proof, other: str, dtype: str = "float64") -> float:
    return next(a.max_abs for a in proof.agreements if a.other == other and a.dtype == dtype)


@pytest.mark.parametrize(("c", "d", "n"), FORM_CASES)
def test_fig3_forms_agree_with_equal_costs(c: int, d: int, n: int) -> None:
    proof = prove_forms(c, d, n, size=8, timing=None)
    assert proof.ok, proof
    for other in ("b", "c"):
        assert _agreement(proof, other) <= 1e-5
        assert _agreement(proof, other, "float64, train-mode BN") <= 1e-5
        assert _agreement(proof, other, "float32") < 1e-2  # reported, loosely sane
    assert len({f.params for f in proof.forms}) == 1
    assert len({f.macs for f in proof.forms}) == 1
    assert all(f.weights == c * (n * d + 9 * d * d + d * n) for f in proof.forms)  # Eq. 4


@pytest.mark.parametrize(
    ("c", "d", "eq4"),
    [(1, 64, 69_632), (2, 40, 69_760), (4, 24, 69_888), (8, 14, 71_456), (32, 4, 70_144)],
)
def test_eq4_params_and_conv2_macs_of_table2(c: int, d: int, eq4: int) -> None:
    """ResNeXt Table 2 (facts.md §1.2): ~70k params, MACs = params × 56 × 56."""
    for key, node in bottleneck_forms(c, d).items():
        form = analytic_form(key, key, node, (256, 56, 56))
        assert form.weights == eq4 and form.macs == eq4 * 56 * 56


@pytest.mark.parametrize(("c", "d", "n"), [(32, 4, 256), (3, 5, 24)])
def test_analytic_costs_match_built_modules(c: int, d: int, n: int) -> None:
    shape = (n, 7, 7)
    for nodes in (bottleneck_forms(c, d, n), depth2_forms(c, d, n)):
        for key, node in nodes.items():
            form = analytic_form(key, key, node, shape)
            with torch.device("meta"):
                module = build_node(node)
            assert sum(p.numel() for p in module.parameters()) == form.params
            assert flop_counts(module, (1, *shape), device="meta")[""] == 2 * form.macs


def test_fig3c_is_archprobes_bottleneck_and_fig4_forms_are_basic_blocks() -> None:
    """The proof's graphs are the catalog's blocks, not look-alikes (one description)."""
    x50 = BottleneckParams(type="bottleneck", groups=32, width_per_group=4)
    assert bottleneck_forms(32, 4)["c"] == Bottleneck.expand(x50, 256, 256, 1, "block")
    forms = depth2_forms(32, 4, 64)
    grouped = BasicParams(type="basic", groups=32, width_per_group=4)
    dense = BasicParams(type="basic", groups=1, width_per_group=128)
    assert forms["y"] == Basic.expand(grouped, 64, 64, 1, "block")
    assert forms["b"] == Basic.expand(dense, 64, 64, 1, "block")


@pytest.mark.parametrize(("c", "d", "n"), DEPTH2_CASES)
def test_fig4_depth2_is_trivially_wide_and_grouped_second_layer_is_not(
    c: int, d: int, n: int
) -> None:
    proof = prove_depth2(c, d, n, size=8)
    assert proof.ok, proof
    assert _agreement(proof, "b") <= 1e-5
    assert _agreement(proof, "x") > 1e-2  # the counterexample
    assert _agreement(proof, "y") > 1e-2
    a, b, x = proof.form("a"), proof.form("b"), proof.form("x")
    assert (a.params, a.macs) == (b.params, b.macs)
    assert x.weights < a.weights and x.macs < a.macs
    assert "diagonal" in " ".join(proof.notes)


def test_depth2_without_divisible_channels_leaves_the_lookalikes_out() -> None:
    proof = prove_depth2(3, 4, 16, size=6)
    assert proof.ok and [f.key for f in proof.forms] == ["a", "b"]
    assert any("does not divide" in n for n in proof.notes)


@pytest.mark.parametrize("channels", [8, 64])
def test_bn_folds_into_the_conv(channels: int) -> None:
    proof = prove_bn_fold(channels, size=9)
    assert proof.ok and _agreement(proof, "fold") <= 1e-5
    bn, fold = proof.forms
    assert bn.macs == fold.macs and fold.params == bn.params - channels


@pytest.mark.parametrize(("cin", "cout", "size"), [(64, 128, 56), (16, 32, 7), (3, 5, 5)])
def test_option_a_is_option_b_with_a_fixed_projection(cin: int, cout: int, size: int) -> None:
    proof = prove_shortcuts(cin, cout, 2, size)
    assert proof.ok and _agreement(proof, "B", "float64, B = [I; 0]") <= 1e-12
    a, b = proof.forms
    assert a.params == a.macs == 0
    assert b.params == cin * cout + 2 * cout


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet20", "resnet50"])
def test_plain_and_residual_twins_differ_only_by_projections(name: str) -> None:
    proof = prove_twins(name)
    assert proof.ok, [c for c in proof.claims if not c.holds]
    plain, a, b = proof.forms
    assert a.params == plain.params and b.params > plain.params


def test_plain34_is_the_catalog_plain_net() -> None:
    from archprobe.analysis.analytic import analyze

    assert prove_twins("resnet34").forms[0].params == analyze("plain34").total("params")
    assert prove_twins("resnet34").forms[2].params == 21_797_672  # facts.md §2.1


def test_timing_smoke() -> None:
    """Structure only: one median/IQR per form and device; values are never asserted."""
    modules = {k: build_node(n) for k, n in bottleneck_forms(2, 2, 8).items()}
    timings = time_forms(modules, (8, 4, 4), TimingPlan(1, ("cpu",), 0.01))
    assert [t.form for t in timings] == ["a", "b", "c"]
    assert all(t.device == "cpu" and t.median_s > 0 and t.measurements >= 1 for t in timings)


def test_forms_proof_reports_timings_in_its_conclusion() -> None:
    proof = prove_forms(2, 2, 8, size=4, timing=TimingPlan(2, ("cpu",), 0.01))
    assert proof.ok and {t.form for t in proof.timings} == {"a", "b", "c"}
    assert "on cpu (c) is" in proof.conclusion

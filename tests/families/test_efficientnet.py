"""EfficientNet-B0…B7 and EfficientNetV2-S/M/L against torchvision.

Ground truth: the torchvision oracle files (tests/data/oracles/efficientnet_b{0,1}.json: exact
params, MACs, MACs per module path, state_dict keys and shapes), facts.md §11 (num_params and
_ops for every variant), and torchvision's MBConv / FusedMBConv forward
(torchvision/models/efficientnet.py), re-implemented below in plain torch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from archprobe.analysis.memory.measure import saved_tensor_bytes
from archprobe.analysis.memory.model import predict_training
from archprobe.blocks import get_block
from archprobe.blocks.base import BlockParams
from archprobe.builder.network import build
from archprobe.graph.nodes import Graph, Section
from archprobe.spec import load_spec
from archprobe.spec.expand import expand

# facts.md §11: the native resolution of each variant (the weights' eval crop).
RESOLUTION = {"efficientnet_b0": 224, "efficientnet_b1": 240, "efficientnet_b2": 288,
              "efficientnet_b3": 300, "efficientnet_b4": 380, "efficientnet_b5": 456,
              "efficientnet_b6": 528, "efficientnet_b7": 600, "efficientnet_v2_s": 384,
              "efficientnet_v2_m": 480, "efficientnet_v2_l": 480}  # fmt: skip


def test_norm_and_dropout_follow_torchvision() -> None:
    """B0–B4 keep BatchNorm2d's defaults, B5–B7 use (1e-3, 0.01), V2 eps 1e-3; dropout per
    variant (torchvision efficientnet_bN / efficientnet_v2_*)."""
    expected = {
        "efficientnet_b0": (1e-5, 0.1, 0.2),
        "efficientnet_b4": (1e-5, 0.1, 0.4),
        "efficientnet_b5": (1e-3, 0.01, 0.4),
        "efficientnet_b7": (1e-3, 0.01, 0.5),
        "efficientnet_v2_s": (1e-3, 0.1, 0.2),
        "efficientnet_v2_l": (1e-3, 0.1, 0.4),
    }
    for name, (eps, momentum, dropout) in expected.items():
        model = build(load_spec(name), "meta")
        bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        assert {(m.eps, m.momentum) for m in bns} == {(eps, momentum)}, name
        drops = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
        assert [m.p for m in drops] == [dropout], name


# --- block numerics: torchvision's forward in eval mode, in plain torch -------------------------


def _cna(sd: dict[str, torch.Tensor], pre: str, x: torch.Tensor, stride: int, groups: int,
         act: bool, eps: float) -> torch.Tensor:  # fmt: skip
    """Conv2dNormActivation: conv (padding (k−1)/2, no bias), BN (eval), SiLU."""
    w = sd[f"{pre}.0.weight"]
    y = F.conv2d(x, w, None, stride, (w.shape[-1] - 1) // 2, 1, groups)
    y = F.batch_norm(y, sd[f"{pre}.1.running_mean"], sd[f"{pre}.1.running_var"],
                     sd[f"{pre}.1.weight"], sd[f"{pre}.1.bias"], False, 0.0, eps)  # fmt: skip
    return F.silu(y) if act else y


def torchvision_mbconv(sd: dict[str, torch.Tensor], x: torch.Tensor, stride: int,
                       expand: bool, eps: float) -> torch.Tensor:  # fmt: skip
    """MBConv.forward: [expand], depthwise, SqueezeExcitation (avgpool, fc1, SiLU, fc2,
    sigmoid, scale), project; + input when stride 1 and cin == cout (StochasticDepth: eval)."""
    i, h = 0, x
    if expand:
        h, i = _cna(sd, "block.0", h, 1, 1, True, eps), 1
    h = _cna(sd, f"block.{i}", h, stride, h.shape[1], True, eps)
    s = h.mean((2, 3), keepdim=True)
    s = F.silu(F.conv2d(s, sd[f"block.{i + 1}.fc1.weight"], sd[f"block.{i + 1}.fc1.bias"]))
    s = torch.sigmoid(F.conv2d(s, sd[f"block.{i + 1}.fc2.weight"], sd[f"block.{i + 1}.fc2.bias"]))
    y = _cna(sd, f"block.{i + 2}", h * s, 1, 1, False, eps)
    return y + x if y.shape == x.shape else y


def torchvision_fused(sd: dict[str, torch.Tensor], x: torch.Tensor, stride: int,
                      expand: bool, eps: float) -> torch.Tensor:  # fmt: skip
    """FusedMBConv.forward: k×k expand (stride) + 1×1 project, or one k×k CNA at t = 1."""
    if expand:
        y = _cna(sd, "block.1", _cna(sd, "block.0", x, stride, 1, True, eps), 1, 1, False, eps)
    else:
        y = _cna(sd, "block.0", x, stride, 1, True, eps)
    return y + x if y.shape == x.shape else y


def _block_module(p: BlockParams, cin: int, cout: int, stride: int) -> torch.nn.Module:
    node = get_block(p.type).expand(p, cin, cout, stride, "b")
    model = build(Graph("one", (cin, 9, 9), (Section("all", (node,)),)), "cpu")
    torch.manual_seed(0)
    with torch.no_grad():  # random statistics, so eps and every affine term matter
        for name, t in model.state_dict().items():
            if t.is_floating_point():
                t.copy_(torch.rand_like(t) * 0.01 if "running_var" in name else torch.randn_like(t))
    return model.eval().get_submodule("b")


MB_CASES = [(6.0, 16, 16, 1, 3), (6.0, 16, 24, 2, 5), (1.0, 32, 16, 1, 3), (4.0, 24, 24, 1, 3)]


@pytest.mark.parametrize(("t", "cin", "cout", "stride", "k"), MB_CASES)
@pytest.mark.parametrize("kind", ["mbconv", "fused_mbconv"])
def test_block_matches_torchvision_forward(
    kind: str, t: float, cin: int, cout: int, stride: int, k: int
) -> None:
    spec = load_spec("efficientnet_v2_s")  # eps 1e-3: a wrong eps would show at var ≈ 0.005
    p = spec.stages[-1].block if kind == "mbconv" else spec.stages[1].block
    p = p.model_copy(update={"expand": t, "kernel": k, "stochastic_depth": 0.2})
    block = _block_module(p, cin, cout, stride)
    sd = block.state_dict()
    x = torch.randn(2, cin, 9, 9)
    ref = torchvision_mbconv if kind == "mbconv" else torchvision_fused
    with torch.no_grad():
        expected = ref(sd, x, stride, t != 1.0, 1e-3)
        torch.testing.assert_close(block(x), expected, rtol=1e-4, atol=1e-4)


# --- layout and memory --------------------------------------------------------------------------


def test_residual_blocks_carry_stochastic_depth() -> None:
    model = build(load_spec("efficientnet_b0"), "meta")
    names = {n for n, _ in model.named_modules()}
    assert "features.2.1.stochastic_depth" in names  # 24 → 24, stride 1: residual
    assert "features.2.0.stochastic_depth" not in names  # 16 → 24, stride 2: none
    assert "features.8.2" in names and "classifier.0" in names and "avgpool" in names


def test_b0_training_saved_bytes_equal_autograd_at_224() -> None:
    """Every tensor autograd keeps for backward (CPU: dropout keeps a float noise tensor),
    EfficientNet-B0 at its native 224² and batch 8; the allocator peak is checked in
    benchmarks/bench_efficientnet_memory.py (a training step takes ~30 s on 2 cores)."""
    spec = load_spec("efficientnet_b0")
    measured = saved_tensor_bytes(build(spec, "cpu"), (8, 3, 224, 224))
    assert predict_training(expand(spec), 8, "sgd", backend="cpu").saved_bytes == measured


# --- compound scaling and the grid sweep --------------------------------------------------------


def test_scaling_rewrites_the_stage_table() -> None:
    """torchvision B4 (width 1.4, depth 1.8): widths make_divisible(c·1.4, 8), depths
    ceil(n·1.8), stem 48, head 4 × 448 (efficientnet.py MBConvConfig, EfficientNet.__init__)."""
    spec = load_spec("efficientnet_b4")
    assert [(s.depth, s.width) for s in spec.stages] == [
        (2, 24), (4, 32), (4, 56), (6, 112), (6, 160), (8, 272), (2, 448)
    ]  # fmt: skip
    assert spec.stem.width == 48  # type: ignore[attr-defined]
    assert spec.head.conv.width == 1792  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("scaling", "message"),
    [
        ("{width: 0.0, depth: 1.0}", "greater than 0"),
        ("{width: 1.0, depth: 1.0, widht: 2.0}", "widht"),
        ("{width: 1.0, depth: 1.0, head: 0}", "greater than or equal to 1"),
    ],
)
def test_bad_scaling_is_a_located_error(tmp_path: Path, scaling: str, message: str) -> None:
    from archprobe.errors import SpecError

    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: efficientnet_b0\nname: bad\nscaling: {scaling}\n", encoding="utf-8")
    with pytest.raises(SpecError, match=message) as err:
        load_spec(path)
    assert "bad.yaml:3:" in str(err.value)


def test_scaling_needs_integer_stage_widths() -> None:
    from archprobe.spec.generators.scaling import Scaling, ScalingParams

    p = ScalingParams(width=1.1, depth=1.0)
    with pytest.raises(ValueError, match="stage 0 needs an integer `width`"):
        Scaling.apply(p, {"stem": {"width": 32}, "stages": [{"depth": 1}]})
    with pytest.raises(ValueError, match="`stem:` mapping"):
        Scaling.apply(p, {"stages": [{"depth": 1, "width": 16}]})


def test_grid_sweep_stores_every_point(tmp_path: Path) -> None:
    """specs/sweeps/efficientnet_grid.yaml through the CLI: 4 × 4 × 3 grid points stored, and
    the points that are torchvision variants have their params (facts.md §11): depth 1.2 rounds
    like B1's 1.1 (same ceil per stage), so (1.0, 1.2) is B1; (1.4, 1.8) is B4."""
    import csv

    from typer.testing import CliRunner

    from archprobe.cli.app import app

    runner = CliRunner()
    db, out = tmp_path / "g.db", tmp_path / "g.csv"
    sweep = Path(__file__).parents[2] / "specs" / "sweeps" / "efficientnet_grid.yaml"
    result = runner.invoke(app, ["sweep", "run", str(sweep), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "48 configs (0 already stored, 48 new)" in result.stderr
    assert runner.invoke(app, ["sweep", "results", str(db), "--csv", str(out)]).exit_code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    points = {(r["scaling.width"], r["scaling.depth"], r["input.size"]) for r in rows}
    assert len(rows) == len(points) == 48
    params = {(r["scaling.width"], r["scaling.depth"]): int(r["params"]) for r in rows}
    assert params[("1.0", "1.0")] == 5_288_548
    assert params[("1.0", "1.2")] == 7_794_184
    assert params[("1.4", "1.8")] == 19_341_616
    macs = {(r["scaling.width"], r["scaling.depth"], r["input.size"]): r["macs"] for r in rows}
    assert macs[("1.0", "1.0", "224")] == "385814752"  # facts.md §11 exact MACs of B0


def test_cardinality_solver_refuses_mbconv() -> None:
    from archprobe.errors import SpecError
    from archprobe.sweep.solve import solve_width

    with pytest.raises(SpecError, match="'mbconv' has no width_per_group"):
        solve_width(load_spec("efficientnet_b0"), 2, "net-macs")

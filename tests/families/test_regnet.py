"""RegNetX/Y (Radosavovic et al. 2020) against torchvision's published numbers and oracles.

Sources, never this code: the oracle files in tests/data/oracles/ (torchvision 0.28 built with
weights=None: params, MACs, MACs per module, state_dict keys and shapes), facts.md §11
(torchvision num_params and _ops for every variant), mmpretrain's RegNet docstring and configs
(stage widths), pycls' ``generate_regnet`` (the width rule, re-implemented below for one row),
and torchvision's ``ResBottleneckBlock`` source, re-implemented below in plain torch for the
block-level numerics.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

import archprobe
from archprobe.blocks.regnet import RegNetBottleneck, RegNetBottleneckParams
from archprobe.builder.network import build, build_node
from archprobe.cli.app import app
from archprobe.errors import SpecError
from archprobe.spec import load_spec
from archprobe.spec.generators.regnet import RegNetParams, regnet_stages, stage_table
from archprobe.spec.jsonschema import file_schema
from archprobe.sweep.run import run_sweep
from archprobe.sweep.solve import solve_width
from archprobe.sweep.spec import load_sweep
from archprobe.sweep.store import Store

ROOT = Path(__file__).resolve().parents[2]
ORACLES = ROOT / "tests" / "data" / "oracles"
ORACLE_NAMES = ["regnet_x_400mf", "regnet_x_1_6gf", "regnet_y_400mf"]


def oracle(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ORACLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _oracle_stages(name: str) -> list[tuple[int, int, int]]:
    """(depth, width, group width) per stage, read off torchvision's state_dict shapes: width =
    f.c's output channels, group width = f.b's input channels per group."""
    shapes = oracle(name)["state_dict"]
    stages: dict[int, list[tuple[int, int]]] = {}
    for key, shape in shapes.items():
        m = re.fullmatch(r"trunk_output\.block(\d+)\.block\d+-(\d+)\.f\.b\.0\.weight", key)
        if m:
            c = shapes[key.replace(".f.b.0.", ".f.c.0.")]
            stages.setdefault(int(m.group(1)), []).append((c[0], shape[1]))
    return [(len(v), v[0][0], v[0][1]) for _, v in sorted(stages.items())]


def _generated(name: str) -> list[tuple[int, int, int]]:
    s = load_spec(name)
    return [(st.depth, st.width, getattr(st.block, "group_width", 0)) for st in s.stages]


@pytest.mark.parametrize("name", ORACLE_NAMES)
def test_stage_table_matches_torchvision_state_dict(name: str) -> None:
    assert _generated(name) == _oracle_stages(name)
    assert all(st.stride == 2 for st in load_spec(name).stages)


def _pycls_stages(d: int, w0: int, wa: float, wm: float) -> list[tuple[int, int]]:
    """(width, depth) per stage, as pycls' ``generate_regnet`` computes them for one parameter
    set (its code re-implemented here: float64 numpy, one row), then runs of equal width."""
    ws_cont = np.arange(d) * wa + w0
    ks = np.round(np.log(ws_cont / w0) / np.log(wm))
    ws = np.round(np.divide(w0 * np.power(wm, ks), 8)) * 8
    runs: list[tuple[int, int]] = []
    for w in ws.astype(int).tolist():
        if runs and runs[-1][0] == w:
            runs[-1] = (w, runs[-1][1] + 1)
        else:
            runs.append((w, 1))
    return runs


def test_stage_table_equals_pycls_row_by_row() -> None:
    """The batched stage table (one array pass for many parameter sets, exponents through a
    table of powers) equals pycls' per-row computation on 3,000 random parameter sets."""
    rng = np.random.default_rng(7)
    n = 3000
    d = rng.integers(1, 64, n)
    w0 = rng.integers(1, 32, n) * 8
    wa = np.round(np.exp(rng.uniform(np.log(0.5), np.log(256), n)), 1)
    wm = np.round(rng.uniform(1.05, 4.0, n), 3)
    # wm >= 1.5 keeps every exponent small (the table of powers); all rows reach past 64
    # (wm 1.05: exponents past 100), where the batch takes np.power on every block
    for rows in (np.flatnonzero(wm >= 1.5), np.arange(n)):
        t = stage_table(d[rows], w0[rows], wa[rows], wm[rows])
        assert (t.refused < 0).all()
        for j, i in enumerate(rows.tolist()):
            at = slice(int(t.first[j]), int(t.first[j] + t.count[j]))
            got = list(zip(t.width[at].tolist(), t.depth[at].tolist(), strict=True))
            assert got == _pycls_stages(int(d[i]), int(w0[i]), float(wa[i]), float(wm[i])), i


def test_stage_widths_match_mmpretrain() -> None:
    """mmpretrain's RegNet docstring prints RegNetX-3.2GF's stage outputs (96, 192, 432, 1008)
    for w0=88, wa=26.31, wm=2.25, g=48, d=25; its configs give the last width (head
    in_channels) of RegNetX-800MF (672) and -8.0GF (1920), same parameters as torchvision's."""
    widths = [w for _, w, _ in _generated("regnet_x_3_2gf")]
    assert widths == [96, 192, 432, 1008]
    assert _generated("regnet_x_800mf")[-1][1] == 672
    assert _generated("regnet_x_8gf")[-1][1] == 1920
    direct = regnet_stages(RegNetParams(depth=25, w0=88, wa=26.31, wm=2.25, group_width=48))
    assert [s.width for s in direct] == widths


def _cna(sd: dict[str, torch.Tensor], p: str, x: torch.Tensor, stride: int = 1,
         groups: int = 1, act: bool = True) -> torch.Tensor:  # fmt: skip
    """torchvision Conv2dNormActivation: conv (padding k//2, no bias), BatchNorm2d, ReLU."""
    w = sd[f"{p}.0.weight"]
    x = F.conv2d(x, w, stride=stride, padding=w.shape[-1] // 2, groups=groups)
    x = F.batch_norm(
        x, sd[f"{p}.1.running_mean"], sd[f"{p}.1.running_var"], sd[f"{p}.1.weight"],
        sd[f"{p}.1.bias"], training=False, eps=1e-5,
    )  # fmt: skip
    return F.relu(x) if act else x


def _reference(sd: dict[str, torch.Tensor], x: torch.Tensor, stride: int, g: int) -> torch.Tensor:
    """torchvision ``ResBottleneckBlock.forward``: proj(x) + f(x), then ReLU; f = a, b, se, c
    with SqueezeExcitation = x * sigmoid(fc2(relu(fc1(avgpool(x)))))."""
    f = _cna(sd, "f.a", x)
    f = _cna(sd, "f.b", f, stride, groups=f.shape[1] // g)
    s = F.adaptive_avg_pool2d(f, 1)
    s = F.relu(F.conv2d(s, sd["f.se.fc1.weight"], sd["f.se.fc1.bias"]))
    f = f * torch.sigmoid(F.conv2d(s, sd["f.se.fc2.weight"], sd["f.se.fc2.bias"]))
    f = _cna(sd, "f.c", f, act=False)
    return F.relu(_cna(sd, "proj", x, stride, act=False) + f)


def test_y_block_stride2_forward_equals_torchvision() -> None:
    """RegNetY-400MF's block2-0 (48 -> 104, stride 2, g = 8, SE squeeze round(0.25 · 48) = 12)."""
    p = RegNetBottleneckParams(type="regnet_bottleneck", group_width=8, se_ratio=0.25)
    block = build_node(RegNetBottleneck.expand(p, 48, 104, 2, "b")).eval()
    torch.manual_seed(0)
    with torch.no_grad():
        for name, t in block.state_dict().items():
            if t.is_floating_point():
                t.copy_(torch.rand_like(t) + 0.5 if "running_var" in name else torch.randn_like(t))
    sd = block.state_dict()
    assert sd["f.se.fc1.weight"].shape == (12, 104, 1, 1)
    x = torch.randn(2, 48, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(block(x), _reference(sd, x, 2, 8), rtol=1e-5, atol=1e-5)


def _spec_file(tmp_path: Path, regnet: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(f"extends: regnet_x_400mf\nname: r\nregnet: {regnet}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("regnet", "needle"),
    [
        ("{depth: 22, w0: 24, wa: -1.0, wm: 2.5, group_width: 16}", "wa must be >= 0"),
        ("{depth: 22, w0: 24, wa: 24.0, wm: 1.0, group_width: 16}", "wm must be > 1"),
        ("{depth: 22, w0: 20, wa: 24.0, wm: 2.5, group_width: 16}", "multiple of 8, got 20"),
        ("{depth: 22, w0: 24, wa: 24.48, wm: 2.54, group_width: 16, num_stages: 3}", "4 stages"),
    ],
)
def test_generator_refusals_are_located(tmp_path: Path, regnet: str, needle: str) -> None:
    path = _spec_file(tmp_path, regnet)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    text = err.value.format()
    assert f"{path}:3:" in text and "regnet" in text and needle in text, text


def test_solver_refuses_regnet_blocks() -> None:
    """The width solver derives ResNeXt's width_per_group; a RegNet block has none."""
    with pytest.raises(SpecError, match="no width_per_group to solve for"):
        solve_width("regnet_x_400mf", 2, "net-macs")


def test_generator_refuses_a_stage_list_too(tmp_path: Path) -> None:
    path = _spec_file(tmp_path, "{depth: 4, w0: 24, wa: 8.0, wm: 2.0, group_width: 8}")
    path.write_text(path.read_text() + "stages: [{depth: 1, width: 32}]\n", encoding="utf-8")
    with pytest.raises(SpecError, match="remove the stages: key"):
        load_spec(path)


def test_show_resolved_prints_the_generated_stages() -> None:
    result = CliRunner().invoke(app, ["show", "--resolved", "regnet_x_400mf"])
    assert result.exit_code == 0, result.output
    depths = [int(d) for d in re.findall(r"- depth: (\d+)", result.stdout)]
    widths = [int(w) for w in re.findall(r"^  width: (\d+)", result.stdout, re.M)]
    assert list(zip(depths, widths, strict=True)) == [
        (d, w) for d, w, _ in _oracle_stages("regnet_x_400mf")
    ]
    assert "regnet:" not in result.stdout  # consumed: the resolved spec stands alone


def test_check_has_no_template_width_warning_for_generated_stages() -> None:
    result = CliRunner().invoke(app, ["check", "regnet_x_400mf", "regnet_y_400mf"])
    assert result.exit_code == 0, result.output
    assert "SH001" not in result.output


def test_regnetx_400mf_sweep_stores_constrained_configs(tmp_path: Path) -> None:
    sweep = dataclasses.replace(load_sweep(ROOT / "specs" / "sweeps" / "regnetx_400mf.yaml"), n=4)
    summary = run_sweep(sweep, tmp_path / "r.db")
    assert summary.done == 4
    store = Store(tmp_path / "r.db")
    try:
        rows = store.rows()
    finally:
        store.close()
    assert len(rows) == 4
    for row in rows:
        assert 3.8e8 <= row["macs"] <= 4.2e8
        assert row["config"]["regnet.num_stages"] == 4
        assert 12 <= row["config"]["regnet.depth"] <= 28


def test_json_schema_accepts_the_regnet_key() -> None:
    props = file_schema()["properties"]["regnet"]["properties"]
    assert {"depth", "w0", "wa", "wm", "group_width", "bottleneck_ratio", "se_ratio"} <= set(props)


def test_profile_of_the_built_module_matches_the_spec() -> None:
    assert archprobe.profile(build(load_spec("regnet_y_400mf"), "meta")).match == "regnet_y_400mf"

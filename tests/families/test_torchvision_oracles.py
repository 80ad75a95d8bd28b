"""Every family against torchvision's own numbers, never against this code.

Oracles (tests/data/oracles/*.json, copied from ../shared/oracles/torchvision/: torchvision 0.28
built with weights=None; MACs = FlopCounterMode FLOPs / 2): for each, analytic params, buffers
and MACs exactly, MACs per module path, and the built module's state_dict keys and shapes
(strict loading does not need torchvision's key order; RegNet registers `proj` before `f`).
Published (facts.md §11, torchvision weight metadata): params equal `num_params` and MACs round
to `_ops` (GMACs, 3 decimals) for every catalog model of the families, at its native resolution.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from archprobe.analysis.analytic import analyze_spec
from archprobe.analysis.results import in_scope
from archprobe.builder.network import build

ORACLES = sorted((Path(__file__).parents[1] / "data" / "oracles").glob("*.json"))

# facts.md §11: model -> (num_params, _ops in GMACs); input size as the spec's native one.
PUBLISHED = {
    "convnext_base": (88_591_464, 15.355), "convnext_large": (197_767_336, 34.361),
    "convnext_small": (50_223_688, 8.684), "convnext_tiny": (28_589_128, 4.456),
    "efficientnet_b0": (5_288_548, 0.386), "efficientnet_b1": (7_794_184, 0.687),
    "efficientnet_b2": (9_109_994, 1.088), "efficientnet_b3": (12_233_232, 1.827),
    "efficientnet_b4": (19_341_616, 4.394), "efficientnet_b5": (30_389_784, 10.266),
    "efficientnet_b6": (43_040_704, 19.068), "efficientnet_b7": (66_347_960, 37.746),
    "efficientnet_v2_l": (118_515_272, 56.08), "efficientnet_v2_m": (54_139_356, 24.582),
    "efficientnet_v2_s": (21_458_488, 8.366), "mnasnet0_5": (2_218_512, 0.104),
    "mnasnet0_75": (3_170_208, 0.215), "mnasnet1_0": (4_383_312, 0.314),
    "mnasnet1_3": (6_282_256, 0.526), "mobilenet_v2": (3_504_872, 0.301),
    "mobilenet_v3_large": (5_483_032, 0.217), "mobilenet_v3_small": (2_542_856, 0.057),
    "regnet_x_16gf": (54_278_536, 15.941), "regnet_x_1_6gf": (9_190_136, 1.603),
    "regnet_x_32gf": (107_811_560, 31.736), "regnet_x_3_2gf": (15_296_552, 3.177),
    "regnet_x_400mf": (5_495_976, 0.414), "regnet_x_800mf": (7_259_656, 0.8),
    "regnet_x_8gf": (39_572_648, 7.995), "regnet_y_128gf": (644_812_894, 374.57),
    "regnet_y_16gf": (83_590_140, 15.912), "regnet_y_1_6gf": (11_202_430, 1.612),
    "regnet_y_32gf": (145_046_770, 32.28), "regnet_y_3_2gf": (19_436_338, 3.176),
    "regnet_y_400mf": (4_344_144, 0.402), "regnet_y_800mf": (6_432_512, 0.834),
    "regnet_y_8gf": (39_381_472, 8.473), "shufflenet_v2_x0_5": (1_366_792, 0.04),
    "shufflenet_v2_x1_0": (2_278_604, 0.145), "shufflenet_v2_x1_5": (3_503_624, 0.296),
    "shufflenet_v2_x2_0": (7_393_996, 0.583), "vgg11": (132_863_336, 7.609),
    "vgg11_bn": (132_868_840, 7.609), "vgg13": (133_047_848, 11.308),
    "vgg13_bn": (133_053_736, 11.308), "vgg16": (138_357_544, 15.47),
    "vgg16_bn": (138_365_992, 15.47), "vgg19": (143_667_240, 19.632),
    "vgg19_bn": (143_678_248, 19.632),
}  # fmt: skip


def _oracle(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("path", ORACLES, ids=lambda p: p.stem)
def test_counts_equal_the_oracle(path: Path) -> None:
    want = _oracle(path)
    a = analyze_spec(want["model"])
    assert [a.spec.input.channels, a.spec.input.size, a.spec.input.size] == want["input"]
    assert a.results.total("params") == want["params"]
    assert a.results.total("buffers") == want["buffers"]
    assert a.results.total("macs") == want["macs"]


@pytest.mark.parametrize("path", ORACLES, ids=lambda p: p.stem)
def test_macs_per_module_path_equal_the_oracle(path: Path) -> None:
    want = _oracle(path)
    leaves = analyze_spec(want["model"]).graph.leaves
    got = {
        module: sum(leaf.cost.macs for leaf in leaves if in_scope(leaf.scope, module))
        for module in want["macs_by_module"]
    }
    assert got == want["macs_by_module"]


@pytest.mark.parametrize("path", ORACLES, ids=lambda p: p.stem)
def test_state_dict_keys_and_shapes_equal_the_oracle(path: Path) -> None:
    want = _oracle(path)
    model = build(analyze_spec(want["model"]).spec, device="meta")
    got = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert got == want["state_dict"]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_params_and_gmacs_equal_torchvision_metadata(name: str) -> None:
    params, gmacs = PUBLISHED[name]
    r = analyze_spec(name).results
    assert r.total("params") == params
    assert round(r.total("macs") / 1e9, 3) == gmacs

"""``profile`` on hand-written modules: hand-computed counts, no mutation, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from archprobe.analysis.counters.profile import profile
from archprobe.builder.user_model import load_module
from archprobe.cli.app import app
from archprobe.errors import ArchprobeError
from tests.modules_fixture import DataDependent, FunctionalCNN

GOLDEN = Path(__file__).parent / "data" / "profile_errors.txt"
runner = CliRunner()


def _snapshot(model: nn.Module) -> dict[str, object]:
    """Everything profile must leave alone: tensors, hooks and training flags of every module."""
    return {
        "state": {k: v.clone() for k, v in model.state_dict().items()},
        "hooks": [
            (len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks))
            for m in model.modules()
        ],
        "training": [m.training for m in model.modules()],
        "attrs": [sorted(vars(m)) for m in model.modules()],
        "grads": [p.grad for p in model.parameters()],
    }


def _same(a: dict[str, object], b: dict[str, object]) -> bool:
    sa, sb = a["state"], b["state"]
    assert isinstance(sa, dict) and isinstance(sb, dict)
    tensors = sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    return tensors and all(a[k] == b[k] for k in ("hooks", "training", "attrs", "grads"))


def test_functional_cnn_hand_counts() -> None:
    p = profile(FunctionalCNN(), input_shape=(1, 2, 4, 4), backward=True)
    assert p.device == "meta" and p.uncounted == () and p.match is None
    assert p.total("params") == 36 + 6
    assert p.by_op("macs") == {"conv": 2 * 2 * 9 * 16, "linear": 2 * 3}
    assert p.total("acts") == 32 + 3
    assert p.by_op("elem_ops") == {"act": 32, "add": 32, "pool": 32, "elementwise": 3}
    assert p.total("flops") == 2 * p.total("macs")
    assert p.total("macs", scope="head") == 6 and p.total("params", scope="head") == 6
    # Backward: conv grad w.r.t. input and weight, matmul grad w.r.t. both operands.
    assert p.total("flops_bwd") == 2 * p.total("flops")


def test_profile_never_mutates() -> None:
    model = FunctionalCNN().train()
    before = _snapshot(model)
    profile(model, input_shape=(1, 2, 4, 4))
    profile(model, torch.randn(1, 2, 4, 4), device="cpu")
    assert _same(before, _snapshot(model)) and model.training


def test_data_dependent_falls_back_to_cpu() -> None:
    model = DataDependent()
    before = _snapshot(model)
    p = profile(model, input_shape=(2, 4))
    assert p.device == "cpu" and p.total("macs") == 2 * 4 * 3 and p.total("params") == 15
    assert "meta tensors cannot run DataDependent" in p.notes[0]
    assert _same(before, _snapshot(model))


def test_resnet50_equivalent_matches_spec() -> None:
    import archprobe
    from archprobe.builder.network import build

    model = build(archprobe.load_spec("resnet50"), device="meta")
    p = archprobe.profile(model)
    assert p.match == "resnet50" and p.input_shape == (1, 3, 224, 224)
    assert p.total("params") == 25_557_032 and p.total("macs") == 4_089_184_256
    spec = archprobe.analyze_spec("resnet50").results
    assert p.by_scope("macs", depth=3) == {
        k: v for k, v in spec.by_scope("macs", depth=3).items() if v
    }
    assert p.total("acts") == spec.total("acts")


def _error(fn: object, *args: object) -> str:
    with pytest.raises(ArchprobeError) as info:
        fn(*args)  # type: ignore[operator]
    return str(info.value)


def _golden_cases() -> str:
    cases = {
        "missing module": _error(load_module, "tests.no_such_module:f"),
        "missing factory": _error(load_module, "tests.modules_fixture:nope"),
        "factory raises": _error(load_module, "tests.modules_fixture:raising", {"num_classes": 7}),
        "not a module": _error(load_module, "tests.modules_fixture:not_a_module"),
        "bad shape": _error(lambda: profile(FunctionalCNN(), input_shape=(1, 3, 4, 4))),
        "meta fallback": profile(DataDependent(), input_shape=(2, 4)).notes[0],
    }
    return "".join(f"## {k}\n{v}\n" for k, v in cases.items())


def test_error_messages_golden() -> None:
    text = _golden_cases()
    if not GOLDEN.exists():  # first run writes the golden; review it, then it is the reference
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_cli_analyze_module_resnet50() -> None:
    result = runner.invoke(app, ["analyze", "--module", "tests.modules_fixture:resnet50"])
    assert result.exit_code == 0, result.stderr
    flat = result.stdout.replace("\n", " ")
    assert "25,557,032" in flat and "4.089 GMACs" in flat and "matches spec: resnet50" in flat


def test_cli_analyze_module_errors() -> None:
    args = ["analyze", "--module", "tests.modules_fixture:functional_cnn", "--input", "1,3,4,4"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "rejected the input of shape (1, 3, 4, 4)" in result.stderr
    result = runner.invoke(app, ["analyze", "--module", "tests.modules_fixture:raising",
                                 "--kwargs", '{"num_classes": 10}'])  # fmt: skip
    assert result.exit_code == 1 and "num_classes=10" in result.stderr

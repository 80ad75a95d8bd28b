"""The dispatch recorder against torch's own FlopCounterMode and hand counts.

``flop_counts`` (the per-scope oracle of the analytic MACs in the block, catalog, build and proof
tests) is read from the recorder, so these tests hold the recorder equal to FlopCounterMode
itself, module by module: the oracle stays independent of archprobe's code.
"""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from archprobe.analysis.counters.conventions import op_category
from archprobe.analysis.counters.dispatch import (
    by_category,
    main_categories,
    module_flops,
    record,
    recording,
    total_flops,
    uncounted,
)
from archprobe.analysis.counters.runtime import flop_counts
from archprobe.builder.network import build
from archprobe.spec import load_spec
from tests.modules_fixture import FunctionalCNN

MODELS = ["resnet18", "resnext50_32x4d", "seresnet50", "resnest50", "res2net50_26w_4s"]
SIZE = 64


def _torch_counts(counter: FlopCounterMode, root: str) -> dict[str, int]:
    """FlopCounterMode's per-module totals, its module names made relative to the root."""
    out = {}
    for name, per_op in counter.get_flop_counts().items():
        if name != "Global":
            scope = "" if name == root else name.removeprefix(root + ".")
            out[scope] = sum(per_op.values())
    return out


def _by_category(counter: FlopCounterMode) -> dict[str, int]:
    out: Counter[str] = Counter()
    for op, n in counter.get_flop_counts()["Global"].items():
        out[op_category(str(op))] += n
    return dict(out)


def _model(name: str) -> nn.Module:
    return build(load_spec(name), device="meta").eval()


@pytest.mark.parametrize("name", MODELS)
def test_recorder_equals_flopcountermode_per_module(name: str) -> None:
    model = _model(name)
    x = torch.empty(1, 3, SIZE, SIZE, device="meta")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    rec = record(model, x)
    expected = _torch_counts(counter, type(model).__name__)
    assert len(expected) > 30  # every conv, fc, block and stage has its own count
    assert module_flops(rec) == expected
    assert flop_counts(model, (1, 3, SIZE, SIZE)) == expected
    assert total_flops(rec) == counter.get_total_flops()
    assert by_category(rec) == _by_category(counter)


def test_recorder_equals_flopcountermode_with_backward() -> None:
    """Backward ops are attributed to the modules whose backward runs, as FlopCounterMode does."""
    model = _model("resnet18")
    x = torch.empty(2, 3, SIZE, SIZE, device="meta", requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    x.grad = None
    model.zero_grad(set_to_none=True)
    with recording(model) as recorder:
        model(x).sum().backward()
    assert module_flops(recorder.sites) == _torch_counts(counter, type(model).__name__)
    assert total_flops(recorder.sites) == counter.get_total_flops()


def test_composite_ops_are_counted_through_their_decomposition() -> None:
    """Under inference_mode ``aten.linear`` reaches the dispatcher undecomposed; FlopCounterMode
    counts its ``addmm`` part, 2·batch·in·out = 2·2·4·3 FLOPs, and so does the recorder."""
    model = nn.Sequential(nn.Linear(4, 3))
    x = torch.randn(2, 4)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(x)
    with torch.inference_mode(), recording(model) as recorder:
        model(x)
    rec = recorder.sites
    assert module_flops(rec) == _torch_counts(counter, "Sequential") == {"": 48, "0": 48}
    assert [s.op for s in rec] == ["aten.linear"]  # recorded as the model dispatched it
    assert "aten.linear" not in uncounted(rec)


def test_uncounted_lists_every_op_without_a_formula() -> None:
    """FunctionalCNN (hand-written): conv2d and matmul have formulas; relu, add, mean and the
    final ``* 2`` run once each without one."""
    rec = record(FunctionalCNN(), torch.randn(1, 2, 4, 4))
    listed = uncounted(rec)
    for op in ("aten.relu", "aten.add", "aten.mean", "aten.mul"):
        assert listed[op] == 1, op
    assert "aten.convolution" not in listed and "aten.mm" not in listed
    formulas = {str(op) for op in flop_registry}
    assert not formulas & set(listed)
    assert total_flops(rec) == 2 * (2 * 2 * 9 * 16 + 2 * 3)  # the model's hand MACs, ×2


def test_main_categories_name_what_each_module_runs() -> None:
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten()).eval()
    cats = main_categories(record(model, torch.randn(1, 2, 5, 5)))
    # Flatten only reshapes (a view: free) and the Sequential runs nothing itself.
    assert cats == {"0": "conv", "1": "norm", "2": "act"}

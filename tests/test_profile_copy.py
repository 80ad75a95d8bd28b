"""The private copy profile counts on (weights made on meta, never cloned; shared weights stay
shared; the user's tensors untouched), the catalog index ``match_spec`` reads (built once per
process, rebuilt when the catalog changes) and the forward-only default."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch import nn

import archprobe
from archprobe.analysis.counters.private_copy import private_copy
from archprobe.analysis.counters.profile import profile
from archprobe.analysis.counters.spec_match import match_spec
from archprobe.builder.network import build
from archprobe.errors import ArchprobeError
from tests.modules_fixture import FunctionalCNN

SPECS = Path(__file__).resolve().parents[1] / "specs"


class Tied(nn.Module):
    """An embedding and an output layer sharing one weight (language-model style)."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.out = nn.Linear(4, 10, bias=False)
        self.out.weight = self.embed.weight
        self.norm = nn.BatchNorm1d(4)


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_copy_shares_nothing_with_the_model_and_keeps_ties(device: str) -> None:
    model = Tied().train()
    private = private_copy(model, device, torch.float16, "Tied")
    assert not private.training and model.training
    assert private.out.weight is private.embed.weight  # the tie survives the copy
    assert isinstance(private.out.weight, nn.Parameter) and private.out.weight.requires_grad
    for mine, theirs in zip(model.state_dict().values(), private.state_dict().values(),
                            strict=True):  # fmt: skip
        assert theirs.device.type == device and theirs.shape == mine.shape
        assert theirs.dtype == (torch.float16 if mine.is_floating_point() else mine.dtype)
        if device == "cpu":
            assert theirs.untyped_storage().data_ptr() != mine.untyped_storage().data_ptr()
    assert model.embed.weight.dtype == torch.float32 and model.embed.weight.device.type == "cpu"


class Custom:
    """An attribute with its own copy protocol: copied by it, once, as deepcopy would."""

    copies = 0

    def __deepcopy__(self, memo: dict[int, object]) -> Custom:
        Custom.copies += 1
        return Custom()


class Odd(nn.Module):
    """What a module's state may hold besides parameters: a shared child, children in a list
    and a tuple, a plain tensor, a set, a hook, a conv (its own ``__setstate__``)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)
        self.again = self.conv
        self.steps = [self.conv, nn.ReLU()]
        self.pair = (self.conv, 3)
        self.anchor = torch.arange(3.0)
        self.tags = {"a", "b"}
        self.custom = Custom()
        self.conv.register_forward_hook(lambda *args: None)


def test_tree_copy_keeps_what_deepcopy_keeps() -> None:
    Custom.copies = 0
    model = Odd()
    private = private_copy(model, "meta", torch.float32, "Odd")
    assert private.again is private.conv and private.steps[0] is private.conv
    assert private.pair[0] is private.conv and private.pair[1] == 3
    assert private.steps is not model.steps and isinstance(private.steps[1], nn.ReLU)
    assert private.steps[1] is not model.steps[1]
    assert private.conv is not model.conv and private.conv.weight.is_meta
    assert private.anchor is not model.anchor and torch.equal(private.anchor, model.anchor)
    assert private.tags == {"a", "b"} and private.tags is not model.tags
    assert isinstance(private.custom, Custom) and private.custom is not model.custom
    assert Custom.copies == 1
    assert len(private.conv._forward_hooks) == 1
    assert private.conv._forward_hooks is not model.conv._forward_hooks
    assert private.conv.padding_mode == model.conv.padding_mode
    names = [(n, type(m)) for n, m in copy.deepcopy(model).named_modules()]
    assert [(n, type(m)) for n, m in private.named_modules()] == names


def test_meta_copy_never_clones_a_weight(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_clone(*args: object, **kwargs: object) -> None:
        raise AssertionError("a weight was cloned")

    model = FunctionalCNN()
    monkeypatch.setattr(torch.Tensor, "clone", no_clone)
    monkeypatch.setattr(torch.Tensor, "__deepcopy__", no_clone)
    assert private_copy(model, "meta", torch.float32, "m").weight.is_meta


def test_backward_is_counted_only_when_asked() -> None:
    fwd = profile(FunctionalCNN(), input_shape=(1, 2, 4, 4))
    both = profile(FunctionalCNN(), input_shape=(1, 2, 4, 4), backward=True)
    assert not fwd.backward and both.backward
    for metric in ("params", "macs", "acts", "elem_ops", "bytes_read", "bytes_written"):
        assert fwd.by_scope(metric) == both.by_scope(metric), metric
    with pytest.raises(ArchprobeError, match="flops_bwd was not counted: profile FunctionalCNN"):
        fwd.total("flops_bwd")
    with pytest.raises(ArchprobeError, match="elem_ops_bwd was not counted"):
        fwd.by_op("elem_ops_bwd")
    assert both.total("flops_bwd") == 2 * both.total("flops")


def test_catalog_index_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    model = build(archprobe.load_spec("resnet20"), device="meta")
    assert match_spec(model) == ("resnet20", (3, 32, 32))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the catalog was read again")

    import archprobe.analysis.analytic as analytic
    import archprobe.builder.network as network
    import archprobe.spec.strict_yaml as strict_yaml

    for mod, name in ((analytic, "analyze_spec"), (network, "build"), (strict_yaml, "load_yaml")):
        monkeypatch.setattr(mod, name, refuse)
    assert match_spec(model) == ("resnet20", (3, 32, 32))
    assert profile(model).match == "resnet20"


def test_catalog_index_sees_a_new_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (SPECS / "cifar" / "resnet20.yaml").read_text(encoding="utf-8")
    (tmp_path / "mine.yaml").write_text(
        text.replace("name: resnet20", "name: resnet20_c7").replace("classes: 10", "classes: 7"),
        encoding="utf-8",
    )
    spec = archprobe.load_spec(tmp_path / "mine.yaml")
    model = build(spec, device="meta")
    assert match_spec(model) is None
    monkeypatch.setenv("ARCHPROBE_SPECS", str(tmp_path))
    assert match_spec(model) == ("resnet20_c7", (3, 32, 32))

"""A model that fails while counting: the error says what failed, and suggests another input
shape only when the failure is a shape mismatch (a missing kernel is no shape problem)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from archprobe.analysis.counters.profile import profile
from archprobe.errors import ArchprobeError

HINT = "pass the shape the model expects"
MISSING = "Could not run 'mylib::fused' with arguments from the '{}' backend. This could be"


class MissingKernel(nn.Module):
    """A custom op compiled for no device at hand: torch's NotImplementedError on every one."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        backend = "Meta" if x.device.type == "meta" else "CPU"
        raise NotImplementedError(MISSING.format(backend) + "\nbecause the operator ...")


class MetaOnlyGap(nn.Module):
    """No meta kernel, so counting falls back to the CPU, where the input's shape is wrong."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type == "meta":
            raise NotImplementedError(MISSING.format("Meta"))
        return self.fc(x)


def _message(model: nn.Module, shape: tuple[int, ...], device: str = "meta") -> str:
    with pytest.raises(ArchprobeError) as info:
        profile(model, input_shape=shape, device=device)
    return str(info.value)


def test_missing_kernel_names_the_error_not_the_shape() -> None:
    text = _message(MissingKernel(), (2, 4))
    assert HINT not in text and "--input" not in text
    assert text.splitlines() == [
        "MissingKernel failed on cpu with the input of shape (2, 4): NotImplementedError: "
        + MISSING.format("CPU"),
        "  (on meta tensors first: NotImplementedError: " + MISSING.format("Meta") + ")",
    ]


def test_missing_kernel_on_the_device_asked_for() -> None:
    text = _message(MissingKernel(), (2, 4), device="cpu")
    assert text == (
        "MissingKernel failed on cpu with the input of shape (2, 4): NotImplementedError: "
        + MISSING.format("CPU")
    )


def test_shape_mismatch_after_a_meta_gap_suggests_the_shape() -> None:
    text = _message(MetaOnlyGap(), (2, 5))
    assert text.startswith("MetaOnlyGap rejected the input of shape (2, 5): RuntimeError: mat1")
    assert HINT in text


def test_meta_gap_alone_falls_back_to_the_cpu() -> None:
    p = profile(MetaOnlyGap(), input_shape=(2, 4))
    assert p.device == "cpu" and p.total("macs") == 2 * 4 * 3
    assert p.notes == (
        f"meta tensors cannot run MetaOnlyGap (NotImplementedError: {MISSING.format('Meta')}); "
        "counted on the CPU instead",
    )

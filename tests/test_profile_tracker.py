"""The recorder's tracker gives the very scopes torch's ModuleTracker gives: forward without
grad (where it skips the grad hooks), and forward plus backward (where it is ModuleTracker)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.module_tracker import ModuleTracker

import archprobe
from archprobe.analysis.counters import profile as profile_module
from archprobe.analysis.counters.dispatch import Recording
from archprobe.analysis.counters.private_copy import private_copy
from archprobe.analysis.counters.tracker import Tracker
from archprobe.builder.network import build


class Reused(nn.Module):
    """One block called twice, a module called with a parameter, a module made in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(3, 3, 1), nn.ReLU())
        self.scale = nn.Parameter(torch.ones(3, 1, 1))
        self.act = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(self.block(x))
        return nn.Identity()(y * self.act(self.scale))


def _sites(model: nn.Module, tracker: type[ModuleTracker], backward: bool) -> Recording:
    private = private_copy(model, "meta", torch.float32, "m")
    x = torch.zeros((1, 3, 32, 32), device="meta")
    saved = profile_module.Tracker
    profile_module.Tracker = tracker  # type: ignore[misc]
    try:
        return profile_module._run(private, (x,), backward).sites
    finally:
        profile_module.Tracker = saved  # type: ignore[misc]


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("make", [Reused, lambda: build(archprobe.load_spec("convnext_tiny"))])
def test_scopes_are_module_trackers(make: type[nn.Module], backward: bool) -> None:
    # Priced sites: ModuleTracker's own hooks run a view (free) on a module input that
    # requires grad (``self.act(self.scale)``), which the recorder records too.
    model = make()
    mine = profile_module._priced(_sites(model, Tracker, backward))
    torchs = profile_module._priced(_sites(model, ModuleTracker, backward))
    assert list(mine) == list(torchs)
    assert [vars(t) for t in mine.values()] == [vars(t) for t in torchs.values()]
    assert any(site.phase == "bwd" for site in mine) == backward

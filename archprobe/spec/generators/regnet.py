"""``regnet:``: RegNet's stage table from six numbers (Radosavovic et al. 2020 §3.3).

Per-block widths follow a line, u_j = w0 + wa·j for 0 ≤ j < d (Eq. 2); each is snapped to the
nearest power of wm above w0, s_j = round(log_wm(u_j / w0)), w_j = w0·wm^s_j (Eq. 3), rounded to
a multiple of 8. A stage is a run of equal widths (its depth the run's length), each entered at
stride 2. Last, every stage's bottleneck width int(w·b) is made a multiple of its group width
(the group width first capped at that bottleneck width) and the stage width follows from it.

This is torchvision's ``BlockParams.from_init_params`` and ``_adjust_widths_groups_compatibilty``
(the same as pycls ``generate_regnet`` and ``adjust_ws_gs_comp``), computed here in float64 as
pycls does; torchvision computes the first step in float32 tensors, which only differs for a
u_j that lands within float32 rounding of a quantization boundary (none of torchvision's models).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, StrictFloat, StrictInt

from archprobe.blocks.base import KnobModel
from archprobe.blocks.layers import make_divisible
from archprobe.blocks.regnet import BOTTLENECK_RATIO, SE_RATIO
from archprobe.spec.generators import register_generator

QUANT = 8  # torchvision/pycls: block widths are multiples of 8
STRIDE = 2  # every RegNet stage halves the resolution (AnyNet §3.1)
BLOCK = "regnet_bottleneck"


class RegNetParams(KnobModel):
    """RegNet design-space parameters (§3.3): d, w0, wa, wm, g, b; Y adds SE (§5)."""

    depth: StrictInt = Field(
        ge=1, le=1000, description="d: the number of blocks over all stages (§3.3, Eq. 2)."
    )
    w0: StrictInt = Field(
        description="w0: the initial width, > 0 and a multiple of 8 (§3.3, Eq. 2: u_0 = w0)."
    )
    wa: StrictFloat = Field(
        description="wa: the slope of the block widths u_j = w0 + wa·j, >= 0 (§3.3, Eq. 2)."
    )
    wm: StrictFloat = Field(
        description="wm: the width multiplier between stages, > 1 (§3.3, Eq. 3; ~2.5 in §4)."
    )
    group_width: StrictInt = Field(
        ge=1, le=65536, description="g: channels per group of the 3x3 conv (AnyNetX §3.1)."
    )
    bottleneck_ratio: StrictFloat = BOTTLENECK_RATIO
    se_ratio: StrictFloat | None = SE_RATIO
    num_stages: StrictInt | None = Field(
        None,
        ge=1,
        le=64,
        description=(
            "Reject parameters giving another number of stages (pycls' sweep constraint "
            "REGNET.NUM_STAGES, 4 in the paper's design spaces); null: any number."
        ),
    )


@dataclass(frozen=True)
class Stage:
    """One generated stage: its depth, output width and group width."""

    depth: int
    width: int
    group_width: int


def _refusal(w0: int, wa: float, wm: float) -> str | None:
    """Why torchvision's ``from_init_params`` refuses these parameters, or None."""
    if w0 <= 0 or w0 % QUANT:
        return f"w0 must be a positive multiple of {QUANT}, got {w0}"
    if wa < 0:
        return f"wa must be >= 0 (the widths grow along the blocks), got {wa}"
    if wm <= 1:
        return f"wm must be > 1 (the width multiplier between stages), got {wm}"
    return None


def block_widths(depth: int, w0: int, wa: float, wm: float) -> list[int]:
    """The quantized width of every block (§3.3, Eq. 2–3, then to a multiple of 8).

    Raises:
        ValueError: parameters torchvision refuses (w0, wa, wm out of range).
    """
    if (why := _refusal(w0, wa, wm)) is not None:
        raise ValueError(why)
    widths = []
    for j in range(depth):
        s = round(math.log((w0 + wa * j) / w0) / math.log(wm))  # half to even, as torch.round
        widths.append(round(w0 * wm**s / QUANT) * QUANT)
    return widths


def _runs(widths: list[int]) -> list[tuple[int, int]]:
    """(width, depth) of each run of equal consecutive widths: the stages."""
    runs: list[tuple[int, int]] = []
    for w in widths:
        if runs and runs[-1][0] == w:
            runs[-1] = (w, runs[-1][1] + 1)
        else:
            runs.append((w, 1))
    return runs


def _compatible(width: int, b: float, group_width: int, i: int) -> tuple[int, int]:
    """Stage width and group width with int(w·b) a multiple of the group width (torchvision
    ``_adjust_widths_groups_compatibilty``: g capped at the bottleneck width, which is then
    rounded by ``_make_divisible``)."""
    w_bot = int(width * b)
    if w_bot < 1:
        raise ValueError(
            f"stage {i}: bottleneck_ratio {b} leaves int({width} * {b}) = 0 bottleneck channels"
        )
    g = min(group_width, w_bot)
    return int(make_divisible(w_bot, g) / b), g


def regnet_stages(p: RegNetParams) -> list[Stage]:
    """The stage table of a RegNet (torchvision ``BlockParams.from_init_params``).

    Raises:
        ValueError: parameters that give no RegNet, saying which and why.
    """
    runs = _runs(block_widths(p.depth, p.w0, p.wa, p.wm))
    if p.num_stages is not None and len(runs) != p.num_stages:
        raise ValueError(
            f"gives {len(runs)} stages (widths {[w for w, _ in runs]}), not num_stages "
            f"{p.num_stages}"
        )
    stages = []
    for i, (width, depth) in enumerate(runs):
        w, g = _compatible(width, p.bottleneck_ratio, p.group_width, i)
        stages.append(Stage(depth, w, g))
    return stages


@register_generator
class RegNet:
    """``regnet: {depth, w0, wa, wm, group_width, bottleneck_ratio, se_ratio}`` writes
    ``stages:`` (depth, width, stride 2, group_width) and the block's b and SE ratio."""

    key: ClassVar[str] = "regnet"
    Params: ClassVar[type[KnobModel]] = RegNetParams

    @staticmethod
    def apply(p: Any, doc: dict[str, Any]) -> dict[str, Any]:
        assert isinstance(p, RegNetParams)
        if "stages" in doc:
            raise ValueError("regnet: generates `stages:`; remove the stages: key (or regnet:)")
        block = doc.get("block")
        block = dict(block) if isinstance(block, dict) else {}
        if block.setdefault("type", BLOCK) != BLOCK:
            raise ValueError(f"regnet: builds {BLOCK} blocks, not block.type {block['type']!r}")
        # The model-level block keeps the requested g; each stage states the one it got.
        block.update(
            group_width=p.group_width, bottleneck_ratio=p.bottleneck_ratio, se_ratio=p.se_ratio
        )
        stages = [
            {"depth": s.depth, "width": s.width, "stride": STRIDE, "group_width": s.group_width}
            for s in regnet_stages(p)
        ]
        return {**doc, "block": block, "stages": stages}

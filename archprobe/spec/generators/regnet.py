"""``regnet:``: RegNet's stage table from six numbers (Radosavovic et al. 2020 §3.3).

Per-block widths follow a line, u_j = w0 + wa·j for 0 ≤ j < d (Eq. 2); each is snapped to the
nearest power of wm above w0, s_j = round(log_wm(u_j / w0)), w_j = w0·wm^s_j (Eq. 3), rounded to
a multiple of 8. A stage is a run of equal widths (its depth the run's length), each entered at
stride 2. Last, every stage's bottleneck width int(w·b) is made a multiple of its group width
(the group width first capped at that bottleneck width) and the stage width follows from it.

This is torchvision's ``BlockParams.from_init_params`` and ``_adjust_widths_groups_compatibilty``
(the same as pycls ``generate_regnet`` and ``adjust_ws_gs_comp``), computed here in float64 numpy
as pycls does; torchvision computes the first step in float32 tensors, which only differs for a
u_j that lands within float32 rounding of a quantization boundary (none of torchvision's models).
The widths and runs are computed for many parameter sets at once (:func:`stage_table`, the
sweep's batched path, ``sweep/generated.py``); one spec is a table of one row, so both paths
share every rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, StrictFloat, StrictInt

from archprobe.blocks.base import KnobModel
from archprobe.blocks.layers import make_divisible
from archprobe.blocks.regnet import BOTTLENECK_RATIO, SE_RATIO
from archprobe.spec.generators import register_generator

QUANT = 8  # torchvision/pycls: block widths are multiples of 8
STRIDE = 2  # every RegNet stage halves the resolution (AnyNet §3.1)
BLOCK = "regnet_bottleneck"
MAX_WIDTH = 2**53  # a wider block has no exact float64 width: refused, never wrapped around
Array = NDArray[Any]
Int64s = NDArray[np.int64]


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


Check = Callable[[Any, Any, Any], Any]
REFUSALS: tuple[tuple[Check, Callable[[Any, Any, Any], str]], ...] = (
    (lambda w0, wa, wm: (w0 <= 0) | (w0 % QUANT != 0),
     lambda w0, wa, wm: f"w0 must be a positive multiple of {QUANT}, got {w0}"),
    (lambda w0, wa, wm: wa < 0,
     lambda w0, wa, wm: f"wa must be >= 0 (the widths grow along the blocks), got {wa}"),
    (lambda w0, wa, wm: wm <= 1,
     lambda w0, wa, wm: f"wm must be > 1 (the width multiplier between stages), got {wm}"),
)  # fmt: skip
"""Parameters torchvision's ``from_init_params`` refuses, in the order it checks them: each a
test (on numbers or on numpy arrays) and its message."""
OVERFLOW = len(REFUSALS)  # the refusal code of widths too large to count


def refusal(w0: Any, wa: Any, wm: Any) -> Int64s:
    """Per parameter set, the index of the first refusal it meets, or -1."""
    code = np.full(np.shape(w0), -1, dtype=np.int64)
    for k, (test, _) in reversed(list(enumerate(REFUSALS))):
        code[np.asarray(test(w0, wa, wm), dtype=bool)] = k
    return code


def refusal_message(code: int, w0: Any, wa: Any, wm: Any) -> str:
    """The message of refusal ``code`` for one parameter set."""
    if code == OVERFLOW:
        return f"gives block widths over {MAX_WIDTH:.3g} channels (wa {wa}, wm {wm})"
    return REFUSALS[code][1](w0, wa, wm)


def _exponents(depth: Int64s, w0: Array, wa: Array, wm: Array) -> tuple[Array, Array]:
    """Every block's exponent s_j = round(log_wm(u_j / w0)) (§3.3, Eq. 2–3) as float64,
    (n, max d), and the mask of the blocks that exist (j < d)."""
    j = np.arange(int(depth.max()) if depth.size else 0)
    with np.errstate(all="ignore"):  # refused rows (w0 0, wm 1) give inf/nan, masked later
        u = w0[:, None] + wa[:, None] * j  # float64, as pycls' np.arange(d) * w_a + w_0
        np.divide(u, w0[:, None], out=u)
        np.log(u, out=u)
        np.divide(u, np.log(wm)[:, None], out=u)
        np.round(u, out=u)  # half to even, as np.round
    return u, j < depth[:, None]


def _width(w0: Array, wm: Array, s: Array) -> Array:
    """w0·wm^s rounded to a multiple of 8 (float64; non-finite for a width past floats)."""
    with np.errstate(all="ignore"):
        return np.round(w0 * np.power(wm, s) / QUANT) * QUANT


@dataclass(frozen=True)
class Table:
    """The stage tables of n parameter sets: one entry per (row, stage), rows in order."""

    refused: Int64s  # per row: refusal code (REFUSALS index, OVERFLOW), or -1
    row: Int64s  # per entry: its row
    width: Int64s  # per entry: the stage's width before the group-width rule
    depth: Int64s  # per entry: the stage's depth
    count: Int64s  # per row: its number of stages (0 when refused)
    first: Int64s  # per row: its first entry


def stage_table(depth: Int64s, w0: Int64s, wa: Array, wm: Array) -> Table:
    """The block widths of every row cut into runs of equal width: the stages (torchvision
    ``from_init_params``: ``torch.unique_consecutive`` of the widths).

    A block's width depends on its exponent alone, so it is computed at the first block of each
    run of equal exponents (a few per row, not one per block); runs whose widths come out equal
    are then merged, which gives the runs of equal widths exactly."""
    code = refusal(w0, wa, wm)
    d = np.where(code < 0, depth, 1)  # a refused row keeps one placeholder block
    f0, fm = w0.astype(np.float64), wm.astype(np.float64)
    s, exists = _exponents(d, f0, wa.astype(np.float64), fm)
    exists &= (code < 0)[:, None]
    starts = exists.copy()
    starts[:, 1:] &= s[:, 1:] != s[:, :-1]  # nan != nan: a nan exponent is a run of its own
    row, j = np.nonzero(starts)
    w = _width(f0[row], fm[row], s[row, j])
    over = np.zeros(len(d), dtype=bool)
    over[row[~(np.isfinite(w) & (w < MAX_WIDTH))]] = True
    code[over] = OVERFLOW
    new = ~over[row]
    new[1:] &= (row[1:] != row[:-1]) | (w[1:] != w[:-1])  # a new row, or a new width
    row, j, w = row[new], j[new], w[new]
    after = np.empty_like(j)  # the next stage's first block, or the row's end
    after[:-1] = j[1:]
    last = np.ones(len(j), dtype=bool)
    last[:-1] = row[1:] != row[:-1]
    end = np.where(last, d[row], after)
    count = np.bincount(row, minlength=len(d)).astype(np.int64)
    first = (np.cumsum(count) - count).astype(np.int64)
    width = w.astype(np.int64)
    return Table(code, row.astype(np.int64), width, (end - j).astype(np.int64), count, first)


def block_widths(depth: int, w0: int, wa: float, wm: float) -> list[int]:
    """The quantized width of every block (§3.3, Eq. 2–3, then to a multiple of 8).

    Raises:
        ValueError: parameters torchvision refuses (w0, wa, wm out of range).
    """
    t = stage_table(np.array([depth]), np.array([w0]), np.array([wa]), np.array([wm]))
    if (code := int(t.refused[0])) >= 0:
        raise ValueError(refusal_message(code, w0, wa, wm))
    return [w for w, d in zip(t.width.tolist(), t.depth.tolist(), strict=True) for _ in range(d)]


def compatible(width: int, b: float, group_width: int) -> tuple[int, int] | None:
    """Stage width and group width with int(w·b) a multiple of the group width (torchvision
    ``_adjust_widths_groups_compatibilty``: g capped at the bottleneck width, which is then
    rounded by ``_make_divisible``); None when int(w·b) is 0."""
    w_bot = int(width * b)
    if w_bot < 1:
        return None
    g = min(group_width, w_bot)
    return int(make_divisible(w_bot, g) / b), g


def no_bottleneck(i: int, width: int, b: float) -> str:
    """Why stage ``i`` has no bottleneck channels (``compatible`` gave None)."""
    return f"stage {i}: bottleneck_ratio {b} leaves int({width} * {b}) = 0 bottleneck channels"


def stage_count_message(widths: list[int], num_stages: int) -> str:
    """Why a table of stages of ``widths`` is refused under ``num_stages``."""
    return f"gives {len(widths)} stages (widths {widths}), not num_stages {num_stages}"


def regnet_stages(p: RegNetParams) -> list[Stage]:
    """The stage table of a RegNet (torchvision ``BlockParams.from_init_params``).

    Raises:
        ValueError: parameters that give no RegNet, saying which and why.
    """
    args = (np.array([p.depth]), np.array([p.w0]), np.array([p.wa]), np.array([p.wm]))
    t = stage_table(*args)
    if (code := int(t.refused[0])) >= 0:
        raise ValueError(refusal_message(code, p.w0, p.wa, p.wm))
    widths = t.width.tolist()
    if p.num_stages is not None and len(widths) != p.num_stages:
        raise ValueError(stage_count_message(widths, p.num_stages))
    stages = []
    for i, (width, depth) in enumerate(zip(widths, t.depth.tolist(), strict=True)):
        if (wg := compatible(width, p.bottleneck_ratio, p.group_width)) is None:
            raise ValueError(no_bottleneck(i, width, p.bottleneck_ratio))
        stages.append(Stage(depth, *wg))
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

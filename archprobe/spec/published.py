"""Published complexity figures a spec can quote, and the check that exact counts round to them.

Papers print rounded numbers ("25.5M", "4.1 GFLOPs") under their own conventions; a spec records
them as written, with the convention, so reports can show the exact count next to the paper's
and say whether they agree at the paper's precision.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from archprobe.blocks.base import KnobModel

_SCALES = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9, "T": 1e12}
_NUMBER = re.compile(r"^\s*([0-9]+(?:\.([0-9]+))?)\s*([kKMGBT]?)\s*$")


def parse_rounded(text: str) -> tuple[float, float]:
    """``"25.5M"`` -> (25.5e6, 0.05e6): the value and half of its last printed digit."""
    m = _NUMBER.match(text)
    if not m:
        raise ValueError(
            f"expected a number with an optional k/M/G suffix, like '25.5M', got {text!r}"
        )
    decimals = len(m.group(2) or "")
    scale = _SCALES[m.group(3)]
    return float(m.group(1)) * scale, 0.5 * 10.0**-decimals * scale


def agreement(exact: float, printed: str) -> str | None:
    """How ``exact`` reaches the printed value at its printed precision: "exact", "rounded",
    "truncated" (the ResNet paper truncates: 3.664 G is printed 3.6) or None (it does not)."""
    value, half_step = parse_rounded(printed)
    if exact == value:
        return "exact"
    if value - half_step <= exact < value + half_step:
        return "rounded"
    if value <= exact < value + 2 * half_step:
        return "truncated"
    return None


class Published(KnobModel):
    """A complexity figure as printed in a paper or model zoo."""

    source: str = Field(description="Where it is printed, e.g. 'ResNeXt Table 1'.")
    params: str | None = Field(None, description="Parameters as printed, e.g. '25.5M'.")
    params_convention: Literal["all", "without_bn"] = Field(
        "all",
        description=(
            "all: every learnable tensor incl. BN affine (torchvision num_params); without_bn: "
            "conv and fc only (the ResNeXt paper's 25.5M for ResNet-50, facts.md §1.1)."
        ),
    )
    macs: str | None = Field(
        None, description="Multiply-adds as printed ('4.1G'); papers call them FLOPs."
    )

    @field_validator("params", "macs")
    @classmethod
    def _parsable(cls, value: str | None) -> str | None:
        if value is not None:
            parse_rounded(value)
        return value

"""``width_mult:``: the width multiplier of the MobileNets and MNASNet (MobileNetV2 §6.1 "width
multiplier"; MNASNet's depth multiplier α).

Every width of the base table becomes ``make_divisible(width · multiplier, 8)`` (torchvision
``_make_divisible`` in MobileNetV2, ``_round_to_multiple_of`` in MNASNet: the same rounding):
the stem, MNASNet's separable conv, each stage's output width and, where a stage states it, its
expanded width (MobileNetV3's ``adjust_channels``). The head conv differs by family: MobileNetV2
widens it only (``_make_divisible(1280 · max(1, width_mult), 8)``), MNASNet keeps 1280.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, StrictFloat, StrictInt

from archprobe.blocks.base import KnobModel
from archprobe.blocks.layers import make_divisible
from archprobe.spec.generators import register_generator, stage_rows


class WidthMultParams(KnobModel):
    """``width_mult: {multiplier: 0.75}`` over a base table written at 1.0."""

    multiplier: StrictFloat | StrictInt = Field(
        gt=0, le=16, description="Width multiplier (MobileNetV2 §6.1; MNASNet's α: 0.5 … 1.3)."
    )
    divisor: StrictInt = Field(8, ge=1, le=256, description="Widths round to multiples of this.")
    head: Literal["fixed", "up_only"] = Field(
        "fixed",
        description=(
            "The head conv width: fixed (MNASNet's 1280 at every α) or up_only (MobileNetV2: "
            "scaled by max(1, multiplier))."
        ),
    )


def _scaled(mapping: Any, key: str, factor: float, divisor: int) -> Any:
    """``mapping`` with ``mapping[key]`` scaled, when both exist."""
    if not isinstance(mapping, dict) or not isinstance(mapping.get(key), int):
        return mapping
    return {**mapping, key: make_divisible(mapping[key] * factor, divisor)}


@register_generator
class WidthMult:
    key: ClassVar[str] = "width_mult"
    Params: ClassVar[type[KnobModel]] = WidthMultParams

    @staticmethod
    def apply(p: Any, doc: dict[str, Any]) -> dict[str, Any]:
        assert isinstance(p, WidthMultParams)
        m, d = float(p.multiplier), p.divisor
        stem = _scaled(_scaled(doc.get("stem"), "width", m, d), "separable", m, d)
        stages = [_scaled(_scaled(s, "width", m, d), "expanded", m, d) for s in stage_rows(doc)]
        out = {**doc, "stem": stem, "stages": stages}
        head = doc.get("head")
        if p.head == "up_only" and isinstance(head, dict) and "conv" in head:
            out["head"] = {**head, "conv": _scaled(head["conv"], "width", max(1.0, m), d)}
        return out

"""EfficientNet compound scaling (Tan & Le 2019 §3.3, Eq. 3): ``scaling: {width, depth}``
multiplies the spec's own stage table, as torchvision's ``MBConvConfig`` does.

Every stage width (and the stem width) becomes ``make_divisible(w · width, 8)``
(``_MBConvConfig.adjust_channels``), every stage depth ``ceil(d · depth)``
(``MBConvConfig.adjust_depth``), and the head's 1×1 conv ``head × `` the scaled last-stage
width (``EfficientNet.__init__``: ``4 * lastconv_input_channels``). Resolution is the third
coefficient; it is ``input.size``, set by each variant (or swept) directly.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from pydantic import Field, StrictFloat, StrictInt

from archprobe.blocks.base import KnobModel
from archprobe.blocks.layers import make_divisible
from archprobe.spec.generators import register_generator, stage_rows


class ScalingParams(KnobModel):
    """Compound-scaling coefficients (EfficientNet-B1…B7: torchvision width_mult, depth_mult)."""

    width: StrictFloat = Field(
        gt=0, le=16, description="Width multiplier (B1 1.0, B4 1.4, B7 2.0; paper's β^φ)."
    )
    depth: StrictFloat = Field(
        gt=0, le=16, description="Depth multiplier (B1 1.1, B4 1.8, B7 3.1; paper's α^φ)."
    )
    head: StrictInt | None = Field(
        4,
        ge=1,
        le=64,
        description=(
            "The head conv's width as a multiple of the scaled last-stage width (torchvision "
            "V1: 4); null keeps `head.conv.width`."
        ),
    )


def _scaled_width(where: str, row: dict[str, Any], factor: float) -> int:
    width = row.get("width")
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise ValueError(f"scaling: {where} needs an integer `width` to scale, not {width!r}")
    return make_divisible(width * factor, 8)


@register_generator
class Scaling:
    """Rewrite ``stages`` (width, depth), ``stem.width`` and ``head.conv.width``."""

    key: ClassVar[str] = "scaling"
    Params: ClassVar[type[KnobModel]] = ScalingParams

    @staticmethod
    def apply(p: Any, doc: dict[str, Any]) -> dict[str, Any]:
        assert isinstance(p, ScalingParams)
        rows = stage_rows(doc)
        for i, row in enumerate(rows):
            depth = row.get("depth")
            if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
                raise ValueError(f"scaling: stage {i} needs an integer `depth` >= 1, not {depth!r}")
            row["width"] = _scaled_width(f"stage {i}", row, p.width)
            row["depth"] = math.ceil(depth * p.depth)
        stem = doc.get("stem")
        if not isinstance(stem, dict):
            raise ValueError("scaling: needs a `stem:` mapping with a `width` to scale")
        out = {
            **doc,
            "stages": rows,
            "stem": {**stem, "width": _scaled_width("stem", stem, p.width)},
        }
        if p.head is not None:
            head = doc.get("head", {})
            if not isinstance(head, dict):
                raise ValueError("scaling: `head:` must be a mapping to set its width")
            conv: dict[str, Any] = head.get("conv") or {}
            out["head"] = {**head, "conv": {**conv, "width": p.head * rows[-1]["width"]}}
        return out

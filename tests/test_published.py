"""Printed-figure parsing and agreement, on values from the papers (facts.md §1.1, §2.1)."""

from __future__ import annotations

import pytest

from archprobe.spec.published import agreement, parse_rounded


def test_parse_rounded() -> None:
    assert parse_rounded("25.5M") == pytest.approx((25.5e6, 0.05e6))
    assert parse_rounded("4.089G") == pytest.approx((4.089e9, 0.0005e9))
    assert parse_rounded("25557032") == (25557032, 0.5)
    with pytest.raises(ValueError, match=r"like .25\.5M."):
        parse_rounded("about 25M")


def test_agreement_kinds() -> None:
    assert agreement(25_503_912, "25.5M") == "rounded"  # ResNeXt Table 1, params w/o BN
    assert agreement(3_663_761_408, "3.6G") == "truncated"  # ResNet Table 1 prints 3.6 for 3.664
    assert agreement(25_557_032, "25557032") == "exact"
    assert agreement(25_557_032, "25.5M") == "truncated"  # all params: 25.56M
    assert agreement(25_028_904, "25.5M") is None

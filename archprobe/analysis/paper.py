"""Exact counts next to the figures papers print (the "paper" line of a compare report)."""

from __future__ import annotations

from dataclasses import dataclass

from archprobe.analysis.analytic import Analysis
from archprobe.spec.published import agreement


@dataclass(frozen=True)
class PaperCheck:
    """One printed figure of one model and the exact count in the same convention."""

    model: str
    source: str
    metric: str  # params | macs
    printed: str
    exact: float
    convention: str  # all | without_bn (params); conv_fc_macs (MACs of conv + fc)
    agreement: str | None  # exact | rounded | truncated | None (disagrees)


def paper_checks(a: Analysis) -> list[PaperCheck]:
    """Every published figure of ``a``'s spec, checked against the exact analytic count."""
    params_all = a.results.total("params")
    params_bn = a.results.by_op("params").get("norm", 0)
    macs = a.results.total("macs")
    out = []
    for pub in a.spec.published:
        if pub.params is not None:
            without_bn = pub.params_convention == "without_bn"
            exact = params_all - params_bn if without_bn else params_all
            convention = "without_bn" if without_bn else "all"
            out.append(
                PaperCheck(
                    a.name,
                    pub.source,
                    "params",
                    pub.params,
                    exact,
                    convention,
                    agreement(exact, pub.params),
                )
            )
        if pub.macs is not None:
            out.append(
                PaperCheck(
                    a.name,
                    pub.source,
                    "macs",
                    pub.macs,
                    macs,
                    "multiply-adds of conv + fc",
                    agreement(macs, pub.macs),
                )
            )
    return out

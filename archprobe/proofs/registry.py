"""The proofs ``archprobe check NAME`` runs, by name, with the knobs they share and their defaults
(torch-free here: each proof imports torch when it runs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archprobe.proofs.results import Proof


@dataclass(frozen=True)
class ProofArgs:
    """The knobs a proof may use; the defaults are ResNeXt's conv2 template (C = 32, d = 4)."""

    cardinality: int = 32
    width: int = 4
    channels: int | None = None  # default 256 for the forms, 64 for depth 2
    size: int = 56
    batch: int = 1
    time: bool = True
    min_time: float = 0.2
    progress: Callable[[str], None] | None = None  # while forms are timed (the CLI's bar)


def _forms(a: ProofArgs) -> list[Proof]:
    from archprobe.proofs.forms import prove_forms
    from archprobe.proofs.timing import TimingPlan

    plan = TimingPlan(a.batch, None, a.min_time, a.progress) if a.time else None
    return [prove_forms(a.cardinality, a.width, a.channels or 256, a.size, plan)]


def _depth2(a: ProofArgs) -> list[Proof]:
    from archprobe.proofs.depth2 import prove_depth2

    return [prove_depth2(a.cardinality, a.width, a.channels or 64, a.size)]


def _equivalences(a: ProofArgs) -> list[Proof]:
    from archprobe.proofs.equivalences import prove_bn_fold, prove_shortcuts
    from archprobe.proofs.twins import prove_twins

    return [prove_bn_fold(a.channels or 64, a.size), prove_shortcuts(size=a.size), prove_twins()]


PROOFS: dict[str, Callable[[ProofArgs], list[Proof]]] = {
    "forms": _forms,
    "depth2": _depth2,
    "equivalences": _equivalences,
}
"""Every proof by the name ``archprobe check`` takes."""

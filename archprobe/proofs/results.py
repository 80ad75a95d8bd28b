"""Result objects of the proofs: plain frozen data (torch-free), rendered by ``report/checks``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Expectation = Literal["equal", "differ", "report"]


@dataclass(frozen=True)
class Form:
    """One form of a block and its analytic cost per sample (one description: the op graph).

    Attributes:
        key: short label used in the output, e.g. ``a``.
        name: what it is, e.g. ``aggregated (Fig. 3a)``.
        layers: the layers in the papers' bracket notation.
        params: learnable elements, BN affine included.
        weights: conv and linear weights and biases only (the papers' count, e.g. Eq. 4).
        macs: multiply-accumulates (the papers' "FLOPs").
        ops: primitive ops executed, unfused (about the kernels launched).
        bytes_moved: fp32 bytes read and written by every op (ShuffleNet V2 memory access cost).
        built_params: ``sum(p.numel())`` of the module built from the same graph.
        traced_flops: FlopCounterMode FLOPs (2×MAC) of that module, or None when not traced.
    """

    key: str
    name: str
    layers: str
    params: int
    weights: int
    macs: int
    ops: int
    bytes_moved: int
    built_params: int | None = None
    traced_flops: int | None = None

    @property
    def consistent(self) -> bool:
        """Built module and trace agree with the analytic graph (when they were measured)."""
        return (self.built_params is None or self.built_params == self.params) and (
            self.traced_flops is None or self.traced_flops == 2 * self.macs
        )


@dataclass(frozen=True)
class Agreement:
    """Max absolute output difference between two forms with mapped weights.

    ``expect``: ``equal`` holds when ``max_abs <= bound``; ``differ`` (a counterexample) holds
    when ``max_abs > bound``; ``report`` always holds (shown for information, e.g. float32).
    """

    ref: str
    other: str
    dtype: str
    max_abs: float
    scale: float  # max |output| of ``ref``, to read max_abs against
    expect: Expectation = "equal"
    bound: float = 1e-5

    @property
    def holds(self) -> bool:
        if self.expect == "equal":
            return self.max_abs <= self.bound
        if self.expect == "differ":
            return self.max_abs > self.bound
        return True


@dataclass(frozen=True)
class Claim:
    """A statement checked by the proof, e.g. equal params, and whether it holds."""

    text: str
    holds: bool


@dataclass(frozen=True)
class Timing:
    """Forward latency of one form on one device: median and IQR of blocked_autorange."""

    form: str
    device: str
    median_s: float
    iqr_s: float
    measurements: int
    batch: int
    threads: int


@dataclass(frozen=True)
class Proof:
    """Forms, the measured agreements and checked claims, notes, and the conclusion."""

    title: str
    ref: str
    setting: str
    forms: tuple[Form, ...]
    agreements: tuple[Agreement, ...]
    claims: tuple[Claim, ...]
    notes: tuple[str, ...]
    conclusion: str
    timings: tuple[Timing, ...] = ()

    def form(self, key: str) -> Form:
        return next(f for f in self.forms if f.key == key)

    @property
    def ok(self) -> bool:
        return (
            all(a.holds for a in self.agreements)
            and all(c.holds for c in self.claims)
            and all(f.consistent for f in self.forms)
        )

"""pycls-style samplers for random sweeps: ``{int: [8, 64], dist: log_uniform, quantize: 8}``.

Distributions (pycls ``rand_*``): ``uniform`` on [low, high]; ``log_uniform``, uniform in log
space; ``power2_uniform``, uniform over the powers of two in [low, high]. ``quantize: q`` rounds
to the nearest multiple of q inside the range. A sweep draws in batches (:meth:`Sampler.draw`)
from one numpy generator per axis, seeded by the sweep, so a seed fixes the whole sample whatever
the batch size; :meth:`Sampler.sample` draws one value from a ``random.Random``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Dist = Literal["uniform", "log_uniform", "power2_uniform"]


def _decimals(q: float) -> int:
    """Decimal places of a step as written (0.1 -> 1, 0.001 -> 3, 8 -> 0, 2.5e-05 -> 6)."""
    return max(0, -int(Decimal(repr(q)).as_tuple().exponent))


DISTS: tuple[str, ...] = ("uniform", "log_uniform", "power2_uniform")


@dataclass(frozen=True)
class Sampler:
    """A random axis: ``kind`` int or float over [low, high] with a distribution and a step."""

    kind: Literal["int", "float"]
    low: float
    high: float
    dist: Dist = "uniform"
    quantize: float | None = None

    def sample(self, rng: random.Random) -> int | float:
        if self.dist == "power2_uniform":
            return self._cast(rng.choice(self.powers2()))
        if self.dist == "log_uniform":
            x = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            x = rng.uniform(self.low, self.high)
        return self._cast(self._quantized(x))

    def draw(self, gen: np.random.Generator, size: int) -> NDArray[np.int64] | NDArray[np.float64]:
        """``size`` draws at once: int64 (``kind`` int) or float64 values.

        Only ``gen.random`` is used (one double per draw), so drawing 2 × k values equals drawing
        2k: the sample does not depend on how a sweep batches it.
        """
        u = gen.random(size)
        if self.dist == "power2_uniform":
            powers = np.array(self.powers2(), dtype=np.int64)
            picked = powers[np.minimum((u * len(powers)).astype(np.int64), len(powers) - 1)]
            return picked if self.kind == "int" else picked.astype(np.float64)
        if self.dist == "log_uniform":
            lo, hi = math.log(self.low), math.log(self.high)
            x = np.exp(lo + u * (hi - lo))
        else:
            x = self.low + u * (self.high - self.low)
        return self._cast_array(self._quantized_array(x))

    def _quantized_array(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        q = self.quantize
        if q is None:
            return np.rint(x) if self.kind == "int" else x
        steps = np.rint(x / q)  # half to even, as round()
        steps -= steps * q > self.high
        steps += steps * q < self.low
        return np.round(steps * q, _decimals(q))  # the step's own decimals (see _quantized)

    def _cast_array(self, x: NDArray[np.float64]) -> NDArray[np.int64] | NDArray[np.float64]:
        return np.rint(x).astype(np.int64) if self.kind == "int" else x.astype(np.float64)

    def powers2(self) -> list[int]:
        lo, hi = math.ceil(math.log2(self.low)), math.floor(math.log2(self.high))
        return [2**e for e in range(lo, hi + 1)]

    def _quantized(self, x: float) -> float:
        q = self.quantize
        if q is None:
            return round(x) if self.kind == "int" else x
        steps = round(x / q)
        if steps * q > self.high:
            steps -= 1
        if steps * q < self.low:
            steps += 1
        # k·q in binary floating point is 16.900000000000002 for k = 169, q = 0.1: round to the
        # step's own decimals so a stored value reads as the multiple it is.
        return round(steps * q, _decimals(q))

    def _cast(self, x: float) -> int | float:
        return round(x) if self.kind == "int" else float(x)

    def problem(self) -> str | None:
        """Why this sampler can draw nothing (or a bound is not finite), or None."""
        numbers = (self.low, self.high) + (() if self.quantize is None else (self.quantize,))
        if not all(math.isfinite(v) for v in numbers):
            return f"bounds and quantize must be finite numbers, got {numbers}"
        if self.low > self.high:
            return f"empty range [{self.low}, {self.high}]"
        if self.dist in ("log_uniform", "power2_uniform") and self.low <= 0:
            return f"{self.dist} needs a positive lower bound, got {self.low}"
        if self.dist == "power2_uniform" and not self.powers2():
            return f"no power of two in [{self.low}, {self.high}]"
        if self.quantize is not None and (
            self.quantize <= 0 or math.floor(self.high / self.quantize) * self.quantize < self.low
        ):
            return f"no multiple of quantize {self.quantize} in [{self.low}, {self.high}]"
        return None

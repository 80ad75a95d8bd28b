"""From a sweep spec to configs: grid/zip/random values, the solver, analytic rejection, keys."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from archprobe.errors import SpecError
from archprobe.graph.ops import GraphError
from archprobe.spec.loader import validate
from archprobe.spec.merge import set_path
from archprobe.spec.schema import ArchSpec
from archprobe.sweep.fast import SpecCost, metrics, spec_cost
from archprobe.sweep.solve import metric, solve_width
from archprobe.sweep.spec import SweepSpec

MIN_TRIES = 10_000
TRIES_PER_CONFIG = 200
NOT_IDENTITY = {"name", "aliases", "paper", "published"}


@dataclass(frozen=True)
class Config:
    """One accepted configuration: its axis values, spec, analytic metrics and store key."""

    index: int
    values: dict[str, Any]
    spec: ArchSpec
    metrics: dict[str, int]
    key: str


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name).lstrip(".-") or "sweep"


def make_spec(
    sweep: SweepSpec, values: dict[str, Any], index: int
) -> tuple[ArchSpec, SpecCost | None]:
    """The base with ``values`` applied (and width_per_group solved), and the solved spec's cost
    (None without ``solve:``); SpecError if invalid.

    With ``solve:``, the solved widths are added to ``values`` (``block.width_per_group``, or
    ``stages.<i>.width_per_group`` per stage) so that results show them beside the axes.
    """
    doc = dict(sweep.base_doc)
    for axis in sweep.axes:
        doc = set_path(doc, axis.path, values[axis.key])
    doc["name"] = f"{_safe(sweep.name)}-{index}"
    spec = validate(doc, sweep.base_smap)
    if sweep.solve is None:
        return spec, None
    groups = int(getattr(spec.block, "groups", 1))
    how = sweep.solve
    solution = solve_width(
        spec, groups, how.preserve, target=_target(sweep), per_stage=how.per_stage,
        guess=_LAST_WIDTH.get((sweep.name, groups)),
    )  # fmt: skip
    widths = solution.stage_widths
    _LAST_WIDTH[(sweep.name, groups)] = widths[0]  # neighbouring draws solve to nearby widths
    if how.per_stage:
        values.update({f"stages.{i}.width_per_group": d for i, d in enumerate(widths)})
    else:
        values["block.width_per_group"] = widths[0]
    # Stage overrides of the base lose to the solver: with_width sets every stage's block.
    assert solution.spec is not None and solution.cost is not None
    return solution.spec, solution.cost


_TARGETS: dict[tuple[str, str], int] = {}
_LAST_WIDTH: dict[tuple[str, int], int] = {}


def _target(sweep: SweepSpec) -> int:
    assert sweep.solve is not None
    if sweep.solve.target is not None:
        return sweep.solve.target
    key = (str(sweep.base_path), sweep.solve.preserve)
    if key not in _TARGETS:
        base = validate(sweep.base_doc, sweep.base_smap)
        _TARGETS[key] = metric(spec_cost(base), sweep.solve.preserve)
    return _TARGETS[key]


def config_key(spec: ArchSpec, sweep: SweepSpec) -> str:
    """Hash of the resolved spec (identity keys excluded) plus the measurement settings."""
    data = spec.model_dump(mode="json", exclude=NOT_IDENTITY)
    blob = json.dumps([data, list(sweep.measure), sweep.settings], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def iter_values(sweep: SweepSpec) -> Iterator[dict[str, Any]]:
    """Axis values in order: grid (product), zip, or random draws (endless) from ``seed``."""
    keys = [a.key for a in sweep.axes]
    if sweep.mode == "grid":
        for combo in itertools.product(*(a.values or () for a in sweep.axes)):
            yield dict(zip(keys, combo, strict=True))
    elif sweep.mode == "zip":
        for combo in zip(*(a.values or () for a in sweep.axes), strict=True):
            yield dict(zip(keys, combo, strict=True))
    else:
        rng = random.Random(sweep.seed)
        while True:
            yield {
                a.key: a.sampler.sample(rng) if a.sampler else rng.choice(a.values or ())
                for a in sweep.axes
            }


def accepts(sweep: SweepSpec, values: dict[str, int]) -> bool:
    for name, (lo, hi) in sweep.constraints.items():
        v = values[name]
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            return False
    return True


@dataclass
class Tally:
    """What generation saw: draws, invalid specs, constraint rejections, duplicates."""

    drawn: int = 0
    invalid: int = 0
    rejected: int = 0
    duplicates: int = 0
    first_invalid: str = ""
    lo: dict[str, int] | None = None
    hi: dict[str, int] | None = None

    def seen(self, m: dict[str, int]) -> None:
        self.lo = {k: min(v, (self.lo or m)[k]) for k, v in m.items()}
        self.hi = {k: max(v, (self.hi or m)[k]) for k, v in m.items()}


def _evaluate(sweep: SweepSpec, values: dict[str, Any], tally: Tally) -> Config | None:
    tally.drawn += 1
    try:
        spec, cost = make_spec(sweep, values, tally.drawn - 1)
        m = metrics((cost or spec_cost(spec)).total)
    except (SpecError, GraphError) as exc:
        tally.invalid += 1
        tally.first_invalid = tally.first_invalid or f"{values}: {exc}"
        return None
    tally.seen(m)
    if not accepts(sweep, m):
        tally.rejected += 1
        return None
    return Config(-1, values, spec, m, "")


def generate(sweep: SweepSpec) -> tuple[list[Config], Tally]:
    """Accepted, distinct configs in sweep order (random: the first ``n`` accepted draws).

    Raises:
        SpecError: when no config survives, saying why (invalid specs or constraints).
    """
    tally, out, keys = Tally(), list[Config](), set[str]()
    limit = max(MIN_TRIES, TRIES_PER_CONFIG * (sweep.n or 0))
    for values in iter_values(sweep):
        if (sweep.n is not None and len(out) >= sweep.n) or tally.drawn >= limit:
            break
        c = _evaluate(sweep, values, tally)
        if c is None:
            continue
        key = config_key(c.spec, sweep)
        if key in keys:
            tally.duplicates += 1
            continue
        keys.add(key)
        out.append(Config(len(out), c.values, c.spec, c.metrics, key))
    if not out:
        raise _nothing(sweep, tally)
    return out, tally


def _nothing(sweep: SweepSpec, tally: Tally) -> SpecError:
    if tally.invalid == tally.drawn:
        msg = f"all {tally.drawn} configs are invalid; the first: {tally.first_invalid}"
        return SpecError(msg, sweep.loc("axes"), "axes")
    seen = ", ".join(
        f"{k} {(tally.lo or {})[k]:.4g}..{(tally.hi or {})[k]:.4g}" for k in sweep.constraints
    )
    msg = f"the constraints reject all {tally.drawn - tally.invalid} valid configs (seen: {seen})"
    return SpecError(msg, sweep.loc("constraints"), "constraints")

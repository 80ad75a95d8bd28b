"""Sweep spec files (``specs/sweeps/*.yaml``), read by the strict loader with file:line:col errors.

```yaml
sweep: resnext50-cardinality
base: resnet50                    # catalog name or path (relative to this file)
mode: zip                         # grid | zip | random (random needs n; seed defaults to 0)
axes:                             # dotted key path of the base spec -> values or a sampler
  block.groups: [1, 2, 4, 8, 32]
  stages.2.depth: {int: [2, 8], dist: uniform}
solve: {preserve: block-params}   # optional: derive block.width_per_group from block.groups
                                  #   (+ per_stage: true, target: 4.1e9 for net-params/net-macs)
constraints: {macs: [3.9e9, 4.4e9]}   # analytic rejection before anything is built
measure: [latency]                # optional: latency, memory (measured + predicted training
                                  #   peak) or memory_prediction (torch-free); builds the model
```
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from archprobe.errors import SourceLoc, SpecError, SpecErrors
from archprobe.spec.catalog import find_spec
from archprobe.spec.errors_map import locate, suggest
from archprobe.spec.merge import load_merged, read_text
from archprobe.spec.strict_yaml import KeyPath, SourceMap, load_yaml
from archprobe.sweep.axis_check import axis_problems
from archprobe.sweep.samplers import DISTS, Sampler
from archprobe.sweep.solve import NET_TARGETS, PRESERVE

TOP_KEYS = ("sweep", "base", "mode", "axes", "solve", "constraints", "seed", "n", "measure")
MODES = ("grid", "zip", "random")
METRICS = ("params", "macs", "acts")
MEASURES = ("latency", "memory", "memory_prediction")
# measure: {what: [...], <setting>: value}; a setting's type is its default's type.
SETTING_DEFAULTS: dict[str, Any] = {
    "batch": 1, "device": "auto", "dtype": "fp32", "channels_last": False, "min_time": 0.5,
}  # fmt: skip
EXPECTED = {int: "a positive integer", float: "a positive number", str: "a string",
            bool: "true or false"}  # fmt: skip


@dataclass(frozen=True)
class Axis:
    """One swept key path: a list of values, or a sampler (random mode)."""

    key: str
    path: KeyPath
    values: tuple[Any, ...] | None = None
    sampler: Sampler | None = None


@dataclass(frozen=True)
class Solve:
    """``solve:``: derive width_per_group from the other axes to keep a cost (sweep/solve.py)."""

    preserve: str
    per_stage: bool = False
    target: int | None = None  # None: the base spec's value of ``preserve``


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file."""

    name: str
    file: Path
    base_path: Path
    base_doc: dict[str, Any]
    base_smap: SourceMap
    mode: str
    axes: tuple[Axis, ...]
    solve: Solve | None = None
    constraints: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    seed: int = 0
    n: int | None = None
    measure: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    smap: SourceMap = field(default_factory=dict)

    def loc(self, *path: str | int) -> SourceLoc | None:
        return locate(self.smap, path)


T = TypeVar("T")


class _Reader:
    """Makes SpecErrors located in the sweep file, and collects them: each part of the file is
    read on (with a stand-in value) after an error, so one run reports every problem, as
    spec files do (``SpecErrors``)."""

    def __init__(self, smap: SourceMap) -> None:
        self.smap = smap
        self.problems: list[SpecError] = []

    def error(self, message: str, *path: str | int, at_key: bool = False) -> SpecError:
        """Located at the value of ``path``, or at its key (``at_key``: unknown keys)."""
        where = locate(self.smap, path, want_key=at_key)
        return SpecError(message, where, ".".join(map(str, path)))

    def attempt(self, read: Callable[[], T], default: T) -> T:
        """``read()``, or ``default`` after recording the SpecError it raised."""
        try:
            return read()
        except SpecErrors as exc:
            self.problems += exc.errors
        except SpecError as exc:
            self.problems.append(exc)
        return default

    def raise_problems(self) -> None:
        """Raise every problem recorded so far, in file order, as one SpecErrors."""
        if self.problems:
            ordered = sorted(self.problems, key=_position)
            raise SpecErrors(ordered) if len(ordered) > 1 else ordered[0]


def _position(e: SpecError) -> tuple[str, int, int]:
    return (str(e.loc.file), e.loc.line, e.loc.col) if e.loc else ("", 0, 0)


def _number(x: Any) -> bool:
    """A finite int or float: a boolean is never a number here, nor are NaN and infinities."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def parse_path(key: str) -> KeyPath:
    return tuple(int(p) if p.isdigit() else p for p in key.split("."))


def path_problem(doc: Any, path: KeyPath) -> str | None:
    """Why ``path`` cannot address a value of ``doc`` (a missing last key may be new), or None."""
    node = doc
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, list):
            if not isinstance(part, int) or not 0 <= part < len(node):
                where = ".".join(map(str, path[: i + 1]))
                return f"{where}: no such list index (length {len(node)})"
            node = node[part]
        elif isinstance(node, dict):
            if part not in node and not last and not isinstance(path[i + 1], str):
                return f"unknown key path: {'.'.join(map(str, path[: i + 1]))} is not in the base"
            node = node.get(part, {}) if not last else None
        else:
            return f"unknown key path: {'.'.join(map(str, path[:i]))} is a value, not a section"
    return None


def _sampler(r: _Reader, raw: dict[str, Any], key: str) -> Sampler:
    kinds = [k for k in ("int", "float") if k in raw]
    extra = set(raw) - {"int", "float", "dist", "quantize"}
    if len(kinds) != 1 or extra:
        raise r.error(
            "a sampler is {int: [low, high]} or {float: [low, high]} with optional dist and "
            f"quantize (got keys {sorted(raw)})",
            "axes",
            key,
        )
    kind = kinds[0]
    bounds, dist, q = raw[kind], raw.get("dist", "uniform"), raw.get("quantize")
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(map(_number, bounds))):
        raise r.error(f"{kind}: must be [low, high], got {bounds!r}", "axes", key, kind)
    if dist not in DISTS:
        raise r.error(f"unknown dist {dist!r} (choose from {', '.join(DISTS)})", "axes", key)
    if q is not None and not _number(q):
        raise r.error(f"quantize must be a number, got {q!r}", "axes", key, "quantize")
    s = Sampler(kind, bounds[0], bounds[1], dist, q)
    if (problem := s.problem()) is not None:
        raise r.error(problem, "axes", key)
    return s


def _axis(r: _Reader, key: Any, raw: Any, mode: str | None, base: dict[str, Any] | None) -> Axis:
    """One axis; ``mode`` None: the mode itself is in error; ``base`` None: the base is."""
    if not isinstance(key, str) or not key:
        raise r.error(f"an axis is a dotted key path of the base spec, got {key!r}", "axes")
    path = parse_path(key)
    if base is not None and (problem := path_problem(base, path)) is not None:
        raise r.error(problem, "axes", key)
    if isinstance(raw, list):
        if not raw:
            raise r.error("empty axis: give at least one value", "axes", key)
        if any(isinstance(v, float) and not math.isfinite(v) for v in raw):
            raise r.error(f"values must be finite numbers, got {raw!r}", "axes", key)
        return Axis(key, path, values=tuple(raw))
    if isinstance(raw, dict):
        if mode not in ("random", None):
            raise r.error(f"a sampler needs mode: random (mode is {mode})", "axes", key)
        return Axis(key, path, sampler=_sampler(r, raw, key))
    raise r.error(f"an axis takes a list of values or a sampler, got {raw!r}", "axes", key)


def _axes(
    r: _Reader, doc: dict[str, Any], mode: str | None, base: dict[str, Any] | None
) -> tuple[Axis, ...]:
    """Every axis; each bad one is recorded and the others still read."""
    raw = doc.get("axes")
    if not isinstance(raw, dict) or not raw:
        raise r.error("axes: a non-empty mapping of key path -> values is required", "axes")
    found = [r.attempt(partial(_axis, r, k, v, mode, base), None) for k, v in raw.items()]
    axes = tuple(a for a in found if a is not None)
    if mode == "zip" and len(axes) == len(found):
        lengths = {a.key: len(a.values or ()) for a in axes}
        if len(set(lengths.values())) > 1:
            raise r.error(f"zip axes must have equal lengths, got {lengths}", "axes")
    return axes


def _bounds(r: _Reader, metric: Any, bounds: Any) -> tuple[float | None, float | None]:
    if metric not in METRICS:
        raise r.error(f"unknown metric (choose from {', '.join(METRICS)})", "constraints", metric)
    ok = isinstance(bounds, list) and len(bounds) == 2
    if not ok or not all(b is None or _number(b) for b in bounds):
        raise r.error("must be [low, high] (null for no bound)", "constraints", metric)
    lo, hi = bounds
    if lo is not None and hi is not None and lo > hi:
        raise r.error(f"empty range: {lo} > {hi}", "constraints", metric)
    return lo, hi


def _constraints(r: _Reader, raw: Any) -> dict[str, tuple[float | None, float | None]]:
    """``constraints:``, each bad metric recorded."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise r.error("constraints: a mapping {metric: [low, high]}", "constraints")
    found = {m: r.attempt(partial(_bounds, r, m, b), None) for m, b in raw.items()}
    return {m: b for m, b in found.items() if b is not None}


def _setting_ok(kind: type, value: Any) -> bool:
    """``value`` fits a setting whose default is a ``kind``; numbers must be positive."""
    if kind in (int, float):
        whole = kind is int and isinstance(value, int)
        return _number(value) and value > 0 and (whole or kind is float)  # finite, not bool
    return isinstance(value, kind)


def _setting(r: _Reader, key: Any, value: Any) -> Any:
    """One ``measure:`` setting, checked against its default's type."""
    if key not in SETTING_DEFAULTS:
        keys = ["what", *SETTING_DEFAULTS]
        hint = suggest(str(key), keys)
        message = f"unknown measure setting {key!r}{hint} (allowed: {', '.join(keys)})"
        raise r.error(message, "measure", key, at_key=True)
    kind = type(SETTING_DEFAULTS[key])
    if not _setting_ok(kind, value):
        raise r.error(f"expected {EXPECTED[kind]}", "measure", key)
    return value


def _measure(r: _Reader, raw: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """``measure:``: a list of measurements, or ``{what: [...], setting: value}``; each bad
    setting is recorded."""
    if raw is None:
        return (), {}
    if isinstance(raw, str):
        raw = [raw]
    settings = dict(SETTING_DEFAULTS)
    if isinstance(raw, dict):
        for key, value in raw.items():
            if key != "what":
                settings[key] = r.attempt(partial(_setting, r, key, value), settings.get(key))
        raw = raw.get("what", [])
    if not isinstance(raw, list) or any(m not in MEASURES for m in raw):
        raise r.error(f"expected a list of {', '.join(MEASURES)}", "measure")
    return tuple(raw), settings


def _top_keys(r: _Reader, doc: dict[str, Any]) -> None:
    """Records every unknown top-level key."""
    for key in doc:
        if key not in TOP_KEYS:
            hint = suggest(str(key), list(TOP_KEYS))
            message = f"unknown key{hint} (allowed: {', '.join(TOP_KEYS)})"
            r.problems.append(r.error(message, key, at_key=True))


def _scalars(r: _Reader, doc: dict[str, Any]) -> tuple[str, str | None, int, int | None]:
    """Name, mode (None when it is in error), seed and n; each problem is recorded."""
    _top_keys(r, doc)
    name, mode = doc.get("sweep"), doc.get("mode", "grid")
    if not isinstance(name, str) or not name:
        r.problems.append(r.error("sweep: a name is required (sweep: my-sweep)", "sweep"))
    if mode not in MODES:
        message = f"unknown mode {mode!r} (choose from {', '.join(MODES)})"
        r.problems.append(r.error(message, "mode"))
        mode = None
    seed, n = doc.get("seed", 0), doc.get("n")
    if not isinstance(seed, int) or isinstance(seed, bool):
        r.problems.append(r.error("seed must be an integer", "seed"))
    if mode == "random" and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        message = "random mode needs n: the number of configs to sample (a positive integer)"
        if n is not None:
            message += f", got {n!r}"
        r.problems.append(r.error(message, "n" if n else "mode"))
    return str(name), mode, seed, n


def _base(r: _Reader, doc: dict[str, Any], path: Path) -> tuple[Path, dict[str, Any], SourceMap]:
    """The base spec's path, merged document and source map."""
    if not isinstance(doc.get("base"), str):
        raise r.error("base: a catalog name or a spec path is required", "base")
    try:
        base_path = find_spec(doc["base"], relative_to=path)
    except SpecError as exc:
        raise r.error(exc.message, "base") from None
    base_doc, base_smap = load_merged(base_path, find_spec)
    if "trait" in base_doc:  # a partial spec: sweep a network that mixes it in
        raise r.error(
            f"{doc['base']!r} is a trait, not a network; sweep a spec file that extends a "
            f"network with it (`extends: [resnet50, {doc['base']}]`)",
            "base",
        )
    return base_path, base_doc, base_smap


def _solve(r: _Reader, raw: Any) -> Solve | None:
    if raw is None:
        return None
    usage = f"expected {{preserve: {'|'.join(PRESERVE)}, per_stage: false, target: 4.1e9}}"
    if not isinstance(raw, dict) or raw.get("preserve") not in PRESERVE:
        raise r.error(usage, "solve", *(["preserve"] if isinstance(raw, dict) else []))
    for key in raw:
        if key not in ("preserve", "per_stage", "target"):
            hint = suggest(str(key), ["preserve", "per_stage", "target"])
            raise r.error(f"unknown key {key!r}{hint}; {usage}", "solve", key, at_key=True)
    per_stage, target = raw.get("per_stage", False), raw.get("target")
    if not isinstance(per_stage, bool):
        raise r.error("per_stage: true or false", "solve", "per_stage")
    if per_stage and raw["preserve"] not in NET_TARGETS:
        message = f"per_stage needs a whole-network target (preserve: {'|'.join(NET_TARGETS)})"
        raise r.error(message, "solve", "per_stage")
    if target is not None and (not _number(target) or target <= 0):
        raise r.error("target: a positive number (e.g. 4.1e9)", "solve", "target")
    return Solve(raw["preserve"], per_stage, None if target is None else round(target))


def load_sweep(path: Path) -> SweepSpec:
    """Read and validate a sweep file (each axis is checked against the base spec).

    Raises:
        SpecError: located at the sweep file's offending key; ``SpecErrors`` (every problem,
            in file order) when there are several.
    """
    text = read_text(path, "sweep file")  # an unreadable or non-UTF-8 file: a located SpecError
    doc, smap = load_yaml(text, path)
    r = _Reader(smap)
    if not isinstance(doc, dict):
        raise r.error("a sweep file is a mapping (sweep, base, mode, axes, ...)")
    name, mode, seed, n = _scalars(r, doc)
    solve: Solve | None = r.attempt(partial(_solve, r, doc.get("solve")), None)
    base = r.attempt(partial(_base, r, doc, path), None)
    axes: tuple[Axis, ...] = r.attempt(partial(_axes, r, doc, mode, base[1] if base else None), ())
    if solve is not None and any(a.key == "block.width_per_group" for a in axes):
        message = "solve derives block.width_per_group; do not sweep it too"
        r.problems.append(r.error(message, "solve"))
    no_measure: tuple[tuple[str, ...], dict[str, Any]] = ((), {})
    measure = r.attempt(partial(_measure, r, doc.get("measure")), no_measure)
    bounds: dict[str, tuple[float | None, float | None]] = r.attempt(
        partial(_constraints, r, doc.get("constraints")), {}
    )
    if base is not None:
        r.problems += axis_problems(base[1], base[2], axes, smap)
    r.raise_problems()
    if base is None or mode is None:  # unreachable: each is None only after a problem
        raise SpecError("invalid sweep file", None, str(path))
    return SweepSpec(name, path, *base, mode, axes, solve, bounds, seed, n, *measure, smap)

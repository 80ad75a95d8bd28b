"""Each axis value checked once, when the sweep file loads: applied alone to the base it must
give a valid spec that reads the value as written (never a boolean or a float as an integer)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from archprobe.errors import SpecError
from archprobe.spec.errors_map import locate
from archprobe.spec.loader import validate
from archprobe.spec.merge import set_path
from archprobe.spec.strict_yaml import KeyPath, SourceMap

if TYPE_CHECKING:
    from archprobe.sweep.spec import Axis


def axis_problems(
    base_doc: dict[str, Any], base_smap: SourceMap, axes: tuple[Axis, ...], smap: SourceMap
) -> list[SpecError]:
    """Each listed value (each sampler bound) applied alone to the base must give a valid spec
    that keeps the value as written (``true`` or ``2.0`` where the spec reads an integer would be
    read as 1 or 2); one error per axis whose value does not, located at the axis."""
    problems = []
    for axis in axes:
        s = axis.sampler
        values = axis.values or (s.sample(random.Random(0)),) if s else axis.values or ()
        for value in values:
            try:
                spec = validate(set_path(dict(base_doc), axis.path, value), base_smap)
                text = _retyped(value, spec.model_dump(), axis.path)
            except SpecError as exc:
                text = exc.format().split(": ", 1)[-1].replace("\n", "; ")
            if text:
                where = locate(smap, ("axes", axis.key))
                message = f"value {value!r} gives an invalid spec: {text}"
                problems.append(SpecError(message, where, f"axes.{axis.key}"))
                break
    return problems


def _retyped(value: Any, data: Any, path: KeyPath) -> str:
    """Why the spec read ``value`` as another type (a boolean or a float as an integer), or ""."""
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif (
            isinstance(data, dict) and isinstance(data.get("block"), dict) and part in data["block"]
        ):
            data = data["block"][part]  # stages.<i>.<key>: a block key set on one stage
        elif isinstance(data, list | tuple) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:  # a generator's key (consumed) or a key the spec does not keep: nothing to compare
            return ""
    if isinstance(value, bool) and not isinstance(data, bool):
        return f"{'.'.join(map(str, path))} takes a number, not true/false"
    if isinstance(value, float) and isinstance(data, int) and not isinstance(data, bool):
        return f"{'.'.join(map(str, path))} takes an integer, got {value!r} (write {int(value)})"
    return ""

"""Stage generators: a top-level key whose few numbers stand for the stage table.

RegNet's ``regnet: {w0, wa, wm, depth, group_width, ...}`` (Radosavovic et al. 2020 §3.3) and
EfficientNet's compound ``scaling: {width, depth}`` (Tan & Le 2019 §3.3) are not knobs of one
block: they rewrite ``stages:`` (and the stem and head widths) before the spec is validated.
A generator runs on the merged mapping, after ``extends:``, so a child may change ``regnet.wa``
or a sweep may vary it; the key is consumed, and every key it writes is located at the
generator's own key, so an impossible result points at the line that asked for it. ``show
--resolved`` prints what it wrote.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar, Protocol

from pydantic import ValidationError, create_model

from archprobe.blocks.base import KnobModel
from archprobe.errors import SpecError
from archprobe.spec.strict_yaml import KeyPath, SourceMap


class Generator(Protocol):
    key: ClassVar[str]  # the top-level spec key it reads
    Params: ClassVar[type[KnobModel]]

    @staticmethod
    def apply(p: Any, doc: dict[str, Any]) -> dict[str, Any]:
        """``doc`` (without the generator's key) with the keys it generates set.

        Raises:
            ValueError: the parameters give no valid network (the message says why).
        """
        ...


GENERATORS: dict[str, type[Generator]] = {}
"""Every generator by the top-level key it reads."""


def register_generator(cls: type[Generator]) -> type[Generator]:
    """Class decorator: a generator for the top-level key ``cls.key``."""
    if cls.key in GENERATORS:
        raise ValueError(f"generator key {cls.key!r} is already registered")
    GENERATORS[cls.key] = cls
    return cls


@cache
def _wrapper(key: str, gen: type[Generator]) -> type[KnobModel]:
    """A one-field model around ``gen.Params``, so errors are located at ``key.…`` like any
    spec key (made once: building a pydantic model is most of a generated spec's validation)."""
    fields: dict[str, Any] = {key: (gen.Params, ...)}
    return create_model(f"{key}_generator", __base__=KnobModel, **fields)


def _params(key: str, gen: type[Generator], raw: Any, smap: SourceMap) -> Any:
    from archprobe.spec.errors_map import to_spec_error

    wrapper = _wrapper(key, gen)
    try:
        return getattr(wrapper.model_validate({key: raw}), key)
    except ValidationError as exc:
        raise to_spec_error(exc, {key: raw}, smap) from None


def _changed(old: Any, new: Any, path: KeyPath) -> list[KeyPath]:
    """The key paths under which ``new`` differs from ``old`` (whole lists count as one)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [p for k in new for p in _changed(old.get(k), new[k], (*path, k))]
    return [] if old == new else [path]


def generate(doc: dict[str, Any], smap: SourceMap) -> tuple[dict[str, Any], SourceMap]:
    """Run every generator whose key ``doc`` has; return the rewritten mapping and source map.

    Raises:
        SpecError: located at the generator's key (bad parameters, or no valid network).
    """
    for key, gen in GENERATORS.items():
        if key not in doc:
            continue
        p = _params(key, gen, doc[key], smap)
        rest = {k: v for k, v in doc.items() if k != key}
        where = smap.get((key,), smap[()])
        try:
            new = gen.apply(p, rest)
        except ValueError as exc:
            raise SpecError(str(exc), where.value, key) from None
        smap = {**smap, **{path: where for path in _changed(rest, new, ())}}
        doc = new
    return doc, smap


def stage_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``stages:`` entries of a mapping, each a plain dict (a generator's input)."""
    stages = doc.get("stages")
    if not isinstance(stages, list) or not all(isinstance(s, dict) for s in stages):
        raise ValueError("needs a `stages:` list of mappings to scale")
    return [dict(s) for s in stages]


# Built-in generators, each one file, imported explicitly once (after the registry exists):
from archprobe.spec.generators import regnet, scaling, width_mult  # noqa: E402, F401

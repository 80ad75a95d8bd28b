"""Turn pydantic validation errors into ``file:line:col: key.path: message`` SpecErrors.

Each error's ``loc`` is mapped through the SourceMap (nearest recorded ancestor as a fallback),
unknown keys get a did-you-mean from the fields allowed at that place, and enum errors name the
bad value and the allowed set (STYLE rule 5).
"""

from __future__ import annotations

import difflib
import re
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from archprobe.blocks import PARTS
from archprobe.errors import SourceLoc, SpecError, SpecErrors
from archprobe.spec.schema import DEFAULT_TYPES, STAGE_KEYS, ArchSpec, InputSpec, StageSpec
from archprobe.spec.strict_yaml import KeyPath, SourceMap


def _part(key: int | str) -> dict[str, Any]:
    """The part registry a spec key holds (``block``, ``stem``, ...), else an empty one."""
    return PARTS.get(key, {}) if isinstance(key, str) else {}


def clean_loc(loc: tuple[int | str, ...]) -> KeyPath:
    """Drop the discriminator tags pydantic inserts after a part's key in error locations."""
    out: list[int | str] = []
    for i, part in enumerate(loc):
        if i and isinstance(part, str) and part in _part(loc[i - 1]):
            continue
        out.append(part)
    return tuple(out)


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _typed_model(key: str, node: Any) -> type[BaseModel] | None:
    """The ``Params`` of the part a mapping under ``key`` names by its ``type``."""
    kind = node.get("type", DEFAULT_TYPES.get(key)) if isinstance(node, dict) else None
    registry = _part(key)
    return registry[kind].Params if kind in registry else None


def _nested(model: type[BaseModel] | None, key: int | str) -> type[BaseModel] | None:
    """The model of field ``key`` of ``model`` (``block.se``, ``head.conv``), if it is one."""
    info = model.model_fields.get(str(key)) if model else None
    for ann in (info.annotation, *get_args(info.annotation)) if info else ():
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            return ann
    return None


def _model_at(data: Any, parent: KeyPath) -> type[BaseModel] | None:
    """The model of the mapping at ``parent``: a part's Params, or a model nested in one."""
    at = max((i for i, k in enumerate(parent) if _part(k)), default=None)
    if at is None:
        return None
    key = str(parent[at])
    model = _typed_model(key, _get(data, parent[: at + 1]))
    for k in parent[at + 1 :]:
        model = _nested(model, k)
    return model


def allowed_keys(data: Any, parent: KeyPath) -> list[str]:
    """Keys a mapping at ``parent`` may hold (for did-you-mean)."""
    fixed: dict[KeyPath, type[BaseModel]] = {(): ArchSpec, ("input",): InputSpec}
    if parent in fixed:
        keys = list(fixed[parent].model_fields)
        return [*keys, "extends"] if parent == () else keys
    if parent[:1] == ("stages",) and len(parent) == 2:
        return list(StageSpec.model_fields)
    model = _model_at(data, parent)
    keys = list(model.model_fields) if model else []
    if parent[:1] == ("stages",):  # stage-level overrides live beside depth/width/stride
        keys += sorted(STAGE_KEYS)
    return keys


def suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _quoted(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


_YAML_KINDS = {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list"}


def _yaml_kind(value: Any) -> str:
    """What a value is, in YAML words (``stages: {}`` is "a mapping", not "a dict")."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    kind = _YAML_KINDS.get(type(value), type(value).__name__)
    return kind if isinstance(value, (dict, list)) else f"{kind} {value!r}"


def _shape_message(err: ErrorDetails, path: KeyPath) -> str | None:
    """Messages for a value of the wrong shape: a mapping or list expected, an empty or too
    long list; a validator's own message without pydantic's prefix."""
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        registry = _part(path[-1]) if path else {}
        hint = ""
        if isinstance(value, str) and value in registry:
            hint = f"; did you mean '{path[-1]}: {{type: {value}}}'?"
        if len(path) == 2 and path[0] == "stages":
            hint = "; a stage is {depth: N, width: W, stride: S}"
        return f"expected a mapping ({{key: value, ...}}), got {_yaml_kind(value)}{hint}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list ([...] or lines starting with '- '), got {_yaml_kind(value)}"
    if kind == "too_short" and isinstance(value, list) and not value:
        return "must not be empty"
    if kind == "too_long" and isinstance(value, list):  # a budget (spec/limits.py)
        what = path[-1] if path and isinstance(path[-1], str) else "items"
        return f"{len(value):,} {what}, over the limit of {ctx.get('max_length', '?'):,}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "string_pattern_mismatch" and path == ("name",):
        return f"use letters, digits, '_', '.' and '-' only, no spaces (got {value!r})"
    return None


def _message(err: ErrorDetails, data: Any, path: KeyPath) -> str:
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "extra_forbidden":
        allowed = allowed_keys(data, path[:-1])
        return f"unknown key{suggest(str(path[-1]), allowed)} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return f"missing required key {path[-1]!r}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        what = next(str(k) for k in reversed(path) if _part(k))
        tags = list(_part(what))
        choices = ", ".join(map(repr, tags))
        if kind == "union_tag_not_found":
            return f"missing key 'type' (the {what} type: one of {choices})"
        tag = str(ctx.get("tag"))
        return f"unknown {what} type {tag!r}{suggest(tag, tags)} (allowed: {choices})"
    shaped = _shape_message(err, path)
    if shaped is not None:
        return shaped
    msg = err["msg"]
    if not isinstance(value, (dict, list)):
        msg += f" (got {value!r})"
    if kind == "literal_error":
        msg += suggest(str(value), _quoted(str(ctx.get("expected", ""))))
    return msg


def locate(smap: SourceMap, path: KeyPath, want_key: bool = False) -> SourceLoc | None:
    """The recorded location of ``path`` or of its nearest recorded ancestor."""
    for n in range(len(path), -1, -1):
        found = smap.get(path[:n])
        if found is not None:
            return (found.key or found.value) if want_key else found.value
    return None


def _stage_block_key(path: KeyPath) -> KeyPath | None:
    """``rest`` of a ``stages.<i>.block.<rest>`` path, else None."""
    if len(path) >= 3 and path[0] == "stages" and path[2] == "block":
        return path[3:]
    return None


def _repeats_model_block(
    path: KeyPath, kind: str, model_block: set[tuple[KeyPath, str]], smap: SourceMap
) -> bool:
    """A stage's block error that only repeats an error of the model-level ``block:``.

    Every stage copies the model-level block, so one typo there would otherwise be reported once
    for ``block`` and again for every stage that does not override the key.
    """
    rest = _stage_block_key(path)
    if rest is None:
        return False
    if not rest:  # the block as a whole (no type, not a mapping): broken at model level too?
        return any(not p for p, _ in model_block)
    return (rest, kind) in model_block and ("stages", path[1], rest[0]) not in smap


def _shown(path: KeyPath, smap: SourceMap) -> str:
    """The key path as the user wrote it: a stage override ``stages.0.groups`` sits beside
    ``depth`` in the file, not under the ``block`` the loader files it in."""
    rest = _stage_block_key(path)
    if rest and ("stages", path[1], rest[0]) in smap:
        path = (*path[:2], *rest)
    return ".".join(map(str, path))


def to_spec_error(exc: ValidationError, data: Any, smap: SourceMap) -> SpecErrors:
    found: list[tuple[KeyPath, ErrorDetails]] = []
    for err in exc.errors(include_url=False):
        path = clean_loc(err["loc"])
        if err["type"] in ("union_tag_invalid",) and _get(data, (*path, "type")) is not None:
            path = (*path, "type")
        value = err.get("input")
        if err["type"] == "too_short" and isinstance(value, list) and value:
            continue  # pydantic's follow-up to item errors ("at least 1 item after validation")
        found.append((path, err))
    model_block = {(p[1:], e["type"]) for p, e in found if p[:1] == ("block",)}
    errors = []
    for path, err in found:
        if _repeats_model_block(path, err["type"], model_block, smap):
            continue
        loc = locate(smap, path, want_key=err["type"] == "extra_forbidden")
        errors.append(SpecError(_message(err, data, path), loc, _shown(path, smap)))
    return SpecErrors(errors)

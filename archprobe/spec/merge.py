"""`extends:` resolution: deep-merge a spec over its bases, keeping where every key was set.

Rules (DESIGN §7.7, fvcore ``_BASE_`` made explicit): ``extends`` takes a catalog name, a path
relative to the including file, or a list of either, applied left to right, then the child on top.
Mappings merge, lists and scalars replace. ``name``, ``aliases``, ``published`` and ``trait``
belong to the file that states them and are never inherited (so a network extending a trait is a
network). Cycles are errors.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from archprobe.errors import SourceLoc, SpecError
from archprobe.spec.strict_yaml import KeyPath, Located, SourceMap, load_yaml

NOT_INHERITED = ("name", "aliases", "published", "trait")


def _subtree(smap: SourceMap, prefix: KeyPath) -> SourceMap:
    n = len(prefix)
    return {k: v for k, v in smap.items() if k[:n] == prefix}


def deep_merge(
    base: dict[str, Any],
    base_map: SourceMap,
    top: dict[str, Any],
    top_map: SourceMap,
    path: KeyPath = (),
) -> tuple[dict[str, Any], SourceMap]:
    """Merge ``top`` over ``base``; the source map follows whichever side set each key."""
    out = dict(base)
    smap = dict(base_map)
    for key, value in top.items():
        child = (*path, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key], smap = deep_merge(out[key], smap, value, top_map, child)
            smap[child] = top_map.get(child, smap[child])
            continue
        for stale in _subtree(smap, child):  # a replaced list/scalar drops the base's locations
            del smap[stale]
        out[key] = value
        smap.update(_subtree(top_map, child))
    return out, smap


def _refs(doc: dict[str, Any], smap: SourceMap) -> list[tuple[str, Located]]:
    raw = doc.pop("extends")
    loc = smap[("extends",)]
    if isinstance(raw, str):
        return [(raw, loc)]
    if isinstance(raw, list) and raw and all(isinstance(r, str) for r in raw):
        return [(r, smap[("extends", i)]) for i, r in enumerate(raw)]
    raise SpecError(
        f"must be a catalog name, a relative path or a list of them, got {raw!r}",
        loc.value,
        "extends",
    )


def read_source(path: Path, what: str = "spec file") -> str:
    """A spec or sweep file's text; unreadable files and non-UTF-8 bytes as located SpecErrors."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read {what}: {exc.strerror}", None, str(path)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        where = SourceLoc(path, raw.count(b"\n", 0, exc.start) + 1, exc.start - line_start + 1)
        raise SpecError(f"not UTF-8 text (byte {raw[exc.start]:#04x})", where) from None


def _find(
    find: Callable[[str, Path], Path], ref: str, path: Path, at: SourceLoc, key_path: str
) -> Path:
    """``find(ref, path)``, its errors located at the ``extends`` entry that named ``ref``."""
    try:
        return find(ref, path)
    except SpecError as exc:
        if exc.loc is not None:
            raise
        raise SpecError(exc.message, at, key_path) from None


def load_merged(
    path: Path, find: Callable[[str, Path], Path], stack: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], SourceMap]:
    """Read ``path`` and everything it extends into one dict plus its source map.

    Args:
        path: the spec file.
        find: resolves an ``extends`` reference (catalog name or relative path) seen in a file.
        stack: files currently being loaded, for cycle detection.
    """
    doc, smap = load_yaml(read_source(path), path)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise SpecError(
            "a spec must be a mapping of keys (name, stem, block, stages, ...), "
            f"got {type(doc).__name__}",
            smap[()].value,
        )
    if "extends" not in doc:
        return doc, smap
    merged: dict[str, Any] = {}
    merged_map: SourceMap = {(): smap[()]}
    for i, (ref, loc) in enumerate(_refs(doc, smap)):
        key_path = f"extends.{i}" if ("extends", 0) in smap else "extends"
        base_path = _find(find, ref, path, loc.value, key_path)
        if base_path.resolve() in stack or base_path.resolve() == path.resolve():
            chain = " -> ".join(p.name for p in (*stack, path.resolve(), base_path.resolve()))
            raise SpecError(f"extends cycle: {chain}", loc.value, key_path)
        try:
            base, base_map = load_merged(base_path, find, (*stack, path.resolve()))
        except SpecError as exc:
            exc.message = f"{exc.message}\n  (in a base of {path}, extends {ref!r} at {loc.value})"
            exc.args = (exc.format(),)
            raise
        for key in NOT_INHERITED:
            base.pop(key, None)
            for stale in _subtree(base_map, (key,)):
                del base_map[stale]
        merged, merged_map = deep_merge(merged, merged_map, base, base_map)
    smap = {k: v for k, v in smap.items() if k[:1] != ("extends",)}
    return deep_merge(merged, merged_map, doc, smap)


def set_path(doc: Any, path: KeyPath, value: Any) -> Any:
    """A copy of ``doc`` with ``path`` set (only the containers along the path are copied)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, list):
        out_list = list(doc)
        out_list[int(head)] = set_path(doc[int(head)], rest, value)
        return out_list
    out = dict(doc) if isinstance(doc, dict) else {}
    out[head] = set_path(out.get(head, {}), rest, value)
    return out

"""`extends:` resolution: deep-merge a spec over its bases, keeping where every key was set.

Rules (DESIGN §7.7, fvcore ``_BASE_`` made explicit): ``extends`` takes a catalog name, a path
relative to the including file, or a list of either, applied left to right, then the child on top.
Mappings merge, lists and scalars replace. ``name``, ``aliases``, ``published`` and ``trait``
belong to the file that states them and are never inherited (so a network extending a trait is a
network). Cycles are errors.

Each file is parsed once per process (memoised by its bytes), and a merged base is memoised with
the bytes of every file it was made from, so a diamond or a fan-out of bases costs one load each;
the files one spec's ``extends:`` tree names, and its depth, are budgets
(:mod:`archprobe.spec.limits`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from archprobe.errors import SourceLoc, SpecError
from archprobe.spec.limits import MAX_EXTENDS_DEPTH, MAX_EXTENDS_FILES, MAX_FILE_BYTES
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


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))


def read_bytes(path: Path, what: str = "spec file") -> bytes:
    """A spec file's bytes: a regular file under :data:`MAX_FILE_BYTES`. Checked with ``stat``
    first, so a FIFO or device is never opened (reading one would block or never end).

    Raises:
        SpecError: unreadable, not a regular file, or over the size limit.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            kind = next((k for test, k in _KINDS if test(st.st_mode)), "a device")
            raise SpecError(f"not a {what}: {kind}, not a regular file", None, str(path))
        if st.st_size > MAX_FILE_BYTES:
            raise SpecError(
                f"{what} of {st.st_size:,} bytes, over the limit of {MAX_FILE_BYTES:,}",
                None,
                str(path),
            )
        with open(path, "rb") as f:
            return f.read(MAX_FILE_BYTES + 1)  # a file that grew since stat: still bounded
    except OSError as exc:
        raise SpecError(f"cannot read {what}: {exc.strerror}", None, str(path)) from None


def decode(raw: bytes, path: Path) -> str:
    """UTF-8 text of a spec file's bytes.

    Raises:
        SpecError: located at the first byte that is not UTF-8.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        where = SourceLoc(path, raw.count(b"\n", 0, exc.start) + 1, exc.start - line_start + 1)
        raise SpecError(f"not UTF-8 text (byte {raw[exc.start]:#04x})", where) from None


def read_text(path: Path, what: str = "spec file") -> str:
    """A spec (or sweep) file's text (:func:`read_bytes`, then :func:`decode`)."""
    return decode(read_bytes(path, what), path)


def copy_data(data: Any) -> Any:
    """A copy of plain YAML data: new dicts and lists, the (immutable) scalars shared."""
    if isinstance(data, dict):
        return {k: copy_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [copy_data(v) for v in data]
    return data


@lru_cache(maxsize=1024)
def _parsed(name: str, raw: bytes) -> tuple[Any, SourceMap]:
    path = Path(name)
    return load_yaml(decode(raw, path), path)


def parse_file(path: Path, raw: bytes | None = None) -> tuple[Any, SourceMap]:
    """``load_yaml`` of a file, parsed once per process for the same bytes (a copy each call)."""
    doc, smap = _parsed(str(path), read_bytes(path) if raw is None else raw)
    return copy_data(doc), dict(smap)


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


@dataclass(frozen=True)
class _Merged:
    """A file merged over its bases, with what it was made from (memoised per process)."""

    doc: dict[str, Any]
    smap: SourceMap
    deps: tuple[tuple[Path, bytes], ...]  # every file of the extends tree, with its bytes
    files: int  # files the tree names, repeats counted


_MEMO: dict[tuple[str, bytes, int, str], _Merged] = {}
_MEMO_SIZE = 1024


def _fresh(m: _Merged, stack: tuple[Path, ...]) -> bool:
    """A memoised merge still holds: every file it read has the same bytes and none of them is
    being loaded further up (which would make it a cycle)."""
    try:
        return all(p not in stack and read_bytes(p) == raw for p, raw in m.deps)
    except SpecError:
        return False


def _mapping(doc: Any, smap: SourceMap) -> dict[str, Any]:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise SpecError(
            "a spec must be a mapping of keys (name, stem, block, stages, ...), "
            f"got {type(doc).__name__}",
            smap[()].value,
        )
    return doc


def _base(
    path: Path, ref: str, loc: Located, key_path: str, find: Callable[[str, Path], Path],
    stack: tuple[Path, ...],
) -> _Merged:  # fmt: skip
    """The merged base ``ref`` names in ``path``'s ``extends`` (located errors)."""
    base_path = _find(find, ref, path, loc.value, key_path)
    here = path.resolve()
    if base_path.resolve() in stack or base_path.resolve() == here:
        chain = " -> ".join(p.name for p in (*stack, here, base_path.resolve()))
        raise SpecError(f"extends cycle: {chain}", loc.value, key_path)
    if len(stack) + 1 >= MAX_EXTENDS_DEPTH:
        raise SpecError(
            f"extends chain longer than {MAX_EXTENDS_DEPTH} files (limit)", loc.value, key_path
        )
    try:
        return _merge(base_path, find, (*stack, here))
    except SpecError as exc:
        exc.message = f"{exc.message}\n  (in a base of {path}, extends {ref!r} at {loc.value})"
        exc.args = (exc.format(),)
        raise


def _merge(path: Path, find: Callable[[str, Path], Path], stack: tuple[Path, ...]) -> _Merged:
    raw = read_bytes(path)
    key = (str(path), raw, id(find), os.environ.get("ARCHPROBE_SPECS", ""))
    hit = _MEMO.get(key)
    if hit is not None and _fresh(hit, stack):
        return hit
    doc, smap = parse_file(path, raw)
    doc = _mapping(doc, smap)
    deps: tuple[tuple[Path, bytes], ...] = ((path.resolve(), raw),)
    files = 1
    if "extends" in doc:
        merged: dict[str, Any] = {}
        merged_map: SourceMap = {(): smap[()]}
        for i, (ref, loc) in enumerate(_refs(doc, smap)):
            key_path = f"extends.{i}" if ("extends", 0) in smap else "extends"
            base = _base(path, ref, loc, key_path, find, stack)
            files += base.files
            if files > MAX_EXTENDS_FILES:
                raise SpecError(
                    f"extends names more than {MAX_EXTENDS_FILES} files in all, bases of bases "
                    "and repeats counted (limit)",
                    loc.value,
                    key_path,
                )
            deps += base.deps
            inherited = {k: v for k, v in base.doc.items() if k not in NOT_INHERITED}
            base_map = {k: v for k, v in base.smap.items() if k[:1] not in _NOT_INHERITED_PATHS}
            merged, merged_map = deep_merge(merged, merged_map, inherited, base_map)
        smap = {k: v for k, v in smap.items() if k[:1] != ("extends",)}
        doc, smap = deep_merge(merged, merged_map, doc, smap)
    result = _Merged(doc, smap, deps, files)
    if len(_MEMO) >= _MEMO_SIZE:  # a long session (a sweep of temporary files): start over
        _MEMO.clear()
    _MEMO[key] = result
    return result


_NOT_INHERITED_PATHS = {(k,) for k in NOT_INHERITED}


def load_merged(
    path: Path, find: Callable[[str, Path], Path], stack: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], SourceMap]:
    """Read ``path`` and everything it extends into one dict plus its source map.

    Args:
        path: the spec file.
        find: resolves an ``extends`` reference (catalog name or relative path) seen in a file.
        stack: files currently being loaded, for cycle detection.

    Returns:
        A fresh copy: the caller may change it.
    """
    m = _merge(path, find, stack)
    return copy_data(m.doc), dict(m.smap)


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


def dependencies(path: Path, find: Callable[[str, Path], Path]) -> tuple[tuple[Path, bytes], ...]:
    """Every file ``path``'s ``extends:`` tree reads (itself first), with the bytes it was merged
    from (memoised: no parse when it was loaded in this process)."""
    return _merge(path, find, ()).deps

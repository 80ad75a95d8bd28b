"""The spec catalog: name or alias -> spec file.

Search path, first match wins: the directories in ``$ARCHPROBE_SPECS`` (``os.pathsep``
separated), then the built-in catalog (``specs/`` of the source tree, shipped in the wheel as
``archprobe/specs``). A name defined twice in one directory is an error.

Two kinds of entries share one namespace, so ``extends: [resnet50, deep_stem]`` resolves both:

- networks, named by their ``name:`` (and ``aliases:``);
- traits, partial specs named by a ``trait:`` key (``specs/traits/*.yaml``): mixed into a network
  with ``extends:``, never loaded alone (:func:`archprobe.spec.loader.validate` refuses them).

Other files without ``name:`` or ``trait:`` (sweep files, scratch partials) stay out of the
catalog, reachable by path only.

A file the scan cannot use (not UTF-8, not YAML, a bad ``trait:``, a directory named ``x.yaml``,
a FIFO or device, which are never opened) is skipped and reported once, in one line on stderr,
so one bad file in ``$ARCHPROBE_SPECS`` does not break every catalog-name command. What each
file defines is cached (``archprobe/spec/index.py``), so a scan stats files instead of parsing.
"""

from __future__ import annotations

import difflib
import os
import stat
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from archprobe.errors import SpecError
from archprobe.spec import index
from archprobe.spec.merge import parse_file
from archprobe.spec.strict_yaml import SourceMap

_PACKAGE = Path(__file__).resolve().parent.parent


Kind = Literal["network", "trait"]


@dataclass(frozen=True)
class CatalogEntry:
    """One catalog name: a network (``name:``) or a trait (``trait:``) and its file."""

    name: str
    aliases: tuple[str, ...]
    path: Path
    kind: Kind = "network"


def builtin_dir() -> Path:
    for candidate in (_PACKAGE / "specs", _PACKAGE.parent / "specs"):
        if candidate.is_dir():
            return candidate
    raise SpecError("the built-in spec catalog is missing; reinstall archprobe")


def search_path() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("ARCHPROBE_SPECS", "").split(os.pathsep) if p]
    return [*extra, builtin_dir()]


def _trait_name(doc: dict[str, Any], smap: SourceMap, path: Path) -> str:
    """The ``trait:`` of a partial spec, checked: a plain catalog name, and no ``name:`` too."""
    value, where = doc["trait"], smap[("trait",)].value
    if "name" in doc:
        raise SpecError(
            "a spec file is a network (`name:`) or a trait (`trait:`), not both; "
            "drop `trait:` to make a network, or `name:` to make a trait",
            where,
            "trait",
        )
    if not isinstance(value, str) or not value or _looks_like_path(value):
        raise SpecError(
            f"must be a catalog name such as {path.stem!r} (no '/', no .yaml), got {value!r}",
            where,
            "trait",
        )
    return value


def _entry(path: Path) -> list[Any] | None:
    """What a file defines, as the index stores it: ``[kind, name, aliases]``, or None (sweep
    files, partials without ``trait:``).

    Raises:
        SpecError: the file cannot be read or parsed, or its ``trait:`` is bad (located).
    """
    doc, smap = parse_file(path)
    if not isinstance(doc, dict):
        return None
    if "trait" in doc:
        return ["trait", _trait_name(doc, smap, path), []]
    if not isinstance(doc.get("name"), str):
        return None  # sweep files and untagged partial specs are reachable by path only
    return ["network", doc["name"], [a for a in doc.get("aliases") or () if isinstance(a, str)]]


SKIPPED: dict[Path, str] = {}
"""Catalog files skipped by a scan in this process, with why (each reported once on stderr)."""


def _skip(path: Path, why: str) -> None:
    if path not in SKIPPED:
        SKIPPED[path] = why
        sys.stderr.write(f"archprobe: skipped catalog file {why}\n")


def _stamp(path: Path) -> index.Stamp | None:
    """``stat`` of a catalog file (never opened here), or None and a report if it is no file."""
    try:
        st = os.stat(path)
    except OSError as exc:
        _skip(path, f"{path}: cannot read it: {exc.strerror}")
        return None
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        _skip(path, f"{path}: {kind}, not a spec file")
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _records(directory: Path) -> dict[str, index.Record]:
    """What each ``*.yaml`` under ``directory`` defines: from the index where a file's stamp is
    unchanged, else parsed (and the index rewritten)."""
    cached, written = index.load(directory)
    records: dict[str, index.Record] = {}
    parsed = False
    for path in sorted(directory.rglob("*.yaml")):
        stamp = _stamp(path)
        if stamp is None:
            continue
        rel = path.relative_to(directory).as_posix()
        if index.reusable(cached.get(rel), stamp, written):
            records[rel] = cached[rel]
            continue
        try:
            records[rel] = {"stamp": stamp, "entry": _entry(path)}
        except SpecError as exc:
            _skip(path, " ".join(exc.format().split("\n")[0].split()))
            continue
        parsed = True
    if parsed or records.keys() != cached.keys():
        index.save(directory, records)
    return records


def _scan_dir(directory: Path) -> dict[str, CatalogEntry]:
    found: dict[str, CatalogEntry] = {}
    for rel, record in _records(directory).items():
        if record["entry"] is None:
            continue
        kind, name, aliases = record["entry"]
        path = directory / rel
        entry = CatalogEntry(name, tuple(aliases), path, kind)
        for key in (entry.name, *entry.aliases):
            if key in found and found[key].path != path:
                raise SpecError(
                    f"catalog name {key!r} is also defined in {found[key].path}", None, str(path)
                )
            found[key] = entry
    return found


@lru_cache(maxsize=8)
def _catalog(dirs: tuple[Path, ...]) -> dict[str, CatalogEntry]:
    merged: dict[str, CatalogEntry] = {}
    for directory in reversed(dirs):  # earlier directories win
        merged.update(_scan_dir(directory))
    return merged


def catalog() -> dict[str, CatalogEntry]:
    """Every name and alias on the search path."""
    return _catalog(tuple(search_path()))


def _entries(kind: Kind) -> list[CatalogEntry]:
    unique = {e.path: e for e in catalog().values() if e.kind == kind}
    return sorted(unique.values(), key=lambda e: e.name)


def list_specs() -> list[CatalogEntry]:
    """One entry per network (aliases folded), sorted by name; traits are not networks."""
    return _entries("network")


def list_traits() -> list[CatalogEntry]:
    """One entry per trait (a partial spec to mix in with ``extends:``), sorted by name."""
    return _entries("trait")


def _looks_like_path(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or "/" in ref or os.sep in ref


def find_spec(ref: str, relative_to: Path | None = None) -> Path:
    """Resolve a catalog name (network or trait) or a path (relative to ``relative_to``'s
    folder, else the cwd)."""
    if _looks_like_path(ref):
        base = relative_to.parent if relative_to else Path.cwd()
        path = (base / ref) if not Path(ref).is_absolute() else Path(ref)
        try:
            mode = os.stat(path).st_mode
        except OSError:  # missing, or e.g. a name too long for the file system
            raise SpecError(f"spec file {ref!r} not found (looked for {path})") from None
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise SpecError(f"{kind}, not a spec file", None, str(path))
        return path
    entries = catalog()
    if ref in entries:
        return entries[ref].path
    close = difflib.get_close_matches(ref, list(entries), n=3)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise SpecError(f"unknown spec {ref!r}{hint} (`archprobe list` shows the catalog)")

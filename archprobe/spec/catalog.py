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
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from archprobe.errors import SpecError
from archprobe.spec.strict_yaml import SourceMap, load_yaml

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


def _entry(path: Path) -> CatalogEntry | None:
    """The catalog entry a file defines, or None (sweep files, partials without ``trait:``)."""
    doc, smap = load_yaml(path.read_text(encoding="utf-8"), path)
    if not isinstance(doc, dict):
        return None
    if "trait" in doc:
        return CatalogEntry(_trait_name(doc, smap, path), (), path, "trait")
    if not isinstance(doc.get("name"), str):
        return None  # sweep files and untagged partial specs are reachable by path only
    aliases = tuple(a for a in doc.get("aliases") or () if isinstance(a, str))
    return CatalogEntry(doc["name"], aliases, path)


def _scan_dir(directory: Path) -> dict[str, CatalogEntry]:
    found: dict[str, CatalogEntry] = {}
    for path in sorted(directory.rglob("*.yaml")):
        entry = _entry(path)
        if entry is None:
            continue
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
            found = path.is_file()
        except OSError:  # e.g. a name too long for the file system
            found = False
        if not found:
            raise SpecError(f"spec file {ref!r} not found (looked for {path})")
        return path
    entries = catalog()
    if ref in entries:
        return entries[ref].path
    close = difflib.get_close_matches(ref, list(entries), n=3)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise SpecError(f"unknown spec {ref!r}{hint} (`archprobe list` shows the catalog)")

"""The spec catalog: name or alias -> spec file.

Search path, first match wins: the directories in ``$ARCHPROBE_SPECS`` (``os.pathsep``
separated), then the built-in catalog (``specs/`` of the source tree, shipped in the wheel as
``archprobe/specs``). A name defined twice in one directory is an error.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from archprobe.errors import SpecError
from archprobe.spec.strict_yaml import load_yaml

_PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    aliases: tuple[str, ...]
    path: Path


def builtin_dir() -> Path:
    for candidate in (_PACKAGE / "specs", _PACKAGE.parent / "specs"):
        if candidate.is_dir():
            return candidate
    raise SpecError("the built-in spec catalog is missing; reinstall archprobe")


def search_path() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("ARCHPROBE_SPECS", "").split(os.pathsep) if p]
    return [*extra, builtin_dir()]


def _scan_dir(directory: Path) -> dict[str, CatalogEntry]:
    found: dict[str, CatalogEntry] = {}
    for path in sorted(directory.rglob("*.yaml")):
        doc, _ = load_yaml(path.read_text(encoding="utf-8"), path)
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
            continue  # partial specs (traits, sweeps) are reachable by path, not by name
        aliases = tuple(a for a in doc.get("aliases") or () if isinstance(a, str))
        entry = CatalogEntry(doc["name"], aliases, path)
        for key in (entry.name, *aliases):
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


def list_specs() -> list[CatalogEntry]:
    """One entry per model (aliases folded), sorted by name."""
    unique = {e.path: e for e in catalog().values()}
    return sorted(unique.values(), key=lambda e: e.name)


def find_spec(ref: str, relative_to: Path | None = None) -> Path:
    """Resolve a catalog name or a path (relative to ``relative_to``'s folder, else the cwd)."""
    looks_like_path = ref.endswith((".yaml", ".yml")) or "/" in ref or os.sep in ref
    if looks_like_path:
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

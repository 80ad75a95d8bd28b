"""Cached catalog rows: what ``archprobe list`` prints for each network (input, exact params and
MACs), stored next to its entry in the catalog index (``index.py``), so a warm ``list`` stats
files instead of loading and analysing every spec (issue 16: start-up).

A row is served only while nothing it was computed from changed:

- the stamp (``stat``: mtime, size, inode) of the spec file **and of every file its
  ``extends:`` tree read** (bases, bases of bases, traits);
- the *environment* key :func:`environment`: a digest of the archprobe version and the stamps of
  every file of the ``archprobe`` package (ops, parts, generators, the analysis: any code that can
  change a number), of the loaded plugins' files, and of the catalog's name -> file map (a new file
  that shadows a base's name changes what ``extends: name`` reads).

The racy rule of the index holds here too: a file changed within :data:`index.RACY_NS` of the
row's computing is not cached (a rewrite in the same clock tick keeps its stamp).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from archprobe import __version__
from archprobe.errors import SpecError
from archprobe.plugins import fingerprint as plugin_fingerprint
from archprobe.spec import index
from archprobe.spec.catalog import CatalogEntry, catalog, find_spec, search_path
from archprobe.spec.merge import dependencies, read_bytes

_PACKAGE = Path(__file__).resolve().parent.parent
Row = dict[str, Any]  # the numbers a caller stores: JSON scalars only


def file_stamp(path: Path) -> index.Stamp | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def code_stamps() -> list[Any]:
    """(path, mtime, size) of every file of the archprobe package, bytecode caches left out."""
    found: list[Any] = []
    for folder, dirs, files in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            stamp = file_stamp(Path(folder, name))
            if stamp is not None:
                found.append([os.path.relpath(Path(folder, name), _PACKAGE), *stamp[:2]])
    return found


def environment() -> str:
    """The digest every cached row is keyed by, besides its own files (see the module doc)."""
    names = sorted((k, str(e.path), e.kind) for k, e in catalog().items())
    key = [__version__, code_stamps(), plugin_fingerprint(),
           [str(p) for p in search_path()], names]  # fmt: skip
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


def _folder(path: Path) -> tuple[Path, str] | None:
    """The search-path folder holding ``path`` and its name relative to it."""
    for directory in search_path():
        try:
            return directory, path.relative_to(directory).as_posix()
        except ValueError:
            continue
    return None


def unchanged(deps: Any) -> bool:
    """``deps`` (as :func:`file_deps` returns them) is well formed and no file in it changed."""
    if not isinstance(deps, list):
        return False
    for dep in deps:
        if not (isinstance(dep, list) and len(dep) == 2 and isinstance(dep[0], str)):
            return False
        stamp = file_stamp(Path(dep[0]))
        if stamp is None or stamp != dep[1]:
            return False
    return True


def _fresh(row: Any, env: str) -> Row | None:
    """The stored numbers of ``row`` if it is well formed and nothing it depends on changed (a
    row is stored only when every file it read was older than the racy window, so any later
    rewrite shows in the stamp)."""
    if not (isinstance(row, dict) and row.get("env") == env and unchanged(row.get("deps"))
            and isinstance(row.get("values"), dict)):  # fmt: skip
        return None
    values: Row = row["values"]
    return values


def cached(entries: Iterable[CatalogEntry], env: str) -> dict[Path, Row]:
    """The stored, still valid row of each entry that has one."""
    loaded: dict[Path, dict[str, index.Record]] = {}
    found: dict[Path, Row] = {}
    for entry in entries:
        where = _folder(entry.path)
        if where is None:
            continue
        if where[0] not in loaded:
            loaded[where[0]] = index.load(where[0])[0]
        values = _fresh((loaded[where[0]].get(where[1]) or {}).get("row"), env)
        if values is not None:
            found[entry.path] = values
    return found


def file_deps(path: Path, started_ns: int) -> list[Any] | None:
    """[file, stamp] of every file ``path``'s extends tree read, or None when one changed since
    it was read, or too recently to trust its stamp."""
    deps = []
    try:
        for dep, raw in dependencies(path, find_spec):
            stamp = file_stamp(dep)
            if stamp is None or read_bytes(dep) != raw or stamp[0] >= started_ns - index.RACY_NS:
                return None
            deps.append([str(dep), stamp])
    except SpecError:
        return None
    return deps


def store(rows: Mapping[Path, Row], env: str, started_ns: int) -> None:
    """Save the rows computed in this process (``started_ns``: before the first file was read)."""
    by_folder: dict[Path, dict[str, Row]] = {}
    for path, values in rows.items():
        where, deps = _folder(path), file_deps(path, started_ns)
        if where is not None and deps is not None:
            row = {"env": env, "deps": deps, "values": values}
            by_folder.setdefault(where[0], {})[where[1]] = row
    for directory, new in by_folder.items():
        records, _ = index.load(directory)
        for rel, row in new.items():
            if rel in records:  # else the folder was scanned under another cache folder
                records[rel] = {**records[rel], "row": row}
        index.save(directory, records)

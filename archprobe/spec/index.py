"""The catalog index: for each catalog folder, what each ``*.yaml`` file defines (network or trait,
name, aliases), cached on disk and keyed by each file's ``stat`` stamp, so a name lookup or
``archprobe list`` stats the files instead of parsing them all (issue 16: 121 parses per ``list``).

Where: :func:`archprobe.cache.cache_dir` (``$ARCHPROBE_CACHE_DIR``, else the XDG cache folder);
never the working directory or the catalog folder. The cache is advisory: a missing, unreadable,
corrupt or foreign file is ignored and rewritten, a folder that cannot be written is not
written, and a file changed within :data:`RACY_NS` of the cache's writing is parsed again (git's
"racy" rule: a rewrite in the same clock tick keeps its stamp).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from archprobe.cache import cache_dir

VERSION = 1
RACY_NS = 2_000_000_000

Stamp = list[int]  # mtime_ns, size, inode
Record = dict[str, Any]  # {"stamp": Stamp, "entry": [kind, name, [aliases]] | None}


def _file(directory: Path) -> Path | None:
    root = cache_dir()
    if root is None:
        return None
    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:20]
    return root / f"catalog-{digest}.json"


def _valid_entry(entry: Any) -> bool:
    if entry is None:
        return True
    return (
        isinstance(entry, list)
        and len(entry) == 3
        and entry[0] in ("network", "trait")
        and isinstance(entry[1], str)
        and isinstance(entry[2], list)
        and all(isinstance(a, str) for a in entry[2])
    )


def _valid(records: Any) -> bool:
    return isinstance(records, dict) and all(
        isinstance(r, dict)
        and isinstance(r.get("stamp"), list)
        and len(r["stamp"]) == 3
        and all(isinstance(n, int) for n in r["stamp"])
        and _valid_entry(r.get("entry"))
        for r in records.values()
    )


def load(directory: Path) -> tuple[dict[str, Record], int]:
    """The cached records of ``directory`` (by path relative to it) and when they were written;
    ``({}, 0)`` for anything but a well-formed index of this version and folder."""
    path = _file(directory)
    try:
        if path is None:
            return {}, 0
        data = json.loads(path.read_bytes())
        if (
            isinstance(data, dict)
            and data.get("version") == VERSION
            and data.get("folder") == str(directory.resolve())
            and isinstance(data.get("written_ns"), int)
            and _valid(data.get("records"))
        ):
            return data["records"], data["written_ns"]
    except (OSError, ValueError):
        pass
    return {}, 0


def save(directory: Path, records: dict[str, Record]) -> None:
    """Write the index of ``directory`` atomically; silently nothing where the cache folder
    cannot be written."""
    path = _file(directory)
    if path is None:
        return
    data = {"version": VERSION, "folder": str(directory.resolve()),
            "written_ns": time.time_ns(), "records": records}  # fmt: skip
    write_atomic(path, json.dumps(data))


def write_atomic(path: Path, text: str) -> None:
    """``text`` into ``path`` through a temporary file renamed over it (a reader never sees half
    a file); silently nothing where the folder cannot be written (every cache is advisory)."""
    import tempfile  # only when writing: a warm run reads (start-up)

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass


def reusable(record: Record | None, stamp: Stamp, written_ns: int) -> bool:
    """A cached record still describes a file with this stamp (and was not racy when written)."""
    return record is not None and record["stamp"] == stamp and stamp[0] < written_ns - RACY_NS

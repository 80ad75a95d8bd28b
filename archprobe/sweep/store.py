"""SQLite store of sweep rows: one row per config key, WAL, INSERT OR IGNORE (resumable).

Two ways in: :class:`Store` (``sweep run``) writes and creates the table; :meth:`Store.reader`
(every read command) opens the file read-only (SQLite ``mode=ro``), so reading never adds a
table to a user's file or switches it to WAL. Both refuse a file that is not an archprobe store
(not SQLite, damaged, or holding other tables) with a :class:`StoreError` that names the file,
the problem and the fix; SQLite's own errors never reach the user as a traceback.

A stored row whose JSON or types do not parse is *corrupt*: :meth:`Store.rows` leaves it out
and lists its key in :attr:`Store.corrupt`, :meth:`Store.keys` leaves it out too, so a rerun of
``sweep run`` measures it again and :meth:`Store.add` replaces it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from archprobe.errors import ArchprobeError

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, sweep TEXT NOT NULL, idx INTEGER NOT NULL, config TEXT NOT NULL,
    params INTEGER, macs INTEGER, acts INTEGER, measured TEXT, created REAL
)"""
COLUMNS = ("key", "sweep", "idx", "config", "params", "macs", "acts", "measured", "created")
# json.dumps(..., sort_keys=True) makes an encoder per call: a fifth of storing a row (measured)
SORTED_JSON = json.JSONEncoder(sort_keys=True)
NEW_DB = "give the .db file `archprobe sweep run` wrote, or a new --db path"


class StoreError(ArchprobeError):
    """A sweep database that cannot be opened, read or written: ``path: problem; fix``."""


# SQLite's messages (sqlite3.Error has no portable error code before Python 3.11's
# sqlite_errorname) -> what it means for a sweep database, and what to do.
_SQLITE_HINTS = (
    ("file is not a database", f"not a SQLite database; {NEW_DB}"),
    ("malformed", "the database is damaged (truncated or overwritten); run the sweep again "
     "into a new --db path"),
    ("unable to open", "cannot open it (a folder, a missing folder, or no permission); "
     "give a path to a .db file"),
    ("readonly", "the database (or its folder) is read-only; make it writable or give "
     "another --db path"),
    ("locked", "another process is writing it; wait for it to finish or use another --db"),
    ("disk i/o", "the disk failed while reading or writing it; check the disk, then rerun"),
    ("full", "the disk is full; free space, then rerun (stored rows are kept)"),
)  # fmt: skip


def _explain(path: Path, exc: sqlite3.Error) -> StoreError:
    text = str(exc)
    hint = next((h for key, h in _SQLITE_HINTS if key in text.lower()), f"{NEW_DB}")
    return StoreError(f"{path}: {hint} (SQLite: {text})")


@contextmanager
def _sqlite_errors(path: Path) -> Iterator[None]:
    """SQLite errors of ``path`` as one StoreError (what, where, what to do)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise _explain(path, exc) from exc
    except UnicodeDecodeError as exc:  # names in sqlite_master that are not UTF-8
        raise StoreError(f"{path}: the database is damaged (text that is not UTF-8); run the "
                         "sweep again into a new --db path") from exc  # fmt: skip


def _readonly_uri(path: Path) -> str:
    """The URI that reads ``path`` without writing anything beside it.

    ``mode=ro`` alone still creates ``-wal`` and ``-shm`` files next to a WAL database (and
    fails in a read-only folder). When no ``-wal`` file exists no writer is active and every
    row is in the main file, so it is opened ``immutable`` (no locks, no side files); with one,
    a run is active or was killed, and its rows are read from the WAL as SQLite does.
    """
    uri = f"{path.resolve().as_uri()}?mode=ro"
    wal = path.with_name(path.name + "-wal")
    return uri if wal.exists() else uri + "&immutable=1"


def _tables(db: sqlite3.Connection) -> list[str]:
    return [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


def _check_schema(db: sqlite3.Connection, path: Path, creating: bool) -> None:
    """Refuse a database that is not an archprobe store (``creating``: an empty one is fine)."""
    tables = _tables(db)
    if "results" not in tables:
        if creating and not tables:
            return
        held = f"tables {', '.join(map(repr, tables))}" if tables else "no tables"
        raise StoreError(f"{path}: not an archprobe sweep database (it has {held}, no "
                         f"'results' table); {NEW_DB}")  # fmt: skip
    columns = tuple(name for _, name, *_ in db.execute("PRAGMA table_info(results)"))
    if columns != COLUMNS:
        raise StoreError(f"{path}: its 'results' table has columns {', '.join(columns)}, "
                         f"not an archprobe sweep's ({', '.join(COLUMNS)}); {NEW_DB}")  # fmt: skip


def _json(text: Any, kinds: tuple[type, ...]) -> Any:
    """``text`` parsed as JSON of one of ``kinds``; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"not JSON text: {text!r}")
    value = json.loads(text)
    if not isinstance(value, kinds):
        raise ValueError(f"JSON of the wrong kind: {type(value).__name__}")
    return value


def _is_count(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _text(value: Any) -> Any:
    """A TEXT value read as bytes (see :meth:`Store._records`), decoded; ValueError if not UTF-8."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


def parse_row(rec: tuple[Any, ...]) -> dict[str, Any] | None:
    """A stored record as a row dict, or None when it is corrupt (bad UTF-8, JSON or types)."""
    try:
        row = dict(zip(COLUMNS, map(_text, rec), strict=True))
        row["config"] = _json(row["config"], (dict,))
        row["measured"] = None if row["measured"] is None else _json(row["measured"], (dict,))
    except ValueError:  # json.JSONDecodeError is a ValueError
        return None
    ok = isinstance(row["key"], str) and isinstance(row["sweep"], str)
    counts = all(_is_count(row[k]) for k in ("idx", "params", "macs", "acts"))
    return row if ok and counts and row["idx"] is not None else None


class Store:
    """Rows of one or more sweeps in one SQLite file.

    ``Store(path)`` opens it for writing (``sweep run``), creating the file and table when
    they do not exist; :meth:`reader` opens an existing one read-only.

    Raises:
        StoreError: the file is not an archprobe store, or SQLite cannot open or read it.
    """

    def __init__(self, path: Path | str, *, _readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = _readonly
        self.corrupt: list[str] = []  # keys of the corrupt rows the last rows()/keys() met
        self._corrupt_seen: set[str] = set()
        with _sqlite_errors(self.path):
            self.db = self._connect()
            try:
                _check_schema(self.db, self.path, creating=not _readonly)
                if not _readonly:
                    self.db.execute("PRAGMA journal_mode=WAL")
                    self.db.execute("PRAGMA synchronous=NORMAL")
                    # Keys are hashes: each insert lands at a random place of the key index,
                    # which outgrows SQLite's 2 MiB default cache within ~10⁵ rows. 32 MiB keeps
                    # it resident: 600k inserts, 8.9 -> 6.3 us CPU a row (measured).
                    self.db.execute("PRAGMA cache_size=-32768")
                    self.db.execute(SCHEMA)
                    self.db.commit()
            except BaseException:
                self.db.close()
                raise

    @classmethod
    def reader(cls, path: Path | str) -> Store:
        """An existing store, opened read-only: reading never writes to the file."""
        path = Path(path)
        if not path.exists():
            raise StoreError(f"{path}: no such sweep database; run `archprobe sweep run "
                             f"FILE --db {path}` first, or check the path")  # fmt: skip
        return cls(path, _readonly=True)

    def _connect(self) -> sqlite3.Connection:
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a sweep database; {NEW_DB}")
        if self.readonly:
            return sqlite3.connect(_readonly_uri(self.path), uri=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(str(self.path))

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _records(self) -> Iterator[tuple[dict[str, Any] | None, Any]]:
        """Every record as (row or None when corrupt, its key); corrupt keys are remembered.

        TEXT is fetched as bytes and decoded per row: bytes that are not UTF-8 (a damaged
        file) make that row corrupt instead of failing the whole read.
        """
        self.corrupt = []
        self.db.text_factory = bytes
        try:
            with _sqlite_errors(self.path):
                cols = ", ".join(COLUMNS)
                for rec in self.db.execute(f"SELECT {cols} FROM results ORDER BY sweep, idx"):
                    row = parse_row(rec)
                    key = rec[0].decode("utf-8", "replace") if isinstance(rec[0], bytes) else rec[0]
                    if row is None:
                        self.corrupt.append(str(key))
                    yield row, key
        finally:
            self.db.text_factory = str
        self._corrupt_seen |= set(self.corrupt)

    def keys(self) -> set[str]:
        """Keys of the rows stored intact (corrupt ones are not: they are to be redone)."""
        return {key for row, key in self._records() if row is not None}

    def find_corrupt(self) -> list[str]:
        """Keys of the corrupt rows, read one record at a time (memory does not grow with the
        store); :meth:`present` and :meth:`add` then treat them as not stored, so a run redoes
        them."""
        for _ in self._records():
            pass
        return self.corrupt

    def present(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` are stored (queried in chunks: SQLite bounds the parameters)."""
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            found.update(k for (k,) in self.db.execute(
                f"SELECT key FROM results WHERE key IN ({marks})", chunk))  # fmt: skip
        return found - self._corrupt_seen  # met by keys() or rows(): to be redone

    def rows(self) -> list[dict[str, Any]]:
        """Every intact row; the keys of corrupt ones are in :attr:`corrupt` afterwards."""
        return [row for row, _ in self._records() if row is not None]

    def add(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert rows (dicts with the row fields): :meth:`insert` of their records."""
        now = time.time()
        return self.insert([
            (
                r["key"], r["sweep"], r["idx"], SORTED_JSON.encode(r["config"]),
                r["params"], r["macs"], r["acts"],
                json.dumps(r["measured"]) if r.get("measured") is not None else None, now,
            )
            for r in rows
        ])  # fmt: skip

    def insert(self, records: list[tuple[Any, ...]]) -> int:
        """Insert records (values of :data:`COLUMNS`, config and measured as JSON text); intact
        existing keys are kept, corrupt ones (met by :meth:`keys`, :meth:`rows` or
        :meth:`find_corrupt`) replaced, then commit. Returns how many rows were inserted."""
        redo = [(rec[0],) for rec in records if rec[0] in self._corrupt_seen]
        with _sqlite_errors(self.path):
            self.db.executemany("DELETE FROM results WHERE key = ?", redo)
            before = self.db.total_changes
            self.db.executemany(
                "INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", records
            )
            inserted = self.db.total_changes - before
            self.db.commit()
        self._corrupt_seen.difference_update(k for (k,) in redo)  # stored intact now
        return inserted

    def close(self) -> None:
        self.db.close()

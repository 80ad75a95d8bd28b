"""SQLite store of sweep rows: one row per config key, WAL, INSERT OR IGNORE (resumable)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, sweep TEXT NOT NULL, idx INTEGER NOT NULL, config TEXT NOT NULL,
    params INTEGER, macs INTEGER, acts INTEGER, measured TEXT, created REAL
)"""
COLUMNS = ("key", "sweep", "idx", "config", "params", "macs", "acts", "measured", "created")


class Store:
    """Rows of one or more sweeps in one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(SCHEMA)
        self.db.commit()

    def keys(self) -> set[str]:
        return {k for (k,) in self.db.execute("SELECT key FROM results")}

    def present(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` are stored (queried in chunks: SQLite bounds the parameters)."""
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            found.update(k for (k,) in self.db.execute(
                f"SELECT key FROM results WHERE key IN ({marks})", chunk))  # fmt: skip
        return found

    def add_new(self, rows: Iterable[dict[str, Any]]) -> int:
        """:meth:`add` in one transaction; returns how many rows were new (not already stored)."""
        before = self.db.total_changes
        self.add(rows)
        return self.db.total_changes - before

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert rows (dicts with the row fields); existing keys are kept, then commit."""
        now = time.time()
        self.db.executemany(
            "INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r["key"], r["sweep"], r["idx"], json.dumps(r["config"], sort_keys=True),
                    r["params"], r["macs"], r["acts"],
                    json.dumps(r["measured"]) if r.get("measured") is not None else None, now,
                )
                for r in rows
            ],
        )  # fmt: skip
        self.db.commit()

    def rows(self) -> list[dict[str, Any]]:
        cur = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM results ORDER BY sweep, idx")
        out = []
        for rec in cur:
            row = dict(zip(COLUMNS, rec, strict=True))
            row["config"] = json.loads(row["config"])
            row["measured"] = json.loads(row["measured"]) if row["measured"] else None
            out.append(row)
        return out

    def close(self) -> None:
        self.db.close()

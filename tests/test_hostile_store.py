"""Hostile sweep databases (issue #18): a read command never writes, a file that is not an
archprobe store is refused in one line (problem and fix), corrupt rows are reported and redone.

The reproducers are in tests/data/hostile/; each test works on a copy and compares hashes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archprobe.cli.app import app
from archprobe.sweep.store import Store, StoreError

HOSTILE = Path(__file__).parent / "data" / "hostile"
SWEEP = Path(__file__).parents[1] / "specs" / "sweeps" / "resnext50_cardinality.yaml"
runner = CliRunner()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copy(HOSTILE / name, target)
    return target


def results(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, ["sweep", "results", *args])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r.exit_code, r.stderr


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("not_sqlite.db", "not a SQLite database"),
        ("truncated.db", "the database is damaged"),
        ("other_app.db", "not an archprobe sweep database (it has tables 'notes'"),
        ("wrong_schema.db", "its 'results' table has columns id, score"),
    ],
)
def test_read_refuses_a_foreign_or_broken_file_and_leaves_it_as_it_was(
    tmp_path: Path, name: str, says: str
) -> None:
    db = copy(name, tmp_path)
    before = digest(db)
    code, err = results(str(db))
    line = one_line(err)
    assert code == 1 and line.startswith(f"{db}: ") and says in line
    assert "give the .db file" in line or "new --db path" in line  # the fix
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no -wal / -shm left behind


def test_sweep_run_refuses_an_unrelated_database_instead_of_adding_a_table(tmp_path: Path) -> None:
    db = copy("other_app.db", tmp_path)
    before = digest(db)
    r = runner.invoke(app, ["sweep", "run", str(SWEEP), "--db", str(db)])
    assert r.exit_code == 1 and "not an archprobe sweep database" in one_line(r.stderr)
    assert digest(db) == before
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # not switched to WAL
        assert [n for (n,) in c.execute("SELECT name FROM sqlite_master")] == ["notes"]


def test_reading_a_store_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    assert runner.invoke(app, ["sweep", "run", str(SWEEP), "--db", str(db)]).exit_code == 0
    before = digest(db)
    assert results(str(db))[0] == 0
    assert results(str(db), "--json")[0] == 0
    assert digest(db) == before and sorted(p.name for p in tmp_path.iterdir()) == ["x.db"]


def test_a_directory_and_a_missing_path_are_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "d.db").mkdir()
    code, err = results(str(tmp_path / "d.db"))
    assert code == 1 and "is a folder, not a sweep database" in one_line(err)
    code, err = results(str(tmp_path / "none.db"))
    assert code == 1 and "no such sweep database; run `archprobe sweep run" in one_line(err)
    assert not (tmp_path / "none.db").exists()
    r = runner.invoke(app, ["sweep", "run", str(SWEEP), "--db", str(tmp_path / "d.db")])
    assert r.exit_code == 1 and "is a folder" in one_line(r.stderr)


def test_corrupt_rows_are_reported_left_out_and_measured_again(tmp_path: Path) -> None:
    db = copy("corrupt_rows.db", tmp_path)
    r = runner.invoke(app, ["sweep", "results", str(db), "--json"])
    assert r.exit_code == 0
    assert "2 stored row(s) are corrupt" in one_line(r.stderr) and "left out" in r.stderr
    assert r.stdout.count('"idx"') == 3  # the 3 intact rows of 5
    with Store.reader(db) as store:
        assert len(store.keys()) == 3 and len(store.corrupt) == 2
    r = runner.invoke(app, ["sweep", "run", str(SWEEP), "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "2 stored row(s) are corrupt" in r.stderr and "measuring them again" in r.stderr
    assert "3 already stored, 2 new" in r.stderr
    with Store.reader(db) as store:
        rows = store.rows()
        assert not store.corrupt and [row["idx"] for row in rows] == [0, 1, 2, 3, 4]
    assert all(isinstance(row["params"], int) for row in rows)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_a_read_only_database_is_read_and_refused_for_writing(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    assert runner.invoke(app, ["sweep", "run", str(SWEEP), "--db", str(db)]).exit_code == 0
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM results WHERE idx = 0")  # one config left to run
    db.chmod(0o444)
    try:
        assert results(str(db))[0] == 0
        r = runner.invoke(app, ["sweep", "run", str(SWEEP), "--db", str(db)])
        assert r.exit_code == 1 and "read-only" in one_line(r.stderr)
    finally:
        db.chmod(0o644)


def test_sqlite_failures_become_a_store_error_with_the_fix(tmp_path: Path) -> None:
    """Every SQLite failure of a store is named and given a fix; a read-only file is simulated
    (root, which the tests may run as, writes through file permissions)."""
    db = tmp_path / "x.db"
    with Store(db) as store:
        store.db.close()
        store.db = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        with pytest.raises(StoreError, match=r"x\.db: the database \(or its folder\) is read-only"):
            store.add([{"key": "k", "sweep": "s", "idx": 0, "config": {}, "params": 1,
                        "macs": 1, "acts": 1}])  # fmt: skip

"""The one error boundary (cli/boundary.py): each kind of failure becomes one line that says
what, where and what to do; control characters are shown, never sent to the terminal."""

from __future__ import annotations

import errno
import sqlite3

import pytest
import typer
from typer.testing import CliRunner

from archprobe.cli.boundary import BoundaryGroup, error_line, user_errors
from archprobe.errors import SourceLoc, SpecError, printable


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (IsADirectoryError(errno.EISDIR, "Is a directory", "out"),
         "out: Is a directory; it is a folder: give a file path"),
        (OSError(errno.ENOSPC, "No space left on device", "/dev/full"),
         "/dev/full: No space left on device; the disk is full: free space or write elsewhere"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory", "f/x"),
         "f/x: Not a directory; a part of the path is a file, not a folder: check the path"),
        (PermissionError(errno.EACCES, "Permission denied", "r.md"),
         "r.md: Permission denied; permission denied: choose a path you can write, or change "
         "its permissions"),
        (UnicodeDecodeError("utf-8", b"ab\xe9", 2, 3, "invalid"),
         "not UTF-8 text (byte 0xe9 at offset 2); save the file as UTF-8"),
        (sqlite3.DatabaseError("file is not a database"),
         "SQLite: file is not a database; check the database file (or give a new --db path)"),
        (MemoryError(), "out of memory: lower the batch size, the input size or the number of "
         "configs"),
        (SpecError("bad", SourceLoc(__import__("pathlib").Path("a.yaml"), 3, 4), "stem.width"),
         "a.yaml:3:4: stem.width: bad"),
        (KeyError("x"), "internal error: KeyError: 'x'; rerun with ARCHPROBE_DEBUG=1 for the "
         "traceback, and report it"),
    ],
)  # fmt: skip
def test_error_lines(exc: Exception, line: str) -> None:
    assert error_line(exc) == line


def test_printable_shows_control_characters_and_keeps_lines() -> None:
    assert printable("a\x1b[31mb\u202ec\n\td\x7f\r") == "a\\x1b[31mb\\u202ec\n\td\\x7f\\r"
    assert printable("plain ünïcode") == "plain ünïcode"


def test_every_command_runs_inside_the_boundary() -> None:
    app = typer.Typer(cls=BoundaryGroup)

    @app.command()
    def boom() -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "\x1b[2Jx.csv")

    @app.command()
    def usage() -> None:
        raise typer.BadParameter("nope")

    runner = CliRunner()
    r = runner.invoke(app, ["boom"])
    assert r.exit_code == 1 and (r.exception is None or isinstance(r.exception, SystemExit))
    line = "\\x1b[2Jx.csv: No space left on device; the disk is full: free space or write elsewhere"
    assert r.stderr == line + "\n"
    r = runner.invoke(app, ["usage"])
    assert r.exit_code == 2 and "nope" in r.output  # usage errors stay typer's
    r = runner.invoke(app, ["boom"], env={"ARCHPROBE_DEBUG": "1"})
    assert r.exit_code == 1 and isinstance(r.exception, OSError)


def test_exits_pass_through() -> None:
    with pytest.raises(typer.Exit), user_errors():
        raise typer.Exit(3)

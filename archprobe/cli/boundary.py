"""The one error boundary of every ``archprobe`` command: an error becomes one line on stderr
(what failed, where, what to do) and exit status 1; ``ARCHPROBE_DEBUG=1`` re-raises it, so the
traceback is one variable away.

:class:`BoundaryGroup` is the typer group class of the app: its ``invoke`` wraps every command
and subcommand, so a command cannot forget it (the console-script entry point and typer's
``CliRunner`` both go through it). Usage errors (typer's own exceptions) and exits pass through.
Every archprobe command is a :class:`Command` (tests/test_startup_imports.py walks the app): see
:func:`quiet_help` for what the two classes change in typer's help option (start-up time only).
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.errors import MarkupError
from typer.core import TyperCommand, TyperGroup
from typer.exceptions import TyperException

from archprobe.cli.consoles import err as err  # re-exported: the commands print through it
from archprobe.errors import ArchprobeError, printable

DEBUG = "ARCHPROBE_DEBUG"
REPORT = f"rerun with {DEBUG}=1 for the traceback, and report it"

_OS_FIXES = {
    errno.ENOENT: "no such file or folder: check the path (an output's folder is created "
    "only when its parent exists)",
    errno.EISDIR: "it is a folder: give a file path",
    errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
    errno.EACCES: "permission denied: choose a path you can write, or change its permissions",
    errno.EPERM: "not permitted: choose another path",
    errno.ENOSPC: "the disk is full: free space or write elsewhere",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.EEXIST: "a file is in the way of a folder: check the path",
    errno.ENAMETOOLONG: "the name is too long: use a shorter path",
    errno.EFBIG: "the file is too large for the file system: write elsewhere",
    errno.EPIPE: "the program reading the output closed it early",
}  # fmt: skip


def os_line(exc: OSError) -> str:
    """An OS error as ``path: what; fix``."""
    where = exc.filename if exc.filename not in (None, "") else "(empty path)"
    what = exc.strerror or str(exc)
    fix = _OS_FIXES.get(exc.errno or 0, "check the path and the disk")
    target = f" -> {exc.filename2}" if exc.filename2 else ""
    return f"{where}{target}: {what}; {fix}"


def unicode_line(exc: UnicodeError) -> str:
    """Text that is not UTF-8 (or cannot be written as the terminal's encoding)."""
    if isinstance(exc, UnicodeDecodeError):
        bad = exc.object[exc.start : exc.start + 1].hex()
        return (f"not UTF-8 text (byte 0x{bad} at offset {exc.start}); save the file as "
                "UTF-8")  # fmt: skip
    if isinstance(exc, UnicodeEncodeError):
        return (f"cannot write {exc.object[exc.start : exc.end]!r} in the output's encoding "
                f"({exc.encoding}); set PYTHONIOENCODING=utf-8")  # fmt: skip
    return f"text encoding: {exc}"


def error_line(exc: Exception) -> str:
    """The one line (or, for several spec errors, the lines) a user sees for ``exc``."""
    if isinstance(exc, ArchprobeError):
        return exc.format() if hasattr(exc, "format") else str(exc)
    if isinstance(exc, OSError):
        return os_line(exc)
    if isinstance(exc, UnicodeError):
        return unicode_line(exc)
    sqlite3 = sys.modules.get("sqlite3")  # its errors exist only once a command imported it
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        return f"SQLite: {exc}; check the database file (or give a new --db path)"
    if isinstance(exc, MemoryError):
        return "out of memory: lower the batch size, the input size or the number of configs"
    if isinstance(exc, RecursionError):
        return "input nested too deeply to process: flatten it"
    if isinstance(exc, MarkupError):
        return f"could not render the output ({exc}); {REPORT}"
    return f"internal error: {type(exc).__name__}: {exc}; {REPORT}"


@contextmanager
def user_errors() -> Iterator[None]:
    """Print any error as :func:`error_line` (control characters made visible) and exit 1;
    typer's usage errors and exits pass through; ``ARCHPROBE_DEBUG=1`` re-raises."""
    try:
        yield
    except (TyperException, typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if os.environ.get(DEBUG) == "1":
            raise
        err.print(printable(error_line(exc)))
        raise typer.Exit(1) from None


def quiet_help(option: Any) -> Any:
    """``option`` (a command's ``-h/--help``, or None) with ``False`` as its value when absent.

    typer 0.29 coerces every parameter's value through a pydantic ``TypeAdapter`` built on
    first use, except a bool flag whose value is already a bool (``typer.core._TyperParameter.
    process_value``). Its help option has no default, so on every run its absent value (None)
    builds one: the import of pydantic's schema machinery and a bool schema, ~50 ms CPU,
    half of ``import pydantic, rich, typer, yaml`` (issue 16, start-up). ``False`` is what the
    flag means when absent (``show_help`` does nothing for a false value) and, as
    ``show_default`` is off, is not printed in the help.
    """
    if option is not None and option.default is None:
        option.default = False
    return option


class Command(TyperCommand):
    """The class of every ``archprobe`` command (``app.command(cls=Command)``)."""

    def get_help_option(self, ctx: Any) -> Any:
        return quiet_help(super().get_help_option(ctx))


class BoundaryGroup(TyperGroup):
    """The app's group: every command runs inside :func:`user_errors`."""

    def get_help_option(self, ctx: Any) -> Any:
        return quiet_help(super().get_help_option(ctx))

    def invoke(self, ctx: Any) -> Any:
        with user_errors():
            return super().invoke(ctx)

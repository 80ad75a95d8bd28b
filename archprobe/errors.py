"""Errors archprobe raises for bad user input, formatted once, compiler-style."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceLoc:
    """A place in a spec file; line and col are 1-based, as editors show them."""

    file: Path
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class ArchprobeError(Exception):
    """Base class of every error meant for the user rather than a traceback."""


class SpecError(ArchprobeError):
    """A spec file that cannot be loaded or validated.

    Printed as ``file:line:col: key.path: message`` so terminals and editors make it clickable.
    """

    def __init__(self, message: str, loc: SourceLoc | None = None, key_path: str = "") -> None:
        self.message = message
        self.loc = loc
        self.key_path = key_path
        super().__init__(self.format())

    def format(self) -> str:
        parts = [str(self.loc)] if self.loc else []  # no place: the message (and key) alone
        if self.key_path:
            parts.append(self.key_path)
        parts.append(self.message)
        return ": ".join(parts)


class SpecErrors(SpecError):
    """Several validation errors of one spec, reported together so one run shows every fix."""

    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.message, first.loc, first.key_path)

    def format(self) -> str:
        return "\n".join(e.format() for e in self.errors)


# C0 and C1 control characters (but newline and tab), DEL, and the bidirectional overrides:
# text from a spec file or a database shown as it is could move the cursor, recolour or
# retitle the terminal (ESC sequences), or reorder what is read (U+202E).
_HIDDEN = {
    **{c: None for c in range(0x20) if c not in (0x09, 0x0A)},
    **{c: None for c in range(0x7F, 0xA0)},
    **{c: None for c in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}


def printable(text: str) -> str:
    """``text`` with every control character shown as a Python escape (``\\x1b``, ``\\u202e``),
    so user text printed to a terminal is seen, never obeyed."""
    if not any(ord(ch) in _HIDDEN for ch in text):
        return text
    return "".join(ascii(ch)[1:-1] if ord(ch) in _HIDDEN else ch for ch in text)


class OutputError(ArchprobeError):
    """An output path that cannot be written as asked: ``--option PATH: problem; fix``."""

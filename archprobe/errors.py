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

"""What a check reports: a located, coded finding with a severity and the source it cites."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archprobe.errors import SourceLoc

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Hit:
    """One problem found by a check function; the registry adds code, severity and reference."""

    message: str
    where: SourceLoc | None


@dataclass(frozen=True)
class Finding:
    """A check result, printed compiler-style as ``file:line:col: CODE severity: message [ref]``.

    Attributes:
        code: stable identifier (``RX001``); the family prefix names the concern (DESIGN §7.9).
        severity: ``error`` (exit code 1), ``warning`` or ``info``.
        message: what is wrong, where in the network, and what to write instead.
        where: the spec key or stage line that triggers it, or None for specs built in code.
        ref: the paper section or figure the check is based on.
    """

    code: str
    severity: Severity
    message: str
    where: SourceLoc | None
    ref: str

    def format(self) -> str:
        place = str(self.where) if self.where else "<spec>"
        return f"{place}: {self.code} {self.severity}: {self.message} [{self.ref}]"

    def sort_key(self) -> tuple[str, int, int, str]:
        w = self.where
        return (str(w.file), w.line, w.col, self.code) if w else ("", 0, 0, self.code)

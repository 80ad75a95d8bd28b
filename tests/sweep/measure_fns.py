"""Deterministic measure functions for the executor tests, importable by worker processes.

Pool (spawn) and Ray workers import these by module path, so they cannot live in a test module
that pytest imports under its own rules, nor in a ``-c`` script's ``__main__``.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from archprobe.spec.schema import ArchSpec


def fingerprint(spec: ArchSpec, what: tuple[str, ...], settings: dict[str, Any]) -> dict[str, Any]:
    """A value that depends only on the config (not on the process or the time it ran in)."""
    blob = spec.model_dump_json(exclude={"name"}).encode()
    return {"digest": hashlib.sha256(blob).hexdigest()[:16], "what": list(what),
            "batch": settings.get("batch")}  # fmt: skip


def logged(
    spec: ArchSpec,
    what: tuple[str, ...],
    settings: dict[str, Any],
    *,
    log: str,
    sleep_s: float = 0.0,
) -> dict[str, Any]:
    """:func:`fingerprint`, after appending "<digest> <pid>" to ``log`` and sleeping ``sleep_s``.

    The line is written when the measurement starts, so a config that a killed run was measuring
    shows up in the log even though its row never reached the store.
    """
    out = fingerprint(spec, what, settings)
    # One O_APPEND write of a short line: lines from concurrent workers never interleave.
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, f"{out['digest']} {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    time.sleep(sleep_s)
    return out


def fails_at(
    spec: ArchSpec, what: tuple[str, ...], settings: dict[str, Any], *, groups: int
) -> dict[str, Any]:
    """:func:`fingerprint`, but ValueError for the configs whose ``block.groups`` is ``groups``."""
    if getattr(spec.block, "groups", 1) == groups:
        raise ValueError(f"no measurement at groups {groups}")
    return fingerprint(spec, what, settings)


def log_counts(log: Path) -> dict[str, int]:
    """How many times each digest was measured, from a :func:`logged` log."""
    counts: dict[str, int] = {}
    if log.exists():
        for line in log.read_text().splitlines():
            digest = line.split()[0]
            counts[digest] = counts.get(digest, 0) + 1
    return counts

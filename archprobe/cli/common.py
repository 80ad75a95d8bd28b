"""What every CLI command shares: the consoles and the one place user errors are printed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

from archprobe.errors import ArchprobeError

out = Console()
err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Print user errors once, compiler-style, and exit 1 (traceback if ARCHPROBE_DEBUG=1)."""
    try:
        yield
    except ArchprobeError as exc:
        if os.environ.get("ARCHPROBE_DEBUG") == "1":
            raise
        err.print(exc.format() if hasattr(exc, "format") else str(exc))
        raise typer.Exit(1) from None


def ready(path: Path) -> Path:
    """Create the parent folder of an output file and say (on stderr) where it goes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    err.print(f"writing {path}")
    return path

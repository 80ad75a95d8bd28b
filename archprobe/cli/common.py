"""What every CLI command shares: the consoles, the one place user errors are printed, and the
comparison run that ``compare`` and ``report`` share."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from archprobe.cli.options import parse_batches, parse_choice, parse_measurements
from archprobe.errors import ArchprobeError

if TYPE_CHECKING:
    from archprobe.analysis.compare import Comparison, Measure

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


def announce(path: Path) -> None:
    """Say (on stderr) which file is being written."""
    err.print(f"writing {path}")


def ready(path: Path) -> Path:
    """Create the parent folder of an output file and say (on stderr) where it goes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    announce(path)
    return path


def measure_options(
    measure: str, batch: str, dtype: str, optimizer: str = "sgd_momentum", **flags: Any
) -> Measure:
    """The library's ``Measure`` from the command's options (usage errors for bad values);
    ``flags`` are the boolean and numeric options, passed through by name."""
    from archprobe.analysis.compare import Measure

    asked = parse_measurements(measure)
    return Measure(
        measure_memory="memory" in asked, latency="latency" in asked,
        batches=parse_batches(batch), dtype=parse_choice("dtype", dtype),
        optimizer=parse_choice("optimizer", optimizer), **flags,
    )  # fmt: skip


def run_compare(specs: Sequence[str], options: Measure) -> Comparison:
    """The library's ``compare``, with a progress bar while latency is measured."""
    from archprobe.analysis.compare import compare

    if not options.latency:
        return compare(list(specs), measure=options)
    from archprobe.report.terminal.latency import progress_bar

    with progress_bar(len(specs) * len(options.batches), out) as progress:
        return compare(list(specs), measure=options, progress=progress)

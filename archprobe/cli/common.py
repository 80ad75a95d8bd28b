"""What every CLI command shares: the consoles, the one place user errors are printed, how a
view is printed (rich, plain or JSON), and the comparison run that ``compare`` and ``report``
share."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console, RenderableType

from archprobe.cli.boundary import err as err  # re-exported: the command modules use them
from archprobe.cli.boundary import user_errors as user_errors
from archprobe.cli.consoles import out as out  # re-exported: the command modules use it
from archprobe.cli.options import parse_batches, parse_choice, parse_measurements

if TYPE_CHECKING:
    from archprobe.analysis.compare import Comparison
    from archprobe.analysis.measure_options import Measure


def wants_json(json_out: bool, plain: bool) -> bool:
    """``--json`` (True) or not; with ``--plain`` too it is a usage error, not a guess."""
    if json_out and plain:
        raise typer.BadParameter("give --json or --plain, not both", param_hint="--plain")
    return json_out


def print_json(data: Any) -> None:
    """``data`` as JSON on stdout (the ``--json`` of every command that prints a table)."""
    sys.stdout.write(json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n")


def print_view(
    parts: Sequence[RenderableType], plain: bool = False, console: Console | None = None
) -> None:
    """Rich renderables on stdout (through ``console``, default :data:`out`), or with ``plain``
    as text (tables tab-separated)."""
    console = console or out
    if plain:
        from archprobe.report.terminal.render import plain_lines

        sys.stdout.write(plain_lines(parts) + "\n")
        return
    for part in parts:
        if isinstance(part, str):  # a sentence, not markup: it may hold names from the user
            console.print(part, markup=False, highlight=False, soft_wrap=True)
        elif (fast := _fast_text(part, console)) is not None:
            console.file.write(fast)
        else:  # never cropped: a table wider than the terminal runs on (render.Table)
            console.print(part, crop=False)


def _fast_text(part: RenderableType, console: Console) -> str | None:
    """A plain table piped without colour, laid out directly (render.fast_table_text: rich's
    own layout is most of a cached ``archprobe list``); None where rich must render it, or
    where the console records or captures what it prints."""
    from archprobe.report.terminal.render import Table, fast_table_text

    if not isinstance(part, Table) or console.record or console._buffer_index:
        return None
    return fast_table_text(part, console)


def emit(
    json_out: bool,
    plain: bool,
    parts: Callable[[], Sequence[RenderableType]],
    data: Callable[[], Any],
    console: Console | None = None,
) -> None:
    """The one way a command prints what it computed: ``--json`` prints ``data()``, otherwise
    ``parts()`` as tables (``--plain``: as text) through ``console`` (default :data:`out`)."""
    if wants_json(json_out, plain):
        print_json(data())
    else:
        print_view(parts(), plain, console)


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
    from archprobe.analysis.measure_options import Measure

    asked = parse_measurements(measure)
    return Measure(
        measure_memory="memory" in asked, latency="latency" in asked,
        batches=parse_batches(batch), dtype=parse_choice("dtype", dtype),
        optimizer=parse_choice("optimizer", optimizer), **flags,
    )  # fmt: skip


def run_compare(specs: Sequence[str], options: Measure) -> Comparison:
    """The library's ``compare``, with a progress bar (on stderr) while counters, latency or
    the roofline run, and the device fallback of ``--device auto`` said before any table."""
    from archprobe.analysis.compare import compare, progress_total

    warn_device(options)
    total = progress_total(len(specs), options)
    if not total:
        return compare(list(specs), measure=options)
    from archprobe.report.terminal.latency import progress_bar

    with progress_bar(total, err) as progress:
        return compare(list(specs), measure=options, progress=progress)


def warn_device(options: Measure) -> None:
    """``warning: --device auto: no CUDA device, measuring on the CPU`` on stderr when a
    measurement will run on a device other than the one a user of ``auto`` may expect."""
    if options.device != "auto" or not (
        options.latency or options.roofline or options.measure_memory
    ):
        return
    from archprobe.analysis.timing.env import resolve_device

    note = resolve_device("auto").note
    if note:
        err.print(f"warning: {note}")

"""The terminal view of an analytic ``archprobe compare``, kept between runs (issue 16, start-up).

``compare A B`` with no measurement and no output file prints a view computed from files only:
the specs and their ``extends:`` trees, the archprobe code that counts and lays them out, and how
the console renders (width, colour, terminal or pipe, encoding, ``--plain``). The text printed is
stored in :func:`archprobe.cache.cache_dir` (``$ARCHPROBE_CACHE_DIR``; ``off`` turns it off) and
printed again while none of that changed. The entry point (``archprobe.cli.main``) looks the view
up *before typer is imported* (:func:`replayed`): typer 0.29 coerces every option value through
a pydantic ``TypeAdapter``, alone 1.5× the import of archprobe's dependencies, so a repeated
comparison imports neither typer, click nor pydantic, and analyses nothing. The key:

- the raw command-line tokens (``compare resnet50 resnext50 --plain``): the same tokens parse to
  the same options given the same code, so the options themselves are not needed. :func:`parse`
  reads the specs and ``--plain`` from tokens made only of specs, ``--`` and options that
  neither measure nor write a file (anything else, and ``-h``, is left to typer); the command
  stores its view only when typer read the same specs and ``--plain`` from the same tokens, so a
  view is served only for a command line that printed it;
- the specs' resolved paths (a relative path depends on the working directory) and the stamp
  (mtime, size, inode) of every file each spec's ``extends:`` tree read, recorded only when each
  was older than the racy window when read (``spec/index.py``: a rewrite in the same clock tick
  keeps its stamp, so such a file is never trusted);
- :func:`archprobe.spec.rows.environment`: the archprobe version and the stamp of every file of
  the package, the loaded plugins' files, the spec search path and the catalog's name -> file map
  (the key ``archprobe list``'s cached rows use);
- the stamp of rich's console module (the renderer) and of the ``__init__.py`` of typer, click,
  pydantic, pydantic-core, rich and PyYAML (an upgrade may parse or print differently), the
  Python version, and the rendering properties of the stdout console, made as the command makes
  it (``cli/consoles.py``), so every environment variable that reaches the output (``COLUMNS``,
  ``NO_COLOR``, ``FORCE_COLOR``, ``TERM``, ``TTY_COMPATIBLE``, ``PYTHONIOENCODING``) reaches it
  through them: width, colour system, terminal or not, ``no_color``, dumb terminal, encoding and
  its error handler, tab size. No ``compare`` option reads an environment variable.

A served view prints the same stdout and stderr (the save hint) with the same exit status as the
command. Warnings asked for (``-W``, ``PYTHONWARNINGS``, ``-X dev``) always run the command, as the
analysis may print them. Anything unreadable, foreign or changed is a miss: typer runs as
without a cache.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from archprobe.cache import cache_dir
from archprobe.errors import ArchprobeError
from archprobe.spec import index, rows
from archprobe.spec.catalog import find_spec

if TYPE_CHECKING:
    from archprobe.report.assemble import Report

VERSION = 2
KEPT = 64
"""Views kept at most (the least recently written are removed): one per comparison, options and
console, so a folder of distinct comparisons does not grow without bound."""

FLAGS = frozenset({"--plain", "--channels-last", "--compile"})
VALUED = frozenset({"--batch", "--device", "--dtype", "--optimizer", "--min-time", "--threads"})
"""``compare``'s options that neither measure nor name a file: a command line made of these,
``--`` and spec names may be an analytic comparison (every other option falls through)."""
LIBRARIES = ("typer", "click", "pydantic", "pydantic_core", "rich", "yaml")
"""The packages that parse the command line and print the view: a reinstall changes the stamp
of their ``__init__.py`` (a new file), so a view is not served across an upgrade."""


@dataclass(frozen=True)
class Invocation:
    """The command-line tokens the entry point runs typer on, passed as the click context's
    ``obj``: the analytic ``compare`` stores its view under them."""

    tokens: tuple[str, ...]


def parse(tokens: Sequence[str]) -> tuple[list[str], bool] | None:
    """The spec arguments and ``--plain`` of ``archprobe compare ...`` (``tokens``: the argv after
    the program), when every token is a spec, ``--`` (the rest are specs) or an option of
    :data:`FLAGS` / :data:`VALUED` (with its value, next or after ``=``); None otherwise. It
    reads tokens as click does; the command stores a view only when typer read the same specs
    and ``--plain`` (:func:`print_analytic`), so a misreading here is a miss, never a wrong hit."""
    if list(tokens[:1]) != ["compare"] or sys.warnoptions or sys.flags.dev_mode:
        return None  # warnings asked for: the analysis may print them, so it runs
    specs: list[str] = []
    plain = False
    rest: Iterator[str] = iter(tokens[1:])
    for token in rest:
        if token == "--":
            specs += rest
        elif token in FLAGS:
            plain = plain or token == "--plain"
        elif token.split("=", 1)[0] in VALUED:
            if "=" not in token and next(rest, None) is None:
                return None  # a missing value: typer's usage error
        elif token.startswith("-"):
            return None
        else:
            specs.append(token)
    return specs, plain


def _console_key(console: Console, plain: bool) -> list[Any] | None:
    """What decides how ``console`` renders a report; None where its output is not plain text
    written to a file (a legacy Windows console, one that records or captures, Jupyter)."""
    if console.legacy_windows or console.record or console._buffer_index or console.is_jupyter:
        return None
    return [plain, console.width, console.color_system, console.is_terminal, console.no_color,
            console.is_dumb_terminal, console.encoding, getattr(console.file, "errors", None),
            console.tab_size]  # fmt: skip


def _libraries() -> list[Any]:
    """The stamp of each of :data:`LIBRARIES`' ``__init__.py``, found without importing it."""
    from importlib.util import find_spec as find_module

    stamps: list[Any] = []
    for name in LIBRARIES:
        found = find_module(name)
        origin = found.origin if found is not None else None
        stamps.append(rows.file_stamp(Path(origin)) if origin else None)
    return stamps


def _key(tokens: Sequence[str], specs: Sequence[str], console: Console, plain: bool) -> str | None:
    """The text every input of the view of ``archprobe TOKENS`` is named in; None when one
    cannot be named (a spec that is not found fails the same way in the comparison itself)."""
    view = _console_key(console, plain)
    if view is None or cache_dir() is None:  # not kept: nothing to name
        return None
    try:
        paths = [str(find_spec(s)) for s in specs]
    except ArchprobeError:
        return None
    renderer = rows.file_stamp(Path(sys.modules[Console.__module__].__file__ or ""))
    return json.dumps([VERSION, rows.environment(), renderer, _libraries(),
                       list(sys.version_info[:3]), list(tokens), paths, view])  # fmt: skip


def _file(key: str) -> Path | None:
    root = cache_dir()
    if root is None:
        return None
    return root / f"compare-{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"


def _stored(key: str) -> str | None:
    """The view stored for ``key``, if every file it was computed from is unchanged."""
    path = _file(key)
    try:
        if path is None:
            return None
        entry = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if (isinstance(entry, dict) and entry.get("key") == key and rows.unchanged(entry.get("deps"))
            and isinstance(entry.get("text"), str)):  # fmt: skip
        text: str = entry["text"]
        return text
    return None


def _store(key: str, specs: Sequence[str], text: str, started_ns: int) -> None:
    """Save ``text`` unless a file it read changed since ``started_ns`` (or too recently)."""
    path = _file(key)
    if path is None:
        return
    deps: list[Any] = []
    for spec in specs:
        found = rows.file_deps(find_spec(spec), started_ns)
        if found is None:
            return
        deps += found
    index.write_atomic(path, json.dumps({"key": key, "deps": deps, "text": text}))
    _prune(path.parent)


def _prune(folder: Path) -> None:
    """Remove all but the :data:`KEPT` most recently written views (on a write only)."""
    dated = []
    for view in folder.glob("compare-*.json"):
        stamp = rows.file_stamp(view)
        if stamp is not None:
            dated.append((stamp[0], view))
    for _, view in sorted(dated, reverse=True)[KEPT:]:
        view.unlink(missing_ok=True)


def render(report: Report, console: Console, plain: bool) -> str:
    """What :func:`archprobe.report.outputs.print_report` prints, as text."""
    from archprobe.report.outputs import print_report
    from archprobe.report.terminal.render import plain_lines

    if plain:
        return plain_lines(report.renderables()) + "\n"
    with console.capture() as captured:
        print_report(report, console)
    return captured.get()


def print_analytic(
    specs: Sequence[str],
    console: Console,
    plain: bool,
    report: Callable[[], Report],
    invoked: object = None,
) -> None:
    """Print the view of ``report()`` (the comparison of ``specs``) on ``console``: the stored
    text when nothing it depends on changed, else computed and printed; kept under the tokens
    the entry point ran typer on (``invoked``: an :class:`Invocation`, the context's ``obj``)
    when :func:`parse` reads the same specs and ``--plain`` from them."""
    started = time.time_ns()
    key = None
    if isinstance(invoked, Invocation) and parse(invoked.tokens) == (list(specs), plain):
        key = _key(invoked.tokens, specs, console, plain)
    text = _stored(key) if key is not None else None
    computed = text is None
    if text is None:
        text = render(report(), console, plain)
    console.file.write(text)
    console.file.flush()
    if computed and key is not None:  # printed: a view that cannot be written is not kept
        _store(key, specs, text, started)


def replayed(tokens: Sequence[str]) -> bool:
    """Print the kept view of ``archprobe TOKENS`` and the save hint, as the command prints
    them, and return True; False, having printed nothing, where typer must run (not a stored
    analytic comparison). Called before typer is imported."""
    parsed = parse(tokens)
    if parsed is None or sys.stdout is None or sys.stderr is None:
        return False
    from archprobe.cli.consoles import SAVE_HINT, err, out

    key = _key(tokens, parsed[0], out, parsed[1])
    text = _stored(key) if key is not None else None
    if text is None:
        return False
    try:
        out.file.write(text)
        out.file.flush()
        err.print(SAVE_HINT)
    except Exception as exc:  # a closed pipe, an encoding: the command's line and exit status
        _fail(exc)
    return True


def _fail(exc: Exception) -> None:
    """End as the command ends when printing fails: its error boundary's line, exit 1."""
    import typer

    from archprobe.cli.boundary import user_errors

    try:
        with user_errors():
            raise exc
    except typer.Exit as done:
        raise SystemExit(done.exit_code) from None

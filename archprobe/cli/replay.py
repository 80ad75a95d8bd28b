"""The terminal view of an analytic ``archprobe compare``, kept between runs (issue 16, start-up).

``compare A B`` with no measurement and no output file prints a view computed from files only:
the specs and their ``extends:`` trees, the archprobe code that counts and lays them out, and how
the console renders (width, colour, terminal or pipe, ``--plain``). The text printed is stored in
:func:`archprobe.cache.cache_dir` (``$ARCHPROBE_CACHE_DIR``; ``off`` turns it off) and printed
again while none of that changed, so a repeated comparison imports neither the parts' pydantic
models nor the ops, and analyses nothing. The key:

- the stamp (mtime, size, inode) of every file each spec's ``extends:`` tree read, recorded only
  when each was older than the racy window when read (``spec/index.py``: a rewrite in the same
  clock tick keeps its stamp, so such a file is never trusted);
- :func:`archprobe.spec.rows.environment`: the archprobe version and the stamp of every file of
  the package, the loaded plugins' files, the spec search path and the catalog's name -> file map
  (the key ``archprobe list``'s cached rows use);
- the stamp of rich's console module (the renderer), the Python version, the command's options
  (``Measure``) and the console's rendering properties.

Anything unreadable, foreign or changed is a miss: the comparison runs as without a cache.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from archprobe.cache import cache_dir
from archprobe.errors import ArchprobeError
from archprobe.spec import index, rows
from archprobe.spec.catalog import find_spec

if TYPE_CHECKING:
    from archprobe.analysis.measure_options import Measure
    from archprobe.report.assemble import Report

VERSION = 1
KEPT = 64
"""Views kept at most (the least recently written are removed): one per comparison, options and
console, so a folder of distinct comparisons does not grow without bound."""


def _console_key(console: Console, plain: bool) -> list[Any] | None:
    """What decides how ``console`` renders a report; None where its output is not plain text
    written to a file (a legacy Windows console, one that records or captures)."""
    if console.legacy_windows or console.record or console._buffer_index:
        return None
    return [plain, console.width, console.color_system, console.is_terminal, console.no_color,
            console.is_dumb_terminal, console.encoding, console.tab_size]  # fmt: skip


def _key(specs: Sequence[str], options: Measure, console: Console, plain: bool) -> str | None:
    """The text every input of the view is named in; None when one cannot be named (a spec
    that is not found fails the same way in the comparison itself)."""
    view = _console_key(console, plain)
    if view is None or cache_dir() is None:  # not kept: nothing to name
        return None
    try:
        paths = [str(find_spec(s)) for s in specs]
    except ArchprobeError:
        return None
    renderer = rows.file_stamp(Path(sys.modules[Console.__module__].__file__ or ""))
    return json.dumps([VERSION, rows.environment(), renderer, list(sys.version_info[:3]),
                       list(specs), paths, repr(options), view])  # fmt: skip


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
    options: Measure,
    console: Console,
    plain: bool,
    report: Callable[[], Report],
) -> None:
    """Print the view of ``report()`` (the comparison of ``specs``) on ``console``: the stored
    text when nothing it depends on changed, else computed, printed and stored."""
    started = time.time_ns()
    key = _key(specs, options, console, plain)
    text = _stored(key) if key is not None else None
    if text is None:
        text = render(report(), console, plain)
        if key is not None:
            _store(key, specs, text, started)
    console.file.write(text)
    console.file.flush()

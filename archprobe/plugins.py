"""Plugins: a user's own ops and spec parts, registered with the package's own decorators.

A plugin is an importable module that registers ops (``archprobe.graph.register_op``) and parts
(``archprobe.blocks.register_block``, ``register_stem``, ``register_transition``,
``register_head``) when imported. archprobe imports, once and before any spec is read:

- the modules named in ``$ARCHPROBE_PLUGINS`` (comma- or colon-separated, e.g.
  ``ARCHPROBE_PLUGINS=mypkg.blocks``; the working directory is importable, as with
  ``python -m``);
- the modules of every installed distribution's ``archprobe.plugins`` entry points
  (``[project.entry-points."archprobe.plugins"] mine = "mypkg.blocks"`` in its pyproject).

A plugin that fails to import, or registers an op without one of its facts, is not skipped: the
failure is kept and raised (:func:`check`) by the first spec validation and by the CLI, naming
the plugin, where it was named and the error.

This module sits at the root and imports no part: ``archprobe.blocks`` calls
:func:`load_plugins` once its parts are registered, and the CLI imports ``archprobe.blocks`` at
start-up only when :func:`named_plugins` names one (issue 16: start-up time).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from importlib import metadata
from pathlib import Path

from archprobe.errors import ArchprobeError

ENV = "ARCHPROBE_PLUGINS"
GROUP = "archprobe.plugins"


class PluginError(ArchprobeError):
    """A plugin that could not be imported or registered."""


_FAILURES: list[str] = []
_LOADED: list[str] = []


def named_plugins() -> list[tuple[str, str]]:
    """(module, where it was named) of every plugin: the environment first, then entry points."""
    found = [(m, f"${ENV}") for m in re.split(r"[,:\s]+", os.environ.get(ENV, "")) if m]
    for ep in metadata.entry_points(group=GROUP):
        found.append((ep.value.split(":", 1)[0], f"entry point {ep.name!r} ({ep.dist.name})"
                      if ep.dist else f"entry point {ep.name!r}"))  # fmt: skip
    return found


def _import(module: str) -> None:
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        importlib.import_module(module)
    finally:
        if added:
            sys.path.remove(cwd)


def load_plugins() -> None:
    """Import every named plugin once; failures are kept for :func:`check`."""
    for module, origin in named_plugins():
        if module in _LOADED:
            continue
        _LOADED.append(module)
        try:
            _import(module)
        except Exception as exc:  # the plugin's own error, reported with its origin
            _FAILURES.append(f"plugin {module!r} (from {origin}): {type(exc).__name__}: {exc}")


def _files(module: str) -> list[str]:
    """The source files of an imported plugin: its file, or every ``.py`` of its package."""
    mod = sys.modules.get(module)
    if mod is None:
        return []
    folders = list(getattr(mod, "__path__", []))
    if not folders:
        file = getattr(mod, "__file__", None)
        return [file] if isinstance(file, str) else []
    return sorted(str(p) for folder in folders for p in Path(folder).rglob("*.py"))


def fingerprint() -> list[list[object]]:
    """What the loaded plugins are made of: each named module with the (path, mtime, size) of its
    files, so a cache of computed numbers can tell when a plugin changed."""
    found: list[list[object]] = []
    for module, origin in named_plugins():
        stamps: list[object] = [module, origin]
        for path in _files(module):
            try:
                st = os.stat(path)
            except OSError:
                continue
            stamps.append([path, st.st_mtime_ns, st.st_size])
        found.append(stamps)
    return found


def check() -> None:
    """Raise the plugin failures, if any.

    Raises:
        PluginError: one line per plugin that failed, with how to fix it.
    """
    if _FAILURES:
        fix = f"fix the plugin or remove it from ${ENV} / its entry point"
        raise PluginError("\n".join([*_FAILURES, f"  ({fix})"]))

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
from importlib.machinery import PathFinder
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
    if not _may_declare_entry_points():
        return found
    from importlib import metadata

    for ep in metadata.entry_points(group=GROUP):
        found.append((ep.value.split(":", 1)[0], f"entry point {ep.name!r} ({ep.dist.name})"
                      if ep.dist else f"entry point {ep.name!r}"))  # fmt: skip
    return found


def _metadata_folders(root: str) -> list[str] | None:
    """The distribution metadata folders ``importlib.metadata`` reads under one ``sys.path``
    entry (``*.dist-info``, ``*.egg-info``, an ``.egg``'s ``EGG-INFO``); None for a zip file,
    which only ``importlib.metadata`` reads."""
    try:
        names = os.listdir(root or ".")
    except NotADirectoryError:
        return None
    except OSError:  # a missing entry (python3XX.zip) holds nothing
        return []
    egg = root.lower().endswith(".egg")
    kept = [n for n in names if n.lower().endswith((".dist-info", ".egg-info"))
            or (egg and n.lower() == "egg-info")]  # fmt: skip
    return [os.path.join(root or ".", n) for n in kept]


def _may_declare_entry_points() -> bool:
    """False only when no distribution can declare an ``archprobe.plugins`` entry point: no
    ``entry_points.txt`` on ``sys.path`` names the group, no entry is a zip, and no import
    finder but the standard one finds distributions. Then ``importlib.metadata`` (and its
    email, zipfile and csv imports, ~15 ms CPU on every command: issue 16, start-up) is not
    imported; it answers whenever one may, so a found plugin is the standard library's
    answer (its precedence of duplicate distributions included)."""
    if any(hasattr(f, "find_distributions") and f is not PathFinder for f in sys.meta_path):
        return True
    for root in sys.path:
        folders = _metadata_folders(root)
        if folders is None:
            return True
        for folder in folders:
            try:
                with open(os.path.join(folder, "entry_points.txt"), "rb") as f:
                    if GROUP.encode() in f.read():
                        return True
            except OSError:  # no entry points, or an old-style egg-info file
                continue
    return False


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

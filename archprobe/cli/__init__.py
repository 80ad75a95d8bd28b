"""The ``archprobe`` command line (typer), a thin layer over the library.

:func:`main` is the console-script entry point. It imports typer only when it runs the app: a
repeated analytic ``compare`` is answered from its kept view before that (``cli/replay.py``;
issue 16, start-up: typer's option coercion alone costs more than the target allows).
``app`` (the typer app) is imported on first use.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: a plugin that failed to load stops every command, since a
    spec using its parts would otherwise read as an unknown type. Without a plugin named, the
    parts are not imported here: a command that needs them imports them (start-up time)."""
    _check_plugins()
    tokens = sys.argv[1:]
    invoked = None
    if tokens[:1] == ["compare"]:
        from archprobe.cli import replay

        if replay.replayed(tokens):  # the kept view printed, as the command would print it
            return
        invoked = replay.Invocation(tuple(tokens))  # the command keeps its view under them
    from archprobe.cli.app import app as typer_app

    typer_app(obj=invoked)


def _check_plugins() -> None:
    from archprobe.cli.consoles import err
    from archprobe.plugins import PluginError, check, named_plugins

    try:
        if named_plugins():
            import archprobe.blocks  # noqa: F401  (imports the parts, then the plugins)
        check()
    except PluginError as exc:
        err.print(str(exc))
        raise SystemExit(1) from None


def __getattr__(name: str) -> Any:
    # ``from archprobe.cli import app`` imports typer on first use, not for ``main``'s views
    if name == "app":
        from archprobe.cli.app import app as typer_app

        return typer_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(types.ModuleType):
    """This package's module class: the import system binds a loaded submodule on its package
    (``archprobe.cli.app`` = the module), which would hide the typer ``app`` that this package
    has always exported under the same name; the attribute stays the typer app."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "app" and isinstance(value, types.ModuleType):
            value = value.app
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

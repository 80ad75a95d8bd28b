"""The ``archprobe`` command line (typer), a thin layer over the library.

:func:`main` is the console-script entry point. It imports typer only when it runs the app: a
repeated analytic ``compare`` is answered from its kept view before that (``cli/replay.py``;
issue 16, start-up: typer's option coercion alone costs more than the target allows).
The typer app itself is ``archprobe.cli.app.app``; importing it imports typer.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


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

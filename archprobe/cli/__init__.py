"""The ``archprobe`` command line (typer), a thin layer over the library."""

from archprobe.cli.app import app, main

__all__ = ["app", "main"]

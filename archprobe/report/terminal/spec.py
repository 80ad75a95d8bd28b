"""The view of ``archprobe show``: a spec file as it is, or the resolved spec as YAML.

Piped or redirected, the file goes out byte for byte (``archprobe show resnext50 > my.yaml``
copies it); only on a terminal is it highlighted.
"""

from __future__ import annotations

import yaml
from rich.console import Console
from rich.syntax import Syntax

from archprobe.errors import printable
from archprobe.report.terminal.render import writes_to_terminal
from archprobe.spec.schema import ArchSpec


def resolved_yaml(spec: ArchSpec) -> str:
    """The validated spec (``extends:`` merged, each stage with its block) as YAML that loads
    back to the same spec: block-style sections, flow-style leaves, keys in schema order."""
    data = spec.model_dump(mode="json")
    return yaml.safe_dump(
        data, sort_keys=False, default_flow_style=None, width=100, allow_unicode=True
    )


def print_spec(data: bytes, console: Console) -> None:
    """A spec's text: highlighted on a terminal, else written unchanged to the console's file."""
    if writes_to_terminal(console):
        text = printable(data.decode("utf-8", errors="replace"))  # shown, never obeyed
        console.print(
            Syntax(text, "yaml", theme="ansi_dark", background_color="default", word_wrap=True)
        )
        return
    stream = console.file
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a text-only stream (a notebook's): the text, decoded
        stream.write(data.decode("utf-8", errors="replace"))
        return
    buffer.write(data)
    buffer.flush()

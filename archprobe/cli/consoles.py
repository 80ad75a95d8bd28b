"""The two consoles every command prints through, in a module that imports rich only: the entry
point prints a kept ``compare`` view through them before typer is imported (``cli/replay.py``),
so both paths write through consoles made the same way."""

from __future__ import annotations

from rich.console import Console

# Tables size themselves (report/terminal/render.py: full width when not on a terminal); text
# lines go out with soft_wrap (never wrapped by rich: piped, each is a line of a file).
out = Console(emoji=False)
err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True, emoji=False)

SAVE_HINT = "(add --md/--csv/--json/--html PATH to save this report)"
"""What ``compare`` says on stderr after a report it printed and wrote to no file."""

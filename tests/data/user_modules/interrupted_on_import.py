"""A user's module whose import is interrupted (what Ctrl-C during a slow import raises)."""

raise KeyboardInterrupt

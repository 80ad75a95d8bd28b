"""Keep torch's profiler chatter off stderr (torch-free; the lowest analysis rank, so the memory
measurement and the per-layer timing share it)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block: torch's profiler (kineto) prints
    ``USDT: ... profiler_start`` / ``profiler_stop`` from C++ on every start and stop, past
    Python's ``sys.stderr``. Python-level writes (a progress bar's refresh) resume afterwards.
    ``ARCHPROBE_DEBUG=1`` keeps the chatter."""
    if os.environ.get("ARCHPROBE_DEBUG") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (an embedding host): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)

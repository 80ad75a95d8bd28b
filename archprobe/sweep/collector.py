"""The garbage collector paused while a sweep builds a batch, and the sweep's long-lived caches
kept out of its scans."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def no_gc() -> Iterator[None]:
    """No garbage collection while a batch builds its rows: the collector would rescan every
    cached core (tens of thousands of objects) for each few hundred new rows; the batch makes
    no cycles, and collection resumes after it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def frozen_survivors() -> Iterator[Callable[[], None]]:
    """A ``freeze()`` that moves every object alive into the collector's permanent generation,
    undone on exit. The cached cores (specs, nodes, costs: ~10⁵ objects) live for the whole run
    and make no cycles, yet each collection rescanned them: a cold rejection sweep at 4.1 GMACs
    (5,000 accepted of 248,295 draws) took 3.6 s with them scanned and 2.4 s frozen (measured).
    Where something else has frozen objects (``gc.get_freeze_count()``), freezing is skipped:
    unfreezing at the end would hand its objects back to the collector too."""
    owner = gc.get_freeze_count() == 0
    try:
        yield gc.freeze if owner else _nothing
    finally:
        if owner:
            gc.unfreeze()


def _nothing() -> None:
    return None

"""Where archprobe keeps what it caches per user and machine (the catalog index, measured
roofline ceilings): one place, so one setting moves or turns off every cache.

``$ARCHPROBE_CACHE_DIR`` (empty, ``0``, ``off`` or ``none`` turns caching off), else
``$XDG_CACHE_HOME/archprobe`` (the XDG base directory spec), else ``~/.cache/archprobe``; never the
working directory or a spec folder (nothing the user did not name as an output is written there).
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "ARCHPROBE_CACHE_DIR"


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is turned off."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit is not None:
        return None if explicit.strip().lower() in ("", "0", "off", "none") else Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "archprobe"

"""Number formatting with explicit units (MACs canonical; FLOPs only when labelled 2×MAC), and
the one parser of comma-separated sizes the CLI options share."""

from __future__ import annotations

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def si(value: float, unit: str = "", digits: int = 3) -> str:
    """``4089184256, "MAC"`` -> ``"4.089 GMAC"``; small values stay exact."""
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}f} {prefix}{unit}".rstrip()
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.{digits}g}"
    return f"{text} {unit}".rstrip()


def binary_bytes(value: float) -> str:
    """Bytes with binary prefixes: ``102.2 MiB``."""
    for scale, prefix in ((2**40, "Ti"), (2**30, "Gi"), (2**20, "Mi"), (2**10, "Ki")):
        if abs(value) >= scale:
            return f"{value / scale:.1f} {prefix}B"
    return f"{value:.0f} B"


MINUS = "\u2212"
"""The one minus sign of every delta and percentage shown (not the ASCII hyphen)."""


def signed(value: float, spec: str = ".1f") -> str:
    """``value`` with an explicit sign, formatted by ``spec``: ``+3.5``, ``−2.1``."""
    text = format(value, "+" + spec)
    return MINUS + text[1:] if text.startswith("-") else text


def signed_percent(new: float, old: float) -> str:
    """The change from ``old`` to ``new`` in percent: ``+3.5%``, ``−2.1%``."""
    if old == 0:
        return "n/a"
    return signed((new - old) / old * 100) + "%"


def signed_si(delta: float, unit: str = "") -> str:
    """A signed difference with an SI prefix: ``+141.296 MMAC``, ``−528.128 k``."""
    return ("+" if delta >= 0 else MINUS) + si(abs(delta), unit)


def exact(value: float) -> int | float:
    """A count as JSON gives it: an int when it is whole (params, MACs), else the float."""
    return int(value) if float(value).is_integer() else value


def parse_positive_ints(text: str) -> tuple[int, ...] | None:
    """``"1,32,256"`` -> ``(1, 32, 256)``; None when empty, not integers, or any below 1."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        return None
    return values if values and min(values) >= 1 else None

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


def signed_percent(new: float, old: float) -> str:
    if old == 0:
        return "n/a"
    return f"{(new - old) / old * 100:+.1f}%"


def signed_si(delta: float, unit: str = "") -> str:
    return ("+" if delta >= 0 else "−") + si(abs(delta), unit)


def parse_positive_ints(text: str) -> tuple[int, ...] | None:
    """``"1,32,256"`` -> ``(1, 32, 256)``; None when empty, not integers, or any below 1."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        return None
    return values if values and min(values) >= 1 else None

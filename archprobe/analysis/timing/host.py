"""Facts about the host CPU a timing depends on (torch-free): physical cores, the CPUs the
process may run on, the frequency governor and turbo/boost. Linux reads them from /proc and
/sys; elsewhere (or in a container that hides them) they are "unknown", never guessed."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

CPUFREQ = Path("/sys/devices/system/cpu")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


@lru_cache(maxsize=1)
def physical_cores() -> int:
    """Distinct (physical id, core id) pairs in /proc/cpuinfo: hyper-threads share a core's
    execution units, so an intra-op thread per logical CPU oversubscribes them. Falls back to
    ``os.cpu_count()`` where /proc/cpuinfo has no core ids (some VMs, not Linux)."""
    text = _read(Path("/proc/cpuinfo")) or ""
    cores: set[tuple[str, str]] = set()
    physical = core = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            physical = value.strip()
        elif key == "core id":
            core = value.strip()
            cores.add((physical, core))
    allowed = len(affinity()) or os.cpu_count() or 1
    return min(len(cores), allowed) if cores else allowed


def affinity() -> list[int]:
    """The CPUs this process may run on (``sched_getaffinity``); all CPUs where unsupported."""
    getter = getattr(os, "sched_getaffinity", None)
    if getter is not None:
        return sorted(getter(0))
    return list(range(os.cpu_count() or 1))


def cpu_ranges(cpus: list[int]) -> str:
    """``[0, 1, 2, 5]`` as ``"0-2,5"`` (the taskset/lscpu notation)."""
    parts: list[str] = []
    start = prev = None
    for c in [*cpus, None]:
        if c is not None and prev is not None and c == prev + 1:
            prev = c
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = c
    return ",".join(parts)


def governor() -> str:
    """cpufreq's scaling governor of CPU 0 (e.g. "performance", "powersave"), or "unknown"."""
    return _read(CPUFREQ / "cpu0" / "cpufreq" / "scaling_governor") or "unknown"


def turbo() -> str:
    """ "on"/"off" from intel_pstate's no_turbo or cpufreq's boost switch, else "unknown"."""
    no_turbo = _read(CPUFREQ / "intel_pstate" / "no_turbo")
    if no_turbo is not None:
        return "off" if no_turbo == "1" else "on"
    boost = _read(CPUFREQ / "cpufreq" / "boost")
    if boost is not None:
        return "on" if boost == "1" else "off"
    return "unknown"


def host_facts(threads: int) -> dict[str, str | int]:
    """What a CPU timing row records: intra-op threads, affinity, physical cores, governor,
    turbo."""
    return {
        "threads": threads,
        "affinity": cpu_ranges(affinity()),
        "physical_cores": physical_cores(),
        "governor": governor(),
        "turbo": turbo(),
    }

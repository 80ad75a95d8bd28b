"""``compare``: several models side by side, the first one the baseline (torch-free core).

The analytic part needs no torch; counters, memory, latency and roofline measurements are
imported lazily when asked for, and their rows join the same Results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archprobe.analytic import Analysis, analyze_spec
from archprobe.errors import ArchprobeError
from archprobe.results import Results
from archprobe.spec.schema import ArchSpec

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Comparison:
    """Models, their analyses and every result row (analytic, traced, measured)."""

    models: list[Analysis]
    results: Results
    sections: dict[str, Any] = field(default_factory=dict)  # extra reports by name

    @property
    def baseline(self) -> Analysis:
        return self.models[0]

    def to_frame(self) -> pd.DataFrame:
        return self.results.to_frame()


def _unique_names(models: list[Analysis]) -> None:
    seen = [m.name for m in models]
    duplicates = sorted({n for n in seen if seen.count(n) > 1})
    if duplicates:
        raise ArchprobeError(
            f"compare got {', '.join(duplicates)} more than once; give each model once"
        )


def compare(refs: list[ArchSpec | str | Path], dtype_bytes: int = 4) -> Comparison:
    """Analyze two or more specs for a side-by-side report (the first one is the baseline).

    Args:
        refs: specs, catalog names/aliases or YAML paths.
        dtype_bytes: bytes per element for the byte metrics (4 = fp32).
    """
    if len(refs) < 2:
        raise ArchprobeError("compare needs at least two models, e.g. `compare resnet50 resnext50`")
    models = [analyze_spec(r, dtype_bytes) for r in refs]
    _unique_names(models)
    results = Results(e for m in models for e in m.results.entries)
    return Comparison(models, results)

"""Spec findings: coded, located remarks on a valid spec that the papers would make (torch-free).

``CHECKS`` maps a stable code to a registered check (``RX`` aggregation and cardinality, ``SH``
shapes; DESIGN §7.9). Impossible specs (groups that do not divide a width, a map shrinking below
1×1) are validation errors raised while loading or expanding, never findings. Every module
holding checks is imported here, explicitly, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from archprobe.analysis.results import Results, draw
from archprobe.checks import aggregation, shapes  # noqa: F401  (registration side effect)
from archprobe.checks.finding import SEVERITIES, Finding, Hit, Severity
from archprobe.checks.registry import CHECKS, Check, register_check
from archprobe.graph.nodes import Graph
from archprobe.spec.expand import expand
from archprobe.spec.loader import load_spec
from archprobe.spec.schema import ArchSpec

__all__ = [
    "CHECKS",
    "SEVERITIES",
    "Check",
    "Finding",
    "Hit",
    "Severity",
    "SpecCheck",
    "check_spec",
    "register_check",
    "run_checks",
]


def run_checks(
    spec: ArchSpec,
    graph: Graph | None = None,
    results: Results | None = None,
    codes: Iterable[str] | None = None,
) -> list[Finding]:
    """Run the registered checks (or only ``codes``) on a valid spec; findings in file order.

    Args:
        spec: a validated spec (its ``source`` locates the findings).
        graph: its expanded graph, when already built.
        results: its analytic results, when already computed.
        codes: restrict to these check codes (``KeyError`` for an unknown one).
    """
    from archprobe.analysis.analytic import analyze

    graph = expand(spec) if graph is None else graph
    results = analyze(graph) if results is None else results
    chosen = [CHECKS[c] for c in codes] if codes is not None else list(CHECKS.values())
    found = [f for check in chosen for f in check.run(spec, graph, results)]
    return sorted(found, key=Finding.sort_key)


@dataclass(frozen=True)
class SpecCheck:
    """The findings of one spec, and how many checks ran."""

    name: str
    findings: tuple[Finding, ...]
    checks_run: int

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def summary(self) -> str:
        """``2 warnings, 1 info`` (severities that occur), or ``no findings``."""
        counts = [(self.count(s), s) for s in SEVERITIES]
        words = [f"{n} {s}{'s' if n > 1 and s != 'info' else ''}" for n, s in counts if n]
        return ", ".join(words) or "no findings"

    def __repr__(self) -> str:
        return f"SpecCheck({self.name}: {self.summary()}; {self.checks_run} checks)"

    def _repr_html_(self) -> str:
        """A notebook's view: the findings as a table, located (drawn by report/)."""
        html: str = draw("html", self)
        return html


def check_spec(ref: ArchSpec | str | Path) -> SpecCheck:
    """Load (if needed), validate, expand and check one spec.

    Raises:
        SpecError: when the spec is invalid (a validation error is never a finding).
    """
    spec = ref if isinstance(ref, ArchSpec) else load_spec(ref)
    return SpecCheck(spec.name, tuple(run_checks(spec)), len(CHECKS))

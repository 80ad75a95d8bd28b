"""The check registry: a stable code maps to one check; a duplicate code is an error.

A check is a function ``(spec, graph, results) -> Iterable[Hit]`` registered with its code,
severity, one-line title and the source it cites (DESIGN §7.9); the registry turns each hit into
a :class:`Finding`. Modules holding checks are imported explicitly in ``checks/__init__.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from archprobe.analysis.results import Results
from archprobe.checks.finding import SEVERITIES, Finding, Hit, Severity
from archprobe.graph.nodes import Graph
from archprobe.spec.schema import ArchSpec

CheckFn = Callable[[ArchSpec, Graph, Results], Iterable[Hit]]
_CODE = re.compile(r"^[A-Z]{2}[0-9]{3}$")


@dataclass(frozen=True)
class Check:
    """A registered check: its code, severity, title, cited source and function."""

    code: str
    severity: Severity
    title: str
    ref: str
    fn: CheckFn

    def run(self, spec: ArchSpec, graph: Graph, results: Results) -> list[Finding]:
        return [
            Finding(self.code, self.severity, hit.message, hit.where, self.ref)
            for hit in self.fn(spec, graph, results)
        ]


CHECKS: dict[str, Check] = {}


def register_check(
    code: str, severity: Severity, title: str, ref: str
) -> Callable[[CheckFn], CheckFn]:
    """Decorator: register ``fn`` under ``code`` (two capitals and three digits, unique)."""
    if not _CODE.match(code):
        raise ValueError(f"check code {code!r} must be two capitals and three digits (RX001)")
    if severity not in SEVERITIES:
        raise ValueError(f"check {code}: severity {severity!r} is not one of {SEVERITIES}")

    def deco(fn: CheckFn) -> CheckFn:
        if code in CHECKS:
            raise ValueError(f"check {code} is already registered by {CHECKS[code].fn.__name__}")
        CHECKS[code] = Check(code, severity, title, ref, fn)
        return fn

    return deco

"""One report of a comparison: which sections exist, in which order, and what each one shows.

:func:`assemble` is the one place that decides it; every output is a view of its
:class:`Report`:

- the terminal prints each section's renderables in section order (:meth:`Report.renderables`);
- the Markdown writes the analytic sections' own tables, then the terminal text of the measured
  sections in one fenced block (:meth:`Report.markdown_body`);
- the HTML page draws the sections named by :attr:`Report.html_sections`, in page order;
- JSON and CSV write the comparison's Results rows (which hold every number of every section),
  the JSON also the parts that are not numbers (paper figures, check findings);
- each file's provenance names :attr:`Report.device`.

Imports of torch-dependent table modules stay inside the functions that need them, so an
analytic report never imports torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType

from archprobe.analysis.compare import Comparison
from archprobe.analysis.paper import PaperCheck, paper_checks
from archprobe.report import markdown as md

if TYPE_CHECKING:
    from archprobe.checks import SpecCheck

ANALYTIC_DEVICE = "analytic (no device)"
HTML_ORDER = (
    "summary", "profiles", "stages", "roofline", "counters", "memory", "latency", "checks", "specs",
)  # fmt: skip
"""The page order of the HTML sections (the page leads with the summary; the terminal and the
Markdown lead with the stage table)."""


@dataclass(frozen=True)
class Section:
    """One part of a report and what each view shows of it.

    Attributes:
        key: its name: stages, totals, paper, profiles, counters, memory, latency, roofline,
            checks or specs.
        html: the HTML section that draws it (totals and paper share "summary"); None: none.
        terminal: the rich renderables the terminal prints, in order (empty: not printed).
        markdown: its own Markdown lines; None: its terminal text, fenced with the other
            measured parts under "Counters and measurements".
    """

    key: str
    html: str | None
    terminal: tuple[RenderableType, ...] = ()
    markdown: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Report:
    """The assembled report of one comparison (build it with :func:`assemble`)."""

    comparison: Comparison
    sections: tuple[Section, ...]
    device: str
    paper: tuple[PaperCheck, ...] = ()

    @property
    def title(self) -> str:
        return " vs ".join(self.comparison.results.models)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def html_sections(self) -> tuple[str, ...]:
        """The HTML sections the sections name, in page order (:data:`HTML_ORDER`)."""
        named = {s.html for s in self.sections}
        return tuple(key for key in HTML_ORDER if key in named)

    @cached_property
    def checks(self) -> tuple[SpecCheck, ...]:
        """Design-rule findings of every spec model (run on first use: only HTML and JSON
        show them)."""
        from archprobe.checks import check_spec

        return tuple(check_spec(a.spec) for a in self.comparison.models)

    def renderables(self) -> list[RenderableType]:
        """What the terminal prints: every section's renderables, in section order."""
        return [part for s in self.sections for part in s.terminal]

    def markdown_body(self) -> list[str]:
        """The analytic sections' Markdown, then the measured parts' terminal text, fenced."""
        from archprobe.report.terminal.latency import to_text

        lines = [line for s in self.sections if s.markdown for line in s.markdown]
        measured = [p for s in self.sections if s.markdown is None for p in s.terminal]
        if measured:
            blocks = [p if isinstance(p, str) else to_text(p) for p in measured]
            text = [line for block in blocks for line in block.splitlines()]
            lines += ["## Counters and measurements", "", *md.md_fenced(text), ""]
        return lines


def _spec_sections(c: Comparison, paper: Sequence[PaperCheck]) -> list[Section]:
    """Stages, totals and the paper line (analytic, with their own Markdown)."""
    from archprobe.report.terminal.table import compare_table, paper_table, totals_table

    models = list(c.models)
    sections = [
        Section("stages", "stages", (compare_table(models),), tuple(md.stages_markdown(models))),
        Section("totals", "summary", (totals_table(models),), tuple(md.totals_markdown(models))),
    ]
    table = paper_table(models)
    if table is not None:
        sections.append(Section("paper", "summary", (table,), tuple(md.paper_markdown(paper))))
    return sections


def _profile_sections(c: Comparison) -> list[Section]:
    """Models given as modules: dispatch-level counts side by side by module path."""
    from archprobe.report.terminal.profile import aligned_table, category_table, profile_lines

    names = [p.name for p in c.profiles]
    parts: list[RenderableType] = [aligned_table(c.results, names, m) for m in ("macs", "params")]
    for p in c.profiles:
        parts += [category_table(p), "\n".join(profile_lines(p))]
    parts.append(absent_for_modules(c))
    return [Section("profiles", "profiles", tuple(parts))]


ABSENT_FOR_MODULES = (
    ("stages and totals", "they sum a spec's stages; the aligned tables above hold the counts "
     "by module path"),
    ("counters", "the reconciliation checks analytic counts, which need a spec; the dispatch "
     "counts above are the profile-based count"),
    ("predicted memory", "the prediction replays a spec's op graph (measured memory: "
     "--measure memory)"),
    ("roofline", "per-layer intensity needs each layer's analytic MACs and bytes from a spec"),
    ("check findings and resolved specs", "the design rules read a spec"),
)  # fmt: skip
"""What a report of specs has and one with a ``pkg.mod:factory`` module lacks, and why."""


def absent_for_modules(c: Comparison) -> str:
    """One line per section a spec report has and this one lacks (some model is a module, so
    every model was profiled at dispatch level instead)."""
    modules = [p.name for p in c.profiles if ":" in p.name]
    head = f"absent because {', '.join(modules) or 'a model'} is a module, not a spec:"
    return "\n".join([head, *(f"{name}: {why}" for name, why in ABSENT_FOR_MODULES)])


def _counters(c: Comparison) -> Section | None:
    if not c.counters:
        return None
    from archprobe.report.terminal.counters import reconciliation_table

    return Section("counters", "counters", tuple(reconciliation_table(r) for r in c.counters))


def _memory(c: Comparison) -> Section | None:
    if not c.memory:
        return None
    from archprobe.report.terminal.memory import memory_table

    return Section("memory", "memory", (memory_table(c.memory),))


def _latency(c: Comparison) -> Section | None:
    if c.latency is None:
        return None
    from archprobe.report.terminal.latency import latency_table

    return Section("latency", "latency", (latency_table(c.latency.rows, c.latency.ratios),))


def _roofline(c: Comparison) -> Section | None:
    """The measured roofline's stage table and per-stage sentences; the reference roofline
    (no ``--roofline``) is drawn in the HTML only."""
    if not c.roofline:
        return Section("roofline", "roofline", markdown=()) if c.reference_roofline else None
    from archprobe.report.terminal.latency import (
        grouped_conv_summary,
        roofline_stage_table,
        time_accounting,
    )

    reports = c.roofline
    parts: list[RenderableType] = [roofline_stage_table(reports)]
    for other in reports[1:]:
        parts += grouped_conv_summary(reports[0], other)
    parts += time_accounting(reports, _latency_at(c, reports[0].batch))
    return Section("roofline", "roofline", tuple(parts))


def _latency_at(c: Comparison, batch: int) -> dict[str, float]:
    """The measured latency median of each model at ``batch`` (ok rows only)."""
    rows = c.latency.rows if c.latency is not None else ()
    return {r.model: r.median_s for r in rows if r.batch == batch and r.ok}


MEASURED: tuple[Callable[[Comparison], Section | None], ...] = (
    _counters, _memory, _latency, _roofline,
)  # fmt: skip
"""The measured parts in terminal and Markdown order; each returns None when it is absent."""


def device_stamp(c: Comparison) -> str:
    """The devices latency was measured on (with CUDA, driver and cuDNN versions for a GPU),
    or ``analytic (no device)``."""
    rows = c.latency.rows if c.latency is not None else ()
    envs = {_describe(r.env) for r in rows if r.env.get("device_name")}
    return ", ".join(sorted(envs)) or ANALYTIC_DEVICE


def _describe(env: Any) -> str:
    name = str(env["device_name"])
    if env.get("device") != "cuda":
        return name
    return f"{name} (CUDA {env.get('cuda')}, driver {env.get('driver')}, cuDNN {env.get('cudnn')})"


def assemble(c: Comparison) -> Report:
    """The report of a comparison: its sections in order, the paper figures and the device.

    Spec models: stages, totals, the paper line (when a spec has published figures), then each
    measured part present (counters, memory, latency, roofline), then check findings and the
    resolved specs (HTML only). Profiled modules: the profiles, then latency when measured.
    """
    paper = tuple(p for a in c.models for p in paper_checks(a))
    sections = _profile_sections(c) if c.profiles else _spec_sections(c, paper)
    sections += [s for s in (build(c) for build in MEASURED) if s is not None]
    if c.models:
        sections += [
            Section("checks", "checks", markdown=()),
            Section("specs", "specs", markdown=()),
        ]
    return Report(c, tuple(sections), device_stamp(c), paper)

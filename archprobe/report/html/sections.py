"""Sections of the HTML report that are tables and text (no plotly): one function per section.

Each function takes the :class:`~archprobe.report.html.page.Page` and an assembled
:class:`~archprobe.report.assemble.Report` and adds one section; the assembly decides which
exist. The tables are the report sections' own terminal tables, reused through
:func:`~archprobe.report.html.page.rich_table_html`, so the two views never disagree.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from rich.table import Table

from archprobe.analysis.analytic import Analysis
from archprobe.analysis.compare import Comparison
from archprobe.proofs.results import Proof
from archprobe.report.assemble import Report
from archprobe.report.html.page import Page, esc, rich_table_html, simple_table
from archprobe.units import binary_bytes, si


def spec_file(a: Analysis) -> str:
    """The spec's YAML file, relative to the working directory when under it ("" if none)."""
    source = a.spec.source or {}
    located = source.get(("name",)) or source.get(())
    if located is None:
        return ""
    path = Path(located.value.file)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _model_rows(c: Comparison) -> list[list[str]]:
    rows = []
    for a in c.models:
        s = a.spec
        depths = "-".join(str(st.depth) for st in s.stages)
        size = f"{s.input.channels}×{s.input.size}×{s.input.size}"
        rows.append([a.name, s.paper or "—", spec_file(a) or "(built in code)", depths, size])
    return rows


def tables_of(report: Report, key: str) -> list[str]:
    """The rich tables a report section prints in the terminal, as HTML tables."""
    section = report.section(key)
    parts = section.terminal if section is not None else ()
    return [rich_table_html(t) for t in parts if isinstance(t, Table)]


def summary_section(page: Page, report: Report) -> None:
    """Models, whole-model totals with deltas, and the papers' printed figures."""
    s = page.section("summary", "Summary")
    header = ["model", "paper", "spec file", "blocks per stage", "input"]
    s.parts.append(simple_table(header, _model_rows(report.comparison)))
    s.parts += tables_of(report, "totals") + tables_of(report, "paper")


def profiles_section(page: Page, report: Report) -> None:
    """Models given as modules: dispatch-level counts aligned by module path, per category;
    each profile's lines (spec match, uncounted ops, notes) as one note."""
    s = page.section("profiles", "Profiled modules (dispatch-level counts)")
    section = report.section("profiles")
    for part in section.terminal if section is not None else ():
        if isinstance(part, Table):
            s.parts.append(rich_table_html(part))
        else:
            s.parts.append(f'<p class="note">{esc(" · ".join(str(part).splitlines()))}</p>')


def counters_section(page: Page, report: Report) -> None:
    """Analytic MACs against FlopCounterMode, fvcore and thop, per op category."""
    s = page.section("counters", "Counter reconciliation")
    s.parts += tables_of(report, "counters")


def memory_section(page: Page, report: Report) -> None:
    """Predicted (and measured, when asked) inference and training memory."""
    s = page.section("memory", "Memory")
    s.parts += tables_of(report, "memory")


def roofline_tables_html(report: Report) -> list[str]:
    """The per-stage 3×3 roofline table and, for each other model, one sentence per stage."""
    reports = report.comparison.roofline
    parts = tables_of(report, "roofline")
    section = report.section("roofline")
    lines = [p for p in section.terminal if isinstance(p, str)] if section else []
    if reports and lines:  # the per-stage sentences and the time accounting
        parts.append("<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>")
    return parts


def checks_section(page: Page, report: Report) -> None:
    """Design-rule findings of every model (``archprobe check SPEC``)."""
    s = page.section("checks", "Check findings")
    for a, result in zip(report.comparison.models, report.checks, strict=True):
        s.parts.append(f"<h3>{esc(a.name)}</h3>")
        if not result.findings:
            s.parts.append(f'<p class="ok">no findings ({result.checks_run} checks)</p>')
            continue
        items = "".join(
            f'<li><span class="{_SEVERITY.get(f.severity, "")}">{esc(f.code)} {esc(f.severity)}'
            f"</span>: {esc(f.message)} <span class=dim>[{esc(f.ref)}] "
            f"{esc(f.where or '<spec>')}</span></li>"
            for f in result.findings
        )
        s.parts.append(f'<ul class="findings">{items}</ul>')


_SEVERITY = {"error": "bad", "warning": "warn", "info": "dim"}


def specs_section(page: Page, report: Report) -> None:
    """Every resolved spec (``extends:`` merged, stage defaults applied), collapsed."""
    s = page.section("specs", "Resolved specs")
    for a in report.comparison.models:
        data = a.spec.model_dump(mode="json")
        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
        where = spec_file(a)
        label = f"{a.name}" + (f" — {where}" if where else "")
        s.parts.append(f"<details><summary>{esc(label)}</summary><pre>{esc(text)}</pre></details>")


def proof_section(page: Page, proof: Proof, key: str) -> None:
    """A numeric proof (``archprobe check forms|depth2``): forms, costs, errors, claims."""
    s = page.section(key, proof.title)
    s.parts.append(f'<p class="note">{esc(proof.setting)} · [{esc(proof.ref)}]</p>')
    rows = [
        [f"({f.key}) {f.name}", f.layers, f"{f.params:,}", si(f.macs, "MAC", 1), str(f.ops),
         binary_bytes(f.bytes_moved)]
        for f in proof.forms
    ]  # fmt: skip
    header = ["form", "layers", "params", "MACs", "ops", "moved (fp32)"]
    s.parts.append(simple_table(header, rows, right={2, 3, 4, 5}))
    agreements = [
        [f"({a.ref}) vs ({a.other})", a.dtype, f"{a.max_abs:.2e}", f"{a.scale:.3g}", a.expect,
         "✓" if a.holds else "✗"]
        for a in proof.agreements
    ]  # fmt: skip
    header = ["pair", "dtype", "max |Δ|", "max |output|", "expected", "holds"]
    s.parts.append(simple_table(header, agreements, right={2, 3}))
    claims = "".join(
        f'<li><span class="{"ok" if c.holds else "bad"}">{"✓" if c.holds else "✗"}</span> '
        f"{esc(c.text)}</li>"
        for c in proof.claims
    )
    notes = "".join(f'<p class="note">note: {esc(n)}</p>' for n in proof.notes)
    verdict = '<b class="ok">QED:</b>' if proof.ok else '<b class="bad">FAILED:</b>'
    s.parts += [f"<ul>{claims}</ul>", notes, f"<p>{verdict} {esc(proof.conclusion)}</p>"]

"""Sections of the HTML report that are tables and text (no plotly): one function per section.

Each function takes the :class:`~archprobe.report.html.page.Page` and a
``Comparison`` and adds at most one section (none when the comparison
lacks that part). The terminal's rich tables are reused through
:func:`~archprobe.report.html.page.rich_table_html`, so the two views never disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from archprobe.analysis.analytic import Analysis
from archprobe.analysis.compare import Comparison
from archprobe.proofs.results import Proof
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


def summary_section(page: Page, c: Comparison) -> None:
    """Models, whole-model totals with deltas, and the papers' printed figures."""
    from archprobe.report.terminal.table import paper_table, totals_table

    s = page.section("summary", "Summary")
    header = ["model", "paper", "spec file", "blocks per stage", "input"]
    s.parts.append(simple_table(header, _model_rows(c)))
    s.parts.append(rich_table_html(totals_table(c.models)))
    paper = paper_table(c.models)
    if paper is not None:
        s.parts.append(rich_table_html(paper))


def profiles_section(page: Page, c: Comparison) -> None:
    """Models given as modules: dispatch-level counts aligned by module path, per category."""
    from archprobe.report.terminal.profile import aligned_table, category_table, profile_lines

    profiles = c.sections["profiles"]
    names = [p.name for p in profiles]
    s = page.section("profiles", "Profiled modules (dispatch-level counts)")
    for metric in ("macs", "params"):
        s.parts.append(rich_table_html(aligned_table(c.results, names, metric)))
    for p in profiles:
        s.parts.append(rich_table_html(category_table(p)))
        s.parts.append(f'<p class="note">{esc(" · ".join(profile_lines(p)))}</p>')


def stage_table_html(c: Comparison) -> str:
    """The stage-aligned table in the layout of ResNeXt Table 1."""
    from archprobe.report.terminal.table import compare_table

    return rich_table_html(compare_table(c.models))


def counters_section(page: Page, c: Comparison) -> None:
    """Analytic MACs against FlopCounterMode, fvcore and thop, per op category."""
    if "counters" not in c.sections:
        return
    from archprobe.report.terminal.counters import reconciliation_table

    s = page.section("counters", "Counter reconciliation")
    s.parts += [rich_table_html(reconciliation_table(rec)) for rec in c.sections["counters"]]


def memory_section(page: Page, c: Comparison) -> None:
    """Predicted (and measured, when asked) inference and training memory."""
    if "memory" not in c.sections:
        return
    from archprobe.report.terminal.memory import memory_table

    s = page.section("memory", "Memory")
    s.parts.append(rich_table_html(memory_table(c.sections["memory"])))


def latency_table_html(c: Comparison) -> str:
    from archprobe.report.terminal.latency import latency_table

    return rich_table_html(latency_table(c.sections["latency"], c.sections["ratios"]))


def roofline_tables_html(reports: list[Any]) -> list[str]:
    """The per-stage 3×3 roofline table and one sentence per stage for each other model."""
    from archprobe.report.terminal.latency import grouped_conv_summary, roofline_stage_table

    parts = [rich_table_html(roofline_stage_table(reports))]
    for other in reports[1:]:
        lines = grouped_conv_summary(reports[0], other)
        parts.append("<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>")
    return parts


def checks_section(page: Page, c: Comparison) -> None:
    """Design-rule findings of every model (``archprobe check SPEC``)."""
    from archprobe.checks import check_spec

    s = page.section("checks", "Check findings")
    for a in c.models:
        result = check_spec(a.spec)
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


def specs_section(page: Page, c: Comparison) -> None:
    """Every resolved spec (``extends:`` merged, stage defaults applied), collapsed."""
    s = page.section("specs", "Resolved specs")
    for a in c.models:
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

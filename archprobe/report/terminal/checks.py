"""Rich views of spec findings and of the equivalence proofs (``archprobe check``).

Findings print as plain compiler-style lines (``file:line:col: CODE severity: message [ref]``),
only coloured, so terminals and editors keep them clickable. A proof prints as a compact table
of its forms (analytic costs, and latency where measured), then the measured output errors,
the checked claims, the notes and the conclusion. Inputs are the torch-free result objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from archprobe.checks import Finding, SpecCheck
from archprobe.proofs.results import Agreement, Proof, Timing
from archprobe.report.terminal.render import Table, escape
from archprobe.units import binary_bytes, si

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def finding_text(f: Finding) -> Text:
    """One finding as its :meth:`Finding.format` line, with the severity coloured."""
    place = str(f.where) if f.where else "<spec>"
    return Text.assemble(
        f"{place}: ",
        (f.code, "bold"),
        " ",
        (f.severity, SEVERITY_STYLE[f.severity]),
        f": {f.message} ",
        (f"[{f.ref}]", "dim"),
    )


def finding_record(f: Finding) -> dict[str, Any]:
    """One finding as data (``--json`` and the report's JSON)."""
    where = str(f.where) if f.where else None
    return {"code": f.code, "severity": f.severity, "message": f.message, "where": where,
            "ref": f.ref}  # fmt: skip


def check_record(check: SpecCheck) -> dict[str, Any]:
    """A spec's check as data: its name, findings, counts and the number of checks run."""
    return {
        "name": check.name,
        "findings": [finding_record(f) for f in check.findings],
        "errors": check.count("error"),
        "warnings": check.count("warning"),
        "checks_run": check.checks_run,
    }


def spec_summary(check: SpecCheck) -> Text:
    """``name: 1 error, 2 warnings (5 checks)`` or ``name: no findings (5 checks)``."""
    counts = [
        f"{n} {sev}{'s' if n > 1 else ''}"
        for sev in ("error", "warning", "info")
        if (n := check.count(sev))
    ]
    what = ", ".join(counts) if counts else "no findings"
    style = "bold red" if check.has_errors else ("yellow" if counts else "green")
    return Text.assemble((check.name, "bold"), ": ", (what, style), f" ({check.checks_run} checks)")


def _ms(t: Timing) -> str:
    return f"{t.median_s * 1e3:.2f} ms ± {t.iqr_s * 1e3:.2f}"


def forms_list(proof: Proof) -> Table:
    """What each form is: ``(a) aggregated (Fig. 3a)  32 × [1×1, 4; 3×3, 4; 1×1, 256], summed``."""
    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column(no_wrap=True)
    t.add_column(overflow="fold")
    for f in proof.forms:
        t.add_row(escape(f"  ({f.key}) {f.name}"), escape(f.layers))
    return t


def costs_table(proof: Proof) -> Table:
    """One row per form: params, MACs, ops, bytes moved, and latency per device."""
    t = Table(box=None, header_style="bold", pad_edge=False)
    t.add_column("")
    for col in ("params", "MACs", "ops", "moved"):
        t.add_column(col, justify="right", no_wrap=True)
    devices = list(dict.fromkeys(x.device for x in proof.timings))
    for device in devices:
        t.add_column(f"{device} median ± IQR", justify="right", no_wrap=True)
    for f in proof.forms:
        times = {x.device: _ms(x) for x in proof.timings if x.form == f.key}
        t.add_row(
            f"  ({f.key})",
            f"{f.params:,}",
            si(f.macs, "MAC", 1),
            str(f.ops),
            binary_bytes(f.bytes_moved),
            *(times.get(d, "—") for d in devices),
        )
    return t


def _error(value: float) -> str:
    return f"{value:.1e}" if value < 1e-2 else f"{value:.3g}"


def _verdict(a: Agreement) -> Text:
    if a.expect == "report":
        return Text(" (reported)", style="dim")
    sign = "≤" if a.expect == "equal" else ">"
    word = "equal" if a.expect == "equal" else "not equivalent"
    ok = ("✓ " + word, "green") if a.holds else ("✗ expected " + word, "bold red")
    return Text.assemble(f" {sign} {a.bound:.0e} ", ok)


def agreement_lines(proof: Proof) -> Iterator[Text]:
    """``(a) vs (b): max |Δ| float64 4.3e-14 ≤ 1e-05 ✓ equal · float32 1.1e-05 (reported)``,
    one line per pair of compared forms, with the output scale to read the errors against."""
    pairs = list(dict.fromkeys((a.ref, a.other) for a in proof.agreements))
    for ref, other in pairs:
        found = [a for a in proof.agreements if (a.ref, a.other) == (ref, other)]
        line = Text(f"  ({ref}) vs ({other}): max |Δ| ")
        for i, a in enumerate(found):
            line.append(f"{' · ' if i else ''}{a.dtype} {_error(a.max_abs)}")
            line.append_text(_verdict(a))
        line.append(f" · |output| ≤ {max(a.scale for a in found):.3g}", style="dim")
        yield line


def proof_view(proof: Proof) -> RenderableType:
    """The whole proof: title, setting, forms, errors, claims, notes, conclusion."""
    parts: list[RenderableType] = [
        Text.assemble((proof.title, "bold"), "  ", (f"[{proof.ref}]", "dim")),
        Text(proof.setting + " · moved = fp32 bytes read + written by every op", style="dim"),
        forms_list(proof),
        costs_table(proof),
        *agreement_lines(proof),
    ]
    if proof.timings:
        t = proof.timings[0]
        parts.append(
            Text(
                f"  timed: {t.batch} image{'s' if t.batch > 1 else ''} per forward, float32, "
                f"inference mode, median ± IQR of ≥ 5 blocks; {t.threads} CPU threads",
                style="dim",
            )
        )
    for c in proof.claims:
        parts.append(Text.assemble("  ", ("✓ " if c.holds else "✗ ", _ok(c.holds)), c.text))
    parts += [Text(f"  note: {n}", style="dim") for n in proof.notes]
    verdict = ("QED: ", "bold green") if proof.ok else ("FAILED: ", "bold red")
    parts.append(Text.assemble("  ", verdict, proof.conclusion))
    return Group(*parts)


def _ok(holds: bool) -> str:
    return "green" if holds else "bold red"

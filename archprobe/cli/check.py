"""``archprobe check``: spec findings, or a numeric proof of a paper's block equivalence.

Registered in ``cli.py`` as ``app.command("check")(check)``. Spec findings stay torch-free;
torch is imported only when a proof runs (``forms``, ``depth2``, ``equivalences``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from typing import Any

import typer
from rich.console import Console

from archprobe.cli.boundary import DEBUG, err, error_line
from archprobe.cli.common import emit, print_json, wants_json
from archprobe.cli.options import (
    CardinalityOpt,
    ChannelsOpt,
    JsonOutOpt,
    PlainOpt,
    ProofBatchOpt,
    ProofMinTimeOpt,
    SizeOpt,
    TargetsArg,
    TimeOpt,
    WidthOpt,
)
from archprobe.errors import ArchprobeError, printable
from archprobe.proofs.registry import PROOFS, ProofArgs

out = Console(highlight=False, emoji=False)


def _fail(exc: ArchprobeError) -> None:
    """One spec's errors, printed as the boundary prints them; the other specs go on."""
    if os.environ.get(DEBUG) == "1":
        raise exc
    err.print(printable(error_line(exc)))


def check_specs(refs: list[str], as_json: bool = False, plain: bool = False) -> bool:
    """Print every spec's findings (``as_json``: one JSON list of them) and a summary line on
    stderr; True when all are valid and error-free. Invalid specs print their errors on stderr."""
    from archprobe.checks import check_spec
    from archprobe.report.terminal.checks import check_record, finding_text, spec_summary

    ok, records = True, []
    for ref in refs:
        try:
            result = check_spec(ref)
        except ArchprobeError as exc:
            _fail(exc)
            ok = False
            records.append({"spec": ref, "valid": False, "error": str(exc)})
            continue
        records.append({"spec": ref, "valid": True, **check_record(result)})
        ok = ok and not result.has_errors
        if as_json:
            continue
        for f in result.findings:
            if plain:
                sys.stdout.write(finding_text(f).plain + "\n")
            else:
                out.print(finding_text(f), soft_wrap=True)
        err.print(spec_summary(result).plain)
    if as_json:
        print_json(records)
    return ok


def check(
    targets: TargetsArg,
    cardinality: CardinalityOpt = 32,
    width: WidthOpt = 4,
    channels: ChannelsOpt = None,
    size: SizeOpt = 56,
    batch: ProofBatchOpt = 1,
    time: TimeOpt = True,
    min_time: ProofMinTimeOpt = 0.2,
    json_out: JsonOutOpt = False,
    plain: PlainOpt = False,
) -> None:
    """Check specs for the papers' design rules, or prove a block equivalence numerically.

    Findings print as `file:line:col: CODE severity: message`, then the paper section cited;
    exit code 1 when a spec is invalid, has an error-severity finding, or a proof fails.

    Example: archprobe check depth2 --cardinality 32 --width 4
    """
    proof = PROOFS.get(targets[0]) if len(targets) == 1 else None
    if proof is None:
        if set(targets) & set(PROOFS):
            raise typer.BadParameter(f"give {' or '.join(PROOFS)} alone, without specs")
        if not check_specs(targets, wants_json(json_out, plain), plain):
            raise typer.Exit(1)
        return
    from archprobe.report.terminal.checks import proof_view

    try:
        proofs = _run_proof(proof, ProofArgs(cardinality, width, channels, size, batch, time,
                                             min_time))  # fmt: skip
    except ArchprobeError as exc:
        _fail(exc)
        raise typer.Exit(1) from None
    emit(json_out, plain, lambda: [proof_view(p) for p in proofs], lambda: _records(proofs), out)
    if not all(p.ok for p in proofs):
        raise typer.Exit(1)


def _run_proof(proof: Any, args: ProofArgs) -> Any:
    """The proof, with a progress bar on stderr while it times forms."""
    if not args.time:
        return proof(args)
    from dataclasses import replace

    from archprobe.cli.common import err
    from archprobe.report.terminal.latency import progress_bar

    with progress_bar(1, err) as progress:
        return proof(replace(args, progress=lambda description: progress(description, 0)))


def _records(proofs: Any) -> list[dict[str, Any]]:
    """Every proof as data, with its verdict (``ok``)."""
    return [{**asdict(p), "ok": p.ok} for p in proofs]

"""Regenerate the example reports in ``reports/``: ``python tools/regenerate_reports.py [OUTDIR]``.

Analytic counts, counters and memory predictions only (no GPU, no timing), so the files are
the same on every run apart from their provenance stamp (time, versions, command). Each file is
written by the command recorded in its stamp; reports/README.md lists them.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PAIR = "resnet50_vs_resnext50"
SWEEP = "resnext_random"


@contextmanager
def _argv(args: list[str]) -> Iterator[None]:
    """Run with ``sys.argv`` set to the command, so the stamp names it."""
    saved = sys.argv
    sys.argv = ["archprobe", *args]
    try:
        yield
    finally:
        sys.argv = saved


def _run_cli(args: list[str]) -> None:
    from archprobe.cli.app import app

    with _argv(args):
        app(args, standalone_mode=False)


def comparison(out: Path) -> None:
    """resnet50 vs resnext50: HTML, Markdown, CSV and JSON of the same rows."""
    base = (out / PAIR).as_posix()
    args = ["report", "resnet50", "resnext50", "--batch", "32", "--html", f"{base}.html",
            "--md", f"{base}.md", "--csv", f"{base}.csv", "--json", f"{base}.json"]  # fmt: skip
    _run_cli(args)


def proofs(out: Path) -> None:
    """``archprobe check depth2`` and ``forms --no-time``: text as printed, depth2 as HTML."""
    from archprobe.cli.check import PROOFS, ProofArgs
    from archprobe.report.export import stamp
    from archprobe.report.html.compare import proofs_html
    from archprobe.report.terminal.checks import proof_view
    from archprobe.report.terminal.latency import to_text

    plan = ProofArgs(32, 4, None, 56, 1, False, 0.2)
    for name, extra in (("depth2", []), ("forms", ["--no-time"])):
        command = ["check", name, *extra]
        found = PROOFS[name](plan)
        text = "".join(to_text(proof_view(p), width=120) for p in found)
        path = out / f"check_{name}.txt"
        print(f"writing {path}", file=sys.stderr)
        path.write_text(f"$ archprobe {' '.join(command)}\n{text}", encoding="utf-8")
        if name == "depth2":
            with _argv(command):
                page = proofs_html(found, stamp())
            (out / "check_depth2.html").write_text(page, encoding="utf-8")


def sweep(out: Path) -> None:
    """The random ResNeXt sweep (analytic, 200 configs) as a sweep report; about 4 s here."""
    from archprobe.report.export import stamp
    from archprobe.report.html.sweep import write_sweep_html
    from archprobe.spec.catalog import builtin_dir
    from archprobe.sweep.run import run_sweep

    spec = builtin_dir() / "sweeps" / f"{SWEEP}.yaml"
    path = out / f"sweep_{SWEEP}.html"
    print(f"writing {path}", file=sys.stderr)
    # A fresh database each time: a stored one would be resumed, not rerun.
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / f"{SWEEP}.db"
        run_sweep(spec, db)
        provenance = {
            **stamp(),
            "command": "python tools/regenerate_reports.py",
            "sweep": f"specs/sweeps/{SWEEP}.yaml, run into a temporary database",
        }
        write_sweep_html(db, path, provenance)


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else Path("reports")
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    comparison(out)
    proofs(out)
    sweep(out)
    print(f"regenerated {out}/ in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])

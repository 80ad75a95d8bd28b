"""Regenerate the example reports in ``reports/``: ``python tools/regenerate_reports.py [OUTDIR]``.

Analytic counts, counters and memory predictions only (no GPU, no timing), so the files are
the same on every run apart from their provenance stamp (time, versions, command). Each file is
written by the library functions behind the command recorded in its stamp (never through the
CLI), and holds what that command writes; reports/README.md lists them.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

PAIR = "resnet50_vs_resnext50"
SWEEP = "resnext_random"


def comparisons() -> list[tuple[list[str], str]]:
    """Analytic comparisons across families: one table aligned by output stride, and ConvNeXt's
    "modernizing a ResNet" roadmap (Liu et al. 2022 §2): what each step costs."""
    from archprobe.spec.catalog import builtin_dir

    roadmap = sorted(p.stem for p in (builtin_dir() / "convnext_roadmap").glob("roadmap_*.yaml"))
    return [
        (["resnet50", "regnet_y_3_2gf", "convnext_tiny", "efficientnet_b3"], "families"),
        (["resnet50", *roadmap], "convnext_roadmap"),
    ]


def comparison(out: Path, names: list[str], basename: str, measured: bool = True) -> None:
    """A comparison as HTML, Markdown, CSV and JSON of the same rows, as ``archprobe report
    NAMES [--batch 32]`` writes them (counters and memory on when ``measured``)."""
    from archprobe.analysis.compare import Measure, compare
    from archprobe.report.assemble import assemble
    from archprobe.report.outputs import Outputs, write_outputs

    base = (out / basename).as_posix()
    paths = {ext: Path(f"{base}.{ext}") for ext in ("html", "md", "csv", "json")}
    flags = " --batch 32" if measured else ""
    command = f"archprobe report {' '.join(names)}{flags} " + " ".join(
        f"--{ext} {path.as_posix()}" for ext, path in paths.items()
    )
    measure = Measure(counters=True, memory=True, batches=(32,)) if measured else Measure()
    c = compare(names, measure=measure)
    files = Outputs(json=paths["json"], csv=paths["csv"], md=paths["md"], html=paths["html"],
                    command=command)  # fmt: skip
    write_outputs(assemble(c), files, lambda path: print(f"writing {path}", file=sys.stderr))


def proofs(out: Path) -> None:
    """``archprobe check depth2`` and ``forms --no-time``: text as printed, depth2 as HTML."""
    from archprobe.proofs.registry import PROOFS, ProofArgs
    from archprobe.report.export import stamp
    from archprobe.report.html.compare import proofs_html
    from archprobe.report.terminal.checks import proof_view
    from archprobe.report.terminal.latency import to_text

    # `archprobe check depth2` and `archprobe check forms --no-time`: the command's defaults.
    runs = (("depth2", [], ProofArgs()), ("forms", ["--no-time"], ProofArgs(time=False)))
    for name, extra, args in runs:
        command = " ".join(["archprobe", "check", name, *extra])
        (found,) = PROOFS[name](args)
        path = out / f"check_{name}.txt"
        print(f"writing {path}", file=sys.stderr)
        path.write_text(f"$ {command}\n{to_text(proof_view(found), width=120)}", encoding="utf-8")
        if name == "depth2":
            page = proofs_html([found], stamp(command=command))
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
    comparison(out, ["resnet50", "resnext50"], PAIR)
    for names, basename in comparisons():
        comparison(out, names, basename, measured=False)
    proofs(out)
    sweep(out)
    print(f"regenerated {out}/ in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])

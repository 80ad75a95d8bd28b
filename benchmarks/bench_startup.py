"""Start-up cost of catalog commands: CPU time (user + sys) of ``archprobe list`` and ``archprobe
compare resnet50 resnext50`` next to ``python -c "import pydantic, rich, typer, yaml"`` (the
dependencies' own import), each a fresh process, interleaved round by round in one run.

Bytecode is cached under a temporary ``PYTHONPYCACHEPREFIX`` (an installed package has its .pyc
files; nothing is written into the source tree) and the catalog index under a temporary
``ARCHPROBE_CACHE_DIR``, warmed by one round first; ``--cold`` turns the index off instead.

Target (issue 16): both commands within 1.5× of the dependencies' import. Two typer floors are
printed next to them, what a typer command costs before archprobe does anything: ``typer floor``
(a bare typer app running a three-flag command, as ``list``) and ``typer floor, compare``
(a command taking ``compare``'s parameter types: a list of names, string, float and optional
options). typer 0.29 coerces every value that is not already a bool through a pydantic
TypeAdapter, so the second pays for pydantic's schema machinery whatever archprobe does; a
repeated analytic ``compare`` is answered by the entry point from its kept view before typer is
imported (``archprobe/cli/replay.py``), so it pays neither. Each archprobe command's output with
the warm caches is checked against its output with the caches off, so a timed run that printed
something else (or nothing) fails the benchmark instead of flattering it.
Run: python benchmarks/bench_startup.py [--rounds N] [--cold] [--root CHECKOUT] [--against OTHER]
(``--root``: time another checkout with the same harness; ``--against``: time OTHER's two commands
too, interleaved in the same rounds, e.g. the main branch as "before")
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The floor any typer command pays here: typer 0.29 coerces each option through a pydantic
# TypeAdapter when the command runs, which imports and builds pydantic's schema machinery that
# ``import pydantic`` (lazy) does not load. One command with three boolean options, as `list`.
TYPER_FLOOR = """
import typer
app = typer.Typer(add_completion=False)
@app.callback()
def options(version: bool = False) -> None: pass
@app.command("list")
def list_cmd(traits: bool = False, json_out: bool = False, plain: bool = False) -> None: pass
@app.command()
def other() -> None: pass
app()
"""
TYPER_COMPARE_FLOOR = """
import typer
app = typer.Typer(add_completion=False)
@app.callback()
def options(version: bool = False) -> None: pass
@app.command()
def compare(specs: list[str], batch: str = "1", dtype: str = "fp32", min_time: float = 0.5,
            threads: int | None = None, plain: bool = False) -> None: pass
@app.command()
def other() -> None: pass
app()
"""
FLOORS = {
    "deps import": ["-c", "import pydantic, rich, typer, yaml"],
    "typer floor": ["-c", TYPER_FLOOR, "list"],
    "typer floor, compare": ["-c", TYPER_COMPARE_FLOOR, "compare", "resnet50", "resnext50"],
}
ARCHPROBE = {
    "archprobe list": ["-m", "archprobe", "list"],
    "archprobe compare": ["-m", "archprobe", "compare", "resnet50", "resnext50"],
}


def cpu_seconds(args: list[str], env: dict[str, str], cwd: Path) -> float:
    """User + system CPU seconds of one child process running ``python ARGS`` in ``cwd`` (the
    checkout timed: ``python -m`` puts the working directory first on sys.path, before
    PYTHONPATH, so another cwd would time that folder's archprobe)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, *args], env=env, cwd=cwd, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _check_outputs(commands: dict[str, tuple[list[str], Path]], envs: dict[Path, dict[str, str]]
                   ) -> None:  # fmt: skip
    """Each archprobe command prints, with the caches the rounds used, what it prints without."""
    for key, (command, root) in commands.items():
        if command[:2] != ["-m", "archprobe"]:
            continue
        uncached = {**envs[root], "ARCHPROBE_CACHE_DIR": "off"}
        runs = [subprocess.run([sys.executable, *command], env=env, cwd=root, check=True,
                               capture_output=True) for env in (envs[root], uncached)]  # fmt: skip
        if (runs[0].stdout, runs[0].stderr) != (runs[1].stdout, runs[1].stderr):
            raise SystemExit(f"{key}: the cached run printed other output than the uncached one")


def _commands(root: Path, against: Path | None) -> dict[str, tuple[list[str], Path]]:
    """Each timed command with the checkout it runs in (its cwd and PYTHONPATH)."""
    commands = {k: (v, root) for k, v in {**FLOORS, **ARCHPROBE}.items()}
    if against is not None:
        commands |= {f"{k} ({against.name})": (v, against) for k, v in ARCHPROBE.items()}
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--cold", action="store_true", help="no catalog index (parse every file)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to time")
    parser.add_argument("--against", type=Path, help="another checkout, timed in the same rounds")
    args = parser.parse_args()
    commands = _commands(args.root.resolve(), args.against.resolve() if args.against else None)
    with tempfile.TemporaryDirectory(prefix="archprobe-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        envs = {}
        for root in {r for _, r in commands.values()}:  # each checkout its own caches
            cache = "off" if args.cold else str(Path(tmp) / f"cache-{root.name}")
            envs[root] = {**env, "PYTHONPATH": str(root), "ARCHPROBE_CACHE_DIR": cache,
                          "PYTHONPYCACHEPREFIX": str(Path(tmp) / f"pyc-{root.name}")}  # fmt: skip
        for command, root in commands.values():  # warm-up: bytecode, index and views written
            cpu_seconds(command, envs[root], root)
        samples: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(args.rounds):
            for key, (command, root) in commands.items():
                samples[key].append(cpu_seconds(command, envs[root], root))
        _check_outputs(commands, envs)
    base = samples["deps import"]
    caches = "off" if args.cold else "warm"
    print(f"{args.root}: CPU seconds per process, median of {args.rounds} interleaved rounds "
          f"(caches {caches}), Python {sys.version.split()[0]}")  # fmt: skip
    for key, values in samples.items():
        ratios = [v / b for v, b in zip(values, base, strict=True)]
        print(f"  {key:30s} {statistics.median(values):6.3f} s   "
              f"{statistics.median(ratios):5.2f}× the deps import (target ≤ 1.5×)")  # fmt: skip


if __name__ == "__main__":
    main()

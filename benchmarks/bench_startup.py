"""Start-up cost of catalog commands: CPU time (user + sys) of ``archprobe list`` and ``archprobe
compare resnet50 resnext50`` next to ``python -c "import pydantic, rich, typer, yaml"`` (the
dependencies' own import), each a fresh process, interleaved round by round in one run.

Bytecode is cached under a temporary ``PYTHONPYCACHEPREFIX`` (an installed package has its .pyc
files; nothing is written into the source tree) and the catalog index under a temporary
``ARCHPROBE_CACHE_DIR``, warmed by one round first; ``--cold`` turns the index off instead.

Target (issue 16): both commands within 1.5× of the dependencies' import. ``typer floor`` (a
bare typer app running a three-option command) is printed next to them: what any typer command
costs before archprobe does anything.
Run: python benchmarks/bench_startup.py [--rounds N] [--cold] [--root CHECKOUT]
(``--root``: time another checkout, e.g. the main branch, with the same harness)
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
COMMANDS = {
    "deps import": ["-c", "import pydantic, rich, typer, yaml"],
    "typer floor": ["-c", TYPER_FLOOR, "list"],
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--cold", action="store_true", help="no catalog index (parse every file)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archprobe-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cache = "off" if args.cold else str(Path(tmp) / "cache")
        env.update(PYTHONPATH=str(args.root.resolve()), PYTHONPYCACHEPREFIX=str(Path(tmp) / "pyc"),
                   ARCHPROBE_CACHE_DIR=cache)  # fmt: skip
        for command in COMMANDS.values():  # warm-up: bytecode and index written
            cpu_seconds(command, env, args.root)
        samples: dict[str, list[float]] = {k: [] for k in COMMANDS}
        for _ in range(args.rounds):
            for key, command in COMMANDS.items():
                samples[key].append(cpu_seconds(command, env, args.root))
    base = samples["deps import"]
    print(f"{args.root}: CPU seconds per process, median of {args.rounds} interleaved rounds "
          f"(index {'off' if args.cold else 'warm'}), Python {sys.version.split()[0]}")  # fmt: skip
    for key, values in samples.items():
        ratios = [v / b for v, b in zip(values, base, strict=True)]
        print(f"  {key:18s} {statistics.median(values):6.3f} s   "
              f"{statistics.median(ratios):5.2f}× the deps import (target ≤ 1.5×)")  # fmt: skip


if __name__ == "__main__":
    main()

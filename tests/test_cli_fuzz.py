"""CLI fuzz (issue #18): seeded mutations of specs, sweep files, databases and option values,
run through typer's CliRunner, bounded in count (:data:`CASES`) and time (:data:`BUDGET_S`).

Every case must end in one of: exit 0 with a result (stdout, or the output file it named);
exit 1 with error lines that each name the file, option or spec at fault; or exit 2, a usage
error, when an option value was mutated. Never a traceback or an "internal error" line, never
a hang (:data:`HANG_S` per case), and no input file changed or added: only named outputs.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archprobe.cli.app import app

ROOT = Path(__file__).parents[1]
HOSTILE = Path(__file__).parent / "data" / "hostile"
SEED = int(os.environ.get("ARCHPROBE_FUZZ_SEED", "18"))  # another seed: other cases
CASES = int(os.environ.get("ARCHPROBE_FUZZ_CASES", "150"))
BUDGET_S = float(os.environ.get("ARCHPROBE_FUZZ_SECONDS", "25"))
HANG_S = 20
SPECS = ("resnet/resnet18.yaml", "mobilenet/mobilenet_v2.yaml", "resnest/resnest50.yaml",
         "vgg/vgg11.yaml", "convnext/convnext_tiny.yaml")  # fmt: skip
SWEEPS = (ROOT / "specs/sweeps/resnext50_cardinality.yaml", HOSTILE / "string_axis_sweep.yaml")
VALUES = ("true", "false", "2.0", ".nan", ".inf", "-.inf", "-1", "0", "1e400", '"x"', "null",
          "[]", "{}", '"[/]"', '"<script>x</script>"', '"\\e[31m"', "3", "64")  # fmt: skip
OPTION_VALUES = ("nan", "inf", "-1", "0", "1.5", "true", "", "1,,2", "x", "1e9", "4", "1,2")
OPTIONS = (
    ["compare", "resnet18", "resnet34", "--batch"],
    ["compare", "resnet18", "resnet34", "--memory", "--batch"],
    ["solve", "resnet50", "--target"],
    ["solve", "resnet50", "--groups"],
    ["solve", "resnet50", "--preserve"],
    ["solve", "resnet50", "--per-stage", "--preserve"],
)
runner = CliRunner()


class Hang(Exception):
    pass


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def fire(*_: object) -> None:
        raise Hang(f"no answer in {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --- mutations ---------------------------------------------------------------------------------
def mutate_text(rng: random.Random, text: str) -> bytes:
    """One YAML mutation: a number or value replaced, a line dropped or doubled, the file cut,
    a hostile key added, or bytes that are not UTF-8."""
    lines = text.splitlines()
    kind = rng.choice(("value", "value", "value", "drop", "double", "cut", "key", "bytes"))
    if kind == "value":
        spots = [m for m in re.finditer(r"(?<=: )[^,{}\[\]\n#]+", text)]
        if spots:
            m = rng.choice(spots)
            return (text[: m.start()] + rng.choice(VALUES) + text[m.end() :]).encode()
    if kind == "drop" and lines:
        del lines[rng.randrange(len(lines))]
    if kind == "double" and lines:
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    if kind == "cut":
        return text.encode()[: rng.randrange(len(text) + 1)]
    if kind == "key":
        lines.append(rng.choice(('"\\e]0;x\\a": 1', '"[/]": 2', "<b>: 3", "stages: 7")))
    if kind == "bytes":
        data = bytearray("\n".join(lines).encode())
        data.insert(rng.randrange(len(data) + 1), rng.choice((0xE9, 0xFF, 0x00, 0x1B)))
        return bytes(data)
    return ("\n".join(lines) + "\n").encode()


def mutate_db(rng: random.Random, path: Path) -> None:
    """One database mutation: cut, bytes flipped, a row's JSON broken, the table gone."""
    kind = rng.choice(("cut", "flip", "row", "drop", "none"))
    if kind in ("cut", "flip"):
        data = bytearray(path.read_bytes())
        if kind == "cut":
            data = data[: rng.randrange(len(data))]
        for _ in range(8 if kind == "flip" else 0):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))
    elif kind in ("row", "drop"):
        sql = ("UPDATE results SET config = substr(config, 2) WHERE idx % 2 = 0"
               if kind == "row" else "DROP TABLE results")  # fmt: skip
        c = sqlite3.connect(path)
        try:
            c.execute(sql)
            c.commit()
            c.execute("PRAGMA journal_mode=DELETE")  # no -wal file left beside the copy
        except sqlite3.Error:
            pass  # a hostile reproducer without that table: left as it is
        finally:
            c.close()


# --- cases -------------------------------------------------------------------------------------
@dataclass
class Case:
    args: list[str]
    outputs: list[Path] = field(default_factory=list)  # files the command is asked to write
    options_mutated: bool = False
    names: list[str] = field(default_factory=list)  # what an error line may be located at


def output_path(rng: random.Random, out: Path, inputs: Path, suffix: str) -> tuple[str, bool]:
    """An output path: mostly fine, sometimes a folder, empty, under a file or /dev/full."""
    i = len(list(out.iterdir()))
    choice = rng.choice(("ok", "ok", "ok", "dir", "empty", "under", "full"))
    paths = {"ok": out / f"o{i}{suffix}", "dir": out, "empty": Path(""),
             "under": inputs / "notes.txt" / f"x{suffix}", "full": Path("/dev/full")}  # fmt: skip
    return str(paths[choice]), choice != "ok"


def make_case(rng: random.Random, inputs: Path, out: Path, good_db: Path) -> Case:
    kind = rng.choice(("spec", "spec", "spec", "sweep", "db", "db", "option", "schema"))
    if kind == "spec":
        src = ROOT / "specs" / rng.choice(SPECS)
        spec = inputs / f"s{len(list(inputs.iterdir()))}_{src.name}"
        spec.write_bytes(mutate_text(rng, src.read_text()))
        cmd = rng.choice((["analyze"], ["analyze", "--json"], ["show"], ["show", "--resolved"],
                          ["check"], ["compare", "resnet18"]))  # fmt: skip
        args = [cmd[0], str(spec), *cmd[1:]]
        case = Case(args, names=[spec.name, "resnet18"])
        if cmd[0] == "compare" and rng.random() < 0.5:
            path, _ = output_path(rng, out, inputs, ".md")
            case.args += ["--md", path]
            case.outputs.append(Path(path))
        return case
    if kind == "sweep":
        src = rng.choice(SWEEPS)
        sweep = inputs / f"w{len(list(inputs.iterdir()))}.yaml"
        sweep.write_bytes(mutate_text(rng, src.read_text()))
        db = out / f"{sweep.stem}.db"
        return Case(["sweep", "run", str(sweep), "--db", str(db)], [db], names=[sweep.name])
    if kind == "db":
        db = inputs / f"d{len(list(inputs.iterdir()))}.db"
        shutil.copy(rng.choice([good_db, *HOSTILE.glob("*.db")]), db)
        mutate_db(rng, db)
        case = Case(["sweep", "results", str(db)], names=[db.name])
        extra = rng.choice(([], ["--json"], ["--plain"], ["--csv"], ["--html"]))
        if extra in (["--csv"], ["--html"]):
            path, _ = output_path(rng, out, inputs, "." + extra[0][2:])
            extra = [extra[0], path]
            case.outputs.append(Path(path))
        case.args += extra
        return case
    if kind == "option":
        option = rng.choice(OPTIONS)
        args = [*option, rng.choice(OPTION_VALUES)]
        return Case(args, options_mutated=True, names=[option[-1]])
    path, _ = output_path(rng, out, inputs, ".json")
    return Case(["schema", "-o", path], [Path(path)], names=["--output", path])


# --- the test ----------------------------------------------------------------------------------
def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.iterdir() if p.is_file()}  # fmt: skip


NOTES = ("writing ", "# ", "interrupted")  # progress lines on stderr, not errors


def error_lines(stderr: str) -> list[str]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return [line for line in lines if not line.startswith(NOTES) and "stored row(s)" not in line]


def check(case: Case, code: int, stdout: str, stderr: str) -> None:
    text = stdout + stderr
    assert "Traceback" not in text and "internal error" not in text, text
    if code == 0:
        wrote = any(p.is_file() and p.stat().st_size for p in case.outputs)
        assert text.strip() or wrote, "exit 0 without a result"  # check, sweep run: on stderr
        return
    if code == 2:
        assert case.options_mutated or "Usage:" in text, text
        return
    assert code == 1, f"exit {code}"
    if case.args[0] == "check" and stdout.strip():
        return  # findings of error severity: a result that exits 1
    errors = error_lines(stderr)
    assert errors, "exit 1 without an error line"
    places = [*case.names, *(str(p) for p in case.outputs), "--", "spec", "sweep"]
    unlocated = [e for e in errors if not any(n and n in e for n in places)]
    assert not unlocated, unlocated


def test_cli_fuzz(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    out.mkdir()
    (inputs / "notes.txt").write_text("a user's file: no command may touch it\n")
    good_db = tmp_path / "good.db"
    assert runner.invoke(app, ["sweep", "run", str(SWEEPS[0]), "--db", str(good_db)]).exit_code == 0
    start, ran = time.monotonic(), 0
    while ran < CASES and time.monotonic() - start < BUDGET_S:
        case = make_case(rng, inputs, out, good_db)
        before = snapshot(inputs)
        with deadline(HANG_S):
            r = runner.invoke(app, case.args)
        assert r.exception is None or isinstance(r.exception, SystemExit), (case, r.exception)
        try:
            check(case, r.exit_code, r.stdout, r.stderr)
        except AssertionError as exc:
            pytest.fail(f"case {ran} {case.args}: {exc}\n--- stdout\n{r.stdout}\n--- stderr\n"
                        f"{r.stderr}")  # fmt: skip
        assert snapshot(inputs) == before, f"case {ran} {case.args} changed an input"
        ran += 1
    print(f"{ran} cases in {time.monotonic() - start:.1f} s (seed {SEED})")
    assert ran >= 20, f"only {ran} cases in {BUDGET_S} s"

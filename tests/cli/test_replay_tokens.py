"""The kept ``compare`` view answered by the entry point before typer runs (cli/replay.py, issue
16 start-up): every command line prints the same bytes on stdout and stderr, with the same exit
status, whether the view is stored, served or the cache is off; a served view imports neither
typer nor pydantic; and the entry point reads command lines as typer does (or not at all)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer

from archprobe.cli import replay

ROOT = Path(__file__).resolve().parents[2]
Run = tuple[int, bytes, bytes]


def _run(argv: list[str], cache: Path | str, cwd: Path, **env: str) -> Run:
    """Exit status, stdout and stderr of ``python -m archprobe ARGV`` in a fresh process."""
    full = {**os.environ, "ARCHPROBE_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT), **env}
    for name in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "TTY_COMPATIBLE", "PYTHONWARNINGS",
                 "PYTHONIOENCODING"):  # fmt: skip
        if name not in env:
            full.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "archprobe", *argv], capture_output=True,
                          env=full, cwd=cwd)  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def _views(cache: Path) -> int:
    return len(list(cache.glob("compare-*.json")))


def _old(path: Path, text: str) -> None:
    """Write ``text`` with an mtime a minute ago (outside the racy window: cacheable)."""
    path.write_text(text)
    os.utime(path, (time.time() - 60, time.time() - 60))


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("replay")
    _old(folder / "net.yaml", "extends: resnet18\nname: net\n")
    return folder


STORED = [
    ["compare", "resnet18", "resnet34"],
    ["compare", "resnet50", "resnext50"],  # an alias
    ["compare", "--plain", "resnet18", "./net.yaml"],  # option first, a spec file
    ["compare", "resnet18", "--", "resnet34", "--plain"],  # after --: a spec, not found
    ["compare", "resnet18", "--batch=1,32", "resnet34", "--dtype", "bf16", "--plain"],
]
NOT_STORED = [
    ["compare", "resnet18", "resnet34", "--bogus"],  # usage error, exit 2
    ["compare", "resnet18", "nosuch"],  # not found, exit 1
    ["compare", "resnet18", "resnet34", "--dtype", "fp8"],  # a bad value, exit 2
    ["compare", "resnet18", "resnet34", "--plain=1"],
    ["compare", "resnet18", "resnet34", "--min-time", "-1"],  # read, but typer refuses it
    ["compare", "resnet18", "resnet34", "--batch"],  # a value missing
    ["compare", "-h"],
]


@pytest.mark.parametrize("argv", STORED, ids=" ".join)
def test_a_stored_view_prints_what_the_command_prints(work: Path, argv: list[str]) -> None:
    cache = work / ("cache-" + "-".join(argv).replace("/", "_"))
    uncached = _run(argv, "off", work)
    assert _run(argv, cache, work) == uncached  # computed, printed and stored
    stored = _views(cache)
    assert _run(argv, cache, work) == uncached  # served
    assert stored == _views(cache) == (1 if uncached[0] == 0 else 0)


@pytest.mark.parametrize("argv", NOT_STORED, ids=" ".join)
def test_a_failing_command_line_is_left_to_typer(work: Path, argv: list[str]) -> None:
    cache = work / "cache-failing"
    uncached = _run(argv, "off", work)
    assert _run(argv, cache, work) == uncached
    assert uncached[0] != 0 or argv[-1] == "-h"
    assert _views(cache) == 0


def test_a_console_setting_is_part_of_the_key(work: Path) -> None:
    # FORCE_COLOR makes a terminal (styled text); the width is keyed even where a table that
    # runs on past it prints the same bytes; an encoding that cannot write "×" fails (exit 1)
    # unless its error handler replaces it
    cache, argv = work / "cache-console", ["compare", "resnet18", "resnet34"]
    envs = [{"FORCE_COLOR": "1", "COLUMNS": "90"}, {}, {"FORCE_COLOR": "1", "COLUMNS": "300"},
            {"PYTHONIOENCODING": "ascii:replace"}, {"PYTHONIOENCODING": "ascii"}]  # fmt: skip
    expected = [_run(argv, "off", work, **env) for env in envs]
    for env, uncached in [*zip(envs, expected, strict=True), (envs[0], expected[0])]:
        assert _run(argv, cache, work, **env) == uncached, env
    assert expected[0] != expected[1] and expected[4][0] == 1 and _views(cache) == 4


def _modules(argv: list[str], cache: Path, cwd: Path) -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['archprobe', *{argv!r}]\n"
        "from archprobe.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "ARCHPROBE_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=cwd)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return set(done.stderr.rsplit("MODULES ", 1)[1].split())


def test_a_served_view_imports_neither_typer_nor_pydantic(work: Path) -> None:
    cache = work / "cache-imports"
    argv = ["compare", "resnet18", "--batch", "1", "--", "./net.yaml"]
    assert {"typer", "pydantic"} <= _modules(argv, cache, work)  # stored
    assert not {"typer", "click", "pydantic"} & _modules(argv, cache, work)  # served
    warned = _run(argv, cache, work, PYTHONWARNINGS="default")  # warnings asked: analysed
    assert warned == _run(argv, "off", work, PYTHONWARNINGS="default")


def test_an_edited_parent_is_analysed_again(tmp_path: Path) -> None:
    _old(tmp_path / "base.yaml", "extends: resnet18\nname: base\n")
    _old(tmp_path / "child.yaml", "extends: ./base.yaml\nname: child\n")
    argv, cache = ["compare", "./child.yaml", "resnet18", "--plain"], tmp_path / "cache"
    first = _run(argv, cache, tmp_path)
    assert first == _run(argv, cache, tmp_path) and first[0] == 0
    _old(tmp_path / "base.yaml", "extends: resnet18\nname: base\nclasses: 10\n")
    edited = _run(argv, cache, tmp_path)
    assert edited == _run(argv, "off", tmp_path) and edited[1] != first[1]


# --- the entry point reads a command line as typer does ------------------------------------------
READ = {
    ("compare", "a", "b"): (["a", "b"], False),
    ("compare", "--plain", "a", "--compile", "b"): (["a", "b"], True),
    ("compare", "a", "--", "--plain", "-x", "--"): (["a", "--plain", "-x", "--"], False),
    ("compare", "--batch", "--plain", "a"): (["a"], False),  # --plain is --batch's value
    ("compare", "--min-time=2", "--threads", "3", "a", "b"): (["a", "b"], False),
    ("compare", "--device", "cpu", "--optimizer", "adam", "a"): (["a"], False),
    ("compare", "a", "--batch", "--", "b"): (["a", "b"], False),  # -- is --batch's value
    ("compare", "--", "--", "a"): (["--", "a"], False),
    ("compare", "a", "--batch=", "--plain", "--plain", "b"): (["a", "b"], True),
    ("compare", "a", "b", "--dtype"): None,
    ("compare", "a", "-h"): None,
    ("compare", "a", "--memory"): None,
    ("compare", "a", "--json", "-"): None,
    ("compare", "a", "--measure", "latency"): None,
    ("compare", "a", "-"): None,
    ("compare", "a", "--plain=yes"): None,
    ("--version", "compare", "a"): None,
    ("report", "a"): None,
}


@pytest.mark.parametrize("tokens", list(READ), ids=" ".join)
def test_parse_reads_what_typer_reads(tokens: tuple[str, ...]) -> None:
    assert replay.parse(list(tokens)) == replay.parse(tokens) == READ[tokens]
    if READ[tokens] is None:
        return
    from archprobe.cli.app import app

    group = typer.main.get_command(app)
    with group.make_context("archprobe", list(tokens)) as ctx:
        command = group.get_command(ctx, "compare")
        assert command is not None
        with command.make_context("compare", list(tokens[1:]), parent=ctx) as sub:
            assert (sub.params["specs"], sub.params["plain"]) == READ[tokens]


def test_a_view_is_stored_only_under_tokens_typer_read_alike(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from archprobe.cli.consoles import out

    monkeypatch.setenv("ARCHPROBE_CACHE_DIR", str(tmp_path))
    stored: list[str] = []
    monkeypatch.setattr(replay, "_store", lambda key, *_: stored.append(key))
    monkeypatch.setattr(replay, "render", lambda *_: "")
    for tokens, specs in ((["compare", "resnet18", "resnet34"], ["resnet18", "resnet34"]),
                          (["compare", "resnet18", "x"], ["resnet18", "resnet34"])):  # fmt: skip
        invoked = replay.Invocation(tuple(tokens))
        replay.print_analytic(specs, out, False, lambda: None, invoked)  # type: ignore[arg-type,return-value]
    assert len(stored) == 1 and '"resnet34"' in stored[0]

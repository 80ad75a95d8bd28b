"""Start-up (issue 16): what a catalog command imports, checked in a fresh interpreter, so a
change that brings back a cut import fails here rather than only in benchmarks/bench_startup.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import typer

from archprobe.cli.boundary import BoundaryGroup, Command

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(argv: list[str]) -> set[str]:
    """The modules loaded after running ``archprobe ARGV`` (main(), as the console script)."""
    code = (
        "import sys\n"
        f"sys.argv = ['archprobe', *{argv!r}]\n"
        "from archprobe.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(done.stderr.rsplit("MODULES ", 1)[1].split())


def test_list_builds_no_typer_adapter() -> None:
    # typer builds a pydantic TypeAdapter for a parameter whose value is not already a bool;
    # every option of `list` is a flag, and the help flag's absent value is False (quiet_help)
    _modules_after(["list"])  # the row cache warmed
    assert "typer._adapters" not in _modules_after(["list"])


def test_help_and_usage_errors_unchanged() -> None:
    from typer.testing import CliRunner

    from archprobe.cli.app import app

    runner = CliRunner()
    shown = runner.invoke(app, ["list", "-h"])
    assert shown.exit_code == 0 and "Show this message and exit." in shown.output
    assert "--help" in shown.output and "default" not in shown.output.split("--help")[1]
    assert runner.invoke(app, ["list", "--bogus"]).exit_code == 2


def test_every_command_has_the_quiet_help_class() -> None:
    from archprobe.cli.app import app

    def walk(group: BoundaryGroup) -> list[object]:
        found: list[object] = []
        for command in group.commands.values():
            found += walk(command) if isinstance(command, BoundaryGroup) else [command]
        return found

    root = typer.main.get_command(app)
    assert isinstance(root, BoundaryGroup)
    commands = walk(root)
    assert len(commands) >= 10 and all(isinstance(c, Command) for c in commands), commands


def test_entry_point_scan_defers_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib import metadata

    from archprobe import plugins

    # on this interpreter's own path: no plugin, and importlib.metadata agrees
    assert not plugins._may_declare_entry_points()
    assert not list(metadata.entry_points(group=plugins.GROUP))
    other = tmp_path / "other-1.0.dist-info"
    other.mkdir()
    (other / "entry_points.txt").write_text("[console_scripts]\nx = y:z\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not plugins._may_declare_entry_points()  # another group's entry points
    (tmp_path / "Mine-1.0.DIST-INFO").mkdir()
    (tmp_path / "Mine-1.0.DIST-INFO" / "METADATA").write_text("Name: mine\nVersion: 1.0\n")
    (tmp_path / "Mine-1.0.DIST-INFO" / "entry_points.txt").write_text(
        f"[{plugins.GROUP}]\nmine = mine_pkg\n"
    )
    assert plugins._may_declare_entry_points()  # then importlib.metadata answers
    assert ("mine_pkg", "entry point 'mine' (mine)") in plugins.named_plugins()


def test_a_zip_on_the_path_is_read_by_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archprobe import plugins

    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as z:
        z.writestr("x.py", "")
    monkeypatch.syspath_prepend(str(tmp_path / "bundle.zip"))
    assert plugins._may_declare_entry_points()


def test_list_imports_no_importlib_metadata() -> None:
    assert "importlib.metadata" not in _modules_after(["list"])


# --- compare's stored view (cli/replay.py) ------------------------------------------------------
ANALYSIS = ("archprobe.blocks", "archprobe.spec.schema", "archprobe.graph.ops",
            "archprobe.analysis.analytic", "archprobe.report.assemble")  # fmt: skip


def _compare(argv: list[str], cache: str, cwd: Path | None = None) -> tuple[str, set[str]]:
    """stdout of ``archprobe compare ARGV`` in a fresh interpreter, and the modules it loaded."""
    code = (
        "import sys\n"
        f"sys.argv = ['archprobe', 'compare', *{argv!r}]\n"
        "from archprobe.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "ARCHPROBE_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=cwd)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout, set(done.stderr.rsplit("MODULES ", 1)[1].split())


def test_a_repeated_compare_prints_the_stored_view_and_analyses_nothing(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    for plain in ([], ["--plain"]):
        first, loaded = _compare(["resnet50", "resnext50", *plain], cache)
        assert set(ANALYSIS) <= loaded
        again, loaded = _compare(["resnet50", "resnext50", *plain], cache)
        assert again == first and "resnext50_32x4d" in again
        assert not set(ANALYSIS) & loaded, set(ANALYSIS) & loaded
        assert not {"typer", "click", "pydantic"} & loaded  # answered before typer runs
    uncached, _ = _compare(["resnet50", "resnext50", "--plain"], "off")
    assert uncached == again
    assert len(list((tmp_path / "cache").glob("compare-*.json"))) == 2


def _old(path: Path, text: str) -> None:
    """Write ``text`` with an mtime a minute ago (outside the racy window: cacheable)."""
    path.write_text(text)
    os.utime(path, (time.time() - 60, time.time() - 60))


def test_an_edited_base_is_analysed_again(tmp_path: Path) -> None:
    base = (ROOT / "specs/resnet/resnet50.yaml").read_text().replace("name: resnet50", "name: b")
    _old(tmp_path / "base.yaml", base)
    _old(tmp_path / "child.yaml", "extends: ./base.yaml\nname: child\n")
    cache = str(tmp_path / "cache")
    argv = ["./child.yaml", "resnet50", "--plain"]
    first, _ = _compare(argv, cache, tmp_path)
    assert _compare(argv, cache, tmp_path)[1].isdisjoint(ANALYSIS)  # stored
    _old(tmp_path / "base.yaml", base.replace("classes: 1000", "classes: 10"))
    edited, loaded = _compare(argv, cache, tmp_path)
    assert set(ANALYSIS) <= loaded and edited != first
    assert edited == _compare(argv, "off", tmp_path)[0]


def test_a_file_written_just_now_is_not_stored(tmp_path: Path) -> None:
    (tmp_path / "net.yaml").write_text("extends: resnet18\nname: net\n")  # within the racy window
    _compare(["./net.yaml", "resnet18"], str(tmp_path / "cache"), tmp_path)
    assert not list((tmp_path / "cache").glob("compare-*.json"))


def test_measurements_and_files_bypass_the_stored_view(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    md = tmp_path / "r.md"
    _compare(["resnet18", "resnet34", "--md", str(md)], str(cache))
    _compare(["resnet18", "resnet34", "--memory"], str(cache))
    assert md.exists() and not list(cache.glob("compare-*.json"))


def test_at_most_kept_views_stay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archprobe.cli import replay

    for i in range(5):
        view = tmp_path / f"compare-{i}.json"
        view.write_text("{}")
        os.utime(view, (1000 + i, 1000 + i))
    (tmp_path / "catalog-x.json").write_text("{}")  # another cache's file: never removed
    monkeypatch.setattr(replay, "KEPT", 2)
    replay._prune(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "catalog-x.json", "compare-3.json", "compare-4.json"]  # fmt: skip

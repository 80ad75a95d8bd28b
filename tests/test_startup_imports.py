"""Start-up (issue 16): what a catalog command imports, checked in a fresh interpreter, so a
change that brings back a cut import fails here rather than only in benchmarks/bench_startup.py.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import typer

from archprobe.cli.boundary import BoundaryGroup, Command


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

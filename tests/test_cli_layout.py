"""Where things live (DESIGN §7.3, §7.12; STYLE 12, 13), checked on the source with ast.

- ``report/`` is a view of the library and never imports ``cli/``; ``tools/`` scripts call the
  library, never the CLI app;
- every typer option and argument alias is in ``cli/options.py`` (no ``Annotated`` elsewhere);
- command functions stay short: after the docstring, at most 25 lines (parse, call, render).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "archprobe"
COMMANDS = {
    "app.py": ("list_cmd", "show", "analyze", "schema"),
    "compare.py": ("compare",),
    "report.py": ("report",),
    "check.py": ("check",),
    "sweep.py": ("solve", "run", "results"),
}


def imported_modules(path: Path) -> set[str]:
    """Every module an import statement names, at any depth (lazy imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _is_cli(module: str) -> bool:
    return module == "archprobe.cli" or module.startswith("archprobe.cli.")


@pytest.mark.parametrize("path", sorted((PKG / "report").rglob("*.py")), ids=str)
def test_report_never_imports_cli(path: Path) -> None:
    assert not any(_is_cli(m) for m in imported_modules(path))


@pytest.mark.parametrize("path", sorted((ROOT / "tools").glob("*.py")), ids=str)
def test_tools_never_import_cli(path: Path) -> None:
    assert not any(_is_cli(m) for m in imported_modules(path))


def test_the_import_walk_sees_lazy_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from archprobe.cli.app import app\n", encoding="utf-8")
    assert any(_is_cli(m) for m in imported_modules(probe))


@pytest.mark.parametrize("path", sorted((PKG / "cli").glob("*.py")), ids=lambda p: p.name)
def test_option_aliases_only_in_options(path: Path) -> None:
    if path.name == "options.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    annotated = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name)
                 and n.id == "Annotated"]  # fmt: skip
    assert annotated == [], f"{path.name}: Annotated at lines {annotated}; use cli/options.py"


@pytest.mark.parametrize(("module", "names"), COMMANDS.items())
def test_command_functions_are_short(module: str, names: tuple[str, ...]) -> None:
    tree = ast.parse((PKG / "cli" / module).read_text(encoding="utf-8"))
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    for name in names:
        fn = functions[name]
        body = fn.body[1:] if ast.get_docstring(fn) else fn.body
        length = (fn.end_lineno or fn.lineno) - body[0].lineno + 1
        assert length <= 25, f"{module}:{name} has {length} lines after its docstring"

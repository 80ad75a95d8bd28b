"""Import boundaries (DESIGN §7.3): the core never imports torch or pandas."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "archprobe"
CORE = [
    "archprobe.spec",
    "archprobe.graph",
    "archprobe.spec.expand",
    "archprobe.blocks",
    "archprobe.analysis.analytic",
    "archprobe.analysis.results",
    "archprobe.analysis.stages",
    "archprobe.report.terminal.table",
    "archprobe.checks",
    "archprobe.cli.check",
    "archprobe.report.terminal.checks",
    "archprobe.proofs.results",
    "archprobe.proofs.graphs",
    "archprobe.proofs.twins",
    "archprobe.analysis.memory.model",
    "archprobe.analysis.timing.roofline",
    "archprobe.analysis.timing.devices",
    "archprobe.report.terminal.latency",
    "archprobe.analysis.memory.replay",
    "archprobe.analysis.compare",
    "archprobe.cli.compare",
    "archprobe.cli.app",
    "archprobe.sweep.solve",
    "archprobe.sweep.spec",
    "archprobe.sweep.configs",
    "archprobe.sweep.run",
    "archprobe.sweep.store",
    "archprobe.sweep.analysis",  # pandas only inside its functions
    "archprobe.report.html.sweep",  # plotly, but neither torch nor pandas at import
    "archprobe.cli.sweep",
]
TORCH_ALLOWED = {
    "builder/network.py",
    "builder/modules.py",
    "graph/ops/torch_modules.py",
    "analysis/counters/runtime.py",
    "analysis/counters/reconcile.py",
    "analysis/counters/runners.py",
    "analysis/counters/profile.py",
    "analysis/counters/dispatch.py",
    "analysis/timing/latency.py",
    "analysis/timing/env.py",
    "proofs/common.py",
    "proofs/forms.py",
    "proofs/depth2.py",
    "proofs/equivalences.py",
    "proofs/timing.py",
}


@pytest.mark.parametrize("module", CORE)
def test_core_imports_with_torch_blocked(module: str) -> None:
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['pandas'] = None\n"
        f"import {module}\n"
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_analytic_commands_run_with_torch_blocked() -> None:
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['pandas'] = None\n"
        "sys.argv = ['archprobe', 'compare', 'resnet50', 'resnext50']\n"
        "from archprobe.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def _top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (not inside functions, which are lazy imports)."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_torch_and_pandas_only_where_allowed() -> None:
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        imports = _top_level_imports(path)
        if rel not in TORCH_ALLOWED:
            assert "torch" not in imports, rel
        assert "pandas" not in imports, rel

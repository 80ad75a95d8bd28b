"""Import boundaries (DESIGN §7.3): the core never imports torch or pandas, the packages import
in data-flow layers (a lower one never imports a higher one, lazily or not), no module takes part
in an import cycle, and files and functions stay small."""

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
    "archprobe.graph.ops",
    "archprobe.spec.expand",
    "archprobe.blocks.plugins",
    "archprobe.analysis.memory.walk",
    "archprobe.analysis.timing.ceilings",
    "archprobe.analysis.timing.layer_times",
    "archprobe.sweep.fast",
    "archprobe.report.assemble",
    "archprobe.report.html.notebook",  # plotly only inside the functions that draw
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
    "analysis/counters/profile_measure.py",
    "analysis/counters/private_copy.py",
    "analysis/counters/meta_kernels.py",
    "analysis/counters/dispatch.py",
    "analysis/counters/tracker.py",
    "analysis/counters/attention.py",
    "analysis/counters/op_classes.py",
    "analysis/timing/latency.py",
    "analysis/timing/env.py",
    "proofs/common.py",
    "proofs/forms.py",
    "proofs/depth2.py",
    "proofs/equivalences.py",
    "proofs/timing.py",
}


def test_core_imports_with_torch_blocked() -> None:
    """With torch and pandas blocked, importing either raises, so one interpreter checks every
    core module: each must import, and none may leave torch loaded."""
    code = (
        "import importlib, sys; sys.modules['torch'] = None; sys.modules['pandas'] = None\n"
        f"failed = []\nfor m in {CORE!r}:\n"
        "    try:\n        importlib.import_module(m)\n"
        "    except ImportError as exc:\n        failed.append(f'{m}: {exc}')\n"
        "assert not failed, failed\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


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


# The layers in data-flow order (README "Layout"). A module may import its own package, the root
# modules and the packages of lower rank; packages of one rank are peers and never import each
# other. spec/ sits above blocks/ because the spec language is assembled from the registered parts.
LAYERS = {
    "errors": 0, "units": 0, "cache": 0, "plugins": 1, "graph": 1, "blocks": 2, "spec": 3,
    "builder": 4, "analysis": 5, "checks": 6, "proofs": 6, "sweep": 6, "report": 7, "cli": 8,
}  # fmt: skip
# Inside analysis/: results, quiet, measure_options < analytic < stages, paper, memory < timing <
# counters < compare.
ANALYSIS = {"results": 0, "quiet": 0, "measure_options": 0, "analytic": 1, "stages": 2,
            "paper": 2, "memory": 2, "timing": 3, "counters": 4, "compare": 5}  # fmt: skip


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = path.relative_to(PKG.parent).with_suffix("").parts
        out[".".join(parts).removesuffix(".__init__")] = path
    return out


def _imports(path: Path, runtime_only: bool = False) -> set[str]:
    """archprobe modules imported anywhere in ``path`` (or only at import time: module level,
    outside ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if runtime_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("archprobe.")}


def _rank(module: str) -> tuple[int, int, str]:
    parts = module.split(".")
    top = parts[1]
    inner = ANALYSIS.get(parts[2], 0) if top == "analysis" and len(parts) > 2 else 0
    return LAYERS[top], inner, top


def test_every_package_has_a_layer() -> None:
    tops = {m.split(".")[1] for m in _modules() if m.count(".") >= 1}
    assert tops - {"__main__"} <= set(LAYERS)
    subs = {m.split(".")[2] for m in _modules() if m.startswith("archprobe.analysis.")}
    assert subs <= set(ANALYSIS)


@pytest.mark.parametrize("module", sorted(_modules()))
def test_lower_layers_never_import_higher(module: str) -> None:
    if module in ("archprobe", "archprobe.__main__"):
        return  # the public API and the entry point sit on top of everything
    me = _rank(module)
    known = _modules()
    for imported in _imports(known[module]):
        if imported not in known or (imported.split(".")[1] == me[2] and me[2] != "analysis"):
            continue  # a name imported from a module, or the module's own package
        them = _rank(imported)
        if them[2] == me[2] and me[2] == "analysis":
            assert them[:2] <= me[:2], f"{module} imports {imported}"
        else:
            assert them[0] < me[0], f"{module} (layer {me[0]}) imports {imported} ({them[0]})"


def test_no_import_cycles() -> None:
    known = _modules()
    edges = {m: {i for i in _imports(p, runtime_only=True) if i in known and i != m}
             for m, p in known.items()}  # fmt: skip
    for m in known:  # a package's __init__ importing its own submodules is no cycle
        edges[m] = {i for i in edges[m] if not i.startswith(m + ".")}
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in edges[m]:
            assert state.get(n) != 1, " -> ".join([*stack[stack.index(n) :], m, n])
            if n not in state:
                visit(n, [*stack, n])
        state[m] = 2

    for m in known:
        if m not in state:
            visit(m, [m])


MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 40  # the body, without its docstring


def _body_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = fn.body
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(body) > 1:
        body = body[1:]
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


def test_files_and_functions_stay_small() -> None:
    tools = PKG.parent / "tools"
    for path in [*PKG.rglob("*.py"), *tools.rglob("*.py")]:
        text = path.read_text()
        assert text.count("\n") <= MAX_FILE_LINES, path
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert _body_lines(node) <= MAX_FUNCTION_LINES, f"{path}:{node.lineno} {node.name}"

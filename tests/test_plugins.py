"""Plugins: a primitive (Mish) and a block (an inverted residual) registered from a module under
tests/, not archprobe/, get analytic counts, a built module, memory prediction and counters with
no edit to archprobe. Each check compares archprobe with torch itself (the built module's
parameters, torch's FlopCounterMode, autograd's saved tensors, the counters' own numbers).

Plugins load when archprobe is imported, so every check runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = "tests/data/plugins/mobile_tiny.yaml"
PLUGIN = "tests.plugins.mobile"

MEASURE = f"""
import json, torch
from torch.utils.flop_counter import FlopCounterMode
import archprobe
from archprobe.analysis.counters.reconcile import reconcile
from archprobe.analysis.memory.measure import saved_tensor_bytes
from archprobe.analysis.memory.model import predict_training
from archprobe.graph.op import OPS, missing_facts
spec = archprobe.load_spec({SPEC!r})
res, graph, model = archprobe.analyze(spec), archprobe.expand(spec), archprobe.build(spec, "cpu")
with torch.no_grad(), FlopCounterMode(display=False) as fc:
    model.eval()(torch.randn(2, 3, 32, 32))
rec = reconcile(spec)
print(json.dumps({{
    "params": [res.total("params"), sum(p.numel() for p in model.parameters())],
    "flops": [2 * 2 * res.total("macs"), fc.get_total_flops()],
    "saved": [predict_training(graph, 2, "sgd", backend="cpu").saved_bytes,
              saved_tensor_bytes(model, (2, 3, 32, 32))],
    "mismatches": {{r.counter: list(r.mismatches) for r in rec.counters if r.ok}},
    "unmodelled": {{r.counter: r.unmodelled for r in rec.counters if r.ok}},
    "missing": missing_facts(OPS["mish"]),
    "keys": [k for k in model.state_dict() if "layer2.0" in k],
}}))
"""


def _run(
    args: list[str], plugins: str | None = PLUGIN, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "ARCHPROBE_PLUGINS"} | env
    if plugins is not None:
        environ["ARCHPROBE_PLUGINS"] = plugins
    return subprocess.run(args, cwd=ROOT, env=environ, capture_output=True, text=True, check=False)


def _cli(*args: str, plugins: str | None = PLUGIN, **env: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "archprobe", *args], plugins, **env)


def test_plugin_op_and_block_count_build_and_save_as_torch_does() -> None:
    done = _run([sys.executable, "-c", MEASURE])
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    for key in ("params", "flops", "saved"):
        predicted, measured = got[key]
        assert predicted == measured and predicted > 0, key
    assert set(got["mismatches"]) >= {"analytic", "flopcounter", "fvcore"}
    assert all(m == [] for m in got["mismatches"].values()), got["mismatches"]
    assert all(u == {} for u in got["unmodelled"].values()), got["unmodelled"]
    assert got["missing"] == []
    assert "layer2.0.conv.0.0.weight" in got["keys"]  # torchvision's InvertedResidual names


def test_analyze_through_archprobe_plugins() -> None:
    done = _cli("analyze", SPEC)
    assert done.returncode == 0, done.stderr
    assert "conv3" in done.stdout and "head" in done.stdout


def test_report_with_counters_and_memory_through_plugins(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    done = _cli("report", "resnet20", SPEC, "--md", str(out))
    assert done.returncode == 0, done.stderr
    assert "mobile_tiny" in out.read_text(encoding="utf-8")


def test_without_the_plugin_the_block_is_unknown() -> None:
    done = _cli("analyze", SPEC, plugins=None)
    assert done.returncode == 1
    assert "unknown block type 'mish_inverted_residual'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_entry_point_loads_the_plugin(tmp_path: Path) -> None:
    dist = tmp_path / "mobile_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mobile-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[archprobe.plugins]\nmobile = {PLUGIN}\n")
    pythonpath = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    done = _cli("analyze", SPEC, plugins=None, PYTHONPATH=pythonpath)
    assert done.returncode == 0, done.stderr


def test_a_broken_plugin_is_reported_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken_plugin.py").write_text(
        "from dataclasses import dataclass\nfrom typing import ClassVar\n"
        "from archprobe.graph import Op, register_op\n"
        "@register_op('half')\n@dataclass(frozen=True)\nclass Half(Op):\n"
        "    kind: ClassVar[str] = 'act'\n"
    )
    pythonpath = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    for args in (["analyze", "resnet20"], ["schema"]):
        done = _cli(*args, plugins="broken_plugin", PYTHONPATH=pythonpath)
        assert done.returncode == 1, args
        assert "plugin 'broken_plugin' (from $ARCHPROBE_PLUGINS)" in done.stderr
        assert "lacks memory" in done.stderr and "Traceback" not in done.stderr
    missing = _cli("analyze", "resnet20", plugins="no_such_plugin")
    assert missing.returncode == 1 and "No module named 'no_such_plugin'" in missing.stderr

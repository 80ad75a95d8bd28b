"""Budgets of spec reading (archprobe/spec/limits.py): each hostile reproducer under
``tests/data/limits/`` fails fast with a located error, inside wall-time and memory bounds that a
subprocess enforces with generous margins; bases are loaded once; the analysis is linear in the
number of stages (counted in Python calls, not seconds)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from archprobe.analysis.analytic import analyze_spec
from archprobe.analysis.stages import stage_rows
from archprobe.errors import SpecError
from archprobe.spec import limits, load_spec, merge

ROOT = Path(__file__).resolve().parent.parent.parent
LIMITS = ROOT / "tests" / "data" / "limits"
# (file, line:col the error points at, words of the message)
CASES = [
    ("alias_bomb.yaml", "alias_bomb.yaml:7:5", f"over the limit of {limits.MAX_YAML_NODES:,}"),
    ("deep_nesting.yaml", "deep_nesting.yaml:3:", f"more than {limits.MAX_YAML_DEPTH} levels"),
    ("long_string.yaml", "long_string.yaml:2:7", f"limit {limits.MAX_STRING_CHARS:,}"),
    ("extends_fanout.yaml", "level3.yaml:2:", f"more than {limits.MAX_EXTENDS_FILES} files"),
    ("too_many_stages.yaml", "too_many_stages.yaml:6:3", f"limit of {limits.MAX_STAGES}"),
    ("too_many_blocks.yaml", "too_many_blocks.yaml:6:3", f"limit of {limits.MAX_BLOCKS:,}"),
]


def cli(
    *args: str, timeout: float = 60, vmem_kb: int = 2_000_000
) -> subprocess.CompletedProcess[str]:
    """``archprobe ARGS`` in a subprocess under ``ulimit -v`` and a timeout."""
    command = f"ulimit -v {vmem_kb}; exec {sys.executable} -m archprobe " + " ".join(args)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.mark.parametrize(("name", "where", "words"), CASES, ids=[c[0] for c in CASES])
def test_budget_is_a_located_error(name: str, where: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(LIMITS / name)
    text = info.value.format()
    assert where in text.splitlines()[0]
    assert words in text


@pytest.mark.parametrize("name", ["alias_bomb.yaml", "extends_fanout.yaml"])
def test_hostile_file_fails_fast_and_small_through_the_cli(name: str) -> None:
    # Before the budgets: 15–38 s and 1.8–3.3 GB for 6 levels of aliases (9 never finished);
    # 32,768 base loads (~60 s) for the fan-out. 2 GB of address space and 60 s are generous.
    done = cli("analyze", str(LIMITS / name))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{name}:" in done.stderr or "level3.yaml:" in done.stderr


def test_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:  # sparse: costs no disk, and would cost memory if read
        f.truncate(3 << 30)
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: big.yaml\n", encoding="utf-8")
    done = cli("analyze", str(child), vmem_kb=1_000_000, timeout=30)
    assert done.returncode == 1, done.stderr
    assert f"over the limit of {limits.MAX_FILE_BYTES:,}" in done.stderr
    assert "child.yaml:2:10" in done.stderr  # the extends entry that named it


def test_each_base_is_loaded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "base.yaml"
    base.write_text((LIMITS / "fanout" / "base.yaml").read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "mid.yaml").write_text("extends: [base.yaml, base.yaml, base.yaml]\n", "utf-8")
    top = tmp_path / "top.yaml"
    top.write_text("name: top\nextends: [mid.yaml, mid.yaml, base.yaml]\n", encoding="utf-8")
    parsed: list[str] = []
    real: Callable[..., object] = merge.load_yaml
    monkeypatch.setattr(merge, "load_yaml", lambda t, p: parsed.append(p.name) or real(t, p))
    merge._parsed.cache_clear()
    assert load_spec(top).stages[0].width == 256
    assert sorted(parsed) == ["base.yaml", "mid.yaml", "top.yaml"]  # 3 files, 10 references
    parsed.clear()
    load_spec(top)
    assert parsed == []  # a second load in the process parses nothing
    base.write_text(base.read_text(encoding="utf-8").replace("256", "128"), encoding="utf-8")
    assert load_spec(top).stages[0].width == 128  # ... unless a file changed
    assert parsed == ["base.yaml"]


def test_a_memoised_spec_is_a_copy(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("stem: {width: 64}\nstages: [{depth: 1}]\n", encoding="utf-8")
    doc, smap = merge.load_merged(path, lambda ref, at: at)
    doc["stem"]["width"] = 1
    doc["stages"].append({})
    smap.clear()
    again, again_map = merge.load_merged(path, lambda ref, at: at)
    assert again == {"stem": {"width": 64}, "stages": [{"depth": 1}]}
    assert ("stem", "width") in again_map


def _spec(tmp_path: Path, stages: int) -> Path:
    rows = "".join(f"  - {{depth: 1, width: {64 + 8 * (i % 4)}}}\n" for i in range(stages))
    text = f"""\
        name: deep{stages}
        stem: {{type: conv7x7, width: 64, pool: max}}
        block: {{type: basic}}
        stages:
        """
    path = tmp_path / f"deep{stages}.yaml"
    path.write_text(textwrap.dedent(text) + rows, encoding="utf-8")
    return path


def _calls(fn: Callable[[], object]) -> int:
    """Python and builtin calls made by ``fn()``: the work it does, independent of load."""
    count = 0

    def profiler(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profiler)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def test_analysis_work_is_linear_in_the_stage_count(tmp_path: Path) -> None:
    # Per-stage totals used to rescan every op for every stage: 200 / 400 / 800 stages took
    # 0.6 / 2.0 / 7.7 s. Doubling the stages may now at most about double the work.
    def work(stages: int) -> int:
        spec = load_spec(_spec(tmp_path, stages))

        def run() -> None:
            a = analyze_spec(spec)
            stage_rows(a.graph, a.results, ("params", "macs", "acts"))

        run()  # warm the per-block caches, which both sizes share
        return _calls(run)

    small, large = work(100), work(200)
    assert large <= 2.2 * small, (small, large)

"""Sweep executors: inline, pool and Ray store the same rows; a SIGKILLed run resumes cleanly."""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from archprobe.errors import ArchprobeError
from archprobe.sweep.executors import Job, gpus_per_task
from archprobe.sweep.run import run_sweep
from archprobe.sweep.store import Store
from tests.sweep.measure_fns import fails_at, fingerprint, log_counts, logged

ROOT = Path(__file__).resolve().parents[2]
# measure: [memory_prediction] is a deterministic prediction (no timing), so every executor must
# store exactly the same rows, measured values included.
SWEEP = """\
sweep: executors
base: resnet50
mode: grid
axes:
  block.groups: {groups}
  stages.2.depth: {depths}
measure: [memory_prediction]
"""
SMALL = {"groups": [1, 2, 4], "depths": [2, 4]}  # 6 configs
KILLED = {"groups": [1, 2, 4, 8], "depths": [2, 3, 4, 6]}  # 16 configs


def _sweep(tmp: Path, axes: dict[str, list[int]]) -> Path:
    path = tmp / "sweep.yaml"
    path.write_text(SWEEP.format(**axes), encoding="utf-8")
    return path


def _rows(db: Path) -> list[dict[str, Any]]:
    """The stored rows without the insertion time, the one column that may differ."""
    store = Store(db)
    try:
        return [{k: v for k, v in r.items() if k != "created"} for r in store.rows()]
    finally:
        store.close()


def test_inline_and_pool_store_the_same_rows(tmp_path: Path) -> None:
    path = _sweep(tmp_path, SMALL)
    run_sweep(path, tmp_path / "inline.db", executor="inline")
    summary = run_sweep(path, tmp_path / "pool.db", workers=2, executor="pool")
    inline = _rows(tmp_path / "inline.db")
    assert summary.done == len(inline) == 6
    assert all(r["measured"]["train_peak_predicted_bytes"] > 0 for r in inline)
    assert _rows(tmp_path / "pool.db") == inline


def test_ray_stores_the_same_rows(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    path = _sweep(tmp_path, SMALL)
    run_sweep(path, tmp_path / "inline.db", executor="inline")
    summary = run_sweep(path, tmp_path / "ray.db", workers=2, executor="ray")
    assert summary.done == 6
    assert _rows(tmp_path / "ray.db") == _rows(tmp_path / "inline.db")
    assert not ray.is_initialized()  # the local instance it started is shut down


@pytest.mark.parametrize("executor", ["inline", "pool"])
def test_a_failing_measurement_stops_the_run_and_keeps_finished_rows(
    tmp_path: Path, executor: str
) -> None:
    path, db = _sweep(tmp_path, SMALL), tmp_path / "s.db"
    fails = functools.partial(fails_at, groups=4)
    with pytest.raises(ValueError, match="no measurement at groups 4"):
        run_sweep(path, db, workers=2, measure=fails, executor=executor)
    kept = _rows(db)
    assert len(kept) < 6 and all(r["config"]["block.groups"] != 4 for r in kept)
    assert run_sweep(path, db, measure=fingerprint).skipped == len(kept)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"executor": "dask"}, "unknown executor 'dask'; allowed: auto, inline, pool, ray"),
        ({"executor": "pool", "address": "auto"}, "needs executor 'ray' (got 'pool')"),
        ({"address": "ray://head:10001"}, "needs executor 'ray' (got 'auto')"),
        ({"workers": 0}, "workers must be at least 1, got 0"),
    ],
)
def test_bad_executor_arguments(tmp_path: Path, kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(ArchprobeError) as info:
        run_sweep(_sweep(tmp_path, SMALL), tmp_path / "s.db", **kwargs)
    assert needle in str(info.value)
    assert not (tmp_path / "s.db").exists()  # refused before anything was written


@pytest.mark.parametrize(
    ("what", "device", "cluster", "gpus"),
    [
        (("latency",), "auto", {"CPU": 8, "GPU": 2}, 1),  # Ray would hide the GPU without it
        (("latency",), "auto", {"CPU": 8}, 0),
        (("latency",), "cuda:1", {"CPU": 8, "GPU": 2}, 1),
        (("latency",), "cpu", {"CPU": 8, "GPU": 2}, 0),
        (("memory_prediction",), "cuda", {"CPU": 8}, 0),  # a prediction: no device used
    ],
)
def test_ray_tasks_ask_for_a_gpu_when_timing_on_one(
    what: tuple[str, ...], device: str, cluster: dict[str, float], gpus: int
) -> None:
    assert gpus_per_task(Job(fingerprint, what, {"device": device}), cluster) == gpus


def test_ray_refuses_cuda_timing_without_a_gpu() -> None:
    with pytest.raises(ArchprobeError, match="'cuda' but the Ray cluster has no GPU"):
        gpus_per_task(Job(fingerprint, ("latency",), {"device": "cuda"}), {"CPU": 8})


def test_ray_missing_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ArchprobeError, match=r'pip install "archprobe\[ray\]"'):
        run_sweep(_sweep(tmp_path, SMALL), tmp_path / "s.db", executor="ray")


# The killed run: a separate interpreter, as a user's `archprobe sweep` would be. It calls the
# library rather than the CLI so that the test is about storage and resume, not option parsing.
KILLED_RUN = """
import functools, sys
from pathlib import Path
from archprobe.sweep.executors import Job, gpus_per_task
from archprobe.sweep.run import run_sweep
from tests.sweep.measure_fns import logged

sweep, db, log, executor = sys.argv[1:]
slow = functools.partial(logged, log=log, sleep_s=0.2)
run_sweep(Path(sweep), db, workers=2, measure=slow, executor=executor)
"""


def _stored(db: Path) -> int:
    """Rows committed so far, read the way another process would (read-only, WAL)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT COUNT(*) FROM results").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:  # the file or the table is not there yet
        return 0


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (an orphan that exited may linger as a zombie until reaped)."""
    if not Path("/proc").is_dir():  # not Linux: ask the kernel (a zombie counts as alive)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # the state field follows "(comm)"


def _kill_mid_run(path: Path, db: Path, log: Path, executor: str) -> int:
    """Start the sweep in a subprocess, SIGKILL it once two rows are stored; its pid."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    argv = [sys.executable, "-c", KILLED_RUN, str(path), str(db), str(log), executor]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while _stored(db) < 2:
            assert proc.poll() is None, f"the sweep exited ({proc.returncode}) before 2 rows"
            assert time.monotonic() < deadline, "no 2 rows within 60 s"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:  # a failed assertion above: do not leave it running
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return proc.pid


@pytest.mark.parametrize(("executor", "workers"), [("inline", 1), ("pool", 2)])
def test_sigkill_loses_only_configs_in_flight(tmp_path: Path, executor: str, workers: int) -> None:
    path, db, log = _sweep(tmp_path, KILLED), tmp_path / "s.db", tmp_path / "measured.log"
    pid = _kill_mid_run(path, db, log, executor)
    # Pool workers notice the dead parent and exit, rather than wait forever as orphans.
    orphans = {int(line.split()[1]) for line in log.read_text().splitlines()} - {pid}
    assert bool(orphans) == (executor == "pool")
    deadline = time.monotonic() + 10
    while any(map(_alive, orphans)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, orphans)), "pool workers outlived the killed sweep"

    at_kill = _rows(db)
    started = sum(log_counts(log).values())
    in_flight = started - len(at_kill)
    assert 2 <= len(at_kill) < 16, "the run was not killed mid-sweep"
    assert 0 <= in_flight <= 2 * workers  # running, or finished but not yet stored

    summary = run_sweep(path, db, measure=functools.partial(logged, log=str(log)))
    assert (summary.skipped, summary.done) == (len(at_kill), 16 - len(at_kill))
    run_sweep(path, tmp_path / "fresh.db", measure=fingerprint)
    final = _rows(db)
    assert final == _rows(tmp_path / "fresh.db")  # keys, configs, metrics and measured values
    assert len({r["key"] for r in final}) == len(final) == 16

    counts = log_counts(log)
    assert all(counts[r["measured"]["digest"]] == 1 for r in at_kill)  # never measured again
    assert set(counts) == {r["measured"]["digest"] for r in final}
    assert sum(counts.values()) == 16 + in_flight

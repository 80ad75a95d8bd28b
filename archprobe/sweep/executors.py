"""Where a measured sweep's configs run: in-process, on a local process pool, or on Ray.

Every executor is a generator of ``(config, measured)`` pairs in completion order, so the caller
stores each row as soon as its config finishes. A run killed with SIGKILL therefore loses at most
the configs in flight, and rerunning the sweep measures only those again (the store skips the
keys it has). Analytic sweeps never get here: their metrics come from generation.

Registered executors (``EXECUTORS``):

- ``inline``: in this process, one config at a time, in sweep order.
- ``pool``: a local ``concurrent.futures.ProcessPoolExecutor`` of ``workers`` spawned processes.
- ``ray``: Ray tasks, on a local instance of ``workers`` CPUs that the executor starts and shuts
  down, or on the cluster at ``address``. Needs the optional extra: ``pip install
  "archprobe[ray]"``.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from archprobe.errors import ArchprobeError
from archprobe.spec.schema import ArchSpec
from archprobe.sweep.accepted import Config

Measure = Callable[[ArchSpec, tuple[str, ...], dict[str, Any]], dict[str, Any]]
Results = Generator[tuple[Config, dict[str, Any]], None, None]
AUTO = "auto"


@dataclass(frozen=True)
class Job:
    """How every config of one sweep is measured: ``measure(spec, what, settings)``.

    Pool and Ray pickle a Job to send it to their workers, so ``measure`` must be a module-level
    function (or a ``functools.partial`` of one) that the workers can import.
    """

    measure: Measure
    what: tuple[str, ...]
    settings: dict[str, Any]

    def __call__(self, spec: ArchSpec) -> dict[str, Any]:
        return self.measure(spec, self.what, self.settings)


Executor = Callable[[Job, Sequence[Config], int, str | None], Results]


def run_inline(job: Job, todo: Sequence[Config], workers: int, address: str | None) -> Results:
    """Measure each config in this process, in sweep order (``workers`` and ``address`` unused)."""
    for c in todo:
        yield c, job(c.spec)


def run_pool(job: Job, todo: Sequence[Config], workers: int, address: str | None) -> Results:
    """Measure on ``workers`` local processes, yielding each config as it completes.

    The workers are spawned, so a script that calls this needs the usual
    ``if __name__ == "__main__":`` guard (each worker imports the main module).
    """
    # "spawn", not Linux's default "fork": measuring imports torch, and forking a process whose
    # torch has started OpenMP/intra-op threads (or initialised CUDA) can deadlock the child or
    # fail in it ("Cannot re-initialize CUDA in forked subprocess"). The parent of a sweep often
    # has torch loaded already (a notebook, pytest), so a fresh interpreter per worker is the only
    # safe choice; it costs one archprobe import per worker, once per run.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, context, initializer=_exit_with_parent)
    try:
        futures = {pool.submit(job, c.spec): c for c in todo}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        # On an error or an early close, drop the queued configs instead of measuring them all;
        # the running ones finish (their results are lost, and the next run redoes them).
        pool.shutdown(wait=True, cancel_futures=True)


def _exit_with_parent() -> None:
    """Pool worker initializer: exit as soon as the sweep process dies, even by SIGKILL.

    Without it, the workers of a killed run wait forever on the task queue as orphans.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # not a multiprocessing child: nothing to watch
        return

    def watch() -> None:
        # The sentinel is a pipe whose other end only the parent holds: EOF means it is gone.
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)  # skip atexit and finalizers: nobody is left to take a result

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise ArchprobeError(
            'the ray executor needs Ray, an optional dependency: pip install "archprobe[ray]"'
        ) from None
    return ray


def _call(job: Job, spec: ArchSpec) -> dict[str, Any]:
    """The Ray task body (module-level, so workers import it rather than unpickle code)."""
    return job(spec)


def run_ray(job: Job, todo: Sequence[Config], workers: int, address: str | None) -> Results:
    """Measure as Ray tasks, yielding each config as it completes.

    With ``address=None`` a local Ray instance of ``workers`` CPUs is started and shut down at the
    end; otherwise the cluster at ``address`` is joined (its workers must be able to import
    archprobe and the measure function). A Ray session the caller already started is used as is
    and left running.
    """
    ray = _import_ray()
    started = not ray.is_initialized()
    if started and address is None:
        # "local" rather than None: None would join the cluster named by $RAY_ADDRESS, if set.
        ray.init(address="local", num_cpus=workers, include_dashboard=False,
                 logging_level=logging.WARNING)  # fmt: skip
    elif started:
        ray.init(address=address, logging_level=logging.WARNING)
    try:
        yield from _ray_results(ray, job, todo)
    finally:
        if started:
            ray.shutdown()


def gpus_per_task(job: Job, cluster: dict[str, float]) -> int:
    """GPUs one Ray task asks for: 1 when it times latency or measures memory on CUDA, else 0.

    Ray hides every GPU from a task that asks for none (CUDA_VISIBLE_DEVICES=""), so without
    the request ``device: auto`` would silently time on the CPU. One whole GPU per task also keeps
    two timings from sharing a device.

    Raises:
        ArchprobeError: when the sweep times on ``cuda`` and the cluster has no GPU (the tasks
            would wait forever for one).
    """
    device = str(job.settings.get("device", "auto"))
    if not {"latency", "memory"} & set(job.what) or device == "cpu":  # both build and run models
        return 0
    if cluster.get("GPU", 0) >= 1:
        return 1
    if device.startswith("cuda"):
        raise ArchprobeError(f"measure.device is {device!r} but the Ray cluster has no GPU")
    return 0


def _ray_results(ray: ModuleType, job: Job, todo: Sequence[Config]) -> Results:
    cluster = ray.cluster_resources()
    gpus = gpus_per_task(job, cluster)
    # A window of twice the tasks that fit at once keeps the cluster busy while bounding the
    # object store and the ray.wait() list (waiting on all of a 10k-config sweep's refs each
    # time would be O(n^2)).
    window = 2 * max(1, int(cluster.get("GPU", 0) if gpus else cluster.get("CPU", 1)))
    task = ray.remote(num_cpus=1, num_gpus=gpus)(_call)
    job_ref = ray.put(job)
    pending: dict[Any, Config] = {}
    queue = iter(todo)
    try:
        while True:
            for c in queue:
                pending[task.remote(job_ref, c.spec)] = c
                if len(pending) >= window:
                    break
            if not pending:
                return
            [done], _ = ray.wait(list(pending), num_returns=1)
            yield pending.pop(done), ray.get(done)
    finally:
        for ref in pending:  # an error or an early close: do not leave tasks running
            ray.cancel(ref, force=True)


EXECUTORS: dict[str, Executor] = {"inline": run_inline, "pool": run_pool, "ray": run_ray}


def choose_executor(name: str, workers: int, address: str | None) -> Executor:
    """The executor registered as ``name``; ``auto`` is ``pool`` with workers > 1, else ``inline``.

    Raises:
        ArchprobeError: for an unknown name, ``workers`` < 1, or an ``address`` without ``ray``.
    """
    if name != AUTO and name not in EXECUTORS:
        allowed = ", ".join([AUTO, *EXECUTORS])
        raise ArchprobeError(f"unknown executor {name!r}; allowed: {allowed}")
    if workers < 1:
        raise ArchprobeError(f"workers must be at least 1, got {workers}")
    if address is not None and name != "ray":
        raise ArchprobeError(
            f"address {address!r} is a Ray cluster address; it needs executor 'ray' (got {name!r})"
        )
    if name == AUTO:
        name = "pool" if workers > 1 else "inline"
    return EXECUTORS[name]

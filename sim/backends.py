"""Where replications run: serially, in a local process pool, or on a Dask cluster.

Every backend takes the same list of tasks and yields their results as they complete (in
any order); callers sort by replication index. Each task carries its replication index and
derives its random streams from ``(seed, rep)`` alone, so results do not depend on the
backend, the number of workers or the order of completion.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager, suppress
from functools import partial
from typing import Any, Literal

from sim.errors import BackendError

__all__ = ["BACKENDS", "DASK_CONFIG", "Backend", "BackendError", "ctrl_c_kept", "iter_results", "raise_if_interrupted"]

Backend = Literal["serial", "process", "dask"]
BACKENDS: tuple[str, ...] = ("serial", "process", "dask")
DASK_RETRIES = 3
"""Times a Dask task is retried after an error; a task on a lost worker is rescheduled too."""


_CTRL_C = threading.Event()
"""Set by a Ctrl-C while :func:`ctrl_c_kept` is in force."""


def _on_ctrl_c(signum: int, frame: object) -> None:
    _CTRL_C.set()
    raise KeyboardInterrupt


@contextmanager
def ctrl_c_kept() -> Iterator[None]:
    """Make a Ctrl-C count even where Python swallows the ``KeyboardInterrupt`` it raises.

    Python raises it wherever the main thread is; inside a garbage-collector callback or a
    finaliser (a local Dask cluster's scheduler runs one at every collection) the exception
    is printed as "Exception ignored in ..." and the program goes on: the batch ran to its end
    and exited 0. Here Ctrl-C is also recorded; a batch raises it again after its next result
    (:func:`raise_if_interrupted`) and the command after its last. Only the main thread can
    set a signal handler, and a Ctrl-C ignored by whoever started us stays ignored: in either
    case this does nothing."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield
        return
    _CTRL_C.clear()
    previous = signal.signal(signal.SIGINT, _on_ctrl_c)
    unraisable = sys.unraisablehook

    def swallowed(info: Any) -> None:  # recorded above: not printed as well
        if not isinstance(info.exc_value, KeyboardInterrupt):
            unraisable(info)

    sys.unraisablehook = swallowed
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = unraisable
        _CTRL_C.clear()  # handled: a later batch in this process is not interrupted by it


def raise_if_interrupted() -> None:
    """Raise ``KeyboardInterrupt`` if a Ctrl-C was recorded (:func:`ctrl_c_kept`) and swallowed."""
    if _CTRL_C.is_set():
        raise KeyboardInterrupt


def default_workers() -> int:
    return os.cpu_count() or 1


def iter_results(
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    backend: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
) -> Generator[Any, None, None]:
    """Yield ``fn(*task)`` for every task, as each completes (close the generator to abandon
    the rest: a local Dask cluster's running tasks then stop at once).

    Parameters
    ----------
    backend
        ``serial``, ``process`` (a local process pool) or ``dask``.
    workers
        Processes for ``process``, or workers of a local Dask cluster (default: cores).
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); with ``dask`` and no
        address, a ``LocalCluster`` is started and closed again.
    """
    if backend not in BACKENDS:
        raise BackendError([f"--backend: unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}"])
    if workers is not None and workers < 1:
        raise BackendError([f"--workers: must be >= 1, got {workers}"])
    if scheduler is not None and backend != "dask":
        raise BackendError([f"--scheduler: only used with --backend dask, got --backend {backend}"])
    if not tasks:
        return
    if backend == "serial":
        for task in tasks:
            yield fn(*task)
            raise_if_interrupted()
    elif backend == "process":
        yield from _process(fn, tasks, workers or default_workers())
    else:
        yield from _dask(fn, tasks, workers or default_workers(), scheduler)


def _process(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], workers: int) -> Iterator[Any]:
    # fork is cheap and safe here (workers run pure functions); spawn where fork is missing
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_ignore_interrupt) as pool:
        pending: set[Future[Any]] = {pool.submit(fn, *task) for task in tasks}
        interrupted = False
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
                    raise_if_interrupted()
        except (KeyboardInterrupt, GeneratorExit):
            # Ctrl-C (or the batch abandoned: the generator closed): stop the running replications
            # now, not when they end; the pool then finds
            # its workers gone and fails the futures left itself (cancelling them as well
            # races with it: InvalidStateError in its thread)
            interrupted = True
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
            raise
        finally:
            if not interrupted:
                for fut in pending:
                    fut.cancel()


def _ignore_interrupt() -> None:
    """A pool worker leaves Ctrl-C to the coordinator (which stops the batch, keeping what is
    finished), instead of each printing its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _interrupt_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while the processes of a local Dask cluster start, so that they inherit
    it ignored (a Python started with SIGINT ignored keeps it so) and leave Ctrl-C to the
    coordinator, which stops the batch and closes the cluster, instead of each worker
    printing its KeyboardInterrupt traceback. Only the main thread can set a signal handler:
    elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _apply(fn: Callable[..., Any], task: tuple[Any, ...]) -> Any:
    """``fn(*task)``: what a Dask task runs (a batch is one ``map`` over its task tuples)."""
    return fn(*task)


WORKER_PROFILE = "distributed.worker.profile.enabled"
"""Dask setting: whether workers sample the stack of running tasks (for the dashboard)."""
DASK_CONFIG: dict[str, object] = {
    # No dashboard reads the workers' statistical profile: its sampler wakes each worker's event
    # loop every 10 ms to walk the running replication's stack (measured: ~3.5% more CPU in the
    # replication's own thread, plus the event loop's).
    WORKER_PROFILE: False,
    # An event-loop health check every 20 ms by default, only to warn when the loop has been
    # blocked for 3 s (distributed.admin.tick.limit): once a second still sees that.
    "distributed.admin.tick.interval": "1s",
    # Each scheduler, nanny and worker reads its CPU, memory, network and disk counters from /proc
    # every 500 ms, for the dashboard's plots (~3 ms a reading): every 2 s, and no disk counters.
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
    # Each worker and its nanny check the worker's memory against the pause / terminate limits
    # every 100 ms: a replication's memory grows over seconds, not tenths of a second.
    "distributed.worker.memory.monitor-interval": "500ms",
}
"""Dask settings for a cluster that runs ehsim batches: periodic work of the scheduler, nannies
and workers that only serves a dashboard, cut down. Idle, a 2-worker ``LocalCluster`` costs
~50 ms of CPU a second with Dask's defaults and ~12 ms with these; during a batch the wake-ups
also interrupt the replications. ``--backend dask`` starts its own cluster with them; for a
cluster you start yourself, start it inside ``dask.config.set(sim.backends.DASK_CONFIG)`` (or put
them in the workers' and scheduler's Dask configuration)."""
LOCAL_CLUSTER = {
    "threads_per_worker": 1,
    "processes": True,
    "dashboard_address": None,
    # the scheduler serves HTTP (health, metrics) even without a dashboard, on port 8787 by
    # default: a free port instead, so two clusters at once (two batches) do not warn
    "scheduler_kwargs": {"dashboard_address": ":0"},
}
"""Options of the ``LocalCluster`` a Dask batch starts (with ``n_workers``, inside
``dask.config.set(DASK_CONFIG)``): no dashboard."""
QUIET_LOGGERS = ("distributed", "tornado")
"""Loggers (with those under them) silenced while an abandoned Dask batch closes its cluster (:func:`_dask_quiet`)."""
CONNECT_TIMEOUT = "10s"
"""How long to try to reach an existing Dask scheduler before refusing the batch."""


def _dask(
    fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], workers: int, scheduler: str | None
) -> Iterator[Any]:
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler is None:
            # no dashboard: none of the periodic work that only feeds one (DASK_CONFIG); the
            # workers are separate processes that read the configuration as they start
            with dask.config.set(DASK_CONFIG), _interrupt_ignored():
                cluster = LocalCluster(n_workers=workers, **LOCAL_CLUSTER)
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise BackendError([f"--scheduler: cannot reach Dask scheduler {scheduler!r}: {exc}"]) from None
    batch = uuid.uuid4().hex[:12]
    quiet = ExitStack()
    try:
        # One graph for the whole batch (one message to the scheduler, each shared argument such
        # as the scenario pickled once in it, tasks prioritised in replication order) with
        # explicit keys carrying the replication index: never rely on purity de-duplication.
        # Results are fetched by the client's event loop as tasks finish (with_results), not by
        # a round trip per result from here.
        keys = [f"ehsim-{batch}-{i}" for i in range(len(tasks))]
        futures = client.map(partial(_apply, fn), tasks, key=keys, pure=False, retries=DASK_RETRIES)
        done = as_completed(futures, with_results=True)
        del futures  # only the iterator holds what is still running: results stream
        for fut, result in done:
            fut.release()  # the cluster may forget a result as soon as it has been fetched
            del fut
            yield result
            raise_if_interrupted()
    except (KeyboardInterrupt, GeneratorExit):
        # Ctrl-C (or the batch abandoned): stop our own cluster's running replications now, and
        # quietly: Dask would log each cancelled task and lost worker around the one line
        # saying the batch was interrupted
        quiet.enter_context(_dask_quiet())  # until the cluster is closed
        if cluster is not None:
            _stop_workers(cluster)
        raise
    finally:
        with quiet:
            client.close()
            if cluster is not None:
                cluster.close()


def _stop_workers(cluster: Any) -> None:
    """End the worker processes of a local cluster at once (as the process backend ends its
    pool's), so a running replication neither finishes for nothing nor logs its cancellation."""
    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(nanny, "pid", None)
        if pid:
            with suppress(OSError):  # already gone
                os.kill(pid, signal.SIGTERM)


@contextmanager
def _dask_quiet() -> Iterator[None]:
    """Dask's loggers in this process (scheduler, nannies, client, and the tornado event loop
    that reports the client's lost connections) silenced, for closing a cluster whose workers
    were ended on purpose."""
    import logging

    # every logger under them: Dask's logging configuration gives some their own level
    # (distributed.client, tornado.application), which a parent's level does not override
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in QUIET_LOGGERS]
    logs = [logging.getLogger(name) for name in {*QUIET_LOGGERS, *names}]
    levels = [log.level for log in logs]
    for log in logs:
        log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for log, level in zip(logs, levels):
            log.setLevel(level)

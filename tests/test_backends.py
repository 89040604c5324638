"""The Dask backend's contract on a running cluster (``iter_results(..., "dask", scheduler=...)``).

Every task's result comes back exactly once, tasks sharing one argument object (the scenario of a
batch, sent once in the batch's graph) each get it, every task's key carries its index (no reliance
on purity de-duplication: two batches of equal tasks never share keys), and an error in a task
reaches the caller. Identical tables on every backend are checked in ``test_experiments.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from sim.backends import DASK_CONFIG, LOCAL_CLUSTER, iter_results


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A small running cluster, in this process (threads): it tests the client side, which is
    the same for a cluster of processes, and starts in about a second."""
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, **{**LOCAL_CLUSTER, "processes": False}) as cluster:
        yield cluster.scheduler_address


def _echo(shared: dict[str, int], i: int) -> tuple[int, int, str]:
    """The task's index, a value computed from the shared argument, and the task's key."""
    from dask.distributed import get_worker

    key = get_worker().get_current_task()
    return i, shared["base"] + i, str(key)


def _fails_on_three(i: int) -> int:
    if i == 3:
        raise ValueError("task 3 fails")
    return i


def _batch(scheduler: str, n: int) -> list[tuple[int, int, str]]:
    shared = {"base": 1000}  # one object in every task, as the scenario of a batch
    return list(iter_results(_echo, [(shared, i) for i in range(n)], "dask", scheduler=scheduler))


def test_every_result_once_with_the_shared_argument(scheduler: str) -> None:
    results: list[Any] = sorted(_batch(scheduler, 25))
    assert [r[0] for r in results] == list(range(25))  # none lost, none duplicated
    assert [r[1] for r in results] == [1000 + i for i in range(25)]


def test_keys_carry_the_task_index_and_differ_between_batches(scheduler: str) -> None:
    first, second = _batch(scheduler, 6), _batch(scheduler, 6)
    for results in (first, second):
        for i, _, key in results:
            assert re.fullmatch(rf"ehsim-[0-9a-f]{{12}}-{i}", key), key
    # the same tasks again are run again, not answered from the first batch's results
    assert {k for *_, k in first}.isdisjoint(k for *_, k in second)


def test_an_error_in_a_task_reaches_the_caller(scheduler: str) -> None:
    with pytest.raises(ValueError, match="task 3 fails"):
        list(iter_results(_fails_on_three, [(i,) for i in range(6)], "dask", scheduler=scheduler))


def _settings() -> tuple[dict[str, object], dict[str, float]]:
    """The worker's view of :data:`DASK_CONFIG`, and the periods (ms) of its periodic callbacks."""
    import dask
    from dask.distributed import get_worker

    callbacks = get_worker().periodic_callbacks
    return {k: dask.config.get(k) for k in DASK_CONFIG}, {k: pc.callback_time for k, pc in callbacks.items()}


def test_own_local_cluster_has_the_quiet_settings() -> None:
    """Without a scheduler the backend starts a LocalCluster without a dashboard: its workers must
    neither sample each running task's stack (the profiler costs each replication CPU) nor wake up
    for the other periodic work that only feeds a dashboard (DASK_CONFIG)."""
    [(config, periods)] = list(iter_results(_settings, [()], "dask", workers=1))
    assert config == DASK_CONFIG
    assert "profile" not in periods  # no sampler at all
    assert periods["tick"] == 1000  # the setting reached the running worker, not only its config
    assert periods["monitor"] == 2000  # the system monitor
    assert periods["memory_monitor"] == 500

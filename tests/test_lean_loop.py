"""The lean loop's shortcuts keep SimPy's order of events: a process started in its creator's
step (StartedProcess) runs its first part exactly where env.process's Initialize would."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pytest
import simpy

from sim.model.common import Deadlines, StartedProcess
from sim.model.pools import CaseloadPool


def _trace(start: Callable[[simpy.Environment, Generator[simpy.Event, Any, None]], object]) -> list[tuple[float, str]]:
    """Arrivals at coinciding times, each starting a process that acts at once, after a zero
    delay and later, against a bystander acting at the same instants: every tie is decided by
    the order of scheduling, so any shift in it shows in the trace."""
    env = simpy.Environment()
    trace: list[tuple[float, str]] = []
    gate = simpy.Resource(env, capacity=1)

    def visitor(name: str) -> Generator[simpy.Event, Any, None]:
        trace.append((env.now, f"{name} arrives"))
        req = gate.request()
        yield req
        trace.append((env.now, f"{name} served"))
        yield env.timeout(0)
        trace.append((env.now, f"{name} after zero"))
        yield env.timeout(1)
        gate.release(req)
        trace.append((env.now, f"{name} leaves"))

    def bystander() -> Generator[simpy.Event, Any, None]:
        for _ in range(4):
            yield env.timeout(1)
            trace.append((env.now, "bystander"))
            env.process(iter_once(env, trace))

    def iter_once(env: simpy.Environment, trace: list[tuple[float, str]]) -> Generator[simpy.Event, Any, None]:
        trace.append((env.now, "helper starts"))
        yield env.timeout(0)

    def arrivals(times: list[float]) -> Generator[simpy.Event, Any, None]:
        nxt = env.timeout(times[0])
        for i in range(len(times)):
            yield nxt
            if i + 1 < len(times):
                nxt = env.timeout(times[i + 1] - env.now)
            start(env, visitor(f"v{i}"))

    env.process(bystander())
    env.process(arrivals([1.0, 1.0, 2.0, 2.0, 2.0, 3.0]))
    env.run(until=10)
    return trace


def test_started_process_keeps_the_order_of_events() -> None:
    expected = _trace(lambda env, gen: env.process(gen))
    assert len(expected) > 20
    assert _trace(StartedProcess) == expected


def test_started_process_ends_without_a_step_unless_waited_for() -> None:
    env = simpy.Environment()

    def job(value: int) -> Generator[simpy.Event, Any, int]:
        yield env.timeout(1)
        return value

    alone = StartedProcess(env, job(1))
    waited = StartedProcess(env, job(2))
    got: list[int] = []

    def waiter() -> Generator[simpy.Event, Any, None]:
        got.append((yield waited))

    env.process(waiter())
    env.run()
    assert got == [2] and alone.value == 1 and not alone.is_alive
    assert alone.callbacks == []  # its end was never scheduled (nothing to call)
    assert waited.callbacks is None  # processed: its waiter was resumed


def test_started_process_failure_stops_the_run() -> None:
    env = simpy.Environment()

    def broken() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1)
        raise ValueError("boom")

    StartedProcess(env, broken())
    try:
        env.run()
    except ValueError as exc:
        assert "boom" in str(exc)
    else:  # pragma: no cover - the failure must surface
        raise AssertionError("the failed process did not stop the run")


def _queue_trace(wait: str, seed: int) -> list[tuple[float, int, str]]:
    """An overloaded queue with a hazard of leaving: each waiter is woken by whichever comes
    first, a slot or its deadline, either by SimPy's own ``req | timeout`` condition or by
    :class:`Deadlines` (one alarm for all deadlines)."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    pool = CaseloadPool(env, "team", 3)
    deadlines = Deadlines(env)
    trace: list[tuple[float, int, str]] = []

    def family(i: int, patience: float, service: float) -> Generator[simpy.Event, Any, None]:
        req = pool.request(polled=True)
        if not req.triggered:
            yield (req | env.timeout(patience)) if wait == "condition" else deadlines.first(req, patience)
            if not req.triggered:
                req.cancel()
                trace.append((env.now, i, "left"))
                return
        trace.append((env.now, i, "served"))
        yield env.timeout(service)
        pool.release(req)
        trace.append((env.now, i, "done"))

    def arrivals() -> Generator[simpy.Event, Any, None]:
        for i in range(600):
            yield env.timeout(rng.exponential(0.5))
            env.process(family(i, rng.exponential(8.0), rng.exponential(2.0)))

    env.process(arrivals())
    env.run()
    return trace


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deadlines_wake_families_as_timeouts_would(seed: int) -> None:
    # rho = 2 / 0.5 / 3 ~ 1.3: a long queue, many leave at their deadline, many are served first
    expected = _queue_trace("condition", seed)
    kinds = {k for _, _, k in expected}
    assert kinds == {"left", "served", "done"}
    assert _queue_trace("deadlines", seed) == expected

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


@pytest.mark.parametrize("start", ["simpy", "started"])
def test_a_failed_event_is_thrown_into_a_started_process_as_simpy_does(start: str) -> None:
    # the one path StartedProcess leaves to simpy.Process._resume (it is no simpy.Process at run
    # time): a failed event the generator waits on is raised inside it, at the failure's time
    env = simpy.Environment()
    got: list[tuple[str, float]] = []
    event = env.event()

    def waiting() -> Generator[simpy.Event, Any, None]:
        try:
            yield event
        except ValueError as exc:
            got.append((str(exc), env.now))
        yield env.timeout(1)
        got.append(("done", env.now))

    def failing() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(2)
        event.fail(ValueError("boom"))

    proc = env.process(waiting()) if start == "simpy" else StartedProcess(env, waiting())
    env.process(failing())
    env.run()
    assert got == [("boom", 2), ("done", 3)] and not proc.is_alive


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


def _queue_trace(wait: str, seed: int, patience_mean: float = 8.0) -> list[tuple[float, int, str]]:
    """An overloaded queue with a hazard of leaving: each waiter leaves at its deadline unless
    served first. ``"simpy"``: plain SimPy, a ``simpy.Resource`` and the ``req | timeout``
    condition (a timeout per waiter, the request cancelled on leaving); ``"deadlines"``: the
    model's way, a :class:`CaseloadPool` (served and resumed at the release, in its step) and
    :class:`Deadlines` (one alarm for all deadlines, the waiter woken on its own request)."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    resource = simpy.Resource(env, capacity=3)
    pool = CaseloadPool(env, "team", 3)
    deadlines = Deadlines(env)
    trace: list[tuple[float, int, str]] = []

    def plain(i: int, patience: float, service: float) -> Generator[simpy.Event, Any, None]:
        with resource.request() as req:
            yield req | env.timeout(patience)
            if not req.triggered:
                trace.append((env.now, i, "left"))
                return
            trace.append((env.now, i, "served"))
            yield env.timeout(service)
        trace.append((env.now, i, "done"))

    def family(i: int, patience: float, service: float) -> Generator[simpy.Event, Any, None]:
        req = pool.request(polled=True)
        if not req.triggered:
            deadlines.add(req, patience)
            yield req
            if req.cancelled:
                trace.append((env.now, i, "left"))
                return
        trace.append((env.now, i, "served"))
        yield env.timeout(service)
        trace.append((env.now, i, "done"))  # before the release: the waiter it serves resumes in it
        pool.release(req)

    def arrivals() -> Generator[simpy.Event, Any, None]:
        for i in range(600):
            yield env.timeout(rng.exponential(0.5))
            process = plain if wait == "simpy" else family
            env.process(process(i, rng.exponential(patience_mean), rng.exponential(2.0)))

    env.process(arrivals())
    env.run()
    return trace


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deadlines_wake_families_as_timeouts_would(seed: int) -> None:
    # rho = 2 / 0.5 / 3 ~ 1.3: a long queue, many leave at their deadline, many are served first
    expected = _queue_trace("simpy", seed)
    kinds = {k for _, _, k in expected}
    assert kinds == {"left", "served", "done"}
    assert _queue_trace("deadlines", seed) == expected


@pytest.mark.parametrize("seed", [0, 1])
def test_compacted_deadlines_wake_families_as_timeouts_would(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # patience ~ 200 days: most waiters are served long before their deadline, so the heap
    # fills with dead deadlines (hundreds) and is compacted, some waiters still leave
    calls: list[int] = []
    compact = Deadlines._compact

    def counted(self: Deadlines) -> None:
        calls.append(len(self._times))
        compact(self)

    monkeypatch.setattr(Deadlines, "_compact", counted)
    expected = _queue_trace("simpy", seed, patience_mean=200.0)
    assert {k for _, _, k in expected} == {"left", "served", "done"}
    assert _queue_trace("deadlines", seed, patience_mean=200.0) == expected
    assert calls, "the heap was never compacted: the test does not exercise it"


@pytest.mark.parametrize("compact", [False, True])
def test_deadlines_at_one_time_come_in_the_order_set(compact: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # three deadlines at the same instant (set at once, same delay), one of them served before
    # it: the others are woken in the order they were set, as the (time, order) tuples did;
    # with compaction at every deadline the served one is dropped and the order still holds
    from sim.model import common

    if compact:
        monkeypatch.setattr(common, "_COMPACT_AT", 1)
    env = simpy.Environment()
    deadlines = Deadlines(env)
    pool = CaseloadPool(env, "team", 0)
    woken: list[tuple[float, str]] = []

    def waiter(name: str, delay: float) -> Generator[simpy.Event, Any, None]:
        req = pool.request(polled=True)
        deadlines.add(req, delay)
        yield req
        woken.append((env.now, f"{name} {'left' if req.cancelled else 'served'}"))

    for name, delay in (("a", 2.0), ("b", 1.0), ("c", 2.0), ("d", 2.0), ("e", 1.0)):
        StartedProcess(env, waiter(name, delay))

    def serve_one() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(0.5)
        pool.set_capacity(1)  # serves "a", the head of the list: its deadline at 2 is dead

    env.process(serve_one())
    env.run()
    assert woken == [(0.5, "a served"), (1.0, "b left"), (1.0, "e left"), (2.0, "c left"), (2.0, "d left")]
    assert deadlines._times == [] and deadlines._due == {}


def test_compaction_leaves_an_overloaded_model_run_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    # the M/M/c reduction at rho 1.5 with a withdrawal hazard of 0.002 a day (a queue of
    # hundreds, served families' deadlines ~500 days away): the event log is the same with the
    # heap compacted as with it never compacted
    import sim
    from sim.model import common
    from sim.model.world import simulate

    scenario = sim.load_scenario(
        "configs/validation/mmc.yaml",
        overrides={
            "referrals.sources.all.annual_rate": 20 * 365,
            "teams.town.workers": 10,
            "teams.town.caseload_cap": 4,
            "early_help.duration.mean": 3.0,
            "waiting.withdrawal_per_day": 0.002,
            "run.duration_days": 150,
            "run.warmup_days": 0,
        },
    )
    calls: list[int] = []
    compact = Deadlines._compact

    def counted(self: Deadlines) -> None:
        calls.append(len(self._times))
        compact(self)

    monkeypatch.setattr(Deadlines, "_compact", counted)
    # deadlines after the 150-day run are not kept, so the heap holds only ~100: compact from 16
    monkeypatch.setattr(common, "_COMPACT_AT", 16)
    got = simulate(scenario, 0, 0).log.columns()
    assert len(calls) > 2, "the heap was hardly compacted: the test does not exercise it"
    monkeypatch.setattr(common, "_COMPACT_AT", 10**9)
    calls.clear()
    want = simulate(scenario, 0, 0).log.columns()
    assert not calls
    assert got.keys() == want.keys()
    for name, column in want.items():
        if isinstance(column, tuple):
            assert np.array_equal(got[name][0], column[0]) and got[name][1] == column[1], name
        else:
            assert np.array_equal(got[name], column), name


def test_discarded_world_frees_waiting_families_without_the_collector() -> None:
    # the overloaded M/M/c of the test above: hundreds of families still on the list at the
    # end, each a cycle (request -> process -> generator -> world -> list -> request); after
    # World.discard they are freed by reference counts alone (the collector is off), without
    # it they would wait for a collection
    import gc
    import weakref

    import sim
    from sim.model.world import World

    scenario = sim.load_scenario(
        "configs/validation/mmc.yaml",
        overrides={
            "referrals.sources.all.annual_rate": 20 * 365,
            "teams.town.workers": 10,
            "teams.town.caseload_cap": 4,
            "early_help.duration.mean": 3.0,
            "waiting.withdrawal_per_day": 0.002,
            "run.duration_days": 150,
            "run.warmup_days": 0,
        },
    )

    def finished(discard: bool) -> tuple[int, list[weakref.ref[Any]]]:
        world = World(scenario, 0, 0)
        world.run()
        waiting = [req for req in world.team_for["town"].pool._fifo if not req.cancelled]
        refs = [weakref.ref(req.callbacks[0]) for req in waiting]  # the waiting processes
        refs += [weakref.ref(entry[3]) for entry in world.env._queue]  # plans, arrivals, alarms
        world.families.clear()
        if discard:
            world.discard()
        del world, waiting
        return len(refs), refs

    enabled = gc.isenabled()
    gc.disable()
    try:
        n, refs = finished(discard=True)
        assert n > 500
        assert all(ref() is None for ref in refs)
        _, kept = finished(discard=False)
        assert all(ref() is not None for ref in kept)  # the test can fail: cycles need the collector
    finally:
        if enabled:
            gc.enable()
        gc.collect()


def test_deadlines_after_the_run_are_not_kept_and_change_nothing() -> None:
    # the overloaded M/M/c with a hazard of 0.01 a day: most deadlines fall after the 150-day
    # run (never kept), many before (families leave up to the last days); the log is the same
    # as with every deadline kept
    import sim
    from sim.model.world import World

    scenario = sim.load_scenario(
        "configs/validation/mmc.yaml",
        overrides={
            "referrals.sources.all.annual_rate": 20 * 365,
            "teams.town.workers": 10,
            "teams.town.caseload_cap": 4,
            "early_help.duration.mean": 3.0,
            "waiting.withdrawal_per_day": 0.01,
            "run.duration_days": 150,
            "run.warmup_days": 0,
        },
    )
    pushed: list[float] = []

    class Counted(Deadlines):
        def add(self, place: Any, delay: float) -> None:
            pushed.append(self._env.now + delay)
            super().add(place, delay)

    logs = []
    for end in (150.0, np.inf):
        world = World(scenario, 0, 0)
        world._deadlines = Counted(world.env, end=end)
        world.run()
        logs.append(world.log.columns())
    at = np.array(pushed[: len(pushed) // 2])
    assert (at >= 150).sum() > 100 and (at < 150).sum() > 100
    frame = world.log.to_frame()
    assert (frame["event"] == "leave").sum() > 50 and frame.loc[frame["event"] == "leave", "time"].max() > 149
    got, want = logs
    assert got.keys() == want.keys()
    for name, column in want.items():
        if isinstance(column, tuple):
            assert np.array_equal(got[name][0], column[0]) and got[name][1] == column[1], name
        else:
            assert np.array_equal(got[name], column), name


def test_a_run_makes_no_automatic_collections_and_restores_the_collector() -> None:
    # 300,000 new containers would trigger several first-generation collections under any
    # threshold the collector is given (the old context raised it to 100,000): none runs
    # inside, and the collector's state and the frozen set are back as they were afterwards
    import gc

    from sim.replication import _few_collections

    runs: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    was_enabled, was_frozen = gc.isenabled(), gc.get_freeze_count()
    gc.enable()
    gc.callbacks.append(count)
    try:
        with _few_collections():
            assert not gc.isenabled()
            kept = [[] for _ in range(300_000)]
            assert runs == []
        assert gc.isenabled()
        assert gc.get_freeze_count() == was_frozen
        gc.disable()
        with _few_collections():
            pass
        assert not gc.isenabled()  # a caller's disabled collector stays disabled
    finally:
        gc.callbacks.remove(count)
        if was_enabled:
            gc.enable()
        else:
            gc.disable()
    del kept


@pytest.mark.parametrize(
    ("withdrawal", "escalation", "factors"),
    [(0.002, 0.001, (1.0, 1.0)), (0.0, 0.001, (1.0, 1.0)), (0.002, 0.0, (0.0, 1.0)), (0.002, 0.001, (1.0, 0.0))],
)
def test_a_family_served_at_once_draws_the_hazards_uniforms(
    withdrawal: float, escalation: float, factors: tuple[float, float]
) -> None:
    # served at once, _join skips the hazards' arithmetic but must draw exactly the uniforms a
    # family that waits draws (common random numbers): the same position and the same next uniform
    import sim
    from sim.model.common import Place
    from sim.model.family import FamilyMaker
    from sim.model.world import World
    from sim.random import FamilyStreams

    scenario = sim.load_scenario(
        "configs/baseline.yaml",
        overrides={"waiting.withdrawal_per_day": withdrawal, "waiting.escalation.base_per_day": escalation},
    )
    world = World(scenario, 0, 0)
    assert world._hazards and world.triage is not None
    make = FamilyMaker(FamilyStreams(0, 0), world.tables).make
    served, drawn = make(7, 7, now=0.0), make(7, 7, now=0.0)
    req = world.triage.request(polled=True)
    assert req.triggered  # a free slot at the front door
    assert world._join(served, world._fd_kinds, req, 0.0, True, factors) is None
    assert world._join(drawn, world._fd_kinds, Place(world.env), 0.0, True, factors) is not None  # waits
    assert served.rng._pos == drawn.rng._pos > 0
    assert served.rng.u() == drawn.rng.u()

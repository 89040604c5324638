"""The journey's lean pieces are what they replace: ``hold`` is ``env.timeout`` (same event
time and place in the queue), ``arrivals`` is a process yielding a timeout per arrival (the
same steps in the same order), a row's code keeps its fields apart at their limits."""

from __future__ import annotations

import pytest
import simpy

from sim.model.common import StartedProcess, arrivals, hold
from sim.records import MAX_EPISODE, MAX_KIND, EventLog


def _processed(make: str) -> list[tuple[float, str]]:
    env = simpy.Environment()
    seen: list[tuple[float, str]] = []

    def proc(name: str, delays: list[float]):
        for d in delays:
            yield env.timeout(d) if make == "timeout" or name == "b" else hold(env, d)
            seen.append((env.now, name))

    # b's first timeout is made before a's second hold and falls due with it: b goes first
    # (at the same time and priority, the event made first), then the zero delays
    env.process(proc("a", [0.5, 0.5, 0.0, 2.0]))
    env.process(proc("b", [1.0, 0.0, 2.0]))
    env.run()
    return seen


def test_hold_is_env_timeout() -> None:
    assert _processed("hold") == _processed("timeout")
    env = simpy.Environment()
    with pytest.raises(ValueError, match="Negative delay"):
        hold(env, -1.0)


def _arrivals_seen(chain: bool) -> list[tuple[float, str]]:
    """Arrivals at 0 (twice), 1.5 and 3 beside a process with its own timeouts at the same
    times, and families that start in their arrival's step and wait 1.5 days (due with a later
    arrival): the order every step is taken in."""
    env = simpy.Environment()
    seen: list[tuple[float, str]] = []
    at = [0.0, 0.0, 1.5, 3.0]

    def family(i: int):
        seen.append((env.now, f"family {i} starts"))
        yield env.timeout(1.5)  # due with the next arrival but one
        seen.append((env.now, f"family {i} done"))

    def arrive(i: int) -> None:
        seen.append((env.now, f"arrival {i}"))
        StartedProcess(env, family(i))  # its first timeout made in the arrival's step, as a family's

    def other():
        for d in (0.0, 1.5, 1.5):
            yield env.timeout(d)
            seen.append((env.now, "other"))

    env.process(other())
    if chain:
        arrivals(env, at, arrive)
    else:

        def process():  # as the model's arrivals were: the next timeout made before a family starts
            arrival = env.timeout(max(at[0] - env.now, 0.0))
            for i in range(len(at)):
                yield arrival
                if i + 1 < len(at):
                    arrival = env.timeout(max(at[i + 1] - env.now, 0.0))
                arrive(i)

        env.process(process())
    env.process(other())
    env.run()
    return seen


def test_arrivals_take_the_steps_of_a_process() -> None:
    """Ties at one time are broken by the order events were scheduled: the chain's must be the
    process's (its start an urgent event now, each next arrival scheduled before the arrival
    runs), or arrivals would move against the other processes' events at the same instant."""
    assert _arrivals_seen(chain=True) == _arrivals_seen(chain=False)
    assert len(_arrivals_seen(chain=True)) == 4 * 3 + 6
    env = simpy.Environment()
    arrivals(env, [], lambda i: None)  # nothing to arrive: nothing scheduled
    assert not env._queue


def test_the_arrivals_chain_is_freed_by_reference_counts() -> None:
    """Once the last arrival is made nothing holds the chain or what ``arrive`` holds (in the
    model, the world and its families): no reference cycle for the garbage collector, which a
    run keeps switched off."""
    import gc
    import weakref

    class Payload:
        pass

    env = simpy.Environment()
    payload = Payload()
    freed = weakref.ref(payload)

    def arrive(i: int, held: Payload = payload) -> None:
        pass

    enabled = gc.isenabled()
    gc.disable()
    try:
        arrivals(env, [0.0, 1.0, 2.5], arrive)
        del payload, arrive
        env.run()
        assert freed() is None
    finally:
        if enabled:
            gc.enable()


def test_codes_keep_their_fields_apart() -> None:
    log = EventLog()
    for _ in range(MAX_KIND + 1):
        log.register_kind("start", "level3", f"s{len(log._kinds)}")
    with pytest.raises(ValueError, match="kinds"):
        log.register_kind("start", "level3", "one too many")
    log.add(1.0, 2**40, MAX_EPISODE, "start", "level3", f"s{MAX_KIND}", "", "north", 3)
    log.add(2.0, 7, 0, "start", "level3", "s0", "", "south", 1)
    cols = log.columns()
    assert cols["family_id"].tolist() == [2**40, 7]
    assert cols["episode"].tolist() == [MAX_EPISODE, 0]
    codes, labels = cols["service"]
    assert [labels[c] for c in codes] == [f"s{MAX_KIND}", "s0"]
    assert log.kind.tolist() == [MAX_KIND, 0] and log.party.tolist() == [0, 1]

"""The journey's lean pieces are what they replace: ``hold`` is ``env.timeout`` (same event
time and place in the queue), a row's code keeps its fields apart at their limits."""

from __future__ import annotations

import pytest
import simpy

from sim.model.common import hold
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

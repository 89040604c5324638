"""Leaving a queue costs the same whatever its length: cancelled places are marked and dropped
later (lazy deletion), never searched for. These tests check the behaviour that must not change
with it: a cancelled place is never served, and the others are served in the same order as
if it had been removed at once. Exact checks (no randomness involved)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import sim
from sim.model.pools import CaseloadPool
from sim.model.world import World, _PanelTicket


def _meeting(order: str, n: int, cancel: set[int], capacity: int = 3) -> tuple[list[int], list[int]]:
    """Fill the panel's queue with ``n`` tickets (family i has risk i / n), cancel ``cancel``,
    run to just after the first meeting; return who was heard and who is still queued."""
    sc = sim.load_scenario(
        "configs/baseline.yaml",
        overrides={"panel.capacity_per_meeting": capacity, "panel.order": order, "panel.first_meeting_day": 1},
    )
    world = World(sc, 0, 0)
    fams: list[Any] = [SimpleNamespace(id=i, risk=i / n) for i in range(n)]
    tickets = [_PanelTicket(world.env, world.panel_queue, fam) for fam in fams]
    for i in cancel:
        tickets[i].cancel()
    assert len(world.panel_queue) == n  # O(1): a cancel marks its ticket, it does not search the queue
    world.env.process(world._panel_meetings())
    world.env.run(until=1.5)
    heard = [i for i, t in enumerate(tickets) if t.triggered]
    left = [fam.id for _, fam in world.panel_queue]
    return heard, left


def test_cancelled_panel_tickets_are_never_heard_and_fifo_order_is_kept() -> None:
    heard, left = _meeting("fifo", 8, cancel={0, 2, 5})
    assert heard == [1, 3, 4]  # the first three not cancelled
    assert left == [6, 7]  # cancelled tickets are dropped, the rest keep their order


def test_cancelled_panel_tickets_are_skipped_in_risk_order() -> None:
    heard, left = _meeting("risk", 8, cancel={7, 6, 3})
    assert heard == [2, 4, 5]  # highest risk first among those still waiting
    assert left == [1, 0]  # the queue stays in risk order


@pytest.mark.parametrize("by_risk", [False, True])
def test_cancelled_pool_requests_are_skipped(by_risk: bool) -> None:
    sc = sim.load_scenario("configs/baseline.yaml")
    world = World(sc, 0, 0)
    pool = CaseloadPool(world.env, "x", capacity=1, by_risk=by_risk)
    first = pool.request(1.0, risk=0.0)
    waiting = [pool.request(1.0, risk=r) for r in (0.1, 0.9, 0.5)]
    waiting[1].cancel()  # the highest risk leaves
    assert pool.waiting == 2
    pool.release(first)
    world.env.run(until=1)
    served = [i for i, r in enumerate(waiting) if r.triggered]
    assert served == ([2] if by_risk else [0])


def test_a_request_serves_the_place_a_cancelled_head_leaves() -> None:
    # a two-unit family at the head with one unit free; a one-unit family behind it. The head
    # leaves (marked only); the next request finds the list's new head fits and serves it at
    # once, in list order, before itself (exact: no randomness)
    import simpy

    env = simpy.Environment()
    pool = CaseloadPool(env, "x", capacity=3)
    first = pool.request(2.0, polled=True)
    big = pool.request(2.0, polled=True)
    small = pool.request(1.0, polled=True)
    assert first.triggered and not big.triggered and not small.triggered
    big.cancel()
    assert not small.triggered  # cancelling serves no one by itself
    late = pool.request(1.0, polled=True)
    assert small.triggered and not late.triggered and pool.held == 3.0
    pool.release(first)  # two units free: the late one is served in the release's step
    assert late.triggered and pool.held == 2.0

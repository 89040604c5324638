"""Mechanism tests (known answers, exact): key worker queue disciplines, pooled versus
locality allocation, and the caseload pool on hand-built lists.

Queues are hand-built with deterministic arrivals (one referral a day) and fixed plan
lengths that are irrational multiples of a day, so no plan ends at the same instant as an
arrival and the order of service is determined by the discipline alone.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy

import sim
from sim.config import scenario_from_dict
from sim.model.pools import CaseloadPool

PLAN = math.e  # days; 1 + k e is never an integer, so no tie with an arrival


def _team_queue(discipline: str, days: float = 150) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One key worker with one slot, a referral every day, plans of e days: the queue grows
    by about 0.63 a day, so there is always a choice to make when the slot frees."""
    d: dict[str, Any] = {
        "name": "queue",
        "run": {"start_date": "2022-01-01", "duration_days": days, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"process": "deterministic", "sources": {"all": {"annual_rate": 365, "entry": "level3"}}},
        "teams": {"town": {"workers": 1, "caseload_cap": 1}},
        "early_help": {"duration": {"dist": "fixed", "value": PLAN}, "queue_discipline": discipline},
    }
    res = sim.run_replication(scenario_from_dict(d), seed=11)
    return res.events, res.families


def _check_choices(ev: pd.DataFrame, pick: Any) -> int:
    """Walk the log in order; at every plan start, the family started must be the one
    ``pick`` chooses among those waiting (joined, not started). Returns the number of starts
    at which there was a real choice (two or more waiting)."""
    waiting: dict[int, float] = {}
    choices = 0
    rows = ev[ev["stage"] == "level3"][["time", "family_id", "event"]]
    for t, fid, event in rows.itertuples(index=False):
        if event == "join":
            waiting[fid] = t
        elif event == "start":
            assert fid in waiting, (t, fid)
            if len(waiting) > 1:
                choices += 1
                assert fid == pick(waiting), (t, fid, pick(waiting))
            del waiting[fid]
    return choices


def test_risk_discipline_serves_the_highest_risk_waiting_family_first() -> None:
    """queue_discipline risk: each freed slot goes to the highest-risk family waiting.
    A reversed priority (lowest risk first) fails at the first choice."""
    ev, fams = _team_queue("risk")
    risk = dict(zip(fams["family_id"], fams["risk"]))
    choices = _check_choices(ev, lambda waiting: max(waiting, key=lambda f: risk[f]))
    assert choices > 40


def test_fifo_discipline_serves_the_earliest_joiner_first() -> None:
    ev, _ = _team_queue("fifo")
    choices = _check_choices(ev, lambda waiting: min(waiting, key=lambda f: waiting[f]))
    assert choices > 40


def test_risk_and_fifo_orders_differ_on_the_same_queue() -> None:
    """The same arrivals and risks served in two orders: the discipline changes who is served."""
    a, _ = _team_queue("risk")
    b, _ = _team_queue("fifo")
    sa = a[(a["stage"] == "level3") & (a["event"] == "start")]["family_id"].tolist()
    sb = b[(b["stage"] == "level3") & (b["event"] == "start")]["family_id"].tolist()
    assert len(sa) == len(sb) and sa != sb


# --------------------------------------------------------------------------- pooled / locality
SLOTS = {"a": (1, 2), "b": (1, 3), "c": (2, 2), "d": (1, 5)}  # workers, caseload: 2 + 3 + 4 + 5 = 14 slots


def _allocation_run(allocation: str, changes: list[dict[str, Any]] | None = None) -> tuple[pd.DataFrame, Any]:
    """Four localities with 2, 3, 4 and 5 slots, demand far above capacity (10 a day for
    plans of 30 days against 14 slots): every service is full from the first weeks."""
    d: dict[str, Any] = {
        "name": "pool",
        "run": {"start_date": "2022-01-01", "duration_days": 200, "warmup_days": 50},
        "localities": {k: {"referral_share": 0.25} for k in SLOTS},
        "referrals": {"sources": {"all": {"annual_rate": 3650, "entry": "level3"}}},
        "teams": {k: {"workers": w, "caseload_cap": c} for k, (w, c) in SLOTS.items()},
        "early_help": {"duration": {"dist": "fixed", "value": 30}, "allocation": allocation},
        "changes": changes or [],
    }
    res = sim.run_replication(scenario_from_dict(d), seed=2)
    return res.events, res.kpis


def _occupancy(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Open plans after each start / end event (log order) and the event times."""
    steps = np.where(rows["event"].to_numpy() == "start", 1, -1)
    return rows["time"].to_numpy(), np.cumsum(steps)


def _time_average(times: np.ndarray, level: np.ndarray, lo: float, hi: float) -> float:
    edges = np.clip(np.append(times, hi), lo, hi)
    return float(np.sum(level * np.diff(edges))) / (hi - lo)


def test_pooled_allocation_has_the_sum_of_the_teams_slots() -> None:
    """Pooled: one list served by all the teams' slots together. Exact: the maximum number
    of plans open at once is the sum of workers x caseload (14), reached and never exceeded;
    utilisation_team_pool is the time-averaged open plans over [warm-up, end] / 14 (computed
    here from the log). The largest team's slots (5) instead of the sum fails both."""
    ev, k = _allocation_run("pooled")
    plans = ev[(ev["stage"] == "level3") & ev["event"].isin(["start", "end"])]
    assert set(plans["service"].astype(str)) == {"team_pool"}
    t, level = _occupancy(plans)
    assert level.max() == 14
    busy = _time_average(t, level, 50, 200)
    assert busy == pytest.approx(14, rel=1e-3)  # full after the warm-up
    assert k["utilisation_team_pool"] == pytest.approx(busy / 14, rel=1e-12)


def test_pooled_allocation_keeps_the_sum_after_a_dated_change() -> None:
    """A dated change to one team (team d: 1 -> 2 workers of 5 cases on day 100, 2022-04-11)
    gives the pool the new sum, 14 + 5 = 19 slots: exactly 14 plans open at most before the
    change and 19 once the queue has filled them (plans last 30 days, demand is 10 a day).
    The largest team's slots (10) at the change fails."""
    ev, _ = _allocation_run("pooled", [{"date": "2022-04-11", "set": {"teams.d.workers": 2}}])
    plans = ev[(ev["stage"] == "level3") & ev["event"].isin(["start", "end"])]
    t, level = _occupancy(plans)
    assert level[t < 100].max() == 14
    assert level[t >= 100].max() == 19
    assert level[t >= 100][-1] == 19  # still full at the end


def test_locality_allocation_gives_each_team_its_own_slots() -> None:
    """Locality: each family is served by its own locality's team, which never holds more
    than its own workers x caseload (2, 3, 4, 5), and each team's utilisation is its
    time-averaged open plans / its own slots."""
    ev, k = _allocation_run("locality")
    plans = ev[(ev["stage"] == "level3") & ev["event"].isin(["start", "end"])]
    assert (plans["service"].astype(str) == "team_" + plans["locality"].astype(str)).all()
    for name, (w, c) in SLOTS.items():
        rows = plans[plans["service"] == f"team_{name}"]
        t, level = _occupancy(rows)
        assert level.max() == w * c, name
        busy = _time_average(t, level, 50, 200)
        assert k[f"utilisation_team_{name}"] == pytest.approx(busy / (w * c), rel=1e-12)


# --------------------------------------------------------------------------- the pool itself
def test_pool_request_takes_one_unit_and_risk_zero_by_default() -> None:
    """``CaseloadPool.request()`` with no arguments takes one unit at risk 0: on a one-unit
    risk-first list it waits behind a risk-0.5 family that asked before it (with a default
    risk of 1 it would jump ahead)."""
    env = simpy.Environment()
    pool = CaseloadPool(env, "p", capacity=1, by_risk=True)
    first = pool.request(1.0, 0.9)
    mid = pool.request(1.0, 0.5)
    default = pool.request()
    assert default.units == 1.0 and first.triggered and pool.held == 1.0
    pool.release(first)
    env.run()
    assert mid.triggered and not default.triggered and pool.held == 1.0


@pytest.mark.parametrize("by_risk", [False, True], ids=["fifo", "risk"])
def test_pool_drops_cancelled_requests_and_serves_the_next(by_risk: bool) -> None:
    """Two units; four families wait behind two allocated ones. The first and third
    waiting cancel (withdraw); releasing both units serves the second and fourth, in list
    order, and ``waiting`` counts only live requests (4 -> 2 -> 0)."""
    env = simpy.Environment()
    pool = CaseloadPool(env, "p", capacity=2, by_risk=by_risk)
    held = [pool.request(1.0, 0.9), pool.request(1.0, 0.9)]
    waiting = [pool.request(1.0, r) for r in (0.8, 0.7, 0.6, 0.5)]
    assert pool.waiting == 4
    waiting[0].cancel()
    waiting[2].cancel()
    assert pool.waiting == 2
    for req in held:
        pool.release(req)
    env.run()
    assert [r.triggered for r in waiting] == [False, True, False, True]
    assert pool.waiting == 0 and pool.held == 2.0
    held[0].cancel()  # no effect once allocated
    assert not held[0].cancelled


def test_pool_head_waits_for_enough_units_without_overtaking() -> None:
    """A two-unit family at the head of the list waits for two free units; the one-unit
    family behind it does not overtake while one unit is free. A capacity rise serves
    both at once."""
    env = simpy.Environment()
    pool = CaseloadPool(env, "p", capacity=3)
    a = pool.request(2.0)
    big = pool.request(2.0)
    small = pool.request(1.0)
    assert a.triggered and not big.triggered and not small.triggered and pool.held == 2.0
    pool.set_capacity(5)
    assert big.triggered and small.triggered and pool.held == 5.0


def test_pool_is_first_in_first_out_unless_asked_for_risk_order() -> None:
    """A pool made without ``by_risk`` serves in order of asking whatever the risks (a
    risk-0.9 family behind a risk-0.1 one waits), and keeps its name."""
    env = simpy.Environment()
    pool = CaseloadPool(env, "town", capacity=1)
    first = pool.request(1.0, 0.0)
    low = pool.request(1.0, 0.1)
    high = pool.request(1.0, 0.9)
    pool.release(first)
    env.run()
    assert pool.name == "town" and not pool.by_risk
    assert low.triggered and not high.triggered

"""Mechanism tests (known answers): front-door routing and the panel.

Statistical checks use Wilson score intervals for binomial proportions at a
Bonferroni-adjusted level (family-wise false-alarm rate 0.001 per test); the panel's
order and roll-over are deterministic and checked exactly against a reference
re-implementation of the rule on the same hand-built queue.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim
from sim.config import scenario_from_dict
from tests.support import wilson

ALPHA = 0.001


def _base(days: float, sources: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "routing",
        "run": {"start_date": "2022-01-01", "duration_days": days, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"sources": sources},
        "teams": {"town": {"workers": 10_000, "caseload_cap": 10}},
        "early_help": {"duration": {"dist": "fixed", "value": 1}},
    }


# --------------------------------------------------------------------------- front door
NEED = {"level1": 0.2, "level2": 0.3, "level3": 0.3, "level4": 0.2}
INSUFFICIENT = 0.1
MISCLASSIFY = 0.2
ROUTES = ("advice", "level2", "level3", "social_care", "panel")


def _expected_routes(level: int) -> dict[str, float]:
    """Where triage sends a family of true need ``level`` (1-4): panel with the
    insufficient-information probability; otherwise its own level, or with the
    misclassification probability one level up or down (half each), clamped to 1..4."""
    p = dict.fromkeys(ROUTES, 0.0)
    p["panel"] = INSUFFICIENT
    rest = 1 - INSUFFICIENT
    name = dict(enumerate(ROUTES[:4], start=1))
    p[name[level]] += rest * (1 - MISCLASSIFY)
    p[name[min(4, level + 1)]] += rest * MISCLASSIFY / 2
    p[name[max(1, level - 1)]] += rest * MISCLASSIFY / 2
    return p


@pytest.fixture(scope="module")
def triage() -> pd.DataFrame:
    """Triage decisions joined with each family's true level of need."""
    d = _base(365, {"all": {"annual_rate": 16_000}})
    d["family"] = {"need_probs": NEED}
    d["front_door"] = {
        "staff": 1000,
        "triage_time": {"dist": "fixed", "value": 0.1},
        "insufficient_info_prob": INSUFFICIENT,
        "misclassification_prob": MISCLASSIFY,
    }
    d["panel"] = {
        "interval_days": 7,
        "capacity_per_meeting": 10_000,
        "decision_probs": {"level2": 0, "level3": 0, "no_plan": 1, "social_care": 0},
    }
    d["partner_plans"] = {"duration": {"dist": "fixed", "value": 1}}
    d["social_care"] = {
        "assessment_duration": {"dist": "fixed", "value": 1},
        "outcome_probs": {"nfa": 1, "cin": 0, "cp": 0, "lac": 0},
        "cin_duration": {"dist": "fixed", "value": 1},
        "cp_duration": {"dist": "fixed", "value": 1},
        "lac_duration": {"dist": "fixed", "value": 1},
        "residential_share": 0,
        "step_down_probs": {"nfa": 0, "cin": 0, "cp": 0, "lac": 0},
    }
    res = sim.run_replication(scenario_from_dict(d), seed=3)
    ev = res.events
    dec = ev[(ev["stage"] == "front_door") & (ev["event"] == "end")][["family_id", "detail"]]
    out = dec.merge(res.families[["family_id", "need"]], on="family_id", validate="one_to_one")
    assert len(out) > 15_000
    return out


def test_front_door_routing_shares_by_need_level(triage: pd.DataFrame) -> None:
    """For each true level of need, the share of each triage decision against
    ``_expected_routes``. Tolerance: the expected probability lies in the Wilson interval
    of the observed share at level 1 - ALPHA / 20 (4 levels x 5 decisions, Bonferroni).
    Cells with probability 0 must be empty (exact)."""
    assert set(triage["detail"].astype(str)) <= set(ROUTES)
    for level in (1, 2, 3, 4):
        sub = triage[triage["need"] == level]["detail"].astype(str)
        n = len(sub)
        for route, p in _expected_routes(level).items():
            k = int((sub == route).sum())
            if p == 0:
                assert k == 0, (level, route)
                continue
            lo, hi = wilson(k, n, ALPHA / 20)
            assert lo <= p <= hi, (level, route, k / n, p)


def test_misclassification_splits_evenly_up_and_down(triage: pd.DataFrame) -> None:
    """Among families of need 2 and 3 that triage sent to a neighbouring level (not to
    panel), half go up and half down. Wilson interval for 1/2 at 1 - ALPHA / 2 per level.
    A misclassification that always goes up (or down) fails."""
    name = dict(enumerate(ROUTES[:4], start=1))
    for level in (2, 3):
        sub = triage[triage["need"] == level]["detail"].astype(str)
        up, down = int((sub == name[level + 1]).sum()), int((sub == name[level - 1]).sum())
        lo, hi = wilson(up, up + down, ALPHA / 2)
        assert lo <= 0.5 <= hi, (level, up, down)


def test_routing_kpis_count_the_decisions_made_in_the_window() -> None:
    """The KPI window rule for routing, with a warm-up of 100 days on a 200-day run: each
    ``routed_front_door_*`` and ``routed_panel_*`` KPI is the number of that stage's
    ``end`` rows with that decision at or after day 100, from the log; decisions before the
    warm-up (there must be some) and the log's other rows do not count."""
    from sim import kpis as K
    from sim.vocab import PANEL_DECISIONS, TRIAGE_DECISIONS, Stage

    d = _base(200, {"all": {"annual_rate": 2_000}})
    d["run"]["warmup_days"] = 100
    d["family"] = {"need_probs": NEED}
    d["front_door"] = {
        "staff": 1000,
        "triage_time": {"dist": "fixed", "value": 0.1},
        "insufficient_info_prob": 0.3,
        "misclassification_prob": MISCLASSIFY,
    }
    d["panel"] = {
        "interval_days": 7,
        "capacity_per_meeting": 10_000,
        "decision_probs": {"level2": 0.3, "level3": 0.3, "no_plan": 0.4, "social_care": 0},
    }
    d["partner_plans"] = {"duration": {"dist": "fixed", "value": 1}}
    d["social_care"] = {
        "assessment_duration": {"dist": "fixed", "value": 1},
        "outcome_probs": {"nfa": 1, "cin": 0, "cp": 0, "lac": 0},
        "cin_duration": {"dist": "fixed", "value": 1},
        "cp_duration": {"dist": "fixed", "value": 1},
        "lac_duration": {"dist": "fixed", "value": 1},
        "residential_share": 0,
        "step_down_probs": {"nfa": 0, "cin": 0, "cp": 0, "lac": 0},
    }
    res = sim.run_replication(scenario_from_dict(d), seed=4)
    ev = res.events
    for stage, decisions in ((Stage.FRONT_DOOR, TRIAGE_DECISIONS), (Stage.PANEL, PANEL_DECISIONS)):
        ends = ev[(ev["stage"] == stage) & (ev["event"] == "end")]
        assert (ends["time"] < 100).sum() > 20, stage
        inside = ends[ends["time"] >= 100]["detail"].astype(str)
        for decision in decisions:
            assert res.kpis[K.routed(stage, decision).name] == (inside == decision).sum(), (stage, decision)
        assert sum(res.kpis[K.routed(stage, x).name] for x in decisions) == len(inside) > 20


# --------------------------------------------------------------------------- panel
CAPACITY = 3
INTERVAL = 7.0
FIRST = 2.25  # off the half-day arrival grid, so no meeting coincides with an arrival


def _panel_run(order: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A hand-built panel queue: a referral straight to panel every half day (deterministic
    arrivals), a meeting every 7 days from day 2.25 hearing at most 3 cases. About 14 cases
    arrive per meeting, so the queue grows and most cases roll over several times."""
    d = _base(120, {"all": {"annual_rate": 730, "entry": "panel"}})
    d["referrals"]["process"] = "deterministic"
    d["panel"] = {
        "interval_days": INTERVAL,
        "first_meeting_day": FIRST,
        "capacity_per_meeting": CAPACITY,
        "order": order,
        "decision_probs": {"level2": 0, "level3": 0, "no_plan": 1, "social_care": 0},
    }
    res = sim.run_replication(scenario_from_dict(d), seed=5)
    return res.events, res.families


def _reference_panel(joins: pd.DataFrame, risk: dict[int, float], order: str, horizon: float) -> dict[int, float]:
    """The panel rule re-implemented: at each meeting, among the cases that joined before
    it and were not yet heard, hear ``CAPACITY`` of them, earliest first (fifo) or highest
    risk first (risk; earliest first among equal risk). Returns family -> time heard."""
    heard: dict[int, float] = {}
    waiting: list[tuple[float, int]] = []
    pending = sorted(zip(joins["time"], joins["family_id"]))
    t, i = FIRST, 0
    while t < horizon:
        while i < len(pending) and pending[i][0] < t:
            waiting.append(pending[i])
            i += 1
        key = (lambda jf: jf[0]) if order == "fifo" else (lambda jf: (-risk[jf[1]], jf[0]))
        waiting.sort(key=key)
        for _, fid in waiting[:CAPACITY]:
            heard[fid] = t
        del waiting[:CAPACITY]
        t += INTERVAL
    return heard


@pytest.mark.parametrize("order", ["fifo", "risk"])
def test_panel_hears_capacity_per_meeting_in_order_and_rolls_over(order: str) -> None:
    """Exact: each meeting hears min(capacity, queue) cases; the cases heard are the
    earliest (fifo) or the highest-risk (risk) of those waiting; the rest roll over to the
    next meeting. Compared case by case with the reference rule. A reversed risk order, a
    capacity off by one or a queue emptied at each meeting fails."""
    ev, fams = _panel_run(order)
    panel = ev[ev["stage"] == "panel"]
    joins = panel[panel["event"] == "join"]
    starts = panel[panel["event"] == "start"]
    risk = dict(zip(fams["family_id"], fams["risk"]))
    expected = _reference_panel(joins, risk, order, 120)
    observed = dict(zip(starts["family_id"], starts["time"]))
    assert len(expected) == len(observed) > 40
    assert observed == pytest.approx(expected, abs=1e-9)
    # capacity per meeting: every meeting time hears exactly CAPACITY (the queue never empties)
    per_meeting = starts["time"].round(9).value_counts()
    assert (per_meeting == CAPACITY).all()
    meetings = np.round(FIRST + INTERVAL * np.arange(len(per_meeting)), 9)
    assert sorted(per_meeting.index) == pytest.approx(list(meetings))
    # roll-over: cases still waiting at the end are exactly those never heard
    waiting = set(joins["family_id"]) - set(starts["family_id"])
    assert len(waiting) > 100


def test_panel_hears_only_cases_still_waiting() -> None:
    """The same queue with families withdrawing while they wait (0.05 a day, about 40
    waiting at a time, so the queue never empties): each meeting still hears exactly
    CAPACITY cases, all of them families still waiting; a withdrawn family's ticket takes no
    place at the meeting and is never heard."""
    d = _base(120, {"all": {"annual_rate": 730, "entry": "panel"}})
    d["referrals"]["process"] = "deterministic"
    d["panel"] = {
        "interval_days": INTERVAL,
        "first_meeting_day": FIRST,
        "capacity_per_meeting": CAPACITY,
        "decision_probs": {"level2": 0, "level3": 0, "no_plan": 1, "social_care": 0},
    }
    d["waiting"] = {"withdrawal_per_day": 0.05}
    ev = sim.run_replication(scenario_from_dict(d), seed=5).events
    panel = ev[ev["stage"] == "panel"]
    starts = panel[panel["event"] == "start"]
    left = panel[panel["event"] == "leave"]
    assert len(left) > 100
    assert not set(starts["family_id"]) & set(left["family_id"])
    per_meeting = starts["time"].round(9).value_counts()
    assert len(per_meeting) == 17 and (per_meeting == CAPACITY).all()


def test_panel_risk_order_hears_the_riskiest_waiting_case_first() -> None:
    """Exact: with order risk, at every meeting the lowest risk heard is at least the highest
    risk of the cases left waiting (joined before the meeting, not heard)."""
    ev, fams = _panel_run("risk")
    risk = dict(zip(fams["family_id"], fams["risk"]))
    panel = ev[ev["stage"] == "panel"]
    joins = panel[panel["event"] == "join"].set_index("family_id")["time"]
    starts = panel[panel["event"] == "start"].set_index("family_id")["time"]
    for t, heard in starts.groupby(starts.round(9)):
        left = [f for f, tj in joins.items() if tj < t and (f not in starts.index or starts[f] > t + 1e-9)]
        if left:
            assert min(risk[f] for f in heard.index) >= max(risk[f] for f in left), t

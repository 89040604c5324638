"""Mechanism tests: parenting groups are for families while they wait for a key worker.

A family offered a group joins the parenting list when it joins the key worker list and
waits; a family that stops waiting before its group starts (allocated a key worker, withdrawn
or escalated, so its episode goes on or closes) leaves the parenting list, logged as a
``leave`` of ``parenting`` saying why, and never starts a group. A family allocated while
already in a group finishes it (the group started while it waited). A family allocated at
once never waits, so it is never on the list.

Two checks: a hand-computed trace (deterministic arrivals, fixed plans), and the invariants
of the parenting list walked through the event log of a stochastic run with both hazards.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

import sim
from sim.config import scenario_from_dict
from sim.vocab import LEAVE_ALLOCATED


def _groups(**extra: Any) -> dict[str, Any]:
    pg = {
        "group_size": 12,
        "interval_days": 100,
        "first_group_day": 95,
        "duration_days": 30,
        "offer_prob": 1.0,
        "withdrawal_relative_reduction": 0.0,
        "escalation_relative_reduction": 0.0,
    }
    return {**pg, **extra}


def _rows(ev: pd.DataFrame, stage: str, event: str) -> pd.DataFrame:
    return ev[(ev["stage"] == stage) & (ev["event"] == event)]


def test_families_allocated_before_the_group_starts_leave_the_list_and_start_no_group() -> None:
    """One key worker with one place, a referral every 10 days (days 10, 20, ..., 190),
    plans of exactly 25.5 days, every family offered a group; groups start on days 95 and
    195 and last 30 days. By hand: f0 is allocated at once (10-35.5: never on the list);
    f1 35.5-61, f2 61-86.5, f3 86.5-112, f4 112-137.5, f5 137.5-163, f6 163-188.5 and
    f7 from 188.5 each wait first.

    * f1, f2, f3 are allocated before day 95: each leaves the parenting list ``allocated``
      at its plan's start, and none starts a group (the old model put f0 to f3 in it);
    * day 95: f4 to f8 (those still waiting) start a group; f4 is allocated at 112 while
      in it and finishes it (no leave row; it ends ``completed`` at 125 with the others);
    * day 195: f9 to f18 start the second group; nobody is left on the list at the end.
    """
    d: dict[str, Any] = {
        "name": "parenting_trace",
        "run": {"start_date": "2022-01-01", "duration_days": 200, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"process": "deterministic", "sources": {"all": {"annual_rate": 36.5, "entry": "level3"}}},
        "teams": {"town": {"workers": 1, "caseload_cap": 1}},
        "early_help": {"duration": {"dist": "fixed", "value": 25.5}},
        "parenting_groups": _groups(),
    }
    res = sim.run_replication(scenario_from_dict(d), seed=0)
    ev = res.events
    joins = _rows(ev, "parenting", "join")
    assert joins["family_id"].tolist() == list(range(1, 19))
    leaves = _rows(ev, "parenting", "leave")
    assert leaves["family_id"].tolist() == [1, 2, 3]
    assert leaves["time"].tolist() == [35.5, 61.0, 86.5]
    assert (leaves["detail"] == LEAVE_ALLOCATED).all()
    starts = _rows(ev, "parenting", "start")
    assert starts[starts["time"] == 95]["family_id"].tolist() == [4, 5, 6, 7, 8]
    assert starts[starts["time"] == 195]["family_id"].tolist() == list(range(9, 19))
    ends = _rows(ev, "parenting", "end")
    assert ends["family_id"].tolist() == [4, 5, 6, 7, 8] and (ends["time"] == 125).all()
    k = res.kpis
    assert k["starts_parenting"] == 15 and k["waiting_parenting_at_end"] == 0
    assert k["withdrawn_parenting"] == 0 and k["escalated_parenting"] == 0


def _hazards_run() -> tuple[pd.DataFrame, dict[str, float]]:
    """Three key worker places for about one referral a day (plans of 10 days on average):
    a list that waits days to weeks, with both hazards, groups of at most 8 every 28 days."""
    d: dict[str, Any] = {
        "name": "parenting_hazards",
        "run": {"start_date": "2022-01-01", "duration_days": 400, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"sources": {"all": {"annual_rate": 330, "entry": "level3"}}},
        "teams": {"town": {"workers": 1, "caseload_cap": 3}},
        "early_help": {"duration": {"dist": "exponential", "mean": 10}},
        "waiting": {
            "escalation": {"base_per_day": 0.01, "risk_multiplier": 0.0, "growth_per_day": 0.0},
            "withdrawal_per_day": 0.02,
        },
        "social_care": {
            "assessment_duration": {"dist": "fixed", "value": 1},
            "outcome_probs": {"nfa": 1, "cin": 0, "cp": 0, "lac": 0},
            "cin_duration": {"dist": "fixed", "value": 1},
            "cp_duration": {"dist": "fixed", "value": 1},
            "lac_duration": {"dist": "fixed", "value": 1},
            "residential_share": 0,
            "step_down_probs": {"nfa": 0, "cin": 0, "cp": 0, "lac": 0},
        },
        "parenting_groups": _groups(
            group_size=8,
            interval_days=28,
            first_group_day=7,
            duration_days=56,
            offer_prob=0.7,
            withdrawal_relative_reduction=0.5,
            escalation_relative_reduction=0.5,
        ),
    }
    res = sim.run_replication(scenario_from_dict(d), seed=5)
    return res.events, res.kpis


def test_the_parenting_list_holds_only_families_waiting_for_a_key_worker() -> None:
    """Walked through the log, instant by instant: at the end of every instant the families
    on the parenting list are among those waiting for a key worker (so the list is never
    longer than the key worker list joined with it); a group place starts only for a family
    still waiting, never after its episode closed; each leave of the parenting list says
    why, matching the key worker list's row at that instant (a plan's start is
    ``allocated``, a leave ``withdrawn`` or ``escalated``); and the list balances: joins =
    group starts + leaves + still on the list at the end."""
    ev, k = _hazards_run()
    rows = ev[ev["stage"].isin(["level3", "parenting"])][["time", "family_id", "event", "stage", "detail"]]
    key_worker: set[int] = set()  # waiting for a key worker
    listed: set[int] = set()  # on the parenting list
    level3_at: dict[tuple[float, int], tuple[str, str]] = {}
    details: dict[str, int] = {}
    for t, at in rows.groupby("time", sort=True):
        for _, fid, event, stage, detail in at.itertuples(index=False):
            if stage == "level3":
                level3_at[t, fid] = (event, str(detail))
                if event == "join":
                    key_worker.add(fid)
                elif event in ("start", "leave"):
                    key_worker.discard(fid)
            elif event == "join":
                listed.add(fid)
            elif event == "start":
                assert fid in key_worker and fid in listed, (t, fid)
                listed.remove(fid)
            elif event == "leave":
                listed.remove(fid)
                details[str(detail)] = details.get(str(detail), 0) + 1
                want = ("start", "") if detail == LEAVE_ALLOCATED else ("leave", str(detail))
                assert level3_at.get((t, fid)) == want, (t, fid, detail)
        assert listed <= key_worker, (t, listed - key_worker)
    assert set(details) == {LEAVE_ALLOCATED, "withdrawn", "escalated"} and min(details.values()) > 10
    # no group place starts after the family's episode closed
    exits = ev[ev["event"] == "exit"][["family_id", "episode", "time"]].rename(columns={"time": "closed"})
    starts = _rows(ev, "parenting", "start").merge(exits, on=["family_id", "episode"], how="left")
    assert len(starts) > 50 and not (starts["closed"] <= starts["time"]).any()
    # conservation, and the KPIs agree with the walk
    n_join, n_start = len(_rows(ev, "parenting", "join")), len(starts)
    n_leave = len(_rows(ev, "parenting", "leave"))
    assert n_join == n_start + n_leave + k["waiting_parenting_at_end"]
    assert k["waiting_parenting_at_end"] == len(listed) <= k["waiting_level3_at_end"]
    assert k["starts_parenting"] == n_start
    assert k["withdrawn_parenting"] == details["withdrawn"] and k["escalated_parenting"] == details["escalated"]

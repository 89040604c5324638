"""Helpers shared by several test files (no test file imports from another).

* :func:`wilson`: the Wilson score interval of a binomial proportion (scipy's);
* :func:`erlang_c_wait` and :func:`t_interval`: M/M/c queueing theory and the t interval of
  replication means, for the validation and the social workers' M/M/c check;
* :func:`costs_dict`: the deterministic every-service scenario whose costs are worked out by
  hand (``test_mechanisms_costs.py``), also used by the workforce cost tests;
* :func:`statutory_dict`: a scenario with only the statutory social care path.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats


def wilson(k: int, n: int, alpha: float) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n`` at level ``1 - alpha``."""
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=1 - alpha, method="wilson")
    return float(ci.low), float(ci.high)


def erlang_c_wait(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue for M/M/c: C(c, a) / (c mu - lam), with a = lam / mu."""
    a = lam / mu
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (head + tail) / (c * mu - lam)


def t_interval(x: np.ndarray, level: float) -> tuple[float, float]:
    """Two-sided t interval of the mean of ``x`` at ``level``."""
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def cost(gbp: float, year: int) -> dict[str, Any]:
    return {"gbp": gbp, "price_year": year}


STAFF_COSTS = {
    "key_worker_per_year": cost(40_000, 2022),
    "other_team_staff_per_year": cost(30_000, 2024),
    "front_door_per_year": cost(50_000, 2023),
    "mst_therapist_per_year": cost(60_000, 2020),
    "fgc_coordinator_per_year": cost(45_000, 2021),
    "fmh_consultant_per_year": cost(55_000, 2024),
}


def costs_dict(outcome: str, residential: float = 0.0, **cost_changes: Any) -> dict[str, Any]:
    """One need-4 family every 10 days (days 10, 20, ..., 190), triage taking no time,
    a 5-day assessment, then ``outcome`` for exactly 70 days; window [50, 200]."""
    d: dict[str, Any] = {
        "name": "costs",
        "run": {"start_date": "2022-01-01", "duration_days": 200, "warmup_days": 50},
        "localities": {"a": {"referral_share": 0.5}, "b": {"referral_share": 0.5}},
        "referrals": {"process": "deterministic", "sources": {"all": {"annual_rate": 36.5}}},
        # one child per family: the per-child social care costs then equal per-family ones
        "family": {"children_mean": 1, "need_probs": {"level1": 0, "level2": 0, "level3": 0, "level4": 1}},
        "front_door": {
            "staff": 3,
            "triage_time": {"dist": "fixed", "value": 0},
            "insufficient_info_prob": 0,
            "misclassification_prob": 0,
        },
        "teams": {
            "a": {"workers": 10, "caseload_cap": 5, "other_fte": 2.5, "vacancy_rate": 0.2},
            "b": {"workers": 4, "caseload_cap": 5, "other_fte": 1.0},
        },
        "early_help": {"duration": {"dist": "fixed", "value": 10}},
        "mst": {
            "therapists": 2,
            "caseload_cap": 5,
            "duration": {"dist": "fixed", "value": 90},
            "referral_prob": 0,
            "care_relative_reduction": 0,
        },
        "fgc": {
            "coordinators": 2,
            "conferences_per_coordinator": 3,
            "duration": {"dist": "fixed", "value": 30},
            "offer_at": "pre_proceedings",
            "referral_prob": 0,
            "care_relative_reduction": 0,
        },
        "family_mental_health": {
            "consultants": 1,
            "caseload_cap": 10,
            "duration": {"dist": "fixed", "value": 60},
            "referral_prob": 0,
            "step_up_relative_reduction": 0,
        },
        "social_care": {
            "assessment_duration": {"dist": "fixed", "value": 5},
            "outcome_probs": {k: float(k == outcome) for k in ("nfa", "cin", "cp", "lac")},
            "cin_duration": {"dist": "fixed", "value": 70},
            "cp_duration": {"dist": "fixed", "value": 70},
            "lac_duration": {"dist": "fixed", "value": 70},
            "residential_share": residential,
            "step_down_probs": {"nfa": 0, "cin": 0, "cp": 0, "lac": 0},
        },
        "costs": {
            "price_year": 2024,
            "annual_uprating": 0.03,
            "staff": STAFF_COSTS,
            "per_case": {"assessment": cost(800, 2024)},
            "social_care": {
                "cin_per_day": cost(20, 2024),
                "cp_per_day": cost(40, 2024),
                "foster_per_week": cost(700, 2024),
                "residential_per_week": cost(4000, 2024),
            },
        },
    }
    d["costs"].update(cost_changes)
    return d


ASSESS_BANDS = {
    "dist": "bands",
    "edges": [0, 1, 11, 21, 31, 41, 46, 90],
    "probs": [0.018002, 0.116502, 0.172896, 0.157607, 0.202488, 0.189156, 0.143349],
}
ASSESSED = {"not_in_need": 0.3, "cin": 0.3, "s47": 0.3, "lac": 0.1}
S47 = {"icpc": 0.5, "cin": 0.3, "nfa": 0.2}
ICPC = {"cp": 0.8, "cin": 0.1, "nfa": 0.1}
CP_BANDS = {"dist": "bands", "edges": [0, 91, 182, 365, 730, 1095], "probs": [0.159, 0.11, 0.435, 0.252, 0.044]}


def statutory_block(**changes: Any) -> dict[str, Any]:
    st: dict[str, Any] = {
        "decision_working_days": 0,
        "nfa_prob": 0.1,
        "assessment_working_days": ASSESS_BANDS,
        "assessed_probs": ASSESSED,
        "s47_working_days": {"dist": "fixed", "value": 10},
        "s47_probs": S47,
        "icpc_working_days": {"dist": "fixed", "value": 5},
        "icpc_probs": ICPC,
        "cp_end_probs": {"closed": 0.5, "cin": 0.3, "lac": 0.2},
        "cin_end_probs": {"closed": 0.9, "lac": 0.1},
        "inflow": {"sources": {"police": {"children_per_year": 3650}}},
    }
    st.update(changes)
    return st


def statutory_dict(days: float, children_mean: float = 2.0, warmup: float = 0.0, **st: Any) -> dict[str, Any]:
    """Only the statutory path: no early help referrals (rate 0), social care inflow only."""
    return {
        "name": "statutory",
        "run": {"start_date": "2022-01-01", "duration_days": days, "warmup_days": warmup},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"sources": {"none": {"annual_rate": 0, "entry": "level3"}}},
        "family": {"children_mean": children_mean},
        "teams": {"town": {"workers": 1000, "caseload_cap": 10}},
        "early_help": {"duration": {"dist": "fixed", "value": 10}},
        "social_care": {
            "cin_duration": {"dist": "bands", "edges": [0, 91, 730], "probs": [0.5, 0.5]},
            "cp_duration": CP_BANDS,
            "lac_duration": {"dist": "uniform", "low": 100, "high": 300},
            "residential_share": 0.1,
            "step_down_probs": {"nfa": 0.0, "cin": 0.0, "cp": 0.0, "lac": 0.0},
            "statutory": statutory_block(**st),
        },
    }

"""Mechanism tests (known answers): plan reviews and re-referral.

Review timing is exact (a plan ended by a review ends a whole number of review intervals
after it started); the number of reviews to the first event is geometric and its shares
are checked with Wilson intervals or chi-square at a Bonferroni-adjusted level
(family-wise false-alarm rate 0.001 per test).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.config import scenario_from_dict
from tests.support import wilson

ALPHA = 0.001


SOCIAL_CARE = {
    "assessment_duration": {"dist": "fixed", "value": 1},
    "outcome_probs": {"nfa": 1, "cin": 0, "cp": 0, "lac": 0},
    "cin_duration": {"dist": "fixed", "value": 1},
    "cp_duration": {"dist": "fixed", "value": 1},
    "lac_duration": {"dist": "fixed", "value": 1},
    "residential_share": 0,
    "step_down_probs": {"nfa": 0, "cin": 0, "cp": 0, "lac": 0},
}

# Level 3: plans of exactly 100 days reviewed every 28 days -> ends at 28, 56, 84 or 100
L3_LEN, L3_EVERY = 100.0, 28.0
L3_P = {"step_up": 0.10, "step_down": 0.15, "disengage": 0.05}
# Level 2: plans of exactly 50 days reviewed every 21 days -> ends at 21, 42 or 50
L2_LEN, L2_EVERY = 50.0, 21.0
L2_P = {"step_up": 0.20, "step_down": 0.0, "disengage": 0.10}
HORIZON = 500.0


@pytest.fixture(scope="module")
def plans() -> pd.DataFrame:
    """Every Level 2 and Level 3 plan that started early enough to end before the horizon:
    stage, start, length, outcome."""
    d: dict[str, Any] = {
        "name": "reviews",
        "run": {"start_date": "2022-01-01", "duration_days": HORIZON, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"sources": {"all": {"annual_rate": 7300, "entry": "level3"}}},
        "teams": {"town": {"workers": 10_000, "caseload_cap": 10}},
        "early_help": {
            "duration": {"dist": "fixed", "value": L3_LEN},
            "reviews": {"interval_days": L3_EVERY, **{f"{k}_prob": v for k, v in L3_P.items()}},
        },
        "partner_plans": {
            "duration": {"dist": "fixed", "value": L2_LEN},
            "reviews": {"interval_days": L2_EVERY, **{f"{k}_prob": v for k, v in L2_P.items()}},
        },
        "social_care": SOCIAL_CARE,
    }
    ev = sim.run_replication(scenario_from_dict(d), seed=9).events
    rows = ev[ev["stage"].isin(["level2", "level3"]) & ev["event"].isin(["start", "end"])].copy()
    # a family's plans at one stage are sequential: pair the n-th start with the n-th end
    rows["n"] = rows.groupby(["family_id", "stage", "event"], observed=True).cumcount()
    starts = rows[rows["event"] == "start"][["family_id", "stage", "n", "time"]]
    ends = rows[rows["event"] == "end"][["family_id", "stage", "n", "time", "detail"]]
    out = starts.merge(ends, on=["family_id", "stage", "n"], how="left", suffixes=("_start", "_end"))
    out = out[out["time_start"] < HORIZON - L3_LEN - 1]
    assert out["time_end"].notna().all()
    out["length"] = out["time_end"] - out["time_start"]
    out["detail"] = out["detail"].astype(str)
    out["stage"] = out["stage"].astype(str)
    return out


@pytest.mark.parametrize(
    ("stage", "length", "every"), [("level3", L3_LEN, L3_EVERY), ("level2", L2_LEN, L2_EVERY)], ids=["level3", "level2"]
)
def test_reviews_happen_at_whole_intervals_from_plan_start(
    plans: pd.DataFrame, stage: str, length: float, every: float
) -> None:
    """Exact: a plan ended by a review (step up, step down, disengage) ends k x interval
    after it started, k = 1, 2, ... before the plan's length; a plan that completes ends at
    its full length. Reviews one interval late (first at 2 x interval) fail: no plan ends at
    the first review; so does a review clock started at referral instead of plan start."""
    sub = plans[plans["stage"] == stage]
    reviewed = sub[sub["detail"] != "completed"]
    k = reviewed["length"] / every
    assert np.allclose(k, np.round(k), atol=1e-9, rtol=0)
    assert set(np.round(k).astype(int)) == set(range(1, math.ceil(length / every)))
    assert np.allclose(sub.loc[sub["detail"] == "completed", "length"], length, atol=1e-9)


@pytest.mark.parametrize(
    ("stage", "length", "every", "probs"),
    [("level3", L3_LEN, L3_EVERY, L3_P), ("level2", L2_LEN, L2_EVERY, L2_P)],
    ids=["level3", "level2"],
)
def test_number_of_reviews_to_the_first_event_is_geometric(
    plans: pd.DataFrame, stage: str, length: float, every: float, probs: dict[str, float]
) -> None:
    """Each review ends the plan with p = step_up + step_down + disengage, independently,
    so the plan ends at review k with p (1 - p) ** (k - 1), and completes with
    (1 - p) ** reviews_before_end. Chi-square over these end times, p-value > ALPHA / 2
    (two plan types)."""
    sub = plans[plans["stage"] == stage]
    p = sum(probs.values())
    reviews = math.ceil(length / every) - 1
    cells = [*(every * k for k in range(1, reviews + 1)), length]
    expected = [p * (1 - p) ** (k - 1) for k in range(1, reviews + 1)] + [(1 - p) ** reviews]
    observed = [int(np.isclose(sub["length"], c, atol=1e-9).sum()) for c in cells]
    assert sum(observed) == len(sub) > 1000
    pval = stats.chisquare(observed, np.array(expected) * len(sub)).pvalue
    assert pval > ALPHA / 2, (observed, expected)


@pytest.mark.parametrize(("stage", "probs"), [("level3", L3_P), ("level2", L2_P)], ids=["level3", "level2"])
def test_review_outcome_shares(plans: pd.DataFrame, stage: str, probs: dict[str, float]) -> None:
    """Given that a review ends the plan, the outcome is step up / step down / disengage
    in proportion to their probabilities: Wilson interval per outcome at 1 - ALPHA / 6
    (3 outcomes x 2 plan types); an outcome with probability 0 never happens."""
    sub = plans[(plans["stage"] == stage) & (plans["detail"] != "completed")]
    total = sum(probs.values())
    for outcome, q in probs.items():
        k = int((sub["detail"] == outcome).sum())
        if q == 0:
            assert k == 0
            continue
        lo, hi = wilson(k, len(sub), ALPHA / 6)
        assert lo <= q / total <= hi, (stage, outcome, k / len(sub), q / total)


def test_review_outcomes_route_the_family_onwards(plans: pd.DataFrame) -> None:
    """Exact: a Level 3 step-down is followed by a Level 2 plan and a Level 2 step-up by a
    Level 3 plan, starting the moment the first plan ends (unlimited capacity). Only plans
    ending before the fixture's start cut-off, so that the next plan is in the table."""
    cut = HORIZON - L3_LEN - 1
    l3 = plans[plans["stage"] == "level3"]
    l2 = plans[plans["stage"] == "level2"]
    l2_starts = set(zip(l2["family_id"], l2["time_start"].round(9)))
    down = l3[(l3["detail"] == "step_down") & (l3["time_end"] < cut)]
    assert len(down) > 100
    assert all((f, round(t, 9)) in l2_starts for f, t in zip(down["family_id"], down["time_end"]))
    l3_starts = set(zip(l3["family_id"], l3["time_start"].round(9)))
    up = l2[(l2["detail"] == "step_up") & (l2["time_end"] < cut)]
    assert len(up) > 20
    assert all((f, round(t, 9)) in l3_starts for f, t in zip(up["family_id"], up["time_end"]))


# --------------------------------------------------------------------------- re-referral
REREFER = 0.3


def test_rereferral_probability_and_uniform_timing_within_a_year() -> None:
    """After an early help closure, a new referral (source re_referral) follows with
    probability prob_within_12_months, at a time uniform on [0, 365) days after the
    closure. Closures at least 365 days before the end are used (no censoring).
    Tolerances (Bonferroni over 2 checks): the probability lies in the Wilson interval of
    the observed share at 1 - ALPHA / 2; the delays pass a KS test against U(0, 365) with
    p > ALPHA / 2. Delays on half the year, or a probability applied twice, fail."""
    d: dict[str, Any] = {
        "name": "rereferral",
        "run": {"start_date": "2022-01-01", "duration_days": 900, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"sources": {"all": {"annual_rate": 3650, "entry": "level3"}}},
        "family": {"need_probs": {"level1": 0, "level2": 0, "level3": 1, "level4": 0}},
        "front_door": {
            "staff": 1000,
            "triage_time": {"dist": "fixed", "value": 0},
            "insufficient_info_prob": 0,
            "misclassification_prob": 0,
        },
        "teams": {"town": {"workers": 10_000, "caseload_cap": 10}},
        "early_help": {"duration": {"dist": "exponential", "mean": 20}},
        "rereferral": {"prob_within_12_months": REREFER},
    }
    ev = sim.run_replication(scenario_from_dict(d), seed=4).events
    exits = ev[ev["event"] == "exit"][["family_id", "episode", "time"]]
    refs = ev[(ev["event"] == "referral") & (ev["detail"] == "re_referral")][["family_id", "episode", "time"]]
    assert (refs["episode"] > 0).all()
    # the re-referral opens the next episode of the same family
    refs = refs.assign(episode=refs["episode"] - 1)
    pairs = exits.merge(refs, on=["family_id", "episode"], how="left", suffixes=("_exit", "_ref"))
    pairs = pairs[pairs["time_exit"] < 900 - 365]
    n, k = len(pairs), int(pairs["time_ref"].notna().sum())
    assert n > 5000
    lo, hi = wilson(k, n, ALPHA / 2)
    assert lo <= REREFER <= hi, k / n
    delay = (pairs["time_ref"] - pairs["time_exit"]).dropna().to_numpy()
    assert delay.min() >= 0 and delay.max() < 365
    assert stats.kstest(delay, stats.uniform(0, 365).cdf).pvalue > ALPHA / 2


# --------------------------------------------------------------------------- key worker turnover
def test_handovers_lengthen_a_plan_by_a_poisson_number_of_delays() -> None:
    """Key worker turnover of 3.65 a year and a 10-day handover delay on plans of exactly 100
    days (no reviews): each plan lasts 100 + 10 K days with K ~ Poisson(3.65 x 100 / 365 =
    1), so every length is 100 plus a whole number of delays and the shares of K = 0, 1, 2,
    3, >= 4 are e^-1 x (1, 1, 1/2, 1/6) and the rest. Each share's Wilson interval at
    1 - ALPHA / 5 (Bonferroni over five cells) must hold its probability; a rate read per
    day or per plan, or a delay not multiplied by K, fails. The inverse CDF itself is also
    checked exactly against scipy's on a grid of uniforms."""
    from sim.model.common import poisson_ppf

    for lam in (0.0, 0.3, 1.0, 7.5):
        for u in np.linspace(0.0005, 0.9995, 200):
            assert poisson_ppf(float(u), lam) == stats.poisson.ppf(u, lam), (u, lam)
    d: dict[str, Any] = {
        "name": "handovers",
        "run": {"start_date": "2022-01-01", "duration_days": 400, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"sources": {"all": {"annual_rate": 5_000, "entry": "level3"}}},
        "teams": {"town": {"workers": 10_000, "caseload_cap": 10}},
        "early_help": {
            "duration": {"dist": "fixed", "value": 100},
            "turnover_per_year": 3.65,
            "handover_delay_days": 10,
        },
    }
    ev = sim.run_replication(scenario_from_dict(d), seed=2).events
    rows = ev[ev["stage"] == "level3"]
    start = rows[rows["event"] == "start"].set_index("family_id")["time"]
    end = rows[rows["event"] == "end"].set_index("family_id")["time"]
    start = start[start < 200]  # every plan started before day 200 ends before day 400
    delays = (end[start.index] - start - 100) / 10
    k = np.round(delays).to_numpy()
    assert np.allclose(delays, k, rtol=0, atol=1e-9) and (k >= 0).all()
    n = len(k)
    assert n > 2000
    pmf = stats.poisson.pmf(np.arange(4), 1.0)
    for cell, p in [*enumerate(pmf), (4, 1 - pmf.sum())]:
        hits = int((k >= 4).sum()) if cell == 4 else int((k == cell).sum())
        lo, hi = wilson(hits, n, ALPHA / 5)
        assert lo <= p <= hi, (cell, hits / n, p)

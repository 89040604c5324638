"""Mechanism tests (known answers, exact): every cost component.

Two kinds of check, both exact (relative tolerance 1e-9, floating point only):

* a deterministic case worked out by hand in the docstrings (one family every 10 days,
  fixed durations), with the expected pounds written as literals;
* a stochastic run with every service, where each component is recomputed here from the
  event log alone (starts in the window x per-case cost, case-days inside the window x
  per-day cost, care-days / 7 x per-week cost, posts filled x annual cost x years),
  independently of ``sim.metrics``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim
from sim.config import scenario_from_dict
from tests.support import STAFF_COSTS, cost, costs_dict, statutory_dict

REL = 1e-9


# Case-days inside [50, 200] of stays of 70 days starting at 15, 25, ..., 195:
# starts 15, 25, 35, 45 -> 35 + 45 + 55 + 65 = 200; starts 55 ... 125 (8 stays) -> 8 x 70 = 560;
# starts 135 ... 195 (7 stays, cut at 200) -> 65 + 55 + 45 + 35 + 25 + 15 + 5 = 245. Total 1005.
CASE_DAYS = 1005
ASSESSMENTS = 15  # assessments start on arrival: days 50, 60, ..., 190
WINDOW_YEARS = 150 / 365


def test_staff_costs_are_posts_filled_times_annual_cost_times_years() -> None:
    """Staff: team a has 10 posts with 20% vacant, so 8 key workers are paid (vacant posts
    are not), team b 4; other staff 2.5 + 1 FTE; 3 front door, 2 MST therapists, 2 FGC
    coordinators, 1 FMH consultant, each uprated at 3% a year to 2024 prices from its own
    price year, over a window of 150 days."""
    k = sim.run_replication(scenario_from_dict(costs_dict("nfa")), seed=0).kpis
    per_year = (
        (8 + 4) * 40_000 * 1.03**2
        + 3.5 * 30_000
        + 3 * 50_000 * 1.03
        + 2 * 60_000 * 1.03**4
        + 2 * 45_000 * 1.03**3
        + 1 * 55_000
    )
    assert k["cost_staff_gbp"] == pytest.approx(per_year * WINDOW_YEARS, rel=REL)
    assert k["cost_assessment_gbp"] == pytest.approx(ASSESSMENTS * 800, rel=REL)
    for name in ("cin", "cp", "care_foster", "care_residential"):
        assert k[f"cost_{name}_gbp"] == 0


@pytest.mark.parametrize(
    ("senior_cost", "per_senior"),
    [(cost(45_000, 2024), 45_000), (None, 40_000 * 1.03**2)],
    ids=["own_cost", "key_worker_cost"],
)
def test_senior_key_workers_are_paid_their_own_cost_or_a_key_workers(senior_cost: Any, per_senior: float) -> None:
    """The staff case above with senior key workers: team a has 3 senior posts, 20% vacant,
    so round(2.4) = 2 are paid, team b 1. Each is paid ``senior_key_worker_per_year``, or
    the key worker's 40,000 (2022 prices, uprated to 2024) when that is not given."""
    d = costs_dict("nfa")
    d["teams"]["a"].update(senior_workers=3, senior_caseload_cap=2)
    d["teams"]["b"].update(senior_workers=1, senior_caseload_cap=2)
    if senior_cost is not None:  # a copy: STAFF_COSTS is shared by every test here
        d["costs"]["staff"] = {**STAFF_COSTS, "senior_key_worker_per_year": senior_cost}
    k = sim.run_replication(scenario_from_dict(d), seed=0).kpis
    per_year = (
        (8 + 4) * 40_000 * 1.03**2
        + (2 + 1) * per_senior
        + 3.5 * 30_000
        + 3 * 50_000 * 1.03
        + 2 * 60_000 * 1.03**4
        + 2 * 45_000 * 1.03**3
        + 1 * 55_000
    )
    assert k["cost_staff_gbp"] == pytest.approx(per_year * WINDOW_YEARS, rel=REL)


@pytest.mark.parametrize(
    ("outcome", "residential", "kpi", "expected"),
    [
        ("cin", 0.0, "cost_cin_gbp", CASE_DAYS * 20),  # per day
        ("cp", 0.0, "cost_cp_gbp", CASE_DAYS * 40),  # per day
        ("lac", 0.0, "cost_care_foster_gbp", CASE_DAYS / 7 * 700),  # per WEEK: 100,500
        ("lac", 1.0, "cost_care_residential_gbp", CASE_DAYS / 7 * 4000),  # per WEEK
    ],
    ids=["cin_per_day", "cp_per_day", "foster_per_week", "residential_per_week"],
)
def test_social_care_costs_per_day_and_per_week(outcome: str, residential: float, kpi: str, expected: float) -> None:
    """1005 case-days in the window (worked out above): CIN and CP are costed per day,
    foster and residential care per week (days / 7). Foster costed per day would be 7x."""
    k = sim.run_replication(scenario_from_dict(costs_dict(outcome, residential)), seed=0).kpis
    assert k[kpi] == pytest.approx(expected, rel=REL)
    social = ASSESSMENTS * 800 + expected
    assert k["cost_social_care_gbp"] == pytest.approx(social, rel=REL)
    assert k["cost_total_gbp"] == pytest.approx(social + k["cost_staff_gbp"], rel=REL)
    assert k["cost_total_gbp_per_year"] == pytest.approx(k["cost_total_gbp"] / WINDOW_YEARS, rel=REL)
    # families referred in the window: arrivals on days 50, 60, ..., 190
    assert k["cost_per_family_gbp"] == pytest.approx(k["cost_total_gbp"] / 15, rel=REL)


def test_uprating_between_price_years() -> None:
    """The same foster case with the weekly cost stated in 2019 prices and 4% a year
    uprating: 2024 prices are 1.04 ** 5 times higher. With uprating 0 the price year
    does not matter."""
    d = costs_dict("lac", social_care={"foster_per_week": cost(700, 2019)}, annual_uprating=0.04)
    k = sim.run_replication(scenario_from_dict(d), seed=0).kpis
    assert k["cost_care_foster_gbp"] == pytest.approx(CASE_DAYS / 7 * 700 * 1.04**5, rel=REL)
    d = costs_dict("lac", social_care={"foster_per_week": cost(700, 2019)}, annual_uprating=0.0)
    k = sim.run_replication(scenario_from_dict(d), seed=0).kpis
    assert k["cost_care_foster_gbp"] == pytest.approx(CASE_DAYS / 7 * 700, rel=REL)


# --------------------------------------------------------------------------- every component, stochastic
LO, HI = 200.0, 730.0
UPRATE = 0.025


def _full_scenario() -> dict[str, Any]:
    """Every service and every cost, costs in assorted price years."""
    d = costs_dict("nfa")
    d["run"] = {"start_date": "2022-04-01", "duration_days": HI, "warmup_days": LO}
    d["referrals"] = {"sources": {"all": {"annual_rate": 1500}}}
    d["family"] = {"need_probs": {"level1": 0.1, "level2": 0.3, "level3": 0.4, "level4": 0.2}}
    d["front_door"].update(insufficient_info_prob=0.1, misclassification_prob=0.1)
    d["front_door"]["triage_time"] = {"dist": "exponential", "mean": 1}
    d["panel"] = {
        "interval_days": 14,
        "capacity_per_meeting": 50,
        "decision_probs": {"level2": 0.3, "level3": 0.4, "no_plan": 0.2, "social_care": 0.1},
    }
    d["partner_plans"] = {"duration": {"dist": "exponential", "mean": 90}}
    d["early_help"] = {
        "duration": {"dist": "lognormal", "median": 120, "sigma": 0.4},
        "reviews": {"interval_days": 42, "step_up_prob": 0.05, "step_down_prob": 0.05},
    }
    d["mst"].update(referral_prob=0.6, age_min=10, age_max=17)
    d["fgc"].update(referral_prob=0.5)
    d["family_mental_health"].update(referral_prob=0.3)
    d["parenting_groups"] = {
        "group_size": 8,
        "interval_days": 28,
        "duration_days": 56,
        "offer_prob": 0.5,
        "withdrawal_relative_reduction": 0.2,
        "escalation_relative_reduction": 0.2,
    }
    d["social_care"] = {
        "assessment_duration": {"dist": "gamma", "mean": 30, "sd": 10},
        "outcome_probs": {"nfa": 0.3, "cin": 0.35, "cp": 0.2, "lac": 0.15},
        "cin_duration": {"dist": "bands", "edges": [0, 91, 365, 730], "probs": [0.5, 0.4, 0.1]},
        "cp_duration": {"dist": "uniform", "low": 60, "high": 400},
        "lac_duration": {"dist": "lognormal", "median": 300, "sigma": 0.8},
        "residential_share": 0.25,
        "step_down_probs": {"nfa": 0.1, "cin": 0.2, "cp": 0.2, "lac": 0.0},
    }
    d["initial_state"] = {
        "teams": {"a": {"open_plans": 10, "waiting": 3}},
        "open_elapsed": {"dist": "uniform", "low": 0, "high": 100},
    }
    d["costs"] = {
        "price_year": 2024,
        "annual_uprating": UPRATE,
        "staff": STAFF_COSTS,
        "per_case": {
            "level3_plan": cost(500, 2022),
            "level2_plan": cost(200, 2024),
            "mst_case": cost(1000, 2023),
            "assessment": cost(800, 2021),
            "fgc_conference": cost(900, 2022),
            "parenting_place": cost(300, 2020),
        },
        "social_care": {
            "cin_per_day": cost(20, 2023),
            "cp_per_day": cost(40, 2022),
            "foster_per_week": cost(650, 2021),
            "residential_per_week": cost(4200, 2023),
        },
    }
    return d


def _price(gbp: float, year: int) -> float:
    return gbp * (1 + UPRATE) ** (2024 - year)


def _starts_in_window(ev: pd.DataFrame, stage: str, lo: float = LO, hi: float = HI, per_child: bool = False) -> int:
    """Cases at ``stage`` started in [lo, hi): families, or with ``per_child`` their children
    (social care is costed per child, early help per family)."""
    rows = ev[(ev["stage"] == stage) & (ev["event"] == "start")]
    inside = (rows["time"] >= lo) & (rows["time"] < hi)
    return int(rows["children"][inside].sum()) if per_child else int(inside.sum())


def _days_in_window(
    ev: pd.DataFrame, stage: str, placement: str | None = None, lo: float = LO, hi: float = HI
) -> float:
    """Sum over the stage's cases of the part of [start, end] (end: the horizon if still
    open) inside [lo, hi], times the family's children (child-days). A family's cases at a
    stage are sequential: pair n-th start with n-th end."""
    rows = ev[(ev["stage"] == stage) & ev["event"].isin(["start", "end"])].copy()
    if placement is not None:
        rows = rows[rows["detail"] == placement]
    rows["n"] = rows.groupby(["family_id", "event"], observed=True).cumcount()
    starts = rows[rows["event"] == "start"].set_index(["family_id", "n"])
    s = starts["time"]
    e = rows[rows["event"] == "end"].set_index(["family_id", "n"])["time"].reindex(s.index).fillna(HI)
    overlap = np.minimum(e.to_numpy(), hi) - np.maximum(s.to_numpy(), lo)
    return float((np.clip(overlap, 0, None) * starts["children"].to_numpy()).sum())


@pytest.fixture(scope="module")
def full_run() -> Any:
    return sim.run_replication(scenario_from_dict(_full_scenario()), seed=5)


def test_every_cost_component_recomputed_from_the_event_log(full_run: Any) -> None:
    ev, k = full_run.events, full_run.kpis
    # the run exercises every costed activity inside the window
    for stage in ("level2", "level3", "mst", "fgc", "parenting", "assessment", "cin", "cp", "lac"):
        assert _starts_in_window(ev, stage) > 5, stage
    years = (HI - LO) / 365
    staff = (
        (8 + 4) * _price(40_000, 2022)
        + 3.5 * _price(30_000, 2024)
        + 3 * _price(50_000, 2023)
        + 2 * _price(60_000, 2020)
        + 2 * _price(45_000, 2021)
        + 1 * _price(55_000, 2024)
    ) * years
    cases = (
        _starts_in_window(ev, "level3") * _price(500, 2022)
        + _starts_in_window(ev, "level2") * _price(200, 2024)
        + _starts_in_window(ev, "mst") * _price(1000, 2023)
        + _starts_in_window(ev, "fgc") * _price(900, 2022)
        + _starts_in_window(ev, "parenting") * _price(300, 2020)
    )
    expected = {
        "cost_staff_gbp": staff,
        "cost_cases_gbp": cases,
        "cost_assessment_gbp": _starts_in_window(ev, "assessment", per_child=True) * _price(800, 2021),
        "cost_cin_gbp": _days_in_window(ev, "cin") * _price(20, 2023),
        "cost_cp_gbp": _days_in_window(ev, "cp") * _price(40, 2022),
        "cost_care_foster_gbp": _days_in_window(ev, "lac", "foster") / 7 * _price(650, 2021),
        "cost_care_residential_gbp": _days_in_window(ev, "lac", "residential") / 7 * _price(4200, 2023),
    }
    for name, value in expected.items():
        assert value > 0, name
        assert k[name] == pytest.approx(value, rel=REL), name
    early = staff + cases
    social = sum(expected.values()) - early
    assert k["cost_early_help_gbp"] == pytest.approx(early, rel=REL)
    assert k["cost_social_care_gbp"] == pytest.approx(social, rel=REL)
    assert k["cost_total_gbp"] == pytest.approx(early + social, rel=REL)
    assert k["cost_early_help_gbp_per_year"] == pytest.approx(early / years, rel=REL)
    assert k["cost_social_care_gbp_per_year"] == pytest.approx(social / years, rel=REL)
    referred = ev[(ev["event"] == "referral") & (ev["time"] >= LO)]["family_id"].nunique()
    assert k["cost_per_family_gbp"] == pytest.approx((early + social) / referred, rel=REL)


def test_yearly_costs_cover_each_whole_year_of_the_window(full_run: Any) -> None:
    """``cost_social_care_gbp_year1`` is the social care cost of [LO, LO + 365) only
    (the window holds one whole year), recomputed from the log as above."""
    ev, k = full_run.events, full_run.kpis
    a, b = LO, LO + 365
    social = (
        _starts_in_window(ev, "assessment", a, b, per_child=True) * _price(800, 2021)
        + _days_in_window(ev, "cin", None, a, b) * _price(20, 2023)
        + _days_in_window(ev, "cp", None, a, b) * _price(40, 2022)
        + _days_in_window(ev, "lac", "foster", a, b) / 7 * _price(650, 2021)
        + _days_in_window(ev, "lac", "residential", a, b) / 7 * _price(4200, 2023)
    )
    assert "cost_social_care_gbp_year2" not in k
    assert k["cost_social_care_gbp_year1"] == pytest.approx(social, rel=REL)


# --------------------------------------------------------------------------- social workers
def test_social_worker_cost_is_fte_above_the_unit_costs_establishment() -> None:
    """Social worker pay, counted once (issue 10): the per-child unit costs include the time of
    7 FTE (``social_worker_fte_in_unit_costs``); 10 FTE are in post until a dated change to 4
    FTE on day 200, window [35, 400]. By hand: (10 - 7) FTE for 165 days and (4 - 7) FTE for
    200 days, at GBP 50,000 in 2022 prices uprated 3% a year to 2024:
    (3 x 165 - 3 x 200) / 365 x 50,000 x 1.03^2 = -GBP 15,259.52 (a saving). The components
    still add up to the social care and total costs. Without ``social_worker_per_year`` the
    component is 0."""
    from sim import kpis as K

    d = statutory_dict(400.0, warmup=35.0, social_workers={"case_holding_fte": 10, "caseload_cap": 20})
    d["changes"] = [{"date": "2022-07-20", "set": {"social_care.statutory.social_workers.case_holding_fte": 4}}]
    d["costs"] = {
        "price_year": 2024,
        "annual_uprating": 0.03,
        "per_case": {"assessment": cost(800, 2024)},
        "social_care": {
            "cin_per_day": cost(20, 2024),
            "social_worker_per_year": cost(50_000, 2022),
            "social_worker_fte_in_unit_costs": 7,
        },
    }
    k = sim.run_replication(scenario_from_dict(d), seed=4).kpis
    expected = (3 * 165 - 3 * 200) / 365 * 50_000 * 1.03**2
    assert expected == pytest.approx(-15_259.52, abs=0.01)
    assert k["cost_social_workers_gbp"] == pytest.approx(expected, rel=REL)
    social = sum(k[c.name] for c in K.COST_COMPONENTS if c.subject == "social_care")
    assert k["cost_social_care_gbp"] == pytest.approx(social, rel=REL)
    assert k["cost_total_gbp"] == pytest.approx(sum(k[c.name] for c in K.COST_COMPONENTS), rel=REL)
    del d["costs"]["social_care"]["social_worker_per_year"]
    assert sim.run_replication(scenario_from_dict(d), seed=4).kpis["cost_social_workers_gbp"] == 0


def test_a_case_starting_on_a_year_boundary_is_costed_in_the_later_year_only() -> None:
    """Years are half-open, ``[lo + 365 (i - 1), lo + 365 i)``. The deterministic case with
    no further action after each assessment, run for 800 days with a 45-day warm-up: two
    whole years, [45, 410) and [410, 775). Assessments (GBP 800 each, in 2024 prices) start
    every 10 days, one of them exactly on day 410: year 1 holds those at 50, ..., 400 (36,
    GBP 28,800) and year 2 those at 410, ..., 770 (37, GBP 29,600)."""
    from sim import kpis as K

    d = costs_dict("nfa")
    d["run"]["duration_days"] = 800
    d["run"]["warmup_days"] = 45
    res = sim.run_replication(scenario_from_dict(d), seed=0)
    ev = res.events
    starts = ev[(ev["stage"] == "assessment") & (ev["event"] == "start")]["time"]
    assert (starts == 410.0).sum() == 1
    years = [res.kpis[K.in_year(K.COST_SOCIAL_CARE, i).name] for i in (1, 2)]
    assert years == pytest.approx([36 * 800.0, 37 * 800.0], rel=REL)


@pytest.mark.slow  # ~8 s: three replications of 400 days with statutory social care
def test_a_kpi_that_comes_out_negative_is_signed_and_its_interval_holds_its_mean(tmp_path) -> None:
    """With social worker posts standing empty, the social worker cost beyond the unit costs is
    negative (its definition says so): a KPI that can be negative is ``signed``, so its summary
    interval is not cut at zero (it was: ci_low 0 above ci_high -1.05m, the mean outside its own
    interval). Every KPI's interval holds its mean."""
    sc = sim.load_scenario(
        "configs/options/social_worker_vacancy_crisis.yaml",
        overrides={"run.duration_days": 400, "run.warmup_days": 60},
    )
    batch = sim.run_batch(sc, 3, seed=2, backend="serial", out=tmp_path / "b")
    table = batch.replications
    negative = [k for k in sim.kpis.catalogue(sc).values() if k.name in table and (table[k.name] < 0).any()]
    assert "cost_social_workers_gbp" in [k.name for k in negative]
    assert [k.name for k in negative if k.nonnegative] == []
    s = batch.summary.set_index("kpi")
    s = s[s["n"] > 1].dropna(subset=["ci_low", "ci_high"])
    bad = s[(s["ci_low"] > s["mean"] + 1e-9 * s["mean"].abs()) | (s["ci_high"] < s["mean"] - 1e-9 * s["mean"].abs())]
    assert bad.empty, bad[["mean", "ci_low", "ci_high"]]

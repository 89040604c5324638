"""Services added for the council scenarios: FGC, family mental health, parenting groups,
workforce vacancies and turnover, direct MST referrals. Direction of effect is checked under
common random numbers (same seed), with effects set large enough that the sign is certain."""

from __future__ import annotations

import pytest

import sim
from sim.experiment import run_batch, variant
from sim.metrics import flow_balance
from tests.conftest import CONFIGS

SHORT = {"run.duration_days": 730, "run.warmup_days": 90}
FGC = {
    "coordinators": 10,
    "conferences_per_coordinator": 3,
    "duration": {"dist": "uniform", "low": 28, "high": 56},
    "offer_at": "pre_proceedings",
    "referral_prob": 1.0,
    "care_relative_reduction": 0.0,
    "step_up_relative_reduction": 0.0,
}


def _base(**extra: object) -> sim.Scenario:
    return sim.load_scenario(CONFIGS / "baseline.yaml", {**SHORT, **extra})


def _mean(sc: sim.Scenario, kpi: str, reps: int = 4) -> float:
    return float(run_batch(sc, reps, seed=3).replications[kpi].mean())


@pytest.mark.slow  # over 5 s: the fast run keeps the mechanism's known-answer tests
def test_fgc_at_pre_proceedings_reduces_care_entries() -> None:
    no_effect = _base(fgc=FGC)
    effect = _base(fgc={**FGC, "care_relative_reduction": 0.5})
    assert _mean(no_effect, "starts_fgc") > 20
    assert _mean(effect, "care_entries") < _mean(no_effect, "care_entries")


@pytest.mark.slow  # over 5 s: the fast run keeps the mechanism's known-answer tests
def test_fgc_at_first_contact_reduces_step_ups_during_plans() -> None:
    first = {**FGC, "offer_at": "first_contact", "referral_prob": 0.8}
    none = _base(fgc={**first, "step_up_relative_reduction": 0.0})
    strong = _base(fgc={**first, "step_up_relative_reduction": 0.9})
    assert _mean(strong, "step_ups_during_plan") < _mean(none, "step_ups_during_plan")
    assert _mean(none, "utilisation_fgc") > 0


@pytest.mark.slow  # over 5 s: the fast run keeps the mechanism's known-answer tests
def test_fgc_in_early_support_as_well_as_at_pre_proceedings() -> None:
    """``early_help_referral_prob`` adds conferences for families starting a Level 3 plan to
    the pre-proceedings offer (Kirklees-ESP-2019 s.2 FGC: "in both early support services and
    children's social care"): with every Level 3 family referred, FGC starts at least the
    Level 3 starts, more than pre-proceedings alone; the share's step-up effect applies."""
    both = {**FGC, "coordinators": 1000, "early_help_referral_prob": 1.0}
    pre = _base(fgc={**FGC, "coordinators": 1000})
    sc = _base(fgc=both)
    res = sim.run_replication(sc, seed=2).kpis
    assert res["starts_fgc"] >= res["starts_level3"] > 0
    assert res["starts_fgc"] > sim.run_replication(pre, seed=2).kpis["starts_fgc"]
    strong = _base(fgc={**both, "step_up_relative_reduction": 0.9})
    assert _mean(strong, "step_ups_during_plan") < _mean(sc, "step_ups_during_plan")


def test_family_mental_health_runs_alongside_plans() -> None:
    fmh = {
        "consultants": 5,
        "caseload_cap": 10,
        "duration": {"dist": "fixed", "value": 90},
        "referral_prob": 0.2,
        "step_up_relative_reduction": 0.5,
    }
    sc = _base(family_mental_health=fmh)
    res = sim.run_replication(sc, seed=1)
    assert res.kpis["starts_fmh"] > 50 and 0 < res.kpis["utilisation_fmh"] <= 1
    f = flow_balance(res.events, sc.run.duration_days)
    assert f["referrals"] == f["closed"] + f["withdrawn"] + f["escalated"] + f["open"]


def _queueing(**extra: object) -> sim.Scenario:
    sc = _base(**extra)
    rates = {f"referrals.sources.{k}.annual_rate": v.annual_rate * 1.6 for k, v in sc.referrals.sources.items()}
    return variant(sc, {**rates, "waiting.withdrawal_per_day": 0.01})


@pytest.mark.slow  # over 5 s: the fast run keeps the mechanism's known-answer tests
def test_parenting_groups_in_cohorts_reduce_withdrawal_while_waiting() -> None:
    pg = {
        "group_size": 12,
        "interval_days": 28,
        "duration_days": 70,
        "offer_prob": 0.9,
        "withdrawal_relative_reduction": 0.8,
        "escalation_relative_reduction": 0.0,
    }
    without = _queueing()
    with_groups = _queueing(parenting_groups=pg)
    res = sim.run_replication(with_groups, seed=2)
    ev = res.events
    starts = ev[(ev["stage"] == "parenting") & (ev["event"] == "start")]
    per_group = starts.groupby("time").size()
    assert len(per_group) > 5 and per_group.max() <= 12  # cohorts, never above the group size
    assert _mean(with_groups, "withdrawn_level3") < _mean(without, "withdrawn_level3")


@pytest.mark.slow  # over 5 s: the fast run keeps the mechanism's known-answer tests
def test_vacancies_cut_slots_and_pay() -> None:
    full = _queueing()
    vacant = _queueing(**{f"teams.{t}.vacancy_rate": 0.25 for t in ("washington", "east_west", "coalfields")})
    # round(6 x 0.75) = 4 early help workers (max 22) and round(5 x 0.75) = 4 seniors (max 10) in post
    assert vacant.teams["washington"].slots == 4 * 22 + 4 * 10
    assert _mean(vacant, "wait_level3_mean_days") > _mean(full, "wait_level3_mean_days")
    assert _mean(vacant, "cost_staff_gbp") < _mean(full, "cost_staff_gbp")


def test_turnover_handovers_lengthen_plans() -> None:
    steady = _base()
    churn = _base(**{"early_help.turnover_per_year": 0.5, "early_help.handover_delay_days": 30})
    assert _mean(churn, "open_level3_mean") > _mean(steady, "open_level3_mean")


def test_direct_mst_referrals_form_a_waiting_list() -> None:
    sc = _base(**{"referrals.sources.youth_offending": {"annual_rate": 80, "entry": "mst"}, "mst.referral_prob": 0.0})
    k = sim.run_replication(sc, seed=0).kpis
    assert k["referrals_source_youth_offending"] > 80 and k["starts_mst"] > 40
    assert k["queue_mst_mean"] > 1  # 80 a year against ~61 a year of capacity
    assert k["closed_mst_completed"] > 0


@pytest.mark.parametrize("key", ["fgc.coordinators", "family_mental_health.consultants"])
def test_zero_capacity_support_services_are_refused(key: str) -> None:
    fmh = {
        "consultants": 5,
        "caseload_cap": 10,
        "duration": {"dist": "fixed", "value": 90},
        "referral_prob": 0.2,
        "step_up_relative_reduction": 0.5,
    }
    with pytest.raises(sim.ScenarioError, match="zero capacity"):
        _base(fgc={**FGC, "offer_at": "first_contact"}, family_mental_health=fmh, **{key: 0})

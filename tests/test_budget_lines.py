"""Which budget line an edge-of-care service's costs fall on (``mst``/``fgc``/
``family_mental_health.budget_line``), exactly: the setting moves the service's staff and
per-case costs between the early help and social care totals and changes nothing else.

Known answers from the deterministic cost case of ``tests/support.py`` (window [50, 200],
2 FGC coordinators at GBP 45,000 in 2021 prices, uprated 3% a year to 2024), and Sunderland,
whose FGC is in social care until April 2018 (Sunderland-EH-2018 para 5.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import sim
from sim import kpis as K
from sim.config import scenario_from_dict
from tests.support import cost, costs_dict

REL = 1e-9
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
WINDOW_YEARS = 150 / 365
FGC_PER_YEAR = 2 * 45_000 * 1.03**3  # the cost case's coordinators, in 2024 prices
EARLY, SOCIAL = "cost_early_help_gbp", "cost_social_care_gbp"
EDGE = "cost_edge_of_care_social_care_gbp"


def _kpis(d: dict[str, Any]) -> dict[str, float]:
    return sim.run_replication(scenario_from_dict(d), seed=0).kpis


def test_a_service_on_the_social_care_line_moves_its_staff_cost_and_nothing_else() -> None:
    """FGC on social care: its two coordinators' cost a year x the window's years leaves
    ``cost_staff_gbp`` and the early help total and is the social care component
    ``cost_edge_of_care_social_care_gbp``; the total and every other KPI are unchanged (the
    setting is bookkeeping, not behaviour)."""
    base = _kpis(costs_dict("cin"))
    d = costs_dict("cin")
    d["fgc"]["budget_line"] = "social_care"
    moved = _kpis(d)
    fgc = FGC_PER_YEAR * WINDOW_YEARS
    assert base[EDGE] == 0
    assert moved[EDGE] == pytest.approx(fgc, rel=REL)
    assert moved["cost_staff_gbp"] == pytest.approx(base["cost_staff_gbp"] - fgc, rel=REL)
    assert moved[EARLY] == pytest.approx(base[EARLY] - fgc, rel=REL)
    assert moved[SOCIAL] == pytest.approx(base[SOCIAL] + fgc, rel=REL)
    assert moved["cost_total_gbp"] == pytest.approx(base["cost_total_gbp"], rel=REL)
    costs = {k.name for k in K.COST_COMPONENTS} | {n for n in base if n.startswith("cost_")}
    assert {n: v for n, v in moved.items() if n not in costs} == {n: v for n, v in base.items() if n not in costs}


def test_every_edge_of_care_service_can_be_on_social_care() -> None:
    """MST (2 therapists, GBP 60,000 in 2020 prices), FGC and FMH (1 consultant, GBP 55,000 in
    2024 prices) all on social care: the component holds the three staff costs exactly."""
    d = costs_dict("nfa")
    for block in ("mst", "fgc", "family_mental_health"):
        d[block]["budget_line"] = "social_care"
    k = _kpis(d)
    per_year = 2 * 60_000 * 1.03**4 + FGC_PER_YEAR + 55_000
    assert k[EDGE] == pytest.approx(per_year * WINDOW_YEARS, rel=REL)
    teams_and_front_door = (8 + 4) * 40_000 * 1.03**2 + 3.5 * 30_000 + 3 * 50_000 * 1.03
    assert k["cost_staff_gbp"] == pytest.approx(teams_and_front_door * WINDOW_YEARS, rel=REL)


def test_a_dated_move_of_the_budget_line_is_pro_rated_over_its_date() -> None:
    """FGC on social care until day 120 (2022-05-01), on early help after: the social care
    component pays the coordinators for the window's 70 days before the move, early help
    for its 80 days after; the total is as with no move."""
    d = costs_dict("nfa")
    d["fgc"]["budget_line"] = "social_care"
    d["changes"] = [{"date": "2022-05-01", "set": {"fgc.budget_line": "early_help"}}]
    k = _kpis(d)
    base = _kpis(costs_dict("nfa"))
    assert k[EDGE] == pytest.approx(FGC_PER_YEAR * 70 / 365, rel=REL)
    assert k["cost_staff_gbp"] == pytest.approx(base["cost_staff_gbp"] - FGC_PER_YEAR * 70 / 365, rel=REL)
    assert k["cost_total_gbp"] == pytest.approx(base["cost_total_gbp"], rel=REL)


def test_per_case_costs_follow_the_line_in_force_when_the_case_starts() -> None:
    """Every family reaches pre-proceedings (CP) and is referred for an FGC (10 coordinators)
    at GBP 900 a conference (2024 prices): conferences started while FGC is on social care are in the
    social care component, the rest in ``cost_cases_gbp``; all on early help, every one is."""
    d = costs_dict("cp")
    d["fgc"].update(referral_prob=1.0, coordinators=10)
    d["costs"]["per_case"]["fgc_conference"] = cost(900, 2024)
    base = _kpis(d)
    conferences = base["cost_cases_gbp"] / 900
    assert conferences > 5
    d["fgc"]["budget_line"] = "social_care"
    d["changes"] = [{"date": "2022-05-01", "set": {"fgc.budget_line": "early_help"}}]
    run = sim.run_replication(scenario_from_dict(d), seed=0)
    ev = run.events
    starts = ev[(ev["stage"] == "fgc") & (ev["event"] == "start") & (ev["time"] >= 50) & (ev["time"] < 200)]
    before = int((starts["time"] < 120).sum())
    assert 0 < before < conferences
    k = run.kpis
    assert k[EDGE] == pytest.approx(FGC_PER_YEAR * 5 * 70 / 365 + before * 900, rel=REL)  # 10 coordinators
    assert k["cost_cases_gbp"] == pytest.approx((conferences - before) * 900, rel=REL)


def test_the_budget_line_must_be_one_of_the_two() -> None:
    d = costs_dict("nfa")
    d["fgc"]["budget_line"] = "health"
    with pytest.raises(sim.ScenarioError, match=r"fgc\.budget_line"):
        scenario_from_dict(d)


# --------------------------------------------------------------------------- Sunderland
def _sunderland(path: str, **overrides: Any) -> sim.Scenario:
    return sim.load_scenario(
        CONFIGS / "sunderland" / path, {"run.duration_days": 730, "run.warmup_days": 180, **overrides}
    )


def test_sunderland_fgc_is_social_care_cost_until_it_moves_to_early_help() -> None:
    """Sunderland-EH-2018 para 5.1: FGC is in social care until April 2018. Its 4
    coordinators (GBP 45,000 each, 2024 prices: GBP 180,000 a year) are social care cost:
    against the same run with them counted in early help (the old accounting; the same
    seed, so the same families), early help cost a year is exactly GBP 180,000 lower and
    social care cost GBP 180,000 higher. In fgc_in_early_help they move to early help on
    1 April 2018 (day 365; the window is days 180-730), so the social care component pays
    them for the 185 days of the window before it."""
    assert _sunderland("baseline.yaml").fgc.budget_line == "social_care"  # type: ignore[union-attr]
    calibrated = sim.run_replication(_sunderland("calibrated.yaml"), seed=3).kpis
    old = sim.run_replication(_sunderland("calibrated.yaml", **{"fgc.budget_line": "early_help"}), seed=3).kpis
    year = "_per_year"
    assert calibrated[EDGE] == pytest.approx(180_000 * 550 / 365, rel=REL)
    assert old[EARLY + year] - calibrated[EARLY + year] == pytest.approx(180_000, rel=REL)
    assert calibrated[SOCIAL + year] - old[SOCIAL + year] == pytest.approx(180_000, rel=REL)
    assert calibrated["cost_total_gbp"] == pytest.approx(old["cost_total_gbp"], rel=REL)
    option = sim.run_replication(_sunderland("options/fgc_in_early_help.yaml"), seed=3).kpis
    assert option[EDGE] == pytest.approx(180_000 * 185 / 365, rel=REL)

"""Level 3 requests judged suitable for a partner-led Level 2 plan
(``front_door.level3_partner_led_prob``): a routing decision at the front door that leaves the
family's need as drawn, and Sunderland's ``more_partner_led_plans`` option modelled with it.

Statistical checks use Wilson score intervals at a Bonferroni-adjusted level (family-wise
false-alarm rate 0.001 per test, as ``test_mechanisms_routing.py``, whose front-door case this
repeats with the setting on), at fixed seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim
from sim.config import scenario_from_dict
from tests.support import wilson

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
ALPHA = 0.001
NEED = {"level1": 0.2, "level2": 0.3, "level3": 0.3, "level4": 0.2}
INSUFFICIENT = 0.1
MISCLASSIFY = 0.2
ROUTES = ("advice", "level2", "level3", "social_care", "panel")
PARTNER_LED = 0.3


def _base(days: float, rate: float) -> dict[str, Any]:
    return {
        "name": "routing",
        "run": {"start_date": "2022-01-01", "duration_days": days, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"sources": {"all": {"annual_rate": rate}}},
        "teams": {"town": {"workers": 10_000, "caseload_cap": 10}},
        "early_help": {"duration": {"dist": "fixed", "value": 1}},
    }


def _expected_routes(level: int, partner_led: float) -> dict[str, float]:
    """Where triage sends a family of true need ``level`` (1-4): panel with the
    insufficient-information probability; otherwise its own level, or with the
    misclassification probability one level up or down (half each), clamped to 1..4; then
    ``partner_led`` of the Level 3 share to Level 2."""
    p = dict.fromkeys(ROUTES, 0.0)
    p["panel"] = INSUFFICIENT
    rest = 1 - INSUFFICIENT
    name = dict(enumerate(ROUTES[:4], start=1))
    p[name[level]] += rest * (1 - MISCLASSIFY)
    p[name[min(4, level + 1)]] += rest * MISCLASSIFY / 2
    p[name[max(1, level - 1)]] += rest * MISCLASSIFY / 2
    p["level2"] += p["level3"] * partner_led
    p["level3"] *= 1 - partner_led
    return p


def _run(partner_led: float, plan: dict[str, Any] | None = None) -> Any:
    """A year at 6,000 requests through the front door (seed 11); ``plan``: the Level 3 plans'
    duration (default 1 day)."""
    d = _base(365, 6_000)
    if plan is not None:
        d["early_help"] = {"duration": plan}
    d["family"] = {"need_probs": NEED}
    d["front_door"] = {
        "staff": 1000,
        "triage_time": {"dist": "fixed", "value": 0.1},
        "insufficient_info_prob": INSUFFICIENT,
        "misclassification_prob": MISCLASSIFY,
        "level3_partner_led_prob": partner_led,
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
    return sim.run_replication(scenario_from_dict(d), seed=11)


def _decisions(res: Any) -> pd.DataFrame:
    """Each family's front-door decision, joined with its need."""
    ev = res.events
    dec = ev[(ev["stage"] == "front_door") & (ev["event"] == "end")][["family_id", "detail"]]
    return dec.merge(res.families[["family_id", "need"]], on="family_id", validate="one_to_one")


def _triage(partner_led: float) -> pd.DataFrame:
    """Front-door decisions of a year at 6,000 requests, joined with each family's need."""
    return _decisions(_run(partner_led))


def test_a_share_of_level3_triage_goes_to_a_partner_led_plan() -> None:
    """With ``level3_partner_led_prob`` 0.3, each family triaged to Level 3 (its own need, or
    misclassified into it) goes to Level 2 with probability 0.3 (``_expected_routes``). Each share's
    Wilson interval at 1 - ALPHA / 20 (4 levels x 5 decisions) holds it; zero cells are empty."""
    triage = _triage(PARTNER_LED)
    assert len(triage) > 5_000
    for level in (1, 2, 3, 4):
        p = _expected_routes(level, PARTNER_LED)
        sub = triage[triage["need"] == level]["detail"].astype(str)
        for route in ROUTES:
            k = int((sub == route).sum())
            if p[route] == 0:
                assert k == 0, (level, route)
                continue
            lo, hi = wilson(k, len(sub), ALPHA / 20)
            assert lo <= p[route] <= hi, (level, route, k / len(sub), p[route])


def test_the_routing_leaves_the_need_drawn_unchanged() -> None:
    """The same seed with and without the setting: every family's need is the same (it is a
    decision about the request, not about the family), and only Level 3 triage moves."""
    on, off = _triage(PARTNER_LED), _triage(0.0)
    both = on.merge(off, on="family_id", suffixes=("_on", "_off"), validate="one_to_one")
    assert len(both) == len(on) == len(off)
    assert (both["need_on"] == both["need_off"]).all()
    moved = both[both["detail_on"].astype(str) != both["detail_off"].astype(str)]
    assert len(moved) > 100
    assert (moved["detail_off"].astype(str) == "level3").all() and (moved["detail_on"].astype(str) == "level2").all()


def test_families_left_at_level3_keep_their_later_draws() -> None:
    """The partner-led judgement reads the triage's own uniform, no extra draw: with the
    setting on and off (same seed, Level 3 plans of exponential length, so each plan's length
    and outcome are draws of their own), every family triaged to Level 3 in both runs has the
    same event rows, times included: its later draws stay paired with the baseline."""
    plan = {"dist": "exponential", "mean": 30}
    on, off = _run(PARTNER_LED, plan), _run(0.0, plan)
    dec = _decisions(on).merge(_decisions(off), on="family_id", suffixes=("_on", "_off"))
    both = (dec["detail_on"].astype(str) == "level3") & (dec["detail_off"].astype(str) == "level3")
    kept = dec.loc[both, "family_id"]
    assert len(kept) > 1_000

    def rows(res: Any) -> pd.DataFrame:
        ev = res.events
        ev = ev[ev["family_id"].isin(kept)].astype({c: str for c in ("event", "stage", "service", "detail")})
        return ev.sort_values(["family_id", "time", "event"], kind="stable").reset_index(drop=True)

    mine = rows(on)
    assert (mine["stage"] == "level3").sum() >= 2 * len(kept)  # their plans ran: start and end rows
    pd.testing.assert_frame_equal(mine, rows(off))


def test_a_partner_led_route_makes_partner_plans_reachable() -> None:
    """Families of need 3 only, no misclassification: Level 2 is reached only through the
    setting, so a scenario with it and a zero partner capacity is refused naming the field."""
    d = _base(365, 100)
    d["family"] = {"need_probs": {"level1": 0, "level2": 0, "level3": 1, "level4": 0}}
    d["front_door"] = {
        "staff": 1,
        "triage_time": {"dist": "fixed", "value": 0.1},
        "insufficient_info_prob": 0,
        "misclassification_prob": 0,
        "level3_partner_led_prob": 0.2,
    }
    d["partner_plans"] = {"duration": {"dist": "fixed", "value": 1}, "capacity": 0}
    with pytest.raises(sim.ScenarioError, match=r"partner_plans\.capacity: zero capacity"):
        scenario_from_dict(d)
    d["front_door"]["level3_partner_led_prob"] = 0
    scenario_from_dict(d)  # no route to Level 2: its capacity does not matter


def test_sunderland_more_partner_led_plans_routes_requests_not_needier_families() -> None:
    """more_partner_led_plans against calibrated.yaml, one year (90 days warm-up), the same
    seed (common random numbers): every family's need and risk score are the same draws (the
    option changed family.need_probs, so they were not), and need-3 families' requests reach
    a partner-led plan from the front door far more often. Expected share of a need-3
    family's front-door decisions going to Level 2: 0.9 (not to panel) x (0.1 / 2 misclassified
    down + 0.9 x 0.26 judged suitable) = 0.2556 with the option, 0.045 without; each in its
    Wilson interval at 1 - ALPHA / 2."""
    runs = {}
    for path in ("calibrated.yaml", "options/more_partner_led_plans.yaml"):
        sc = sim.load_scenario(CONFIGS / "sunderland" / path, {"run.duration_days": 365, "run.warmup_days": 90})
        runs[path] = sim.run_replication(sc, seed=2)
    base, option = runs["calibrated.yaml"], runs["options/more_partner_led_plans.yaml"]
    cols = ["family_id", "need", "risk"]
    drawn = [res.families[cols].reset_index(drop=True) for res in (base, option)]
    pd.testing.assert_frame_equal(*drawn)
    for res, p in ((base, 0.9 * 0.05), (option, 0.9 * (0.05 + 0.9 * 0.26))):
        ev = res.events
        dec = ev[(ev["stage"] == "front_door") & (ev["event"] == "end")][["family_id", "detail"]]
        need3 = dec.merge(res.families[["family_id", "need"]], on="family_id").query("need == 3")
        k, n = int((need3["detail"].astype(str) == "level2").sum()), len(need3)
        lo, hi = wilson(k, n, ALPHA / 2)
        assert lo <= p <= hi, (k, n, p)

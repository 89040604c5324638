"""West Sussex (WestSussex-IPEH-2019) and Worcestershire (Worcestershire-EH-2015): scenarios,
options and what they show.

Short runs with few paired replications (common random numbers), so the whole file stays
slow (--runslow) where they use the multi-year fixtures. Thresholds are directions and the budget envelopes, never
numbers read off a run.

West Sussex, what the model finds and why (the docstrings of the tests say which direction
each one asserts):

* the redesign (universal and Level 1-2 provision cut, Level 2 left to partners with less
  capacity, more Level 3 key workers allocated by risk, parenting groups while waiting)
  fits each envelope, starts fewer Level 2 plans, and removes the short Level 3 waiting
  list the baseline has;
* its effect on social care demand is *not* the fall the report hopes for
  (WestSussex-IPEH-2019 paras 6.1, 8.2: "reduces the demand for children's social care"): against the 2019/20 baseline,
  referrals to social care rise a little, because families now queue for the reduced Level
  2 capacity and some escalate, while the Level 3 escalations the extra key workers remove
  were few (the baseline's Level 3 list was short). The model gives universal provision no
  preventive effect, so it cannot show a benefit of cutting it or a harm beyond Level 2;
* against cutting the same GBP 12.69m in proportion, the redesign clearly lowers social
  care demand: that is what the shift to Level 3 buys.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis import paired_differences, summarise
from sim.backends import iter_results
from sim.config import timeline
from sim.metrics import by_locality
from tests.conftest import CONFIGS

WS = CONFIGS / "west_sussex"
WO = CONFIGS / "worcestershire"
REPS = 3
WS_SHORT = {"run.duration_days": 365 + 365, "run.warmup_days": 365}  # one year measured
# the five projection years 2015/16-2019/20 after one warm-up year (the bundled scenario warms up for five)
WO_SHORT = {"run.start_date": "2014-04-01", "run.duration_days": 365 * 6, "run.warmup_days": 365}
DEPRIVED = ("redditch", "wyre_forest", "worcester")


PHASED = WS / "options" / "redesign_phased.yaml"  # dated changes in 2019 and 2020: run whole (test below)
DATED = (PHASED, WS / "options" / "social_workers_5_5m_with_redesign.yaml")


def _files(folder: Path) -> list[Path]:
    return [folder / "baseline.yaml", *sorted(p for p in (folder / "options").glob("*.yaml") if p not in DATED)]


@pytest.mark.parametrize("path", [*_files(WS), *DATED, *_files(WO)], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_scenario_validates_and_runs(path: Path) -> None:
    """Every council scenario loads, validates and runs a short replication (from a month
    before its first dated change to two months after its last, if it has any)."""
    sc = sim.load_scenario(path)
    short: dict[str, object] = {"run.duration_days": 120, "run.warmup_days": 30}
    if sc.changes:
        first, last = min(c.date for c in sc.changes), max(c.date for c in sc.changes)
        start = first - datetime.timedelta(days=30)
        days = (last - start).days + 60
        short = {"run.start_date": start.isoformat(), "run.duration_days": days, "run.warmup_days": 30}
    sc = sim.load_scenario(path, short)
    res = sim.run_replication(sc, rep=0, seed=1)
    assert res.kpis["referrals_total"] > 0
    budgets = [state.costs.budget_gbp_per_year or 0.0 for _, state in timeline(sc)]
    if sc.changes:  # the time average over the window, between the budgets in force
        assert min(budgets) < res.kpis["budget_gbp_per_year"] < max(budgets)
    else:
        assert res.kpis["budget_gbp_per_year"] == sc.costs.budget_gbp_per_year


# --------------------------------------------------------------------------- West Sussex
@pytest.mark.parametrize("path", [*_files(WS), *DATED], ids=lambda p: p.name)
def test_ws_window_is_the_three_financial_years(path: Path) -> None:
    """Every West Sussex scenario measures 1 April 2019 to 31 March 2022 (the para 6.3 table's
    2019/20-2021/22), whole: the 2018/19 warm-up ends on 31 March 2019 and the run on 31 March
    2022, the leap day of 29 February 2020 included (1,096 days, not 1,095)."""
    run = sim.load_scenario(path).run
    assert run.start_date + datetime.timedelta(days=run.warmup_days) == datetime.date(2019, 4, 1)
    assert run.start_date + datetime.timedelta(days=run.duration_days) == datetime.date(2022, 4, 1)


@pytest.mark.slow  # 10 years, 4 replications: about a minute
def test_ws_key_worker_list_is_steady_over_ten_years() -> None:
    """The baseline's header: key workers sized for a short list that does not grow. Over 10
    years (4 replications, seed 0) MSER-5 finds a steady state for the Level 3 list within
    the run (no drift, a truncation point below its cap), teams are busy but not saturated
    and the mean wait is short.

    Bounds: the 95% CI of the teams' mean utilisation lies within 0.90-0.98 (measured about
    0.948, half-width about 0.02; at 23 key workers a team it was 0.993, the list growing to
    about 90 families); the 95% CI of the mean wait for a key worker is below 2 days (measured
    0.59, half-width about 0.44; at 23 a team 8.6 days, half-width about 3.8)."""
    from sim.experiment import diagnostics
    from sim.vocab import Stage
    from sim.warmup import diagnosed

    sc = sim.load_scenario(WS / "baseline.yaml", {"run.duration_days": 3650})
    batch = sim.run_batch(sc, 4, seed=0, backend="process", workers=2)
    verdict = diagnosed(diagnostics(batch))[1][Stage.LEVEL3]
    assert verdict.drift == "" and not verdict.at_cap, verdict
    reps = batch.replications
    busy = pd.DataFrame({"busy": sum(reps[f"utilisation_team_{t}"] for t in sc.teams) / len(sc.teams)})
    busy_ci = summarise(busy, ["busy"]).set_index("kpi").loc["busy"]
    assert busy_ci["ci_low"] > 0.90 and busy_ci["ci_high"] < 0.98, busy_ci
    wait = batch.summary.set_index("kpi").loc["wait_level3_mean_days"]
    assert wait["ci_high"] < 2.0, wait


@pytest.fixture(scope="module")
def ws() -> sim.CompareResult:
    base = sim.load_scenario(WS / "baseline.yaml", WS_SHORT)
    options = [sim.load_scenario(p, WS_SHORT) for p in _files(WS)[1:]]
    return sim.compare(base, options, REPS, seed=0, backend="process", workers=2)


def _diff(result: sim.CompareResult, option: str, kpi: str) -> pd.Series:
    d = result.differences
    return d[(d["option"] == option) & (d["kpi"] == kpi)].iloc[0]


def _mean(result: sim.CompareResult, name: str, kpi: str) -> float:
    return float(result.batches[name].replications[kpi].mean())


@pytest.mark.slow
def test_ws_baseline_cost_is_the_2019_20_budget(ws: sim.CompareResult) -> None:
    """Calibration: early help cost a year within 10% of GBP 17.59m (WestSussex-IPEH-2019 para 6.3)."""
    cost = _mean(ws, "west_sussex_baseline", "cost_early_help_gbp_per_year")
    assert ws.batches["west_sussex_baseline"].scenario.costs.budget_gbp_per_year == 17_590_000
    assert abs(cost - 17_590_000) <= 0.10 * 17_590_000


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "envelope"),
    [
        ("ws_redesign_2019_20", 14_640_000),
        ("ws_redesign_2020_21", 12_690_000),
        ("ws_cut_without_redesign_2020_21", 12_690_000),
        ("ws_redesign_2020_21_partners_hold_level2", 12_690_000),
    ],
)
def test_ws_options_fit_their_envelope(ws: sim.CompareResult, name: str, envelope: int) -> None:
    """Each option's early help cost a year is at or under its envelope (WestSussex-IPEH-2019 para 6.3
    table: GBP 14.64m in 2019/20, 12.69m from 2020/21), in every replication."""
    batch = ws.batches[name]
    assert batch.scenario.costs.budget_gbp_per_year == envelope
    assert (batch.replications["cost_early_help_gbp_per_year"] <= envelope).all()
    assert (batch.replications["cost_early_help_over_budget_gbp_per_year"] <= 0).all()


@pytest.mark.slow  # over 5 s: the fast run keeps the mechanism's known-answer tests
def test_ws_phased_redesign_costs_each_financial_year_within_3_percent_of_its_budget() -> None:
    """The redesign on its dates (issue 10, must-show 5): early help cost in 2019/20 within 3% of
    GBP 14.64m and in 2020/21 within 3% of GBP 12.69m (WestSussex-IPEH-2019 para 6.3 table), in
    every replication; and 2018/19's staffing (the warm-up) is what changes on 1 April 2019.

    Why 3% holds in every replication and not only on average: staff are paid by post, so the
    cost of a year varies between replications only through per-plan costs (sd about GBP 5k,
    0.04% of the budget, measured over 4 replications); the 3% is the issue's tolerance."""
    sc = sim.load_scenario(PHASED, {"run.duration_days": 365 * 3})
    # the window opens on 1 April 2019; its 365-day years: year2 opens on 31 March 2020 (29 February)
    assert str(sc.run.start_date) == "2018-04-01" and sc.run.warmup_days == 365
    reps = sim.run_batch(sc, replications=2, seed=0).replications
    for year, budget in ((1, 14_640_000), (2, 12_690_000)):
        cost = reps[f"cost_early_help_gbp_year{year}"]
        assert (abs(cost - budget) <= 0.03 * budget).all(), (year, cost.tolist())
    # the 2019/20 cost is the first step's, not the 2018/19 service's (GBP 17.59m)
    assert (reps["cost_early_help_gbp_year1"] < 0.9 * 17_590_000).all()
    assert reps["budget_gbp_per_year"].iloc[0] == pytest.approx((14_640_000 + 12_690_000) / 2, rel=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ws_redesign_2019_20", "ws_redesign_2020_21"])
def test_ws_redesign_shifts_activity_to_level3(ws: sim.CompareResult, name: str) -> None:
    """The shift the report describes (WestSussex-IPEH-2019 paras 4.1-4.2): fewer Level 2 plans
    started, more Level 3 capacity, shorter waits for a key worker and less Level 3 utilisation."""
    base, opt = ws.batches["west_sussex_baseline"].scenario, ws.batches[name].scenario
    assert sum(t.slots for t in opt.teams.values()) > sum(t.slots for t in base.teams.values())
    assert sum(t.other_fte for t in opt.teams.values()) < sum(t.other_fte for t in base.teams.values())
    level2 = _diff(ws, name, "starts_level2")
    assert level2["diff_mean"] < 0 and level2["distinguishable"]
    wait = _diff(ws, name, "wait_level3_mean_days")
    assert wait["option_mean"] < wait["base_mean"]
    assert _diff(ws, name, "utilisation_team_north")["ci_high"] < 0
    assert _diff(ws, name, "escalated_level3")["diff_mean"] <= 0


@pytest.mark.slow
def test_ws_redesign_social_care_demand_against_baseline(ws: sim.CompareResult) -> None:
    """Direction found, against the report's hope (WestSussex-IPEH-2019 paras 6.1, 8.2): the redesign
    sends slightly *more* families to social care than the 2019/20 baseline, not fewer.

    Why: families now wait for the reduced Level 2 capacity (none waited in the baseline)
    and some escalate while waiting, while the extra key workers remove only the few
    escalations from the baseline's short Level 3 list; universal provision has no modelled
    preventive effect. The rise is a few per cent of referrals to social care and entries to
    care barely move (experiments/west_sussex.py, 20 replications). With the baseline's Level
    2 capacity kept by partners (the sensitivity option) no Level 2 queue forms and fewer
    families escalate while waiting than under the redesign as specified."""
    name = "ws_redesign_2020_21"
    level2 = _diff(ws, name, "escalated_level2")
    assert level2["base_mean"] == 0 and level2["option_mean"] > 0
    assert level2["diff_mean"] > -_diff(ws, name, "escalated_level3")["diff_mean"]
    assert _diff(ws, name, "step_ups_while_waiting")["diff_mean"] > 0
    assert _diff(ws, name, "to_social_care_total")["diff_mean"] > 0
    held = "ws_redesign_2020_21_partners_hold_level2"
    assert _diff(ws, held, "escalated_level2")["option_mean"] == 0
    assert (
        _diff(ws, held, "step_ups_while_waiting")["diff_mean"] < _diff(ws, name, "step_ups_while_waiting")["diff_mean"]
    )


@pytest.mark.slow
def test_ws_redesign_lowers_social_care_demand_against_a_flat_cut(ws: sim.CompareResult) -> None:
    """At the same GBP 12.69m, the redesign sends fewer families to social care and has far
    shorter waits for a key worker than cutting every budget line in proportion; the flat
    cut itself raises social care demand against the baseline."""
    cut, red = ws.batches["ws_cut_without_redesign_2020_21"], ws.batches["ws_redesign_2020_21"]
    buys = paired_differences(cut.replications, red.replications).set_index("kpi")
    assert buys.loc["to_social_care_total", "ci_high"] < 0
    assert buys.loc["step_ups_total", "ci_high"] < 0
    assert buys.loc["wait_level3_mean_days", "ci_high"] < 0
    flat = _diff(ws, "ws_cut_without_redesign_2020_21", "to_social_care_total")
    assert flat["ci_low"] > 0


# --------------------------------------------------------------------------- Worcestershire
def _level3_wait_by_locality(events: pd.DataFrame, warmup: float) -> dict[str, float]:
    """Mean wait for a key worker of families joining the list after the warm-up, by locality."""
    l3 = events[events["stage"] == "level3"]
    joins = l3[l3["event"] == "join"][["family_id", "time", "locality"]].copy()
    ends = l3[l3["event"].isin(("start", "leave"))][["family_id", "time", "event"]].copy()
    joins["n"] = joins.groupby("family_id").cumcount()
    ends["n"] = ends.groupby("family_id").cumcount()
    pairs = joins.merge(ends, on=["family_id", "n"], suffixes=("_join", "_end"))
    pairs = pairs[(pairs["time_join"] >= warmup) & (pairs["event"] == "start")]
    waits = (pairs["time_end"] - pairs["time_join"]).groupby(pairs["locality"], observed=True).mean()
    return {str(k): float(v) for k, v in waits.items()}


def _wo_replication(path: Path, rep: int) -> tuple[str, dict[str, float]]:
    """One short replication: its KPIs plus the mean wait by district (``wait_<district>``)."""
    sc = sim.load_scenario(path, WO_SHORT)
    res = sim.run_replication(sc, rep=rep, seed=0)
    waits = _level3_wait_by_locality(res.events, sc.run.warmup_days)
    groups = {k.name: v for k, v in by_locality(res.events, res.scenario).items()}
    return sc.name, {"rep": rep, **res.kpis, **{f"wait_{k}": v for k, v in waits.items()}, **groups}


@pytest.fixture(scope="module")
def wo() -> dict[str, pd.DataFrame]:
    """Replications of the three Worcestershire scenarios (same seeds), from the event logs."""
    tasks = [(path, rep) for path in _files(WO) for rep in range(REPS)]
    rows: dict[str, list[dict[str, float]]] = {}
    for name, row in iter_results(_wo_replication, tasks, "process", 2):
        rows.setdefault(name, []).append(row)
    return {name: pd.DataFrame(r).sort_values("rep").reset_index(drop=True) for name, r in rows.items()}


@pytest.mark.slow
def test_wo_demand_grows_over_five_years(wo: dict[str, pd.DataFrame]) -> None:
    """Worcestershire-EH-2015 para 12: need for early help forecast to grow over five years."""
    base = wo["worcestershire_baseline"]
    assert "referrals_year5" in base and "referrals_year6" not in base
    assert (base["referrals_year5"] > base["referrals_year1"]).all()
    assert base["cost_social_care_gbp_year5"].mean() > base["cost_social_care_gbp_year1"].mean()


@pytest.mark.slow
def test_wo_budget_cut_saves_about_4_5m_by_2017_18_and_raises_social_care_demand(wo: dict[str, pd.DataFrame]) -> None:
    """Worcestershire-EH-2015 para 9: the 0-19 budget falls by about GBP 4.5m from GBP 7.7m by 2017/18,
    phased in three equal steps (ASSUMPTION, options/budget_cut.yaml). Early help cost falls
    by GBP 1.5m in 2015/16, 3.0m in 2016/17 and 4.5m in each year from 2017/18 (each within
    15%: staff are paid by post, so the saving is nearly deterministic and 15% is the rounding
    of posts to whole key workers); waits for a key worker lengthen and more families go to
    social care."""
    base, cut = wo["worcestershire_baseline"], wo["worcs_budget_cut"]
    assert base["cost_early_help_gbp_per_year"].max() <= 7_700_000
    d = paired_differences(base, cut).set_index("kpi")
    for year, saving in ((1, 1_500_000), (2, 3_000_000), (3, 4_500_000), (4, 4_500_000), (5, 4_500_000)):
        diff = d.loc[f"cost_early_help_gbp_year{year}", "diff_mean"]
        assert abs(diff + saving) <= 0.15 * saving, (year, diff)
    assert d.loc["wait_level3_mean_days", "ci_low"] > 0
    assert d.loc["to_social_care_total", "ci_low"] > 0
    assert d.loc["step_ups_total", "ci_low"] > 0


@pytest.mark.slow
def test_wo_targeting_moves_waits_towards_the_deprived_districts(wo: dict[str, pd.DataFrame]) -> None:
    """Same money as the untargeted cut; sharing key workers by need shortens waits in the
    three most deprived districts (Worcestershire-EH-2015 para 12's most deprived 40%) and lengthens them
    in the other three."""
    cut, tgt = wo["worcs_budget_cut"], wo["worcs_targeted_deprived"]
    assert np.allclose(cut["cost_early_help_gbp_per_year"], tgt["cost_early_help_gbp_per_year"])
    d = paired_differences(cut, tgt).set_index("kpi")
    for loc in DEPRIVED:
        assert d.loc[f"wait_{loc}", "diff_mean"] < 0, loc
    for loc in ("wychavon", "bromsgrove", "malvern_hills"):
        assert d.loc[f"wait_{loc}", "diff_mean"] > 0, loc


@pytest.mark.slow
def test_wo_targeting_gains_in_the_deprived_group_and_losses_in_the_other(wo: dict[str, pd.DataFrame]) -> None:
    """The by-deprivation-group KPIs (localities flagged ``deprived``, Worcestershire-EH-2015 para 12's most
    deprived 40%): against the untargeted cut, targeting shortens the wait for a key worker and
    cuts withdrawals in the deprived group and lengthens and raises them in the other, each
    with a paired 95% CI that excludes zero (issue 11: who gains and who loses)."""
    from sim import kpis as K
    from sim.vocab import DEPRIVATION_GROUPS, Stage

    deprived, other = DEPRIVATION_GROUPS
    d = paired_differences(wo["worcs_budget_cut"], wo["worcs_targeted_deprived"]).set_index("kpi")
    for kpi in (K.wait(Stage.LEVEL3, "mean"), K.withdrawn(Stage.LEVEL3)):
        assert d.loc[K.in_locality(kpi, deprived).name, "ci_high"] < 0, kpi.name
        assert d.loc[K.in_locality(kpi, other).name, "ci_low"] > 0, kpi.name


@pytest.mark.slow
def test_ws_social_workers_5_5m_lower_caseloads(ws: sim.CompareResult) -> None:
    """WestSussex-IPEH-2019 para 6.2: GBP 5.5m for about 71 more social workers (325 -> 396 case-holding
    FTE). With the same children, the average caseload per social worker falls by about
    325/396 (from about 19.3 to 15.9): the paired CI must exclude zero and the fall must be
    within 5% of that ratio (the children open differ little between the two, same seeds);
    the early help side is untouched, so early help cost is identical."""
    d = _diff(ws, "ws_social_workers_5_5m", "caseload_social_worker")
    assert d["ci_high"] < 0
    assert d["option_mean"] / d["base_mean"] == pytest.approx(325 / 396, rel=0.05)
    cost = _diff(ws, "ws_social_workers_5_5m", "cost_early_help_gbp_per_year")
    assert cost["diff_mean"] == 0


@pytest.mark.slow
def test_ws_social_workers_5_5m_shorten_waits_and_raise_timeliness() -> None:
    """Issue 10 must-show 5: the GBP 5.5m option shows its effect on social care waits and
    timeliness. ``ehsim compare`` of the baseline and the option, full horizon (three years
    measured), 10 paired replications (seed 0): at the baseline's 325 FTE (about 19.3 children
    each, ASSUMPTION) social workers are the bottleneck, so the mean allocation wait falls
    (paired 95% CI below 0) and the share of assessments within 45 working days rises (CI above
    0); the baseline's share is below England's 85.7% (DfE-CIN-2025 C2) and within the
    issue's 10 points of it; the option's 71 FTE cost GBP 5.5m a year within 1% (71 x GBP
    77,376: the configs' GBP 89,700 in 2024 prices at 3% a year to 2019), counted once
    (cost_social_workers_gbp is 0 in the baseline), and the cost parts add up to the total.

    Why 10 replications: near saturation the wait varies a lot between replications
    (measured: sd about 1.75 days around a mean of about 1.45), so 10 pairs give a t interval
    of the difference of half-width about 1.25 days."""
    from sim import kpis as K

    base = sim.load_scenario(WS / "baseline.yaml")
    opt = sim.load_scenario(WS / "options" / "social_workers_5_5m.yaml")
    res = sim.compare(base, [opt], 10, seed=0, backend="process", workers=2)
    wait = _diff(res, opt.name, "wait_social_worker_mean_days")
    assert wait["ci_high"] < 0 and wait["base_mean"] > 0.5, wait
    on_time = _diff(res, opt.name, "assessments_within_45_working_days_share")
    assert on_time["ci_low"] > 0, on_time
    assert 0.857 - 0.10 < on_time["base_mean"] < 0.857, on_time
    cost = _diff(res, opt.name, "cost_social_workers_gbp")
    years = base.run.duration_days / 365 - base.run.warmup_days / 365
    assert cost["base_mean"] == 0
    assert cost["option_mean"] / years == pytest.approx(71 * 89_700 / 1.03**5, rel=0.01)
    reps = res.batches[opt.name].replications
    parts = sum(reps[k.name] for k in K.COST_COMPONENTS)
    assert np.allclose(parts, reps["cost_total_gbp"], rtol=1e-9)

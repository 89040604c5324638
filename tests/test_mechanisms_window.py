"""Mechanism tests (known answers, exact): the KPI window [warm-up, end] with a non-zero
warm-up. Counts are of events inside the window, waits are of families who joined the
queue inside it, time averages are over it."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import sim
from sim.config import scenario_from_dict
from sim.metrics import by_locality


def _dd1_run(warmup: float) -> sim.ReplicationResult:
    """D/D/1: a referral every 10 days straight to a team with one slot, plans of exactly
    15 days, 100 days."""
    d: dict[str, Any] = {
        "name": "window",
        "run": {"start_date": "2022-01-01", "duration_days": 100, "warmup_days": warmup},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"process": "deterministic", "sources": {"all": {"annual_rate": 36.5, "entry": "level3"}}},
        "teams": {"town": {"workers": 1, "caseload_cap": 1}},
        "early_help": {"duration": {"dist": "fixed", "value": 15}},
        "costs": {"staff": {"key_worker_per_year": {"gbp": 36_500, "price_year": 2024}}},
    }
    return sim.run_replication(scenario_from_dict(d), seed=0)


def _dd1(warmup: float) -> dict[str, float]:
    return _dd1_run(warmup).kpis


def test_window_rule_on_a_hand_computed_trace() -> None:
    """By hand. Family i (0..8) is referred and joins at 10 (i + 1). The slot serves them in
    turn, each for 15 days: f0 10-25, f1 25-40, f2 40-55, f3 55-70, f4 70-85, f5 85-100
    (still open at the end: events at the horizon are not run); f6, f7, f8 (joined 70, 80,
    90) are still waiting.

    Window [45, 100], 55 days:
    * referrals at 50, 60, 70, 80, 90: 5 (those at 10..40 are before the warm-up);
    * waits of families who joined in the window and were served: f4 (50 -> 70) and f5
      (60 -> 85): mean 22.5, median 22.5, 2 served. f3 joined at 40, before the warm-up,
      and is excluded although it started at 55 (including it would give a mean of 20);
    * plans started in the window: f3 (55), f4 (70), f5 (85): 3; closed with outcomes met:
      exits at 55, 70, 85: 3 (those at 25 and 40 are before the warm-up);
    * still waiting at the end: f6, f7, f8 for 30, 20, 10 days: 3, mean 20;
    * queue length over the window: 1 on [45, 50), 2 on [50, 55), 1 on [55, 60),
      2 on [60, 80), 3 on [80, 85), 2 on [85, 90), 3 on [90, 100]:
      5 + 10 + 5 + 40 + 15 + 10 + 30 = 115 family-days, mean 115 / 55;
    * the slot is busy all through the window: utilisation 1, one open plan on average;
    * staff: one key worker at 36,500 a year for 55 days = 5,500.
    """
    k = _dd1(45)
    expected = {
        "window_days": 55,
        "referrals_total": 5,
        "families_referred": 5,
        "wait_level3_served": 2,
        "wait_level3_mean_days": 22.5,
        "wait_level3_median_days": 22.5,
        "starts_level3": 3,
        "closed_outcomes_met": 3,
        "waiting_level3_at_end": 3,
        "waiting_level3_at_end_mean_days": 20,
        "queue_level3_mean": 115 / 55,
        "utilisation_team_town": 1,
        "open_level3_mean": 1,
        "open_level3_at_end": 1,
        "cost_staff_gbp": 5_500,
    }
    assert {name: k[name] for name in expected} == pytest.approx(expected, rel=1e-12)


def test_flows_on_the_hand_computed_trace() -> None:
    """The flow table of the same trace, window [45, 100]: at day 45, f2 is in its plan
    (40-55) and f3 waits (joined at 40): 2 in Level 3 at the start; 5 referred into Level 3
    in the window (50..90); 3 leave with outcomes met (55, 70, 85); at the end f5 is in its
    plan and f6-f8 wait: 4. The node balances: 2 + 5 = 3 + 4. Every other flow is 0."""
    k = _dd1(45)
    expected = {
        "flow_level3_at_start": 2,
        "flow_referred_level3": 5,
        "flow_level3_exit_outcomes_met": 3,
        "flow_level3_at_end": 4,
    }
    flows = {name: v for name, v in k.items() if name.startswith("flow_")}
    assert {name: flows.pop(name) for name in expected} == expected
    assert set(flows.values()) == {0.0}


def test_without_warmup_the_same_trace_counts_everything() -> None:
    """The same trace with warm-up 0: 9 referrals; waits 0, 5, 10, 15, 20, 25 for the six
    served (mean 12.5); 5 closed; busy from day 10 (utilisation 90 / 100); time spent
    waiting: f1 20-25, f2 30-40, f3 40-55, f4 50-70, f5 60-85, f6 70-100, f7 80-100,
    f8 90-100 = 5 + 10 + 15 + 20 + 25 + 30 + 20 + 10 = 135 family-days, mean 1.35;
    staff 36,500 x 100 / 365 = 10,000."""
    k = _dd1(0)
    expected = {
        "window_days": 100,
        "referrals_total": 9,
        "wait_level3_served": 6,
        "wait_level3_mean_days": 12.5,
        "starts_level3": 6,
        "closed_outcomes_met": 5,
        "queue_level3_mean": 1.35,
        "utilisation_team_town": 0.9,
        "cost_staff_gbp": 10_000,
    }
    assert {name: k[name] for name in expected} == pytest.approx(expected, rel=1e-12)


def test_window_rule_with_withdrawals_and_a_busy_queue() -> None:
    """A stochastic run with withdrawal while waiting and a 200-day warm-up, every count
    recomputed from the log: referrals, withdrawals and starts are those at or after the
    warm-up; served waits are of families who joined at or after it (the families who
    joined before and were served after are excluded, and there are many of them)."""
    lo = 200.0
    d: dict[str, Any] = {
        "name": "window_busy",
        "run": {"start_date": "2022-01-01", "duration_days": 600, "warmup_days": lo},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"sources": {"all": {"annual_rate": 730, "entry": "level3"}}},
        "teams": {"town": {"workers": 2, "caseload_cap": 10}},
        "early_help": {"duration": {"dist": "exponential", "mean": 15}},
        "waiting": {"withdrawal_per_day": 0.02},
    }
    res = sim.run_replication(scenario_from_dict(d), seed=3)
    ev, k = res.events, res.kpis
    q = ev[ev["stage"] == "level3"]
    joins = q[q["event"] == "join"].set_index("family_id")["time"]
    starts = q[q["event"] == "start"].set_index("family_id")["time"]
    leaves = q[q["event"] == "leave"]
    served = starts.index.intersection(joins.index)
    late = served[joins[served] >= lo]
    early_served_late = served[(joins[served] < lo) & (starts[served] >= lo)]
    assert len(early_served_late) > 5 and (leaves["time"] < lo).sum() > 10
    refs = ev[ev["event"] == "referral"]
    assert k["referrals_total"] == (refs["time"] >= lo).sum() < len(refs)
    assert k["withdrawn_level3"] == ((leaves["time"] >= lo) & (leaves["detail"] == "withdrawn")).sum()
    assert k["starts_level3"] == (starts >= lo).sum()
    assert k["wait_level3_served"] == len(late)
    assert k["wait_level3_mean_days"] == pytest.approx((starts[late] - joins[late]).mean(), rel=1e-12)


def test_monthly_series_time_averages_the_hand_computed_trace() -> None:
    """The monthly series of the D/D/1 trace above, by hand. Months are m = 365 / 12 days
    from day 0; the run ends at 100, so the last month is [3m, 100], 8.75 days.

    * open Level 3 plans: 0 until day 10, then 1 to the end (one plan after another):
      month 1 averages (m - 10) / m, the others 1;
    * Level 3 queue: 1 on [20, 25), 1 on [30, 50), 2 on [50, 55), 1 on [55, 60),
      2 on [60, 80), 3 on [80, 85), 2 on [85, 90), 3 on [90, 100]. Family-days in each
      month: 5 + (m - 30); (40 - m) + 10 + 10 + 5 + 2 (2m - 60) = 3m - 55;
      2 (70 - 2m) + 20 + 15 + 10 + 3 (3m - 90) = 5m - 85; 3 x 8.75.
    The warm-up plays no part (the series covers the whole run). Also catches a series
    sampled at month starts instead of averaged (0, 1, 2, 3 for the queue)."""
    m = 365 / 12
    series = _dd1_run(45).series
    assert series["day"].tolist() == pytest.approx([0, m, 2 * m, 3 * m], rel=1e-12)
    assert series["date"].iloc[0] == pd.Timestamp("2022-01-01")
    assert series["date"].iloc[3] == pd.Timestamp("2022-04-02")  # day 3m = 91.25 is on day 91
    assert series["open_level3"].tolist() == pytest.approx([(m - 10) / m, 1, 1, 1], rel=1e-12)
    waiting = [(5 + m - 30) / m, (3 * m - 55) / m, (5 * m - 85) / m, 3]
    assert series["waiting_level3"].tolist() == pytest.approx(waiting, rel=1e-12)
    assert (series["open_level2"] == 0).all() and (series["waiting_panel"] == 0).all()


def test_time_average_of_a_single_plan() -> None:
    """One slot, referrals on days 10 and 20, plans of 30 days, a 30-day run (the shortest
    results window allowed): one plan starts on day 10 and is still open at the end (the
    second family waits). Open plans average 20 / 30 over [0, 30], and so does the slot's
    utilisation."""
    d: dict[str, Any] = {
        "name": "one",
        "run": {"start_date": "2022-01-01", "duration_days": 30, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"process": "deterministic", "sources": {"all": {"annual_rate": 36.5, "entry": "level3"}}},
        "teams": {"town": {"workers": 1, "caseload_cap": 1}},
        "early_help": {"duration": {"dist": "fixed", "value": 30}},
    }
    k = sim.run_replication(scenario_from_dict(d), seed=0).kpis
    assert k["starts_level3"] == 1 and k["open_level3_at_end"] == 1 and k["waiting_level3_at_end"] == 1
    assert k["open_level3_mean"] == pytest.approx(2 / 3, rel=1e-12)
    assert k["utilisation_team_town"] == pytest.approx(2 / 3, rel=1e-12)


@pytest.mark.parametrize("elapsed", [5.0, 39.5])
def test_monthly_series_counts_the_plans_open_at_day_0(elapsed: float) -> None:
    """Three plans of 40 days already open at day 0 (started ``elapsed`` days before it, so
    they end on day 40 - elapsed), then one referral every 10 days from day 10, each
    allocated at once for 40 days. By hand, with m = 365 / 12:

    * elapsed 5 (the three end on day 35): 3 open on [0, 10), 4 on [10, 20), 5 on [20, 30),
      6 on [30, 35), 3 on [35, 40), 4 from day 40 on (from day 50 a plan ends whenever
      one starts). Month 1: (30 + 40 + 50 + 6 (m - 30)) / m; month 2:
      (6 (35 - m) + 15 + 4 (2m - 40)) / m; then 4.
    * elapsed 39.5 (the three end on day 0.5): 3 open on [0, 0.5), none to day 10, then 1,
      2, 3 on the next three ten-day spans, 4 from day 40. Month 1:
      (1.5 + 10 + 20 + 3 (m - 30)) / m; month 2: (3 (40 - m) + 4 (2m - 40)) / m; then 4.
    """
    d: dict[str, Any] = {
        "name": "open_at_start",
        "run": {"start_date": "2022-01-01", "duration_days": 100, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"process": "deterministic", "sources": {"all": {"annual_rate": 36.5, "entry": "level3"}}},
        "teams": {"town": {"workers": 1, "caseload_cap": 10}},
        "early_help": {"duration": {"dist": "fixed", "value": 40}},
        "initial_state": {
            "teams": {"town": {"open_plans": 3, "waiting": 0}},
            "open_elapsed": {"dist": "fixed", "value": elapsed},
        },
    }
    series = sim.run_replication(scenario_from_dict(d), seed=0).series
    m = 365 / 12
    if elapsed == 5.0:
        first = (30 + 40 + 50 + 6 * (m - 30)) / m
        second = (6 * (35 - m) + 15 + 4 * (2 * m - 40)) / m
    else:
        first = (1.5 + 10 + 20 + 3 * (m - 30)) / m
        second = (3 * (40 - m) + 4 * (2 * m - 40)) / m
    assert series["open_level3"].tolist() == pytest.approx([first, second, 4, 4], rel=1e-12)


def test_by_locality_kpis_count_each_localitys_families_in_the_window() -> None:
    """Two localities, each with its own team, a 100-day warm-up: each locality's
    referrals, Level 3 starts and mean wait are recomputed from that locality's rows of the
    log (referrals at or after the warm-up; waits of its families who joined at or after
    it), and the referrals add up to the whole area's."""
    lo = 100.0
    d: dict[str, Any] = {
        "name": "two_places",
        "run": {"start_date": "2022-01-01", "duration_days": 400, "warmup_days": lo},
        "localities": {"north": {"referral_share": 0.3}, "south": {"referral_share": 0.7}},
        "referrals": {"sources": {"all": {"annual_rate": 500, "entry": "level3"}}},
        "teams": {"north": {"workers": 1, "caseload_cap": 6}, "south": {"workers": 2, "caseload_cap": 5}},
        "early_help": {"duration": {"dist": "exponential", "mean": 20}},
    }
    scenario = scenario_from_dict(d)
    res = sim.run_replication(scenario, seed=4)
    out = {kpi.name: v for kpi, v in by_locality(res.events, scenario).items()}
    ev = res.events.astype({"locality": str})
    total = 0.0
    for loc in ("north", "south"):
        mine = ev[ev["locality"] == loc]
        refs = mine[mine["event"] == "referral"]
        q = mine[mine["stage"] == "level3"]
        joins = q[q["event"] == "join"].set_index("family_id")["time"]
        starts = q[q["event"] == "start"].set_index("family_id")["time"]
        served = starts.index.intersection(joins.index)
        late = served[joins[served] >= lo]
        assert out[f"referrals_total_in_{loc}"] == (refs["time"] >= lo).sum() > 0
        assert out[f"wait_level3_served_in_{loc}"] == len(late) > 0
        assert out[f"wait_level3_mean_days_in_{loc}"] == pytest.approx((starts[late] - joins[late]).mean(), rel=1e-12)
        total += out[f"referrals_total_in_{loc}"]
    assert total == res.kpis["referrals_total"]

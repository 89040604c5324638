"""Property tests (hypothesis) over valid scenarios and seeds.

For any valid variant of the baseline (demand, staffing, caseload caps, panel cycle and
capacity, allocation, queue discipline, hazards, re-referral): waits are never negative,
utilisation never exceeds 1, the event log's clock never runs backwards, every queue pairs
each join with at most one start or leave, and episodes are conserved.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.config import scenario_from_dict
from sim.metrics import flow_balance
from tests.conftest import raw_config

TEAMS = ("washington", "east_west", "coalfields")


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    d = raw_config("baseline.yaml")
    d["run"]["duration_days"] = draw(st.floats(150, 400))
    d["run"]["warmup_days"] = draw(st.floats(0, 100))
    scale = draw(st.floats(0.0, 3.0))
    for src in d["referrals"]["sources"].values():
        src["annual_rate"] *= scale
    for t in TEAMS:
        d["teams"][t]["workers"] = draw(st.integers(1, 14))
        d["teams"][t]["caseload_cap"] = draw(st.integers(1, 25))
        d["initial_state"]["teams"][t] = {
            "open_plans": draw(st.integers(0, d["teams"][t]["workers"] * d["teams"][t]["caseload_cap"])),
            "waiting": draw(st.integers(0, 20)),
        }
    d["initial_state"]["waiting_elapsed"] = {"dist": "uniform", "low": 0, "high": 90}
    d["panel"]["interval_days"] = draw(st.sampled_from([1, 7, 14, 28]))
    d["panel"]["capacity_per_meeting"] = draw(st.integers(1, 30))
    d["panel"]["order"] = draw(st.sampled_from(["fifo", "risk"]))
    d["early_help"]["allocation"] = draw(st.sampled_from(["locality", "pooled"]))
    d["early_help"]["queue_discipline"] = draw(st.sampled_from(["fifo", "risk"]))
    d["waiting"]["withdrawal_per_day"] = draw(st.sampled_from([0.0, 0.003, 0.05]))
    d["waiting"]["escalation"]["base_per_day"] = draw(st.sampled_from([0.0, 0.0004, 0.01]))
    d["waiting"]["escalation"]["growth_per_day"] = draw(st.sampled_from([0.0, 0.005, 0.05]))
    d["partner_plans"]["capacity"] = draw(st.sampled_from([None, 5, 100]))
    d["mst"]["therapists"] = draw(st.integers(1, 6))
    d["rereferral"]["prob_within_12_months"] = draw(st.sampled_from([0.0, 0.15, 0.6]))
    return d


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_any_valid_scenario(data: dict[str, Any], seed: int) -> None:
    sc = scenario_from_dict(data)
    res = sim.run_replication(sc, rep=seed % 7, seed=seed)
    k, ev = res.kpis, res.events

    for name, value in k.items():
        if name.startswith("wait_") or name.startswith("waiting_") or name.startswith("queue_"):
            assert math.isnan(value) or value >= 0, (name, value)
        if name.startswith("utilisation_"):
            assert math.isnan(value) or 0 <= value <= 1 + 1e-9, (name, value)
        if name.startswith("cost_"):
            assert math.isnan(value) or value >= 0, (name, value)

    assert (ev["time"].diff().dropna() >= 0).all(), "the clock ran backwards in the event log"
    assert (ev["time"] <= sc.run.duration_days).all()

    f = flow_balance(ev, sc.run.duration_days)
    assert f["referrals"] == f["closed"] + f["withdrawn"] + f["escalated"] + f["open"]
    assert f["open"] >= 0

    for stage in ("front_door", "panel", "level2", "level3", "mst"):
        rows = ev[ev["stage"] == stage]
        joins = (rows["event"] == "join").sum()
        ends = rows["event"].isin(("start", "leave")).sum()
        assert ends <= joins, stage

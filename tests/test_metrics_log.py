"""KPIs without pandas: a replication's KPIs, by-locality KPIs and monthly series come from the
numpy columns of its event log (:class:`sim.metrics.log.Log`); a caller holding the events
DataFrame gets them through the same code (the frame is converted to a Log).

Exact comparisons (no tolerance): both paths run the same arithmetic on the same numbers in
the same order, so any difference is a bug in the conversion, not rounding. Every bundled
scenario is run for a short horizon (200 days, 30 of warm-up: ~0.3-1 s each); four
representative ones (default county, social care and step-down, deprived localities,
workforce dynamics for social workers) run in the fast suite, the rest with ``--runslow``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim import kpis as K
from sim.metrics import by_locality, compute_kpis, monthly_series
from sim.metrics.log import Log
from sim.model import simulate

ROOT = Path(__file__).resolve().parent.parent
FAST = {
    "configs/baseline.yaml",
    "configs/kirklees/baseline.yaml",
    "configs/worcestershire/options/targeted_deprived.yaml",
    "configs/options/social_worker_agency_cover.yaml",
}
SCENARIOS = sorted(
    str(p.relative_to(ROOT))
    for p in (ROOT / "configs").rglob("*.yaml")
    if "uncertainty" not in p.parts and p.name != "calibration.yaml"  # specs, not scenarios
)


def _same(a: dict[str, float], b: dict[str, float]) -> list[str]:
    """Names whose values differ (NaN equals NaN); the names and their order must match."""
    assert list(a) == list(b)
    return [k for k in a if not (a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])))]


def _load(config: str) -> sim.Scenario:
    return sim.load_scenario(ROOT / config, overrides={"run.duration_days": 200, "run.warmup_days": 30})


@pytest.mark.parametrize("config", [c if c in FAST else pytest.param(c, marks=pytest.mark.slow) for c in SCENARIOS])
def test_the_numpy_path_equals_the_dataframe_path(config: str) -> None:
    scenario = _load(config)
    res = sim.run_replication(scenario, rep=1, seed=3)
    assert list(res.kpis) == list(K.catalogue(scenario))
    frame = res.events
    # the events DataFrame is exactly the simulation's own (sim.records) DataFrame
    pd.testing.assert_frame_equal(frame, simulate(scenario, 3, 1).log.to_frame(), check_exact=True)
    assert _same(res.kpis, compute_kpis(frame, scenario)) == []
    pd.testing.assert_frame_equal(res.series, monthly_series(frame, scenario), check_exact=True)
    numpy_path = {k.name: v for k, v in by_locality(res.log, scenario).items()}
    frame_path = {k.name: v for k, v in by_locality(frame, scenario).items()}
    assert numpy_path and _same(numpy_path, frame_path) == []


def test_string_columns_give_the_same_kpis() -> None:
    """A frame with plain string columns (e.g. read back without categories) is coded against
    its sorted values: the KPIs do not depend on the category order."""
    scenario = _load("configs/options/social_worker_agency_cover.yaml")
    res = sim.run_replication(scenario, rep=0, seed=1)
    plain = res.events.astype({c: object for c in ("event", "stage", "service", "detail", "locality")})
    assert _same(res.kpis, compute_kpis(plain, scenario)) == []


def test_log_round_trips() -> None:
    scenario = _load("configs/kirklees/baseline.yaml")
    world = simulate(scenario, 2, 0)
    want = world.log.to_frame()
    log = Log.from_event_log(world.log)
    pd.testing.assert_frame_equal(log.to_frame(), want, check_exact=True)
    pd.testing.assert_frame_equal(Log.from_frame(want).to_frame(), want, check_exact=True)
    rows = np.flatnonzero(want["stage"].to_numpy() == "level3")
    pd.testing.assert_frame_equal(log.take(rows).to_frame(), want.iloc[rows].reset_index(drop=True), check_exact=True)


def test_an_empty_log_keeps_its_schema() -> None:
    empty = simulate(_load("configs/baseline.yaml"), 0, 0).log.to_frame().iloc[:0]
    log = Log.from_frame(empty)
    assert len(log) == 0
    pd.testing.assert_frame_equal(log.to_frame(), empty, check_exact=True)


@pytest.mark.parametrize("config", ["configs/worcestershire/baseline.yaml", "configs/validation/mmc.yaml"])
def test_families_table_is_unchanged(config: str) -> None:
    """The families DataFrame, built on first use from numpy columns, is the table
    ``run_replication`` built directly before (same dtypes, categories and values; each
    family's need and risk at referral asked of the family itself, one scalar Beta inverse
    CDF each, against the families table's vectorised and deferred ones). Worcestershire's
    run asks for risk scores as families are drawn (needs change); the M/M/c's never does,
    so all its scores are computed when the table is built."""
    from sim.model.world import _asks_risk

    scenario = _load(config)
    assert _asks_risk(scenario) == ("worcestershire" in config)
    fams = simulate(scenario, 4, 2).families
    need, risk = (np.array(col) for col in zip(*(f.at_referral for f in fams)))
    want = pd.DataFrame(
        {
            "family_id": pd.array([f.id for f in fams], dtype="int64"),
            "locality": pd.Categorical([f.locality for f in fams]),
            "children": pd.array([len(f.ages) for f in fams], dtype="int16"),
            "youngest_age": pd.array([min(f.ages) for f in fams], dtype="int16"),
            "oldest_age": pd.array([max(f.ages) for f in fams], dtype="int16"),
            "need": pd.array(need, dtype="int8"),
            "risk": pd.array(risk, dtype="float64"),
            "initial": pd.array([f.initial for f in fams], dtype="bool"),
        }
    )
    pd.testing.assert_frame_equal(sim.run_replication(scenario, rep=2, seed=4).families, want, check_exact=True)


def test_statutory_timeliness_on_a_hand_computed_log() -> None:
    """Children's social care referrals and the referral -> completed assessment time, on a
    hand-written log (exact: the expected values are computed by hand below). Family 1's
    referral and assessment fall before the warm-up (day 100) and count for neither; family
    4 is referred twice and its assessment pairs with the later referral."""
    scenario = sim.load_scenario(
        ROOT / "configs/baseline.yaml", overrides={"run.duration_days": 400, "run.warmup_days": 100}
    )
    assert scenario.social_care is not None and scenario.social_care.statutory is not None
    rows = [  # (time, family, event, stage, children)
        (50.0, 1, "start", "sc_referral", 5),
        (80.0, 1, "end", "assessment", 5),
        (110.0, 2, "start", "sc_referral", 2),
        (150.0, 4, "start", "sc_referral", 3),
        (180.0, 2, "end", "assessment", 2),  # 70 days: 50 working days, late
        (200.0, 3, "start", "sc_referral", 1),
        (228.0, 3, "end", "assessment", 1),  # 28 days: 20 working days
        (300.0, 4, "start", "sc_referral", 3),  # a re-referral within a year
        (320.0, 4, "end", "assessment", 3),  # 20 days after the later referral
    ]
    n = len(rows)
    frame = pd.DataFrame(
        {
            "time": [r[0] for r in rows],
            "family_id": np.array([r[1] for r in rows], dtype=np.int64),
            "episode": np.zeros(n, dtype=np.int32),
            "event": [r[2] for r in rows],
            "stage": [r[3] for r in rows],
            "service": [""] * n,
            "detail": [""] * n,
            "locality": [""] * n,
            "children": np.array([r[4] for r in rows], dtype=np.int16),
        }
    )
    k = compute_kpis(frame, scenario)
    working = np.array([70.0, 28.0, 20.0]) * (5.0 / 7.0)  # calendar days x working days a day
    kids = np.array([2.0, 1.0, 3.0])
    assert k[K.SC_REFERRALS.name] == 9.0  # families 2, 3 and 4 (twice)
    assert k[K.SC_REREFERRALS.name] == 3.0 / 9.0
    assert k[K.ASSESSMENTS_ON_TIME.name] == 4.0 / 6.0
    assert k[K.ASSESSMENT_DAYS.name] == float(np.average(working, weights=kids))
    assert _same(compute_kpis(Log.from_frame(frame), scenario), k) == []


@pytest.mark.parametrize("config", sorted(FAST))
def test_a_batch_replication_gives_run_replications_row_and_series_without_a_families_table(config: str) -> None:
    """A batch worker's replication (:func:`sim.replication.batch_task`) skips the families
    table and nothing else: its KPI row and monthly series are exactly run_replication's."""
    from sim.replication import _replicate, batch_task

    scenario = _load(config)
    res = sim.run_replication(scenario, rep=2, seed=4)
    name, rep, row, series, events, extra = batch_task(scenario, 2, 4, False, None)
    assert (name, rep, events, extra) == (scenario.name, 2, None, [])
    assert _same({k: row[k] for k in res.kpis}, res.kpis) == []
    assert list(series) == list(res.series_arrays)
    for column, values in res.series_arrays.items():
        np.testing.assert_array_equal(series[column], values)
    lean = _replicate(scenario, 2, 4, families=False)
    assert lean.family_columns is None
    with pytest.raises(ValueError, match="without its families table"):
        _ = lean.families
    assert len(res.families) > 0

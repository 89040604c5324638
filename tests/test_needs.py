"""Need that changes between episodes, and localities that grow at their own rates (issue 11).

Known answers:

* the need chain with no re-referral and no leaving is an irreducible birth-death chain on
  four levels; the share of time a long path spends in each level converges to the
  stationary distribution (null space of ``Q^T``, computed with scipy);
* with re-referral, the share of paths absorbed in "referred" by ``t`` is the closed form
  ``expm(Q t)[start, REFERRED]``, for every exit type, over one and five years;
* a locality growing at ``g`` has share ``s (1 + g)^(t/365) / sum`` at day ``t``, and the
  total referral rate grows by ``sum_l s_l (1 + g_l)^(t/365)``.

Tolerances come from the sampling distributions (binomial or Poisson counts, or the spread
of independent paths), at 4 standard errors: with a handful of assertions per test the
chance of a false alarm is about 1e-4 each, and a mis-specified rate (a wrong row of ``Q``,
a destination drawn from the wrong row) moves the estimate by many standard errors.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy import linalg

import sim
from sim.config import scenario_from_dict
from sim.config.demand import Referrals
from sim.config.social_care import Needs
from sim.model.arrivals import referral_schedule
from sim.model.family import AttributeTables
from sim.model.needs import LEFT, REFERRED, path, rate_matrix, referred_by, start_level
from sim.vocab import NEED_EXITS

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.yaml"
Z = 4.0


def _needs(**changes: Any) -> Needs:
    d = yaml.safe_load(BASELINE.read_text())["needs"]
    d.update(changes)
    return Needs.model_validate(d)


def _stream(rng: np.random.Generator) -> Any:
    return lambda: float(rng.random())


def _occupancy(steps: list[tuple[float, int]], horizon: float) -> np.ndarray:
    """Days spent in each of the four levels along a path that ends at ``horizon``."""
    out = np.zeros(4)
    times = [t for t, _ in steps] + [horizon]
    for (t, s), t_next in zip(steps, times[1:]):
        out[s] += t_next - t
    return out


def test_time_in_level_matches_the_stationary_distribution() -> None:
    needs = _needs(rereferral_per_year={f"level{i}": 0.0 for i in range(1, 5)}, leave_per_year=0.0)
    q = rate_matrix(needs, "withdrawn")
    levels = q[:4, :4]
    assert np.allclose(levels.sum(axis=1), 0.0)  # nothing leaks out of the levels
    ns = linalg.null_space(levels.T)[:, 0]
    pi = ns / ns.sum()
    # independent paths, each started from pi and run 20 years: the share of time in each
    # level is unbiased for pi; its standard error comes from the spread across paths
    rng = np.random.default_rng(11)
    horizon, n = 20 * 365.0, 400
    shares = np.array(
        [_occupancy(path(q, int(rng.choice(4, p=pi)), _stream(rng), horizon), horizon) / horizon for _ in range(n)]
    )
    mean, se = shares.mean(axis=0), shares.std(axis=0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(mean - pi) < Z * se + 1e-12), (mean, pi, se)


@pytest.mark.parametrize("exit_kind", [str(e) for e in NEED_EXITS])
def test_rereferral_by_exit_matches_the_closed_form(exit_kind: str) -> None:
    needs = _needs()
    q = rate_matrix(needs, exit_kind)
    rng = np.random.default_rng(sum(map(ord, exit_kind)))
    n = 4000
    for need in (2, 3, 4):
        s = start_level(needs, exit_kind, need) - 1
        ends = [path(q, s, _stream(rng), 5 * 365.0)[-1] for _ in range(n)]
        for days in (365.0, 5 * 365.0):
            p = float(referred_by(q, s, days)[0])
            hits = sum(1 for t, st in ends if st == REFERRED and t <= days)
            se = np.sqrt(p * (1 - p) / n)
            assert abs(hits / n - p) < Z * se, (exit_kind, need, days, hits / n, p)


def test_calibration_targets_in_closed_form() -> None:
    """The baseline's chain meets the published shares it was fitted to (configs/baseline.yaml)."""
    needs = _needs()
    withdrawn, met = rate_matrix(needs, "withdrawn"), rate_matrix(needs, "outcomes_met")
    l3 = 2
    # AfC-2022: 25% of families closed without help re-referred within 12 months (within 5 points)
    assert abs(referred_by(withdrawn, l3, 365.0)[0] - 0.25) < 0.05
    # Troncoso-2017: about 55% at least once within about 5 years (within 10 points)
    assert abs(referred_by(withdrawn, l3, 5 * 365.0)[0] - 0.55) < 0.10
    # SupportingFamilies-2022: 32% lower two years on, proxied by re-referral (within 10 points)
    s_met = start_level(needs, "outcomes_met", 3) - 1
    ratio = referred_by(met, s_met, 730.0)[0] / referred_by(withdrawn, l3, 730.0)[0]
    assert abs((1 - ratio) - 0.32) < 0.10
    # the hazard falls with time since closure (the point of a chain over a constant hazard)
    p1, p5 = referred_by(withdrawn, l3, [365.0, 5 * 365.0])
    assert p5 < 1 - (1 - p1) ** 5
    # leaving is absorbing: nothing comes back
    assert np.all(rate_matrix(needs, "withdrawn")[LEFT] == 0)


def test_unmet_need_is_rereferred_more_than_met_need() -> None:
    needs = _needs()
    met = referred_by(rate_matrix(needs, "outcomes_met"), start_level(needs, "outcomes_met", 3) - 1, 365.0)[0]
    for kind in ("withdrawn", "no_plan", "disengaged"):
        unmet = referred_by(rate_matrix(needs, kind), start_level(needs, kind, 3) - 1, 365.0)[0]
        assert unmet > met


# --------------------------------------------------------------------------- place
def _tables(growth: dict[str, float]) -> AttributeTables:
    d = yaml.safe_load(BASELINE.read_text())
    for name, g in growth.items():
        d["localities"][name]["annual_growth"] = g
    return AttributeTables.build(scenario_from_dict(d))


def test_locality_shares_follow_their_growth() -> None:
    d = yaml.safe_load(BASELINE.read_text())
    names = list(d["localities"])
    growth = {names[0]: 0.10, names[1]: -0.05}
    tables = _tables(growth)
    s0 = np.array([d["localities"][n]["referral_share"] for n in names])
    g = np.array([growth.get(n, 0.0) for n in names])
    rng = np.random.default_rng(5)
    n = 20000
    for years in (0.0, 5.0):
        expected = s0 * (1 + g) ** years / np.sum(s0 * (1 + g) ** years)
        drawn = [tables.locality(float(u), years * 365.0) for u in rng.random(n)]
        counts = np.array([drawn.count(x) for x in names])
        se = np.sqrt(expected * (1 - expected) / n)
        assert np.all(np.abs(counts / n - expected) < Z * se), (years, counts / n, expected)
    assert tables.volume(np.array([0.0]))[0] == pytest.approx(1.0)


def test_locality_growth_raises_the_referral_rate() -> None:
    """Referrals in year 5 over year 1 match the integral of the growing rate (Poisson counts)."""
    d = yaml.safe_load(BASELINE.read_text())
    names = list(d["localities"])
    tables = _tables({names[0]: 0.20})
    refs = Referrals.model_validate({"sources": {"all": {"annual_rate": 20000}}})
    times, _ = referral_schedule(refs, dt.date(2020, 1, 1), 5 * 365.0, np.random.default_rng(2), tables.volume)
    grid = np.linspace(0, 5 * 365.0, 5 * 365 * 4 + 1)
    rate = 20000 / 365.0 * tables.volume(grid)
    for year in (0, 4):
        lo, hi = year * 365.0, (year + 1) * 365.0
        inside = (grid >= lo) & (grid <= hi)
        mean = float(np.trapezoid(rate[inside], grid[inside]))
        count = int(np.sum((times >= lo) & (times < hi)))
        assert abs(count - mean) < Z * np.sqrt(mean), (year, count, mean)


def test_locality_need_mix_is_used() -> None:
    d = yaml.safe_load(BASELINE.read_text())
    name = next(iter(d["localities"]))
    d["localities"][name]["need_probs"] = {"level1": 0.0, "level2": 0.0, "level3": 0.0, "level4": 1.0}
    tables = AttributeTables.build(scenario_from_dict(d))
    assert tables.need(0.01, name) == 3
    assert tables.need(0.99, "elsewhere") == tables.need(0.99)


# --------------------------------------------------------------------------- the model
def _short(**changes: Any) -> dict[str, Any]:
    d = yaml.safe_load(BASELINE.read_text())
    d["run"]["duration_days"] = 900
    for key, value in changes.items():
        node = d
        *keys, last = key.split(".")
        for k in keys:
            node = node[k]
        node[last] = value
    return d


def test_crn_hold_with_need_dynamics() -> None:
    """Two options that differ in a cost give identical histories, re-referrals included."""
    a = sim.run_replication(scenario_from_dict(_short()), rep=0, seed=4).events
    b = sim.run_replication(
        scenario_from_dict(_short(**{"costs.staff.key_worker_per_year.gbp": 1.0})), rep=0, seed=4
    ).events
    assert (a["detail"] == "re_referral").sum() > 50  # the chain is at work
    assert a.equals(b)


def test_without_the_block_rereferral_is_as_before() -> None:
    """No needs block: the old 12-month rule (every re-referral within timing_days)."""
    d = _short()
    del d["needs"]
    ev = sim.run_replication(scenario_from_dict(d), rep=0, seed=4).events
    ev = ev.sort_values(["family_id", "time"], kind="stable")
    exits = ev[ev["event"] == "exit"][["family_id", "time", "episode"]]
    refs = ev[(ev["event"] == "referral") & (ev["detail"] == "re_referral")][["family_id", "time", "episode"]]
    m = refs.assign(episode=refs["episode"] - 1).merge(exits, on=["family_id", "episode"], suffixes=("", "_exit"))
    assert len(m) > 20
    assert (m["time"] - m["time_exit"]).max() <= 365.0


def test_kpis_by_deprivation_group_add_up() -> None:
    """With one locality flagged deprived, the two groups' referral counts add up to the whole."""
    from sim import kpis as K
    from sim.metrics import by_locality
    from sim.vocab import DEPRIVATION_GROUPS

    d = _short()
    first = next(iter(d["localities"]))
    d["localities"][first]["deprived"] = True
    res = sim.run_replication(scenario_from_dict(d), rep=0, seed=4)
    out = {k.name: v for k, v in by_locality(res.events, res.scenario).items()}
    groups = [out[K.in_locality(K.REFERRALS_TOTAL, g).name] for g in DEPRIVATION_GROUPS]
    assert groups[0] == out[K.in_locality(K.REFERRALS_TOTAL, first).name]
    assert sum(groups) == res.kpis[K.REFERRALS_TOTAL.name]


@pytest.mark.slow
def test_unmet_need_is_rereferred_more_in_the_simulation() -> None:
    """Issue 11, what it must show 2: in the baseline, families who withdrew, got no plan or
    disengaged are re-referred within 12 months more often than families whose outcomes were
    met. Paired over replications (same seeds); the 95% t interval of the difference must
    exclude zero. Closures in years 2-3 of a four-year run, so every one is followed 12 months."""
    from scipy import stats

    from sim.metrics import closures_and_rereferrals

    d = _short(**{"run.duration_days": 4 * 365.0, "run.warmup_days": 365.0})
    sc = scenario_from_dict(d)
    diffs = []
    for rep in range(6):
        ev = sim.run_replication(sc, rep=rep, seed=1).events
        c = closures_and_rereferrals(ev, 365.0, 3 * 365.0)
        within = c["gap"] <= 365.0
        unmet = within[c["exit"].isin(["withdrawn", "no_plan", "disengaged"])].mean()
        met = within[c["exit"] == "outcomes_met"].mean()
        diffs.append(unmet - met)
    diffs_a = np.array(diffs)
    half = stats.t.ppf(0.975, len(diffs_a) - 1) * diffs_a.std(ddof=1) / np.sqrt(len(diffs_a))
    assert diffs_a.mean() - half > 0, (diffs_a.mean(), half)


def test_closures_and_rereferrals_on_a_hand_built_log() -> None:
    """Which events are closures, and the gap to the next re-referral, on a log written by
    hand (window ``[1, 100)``). Expected rows, worked out from the rules in the docstring of
    :func:`sim.metrics.closures_and_rereferrals`:

    * family 5: ``mst_completed`` at 1 (the window's first day), never referred again: inf;
      its ``advice`` at 0.5 and ``no_plan`` at 100 fall outside the window;
    * family 1: ``outcomes_met`` at 10, re-referred at 40: gap 30; ``withdrawn`` at 50: inf;
    * family 4: care ends at 15; the next referral (25) is from the police, so inf even
      though a re-referral follows at 26;
    * family 2: an assessment ends with no further action at 20, re-referred at 120: 100
      (its exit to the social care front door at 5 is not a closure);
    * family 3: CIN ends at 30 and is stepped down into early help at 30: not a closure;
    * family 6: ``disengaged`` at 70 and re-referred the same day: 0;
    * family 7: CP ends at 80, a step-down referral at 85 (not the same instant): a closure,
      and the next referral is not a re-referral: inf;
    * family 8: an assessment that leads to CIN and a withdrawal from a queue (a ``leave``,
      not an ``exit``): no closure.
    """
    import pandas as pd

    from sim.metrics import closures_and_rereferrals

    rows = [
        (0.0, 1, "referral", "front_door", "initial"),
        (10.0, 1, "exit", "closed", "outcomes_met"),
        (40.0, 1, "referral", "front_door", "re_referral"),
        (50.0, 1, "exit", "closed", "withdrawn"),
        (0.0, 2, "referral", "front_door", "initial"),
        (5.0, 2, "exit", "closed", "to_social_care_front_door"),
        (20.0, 2, "end", "assessment", "nfa"),
        (120.0, 2, "referral", "front_door", "re_referral"),
        (30.0, 3, "end", "cin", "closed"),
        (30.0, 3, "referral", "front_door", "social_care_step_down"),
        (15.0, 4, "end", "lac", "closed"),
        (25.0, 4, "referral", "front_door", "police"),
        (26.0, 4, "referral", "front_door", "re_referral"),
        (0.5, 5, "exit", "closed", "advice"),
        (1.0, 5, "exit", "closed", "mst_completed"),
        (100.0, 5, "exit", "closed", "no_plan"),
        (70.0, 6, "exit", "closed", "disengaged"),
        (70.0, 6, "referral", "front_door", "re_referral"),
        (80.0, 7, "end", "cp", "closed"),
        (85.0, 7, "referral", "front_door", "social_care_step_down"),
        (3.0, 8, "start", "level2", ""),
        (4.0, 8, "leave", "level2", "withdrawn"),
        (12.0, 8, "end", "assessment", "cin"),
    ]
    log = pd.DataFrame(rows, columns=["time", "family_id", "event", "stage", "detail"])
    log = log.sort_values("time", kind="stable").reset_index(drop=True)
    for col in ("event", "stage", "detail"):  # the model's log holds categoricals
        log[col] = log[col].astype("category")
    got = closures_and_rereferrals(log, 1.0, 100.0)
    sc = "social_care_closed"
    expected = pd.DataFrame(
        {
            "family_id": [5, 1, 4, 2, 1, 6, 7],
            "time": [1.0, 10.0, 15.0, 20.0, 50.0, 70.0, 80.0],
            "exit": ["mst_completed", "outcomes_met", sc, sc, "withdrawn", "disengaged", sc],
            "gap": [np.inf, 30.0, np.inf, 100.0, np.inf, 0.0, np.inf],
        }
    )
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


# --------------------------------------------------------------------------- need while waiting
def test_need_while_waiting_matches_the_closed_form() -> None:
    """Worsening while waiting is the chain's upward moves alone (a pure-birth chain on the
    four levels): after ``w`` days the level is distributed as ``expm(Q w)[start]``. 20,000
    paths from levels 1 and 2 over 200 days; every level's share within Z binomial standard
    errors. Rates read from the wrong level, or improvement left in, move a share by far
    more (e.g. from level 1: P(still at 1) = exp(-0.5 x 200 / 365) = 0.760)."""
    from sim.model.needs import worsen_matrix

    needs = _needs(worsen_per_year={"level1": 0.5, "level2": 0.8, "level3": 1.2}, worsen_while_waiting=True)
    q = worsen_matrix(needs)
    assert np.allclose(q.sum(axis=1), 0.0) and q[3, 3] == 0.0  # level 4 absorbing
    rng = np.random.default_rng(11)
    n, w = 20_000, 200.0
    for start in (0, 1):
        ends = np.array([path(q, start, _stream(rng), w)[-1][1] for _ in range(n)])
        expected = linalg.expm(q * w)[start]
        observed = np.bincount(ends, minlength=4) / n
        se = np.sqrt(expected * (1 - expected) / n)
        assert np.all(np.abs(observed - expected) <= Z * se + 1e-12), (start, observed, expected)


def test_need_while_waiting_is_switchable_off() -> None:
    """On with every worsening rate 0, the run is identical to the same scenario with it off
    (no uniform is read when no move is possible, so common random numbers hold); on with the
    baseline's rates, need changes while families wait and the history differs from off."""
    off = sim.run_replication(scenario_from_dict(_short()), rep=0, seed=4).events
    zero = {"needs.worsen_while_waiting": True, "needs.worsen_per_year": {"level1": 0, "level2": 0, "level3": 0}}
    still = sim.run_replication(scenario_from_dict(_short(**zero)), rep=0, seed=4).events
    d = _short(**{"needs.worsen_per_year": {"level1": 0, "level2": 0, "level3": 0}})
    base_zero = sim.run_replication(scenario_from_dict(d), rep=0, seed=4).events
    assert still.equals(base_zero)
    on = sim.run_replication(scenario_from_dict(_short(**{"needs.worsen_while_waiting": True})), rep=0, seed=4).events
    assert not on.equals(off)

"""Mechanism tests (known answers): referral arrivals and family attributes.

Each test compares what the model produced with what its specification implies, with a
tolerance taken from the sampling distribution of the statistic (stated beside each
check). Family-wise error rate per test: 0.001, split by Bonferroni over the checks in it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.config import scenario_from_dict
from tests.conftest import CONFIGS

ALPHA = 0.001  # family-wise false-alarm rate of each test
START = dt.date(2021, 3, 17)  # mid-month start: the first and last months are partial


def _scenario(sources: dict[str, Any], days: float, seasonality: list[float] | None = None, **family: Any) -> Any:
    """Referrals go straight to one team with far more slots than demand and one-day plans:
    the cheapest journey, so the run is dominated by arrivals."""
    d: dict[str, Any] = {
        "name": "arrivals",
        "run": {"start_date": START.isoformat(), "duration_days": days, "warmup_days": 0},
        "localities": {
            "north": {"referral_share": 0.5},
            "south": {"referral_share": 0.3},
            "east": {"referral_share": 0.2},
        },
        "referrals": {"sources": sources},
        "teams": {n: {"workers": 10_000, "caseload_cap": 10} for n in ("north", "south", "east")},
        "early_help": {"duration": {"dist": "fixed", "value": 1}},
    }
    if seasonality is not None:
        d["referrals"]["seasonality"] = seasonality
    if family:
        d["family"] = family
    return scenario_from_dict(d)


# --------------------------------------------------------------------------- arrivals
SEASON_SHARED = [1.5, 1.3, 1.0, 0.7, 0.5, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 0.4]
SEASON_POLICE = [0.6, 0.6, 0.8, 1.0, 1.3, 1.6, 1.6, 1.3, 1.0, 0.8, 0.6, 0.8]
SOURCES = {
    # a source using the shared seasonality, growing 40% a year
    "schools": {"annual_rate": 4000, "annual_growth": 0.4, "entry": "level3"},
    # a source with its own seasonality, declining 25% a year
    "police": {"annual_rate": 3000, "annual_growth": -0.25, "seasonality": SEASON_POLICE, "entry": "level3"},
    # the shared seasonality (no profile of its own) and no growth
    "health": {"annual_rate": 1000, "entry": "level3"},
}
HORIZON = 3 * 365.0


def _month_cells(start: dt.date, horizon: float) -> list[tuple[int, int, float, float]]:
    """Calendar months overlapping [0, horizon): (year, month, first day, end day), in days
    since ``start`` (partial months clipped)."""
    cells = []
    y, m = start.year, start.month
    while True:
        first = (dt.date(y, m, 1) - start).days
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        end = (dt.date(ny, nm, 1) - start).days
        a, b = max(first, 0.0), min(end, horizon)
        if a >= horizon:
            return cells
        cells.append((y, m, float(a), float(b)))
        y, m = ny, nm


def _expected_count(rate: float, growth: float, season: float, a: float, b: float) -> float:
    """Integral over [a, b) of rate / 365 x season x (1 + growth) ** (t / 365) dt."""
    per_day = rate / 365.0 * season
    if growth == 0:
        return per_day * (b - a)
    k = math.log1p(growth) / 365.0
    return per_day * (math.exp(k * b) - math.exp(k * a)) / k


def test_arrival_counts_by_source_and_month_match_rate_seasonality_growth() -> None:
    """Observed referrals per (source, calendar month) against rate x seasonality x growth.

    Each count is Poisson with mean the integral of the intensity over the month. Tolerance:
    every count lies inside its exact Poisson central interval at level 1 - ALPHA / cells
    (Bonferroni over the cells), and the Pearson chi-square over all cells is below its
    1 - ALPHA quantile (df = cells: the means are fully specified, nothing is fitted).
    A seasonality shifted by one month moves most cells by 10-60% of counts of 100-500
    (a Poisson sd of 10-22), and halved growth moves year-3 cells by about 30%: both fail.
    """
    sc = _scenario(SOURCES, HORIZON, seasonality=SEASON_SHARED)
    ev = sim.run_replication(sc, rep=0, seed=2024).events
    ref = ev[ev["event"] == "referral"]
    assert (ref["episode"] == 0).all()
    day = np.floor(ref["time"].to_numpy()).astype(int)
    dates = pd.to_datetime(START) + pd.to_timedelta(day, unit="D")
    observed = pd.DataFrame({"source": ref["detail"].astype(str).to_numpy(), "y": dates.year, "m": dates.month})
    counts = observed.value_counts().to_dict()

    cells = _month_cells(START, HORIZON)
    n_cells = len(cells) * len(SOURCES)
    level = ALPHA / 2 / n_cells  # two checks: the per-cell intervals and the chi-square
    chi2, outside = 0.0, []
    for name, src in SOURCES.items():
        season = src.get("seasonality", SEASON_SHARED)
        for y, m, a, b in cells:
            mu = _expected_count(src["annual_rate"], src.get("annual_growth", 0.0), season[m - 1], a, b)
            n = counts.get((name, y, m), 0)
            lo, hi = stats.poisson.ppf(level / 2, mu), stats.poisson.isf(level / 2, mu)
            if not lo <= n <= hi:
                outside.append((name, y, m, n, round(mu, 1), lo, hi))
            chi2 += (n - mu) ** 2 / mu
    assert not outside, f"counts outside their Poisson intervals: {outside}"
    assert chi2 < stats.chi2.isf(level, n_cells), (chi2, n_cells)
    # every referral falls in a cell of a known source (nothing outside the horizon)
    assert sum(counts.values()) == len(ref) and set(observed["source"]) == set(SOURCES)


def test_source_without_own_seasonality_uses_the_shared_profile() -> None:
    """A source with no seasonality of its own follows ``referrals.seasonality``: with a
    profile of zeros except January (12: the year's referrals all in January, averaging 1), every
    referral of that source falls in January. (Exact: zero intensity means no accepted candidates.)"""
    season = [12.0] + [0.0] * 11
    sc = _scenario({"only": {"annual_rate": 2000, "entry": "level3"}}, 700, seasonality=season)
    ev = sim.run_replication(sc, seed=1).events
    ref = ev[ev["event"] == "referral"]
    dates = pd.to_datetime(START) + pd.to_timedelta(np.floor(ref["time"].to_numpy()), unit="D")
    assert len(ref) > 100 and (dates.month == 1).all()


# --------------------------------------------------------------------------- family attributes
NEED_PROBS = {"level1": 0.1, "level2": 0.2, "level3": 0.45, "level4": 0.25}
RISK_MEANS = {"level1": 0.1, "level2": 0.25, "level3": 0.55, "level4": 0.8}
CONCENTRATION = 6.0
CHILDREN_MEAN = 2.25
# not the default bands, so that a model ignoring ``family.age_bands`` fails
AGE_BANDS = [
    {"low": 0, "high": 0, "share": 0.1},
    {"low": 1, "high": 4, "share": 0.1},
    {"low": 5, "high": 9, "share": 0.2},
    {"low": 10, "high": 15, "share": 0.4},
    {"low": 16, "high": 17, "share": 0.2},
]


@pytest.fixture(scope="module")
def families() -> pd.DataFrame:
    sc = _scenario(
        {"all": {"annual_rate": 20_000, "entry": "level3"}},
        365,
        children_mean=CHILDREN_MEAN,
        age_bands=AGE_BANDS,
        need_probs=NEED_PROBS,
        risk_mean_by_need=RISK_MEANS,
        risk_concentration=CONCENTRATION,
    )
    fams = sim.run_replication(sc, seed=7).families
    assert len(fams) > 18_000
    return fams


def _chi2_p(observed: np.ndarray, expected_probs: np.ndarray) -> float:
    """Pearson goodness of fit p-value, tail cells merged until every expected count >= 5."""
    obs, exp = list(observed.astype(float)), list(expected_probs * observed.sum())
    while len(exp) > 2 and exp[-1] < 5:
        last_obs, last_exp = obs.pop(), exp.pop()
        obs[-1] += last_obs
        exp[-1] += last_exp
    return float(stats.chisquare(obs, exp).pvalue)


def test_number_of_children_is_one_plus_poisson(families: pd.DataFrame) -> None:
    """Children = 1 + Poisson(children_mean - 1). Chi-square goodness of fit, p > ALPHA
    (tail merged so expected counts are >= 5). Poisson(mean) without the 1 + fails at once
    (no family has 0 children), as does any other mean."""
    n = families["children"].to_numpy()
    assert n.min() >= 1
    k = np.arange(1, n.max() + 1)
    probs = stats.poisson.pmf(k - 1, CHILDREN_MEAN - 1)
    probs[-1] += stats.poisson.sf(k[-1] - 1, CHILDREN_MEAN - 1)
    observed = np.array([(n == v).sum() for v in k])
    assert _chi2_p(observed, probs) > ALPHA


def _age_pmf(bands: list[dict[str, Any]]) -> np.ndarray:
    """P(age = a) for a = 0..top: each band's share spread evenly over its ages."""
    return np.concatenate([np.full(b["high"] - b["low"] + 1, b["share"] / (b["high"] - b["low"] + 1)) for b in bands])


def test_ages_follow_the_age_bands(families: pd.DataFrame) -> None:
    """Each child's age: a band by its share, then uniform within the band; independent
    between children. The families table gives the youngest and oldest child: with n
    children and F the age CDF, P(oldest <= a) = F(a) ** n and P(youngest >= a) = S(a) ** n.

    Two goodness-of-fit checks (Bonferroni over 7 chi-square tests, each p > ALPHA / 7):
    the band counts of single-child families against the band shares (the chi-square on
    the bands themselves), and, for n = 1, 2, 3 and both ends, the counts by single year of
    age (which also checks uniformity within a band). Ages uniform on 0-17 (the old draw)
    put 5/18 = 28% in 10-15 instead of 40% and fail; so does a within-band draw that never
    gives a band's top age."""
    pmf = _age_pmf(AGE_BANDS)
    v = len(pmf)
    cdf = np.cumsum(pmf)
    assert families["oldest_age"].max() == v - 1 and families["youngest_age"].min() == 0
    one = families.loc[families["children"] == 1, "oldest_age"].to_numpy(dtype=int)
    edges = [b["low"] for b in AGE_BANDS] + [v]
    band_counts, _ = np.histogram(one, bins=edges)
    assert _chi2_p(band_counts, np.array([b["share"] for b in AGE_BANDS])) > ALPHA / 7
    for n in (1, 2, 3):
        sub = families[families["children"] == n]
        p_old = np.diff(np.concatenate([[0.0], cdf**n]))
        sf_young = np.concatenate([[1.0], 1.0 - cdf[:-1]]) ** n  # P(youngest >= a)
        p_young = sf_young - np.append(sf_young[1:], 0.0)
        for col, probs in (("oldest_age", p_old), ("youngest_age", p_young)):
            observed = np.bincount(sub[col].to_numpy(dtype=int), minlength=v)
            assert len(observed) == v
            # order cells so that small expected counts sit at the end for merging
            order = np.argsort(-probs)
            p = _chi2_p(observed[order], probs[order])
            assert p > ALPHA / 7, (n, col, p)


def test_mst_eligible_share_matches_its_closed_form(families: pd.DataFrame) -> None:
    """Share of families with a child aged 11-17 (MST's ages). A child is 11-17 with
    probability p = the bands' mass on 11..17; with N = 1 + Poisson(lam) independent
    children, P(some child 11-17) = 1 - E[(1 - p) ** N] = 1 - (1 - p) exp(-lam p).
    Bands end at 17, so a family is eligible exactly when its oldest child is 11 or over.
    Tolerance: the observed share is binomial; |z| below the two-sided 1 - ALPHA normal
    quantile (about 3.3 sd, about 0.011 at 20,000 families). Uniform ages on 0-17 give
    0.62 against 0.76 here, more than 40 sd away, and fail."""
    p = float(_age_pmf(AGE_BANDS)[11:18].sum())
    lam = CHILDREN_MEAN - 1.0
    expected = 1.0 - (1.0 - p) * math.exp(-lam * p)
    eligible = (families["oldest_age"] >= 11).to_numpy()
    n = len(eligible)
    z = (eligible.mean() - expected) / math.sqrt(expected * (1.0 - expected) / n)
    assert abs(z) < stats.norm.isf(ALPHA / 2), (eligible.mean(), expected, z)


def test_default_age_bands_are_the_baseline_census_bands() -> None:
    """The schema's default ``family.age_bands`` is the sourced table of
    ``configs/baseline.yaml`` (so a scenario that omits the bands gets the census bands)."""
    from sim.config import load_scenario
    from sim.config.demand import CIN_AGE_BANDS, Family

    sourced = [(b.low, b.high, b.share) for b in load_scenario(CONFIGS / "baseline.yaml").family.age_bands]
    assert sourced == list(CIN_AGE_BANDS) == [(b.low, b.high, b.share) for b in Family().age_bands]


def test_need_levels_and_localities_follow_their_shares(families: pd.DataFrame) -> None:
    """Level of need ~ need_probs and locality ~ referral_share: two chi-square tests,
    each p > ALPHA / 2 (Bonferroni)."""
    need = np.bincount(families["need"].to_numpy(dtype=int), minlength=5)[1:]
    assert _chi2_p(need, np.array(list(NEED_PROBS.values()))) > ALPHA / 2
    loc = families["locality"].astype(str).value_counts()
    observed = np.array([loc.get(k, 0) for k in ("north", "south", "east")])
    assert _chi2_p(observed, np.array([0.5, 0.3, 0.2])) > ALPHA / 2


def test_risk_is_beta_with_the_mean_of_its_need_level(families: pd.DataFrame) -> None:
    """Risk | need ~ Beta(m c, (1 - m) c) with m = risk_mean_by_need, c = risk_concentration.
    One-sample KS test per level, p > ALPHA / 4 (Bonferroni over the 4 levels). Swapping the
    Beta's parameters (mean 1 - m) or ignoring the level fails."""
    for level, key in enumerate(NEED_PROBS, start=1):
        r = families.loc[families["need"] == level, "risk"].to_numpy()
        m = RISK_MEANS[key]
        p = stats.kstest(r, stats.beta(m * CONCENTRATION, (1 - m) * CONCENTRATION).cdf).pvalue
        assert p > ALPHA / 4, (key, p, r.mean())


# --------------------------------------------------------------------------- the thinning itself (exact)
def _thinning_reference(
    referrals: Any, start: dt.date, horizon: float, seed: int, volume: Any = None
) -> tuple[list[float], list[int]]:
    """The documented algorithm written out one candidate at a time: candidates of a Poisson
    process at the maximum total rate (rate x highest month x growth at whichever end is
    higher x the volume's larger end value), drawn 4,096 at a time (exponential gaps, then one
    uniform each); a candidate before the horizon is kept for the first source whose
    cumulative rate at its time exceeds uniform x maximum rate. Months come from the calendar
    (``datetime``), not from the code under test."""
    src = list(referrals.sources.values())
    rates = [s.annual_rate / 365.0 for s in src]
    growth = [s.annual_growth for s in src]
    season = [s.seasonality or referrals.seasonality for s in src]
    lam_max = sum(r * max(se) * max((1.0 + g) ** (horizon / 365.0), 1.0) for r, g, se in zip(rates, growth, season))
    if volume is not None:
        lam_max *= max(volume(0.0), volume(horizon))
    rng = np.random.default_rng(seed)
    times: list[float] = []
    sources: list[int] = []
    t0 = 0.0
    while t0 < horizon:
        cand = t0 + np.cumsum(rng.exponential(1.0 / lam_max, size=4096))
        uniforms = rng.random(4096)
        t0 = float(cand[-1])
        for t, u in zip(cand, uniforms):
            if t >= horizon:
                continue
            month = (start + dt.timedelta(days=math.floor(t))).month - 1
            cum = 0.0
            for i, (r, g, se) in enumerate(zip(rates, growth, season)):
                lam = r * se[month] * (1.0 + g) ** (t / 365.0)
                cum += lam * volume(t) if volume is not None else lam
                if u * lam_max < cum:
                    times.append(float(t))
                    sources.append(i)
                    break
    return times, sources


THINNING = {
    "seasonality": SEASON_SHARED,  # highest month 1.6
    "sources": {
        "schools": {"annual_rate": 900, "annual_growth": 0.3},  # shared seasonality, growing
        # its own seasonality with a different highest month (1.9): the maximum is per source
        "police": {
            "annual_rate": 500,
            "annual_growth": -0.2,
            "seasonality": [*SEASON_POLICE[:6], 1.9, *SEASON_POLICE[7:]],
        },
        "health": {"annual_rate": 300},
    },
}
FEW = {"sources": {"a": {"annual_rate": 200}, "b": {"annual_rate": 100, "annual_growth": 0.1}}}  # < 1 a day


def _growing(t: Any) -> Any:
    return 0.6 * np.exp(np.asarray(t) / 900.0) + 0.4 * np.exp(-np.asarray(t) / 400.0)  # higher at the end


def _shrinking(t: Any) -> Any:
    return 0.5 * np.exp(-np.asarray(t) / 300.0) + 0.5 * np.exp(-np.asarray(t) / 900.0)  # higher at day 0


@pytest.mark.parametrize(
    ("spec", "volume", "least"),
    [(THINNING, None, 1500), (THINNING, _growing, 1500), (THINNING, _shrinking, 400), (FEW, None, 450)],
    ids=["plain", "growing_volume", "shrinking_volume", "under_one_a_day"],
)
def test_referral_schedule_is_exactly_the_thinning_algorithm(spec: dict[str, Any], volume: Any, least: int) -> None:
    """Exact, no tolerance: referral_schedule equals the algorithm written out candidate by
    candidate, over 2 years (about 3,700 candidates a year, so two chunks of 4,096 and the
    hand-over between them), with growth up and down, a source's own seasonality, a locality
    volume (a sum of exponentials, convex as required) higher at either end, and a total rate
    under one a day. A rate per year used as per day, a month off, growth halved, a wrong
    maximum rate or a lost candidate at a chunk's end all change the list."""
    from sim.config import Referrals
    from sim.model.arrivals import referral_schedule

    refs = Referrals.model_validate(spec)
    times, src = referral_schedule(refs, START, 730.0, np.random.default_rng(5), volume)
    want_t, want_s = _thinning_reference(refs, START, 730.0, 5, volume)
    assert len(want_t) > least
    np.testing.assert_array_equal(times, want_t)
    np.testing.assert_array_equal(src, want_s)
    assert src.dtype == np.int64 and set(want_s) == set(range(len(spec["sources"])))


def test_referral_schedule_prefix_and_empty_cases() -> None:
    """Without growth a shorter horizon gives exactly the first part of a longer one's list
    (the maximum rate does not depend on the horizon); all rates 0 gives no referrals and no
    arithmetic warning; so does the deterministic process at rate 0."""
    from sim.config import Referrals
    from sim.model.arrivals import referral_schedule

    flat = Referrals.model_validate({"seasonality": SEASON_SHARED, "sources": {"a": {"annual_rate": 2000}}})
    long_t, long_s = referral_schedule(flat, START, 900.0, np.random.default_rng(3))
    short_t, short_s = referral_schedule(flat, START, 300.0, np.random.default_rng(3))
    k = int(np.sum(long_t < 300.0))
    np.testing.assert_array_equal(short_t, long_t[:k])
    np.testing.assert_array_equal(short_s, long_s[:k])
    assert k > 1000 and len(long_t) > k
    with np.errstate(all="raise"):
        for process in ("poisson", "deterministic"):
            zero = Referrals.model_validate({"process": process, "sources": {"a": {"annual_rate": 0}}})
            t, s = referral_schedule(zero, START, 100.0, np.random.default_rng(3))
            assert len(t) == 0 and len(s) == 0 and s.dtype == np.int64


@pytest.mark.parametrize(("rate", "horizon", "n"), [(730, 10.0, 19), (730, 10.2, 20), (365, 4.5, 4)])
def test_deterministic_referrals_one_gap_apart_from_one_gap(rate: float, horizon: float, n: int) -> None:
    """process deterministic: one referral every 365 / rate days, the first one gap after day
    0, none at or after the horizon (730 a year over 10 days: 0.5, 1.0, ..., 9.5), source 0."""
    from sim.config import Referrals
    from sim.model.arrivals import referral_schedule

    refs = Referrals.model_validate({"process": "deterministic", "sources": {"a": {"annual_rate": rate}}})
    t, s = referral_schedule(refs, START, horizon, np.random.default_rng(0))
    np.testing.assert_array_equal(t, np.arange(1, n + 1) * (365.0 / rate))
    np.testing.assert_array_equal(s, np.zeros(n, dtype=np.int64))
    assert s.dtype == np.int64

"""Mechanism tests (known answers): statutory social care and MST.

Every family has need level 4, so triage (no misclassification, no panel) sends it
straight to social care. Shares are checked with Wilson intervals and durations with KS
tests against the piecewise-uniform DfE bands, each at a Bonferroni-adjusted level
(family-wise false-alarm rate 0.001 per test); the MST age rule is exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.config import scenario_from_dict
from sim.distributions import Bands
from tests.support import wilson

ALPHA = 0.001
HORIZON = 1600.0


OUTCOMES = {"nfa": 0.30, "cin": 0.35, "cp": 0.20, "lac": 0.15}
DURATIONS = {
    "cin": {"dist": "bands", "edges": [0, 91, 182, 365, 730], "probs": [0.3, 0.3, 0.25, 0.15]},
    "cp": {"dist": "bands", "edges": [0, 91, 182, 365, 730, 1095], "probs": [0.159, 0.11, 0.435, 0.252, 0.044]},
    "lac": {"dist": "bands", "edges": [0, 56, 182, 365, 1095], "probs": [0.25, 0.25, 0.2, 0.3]},
}
RESIDENTIAL = 0.2
STEP_DOWN = {"nfa": 0.1, "cin": 0.3, "cp": 0.2, "lac": 0.05}


def _social_care_scenario(days: float, rate: float, **changes: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": "social_care",
        "run": {"start_date": "2022-01-01", "duration_days": days, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"sources": {"all": {"annual_rate": rate}}},
        "family": {"need_probs": {"level1": 0, "level2": 0, "level3": 0, "level4": 1}},
        "front_door": {
            "staff": 1000,
            "triage_time": {"dist": "fixed", "value": 0},
            "insufficient_info_prob": 0,
            "misclassification_prob": 0,
        },
        "teams": {"town": {"workers": 10_000, "caseload_cap": 10}},
        "early_help": {"duration": {"dist": "fixed", "value": 10}},
        "social_care": {
            "assessment_duration": {"dist": "fixed", "value": 5},
            "outcome_probs": OUTCOMES,
            "cin_duration": DURATIONS["cin"],
            "cp_duration": DURATIONS["cp"],
            "lac_duration": DURATIONS["lac"],
            "residential_share": RESIDENTIAL,
            "step_down_probs": STEP_DOWN,
        },
    }
    for key, value in changes.items():
        d[key] = value
    return d


@pytest.fixture(scope="module")
def social_care_log() -> pd.DataFrame:
    return sim.run_replication(scenario_from_dict(_social_care_scenario(HORIZON, 3650)), seed=6).events


def test_assessment_outcome_shares(social_care_log: pd.DataFrame) -> None:
    """Assessment outcomes against outcome_probs: Wilson interval per outcome at
    1 - ALPHA / 4 (Bonferroni over the 4 outcomes)."""
    ev = social_care_log
    out = ev[(ev["stage"] == "assessment") & (ev["event"] == "end")]["detail"].astype(str)
    assert len(out) > 10_000
    for outcome, p in OUTCOMES.items():
        lo, hi = wilson(int((out == outcome).sum()), len(out), ALPHA / 4)
        assert lo <= p <= hi, (outcome, (out == outcome).mean())


def _episodes(ev: pd.DataFrame, stage: str) -> pd.DataFrame:
    """Start and end of each episode of ``stage`` (a family has at most one per episode)."""
    rows = ev[ev["stage"] == stage]
    start = rows[rows["event"] == "start"].set_index(["family_id", "episode"])
    end = rows[rows["event"] == "end"].set_index(["family_id", "episode"])
    out = pd.DataFrame({"start": start["time"], "detail": start["detail"].astype(str)})
    out["end"] = end["time"]
    return out


def test_durations_follow_the_dfe_bands(social_care_log: pd.DataFrame) -> None:
    """CIN, CP and care durations against their ``bands`` distributions (piecewise uniform:
    a share probs[i] uniform on [edges[i], edges[i+1]]). Only cases starting at least the
    top edge before the end are used, so none is censored (checked). One-sample KS test
    against the bands' CDF, written out here from the edges and probs, p > ALPHA / 3 each.
    A band index off by one, or a duration not spread within its band, fails."""
    for stage, spec in DURATIONS.items():
        ep = _episodes(social_care_log, stage)
        ep = ep[ep["start"] < HORIZON - spec["edges"][-1]]
        assert ep["end"].notna().all() and len(ep) > 400, stage
        dur = (ep["end"] - ep["start"]).to_numpy()
        cdf = np.concatenate([[0.0], np.cumsum(spec["probs"])])
        p = stats.kstest(dur, lambda x, e=spec["edges"], c=cdf: np.interp(x, e, c)).pvalue
        assert p > ALPHA / 3, (stage, p)


def test_bands_distribution_quantiles_are_exact() -> None:
    """Exact: the ``bands`` inverse CDF maps the cumulative shares to the band edges and is
    linear within each band."""
    spec = DURATIONS["cp"]
    bands = Bands(**spec)
    cum = np.cumsum(spec["probs"])
    for i, c in enumerate(cum[:-1]):
        assert bands.ppf(float(c)) == pytest.approx(spec["edges"][i + 1], abs=1e-9)
        mid = c - spec["probs"][i] / 2
        assert bands.ppf(float(mid)) == pytest.approx((spec["edges"][i] + spec["edges"][i + 1]) / 2, abs=1e-9)
    assert bands.ppf(0.0) == 0.0


def test_placement_split(social_care_log: pd.DataFrame) -> None:
    """Care entries are residential with residential_share, otherwise foster: Wilson
    interval at 1 - ALPHA; the placement recorded at the start is the one at the end."""
    ep = _episodes(social_care_log, "lac")
    assert set(ep["detail"]) == {"foster", "residential"}
    k = int((ep["detail"] == "residential").sum())
    lo, hi = wilson(k, len(ep), ALPHA)
    assert lo <= RESIDENTIAL <= hi, k / len(ep)
    ev = social_care_log
    ends = ev[(ev["stage"] == "lac") & (ev["event"] == "end")].set_index(["family_id", "episode"])["detail"]
    assert (ends.astype(str) == ep.loc[ends.index, "detail"]).all()


def test_step_down_probability_by_outcome(social_care_log: pd.DataFrame) -> None:
    """At the close of social care, a step-down referral (source social_care_step_down,
    straight to a Level 3 plan, at the same moment) follows with step_down_probs[outcome].
    Wilson interval per outcome at 1 - ALPHA / 4."""
    ev = social_care_log
    outcome = ev[(ev["stage"] == "assessment") & (ev["event"] == "end")].set_index(["family_id", "episode"])
    closed_at = outcome["time"].copy()  # nfa: social care closes at the end of the assessment
    for stage in ("cin", "cp", "lac"):
        ep = _episodes(ev, stage)
        closed_at.loc[ep.index] = ep["end"]
    table = pd.DataFrame({"outcome": outcome["detail"].astype(str), "closed": closed_at}).dropna()
    downs = ev[(ev["event"] == "referral") & (ev["detail"] == "social_care_step_down")]
    down_at = pd.Series(
        downs["time"].to_numpy(), index=pd.MultiIndex.from_arrays([downs["family_id"], downs["episode"] - 1])
    )
    table["down"] = down_at.reindex(table.index)
    stepped = table["down"].notna()
    assert np.allclose(table.loc[stepped, "down"], table.loc[stepped, "closed"], atol=1e-9)
    for name, p in STEP_DOWN.items():
        sub = stepped[table["outcome"] == name]
        lo, hi = wilson(int(sub.sum()), len(sub), ALPHA / 4)
        assert lo <= p <= hi, (name, sub.mean())
    starts = ev[(ev["stage"] == "level3") & (ev["event"] == "start")]
    assert set(zip(downs["family_id"], downs["episode"])) <= set(zip(starts["family_id"], starts["episode"]))


# --------------------------------------------------------------------------- MST
AGE_MIN, AGE_MAX = 11, 14


def _mst_run(children_mean: float, referral_prob: float, reduction: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    d = _social_care_scenario(
        400,
        3650,
        mst={
            "therapists": 1000,
            "caseload_cap": 10,
            "duration": {"dist": "fixed", "value": 30},
            "referral_prob": referral_prob,
            "age_min": AGE_MIN,
            "age_max": AGE_MAX,
            "care_relative_reduction": reduction,
        },
    )
    d["family"]["children_mean"] = children_mean
    d["social_care"]["outcome_probs"] = {"nfa": 0.2, "cin": 0.2, "cp": 0.3, "lac": 0.3}
    res = sim.run_replication(scenario_from_dict(d), seed=8)
    return res.events, res.families


def _mst_table(ev: pd.DataFrame, fams: pd.DataFrame) -> pd.DataFrame:
    """Per family's first social care assessment: outcome, ages, whether it joined MST."""
    out = ev[(ev["stage"] == "assessment") & (ev["event"] == "end") & (ev["episode"] == 0)]
    table = out[["family_id", "detail"]].merge(fams, on="family_id")
    mst = ev[(ev["stage"] == "mst") & (ev["event"] == "join") & (ev["episode"] == 0)]["family_id"]
    table["mst"] = table["family_id"].isin(set(mst))
    table["detail"] = table["detail"].astype(str)
    return table


def test_mst_age_rule_one_child_families() -> None:
    """Exact, with one child per family (its age is known): with referral_prob 1, a family
    found CP- or care-bound starts MST if and only if its child is aged in
    [age_min, age_max] (both ends included); NFA and CIN families never do. A rule with
    an exclusive bound, or one that ignores age, fails."""
    ev, fams = _mst_run(1.0, 1.0)
    t = _mst_table(ev, fams)
    assert (t["children"] == 1).all()
    bound = t["detail"].isin(["cp", "lac"])
    in_range = t["oldest_age"].between(AGE_MIN, AGE_MAX)
    assert (t["mst"] == (bound & in_range)).all()
    # the boundary ages are exercised on both sides
    for age in (AGE_MIN - 1, AGE_MIN, AGE_MAX, AGE_MAX + 1):
        assert (bound & (t["oldest_age"] == age)).sum() > 10


def test_mst_age_rule_any_child_in_range() -> None:
    """Exact, several children: eligible if any child is in range. Decidable from the
    youngest and oldest ages: eligible when either is in range, ineligible when all are
    below (oldest < min) or all above (youngest > max)."""
    ev, fams = _mst_run(3.0, 1.0)
    t = _mst_table(ev, fams)
    t = t[t["detail"].isin(["cp", "lac"])]
    yes = t["youngest_age"].between(AGE_MIN, AGE_MAX) | t["oldest_age"].between(AGE_MIN, AGE_MAX)
    no = (t["oldest_age"] < AGE_MIN) | (t["youngest_age"] > AGE_MAX)
    assert yes.sum() > 200 and no.sum() > 200
    assert t.loc[yes, "mst"].all()
    assert not t.loc[no, "mst"].any()


def test_mst_referral_probability_among_eligible() -> None:
    """With referral_prob 0.4, the share of eligible CP/care-bound families (one child, aged
    in range) starting MST lies in its Wilson interval at 1 - ALPHA; no ineligible one does."""
    ev, fams = _mst_run(1.0, 0.4)
    t = _mst_table(ev, fams)
    bound = t["detail"].isin(["cp", "lac"])
    eligible = bound & t["oldest_age"].between(AGE_MIN, AGE_MAX)
    assert not t.loc[~eligible, "mst"].any()
    k, n = int(t.loc[eligible, "mst"].sum()), int(eligible.sum())
    lo, hi = wilson(k, n, ALPHA)
    assert lo <= 0.4 <= hi, k / n


def test_mst_averts_care_with_its_relative_reduction() -> None:
    """MST's ``care_relative_reduction`` 0.5: a care-bound family that completes MST avoids
    care (its therapy ends ``care_averted`` and it starts a CP plan instead) with probability
    0.5, and never otherwise: exact, every averted family starts CP, every other care-bound
    one care, and a CP-bound family's therapy always ends ``completed``. The averted share
    lies in its Wilson interval at 1 - ALPHA (a reduction ignored gives 0, one always
    applied gives 1)."""
    ev, fams = _mst_run(1.0, 1.0, reduction=0.5)
    t = _mst_table(ev, fams)
    first = ev[ev["episode"] == 0]
    ended = first[(first["stage"] == "mst") & (first["event"] == "end")].set_index("family_id")["detail"].astype(str)
    started = first[(first["event"] == "start") & first["stage"].isin(["cp", "lac"])]
    after = started.drop_duplicates("family_id").set_index("family_id")["stage"].astype(str)
    outcome = t.set_index("family_id")["detail"]
    done = ended.index.intersection(after.index)
    lac_bound = done[outcome[done] == "lac"]
    cp_bound = done[outcome[done] == "cp"]
    assert len(lac_bound) > 100 and len(cp_bound) > 100
    assert (ended[cp_bound] == "completed").all() and (after[cp_bound] == "cp").all()
    averted = ended[lac_bound] == "care_averted"
    assert ((ended[lac_bound] == "completed") | averted).all()
    assert (after[lac_bound] == averted.map({True: "cp", False: "lac"})).all()
    lo, hi = wilson(int(averted.sum()), len(lac_bound), ALPHA)
    assert lo <= 0.5 <= hi, averted.mean()

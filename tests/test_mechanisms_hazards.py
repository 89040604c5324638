"""Mechanism tests (known answers): the hazards of escalation and withdrawal while waiting.

Families queue for a key worker whose only slot is held for ever by the first family, so
every later family waits until it escalates or withdraws. The escalation hazard is
``h(t) = a exp(g t)`` with ``a = base (1 + m risk)`` (Gompertz with a risk multiplier), so
the survival curve is ``S(t) = exp(-a / g (exp(g t) - 1))`` and, if the model is right,
``S(T_i)`` of each family's waiting time is Uniform(0, 1) given its risk (probability
integral transform). Tolerance: one-sample Kolmogorov-Smirnov p-value above 0.001 divided
by the number of KS tests in the test (Bonferroni).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

import sim
from sim.config import scenario_from_dict

ALPHA = 0.001
HORIZON = 900.0
CUTOFF = HORIZON - 400.0  # families joining before this have (almost surely) left by the end
BASE, MULT, GROWTH = 0.005, 3.0, 0.015
WITHDRAW = 0.01


def _scenario(escalation: dict[str, float], withdrawal: float) -> Any:
    d: dict[str, Any] = {
        "name": "hazards",
        "run": {"start_date": "2022-01-01", "duration_days": HORIZON, "warmup_days": 0},
        "localities": {"town": {"referral_share": 1.0}},
        "referrals": {"sources": {"all": {"annual_rate": 2920, "entry": "level3"}}},
        "family": {"need_probs": {"level1": 0, "level2": 0.3, "level3": 0.4, "level4": 0.3}},
        "teams": {"town": {"workers": 1, "caseload_cap": 1}},
        "early_help": {"duration": {"dist": "fixed", "value": 1e7}},
        "waiting": {"escalation": escalation, "withdrawal_per_day": withdrawal},
        "social_care": {
            "assessment_duration": {"dist": "fixed", "value": 1},
            "outcome_probs": {"nfa": 1, "cin": 0, "cp": 0, "lac": 0},
            "cin_duration": {"dist": "fixed", "value": 1},
            "cp_duration": {"dist": "fixed", "value": 1},
            "lac_duration": {"dist": "fixed", "value": 1},
            "residential_share": 0,
            "step_down_probs": {"nfa": 0, "cin": 0, "cp": 0, "lac": 0},
        },
    }
    return scenario_from_dict(d)


def _waits(escalation: dict[str, float], withdrawal: float, seed: int) -> pd.DataFrame:
    """One row per family that joined the queue before CUTOFF: wait, how it ended, risk."""
    res = sim.run_replication(_scenario(escalation, withdrawal), seed=seed)
    q = res.events[res.events["stage"] == "level3"]
    joins = q[q["event"] == "join"].set_index("family_id")["time"]
    ends = q[q["event"].isin(["start", "leave"])].set_index("family_id")
    out = pd.DataFrame({"join": joins})
    out["end"] = ends["time"]
    out["how"] = ends["detail"].astype(str).where(ends["event"] == "leave", "served")
    out["risk"] = res.families.set_index("family_id")["risk"]
    out = out[out["join"] < CUTOFF]
    assert (out["how"] == "served").sum() == 1  # only the first family, served at once
    out = out[out["how"] != "served"]
    assert out["end"].notna().all(), "a family joining before the cut-off was still waiting"
    out["wait"] = out["end"] - out["join"]
    return out


def _gompertz_survival(t: np.ndarray, risk: np.ndarray) -> np.ndarray:
    a = BASE * (1 + MULT * risk)
    return np.exp(-a / GROWTH * np.expm1(GROWTH * t))


def test_escalation_survival_matches_gompertz_with_risk_multiplier() -> None:
    """No withdrawal: every wait ends in escalation, and S(T | risk) is Uniform(0, 1).
    KS test on all families and separately on the lower and upper halves of risk (3 tests,
    p > ALPHA / 3 each). A hazard ignoring risk (a = base) makes low- and high-risk
    families alike wait far longer than the curve says; a wrong growth bends the curve:
    both fail. Censoring: S(400) < 1e-50 at the lowest risk, so no one joining before the
    cut-off can still be waiting (checked)."""
    assert _gompertz_survival(np.array([400.0]), np.array([0.0]))[0] < 1e-50
    w = _waits({"base_per_day": BASE, "risk_multiplier": MULT, "growth_per_day": GROWTH}, 0.0, seed=1)
    assert (w["how"] == "escalated").all() and len(w) > 3000
    u = _gompertz_survival(w["wait"].to_numpy(), w["risk"].to_numpy())
    median = w["risk"].median()
    low = (w["risk"] <= median).to_numpy()
    for part in (u, u[low], u[~low]):
        p = stats.kstest(part, "uniform").pvalue
        assert p > ALPHA / 3, p


def test_escalation_hazard_is_proportional_to_one_plus_m_risk() -> None:
    """The same check as a regression: with g = 0 the wait is Exponential with rate
    base (1 + m risk), so rate x wait is Exponential(1) whatever the risk (KS on all, and
    on the lowest and highest risk tertiles: p > ALPHA / 3 each). Also, the mean of
    (1 + m risk) x wait over the families equals 1 / base within its 99.9% normal interval
    (the sd of an Exponential(1) mean over n is 1 / sqrt(n)). Censoring: S(400) <=
    exp(-16) at risk 0."""
    w = _waits({"base_per_day": 0.04, "risk_multiplier": 4.0, "growth_per_day": 0.0}, 0.0, seed=2)
    e = (0.04 * (1 + 4.0 * w["risk"]) * w["wait"]).to_numpy()
    r = w["risk"].to_numpy()
    t1, t2 = np.quantile(r, [1 / 3, 2 / 3])
    for part in (e, e[r <= t1], e[r >= t2]):
        assert stats.kstest(part, "expon").pvalue > ALPHA / 3
    z = float(stats.norm.isf(ALPHA / 2))
    assert abs(e.mean() - 1) < z / math.sqrt(len(e))


def test_withdrawal_competes_with_escalation_at_a_constant_hazard() -> None:
    """Both hazards: the wait ends at min(escalation, withdrawal), whose survival is
    S_esc(t | risk) x exp(-w t) (KS on the transform, p > ALPHA / 2), and given the wait,
    the chance that it ended by withdrawal is w / (w + h_esc(t)). The sum over families of
    that chance is the expected number of withdrawals; the observed number lies within
    the 99.9% normal interval of a sum of independent Bernoullis (Bonferroni: ALPHA / 2)."""
    w = _waits({"base_per_day": BASE, "risk_multiplier": MULT, "growth_per_day": GROWTH}, WITHDRAW, seed=3)
    t, r = w["wait"].to_numpy(), w["risk"].to_numpy()
    u = _gompertz_survival(t, r) * np.exp(-WITHDRAW * t)
    assert stats.kstest(u, "uniform").pvalue > ALPHA / 2
    h_esc = BASE * (1 + MULT * r) * np.exp(GROWTH * t)
    p_wd = WITHDRAW / (WITHDRAW + h_esc)
    observed = int((w["how"] == "withdrawn").sum())
    assert observed + int((w["how"] == "escalated").sum()) == len(w)
    z = float(stats.norm.isf(ALPHA / 4))
    assert abs(observed - p_wd.sum()) < z * math.sqrt(np.sum(p_wd * (1 - p_wd))), (observed, p_wd.sum())


def test_escalated_and_withdrawn_kpis_count_the_leaves_in_the_window() -> None:
    """Both hazards, a 300-day warm-up: ``escalated_level3`` and ``withdrawn_level3`` are the
    numbers of level 3 ``leave`` rows with that detail at or after day 300, from the log
    (a family that joined before the warm-up counts if it left after it). Both must be
    non-zero and some leaves must fall before the warm-up, so the rule is exercised."""
    from sim import kpis as K
    from sim.vocab import Stage

    sc = _scenario({"base_per_day": BASE, "risk_multiplier": MULT, "growth_per_day": GROWTH}, WITHDRAW)
    sc = sc.model_copy(update={"run": sc.run.model_copy(update={"warmup_days": 300.0})})
    res = sim.run_replication(sc, seed=5)
    q = res.events[(res.events["stage"] == "level3") & (res.events["event"] == "leave")]
    assert (q["time"] < 300).sum() > 10
    inside = q[q["time"] >= 300]["detail"].astype(str)
    for kpi, how in ((K.escalated(Stage.LEVEL3), "escalated"), (K.withdrawn(Stage.LEVEL3), "withdrawn")):
        assert res.kpis[kpi.name] == (inside == how).sum() > 10, how

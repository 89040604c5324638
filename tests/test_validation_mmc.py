"""Validation: the model reduced to M/M/c (configs/validation/mmc.yaml) against queueing theory.

Each check uses independent replications (different ``rep``, same root seed) and a t
confidence interval over the replication means. Twelve intervals are checked (six designs
x Erlang C and Little's law), so each is a Bonferroni-adjusted 1 - 0.05/12 interval: the
whole family of checks has at least 95% confidence, and a correct model fails it with
probability at most 5% for a random seed (fixed seeds make the outcome repeatable).
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.config import scenario_from_dict
from tests.conftest import mmc_dict
from tests.support import erlang_c_wait, t_interval

N_CHECKS = 12
LEVEL = 1 - 0.05 / N_CHECKS
REPS = 20
MEAN_SERVICE = 1.0  # days; the time scale is arbitrary in M/M/c


# (workers, caseload_cap) -> c = 2 and c = 10; horizons give ~15k-25k families per replication
DESIGNS = [(1, 2, rho, 10_000) for rho in (0.3, 0.6, 0.85)] + [(2, 5, rho, 3_000) for rho in (0.3, 0.6, 0.85)]


@pytest.mark.slow
@pytest.mark.parametrize(("workers", "cap", "rho", "days"), DESIGNS, ids=lambda v: str(v))
def test_mmc_matches_erlang_c_and_littles_law(workers: int, cap: int, rho: float, days: float) -> None:
    c = workers * cap
    mu = 1 / MEAN_SERVICE
    lam = rho * c * mu
    sc = scenario_from_dict(
        mmc_dict(rate_per_day=lam, workers=workers, cap=cap, mean=MEAN_SERVICE, days=days, warmup=days / 10)
    )
    window = days - days / 10
    waits, lq, lam_w, util = [], [], [], []
    for rep in range(REPS):
        k = sim.run_replication(sc, rep=rep, seed=2024).kpis
        util.append(k["utilisation_team_town"])
        waits.append(k["wait_level3_mean_days"])
        lq.append(k["queue_level3_mean"])
        # joins in the window: served + still waiting (no withdrawals in M/M/c)
        lam_w.append((k["wait_level3_served"] + k["waiting_level3_at_end"]) / window * k["wait_level3_mean_days"])
    waits_a, lq_a, lam_w_a = np.array(waits), np.array(lq), np.array(lam_w)

    exact = erlang_c_wait(c, lam, mu)
    lo, hi = t_interval(waits_a, LEVEL)
    assert lo <= exact <= hi, f"Erlang C Wq={exact:.4f} outside {LEVEL:.4f} CI [{lo:.4f}, {hi:.4f}]"

    # Little's law on the same runs: time-average queue length = arrival rate x mean wait.
    # Paired per replication; the interval is for the mean difference L - lambda W.
    lo, hi = t_interval(lq_a - lam_w_a, LEVEL)
    assert lo <= 0 <= hi, f"L - lambda W CI [{lo:.4f}, {hi:.4f}] excludes 0 (L={lq_a.mean():.4f})"
    # and the utilisation is rho (Little's law for the servers). Tolerance: busy server-days in
    # the window are about a compound Poisson sum of lam x window exponential service times, so
    # one replication's utilisation has sd ~ sqrt(2 lam / window) / (c mu): at most 1.9% of rho
    # (c = 2, rho = 0.3); the mean of 20 independent replications has sd <= 0.45% of rho, and
    # 5% is over 10 of those sd, room for the extra variance of long busy periods at rho = 0.85.
    assert float(np.mean(util)) == pytest.approx(rho, rel=0.05)


def test_mmc_erlang_c_reduced_check_in_the_fast_run() -> None:
    """A reduced Erlang C and Little's law check that runs in the default (fast) suite: c = 4,
    rho = 0.75, 12 replications of ~4,500 families. One check of two intervals at a 99.9%
    two-sided t level (the fast suite's false-alarm rate for mechanism tests): a correct model
    fails with probability 0.2% at a random seed, and the fixed seed makes the outcome repeatable.
    Power, measured at this seed: the interval's half width is about 24% of Wq = 0.51 days, and
    10% more arrivals than specified give a mean wait of 0.86 days (interval 0.65 to 1.08),
    which excludes the exact value, so a rate off by 10% fails the check."""
    c, rho, days, reps = 4, 0.75, 1_500.0, 12
    lam = rho * c / MEAN_SERVICE
    sc = scenario_from_dict(mmc_dict(rate_per_day=lam, workers=2, cap=2, mean=MEAN_SERVICE, days=days, warmup=150))
    window = days - 150
    ks = [sim.run_replication(sc, rep=rep, seed=99).kpis for rep in range(reps)]
    waits = np.array([k["wait_level3_mean_days"] for k in ks])
    lq = np.array([k["queue_level3_mean"] for k in ks])
    lam_w = np.array([(k["wait_level3_served"] + k["waiting_level3_at_end"]) / window * w for k, w in zip(ks, waits)])
    exact = erlang_c_wait(c, lam, 1 / MEAN_SERVICE)
    lo, hi = t_interval(waits, 0.999)
    assert lo <= exact <= hi, (exact, lo, hi)
    assert (hi - lo) / 2 < 0.3 * exact  # the check has power: the interval is narrow
    lo, hi = t_interval(lq - lam_w, 0.999)
    assert lo <= 0 <= hi, (lo, hi)

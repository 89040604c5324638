"""Referral times and sources: a non-homogeneous Poisson process by thinning.

Source ``s`` refers at rate ``annual_rate_s / 365 * season_s[month(t)] * (1 + growth_s) ** (t / 365)``
per day. Candidates come from a homogeneous process at the maximum total rate; one uniform
per candidate both thins it and picks its source. Candidates are drawn in fixed-size chunks,
so a shorter horizon gives a prefix of a longer one's referrals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np

from sim.config import Referrals

__all__ = ["referral_schedule"]

_CHUNK = 4096


def _month_index(start: dt.date, t: np.ndarray) -> np.ndarray:
    days = np.datetime64(start, "D") + np.floor(t).astype("timedelta64[D]")
    return days.astype("datetime64[M]").astype(np.int64) % 12


def referral_schedule(
    referrals: Referrals,
    start: dt.date,
    horizon: float,
    rng: np.random.Generator,
    volume: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Referral times (days, ascending, < ``horizon``) and their source indices.

    Source indices refer to ``list(referrals.sources)``. ``volume(t)``, when given, multiplies
    every source's rate (localities growing at their own rates); it must be a sum of
    exponentials in ``t`` (convex), so its maximum on ``[0, horizon]`` is at an end.
    """
    sources = list(referrals.sources.values())
    rates = np.array([s.annual_rate for s in sources]) / 365.0
    if referrals.process == "deterministic":
        gap = 1.0 / rates[0] if rates[0] > 0 else np.inf
        times = np.arange(1, int(horizon / gap) + 2) * gap if np.isfinite(gap) else np.empty(0)
        times = times[times < horizon]
        return times, np.zeros(len(times), dtype=np.int64)
    growth = np.array([s.annual_growth for s in sources])
    season = np.array([s.seasonality or referrals.seasonality for s in sources])  # (S, 12)
    peak_growth = np.maximum((1.0 + growth) ** (horizon / 365.0), 1.0)
    lam_max = float(np.sum(rates * season.max(axis=1) * peak_growth))
    if volume is not None:
        lam_max *= float(np.max(volume(np.array([0.0, horizon]))))
    if lam_max <= 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    out_t, out_s = [], []
    t0 = 0.0
    while t0 < horizon:
        cand = t0 + np.cumsum(rng.exponential(1.0 / lam_max, size=_CHUNK))
        v = rng.random(_CHUNK) * lam_max
        t0 = float(cand[-1])
        keep = cand < horizon
        cand, v = cand[keep], v[keep]
        lam = (
            rates[None, :] * season[:, _month_index(start, cand)].T * (1.0 + growth[None, :]) ** (cand[:, None] / 365.0)
        )
        if volume is not None:
            lam = lam * volume(cand)[:, None]
        src = (v[:, None] >= np.cumsum(lam, axis=1)).sum(axis=1)
        accepted = src < len(sources)
        out_t.append(cand[accepted])
        out_s.append(src[accepted])
    return np.concatenate(out_t), np.concatenate(out_s).astype(np.int64)

"""Warm-up statistics over output series: MSER-5 truncation and whether it found a steady state.

Pure statistics, no simulation: every function takes an array (or a long table of monthly
series) and returns numbers; :mod:`sim.warmup` turns them into verdicts and sentences, and
:func:`sim.experiment.diagnostics` stores them.

Functions
---------
mser
    MSER-5 truncation point of one output series (White 1997; White, Cobb & Spratt 2000).
mser_cap
    The largest truncation point MSER may choose in a series that long.
drift
    Whether what MSER keeps still trends (no steady state within the run), and which way.
suggest_warmup
    MSER-5 on the ensemble mean (across replications) of a long time-series table.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sim.analysis import t_quantile

__all__ = ["TREND_LEVEL", "TREND_SHARE", "drift", "mser", "mser_cap", "suggest_warmup"]


def _batch_means(series: npt.ArrayLike, batch: int) -> npt.NDArray[np.float64]:
    """The means of ``len(series) // batch`` non-overlapping batches (a trailing partial batch
    is ignored), after checking the arguments as :func:`mser` documents."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch!r}")
    x = np.asarray(series, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"mser needs a one-dimensional series, got shape {x.shape}")
    if np.isnan(x).any():
        raise ValueError("mser needs a series without NaN (drop or fill missing points first)")
    k = len(x) // batch
    return x[: k * batch].reshape(k, batch).mean(axis=1)


def _mser_statistic(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``MSER(d)`` of batch means ``z`` for every truncation ``d = 0 .. k - 1`` (no cap)."""
    k = len(z)
    # Sum of squared deviations of the tail z[d:] for every d, by Welford's update run from
    # the end: stable, and exactly 0 over an exactly constant tail (running sums of squares
    # minus squared sums leave rounding noise there, which would break ties at random).
    ss = np.zeros(k)
    mean = m2 = 0.0
    for count, j in enumerate(range(k - 1, -1, -1), start=1):
        delta = float(z[j]) - mean
        mean += delta / count
        m2 += delta * (float(z[j]) - mean)
        ss[j] = max(m2, 0.0)
    return ss / (k - np.arange(k, dtype=float)) ** 2


def _argmin(stat: npt.NDArray[np.float64]) -> int:
    """Smallest index attaining the minimum, near-ties (relative 1e-9) going to the smaller."""
    return int(np.flatnonzero(stat <= stat.min() * (1.0 + 1e-9))[0])


def mser(series: npt.ArrayLike, batch: int = 5) -> int:
    """MSER-``batch`` truncation point (MSER-5 by default) of one output series.

    The series is cut into ``k = len(series) // batch`` non-overlapping batches (a trailing
    partial batch is ignored) and replaced by the batch means ``z_1 .. z_k``. For each
    truncation ``d`` (in batches) with ``d < k / 2`` (so at least half the batches remain),

    ``MSER(d) = sum_{j > d} (z_j - zbar_d)^2 / (k - d)^2``,

    where ``zbar_d`` is the mean of the remaining batch means; the chosen ``d`` minimises it
    (the smallest such ``d`` on ties, values within a relative 1e-9 counting as tied). The
    answer is therefore at most half the run: :func:`drift` says when the series has no
    steady state within the run (the cap bites, or it is still trending), and the answer
    then means nothing.

    Parameters
    ----------
    series : array_like of float
        One-dimensional output series in time order (for example one replication's daily
        queue length, or an ensemble mean across replications), free of NaN.
    batch : int, default 5
        Observations per batch (>= 1).

    Returns
    -------
    int
        Truncation point in original observations (``d * batch``): delete that many
        observations from the start. 0 when there are fewer than 2 batches.

    Raises
    ------
    ValueError
        If ``batch < 1``, the series is not one-dimensional, or it contains NaN.
    """
    z = _batch_means(series, batch)
    if len(z) < 2:
        return 0
    # d runs up to the cap: at least half the batches remain
    return _argmin(_mser_statistic(z)[: mser_cap(len(z) * batch, batch) // batch + 1]) * batch


def mser_cap(n: int, batch: int = 5) -> int:
    """The largest truncation point :func:`mser` may choose in a series of ``n`` observations.

    With ``k = n // batch`` batches, MSER keeps at least half of them: ``d < k / 2``, so the
    largest ``d`` is ``(k + 1) // 2 - 1`` batches. A truncation point equal to it says only
    that the series may still be changing where MSER stops looking: a longer run could put
    the point later.

    Parameters
    ----------
    n : int
        Observations in the series.
    batch : int, default 5
        As for :func:`mser`.

    Returns
    -------
    int
        The cap in original observations (``d * batch``); 0 when there are fewer than 2 batches.
    """
    k = n // batch
    return ((k + 1) // 2 - 1) * batch if k >= 2 else 0


TREND_LEVEL = 0.95
"""A kept series trends (:func:`drift`) when its least-squares slope differs from zero at this
confidence (two-sided t-test) ..."""

TREND_SHARE = 0.05
"""... and the change it fits across the kept batches is more than this share of their mean
(so a tiny drift, merely significant over many replications, does not count)."""


def drift(series: npt.ArrayLike, batch: int = 5) -> str:
    """Whether MSER-``batch`` finds a steady state within the run, and if not which way the
    series is heading.

    With the batch means ``z_1 .. z_k`` and the truncation ``d`` of :func:`mser`, the batches
    MSER keeps, ``z_{d+1} .. z_k`` (``m >= 3`` of them), should have no trend. There is no
    steady state within the run when they still trend: the least-squares slope of the kept
    batch means against their index differs from zero at :data:`TREND_LEVEL` (t-test on
    ``m - 2`` degrees of freedom) and the change it fits over them, ``slope x (m - 1)``, is
    more than :data:`TREND_SHARE` of their mean.

    This covers both ways :func:`mser`'s answer fails. A series still changing when MSER's
    look ends (it stops at half the run) has its minimum at or near that cap, and what MSER
    keeps still carries the change (a list growing through the whole run; lengthening the
    run to follow the answer only moves the cap). And a series growing ever faster (variance
    mostly in its last batches) can make MSER cut nothing at all, ``d = 0``, while it grows
    throughout. (A minimum at or within one batch of the cap alone is not enough: on white
    noise MSER's minimum lands there by chance in about 33% of runs of 4 batches, 29% of 7,
    13% of 12 and 3% of 24; this rule says "no steady state" in under 5% of them.)

    Parameters
    ----------
    series : array_like of float
        As for :func:`mser`.
    batch : int, default 5
        As for :func:`mser`.

    Returns
    -------
    str
        ``""`` when MSER finds a steady state (or the series is too short to tell: fewer
        than 3 batches kept); otherwise ``"growing"`` or ``"falling"``, by the slope's sign.

    Raises
    ------
    ValueError
        As for :func:`mser`.
    """
    z = _batch_means(series, batch)
    kept = z[mser(series, batch) // batch :] if len(z) >= 2 else z
    m = len(kept)
    if m < 3:
        return ""
    t = np.arange(m, dtype=float) - (m - 1) / 2.0
    slope = float(t @ kept) / float(t @ t)
    residual = kept - float(kept.mean()) - slope * t
    se = math.sqrt(float(residual @ residual) / (m - 2) / float(t @ t))
    change = abs(slope) * (m - 1)
    if change <= TREND_SHARE * abs(float(kept.mean())) or abs(slope) <= t_quantile(TREND_LEVEL, m - 2) * se:
        return ""
    return "growing" if slope > 0 else "falling"


def _transient(z: npt.NDArray[np.float64], d: int) -> bool:
    """Whether cutting the first ``d`` of the batch means ``z`` removes a transient.

    The mean of the ``d`` cut batch means differs from the mean of the ``m`` kept ones by more
    than :data:`TREND_SHARE` of the kept mean, and at :data:`TREND_LEVEL` by a two-sided t-test
    with the kept batches' standard deviation (``m - 1`` degrees of freedom). False when
    nothing is cut (``d < 1``) or fewer than 2 batches are kept.
    """
    cut, kept = z[:d], z[d:]
    m = len(kept)
    if d < 1 or m < 2:
        return False
    gap = abs(float(cut.mean() - kept.mean()))
    se = float(kept.std(ddof=1)) * math.sqrt(1.0 / d + 1.0 / m)
    return gap > TREND_SHARE * abs(float(kept.mean())) and gap > t_quantile(TREND_LEVEL, m - 1) * se


def suggest_warmup(series: pd.DataFrame, column: str, batch: int = 5) -> dict[str, Any]:
    """Warm-up length from MSER on the ensemble mean across replications.

    The measure ``column`` is averaged across replications at each ``day`` (the ensemble
    mean of Welch's method, NaN values skipped), the days are put in order, days with no
    value are dropped, and :func:`mser` chooses the truncation point.

    Parameters
    ----------
    series : pandas.DataFrame
        Long table with columns ``rep``, ``day`` (days since the start of the run) and
        ``column``, one row per replication per time point (for example monthly open plans).
    column : str
        The measure to examine.
    batch : int, default 5
        MSER batch size, in time points.

    Returns
    -------
    dict
        ``"column"`` (str): ``column``; ``"truncation_index"`` (int): MSER truncation point
        as an index into the day-ordered ensemble-mean series (0 = no truncation);
        ``"warmup_days"`` (float, days): the ``day`` at that index (NaN for an empty
        table); ``"n_points"`` (int): length of the ensemble-mean series (distinct days
        with a value); ``"drift"`` (str): :func:`drift` of that series, ``""`` when MSER
        finds a steady state within the run (else the truncation point means nothing);
        ``"at_cap"`` (bool): the point is :func:`mser_cap`, the largest MSER may choose in a
        run this long (a positive one); ``"transient"`` (bool): what MSER cuts differs from
        what it keeps (:func:`_transient`). At the cap with a transient the series may still
        be changing at the end of the run (only a longer run can tell); without, the point at
        the cap is chance (on steady noise MSER's minimum often lands there).

    Raises
    ------
    ValueError
        If ``rep``, ``day`` or ``column`` is missing, or ``batch < 1``.
    """
    missing = [c for c in ("rep", "day", column) if c not in series.columns]
    if missing:
        raise ValueError(f"series table lacks column(s) {missing}")
    values = pd.to_numeric(series[column], errors="coerce").astype("float64")
    days = pd.to_numeric(series["day"], errors="coerce").astype("float64")
    ensemble = values.groupby(days).mean().sort_index().dropna()
    values_in_order = ensemble.to_numpy(dtype=float)
    i = mser(values_in_order, batch)
    n = len(ensemble)
    warmup = float(ensemble.index[i]) if n else float("nan")
    return {
        "column": column,
        "truncation_index": i,
        "warmup_days": warmup,
        "n_points": n,
        "drift": drift(values_in_order, batch),
        "at_cap": bool(i > 0 and i == mser_cap(n, batch)),
        "transient": _transient(_batch_means(values_in_order, batch), i // batch),
    }

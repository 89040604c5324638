"""Output analysis over tidy tables of replication results: pure statistics, no simulation.

Every function takes pandas tables (or arrays) and returns new tables; nothing here plots,
reads or writes files, or runs the model.

The *replications table* has one row per replication: ``scenario`` (str), ``rep`` (int),
``seed`` (int), then one float column per KPI (for example ``wait_level3_mean_days``).
A KPI value of NaN means "nothing to measure in that replication"; every statistic drops
NaN values per KPI, and ``n`` always counts the values actually used.

Intervals are Student t intervals on the mean across replications, which are independent
and identically distributed by construction (independent random-number streams per
replication). Units of ``mean``, ``sd``, ``ci_low``, ``ci_high`` and ``half_width`` are the
units of the KPI itself (days, families, cases, ...); relative widths are dimensionless.

Functions
---------
kpi_columns
    The KPI columns of a replications table.
t_interval
    Mean and t interval of one sample.
summarise
    One row per KPI: mean, sd, interval, relative precision.
paired_differences
    Option minus base, matched on ``rep`` (common random numbers), with the paired and the
    unpaired (Welch) interval and the variance reduction factor.
replications_needed
    Confidence-interval method for the number of replications (Hoad, Robinson & Davies 2010).
t_quantile
    Two-sided Student t critical value.

The warm-up statistics (MSER-5 and its steady-state checks) are in :mod:`sim.warmup_stats`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "ID_COLUMNS",
    "N_NEEDED_CAP",
    "PAIRED_COLUMNS",
    "REPLICATIONS_NEEDED_COLUMNS",
    "SUMMARY_COLUMNS",
    "kpi_columns",
    "paired_differences",
    "replications_needed",
    "summarise",
    "t_interval",
    "t_quantile",
]

ID_COLUMNS = ("scenario", "rep", "seed", "option")
"""Bookkeeping columns of a replications table, never treated as KPIs."""

N_NEEDED_CAP = 100_000
"""Largest number of replications :func:`replications_needed` searches up to."""

SUMMARY_COLUMNS = ("kpi", "mean", "sd", "ci_low", "ci_high", "n", "half_width", "rel_half_width")
"""Columns of :func:`summarise`, in order."""

PAIRED_COLUMNS = (
    "kpi",
    "base_mean",
    "option_mean",
    "diff_mean",
    "diff_sd",
    "ci_low",
    "ci_high",
    "n",
    "distinguishable",
    "unpaired_ci_low",
    "unpaired_ci_high",
    "variance_ratio",
)
"""Columns of :func:`paired_differences`, in order."""

REPLICATIONS_NEEDED_COLUMNS = ("kpi", "n_now", "rel_half_width_now", "n_needed", "sufficient")
"""Columns of :func:`replications_needed`, in order."""

_NAN = float("nan")


# --------------------------------------------------------------------------- helpers


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must be strictly between 0 and 1, got {level!r}")


def t_quantile(level: float, df: float) -> float:
    """Two-sided critical value ``t_{df, (1 + level) / 2}`` (``df`` may be fractional)."""
    from scipy import stats  # imported here: scipy.stats costs ~45 MB, and only intervals need it

    return float(stats.t.ppf(0.5 + level / 2.0, df))


def _clean(x: npt.ArrayLike) -> np.ndarray:
    """``x`` as a 1-D float array with NaN removed."""
    if isinstance(x, (pd.Series, pd.Index)):
        arr = np.asarray(x.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    else:
        arr = np.asarray(x, dtype=float)
    arr = arr.ravel()
    return arr[~np.isnan(arr)]


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """One column as a float array, NaN (or ``pd.NA``) kept as NaN."""
    return np.asarray(frame[name].to_numpy(dtype=float, na_value=np.nan), dtype=float)


def _mean_sd(x: np.ndarray) -> tuple[float, float]:
    """Mean (NaN if empty) and sample sd with ``ddof=1`` (NaN if fewer than 2 values)."""
    n = len(x)
    mean = float(np.mean(x)) if n else _NAN
    sd = float(np.std(x, ddof=1)) if n >= 2 else _NAN
    return mean, sd


def _frame(
    rows: list[tuple[Any, ...]], columns: Sequence[str], ints: Sequence[str] = (), bools: Sequence[str] = ()
) -> pd.DataFrame:
    """Rows -> table with fixed dtypes (also when empty): ``kpi`` object, ``ints`` int64,
    ``bools`` bool, everything else float64."""
    data: dict[str, Any] = {}
    for j, c in enumerate(columns):
        values = [r[j] for r in rows]
        if c == "kpi":
            data[c] = pd.Series(values, dtype=object)
        elif c in ints:
            data[c] = pd.Series(values, dtype="int64")
        elif c in bools:
            data[c] = pd.Series(values, dtype=bool)
        else:
            data[c] = pd.Series(values, dtype="float64")
    return pd.DataFrame(data, columns=list(columns))


def _resolve_kpis(reps: pd.DataFrame, kpis: Sequence[str] | None, what: str = "table") -> list[str]:
    if kpis is None:
        return kpi_columns(reps)
    if isinstance(kpis, str):
        kpis = [kpis]
    missing = [k for k in kpis if k not in reps.columns]
    if missing:
        raise ValueError(f"KPI column(s) not in the {what}: {missing}")
    return list(kpis)


# --------------------------------------------------------------------------- public API


def kpi_columns(reps: pd.DataFrame) -> list[str]:
    """The KPI columns of a replications table, in table order.

    Parameters
    ----------
    reps : pandas.DataFrame
        Replications table (one row per replication).

    Returns
    -------
    list of str
        Every column with a numeric (integer or float) dtype that is not in
        :data:`ID_COLUMNS`. Boolean columns are treated as bookkeeping flags, not KPIs;
        string, categorical, datetime and object columns are never KPIs.
    """
    out: list[str] = []
    for name, dtype in reps.dtypes.items():
        if name in ID_COLUMNS or pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            continue
        out.append(str(name))
    return out


def t_interval(x: npt.ArrayLike, level: float = 0.95) -> tuple[float, float, float, int]:
    """Sample mean and two-sided Student t confidence interval for the population mean.

    Parameters
    ----------
    x : array_like of float
        Sample (for example one KPI across replications, in the KPI's units). NaN values
        are dropped first.
    level : float, default 0.95
        Confidence level, strictly between 0 and 1 (dimensionless).

    Returns
    -------
    mean : float
        Sample mean of the non-NaN values (NaN if there are none), in the units of ``x``.
    low, high : float
        ``mean -/+ t_{n-1, (1+level)/2} * s / sqrt(n)``, in the units of ``x``. NaN when
        ``n < 2``; equal to ``mean`` when the sample is constant (``s = 0``).
    n : int
        Number of non-NaN values used.
    """
    _check_level(level)
    arr = _clean(x)
    n = len(arr)
    mean, sd = _mean_sd(arr)
    if n < 2:
        return mean, _NAN, _NAN, n
    half = t_quantile(level, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half, n


def summarise(
    reps: pd.DataFrame,
    kpis: Sequence[str] | None = None,
    level: float = 0.95,
    nonnegative: Collection[str] = (),
    at_most_one: Collection[str] = (),
    at_most: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Mean, sd and t interval of each KPI across replications.

    For a KPI in ``nonnegative`` (a count, a wait, a cost: its true mean cannot be below
    zero) the interval is the t interval truncated at zero: ``[max(0, low), high]``; for one
    in ``at_most_one`` (a part of its whole: a share of families, busy slots over slots when
    a slot cannot be held twice) it is truncated at one: ``[low, min(1, high)]``. The
    truncated interval contains the true mean whenever the t interval does, so its coverage
    is at least the nominal level; ``half_width`` stays ``high - mean`` (before truncation
    at one, so ``rel_half_width`` still measures the precision).

    Parameters
    ----------
    reps : pandas.DataFrame
        Replications table (one row per replication).
    kpis : sequence of str, optional
        KPI columns to summarise, in output order; default :func:`kpi_columns` of ``reps``.
    level : float, default 0.95
        Confidence level (dimensionless).
    nonnegative : collection of str, optional
        KPIs whose true mean cannot be below zero.
    at_most_one : collection of str, optional
        KPIs whose true mean cannot be above one (fractions of a whole).
    at_most : mapping of str to float, optional
        KPIs whose true mean cannot be above a bound (open plans: their slots), truncated there.

    Returns
    -------
    pandas.DataFrame
        One row per KPI with columns :data:`SUMMARY_COLUMNS`:

        ``kpi`` (str); ``mean``, ``sd`` (``ddof=1``), ``ci_low``, ``ci_high``,
        ``half_width`` (the t interval's ``high - mean``), all in the KPI's units; ``n`` (int, non-NaN
        replications used); ``rel_half_width`` = ``half_width / |mean|`` (dimensionless,
        NaN when the mean is 0 or undefined). ``sd`` and the interval are NaN when
        ``n < 2``; a constant KPI has ``sd = 0`` and a zero-width interval.

    Raises
    ------
    ValueError
        If a requested KPI is not a column of ``reps`` or ``level`` is not in (0, 1).
    """
    _check_level(level)
    names = _resolve_kpis(reps, kpis)
    rows = []
    for k in names:
        x = _clean(_column(reps, k))
        mean, low, high, n = t_interval(x, level)
        if k in nonnegative and low < 0:
            low = 0.0
        _, sd = _mean_sd(x)
        half = high - mean
        high = min(high, 1.0 if k in at_most_one else math.inf, (at_most or {}).get(k, math.inf))
        rel = half / abs(mean) if mean != 0 and not math.isnan(mean) else _NAN
        rows.append((k, mean, sd, low, high, n, half, rel))
    return _frame(rows, SUMMARY_COLUMNS, ints=("n",))


def _check_reps(table: pd.DataFrame, what: str) -> None:
    if "rep" not in table.columns:
        raise ValueError(f"{what} table has no 'rep' column to pair replications on")
    dup = table["rep"][table["rep"].duplicated()]
    if len(dup):
        raise ValueError(f"{what} table has duplicate reps {sorted(set(dup.tolist()))}; cannot pair replications")


def paired_differences(
    base: pd.DataFrame,
    option: pd.DataFrame,
    kpis: Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Option minus base per replication, matched on ``rep`` (common random numbers).

    Replication ``r`` of the option is paired with replication ``r`` of the base (inner
    join on ``rep``). For each KPI only pairs where both values are non-NaN are used, and
    every statistic in that KPI's row is computed from those same ``n`` pairs.

    Parameters
    ----------
    base, option : pandas.DataFrame
        Replications tables of the base scenario and of the option, each with unique ``rep``.
    kpis : sequence of str, optional
        KPIs to compare; default the :func:`kpi_columns` of ``base`` that are also columns
        of ``option`` (in ``base`` order).
    level : float, default 0.95
        Confidence level (dimensionless).

    Returns
    -------
    pandas.DataFrame
        One row per KPI with columns :data:`PAIRED_COLUMNS`:

        ``kpi``; ``base_mean``, ``option_mean``, ``diff_mean`` (option - base), ``diff_sd``
        (sd of the per-replication differences, ``ddof=1``), ``ci_low``/``ci_high`` (paired
        t interval for the mean difference, ``n - 1`` df), all in the KPI's units; ``n``
        (int, pairs used); ``distinguishable`` (bool: the paired interval excludes 0; False
        when the interval is NaN); ``unpaired_ci_low``/``unpaired_ci_high`` (Welch t
        interval for ``option_mean - base_mean`` treating the two samples as independent,
        Welch-Satterthwaite df), in the KPI's units; ``variance_ratio`` =
        ``(s_b^2/n + s_o^2/n) / (s_d^2/n)``, the factor by which pairing (common random
        numbers) reduces the variance of the estimated difference (dimensionless; > 1 means
        pairing helped; NaN when ``n < 2`` or ``s_d = 0``).

    Raises
    ------
    ValueError
        If either table lacks ``rep`` or has duplicate reps, the tables share no reps, a
        requested KPI is missing from either table, or ``level`` is not in (0, 1).
    """
    _check_level(level)
    _check_reps(base, "base")
    _check_reps(option, "option")
    if kpis is None:
        names = [k for k in kpi_columns(base) if k in option.columns]
    else:
        names = _resolve_kpis(base, kpis, "base table")
        _resolve_kpis(option, names, "option table")
    b = base.set_index("rep")
    o = option.set_index("rep")
    common = b.index.intersection(o.index).sort_values()
    if len(common) == 0:
        raise ValueError(
            f"base and option share no reps (base has {len(b)} rows, option has {len(o)}); "
            "paired differences need the same replication numbers in both"
        )
    b = b.loc[common]
    o = o.loc[common]
    rows = []
    for k in names:
        xb_all, xo_all = _column(b, k), _column(o, k)
        ok = ~(np.isnan(xb_all) | np.isnan(xo_all))
        xb, xo = xb_all[ok], xo_all[ok]
        d = xo - xb
        n = len(d)
        mb, sb = _mean_sd(xb)
        mo, so = _mean_sd(xo)
        dm, low, high, _ = t_interval(d, level)
        _, sd_d = _mean_sd(d)
        distinguishable = bool(low > 0 or high < 0)  # NaN compares False
        if n >= 2:
            vb, vo = sb**2 / n, so**2 / n
            se2 = vb + vo
            if se2 > 0:
                df = se2**2 / ((vb**2 + vo**2) / (n - 1))
                uhalf = t_quantile(level, df) * math.sqrt(se2)
            else:
                uhalf = 0.0
            ulow, uhigh = (mo - mb) - uhalf, (mo - mb) + uhalf
            ratio = se2 / (sd_d**2 / n) if sd_d > 0 else _NAN
        else:
            ulow = uhigh = ratio = _NAN
        rows.append((k, mb, mo, dm, sd_d, low, high, n, distinguishable, ulow, uhigh, ratio))
    return _frame(rows, PAIRED_COLUMNS, ints=("n",), bools=("distinguishable",))


def _n_needed(mean: float, sd: float, rel_precision: float, level: float, absolute: float = 0.0) -> float:
    """Smallest ``n >= 2`` with ``t_{n-1} * sd / sqrt(n) <= max(rel_precision * |mean|, absolute)``,
    :data:`N_NEEDED_CAP` if even that many are not enough, NaN if undefined."""
    target = max(rel_precision * abs(mean), absolute)
    if math.isnan(mean) or math.isnan(sd) or not target > 0:
        return _NAN

    def ok(n: int) -> bool:
        return t_quantile(level, n - 1) * sd / math.sqrt(n) <= target

    if ok(2):
        return 2.0
    if not ok(N_NEEDED_CAP):
        return float(N_NEEDED_CAP)
    # The half width is strictly decreasing in n (both t_{n-1} and 1/sqrt(n) decrease), so
    # bisect: ok(lo) is False, ok(hi) is True.
    lo, hi = 2, N_NEEDED_CAP
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return float(hi)


def replications_needed(
    reps: pd.DataFrame,
    kpis: Sequence[str] | None = None,
    rel_precision: float = 0.05,
    level: float = 0.95,
    absolute: float | Mapping[str, float] = 0.0,
) -> pd.DataFrame:
    """Replications needed for a relative or absolute precision, by the confidence-interval method.

    Hoad, Robinson & Davies (2010, JORS 61:1632-1644): taking the current sample mean
    ``xbar`` and sd ``s`` as the truth, the number of replications needed is the smallest
    ``n >= 2`` with ``t_{n-1, (1+level)/2} * s / sqrt(n) <= max(rel_precision * |xbar|, absolute)``:
    the first ``n`` meeting either target. This is the one-shot projection; the sequential
    procedure re-estimates after running more (``xbar`` and ``s`` from few are uncertain).

    Parameters
    ----------
    reps : pandas.DataFrame
        Replications table (one row per replication).
    kpis : sequence of str, optional
        KPIs to assess; default :func:`kpi_columns` of ``reps``.
    rel_precision : float, default 0.05
        Target half width as a fraction of ``|mean|`` (dimensionless, > 0).
    level : float, default 0.95
        Confidence level (dimensionless).
    absolute : float or mapping of str to float, default 0
        A half width this small (in the KPI's units; per KPI, 0 for one not named) is enough
        whatever the mean (>= 0).

    Returns
    -------
    pandas.DataFrame
        One row per KPI with columns :data:`REPLICATIONS_NEEDED_COLUMNS`: ``kpi``;
        ``n_now`` (int, non-NaN replications); ``rel_half_width_now`` (dimensionless, as in
        :func:`summarise`); ``n_needed`` (float holding an integer count; NaN when the sd is
        NaN, i.e. ``n_now < 2``, or the mean is 0 and ``absolute`` is 0; a constant KPI needs 2;
        :data:`N_NEEDED_CAP` when even that many would not do, with a ``RuntimeWarning``
        naming the KPIs); ``sufficient`` (bool, ``n_now >= n_needed``; False when
        ``n_needed`` is NaN or capped).

    Raises
    ------
    ValueError
        If ``rel_precision <= 0``, ``absolute < 0``, ``level`` is not in (0, 1) or a KPI is missing.
    """
    _check_level(level)
    if not rel_precision > 0:
        raise ValueError(f"rel_precision must be > 0, got {rel_precision!r}")
    summary = summarise(reps, kpis, level)
    enough = [absolute.get(k, 0.0) if isinstance(absolute, Mapping) else absolute for k in summary["kpi"]]
    if not all(a >= 0 for a in enough):
        raise ValueError(f"absolute must be >= 0, got {absolute!r}")
    rows = zip(summary["mean"], summary["sd"], enough, strict=True)
    needed = [_n_needed(float(m), float(s), rel_precision, level, float(a)) for m, s, a in rows]
    capped = [k for k, nn in zip(summary["kpi"], needed, strict=True) if nn >= N_NEEDED_CAP]
    if capped:
        warnings.warn(
            f"replications_needed: search capped at {N_NEEDED_CAP} replications for {capped}; "
            f"n_needed={N_NEEDED_CAP} there means 'more than the cap'",
            RuntimeWarning,
            stacklevel=2,
        )
    n_needed = np.array(needed, dtype=float)
    n_now = summary["n"].to_numpy(dtype=np.int64)
    sufficient = ~np.isnan(n_needed) & (n_needed < N_NEEDED_CAP) & (n_now >= np.nan_to_num(n_needed, nan=np.inf))
    return pd.DataFrame(
        {
            "kpi": summary["kpi"].astype(object),
            "n_now": n_now,
            "rel_half_width_now": summary["rel_half_width"].to_numpy(dtype=float),
            "n_needed": n_needed,
            "sufficient": sufficient.astype(bool),
        },
        columns=list(REPLICATIONS_NEEDED_COLUMNS),
    )

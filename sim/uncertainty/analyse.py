"""Sensitivity indices (SALib) and decision robustness from the runs of an uncertainty job.

Both work on per-sample means: the replications of each parameter sample are averaged
first. The outcomes analysed are, per KPI, the baseline's level and each option's
difference from the baseline (option - baseline, paired: the same replication seeds).
Every sample reuses the same replication seeds (common random numbers across worlds), so
the noise of the R replications is one draw shared by all samples: it never averages out
over samples, and :func:`robustness` carries it into the interval and the verdict
(:func:`noise_margin`).

Indices (``sensitivity.csv``): Morris ``mu_star`` (with its bootstrap CI), ``sigma`` and
``mu``; Sobol first-order ``S1`` and total ``ST`` (bootstrap CIs); for a Latin hypercube,
SALib's RBD-FAST first-order ``S1`` (bootstrap CI), from :data:`LHS_MIN_POINTS` points up.
Intervals are ``value +/- conf`` at 95%, truncated to the index's range (:func:`interval`):
mu* (a mean of absolute effects) at zero, a first-order or total index (a share of
variance) to 0-1. The point ``value`` is SALib's estimate as it is: a share-of-variance
index estimated below zero (noise of the estimator on few points) is kept, and the
figures and tables say it reads as zero. An outcome has no indices when :func:`gap` says
why: it is not measured in some sample, it does not vary across samples (there is nothing
to apportion), or the design has too few points for the method's estimator. Such an
outcome has one row in ``sensitivity.csv`` with no parameter, index or value and the
reason in ``why_missing`` (blank on every row of an index); :func:`missing` reads it back,
and derives it from the replications for a table written before the column. Every
bootstrap is seeded with :func:`salib_seed` of the job's seed (never 0, which SALib's Sobol
analysis ignores). A Morris design of fewer than :data:`MORRIS_MIN_TRAJECTORIES` trajectories
or a Sobol design of fewer than :data:`SOBOL_MIN_BASE` base samples has its indices, but
names no driver on them (:func:`too_few_for_drivers`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import rbd_fast
from SALib.analyze import sobol as sobol_analyze
from scipy import stats

from sim import kpis as K
from sim.uncertainty.sample import MORRIS_LEVELS, Design, design_size

__all__ = [
    "CONSTANT",
    "LEVEL",
    "LHS_MIN_POINTS",
    "MIN_WORLDS",
    "MORRIS_MIN_TRAJECTORIES",
    "NOT_ROBUST",
    "ONE_REPLICATION",
    "PREDATES",
    "PREDATES_NOISE",
    "ROBUST",
    "ROBUSTNESS_COLUMNS",
    "ROBUST_SHARE",
    "SAME",
    "SENSITIVITY_COLUMNS",
    "SOBOL_MIN_BASE",
    "TOO_FEW",
    "TOO_FEW_WORLDS",
    "UNMEASURED",
    "VARIANCE_SHARE",
    "computed",
    "few_points_warning",
    "few_samples_warning",
    "gap",
    "indices",
    "interval",
    "min_points",
    "min_samples",
    "min_worlds",
    "missing",
    "noise_margin",
    "outcomes",
    "robustness",
    "salib_seed",
    "sample_means",
    "sensitivity",
    "settled",
    "too_few_for_drivers",
    "too_few_worlds",
]

LEVEL = "level"
DIFFERENCE = "difference"
CONF_LEVEL = 0.95
RESAMPLES = 1000
LHS_MIN_POINTS = 20
"""Fewer Latin hypercube points give no RBD-FAST indices (the estimator needs several
points per harmonic); the robustness table is still computed."""
MORRIS_MIN_TRAJECTORIES = 10
"""Fewer Morris trajectories (``--samples``) give bootstrap intervals of mu* that resample a
handful of elementary effects per parameter: degenerate, so the run warns
(:func:`few_samples_warning`). ASSUMPTION: the smallest number usually run for screening."""
SOBOL_MIN_BASE = 16
"""Fewer Sobol base samples (``--samples``, a power of two) name no driver: SALib's bootstrap
resamples the N base rows, and as with Morris trajectories fewer than 10 resampled units give
degenerate intervals (N = 2 gave a total index of 2.06 with an interval "1.0 to 1.0"); 16 is
the first power of two from 10. ASSUMPTION: a floor for naming a driver, not a size that makes
the indices precise (SALib's examples use N = 1024)."""
ROBUST_SHARE = 0.9
"""Share of plausible worlds that must change the same way by more than the simulation noise's
margin (:func:`noise_margin`) for a conclusion to be called robust."""


def min_worlds(share: float = ROBUST_SHARE, conf: float = CONF_LEVEL) -> int:
    """The fewest plausible worlds whose share agreeing on a sign can be shown to be above
    ``share``: the smallest ``n`` for which ``n`` worlds out of ``n`` agreeing give an exact
    (Clopper-Pearson) two-sided ``conf`` interval of the share lying above it, i.e.
    ``((1 - conf) / 2) ** (1 / n) > share``. With fewer worlds even unanimity cannot tell a
    robust conclusion from one that fails in more than ``1 - share`` of worlds (20 worlds out
    of 20 give 83% to 100%)."""
    return math.floor(math.log((1 - conf) / 2) / math.log(share)) + 1


MIN_WORLDS = min_worlds()
"""Fewest plausible worlds for a verdict on robustness (36 for 90% at 95%, :func:`min_worlds`):
derived from the binomial rather than from :data:`LHS_MIN_POINTS` (a need of the RBD-FAST
estimator, not of a share). Fewer give :data:`TOO_FEW_WORLDS` and no uncertainty interval
is shown (``robustness.csv`` keeps the percentiles, its ``verdict`` says so)."""
ROBUST = "robust"
NOT_ROBUST = "not robust"
TOO_FEW_WORLDS = "too few worlds to tell"
ONE_REPLICATION = "one replication per world"
SAME = "never changes"
PREDATES_NOISE = "no verdict: written before the noise margin"
"""The verdicts of :func:`settled`, as ``verdict`` in ``robustness.csv``."""
UNMEASURED = "unmeasured"
CONSTANT = "constant"
TOO_FEW = "too few"
"""Why an outcome has no indices (:func:`gap`), as ``why_missing`` in ``sensitivity.csv``."""
PREDATES = "predates the reason"
"""Why an outcome of a ``sensitivity.csv`` written before ``why_missing`` has no indices
when :func:`gap` finds no reason in its folder's replications (:func:`missing`)."""
SENSITIVITY_COLUMNS = (
    "method",
    "parameter",
    "kpi",
    "scenario",
    "quantity",
    "index",
    "value",
    "ci_low",
    "ci_high",
    "why_missing",
    "unit",
)
ROBUSTNESS_COLUMNS = (
    "option",
    "kpi",
    "unit",
    "samples",
    "base_mean",
    "option_mean",
    "diff_mean",
    "diff_low",
    "diff_high",
    "replications",
    "noise_sd",
    "noise_df",
    "noise_margin",
    "p_lower",
    "p_higher",
    "p_same",
    "p_lower_beyond_noise",
    "p_higher_beyond_noise",
    "p_better",
    "better_means",
    "verdict",
)
VARIANCE_SHARE = "share of variance (no unit)"
"""The ``unit`` in ``sensitivity.csv`` of a first-order or total index (``S1``, ``ST``); a Morris
index (``mu_star``, ``sigma``, ``mu``) is in its KPI's stored unit (:attr:`sim.kpis.Kpi.stored_unit`)."""
MEANINGS: dict[str, str] = {
    "gbp": "saves money",
    "days": "shortens the wait",
}
"""What "lower" means for a KPI of a kind; entries to care and other counts: "reduces it"."""


def sample_means(table: pd.DataFrame, kpis: Sequence[str]) -> pd.DataFrame:
    """Mean over replications of each (sample, scenario): index ``(sample, scenario)``."""
    return table.groupby(["sample", "scenario"], sort=True)[list(kpis)].mean()


def outcomes(means: pd.DataFrame, base: str, options: Sequence[str]) -> dict[tuple[str, str], pd.DataFrame]:
    """``(scenario, quantity)`` -> one row per sample, one column per KPI: the baseline's
    level and each option's paired difference from the baseline."""

    def rows(name: str) -> pd.DataFrame:
        return pd.DataFrame(means.xs(name, level="scenario"))

    levels = rows(base)
    out = {(base, LEVEL): levels}
    for opt in options:
        out[(opt, DIFFERENCE)] = rows(opt) - levels
    return out


def min_points(method: str) -> int:
    """The fewest design points from which ``method`` gives indices (Morris and Sobol: any
    design :func:`sim.uncertainty.sample.check_design_args` accepts; they name no driver below
    :func:`min_samples`)."""
    return LHS_MIN_POINTS if method == "lhs" else 0


def few_points_warning(method: str, samples: int, k: int) -> str | None:
    """A warning, naming ``--samples``, when ``samples`` of ``method`` over ``k`` parameters
    give too few design points for its indices; ``None`` when they are enough."""
    need = min_points(method)
    if design_size(method, samples, k) >= need:
        return None
    return (
        f"--samples {samples} is too few for sensitivity indices of the {method} method (they need at least "
        f"{need} points): the robustness table is computed (its intervals and verdicts need at least {MIN_WORLDS} "
        "worlds), the indices are not"
    )


def too_few_for_drivers(method: str, samples: int) -> bool:
    """Whether ``samples`` (``--samples``) of ``method`` is too small a design to name a
    driver on its bootstrap intervals: a Morris design of fewer than
    :data:`MORRIS_MIN_TRAJECTORIES` trajectories or a Sobol design of fewer than
    :data:`SOBOL_MIN_BASE` base samples (their intervals resample a handful of units and are
    degenerate; as with too few LHS points, :func:`min_points`)."""
    if method == "morris":
        return samples < MORRIS_MIN_TRAJECTORIES
    return method == "sobol" and samples < SOBOL_MIN_BASE


def min_samples(method: str) -> int:
    """The fewest ``--samples`` of ``method`` from which a driver is named
    (:func:`too_few_for_drivers`; 0: any design the method accepts)."""
    return {"morris": MORRIS_MIN_TRAJECTORIES, "sobol": SOBOL_MIN_BASE}.get(method, 0)


def few_samples_warning(method: str, samples: int) -> str | None:
    """A warning, naming ``--samples``, when a Morris or Sobol design is too small to name a
    driver (:func:`too_few_for_drivers`): its bootstrap intervals resample a handful of
    trajectories or base samples and are degenerate; ``None`` otherwise."""
    if not too_few_for_drivers(method, samples):
        return None
    units = (
        f"{samples} Morris trajectories: each parameter's mu* is a mean of {samples} elementary effects"
        if method == "morris"
        else f"{samples} Sobol base samples: each index is estimated from {samples} base rows"
    )
    return (
        f"--samples {samples} gives {units}, and bootstrap intervals resampling so few are degenerate (often a "
        f"single value, 'x to x'), not a measure of precision; use --samples {min_samples(method)} or more for "
        "intervals"
    )


def gap(method: str, y: np.ndarray) -> str | None:
    """Why an outcome ``y`` (one value per design point of ``method``) has no indices:
    :data:`UNMEASURED` (no value, or a non-finite one), :data:`CONSTANT` (it does not vary: nothing to
    apportion) or :data:`TOO_FEW` (fewer points than :func:`min_points`); ``None`` when it
    has them."""
    y = np.asarray(y, dtype=float)
    if len(y) == 0 or not np.all(np.isfinite(y)):
        return UNMEASURED
    if np.ptp(y) == 0:
        return CONSTANT
    if len(y) < min_points(method):
        return TOO_FEW
    return None


def _why(sens: pd.DataFrame) -> pd.Series:
    """The ``why_missing`` column of ``sensitivity.csv`` (all blank in a table written before it)."""
    if "why_missing" not in sens.columns:
        return pd.Series(pd.NA, index=sens.index, dtype=object)
    return sens["why_missing"]


def computed(sens: pd.DataFrame | None) -> pd.DataFrame:
    """The rows of ``sensitivity.csv`` that hold an index (not an outcome's :func:`gap`)."""
    if sens is None:
        return pd.DataFrame(columns=list(SENSITIVITY_COLUMNS))
    return sens[_why(sens).isna()]


def missing(
    sens: pd.DataFrame | None,
    replications: pd.DataFrame,
    method: str,
    base: str,
    options: Sequence[str],
    kpis: Sequence[str],
) -> dict[tuple[str, str], str]:
    """``(scenario, kpi)`` -> why the outcome has no indices (:func:`gap`), read from the
    ``why_missing`` column of ``sensitivity.csv``.

    A table written before that column has no row for such an outcome: each outcome of
    ``kpis`` without a row gets the reason the job gives now, :func:`gap` of its per-sample
    means (:func:`sample_means`, :func:`outcomes`) in ``replications`` (``sample``,
    ``scenario`` and one column per KPI), or :data:`PREDATES` when that finds none (the
    indices were not computed then, for a reason not recorded).
    """
    if sens is None:
        return {}
    if "why_missing" in sens.columns:
        rows = sens[sens["why_missing"].notna()]
        return {(str(s), str(k)): str(w) for s, k, w in zip(rows["scenario"], rows["kpi"], rows["why_missing"])}
    held = set(zip(sens["scenario"].astype(str), sens["kpi"].astype(str)))
    measured = [k for k in kpis if k in replications.columns]
    outs = outcomes(sample_means(replications, measured), base, options)
    reasons: dict[tuple[str, str], str] = {}
    for (scenario, _), frame in outs.items():
        for kpi in kpis:
            if (scenario, kpi) not in held:
                y = frame[kpi].to_numpy(float) if kpi in measured else np.array([])  # no column: unmeasured
                reasons[(scenario, kpi)] = gap(method, y) or PREDATES
    return reasons


def interval(index: str, value: float, conf: float) -> tuple[float, float]:
    """The 95% interval ``value +/- conf`` of an index, truncated to the values the index can
    take: Morris ``mu_star`` (a mean of absolute effects) never below zero, a first-order or
    total index (``S1``, ``ST``: a share of variance) within 0 to 1."""
    top = 1.0 if index in ("S1", "ST") else np.inf
    low, high = np.clip([value - conf, value + conf], 0.0, top)  # NaN (no interval) stays NaN
    return float(low), float(high)


def salib_seed(seed: int) -> int:
    """The seed SALib's estimators get for the job's ``--seed``: deterministic, within numpy's
    range and never 0 (SALib's Sobol analysis treats a seed of 0 as none, ``if seed:``, and
    its bootstrap intervals then differ run to run)."""
    return int(seed) % (2**32 - 1) + 1


def indices(design: Design, y: np.ndarray, seed: int) -> list[tuple[str, str, float, float, float]]:
    """``(parameter, index, value, ci_low, ci_high)`` of one outcome ``y`` (one value per
    design point); empty when :func:`gap` gives a reason. The bootstrap is seeded with
    :func:`salib_seed` of ``seed``."""
    y = np.asarray(y, dtype=float)
    if gap(design.method, y) is not None:
        return []
    seed = salib_seed(seed)
    names = design.problem["names"]
    rows: list[tuple[str, str, float, float, float]] = []
    if design.method == "morris":
        res = morris_analyze.analyze(
            design.problem,
            design.unit,
            y,
            num_resamples=RESAMPLES,
            conf_level=CONF_LEVEL,
            num_levels=MORRIS_LEVELS,
            seed=seed,
        )
        for i, name in enumerate(names):
            ms, conf = float(res["mu_star"][i]), float(res["mu_star_conf"][i])
            rows += [
                (name, "mu_star", ms, *interval("mu_star", ms, conf)),
                (name, "sigma", float(res["sigma"][i]), np.nan, np.nan),
                (name, "mu", float(res["mu"][i]), np.nan, np.nan),
            ]
    elif design.method == "sobol":
        res = sobol_analyze.analyze(
            design.problem, y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=CONF_LEVEL, seed=seed
        )
        for i, name in enumerate(names):
            for idx in ("S1", "ST"):
                v, conf = float(res[idx][i]), float(res[f"{idx}_conf"][i])
                rows.append((name, idx, v, *interval(idx, v, conf)))
    else:
        m = max(1, min(10, (len(y) - 1) // 4))  # harmonics: SALib's default 10, fewer for small samples
        res = rbd_fast.analyze(
            design.problem, design.unit, y, M=m, num_resamples=RESAMPLES, conf_level=CONF_LEVEL, seed=seed
        )
        for i, name in enumerate(names):
            v, conf = float(res["S1"][i]), float(res["S1_conf"][i])
            rows.append((name, "S1", v, *interval("S1", v, conf)))
    return rows


def sensitivity(
    design: Design,
    outs: Mapping[tuple[str, str], pd.DataFrame],
    kpis: Sequence[str],
    seed: int,
    catalogue: Mapping[str, K.Kpi],
) -> pd.DataFrame:
    """Every index of every outcome and KPI (:data:`SENSITIVITY_COLUMNS`); an outcome with
    no indices has one row saying why (``why_missing``, from :func:`gap`) and no index. Each
    index's ``unit``: a Morris index's is its KPI's stored unit (a count over the results
    window, not a year), a share of variance's :data:`VARIANCE_SHARE`."""
    rows: list[dict[str, Any]] = []
    for (scenario, quantity), frame in outs.items():
        for kpi in kpis:
            y = frame[kpi].to_numpy(float)
            outcome = {"method": design.method, "kpi": kpi, "scenario": scenario, "quantity": quantity}
            why = gap(design.method, y)
            if why is not None:
                rows.append({**outcome, "value": np.nan, "ci_low": np.nan, "ci_high": np.nan, "why_missing": why})
                continue
            for param, idx, value, lo, hi in indices(design, y, seed):
                unit = VARIANCE_SHARE if idx in ("S1", "ST") else catalogue[kpi].stored_unit
                index = {"parameter": param, "index": idx, "value": value, "ci_low": lo, "ci_high": hi, "unit": unit}
                rows.append({**outcome, **index})
    return pd.DataFrame(rows, columns=list(SENSITIVITY_COLUMNS))


def meaning(kpi: K.Kpi) -> str:
    """What a lower value of ``kpi`` means, in words (lower is better for every KPI analysed
    by default: cost, entries to care, waits)."""
    return MEANINGS.get(kpi.kind, f"reduces {kpi.label}")


def _number(row: Mapping[str, Any], field: str) -> float:
    """``row[field]`` as a float; NaN when it is missing or not a number."""
    try:
        return float(row.get(field, math.nan))
    except (TypeError, ValueError):
        return math.nan


def too_few_worlds(row: Mapping[str, Any]) -> bool:
    """Whether a row of ``robustness.csv`` has too few worlds for a verdict: its ``samples``
    is below :data:`MIN_WORLDS`, or missing or NaN (not measured in every world)."""
    n = _number(row, "samples")
    return not (math.isfinite(n) and n >= MIN_WORLDS)


def settled(row: Mapping[str, Any]) -> str:
    """The verdict on a row of ``robustness.csv`` (``replications``, ``samples``,
    ``p_same``, ``p_lower_beyond_noise``, ``p_higher_beyond_noise``), the first that applies:

    * :data:`PREDATES_NOISE`: a table written before the noise margin (no ``replications``);
    * :data:`ONE_REPLICATION` with one replication per world: the shared simulation noise
      cannot be told from the uncertainty, so no verdict (not even "never changes", which one
      draw repeated in every world would fake);
    * :data:`SAME` when every replication of every world has the option exactly as the
      baseline (``p_same`` 1);
    * :data:`TOO_FEW_WORLDS` below :data:`MIN_WORLDS` worlds;
    * :data:`ROBUST` when at least :data:`ROBUST_SHARE` of the worlds have the change beyond
      the noise margin (:func:`noise_margin`) in one direction, else :data:`NOT_ROBUST`."""
    reps = _number(row, "replications")
    if not math.isfinite(reps):
        return PREDATES_NOISE
    if reps < 2:
        return ONE_REPLICATION
    if _number(row, "p_same") >= 1.0:
        return SAME
    if too_few_worlds(row):
        return TOO_FEW_WORLDS
    lower, higher = _number(row, "p_lower_beyond_noise"), _number(row, "p_higher_beyond_noise")
    agree = max(lower if math.isfinite(lower) else 0.0, higher if math.isfinite(higher) else 0.0)
    return ROBUST if agree >= ROBUST_SHARE else NOT_ROBUST


def noise_margin(changes: np.ndarray, conf: float = CONF_LEVEL) -> tuple[float, float, float]:
    """``(s, df, margin)`` of the simulation noise in the worlds' mean changes, from
    ``changes`` (one row per world, one column per replication: the paired change of each).

    ``s`` is the standard deviation of one replication's change about its world's mean,
    pooled over the N worlds (``N (R - 1)`` degrees of freedom); the error of a world's mean
    change over R replications has standard error ``s / sqrt(R)``, and under common random
    numbers most of it is one draw shared by every world. ``df`` is Satterthwaite's for ``s^2``
    split into the replications' shared effect (``R - 1`` degrees of freedom) and the rest
    (``(N - 1)(R - 1)``): ``N (R - 1)`` when the noise is independent across worlds, down to
    ``R - 1`` when it is all shared (a pooled ``N (R - 1)`` would then overstate what R
    replications tell of one shared draw). ``margin`` is ``t(conf, df) x s / sqrt(R)``, 0 when
    every replication agrees; all NaN with fewer than 2 replications or no world."""
    d = np.asarray(changes, dtype=float)
    n, r = d.shape if d.ndim == 2 else (0, 0)
    if n == 0 or r < 2:
        return math.nan, math.nan, math.nan
    world = d.mean(axis=1, keepdims=True)
    rep = d.mean(axis=0, keepdims=True)
    grand = float(d.mean())
    shared = float(n * np.sum((rep - grand) ** 2))  # the replications' effect, common to every world
    rest = float(np.sum((d - world - rep + grand) ** 2))
    s2 = (shared + rest) / (n * (r - 1))
    if s2 <= 0:
        return 0.0, float(n * (r - 1)), 0.0
    parts = shared**2 / (r - 1) + (rest**2 / ((n - 1) * (r - 1)) if n > 1 else 0.0)
    df = (shared + rest) ** 2 / parts
    s = math.sqrt(s2)
    return s, float(df), float(stats.t.ppf(0.5 + conf / 2, df) * s / math.sqrt(r))


def _paired(wide: pd.DataFrame, base: str, option: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From ``wide`` (one KPI: one row per world ``sample``, columns ``(scenario, rep)``), the
    worlds with every replication of both scenarios measured: ``(base, option, change)``, each
    one row per kept world and one column per replication, the change paired on the
    replication (the same seed). A world missing a replication or a value (non-finite) in
    either is dropped whole; all three are empty when either scenario is absent."""
    scenarios = wide.columns.get_level_values(0)
    if option not in scenarios or base not in scenarios:
        return np.empty((0, 0)), np.empty((0, 0)), np.empty((0, 0))
    b, o = wide[base].align(wide[option], join="outer", axis=1)
    b_, o_ = b.to_numpy(float), o.to_numpy(float)
    keep = np.all(np.isfinite(b_) & np.isfinite(o_), axis=1)
    return b_[keep], o_[keep], (o_ - b_)[keep]


def robustness(
    table: pd.DataFrame, base: str, options: Sequence[str], kpis: Sequence[str], catalogue: Mapping[str, K.Kpi]
) -> pd.DataFrame:
    """Per option and KPI, across parameter samples (worlds), from the replications ``table``
    (``sample``, ``scenario``, ``rep`` and one column per KPI):

    * ``samples``: the worlds with every replication of the baseline and the option measured
      (a world missing one, say quarantined, or with a KPI value of NaN in one, is left out:
      the noise margin needs each world's change in every replication); every column below
      is over these worlds only;
    * ``base_mean``, ``option_mean``: the means over them of the baseline's and the option's
      values (over all their replications), so ``option_mean - base_mean = diff_mean``;
    * ``diff_mean``: the mean of the worlds' mean changes (each over its replications);
    * ``diff_low``, ``diff_high``: the 95% uncertainty interval, the 2.5th and 97.5th
      percentiles of the worlds' mean changes widened at each end by the noise margin
      (:func:`noise_margin`: every world shares the replication seeds, so the noise of the R
      replications is one draw the percentiles across worlds leave out); with one replication
      (no margin) the bare percentiles;
    * ``replications``, ``noise_sd``, ``noise_df``, ``noise_margin``: R and the margin's parts;
    * ``p_lower``, ``p_higher``: the shares of worlds whose mean change is below / above zero,
      ``p_better`` = ``p_lower`` (lower is better: ``better_means`` says what it means);
      ``p_lower_beyond_noise``, ``p_higher_beyond_noise``: below ``-margin`` / above ``+margin``;
    * ``p_same``: the share of worlds in which every replication's change is exactly zero;
    * ``verdict`` (:func:`settled`).

    Means and changes are in the KPI's stored ``unit`` (:attr:`sim.kpis.Kpi.stored_unit`: a
    count or cost over the results window, as ``summary.csv`` and ``differences.csv`` hold
    it, where the console and report show it a year); the shares are fractions of the worlds."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for kpi in kpis:  # one pivot per KPI, for every option
        wide = table.pivot_table(index="sample", columns=["scenario", "rep"], values=kpi, aggfunc="first", dropna=False)
        for opt in options:
            base_values, option_values, paired = _paired(wide, base, opt)
            n, r = paired.shape if paired.size else (0, 0)
            d = paired.mean(axis=1) if n else np.array([])
            sd, df, margin = noise_margin(paired)
            lo, hi = np.percentile(d, [2.5, 97.5]) if n else (np.nan, np.nan)
            widen = margin if math.isfinite(margin) else 0.0
            p_lower = float(np.mean(d < 0)) if n else np.nan
            row = found[(opt, kpi)] = {
                "option": opt,
                "kpi": kpi,
                "unit": catalogue[kpi].stored_unit,
                "samples": n,
                "base_mean": float(np.mean(base_values)) if n else np.nan,
                "option_mean": float(np.mean(option_values)) if n else np.nan,
                "diff_mean": float(np.mean(d)) if n else np.nan,
                "diff_low": float(lo) - widen,
                "diff_high": float(hi) + widen,
                "replications": r,
                "noise_sd": sd,
                "noise_df": df,
                "noise_margin": margin,
                "p_lower": p_lower,
                "p_higher": float(np.mean(d > 0)) if n else np.nan,
                "p_same": float(np.mean(np.all(paired == 0, axis=1))) if n else np.nan,
                "p_lower_beyond_noise": float(np.mean(d < -margin)) if n and math.isfinite(margin) else np.nan,
                "p_higher_beyond_noise": float(np.mean(d > margin)) if n and math.isfinite(margin) else np.nan,
                "p_better": p_lower,
                "better_means": meaning(catalogue[kpi]),
            }
            row["verdict"] = settled(row)
    rows = [found[(opt, kpi)] for opt in options for kpi in kpis]
    return pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))

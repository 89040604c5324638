"""Sensitivity indices (SALib) and decision robustness from the runs of an uncertainty job.

Both work on per-sample means: the replications of each parameter sample are averaged
first, so simulation noise is averaged within a sample before anything is compared across
samples. The outcomes analysed are, per KPI, the baseline's level and each option's
difference from the baseline (option - baseline, paired: the same replication seeds).

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
and derives it from the replications for a table written before the column.
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

from sim import kpis as K
from sim.uncertainty.sample import MORRIS_LEVELS, Design, design_size

__all__ = [
    "CONSTANT",
    "LEVEL",
    "LHS_MIN_POINTS",
    "MIN_WORLDS",
    "MORRIS_MIN_TRAJECTORIES",
    "NOT_ROBUST",
    "PREDATES",
    "ROBUST",
    "ROBUSTNESS_COLUMNS",
    "ROBUST_SHARE",
    "SAME",
    "SENSITIVITY_COLUMNS",
    "TOO_FEW",
    "TOO_FEW_WORLDS",
    "UNMEASURED",
    "VARIANCE_SHARE",
    "computed",
    "few_points_warning",
    "few_trajectories_warning",
    "gap",
    "indices",
    "interval",
    "min_points",
    "min_worlds",
    "missing",
    "outcomes",
    "robustness",
    "sample_means",
    "sensitivity",
    "settled",
    "too_few_trajectories",
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
(:func:`few_trajectories_warning`). ASSUMPTION: the smallest number usually run for screening."""
ROBUST_SHARE = 0.9
"""Share of plausible worlds that must agree on the sign of a change for a conclusion to be
called robust."""


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
SAME = "never changes"
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
    "p_lower",
    "p_higher",
    "p_same",
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
    design :func:`sim.uncertainty.sample.check_design_args` accepts)."""
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


def too_few_trajectories(method: str, samples: int) -> bool:
    """Whether ``samples`` (``--samples``) of ``method`` is a Morris design of fewer than
    :data:`MORRIS_MIN_TRAJECTORIES` trajectories: its bootstrap intervals of mu* are
    degenerate, so no parameter is named as a driver on them (as with too few LHS points,
    :func:`min_points`)."""
    return method == "morris" and samples < MORRIS_MIN_TRAJECTORIES


def few_trajectories_warning(method: str, samples: int) -> str | None:
    """A warning, naming ``--samples``, when a Morris design has too few trajectories
    (:func:`too_few_trajectories`): the bootstrap intervals of mu* then resample a handful of
    elementary effects and are degenerate; ``None`` otherwise."""
    if not too_few_trajectories(method, samples):
        return None
    return (
        f"--samples {samples} gives {samples} Morris trajectories: each parameter's mu* is a mean of {samples} "
        "elementary effects, and bootstrap intervals resampling so few are degenerate (often a single value, "
        f"'x to x'), not a measure of precision; use --samples {MORRIS_MIN_TRAJECTORIES} or more for intervals"
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


def indices(design: Design, y: np.ndarray, seed: int) -> list[tuple[str, str, float, float, float]]:
    """``(parameter, index, value, ci_low, ci_high)`` of one outcome ``y`` (one value per
    design point); empty when :func:`gap` gives a reason."""
    y = np.asarray(y, dtype=float)
    if gap(design.method, y) is not None:
        return []
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


def settled(row: Mapping[str, Any]) -> str:
    """The verdict on a row of ``robustness.csv`` (``samples``, ``p_better``, ``p_same``):
    :data:`SAME` when the option never changes the outcome (``p_same`` 1),
    :data:`TOO_FEW_WORLDS` below :data:`MIN_WORLDS` worlds, :data:`ROBUST` when at least
    :data:`ROBUST_SHARE` of them agree on the sign of the change, else :data:`NOT_ROBUST`."""

    def number(field: str) -> float:
        try:
            return float(row.get(field, math.nan))
        except (TypeError, ValueError):
            return math.nan

    if number("p_same") >= 1.0:
        return SAME
    n, p = number("samples"), number("p_better")
    if not (math.isfinite(n) and n >= MIN_WORLDS):  # NaN: not measured in every world
        return TOO_FEW_WORLDS
    return ROBUST if math.isfinite(p) and max(p, 1 - p) >= ROBUST_SHARE else NOT_ROBUST


def robustness(
    means: pd.DataFrame, base: str, options: Sequence[str], kpis: Sequence[str], catalogue: Mapping[str, K.Kpi]
) -> pd.DataFrame:
    """Per option and KPI, across parameter samples (each a mean over its replications):
    the mean difference and its 95% uncertainty interval (2.5th and 97.5th percentiles),
    the probabilities that the option is lower, higher or the same as the baseline,
    ``p_better`` = ``p_lower`` (lower is better: ``better_means`` says what it means) and the
    ``verdict`` (:func:`settled`: below :data:`MIN_WORLDS` worlds the percentiles are kept but
    the verdict is :data:`TOO_FEW_WORLDS`). The means and changes are in the KPI's stored
    ``unit`` (:attr:`sim.kpis.Kpi.stored_unit`: a count or cost over the results window, as
    ``summary.csv`` and ``differences.csv`` hold it, where the console and report show it a
    year); the shares are fractions of the worlds."""
    outs = outcomes(means, base, options)
    levels = outs[(base, LEVEL)]
    rows = []
    for opt in options:
        diff = outs[(opt, DIFFERENCE)]
        for kpi in kpis:
            d = diff[kpi].to_numpy(float)
            ok = np.isfinite(d)
            d = d[ok]
            n = len(d)
            lo, hi = np.percentile(d, [2.5, 97.5]) if n else (np.nan, np.nan)
            p_lower = float(np.mean(d < 0)) if n else np.nan
            rows.append(
                {
                    "option": opt,
                    "kpi": kpi,
                    "unit": catalogue[kpi].stored_unit,
                    "samples": n,
                    "base_mean": float(np.nanmean(levels[kpi].to_numpy(float))) if n else np.nan,
                    "option_mean": float(np.nanmean((levels[kpi] + diff[kpi]).to_numpy(float))) if n else np.nan,
                    "diff_mean": float(np.mean(d)) if n else np.nan,
                    "diff_low": float(lo),
                    "diff_high": float(hi),
                    "p_lower": p_lower,
                    "p_higher": float(np.mean(d > 0)) if n else np.nan,
                    "p_same": float(np.mean(d == 0)) if n else np.nan,
                    "p_better": p_lower,
                    "better_means": meaning(catalogue[kpi]),
                }
            )
            rows[-1]["verdict"] = settled(rows[-1])
    return pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))

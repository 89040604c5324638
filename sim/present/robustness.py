"""Plain-English robustness statements of an uncertainty job, generated from
``robustness.csv``, ``sensitivity.csv`` and the replications (for the CLI and the report's
summary).

"Plausible worlds" are the parameter samples; each sample's replications are averaged
first. Every sample reuses the same replication seeds, so the simulation noise of those
replications is shared by all of them and does not average out over worlds: the uncertainty
interval is widened by its margin and a conclusion is called *robust* when at least
:data:`ROBUST_SHARE` of the samples change the same way by more than that margin
(:data:`INTERVAL_MEANS`, :func:`sim.uncertainty.analyse.settled`), only from
:data:`~sim.uncertainty.analyse.MIN_WORLDS` samples up (fewer are "too few worlds to tell",
with no uncertainty interval) and from 2 replications up (one gives no verdict). An outcome with no
sensitivity indices is said to be constant only when it is (the ``why_missing`` column of
``sensitivity.csv`` says why it has none).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from sim.kpis import Kpi
from sim.present.format import change_unit, field_kind, fmt_kpi, fmt_number, group_decimals, shown
from sim.uncertainty.analyse import (
    CONSTANT,
    MIN_WORLDS,
    ONE_REPLICATION,
    PREDATES,
    PREDATES_NOISE,
    ROBUST,
    ROBUST_SHARE,
    SAME,
    TOO_FEW,
    TOO_FEW_WORLDS,
    UNMEASURED,
    computed,
    min_points,
    min_samples,
    missing,
    settled,
    too_few_for_drivers,
)

__all__ = [
    "CHANGE",
    "INDEX_TEXT",
    "INTERVAL_MEANS",
    "MAIN_INDEX",
    "NEVER_CHANGES",
    "ONE_REPLICATION_TEXT",
    "ROBUST_SHARE",
    "change_texts",
    "direction",
    "drivers",
    "few_worlds",
    "missing_indices",
    "no_driver",
    "statements",
    "unchanged",
    "verdict",
]

MAIN_INDEX = {"morris": "mu_star", "sobol": "ST", "lhs": "S1"}
"""The index that ranks parameters for each method."""
INDEX_TEXT = {
    "mu_star": "Morris mu*, the mean absolute elementary effect",
    "ST": "total-order Sobol index",
    "S1": "first-order index (RBD-FAST)",
}
Num = Callable[[str, Mapping[str, Any], str], str]
"""``num(text, row, field)``: how a number taken from ``row[field]`` is shown (the report
wraps it in a span naming its cell; the console prints it as it is)."""


CHANGE = ("diff_mean", "diff_low", "diff_high")
"""An option's change in a row of ``robustness.csv`` as shown: its mean and 95% uncertainty interval."""


NEVER_CHANGES = "never changes {what} (the same in every replication of every plausible world)"
"""What is said of an option's change in an outcome that is the same as the baseline's in
every replication of every plausible world, from 2 replications up (``p_same`` 1,
:data:`~sim.uncertainty.analyse.SAME`): not "better in 0% of worlds, 0 to 0", nor "robust".
One replication per world is one draw repeated in every world (common seeds): no such claim."""
ONE_REPLICATION_TEXT = (
    "one replication per world cannot tell the simulation's noise from the uncertainty; use 2 or more "
    "(--replications 2)"
)
"""Why a job of one replication per world has no verdict and no uncertainty interval."""
INTERVAL_MEANS = (
    "The 95% uncertainty interval runs from the 2.5th to the 97.5th percentile of the plausible worlds' mean "
    "changes, each end widened by the 95% margin of the simulation noise (t x s / sqrt(R), s the SD of a change "
    "between the R replications of a world): every world reuses the same replication seeds, so that noise is one "
    f"draw shared by all worlds and does not average out over them; a conclusion is robust when at least "
    f"{ROBUST_SHARE:.0%} of worlds change the same way by more than that margin."
)
"""What the uncertainty interval and the verdict are (:func:`sim.uncertainty.analyse.robustness`),
said once on the console and in the report."""


def unchanged(row: Mapping[str, Any]) -> bool:
    """Whether a row of ``robustness.csv`` is an outcome the option leaves exactly as the
    baseline's in every replication of every plausible world, with 2 or more replications
    (:data:`~sim.uncertainty.analyse.SAME`)."""
    return settled(row) == SAME


def direction(row: Mapping[str, Any]) -> str:
    """Which way a robust change goes (lower is better for every KPI analysed): ``better
    (lower)`` when at least :data:`ROBUST_SHARE` of plausible worlds have it lower by more
    than the noise margin, ``worse (higher)`` when as many have it higher by more, else
    ``no better (not lower)``."""
    if float(row.get("p_lower_beyond_noise", math.nan)) >= ROBUST_SHARE:
        return "better (lower)"
    if float(row.get("p_higher_beyond_noise", math.nan)) >= ROBUST_SHARE:
        return "worse (higher)"
    return "no better (not lower)"


def verdict(row: Mapping[str, Any]) -> str:
    """The verdict on a row of ``robustness.csv`` (:func:`sim.uncertainty.analyse.settled`):
    :data:`NEVER_CHANGES` (of ``it``) for an outcome the option never changes, ``robust: ``
    and its :func:`direction`, or the verdict as it is (``not robust``, ``too few worlds to
    tell``, ``one replication per world``)."""
    said = settled(row)
    if said == SAME:
        return NEVER_CHANGES.format(what="it")
    return f"{ROBUST}: {direction(row)}" if said == ROBUST else said


def few_worlds(row: Mapping[str, Any]) -> str:
    """Why a row of ``robustness.csv`` has no verdict and no uncertainty interval shown: how
    many worlds it has and how many a verdict needs (:data:`~sim.uncertainty.analyse.MIN_WORLDS`)."""
    n = int(float(row.get("samples", 0) or 0))
    return (
        f"{n} plausible worlds, and at least {MIN_WORLDS} are needed before a share of them can show that "
        f"{ROBUST_SHARE:.0%} agree"
    )


def change_texts(row: Mapping[str, Any], kpi: Kpi, window: float) -> dict[str, str]:
    """The mean change and its uncertainty interval (:data:`CHANGE`) of a row of
    ``robustness.csv``, and its ``noise_margin``, scaled and shown with one precision
    (:func:`sim.present.format.group_decimals`): a change that is the same in every plausible
    world (``0.5 to 0.5`` families a year) never reads ``0 to 0``. A change of a share is in
    percentage points (:func:`sim.present.format.change_unit`)."""
    mean, low, high = (shown(row.get(f), kpi, window) for f in CHANGE)
    kind = field_kind(kpi, "diff_mean", {"diff_mean": mean})
    decimals = group_decimals(kind, [mean], low, high)
    texts = {f: fmt_number(v, kind, decimals) for f, v in zip(CHANGE, (mean, low, high))}
    texts["noise_margin"] = fmt_number(shown(row.get("noise_margin"), kpi, window), kind, decimals)
    return texts


def design_text(method: str, samples: int, k: int) -> str:
    """What the points of a design are, after their number: ``design points of 2 Morris
    trajectories of 10 points each`` (``--samples`` counts trajectories, each of ``k + 1``
    points), ``design points of 8 Sobol base samples of 11 points each``, ``parameter samples
    of a Latin hypercube``."""
    if method == "morris":
        return f"design points of {samples} Morris trajectories of {k + 1} points each"
    if method == "sobol":
        return f"design points of {samples} Sobol base samples of {k + 2} points each"
    return "parameter samples of a Latin hypercube"


def _plain(text: str, _row: Mapping[str, Any], _field: str) -> str:
    return text


def drivers(sens: pd.DataFrame | None, method: str, kpi: str, scenario: str, n: int = 3) -> pd.DataFrame:
    """The ``n`` parameters with the largest main index of one outcome, largest first, among
    those whose index is distinguishable from zero (its CI lies above zero, where it has one)
    and meaningful: a share of variance (``S1``, ``ST``) within 0 to 1, and every index inside
    its own interval (:func:`sim.uncertainty.analyse.interval` truncates ``value +/- conf`` to
    what the index can take, so a total index of 2.06 gets "1.0 to 1.0"). A parameter is never
    named as a driver on an index the samples cannot tell from zero, nor on one outside what
    the index can take."""
    sens = computed(sens)
    if sens.empty:
        return pd.DataFrame(columns=["parameter", "value", "ci_low", "ci_high"])
    sel = sens[
        (sens["kpi"] == kpi) & (sens["scenario"].astype(str) == scenario) & (sens["index"] == MAIN_INDEX[method])
    ]
    value = pd.to_numeric(sel["value"], errors="coerce")
    low, high = (pd.to_numeric(sel[c], errors="coerce") for c in ("ci_low", "ci_high"))
    inside = low.isna() | ((low <= value) & (value <= high))
    share = MAIN_INDEX[method] in ("S1", "ST")
    sel = sel[(low.isna() | (low > 0)) & inside & (~share | ((value >= 0) & (value <= 1)))]
    return sel.sort_values("value", ascending=False, kind="stable").head(n)


def _index_value(value: float, index: str, kpi: Kpi, window: float) -> str:
    return fmt_kpi(value, kpi, window) if index == "mu_star" else f"{value:.2f}"


def missing_indices(why: str | None, what: str, method: str, points: int) -> str:
    """Why ``what`` has no sensitivity indices, in a sentence (``why`` from the
    ``why_missing`` column of ``sensitivity.csv``, :func:`sim.uncertainty.analyse.missing`):
    only a :data:`~sim.uncertainty.analyse.CONSTANT` outcome is said to be the same in every plausible world."""
    if why == CONSTANT:
        return f"No parameter moves {what} (it is the same in every plausible world)."
    if why == TOO_FEW:
        need = min_points(method)
        return (
            f"No sensitivity indices for {what}: this run has {points} samples and the {method} method needs at "
            f"least {need} for them (rerun with --samples {need} or more to tell what drives it)."
        )
    if why == UNMEASURED:
        return f"No sensitivity indices for {what}: it is not measured in every plausible world."
    if why == PREDATES:
        return (
            f"No sensitivity indices for {what}: this results folder predates ehsim recording why an outcome has "
            "none, and its tables do not tell (rerun the job with this version to find out)."
        )
    return f"No sensitivity indices for {what}."


def no_driver(method: str, samples: int) -> str:
    """Why no parameter is named as a driver in a Morris or Sobol design too small for it
    (:func:`sim.uncertainty.analyse.too_few_for_drivers`), after "no driver named: "."""
    units = "Morris trajectories" if method == "morris" else "Sobol base samples"
    index = "mu*" if method == "morris" else "the indices"
    return (
        f"{samples} {units} are too few (at least {min_samples(method)} needed): their bootstrap "
        f"intervals of {index} are degenerate"
    )


def _driver_sentence(
    sens: pd.DataFrame | None,
    method: str,
    kpi: Kpi,
    scenario: str,
    what: str,
    window: float,
    num: Num,
    why: str | None,
    points: int,
    samples: int,
) -> str:
    top = drivers(sens, method, kpi.name, scenario)
    held = computed(sens)
    ours = bool(((held["kpi"] == kpi.name) & (held["scenario"].astype(str) == scenario)).any())
    if ours and too_few_for_drivers(method, samples):
        return (
            f"No parameter is named as driving {what}: {no_driver(method, samples)} (rerun with --samples "
            f"{min_samples(method)} or more to tell what drives it)."
        )
    if top.empty:
        if ours:
            return (
                f"With these samples no parameter's index for {what} is distinguishable from zero "
                "(every interval includes it): run more samples to tell what drives it."
            )
        return missing_indices(why, what, method, points)
    index = MAIN_INDEX[method]
    recs = [{str(k): v for k, v in r.items()} for r in top.to_dict(orient="records")]
    first = recs[0]
    verb = "has the largest effect on" if method == "morris" else "explains most of the uncertainty in"
    text = (
        f"{first['parameter']} {verb} {what} ({INDEX_TEXT[index]} "
        f"{num(_index_value(first['value'], index, kpi, window), first, 'value')})"
    )
    rest = [f"{r['parameter']} ({num(_index_value(r['value'], index, kpi, window), r, 'value')})" for r in recs[1:]]
    if rest:
        text += ", then " + " and ".join(rest)
    return text + "."


def _share(p: float) -> str:
    return f"{p:.0%}" if math.isfinite(p) else "n/a"


def statements(
    robustness: pd.DataFrame | None,
    sensitivity: pd.DataFrame | None,
    method: str,
    base: str,
    options: list[str],
    kpis: list[str],
    catalogue: Mapping[str, Kpi],
    window: float,
    num: Num = _plain,
    *,
    replications: pd.DataFrame,
    samples: int,
) -> list[str]:
    """One statement per option (or, with no options, per KPI of the baseline).

    ``sensitivity`` says why an outcome has no indices (its ``why_missing`` column);
    ``replications`` (``sample``, ``scenario`` and one column per KPI) how many plausible
    worlds there are; ``samples`` is the design's ``--samples`` (Morris: trajectories, Sobol:
    base samples, too few of which name no driver). What the interval and the verdict are is
    :data:`INTERVAL_MEANS`, said once by the caller.
    """
    out: list[str] = []
    whys = missing(sensitivity, replications, method, base, options, kpis)
    points = int(replications["sample"].nunique())
    if not options or robustness is None:
        for name in kpis:
            kpi = catalogue[name]
            what = f"the {kpi.label} of {base}"
            why = whys.get((base, name))
            out.append(_driver_sentence(sensitivity, method, kpi, base, what, window, num, why, points, samples))
        return out
    rob = robustness
    for opt in options:
        recs = rob[rob["option"].astype(str) == opt].to_dict(orient="records")
        rows = [{str(k): v for k, v in r.items()} for r in recs if r["kpi"] in catalogue]
        if not rows:
            continue
        parts = []
        for r in rows:
            kpi = catalogue[r["kpi"]]
            if unchanged(r):
                parts.append(NEVER_CHANGES.format(what=kpi.label))
                continue
            unit = change_unit(kpi).replace("£", "").strip()
            text = change_texts(r, kpi, window)
            if settled(r) in (ONE_REPLICATION, PREDATES_NOISE):  # no interval that carries the shared noise
                parts.append(
                    f"{r['better_means']} ({kpi.label}) in {num(_share(r['p_better']), r, 'p_better')} of "
                    f"{int(r['samples'])} plausible worlds (mean change {num(text['diff_mean'], r, 'diff_mean')} "
                    f"{unit}; {settled(r)}, so no uncertainty interval)"
                )
                continue
            if settled(r) == TOO_FEW_WORLDS:  # no percentile interval of a handful of points
                parts.append(
                    f"{r['better_means']} ({kpi.label}) in {num(_share(r['p_better']), r, 'p_better')} of "
                    f"{int(r['samples'])} plausible worlds (mean change {num(text['diff_mean'], r, 'diff_mean')} "
                    f"{unit}; too few worlds for an uncertainty interval)"
                )
                continue
            interval = (
                f"mean change {num(text['diff_mean'], r, 'diff_mean')}, 95% uncertainty interval "
                f"{num(text['diff_low'], r, 'diff_low')} to {num(text['diff_high'], r, 'diff_high')} {unit}"
            )
            beyond = num(_share(float(r["p_lower_beyond_noise"])), r, "p_lower_beyond_noise")
            parts.append(
                f"{r['better_means']} ({kpi.label}) in {num(_share(r['p_better']), r, 'p_better')} of plausible "
                f"worlds, {beyond} by more than the simulation noise ({interval})"
            )
        first = rows[0]
        kpi = catalogue[first["kpi"]]
        said = settled(first)
        margin = change_texts(first, kpi, window)["noise_margin"]
        first_unit = change_unit(kpi).replace("£", "").strip()
        noise = f"the simulation noise (+/-{num(margin, first, 'noise_margin')} {first_unit})"
        if said == ONE_REPLICATION:
            verdict_text = f"No verdict: {ONE_REPLICATION_TEXT}."
        elif said == PREDATES_NOISE:
            verdict_text = (
                "No verdict: this results folder predates the simulation noise's margin (rerun the job with this "
                "version for one)."
            )
        elif said == SAME:
            verdict_text = (
                f"{opt} is no better and no worse than {base} on {kpi.label}: the same in every replication of "
                "every plausible world."
            )
        elif said == TOO_FEW_WORLDS:
            verdict_text = (
                f"Too few worlds to tell whether the conclusion is robust: {few_worlds(first)} (rerun with more "
                "--samples)."
            )
        elif said == ROBUST:
            verdict_text = (
                f"The conclusion is robust: in at least {ROBUST_SHARE:.0%} of plausible worlds {opt} is "
                f"{direction(first)} than {base} on {kpi.label} by more than {noise}."
            )
        else:
            verdict_text = (
                f"Whether {opt} {first['better_means']} is not robust: fewer than {ROBUST_SHARE:.0%} of plausible "
                f"worlds agree either way by more than {noise}; more replications narrow the noise, better-known "
                "parameters the spread between worlds."
            )
        why = whys.get((opt, kpi.name))
        what = f"its change in {kpi.label}"
        driver = _driver_sentence(sensitivity, method, kpi, opt, what, window, num, why, points, samples)
        out.append(f"{opt} against {base}: " + "; ".join(parts) + f". {driver} {verdict_text}")
    return out

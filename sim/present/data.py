"""What the figures and the text read from a results folder, in display units.

Every value comes from :class:`sim.results.Results`: means and 95% intervals from its
``summary`` (already truncated, :data:`TRUNCATION_TEXT`), paired
differences from its ``differences``, single replications from its ``replications``; KPI
labels, units and scales from its ``kpis`` (the registry). Nothing here parses a KPI name.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from sim import kpis as K
from sim.kpis import Kpi
from sim.present.format import clip_interval, negligible, shown
from sim.results import Kind, Results
from sim.vocab import QUEUE_STAGES, Stage

__all__ = [
    "BUDGET_WORDS",
    "INTERVALS",
    "NOBODY_SERVED",
    "NOT_IN_SCENARIO",
    "TRUNCATION_TEXT",
    "VERDICT_WORDS",
    "budget_of",
    "budget_verdict",
    "cap",
    "clip_interval",
    "difference_rows",
    "family",
    "has",
    "in_scenarios",
    "kpi_rows",
    "large_changes",
    "n_reps",
    "not_drawn",
    "places",
    "present",
    "reps_of",
    "series_column",
    "stat",
    "sweep_label",
    "sweep_name",
    "unserved",
    "verdict",
    "verdict_of",
    "zero_throughout",
]

TRUNCATION_TEXT = (
    "truncated at zero for quantities that cannot be negative and at 100% for shares that cannot exceed it"
)
"""How an interval is truncated (:func:`sim.analysis.summarise`, :func:`clip_interval`)."""
INTERVAL_TEXT = f"95% t interval, {TRUNCATION_TEXT}"
"""How every interval of a run, comparison or sweep is made (said in captions and on the page)."""
INTERVALS: dict[Kind, str] = {
    Kind.RUN: f"Every interval on this page is a {INTERVAL_TEXT}, across replications.",
    Kind.COMPARE: (
        f"Every interval on this page is a {INTERVAL_TEXT}; differences between options are paired intervals "
        "(the same replications of each option) and can be negative. The interval shown for a change in a quantity "
        "that cannot be negative is cut at minus the baseline's level, so that no option's level is below zero "
        "(and for a share, so that none is above 100%); differences.csv keeps the paired t interval, uncut."
    ),
    Kind.SWEEP: (
        f"Every interval and band on this page is a {INTERVAL_TEXT}, across the replications of one combination."
    ),
    Kind.UNCERTAINTY: (
        "The intervals on this page are not t intervals. An option's change has a 95% uncertainty interval: the 2.5th "
        "to 97.5th percentile of the worlds' mean changes across plausible worlds, each end widened by the margin of "
        "the simulation noise every world shares (the same replication seeds), shown only where there are enough "
        "worlds and 2 or more replications to tell, and can be negative. A sensitivity index has a 95% bootstrap "
        "interval (SALib, 1,000 resamples), "
        "truncated to the values the index can take. The stored KPI table gives no interval."
    ),
}
"""What the intervals on a report of each kind of folder are (the statement over its figures)."""


def zero_throughout(values: Iterable[Any]) -> bool:
    """True when every value is zero or missing: a figure leaves such a KPI or series out
    (a scenario with no panel or MST has nothing to draw there) and names it in
    :func:`not_drawn`."""
    column = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return not pd.to_numeric(column, errors="coerce").abs().sum() > 0


def not_drawn(labels: Sequence[str]) -> str:
    """The footnote's sentence naming what :func:`zero_throughout` left out (``""`` when nothing)."""
    return f" Always zero, not drawn: {', '.join(labels)}." if labels else ""


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def axis_label(kpi: Kpi) -> str:
    """``"Mean wait for a key worker (days)"``."""
    return f"{cap(kpi.label)} ({kpi.display_unit})"


def present(res: Results, kpis: Iterable[Kpi]) -> list[Kpi]:
    """The KPIs of ``kpis`` that the results hold, as the results describe them."""
    return [res.kpis[k.name] for k in kpis if k.name in res.kpis]


NOT_IN_SCENARIO = "not in this scenario"
"""A table's cell for a KPI of a stage or service its scenario does not have (:func:`has`)."""


NOBODY_SERVED = (
    "n/a: the scenario has the service, but no family who joined its list in the results window was served, "
    "so there is no wait to average"
)
"""What "n/a" means beside a stage's wait in a headline (:attr:`sim.kpis.Kpi.stage`): a
service the scenario has (:func:`has`) that no family reached."""


def unserved(rec: Mapping[str, Any] | None, kpi: Kpi) -> bool:
    """Whether ``rec``, ``kpi``'s row of ``summary.csv`` (None where there is none), says that no
    family was served (:data:`NOBODY_SERVED`): a stage's KPI (a wait) whose mean is missing. A
    missing row says nothing of the kind."""
    return kpi.stage is not None and rec is not None and not finite(rec.get("mean"))


def has(res: Results, kpi: Kpi, scenario: str | None = None) -> bool:
    """Whether the scenario (the baseline by default) has the stage or service ``kpi`` is about
    (:attr:`sim.kpis.Kpi.stage`, :func:`sim.kpis.has_stage`): False for the panel's wait in a
    scenario without a panel; True for a KPI of no stage, and where the results do not hold
    the scenario's settings."""
    if kpi.stage is None:
        return True
    settings = res.configs.get(scenario or res.base)
    return settings is None or K.has_stage(settings, kpi.stage)


def in_scenarios(res: Results, kpis: Iterable[Kpi], scenarios: Iterable[str] | None = None) -> list[Kpi]:
    """The KPIs of ``kpis`` that the results hold (:func:`present`) and that some of ``scenarios``
    (every scenario of the results by default) has (:func:`has`): a scenario with no panel and
    no MST shows no row for their waits, which would read "n/a" or an average queue of 0.0."""
    names = list(res.scenarios if scenarios is None else scenarios)
    return [k for k in present(res, kpis) if any(has(res, k, s) for s in names)]


def family(res: Results, name: str) -> list[Kpi]:
    """The results' KPIs of one family (``"utilisation"``, ``"cost"``...), in column order."""
    return [k for k in res.kpis.values() if k.family == name]


def places(res: Results) -> list[str]:
    """The places of the results' by-locality KPIs (``--by-locality``), in column order: the
    localities, then the deprivation groups (:func:`sim.kpis.locality_kpis`); empty without them."""
    return list(dict.fromkeys(k.group for k in res.kpis.values() if k.group))


def series_column(kind: str, stage: str) -> str:
    """The ``series`` column of a stage: ``kind`` is ``open`` (plans and cases) or ``waiting``."""
    return f"{kind}_{stage}"


def rows_of(res: Results, scenario: str | None = None) -> pd.DataFrame:
    """Summary rows of one scenario (the baseline by default); a sweep's of its first combination."""
    summ = res.summary
    if "scenario" in summ.columns and res.kind != Kind.SWEEP:
        return summ[summ["scenario"].astype(str) == (scenario or res.base)]
    if res.kind == Kind.SWEEP and res.sweep_keys:
        first = summ[res.sweep_keys].iloc[0]
        mask = (summ[res.sweep_keys] == first).all(axis=1)
        return summ[mask]
    return summ


def difference_rows(res: Results, kpi: Kpi) -> list[tuple[dict[str, Any], Kpi, float]]:
    """Each option's row of ``differences`` for ``kpi``, with it and the option's window in days
    (the rows whose money is shown in one unit, :func:`sim.present.format.shown_in_millions`);
    none without differences."""
    d = res.differences
    if d is None:
        return []
    sel = d[d["kpi"] == kpi.name]
    return [
        ({str(k): v for k, v in r.items()}, kpi, res.window_days(str(r["option"])))
        for r in sel.to_dict(orient="records")
    ]


def stat(res: Results, kpi: str, field: str = "mean", scenario: str | None = None) -> float:
    """A cell of ``summary`` as stored (NaN when absent)."""
    rows = rows_of(res, scenario)
    rows = rows[rows["kpi"] == kpi]
    if rows.empty or field not in rows.columns:
        return math.nan
    return _float(rows[field].iloc[0])


def shown_stat(res: Results, kpi: Kpi, field: str = "mean", scenario: str | None = None) -> float:
    """A cell of ``summary`` in display units (per year, percent)."""
    return shown(stat(res, kpi.name, field, scenario), kpi, res.window_days(scenario))


def _float(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def finite(x: Any) -> bool:
    return math.isfinite(_float(x))


def reps_of(res: Results, scenario: str | None = None) -> pd.DataFrame:
    """The replications of one scenario (the baseline by default), in replication order."""
    reps = res.replications
    if res.kind == Kind.SWEEP:
        names = reps["scenario"].astype(str)
        part = reps[names == (scenario or names.iloc[0])]
    else:
        part = reps[reps["scenario"].astype(str) == (scenario or res.base)]
    return part.sort_values("rep")


def n_reps(res: Results, scenario: str | None = None) -> int:
    """Replications per scenario (the largest over scenarios unless one is named)."""
    reps = res.replications
    if reps.empty:
        return 0
    if scenario is not None:
        return len(reps_of(res, scenario))
    return int(reps.groupby(reps["scenario"].astype(str)).size().max())


def kpi_rows(res: Results, kpis: Sequence[Kpi], scenarios: Sequence[str]) -> pd.DataFrame:
    """Mean and 95% interval per scenario and KPI in display units:
    ``scenario, kpi, item, mean, low, high, n`` (``item`` is the capitalised label)."""
    rows = []
    for s in scenarios:
        window = res.window_days(s)
        for k in kpis:
            mean = shown(stat(res, k.name, "mean", s), k, window)
            low = shown(stat(res, k.name, "ci_low", s), k, window)
            high = shown(stat(res, k.name, "ci_high", s), k, window)
            n = stat(res, k.name, "n", s)
            rows.append(
                {"scenario": s, "kpi": k.name, "item": cap(k.label), "mean": mean, "low": low, "high": high, "n": n}
            )
    return pd.DataFrame(rows, columns=["scenario", "kpi", "item", "mean", "low", "high", "n"])


VERDICT_WORDS = {
    "none": "no change",
    "unknown": "no verdict: one replication",
    "clear": "clear difference",
    "unclear": "no clear difference",
}
"""Each :func:`verdict` in words, as the summary, the tables and the figures' titles say it."""


SAME = 1e-9
"""Two means closer than this, relative to their size, are the same (a utilisation of 100% in
both scenarios can differ by 5.6e-17 from the order of a sum: rounding, not a change)."""


def verdict(row: Mapping[str, Any]) -> str:
    """The verdict on one row of ``differences``: ``missing`` (neither scenario measures it,
    such as the panel's wait where there is no panel), ``none`` (the same in every
    replication, up to floating-point rounding: :data:`SAME`), ``unknown`` (no interval: one
    replication), ``clear`` (``distinguishable``: the paired 95% CI excludes zero) or
    ``unclear``. The one rule for calling a difference clear, in the text, the tables, the
    console and the figures' titles."""
    base_v, opt_v, sd = (float(row[c]) for c in ("base_mean", "option_mean", "diff_sd"))
    if not (finite(base_v) or finite(opt_v)):
        return "missing"
    tol = SAME * max(1.0, abs(base_v), abs(opt_v))
    if abs(opt_v - base_v) <= tol and (not math.isfinite(sd) or sd <= tol):
        return "none"
    if float(row["n"]) < 2 or not finite(row["ci_low"]):
        return "unknown"
    return "clear" if bool(row["distinguishable"]) else "unclear"


LARGE = 0.5
"""A clear change in a service's wait or list is *large* when it is at least this share of the
larger of its two levels (the wait or list at least doubles or halves) and at least
:data:`sim.kpis.ABSOLUTE_ENOUGH` in its unit (half a day, half a family). A list or wait that
doubles or halves changes what the service is for the families in it, whether or not the
option was aimed at that service, so the summary and the console must say so; smaller relative
changes in services beside the headline (a panel's list 1% longer) are knock-on effects the
figures show. The floor keeps out a wait going from 0.1 to 0.3 days: relatively large, too
small to matter for any decision."""


def _service_kpis(stage: Stage) -> tuple[Kpi, ...]:
    """A service's wait and list: its mean wait, its average list, its list at the end."""
    return K.wait(stage, "mean"), K.queue_mean(stage), K.waiting_at_end(stage)


def _large(row: Mapping[str, Any], kpi: Kpi, window_days: float) -> bool:
    """Whether a clear difference (a row of ``differences``) is :data:`LARGE`."""
    base, option, diff = (shown(row[f], kpi, window_days) for f in ("base_mean", "option_mean", "diff_mean"))
    return abs(diff) >= K.ABSOLUTE_ENOUGH and abs(diff) >= LARGE * max(abs(base), abs(option))


def large_changes(res: Results, option: str, shown_kpis: Collection[str]) -> list[Kpi]:
    """The KPIs to show beside ``shown_kpis`` (names) so that no large change in a service is
    left unsaid: for each service (a stage with a queue) with a :data:`LARGE` clear change with
    ``option`` in its wait or list (:func:`_service_kpis`) not in ``shown_kpis``, every clear
    (:func:`verdict`, and not :func:`sim.present.format.negligible`) change in its wait and list
    that is not. The one rule for the report's summary and the console's paired table."""
    d = res.differences
    if d is None:
        return []
    mine = d[d["option"].astype(str) == option]
    recs = {str(r["kpi"]): {str(k): v for k, v in r.items()} for r in mine.to_dict(orient="records")}
    window = res.window_days(option)
    out: list[Kpi] = []
    for stage in QUEUE_STAGES:
        kpis = [k for k in present(res, _service_kpis(stage)) if k.name not in shown_kpis and k.name in recs]
        clear = [k for k in kpis if verdict(recs[k.name]) == "clear" and not negligible(recs[k.name], k, window)]
        if any(_large(recs[k.name], k, window) for k in clear):
            out += clear
    return out


def budget_of(res: Results, scenario: str | None = None) -> float | None:
    """The scenario's early help budget a year over its results window: the mean of
    :data:`sim.kpis.BUDGET` (``costs.budget_gbp_per_year`` averaged over the window, dated
    changes included); None when it sets none. The budget is for early help only: compare it
    with :func:`sim.kpis.per_year` of ``COST_EARLY_HELP``, never with the total."""
    value = stat(res, K.BUDGET.name, "mean", scenario)
    return value if finite(value) and value > 0 else None


BUDGET_WORDS = {"within": "within", "over": "over", "unclear": "not distinguishable from"}
"""Each :func:`budget_verdict` in words, before "its budget" (or "it")."""


def budget_verdict(res: Results, scenario: str | None = None) -> str | None:
    """Whether the scenario's early help cost a year is ``within`` its budget (the 95% CI of
    :data:`sim.kpis.OVER_BUDGET`, cost less budget, lies at or below zero), ``over`` it (above
    zero) or ``unclear``; with one replication, the mean's side. None without a budget."""
    if budget_of(res, scenario) is None:
        return None
    mean, low, high = (stat(res, K.OVER_BUDGET.name, f, scenario) for f in ("mean", "ci_low", "ci_high"))
    if finite(low) and finite(high):
        return "within" if high <= 0 else "over" if low > 0 else "unclear"
    return None if not finite(mean) else "within" if mean <= 0 else "over"


def verdict_of(res: Results, kpi: str, option: str) -> str:
    """:func:`verdict` on ``option``'s paired difference in ``kpi``; ``missing`` when
    ``differences`` has no such row (nothing to say, whatever the replications)."""
    d = res.differences
    if d is None:
        return "missing"
    rows = d[(d["kpi"] == kpi) & (d["option"].astype(str) == option)]
    return verdict({str(k): v for k, v in rows.iloc[0].items()}) if len(rows) else "missing"


def sweep_name(key: str) -> str:
    """``interval_days``: a swept dotted key as the page names it."""
    return key.rsplit(".", 1)[-1]


def sweep_label(key: str, value: Any) -> str:
    """``interval_days = 7`` for a swept dotted key and its value."""
    return f"{sweep_name(key)} = {value}"


def window_text(res: Results, scenario: str | None = None) -> str:
    days = res.window_days(scenario)
    if not math.isfinite(days):
        return "the results window"
    return f"the {days:,.0f}-day results window ({days / K.DAYS_PER_YEAR:.1f} years)"

"""Plain-text tables for the terminal: what ``ehsim`` and the experiment scripts print.

Every value goes through :mod:`sim.present.format` and every label comes from the KPI
registry, so the terminal, the CSVs and the report say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any

import pandas as pd

from sim import kpis as K
from sim.present.data import BUDGET_WORDS, NOBODY_SERVED, budget_of, budget_verdict, places, unserved, verdict
from sim.present.format import DIFF_ROW, MEAN_CI, change_unit, fmt_kpi, fmt_row
from sim.present.narrative import changes_text
from sim.results import Results
from sim.warmup import at_cap, chance, diagnosed, unsteady

__all__ = [
    "change_lines",
    "clear_note",
    "difference_lines",
    "envelope_lines",
    "label",
    "locality_lines",
    "locality_names",
    "locality_summary_lines",
    "projection_lines",
    "summary_lines",
]

CLEAR_MARK = "*"
CLEAR_NOTE = "  * the paired 95% CI of the difference excludes 0 (a clear difference)"
CHANGES_SHOWN = 3
"""The settings an option changes that the console lists before "and N more"."""


def _rec(row: Any) -> dict[str, Any]:
    """A row of ``summary.csv`` or ``differences.csv`` (a pandas Series) as a dict."""
    return {str(k): v for k, v in row.items()}


def label(k: K.Kpi) -> str:
    """``Mean wait for a key worker (days)``: the label with its unit, capitalised."""
    return f"{k.label[0].upper()}{k.label[1:]} ({k.display_unit})"


def change_lines(res: Results) -> list[str]:
    """What each option of a comparison changes from the baseline, one line each, in the
    words of the report's summary (:func:`sim.present.narrative.changes_text`)."""
    out = [f"What each option changes from {res.base}:"]
    for option in res.options:
        text = changes_text(res, option, CHANGES_SHOWN, plain=True) or "no setting differs"
        out.append(f"  {option}: {text}")
    return out


def summary_lines(
    summary: pd.DataFrame,
    kpis: Sequence[K.Kpi],
    window_days: float,
    n: int,
    names: Callable[[K.Kpi], str] = label,
) -> list[str]:
    """Mean and 95% CI of each KPI in ``kpis`` (those in ``summary``), one line each, named by
    ``names``; then, when a stage's KPI (a wait) reads "n/a", a line saying that no family was
    served there (:data:`sim.present.data.NOBODY_SERVED`)."""
    summ = summary.set_index("kpi")
    rows = [k for k in kpis if k.name in summ.index]
    if not rows:
        return []
    width = max(len(names(k)) for k in rows)
    out = [f"  {'':<{width}}  {'mean':>14}" + (f"  {'95% CI':>27}" if n > 1 else "")]
    nobody = False
    for k in rows:
        rec = _rec(summ.loc[k.name])
        mean, low, high = fmt_row(rec, k, window_days, MEAN_CI)
        nobody |= unserved(rec, k)
        line = f"  {names(k):<{width}}  {mean:>14}"
        if n > 1:
            line += f"  {low:>13} - {high:<11}"
        out.append(line)
    return [*out, f"  {NOBODY_SERVED}."] if nobody else out


def difference_lines(
    differences: pd.DataFrame,
    kpis: Iterable[K.Kpi],
    window_days: float,
    option: str,
    names: Callable[[K.Kpi], str] = label,
) -> list[str]:
    """``base -> option, diff (95% CI)`` per KPI, each named by ``names``; ``*`` marks a clear
    difference (the paired CI excludes 0). Each line takes the precision its own numbers need
    (:func:`sim.present.format.row_decimals`), not another option's: a narrow interval in one
    option gave 0.01437 -> 77.22013 families in the next."""
    d = differences[differences["option"] == option].set_index("kpi")
    out = []
    for k in kpis:
        if k.name not in d.index:
            continue
        row = d.loc[k.name]
        mark = CLEAR_MARK if verdict(_rec(row)) == "clear" else " "
        base, opt, diff, low, high = fmt_row(_rec(row), k, window_days, DIFF_ROW)
        points = f" {change_unit(k)}" if k.kind == "share" else ""  # a change in a share is in points, not %
        out.append(f"   {mark} {names(k):<62} {base:>12} -> {opt:>12}   diff {diff} (95% CI {low} to {high}){points}")
    return out


def envelope_lines(res: Results) -> list[str]:
    """Each scenario's early help cost a year (95% CI) against its budget envelope."""
    cost = K.per_year(K.COST_EARLY_HELP)
    out = [f"  {'scenario':40} {'early help a year':>18}  {'95% CI':>25}  {'envelope':>12}  verdict"]
    for name in res.scenarios:
        row = res.summary[(res.summary["scenario"] == name) & (res.summary["kpi"] == cost.name)].iloc[0]
        budget = budget_of(res, name)  # the window's average: dated budgets included
        w = res.window_days(name)
        mean, low, high = fmt_row(_rec(row), cost, w, MEAN_CI)
        ci = f"{low} - {high}"
        said = budget_verdict(res, name)
        env = "-" if budget is None else fmt_kpi(budget, cost, w)
        words = "no envelope set" if said is None else BUDGET_WORDS[said] + (" it" if said == "unclear" else "")
        out.append(f"  {name:40} {mean:>18}  {ci:>25}  {env:>12}  {words}")
    return out


def projection_lines(res: Results, scenario: str) -> list[str]:
    """Referrals and costs in each whole year of the window (a projection from forecast demand)."""
    summ = res.summary[res.summary["scenario"] == scenario].set_index("kpi")
    w = res.window_days(scenario)
    years = sorted(int(k.subject) for k in res.kpis.values() if k.family == "referrals_year")
    head = [K.referrals_in_year(1).label.replace(" in year 1", "")] + [t.label for t in K.COST_TOTALS]
    out = [f"  {'year':6}" + "".join(f"{h:>34}" for h in head)]
    for y in years:
        cells = []
        for k in (K.referrals_in_year(y), *(K.in_year(t, y) for t in K.COST_TOTALS)):
            r = summ.loc[k.name]
            mean, low, high = fmt_row(_rec(r), k, w, MEAN_CI)
            cells.append(f"{mean} [{low}, {high}]")
        out.append(f"  {y:<6}" + "".join(f"{c:>34}" for c in cells))
    return out


def _named_by(base: dict[str, K.Kpi]) -> Callable[[K.Kpi], str]:
    """Name a per-place KPI by the label of the KPI it breaks down (the place is the heading)."""
    return lambda k: label(base[k.name])


def _by_place(res: Results, base_kpis: Sequence[K.Kpi]) -> Iterator[tuple[str, list[K.Kpi], Callable[[K.Kpi], str]]]:
    """Per locality (then deprivation group) that the results hold: its heading, its KPIs of
    ``base_kpis`` and how to name them (by the KPI they break down)."""
    for group in places(res):
        base = {K.in_locality(k, group).name: k for k in base_kpis}
        present = [res.kpis[name] for name in base if name in res.kpis]
        if present:
            place = K.place_label(group)
            yield f"  {place[0].upper()}{place[1:]}", present, _named_by(base)


def locality_lines(res: Results, option: str, base_kpis: Sequence[K.Kpi]) -> list[str]:
    """Per locality (and deprivation group), the paired difference of each KPI in
    ``base_kpis`` (``--by-locality``), under a heading naming the place."""
    assert res.differences is not None
    out = []
    for heading, present, names in _by_place(res, base_kpis):
        out.append(heading)
        out += difference_lines(res.differences, present, res.window_days(option), option, names=names)
    return out


def locality_summary_lines(res: Results, base_kpis: Sequence[K.Kpi]) -> list[str]:
    """Per locality (and deprivation group), the mean and 95% CI of each KPI in ``base_kpis``
    of a run (``run --by-locality``), under a heading naming the place."""
    n = len(res.replications)
    out = []
    for heading, present, names in _by_place(res, base_kpis):
        out.append(heading)
        out += summary_lines(res.summary, present, res.window_days(), n, names=names)
    return out


WARMUP_ADVICE = (
    "Longer than the scenario's warm-up: the KPIs may still carry the start's fill-up. To leave it out, "
    "give run.warmup_days {days:.0f} or more (e.g. --set run.warmup_days={days:.0f}), lengthening "
    "run.duration_days by as much to keep the results window."
)
"""What to do when the warm-up check suggests more days than the scenario's warm-up (and its
point is not at MSER-5's cap: :func:`sim.warmup.at_cap` says what to do then)."""


def diagnostics_lines(saved: Results, scenarios: Sequence[str], replications: int) -> list[tuple[bool, str]]:
    """Each scenario's checks from the results' ``diagnostics.json``, as ``(warning, line)``:
    quarantined files and warnings (``warning`` True: for stderr), then the MSER-5 warm-up
    check (for stdout).

    Parameters
    ----------
    saved
        The results folder just written, as read.
    scenarios
        The scenarios to report, in order; with more than one (a comparison) each line names
        the scenario it belongs to.
    replications
        Replications per scenario, for the warm-up line.
    """
    out: list[tuple[bool, str]] = []
    named = len(scenarios) > 1
    for name in scenarios:
        diag = saved.diagnostics[name]
        out += [
            (True, f"warning ({name}): {w}" if named else f"warning: {w}")
            for w in [*diag["quarantined"], *diag["warnings"]]
        ]
        warm, _ = diagnosed(diag)
        if warm is None:
            continue
        check = (
            f"Warm-up check{f' of {name}' if named else ''} (MSER-5 on monthly {K.WARMUP_MEASURE.label}, "
            f"mean of {replications} replication(s)): "
        )
        if not warm.steady:
            out.append((False, f"{check}{unsteady('the series', warm, 'the KPIs depend')}."))
        elif warm.undecided:
            out.append((False, f"{check}the scenario uses {warm.warmup_days:.0f} days; {at_cap('the series', warm)}."))
        elif warm.by_chance:
            out.append((False, f"{check}{chance('the series', warm)}."))
        else:
            out.append((False, f"{check}suggests {warm.discard_days} days; the scenario uses {warm.warmup_days:.0f}."))
            if warm.settling:
                out.append((False, f"  {WARMUP_ADVICE.format(days=warm.discard_days)}"))
    return out


def locality_names(res: Results, kpis: Sequence[K.Kpi]) -> list[str]:
    """The names of ``kpis`` in each locality of ``res`` (the rows :func:`locality_lines` shows)."""
    return [K.in_locality(k, group).name for group in places(res) for k in kpis]


def clear_note(differences: pd.DataFrame, kpis: Collection[str], options: Collection[str]) -> list[str]:
    """The footnote explaining the ``*`` of :func:`difference_lines`, as a list of one
    line when a row shown (a KPI named in ``kpis``, of one of ``options``) is marked clear,
    else an empty list (with one replication no row is: there is no interval)."""
    shown = differences[differences["kpi"].isin(kpis) & differences["option"].astype(str).isin(options)]
    clear = any(verdict({str(k): v for k, v in row.items()}) == "clear" for _, row in shown.iterrows())
    return [CLEAR_NOTE] if clear else []

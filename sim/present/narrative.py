"""The plain-English summary at the top of the report, generated from the numbers.

Every number is printed by :func:`sim.present.format.fmt_number` inside
``<span class="num" data-source=... data-kpi=... data-field=... data-scale=...>``, naming
the CSV cell it came from (``summary.csv`` or ``differences.csv``) and the factor applied
(per year, percent), so a reader or a test can check the text against the files. A
comparison's verdicts come only from the paired interval in ``differences.csv``
(``distinguishable``).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from sim import kpis as K
from sim.config import last_day, long_date
from sim.kpis import Kpi
from sim.present.assumptions import (
    changes_anchor,
    config_changes,
    dated_changes,
    setting_sources,
    shown_apart,
    unreached_changes,
)
from sim.present.checks import checks_pointer, short_of_precision
from sim.present.data import (
    BUDGET_WORDS,
    INTERVAL_TEXT,
    budget_verdict,
    cap,
    difference_rows,
    finite,
    large_changes,
    n_reps,
    present,
    stat,
    sweep_label,
    sweep_name,
    verdict,
)
from sim.present.format import (
    DIFF_ROW,
    MEAN_CI,
    MILLION,
    change_unit,
    fmt_number,
    group_decimals,
    negligible,
    row_shown,
    rows_decimals,
    shown,
    shown_in_millions,
)
from sim.present.references import cited_keys
from sim.results import Kind, Results
from sim.vocab import POOLED_SERVICE, SERVICE_SETTINGS, Stage, stage_info, team_service

__all__ = ["changes_text", "num", "summary_items"]

e = html.escape
OTHER_WAITS = (Stage.FRONT_DOOR, Stage.PANEL, Stage.MST)
"""Queues whose mean wait the run summary mentions besides the key worker's."""
FAMILIES_WHO = {
    K.STEP_UPS_TOTAL.name: "step up to social care",
    K.CARE_ENTRIES.name: "enter care",
    K.WITHDRAWN_TOTAL.name: "withdraw while waiting",
    K.TO_SC_TOTAL.name: "go on to social care",
}
"""KPIs counting families, as the verb phrase "N more families a year ..." ends with."""
ONE_REPLICATION = (
    '<span class="warn">One replication gives no confidence intervals: rerun with '
    "<code>--replications 10</code> or more before presenting these {what}.</span>"
)


# --------------------------------------------------------------------------- tagged numbers
def _cell(res: Results, kpi: str, field: str, scenario: str | None, option: str | None) -> float:
    if option is None:
        return stat(res, kpi, field, scenario)
    d = res.differences
    if d is None:
        return math.nan
    rows = d[(d["kpi"] == kpi) & (d["option"].astype(str) == option)]
    try:
        return float(rows[field].iloc[0]) if len(rows) else math.nan
    except (TypeError, ValueError):
        return math.nan


def num(
    res: Results,
    kpi: Kpi,
    field: str,
    *,
    scenario: str | None = None,
    option: str | None = None,
    magnitude: bool = False,
    value: float | None = None,
    where: Mapping[str, Any] | None = None,
    at_least: int = 0,
    decimals: int | None = None,
    millions: bool | None = None,
) -> str:
    """A number from ``summary.csv`` (``differences.csv`` with ``option``), formatted and
    tagged with the cell it came from; a cell to its row's precision, or ``at_least`` decimals
    if more, or ``decimals`` if given, its money in millions as ``millions`` says if given (the
    unit of the numbers it is shown with), else as its row's does
    (:func:`sim.present.format.row_shown`)."""
    kpi = res.kpis.get(kpi.name, kpi)  # as the results describe it
    raw = value if value is not None else _cell(res, kpi.name, field, scenario, option)
    if field == "rel_half_width":
        scale, kind = 100.0, "share"
    else:
        scale, kind = kpi.scale(res.window_days(scenario or option)), kpi.kind
    shown = abs(raw * scale) if magnitude else raw * scale
    attrs: dict[str, str] = {
        "source": "differences" if option is not None else "summary",
        "kpi": kpi.name,
        "field": field,
        "scale": repr(float(scale)),
        "abs": "1" if magnitude else "0",
    }
    if scenario is not None:
        attrs["scenario"] = scenario
    if option is not None:
        attrs["option"] = option
    if where is not None:
        attrs["where"] = json.dumps(dict(where), default=str)
    data = " ".join(f'data-{k}="{e(v)}"' for k, v in attrs.items())
    places = decimals
    if value is None and field != "rel_half_width":  # a cell of a row: shown to the row's one precision
        row = {f: _cell(res, kpi.name, f, scenario, option) for f in (DIFF_ROW if option is not None else MEAN_CI)}
        # a change in a share is in percentage points (the caller says so); money from £1m in millions
        window = res.window_days(scenario or option)
        shown, kind, places = row_shown(row, kpi, window, field, True, at_least, decimals, millions)
        shown = abs(shown) if magnitude else shown
    return f'<span class="num" {data}>{e(fmt_number(shown, kind, places))}</span>'


def _mean(res: Results, kpi: Kpi, s: str) -> float:
    return stat(res, kpi.name, "mean", s)


def _ci(res: Results, kpi: Kpi, s: str, of: str = "") -> str:
    """`` (95% CI low to high)`` of ``kpi`` in scenario ``s`` (``of``: what the interval is of, when
    the sentence has not just named it); ``""`` without an interval."""
    if not stat(res, kpi.name, "n", s) >= 2 or not finite(stat(res, kpi.name, "ci_low", s)):
        return ""
    low, high = num(res, kpi, "ci_low", scenario=s), num(res, kpi, "ci_high", scenario=s)
    return f" (95% CI{of and ' of ' + of} {low} to {high})"


def _per_year(res: Results, s: str) -> str:
    """What "a year" means on the page: an average over the results window (a phased change
    counts from its date), with the window's dates and the prices money is in."""
    start, warm, end = (res.setting(f"run.{k}", s) for k in ("start_date", "warmup_days", "duration_days"))
    when = ""
    try:
        day0 = dt.date.fromisoformat(str(start))
        first, last = day0 + dt.timedelta(days=float(warm)), last_day(day0, float(end))
        when = f", {long_date(first)} to {long_date(last)}"
    except (TypeError, ValueError):
        pass
    year = res.setting("costs.price_year", s)
    prices = f"; money is in {int(year)} prices" if finite(year) else ""
    return f"Counts and costs are a year: averages over the results window{when}{prices}."


# --------------------------------------------------------------------------- run
def _intro(res: Results, s: str) -> str:
    n = n_reps(res, s)
    warm = res.setting("run.warmup_days", s)
    warm_text = f" after a {float(warm):,.0f}-day warm-up" if finite(warm) else ""
    ranges = f"each range is a {INTERVAL_TEXT}." if n > 1 else "one replication gives no ranges."
    window = stat(res, K.WINDOW_DAYS.name, "mean", s)
    whole = finite(window) and float(window).is_integer()  # whole days read as such: 1,825, not 1,825.0
    return (
        f"Scenario <b>{e(s)}</b>: {n} replication{'s' if n != 1 else ''}, results over the "
        f"{num(res, K.WINDOW_DAYS, 'mean', scenario=s, decimals=0 if whole else None)} days{warm_text}. "
        f"{_per_year(res, s)} {cap(ranges)}"
    )


def _referrals(res: Results, s: str) -> str:
    if not finite(_mean(res, K.REFERRALS_TOTAL, s)):
        return ""
    text = (
        f"Early help receives {num(res, K.REFERRALS_TOTAL, 'mean', scenario=s)} referrals a year, step-downs "
        "from social care included"
    )
    text += _ci(res, K.REFERRALS_TOTAL, s)
    starts = K.starts(Stage.LEVEL3)
    if finite(_mean(res, starts, s)):
        text += f"; {num(res, starts, 'mean', scenario=s)} families a year start a key-worker plan"
    return text + "."


def _wait_sentence(res: Results, s: str) -> str:
    mean, p90 = K.wait(Stage.LEVEL3, "mean"), K.wait(Stage.LEVEL3, "p90")
    value = _mean(res, mean, s)
    if not finite(value) or _mean(res, K.served(Stage.LEVEL3), s) == 0:
        return "No family was allocated a key worker from a waiting list in the results window."
    if value < 0.05:
        shown = num(res, mean, "mean", scenario=s)
        return f"Families are allocated a key worker without a wait: the average wait is {shown} days."
    text = f"The average wait for a key worker is {num(res, mean, 'mean', scenario=s)} days" + _ci(res, mean, s)
    if finite(_mean(res, p90, s)):
        text += (
            f"; 1 family in 10 waits longer than {num(res, p90, 'mean', scenario=s)} days "
            "(mean of the replications' 90th percentiles)"
        )
    return text + "."


def _other_waits(res: Results, s: str) -> str:
    parts = [
        f"{stage_info(q).phrase} {num(res, K.wait(q, 'mean'), 'mean', scenario=s)} days"
        for q in OTHER_WAITS
        if finite(_mean(res, K.wait(q, "mean"), s))
    ]
    return "Average waits elsewhere: " + "; ".join(parts) + "." if parts else ""


def _step_sentence(res: Results, s: str) -> str:
    su, care = _mean(res, K.STEP_UPS_TOTAL, s), _mean(res, K.CARE_ENTRIES, s)
    if not finite(su) and not finite(care):
        return ""
    if not su and not care:
        return "No family stepped up to social care or entered care in any replication."
    text = f"{num(res, K.STEP_UPS_TOTAL, 'mean', scenario=s)} families a year step up from early help to social care"
    text += _ci(res, K.STEP_UPS_TOTAL, s)
    if finite(_mean(res, K.STEP_UPS_WHILE_WAITING, s)):
        # one part and "the rest": two rounded parts need not add up to the rounded total
        waiting = num(res, K.STEP_UPS_WHILE_WAITING, "mean", scenario=s)
        text += f", {waiting} of them while waiting, the rest during a plan"
    if finite(care):
        text += f"; {num(res, K.CARE_ENTRIES, 'mean', scenario=s)} a year enter care" + _ci(res, K.CARE_ENTRIES, s)
    return cap(text) + "."


def _busiest_team(res: Results, s: str) -> str:
    teams = {team_service(str(n)): K.team_label(str(n)) for n in res.setting("teams", s) or {}}
    teams[POOLED_SERVICE] = "the pooled key worker list"
    found = [
        (value, k, teams[k.subject])
        for k in res.kpis.values()
        if k.family == "utilisation" and k.subject in teams and finite(value := _mean(res, k, s))
    ]
    if not found:
        return ""
    _, kpi, label = max(found, key=lambda f: f[0])
    return (
        f"The busiest is {e(label)}, with {num(res, kpi, 'mean', scenario=s)} of its caseload slots in use on average."
    )


def _cost_sentence(res: Results, s: str) -> str:
    kpi = K.per_year(K.COST_TOTAL)
    mean = _mean(res, kpi, s)
    if not finite(mean):
        return ""
    if mean == 0:
        return "No costs are set in this scenario, so the modelled cost is zero."
    year = res.setting("costs.price_year", s)
    text = f"The modelled cost is {num(res, kpi, 'mean', scenario=s)} a year" + _ci(res, kpi, s)
    if finite(year):
        text += f" in {int(year)} prices"
    return text + "." + _budget_sentence(res, s)


def _budget_sentence(res: Results, s: str) -> str:
    """Early help cost a year against the scenario's budget (which covers early help only, not
    social care), both at one precision and in one unit; within or over it by the interval of
    cost less budget (:func:`sim.present.data.budget_verdict`); ``""`` without a budget."""
    said = budget_verdict(res, s)
    if said is None:
        return ""
    early = K.per_year(K.COST_EARLY_HELP)
    window = res.window_days(s)
    rows = [({f: stat(res, k.name, f, s) for f in MEAN_CI}, res.kpis.get(k.name, k), window) for k in (early, K.BUDGET)]
    millions = shown_in_millions(rows)  # one unit: not £980,000 against a budget of £1.0m
    same = rows_decimals(rows, short=True, millions=millions)
    # the cost and the budget read as two numbers where they differ (not £4.1m against £4.1m for
    # £4.066m and £4.104m), in the unit the sentence shows them in
    levels = [shown(stat(res, k.name, "mean", s), k, window) for k in (early, K.BUDGET)]
    factor = 1 / MILLION if millions else 1.0
    kind = "gbp_m" if millions else "gbp"
    same = group_decimals(kind, [], apart=[(levels[0] * factor, levels[1] * factor)], at_least=same)
    cost = num(res, early, "mean", scenario=s, at_least=same, millions=millions)
    ci = ""
    if stat(res, early.name, "n", s) >= 2 and finite(stat(res, early.name, "ci_low", s)):
        low, high = (num(res, early, f, scenario=s, at_least=same, millions=millions) for f in ("ci_low", "ci_high"))
        ci = f" (95% CI {low} to {high})"
    budget = num(res, K.BUDGET, "mean", scenario=s, at_least=same, millions=millions)
    return (
        f" Early help costs {cost} a year{ci}, against a budget of {budget} a year (its average over the results "
        f"window; the budget covers early help, not social care): {BUDGET_WORDS[said]} its budget."
    )


def _precision_sentences(res: Results, s: str) -> list[str]:
    n = n_reps(res, s)
    if n < 2:
        return [ONE_REPLICATION.format(what="numbers")]
    diag = res.diagnostics.get(s) or {}
    records = list(diag.get("replications_needed") or [])
    target = float(diag.get("precision", 0.05))
    short = short_of_precision(res, s)
    if not records:
        return []
    if not short:
        return [
            f"With {n} replications, every key answer is known to within ±{target:.0%} of its value (or to within "
            "half a unit as shown: half a day, half a family a year), with 95% confidence."
        ]
    return [
        f'<span class="warn">{e(cap(res.kpis[r["kpi"]].label))}: with {n} replications it is known only to within '
        f"±{num(res, res.kpis[r['kpi']], 'rel_half_width', scenario=s)} of its value (95% confidence); about "
        f"{int(r['n_needed']):,} replications would narrow that to ±{target:.0%} of its value or "
        f"{e(K.enough_words(res.kpis[r['kpi']]))}.</span>"
        for r in short
    ]


def _run_items(res: Results) -> list[str]:
    s = res.base
    items = [
        _intro(res, s),
        checks_pointer(res),
        _referrals(res, s),
        _wait_sentence(res, s),
        _other_waits(res, s),
        _step_sentence(res, s),
        _busiest_team(res, s),
        _cost_sentence(res, s),
        *_precision_sentences(res, s),
    ]
    return [i for i in items if i]


# --------------------------------------------------------------------------- compare
def _grouped(
    changes: Sequence[tuple[str, Any, Any]], plain: bool = False, notes: Mapping[str, str] | None = None
) -> list[str]:
    """Changes grouped where only the second key segment differs (``teams.*.workers 11 → 13``):
    HTML, or ``plain`` text for the console (``teams.*.workers 11 -> 13``). ``notes`` adds
    words after a setting's change (``" in three steps"``); settings group only where their
    notes are the same."""
    groups: dict[tuple[str, str, str, str, str], list[str]] = {}
    for key, old, new in changes:
        segs = key.split(".")
        after = (notes or {}).get(key, "")
        was, now = shown_apart(old, new)
        sig = (segs[0], ".".join(segs[2:]), was, now, after) if len(segs) >= 3 else (key, "", was, now, after)
        groups.setdefault(sig, []).append(segs[1] if len(segs) >= 3 else "")
    parts = []
    for (head, tail, old, new, after), middles in groups.items():
        if tail and len(middles) > 1:
            key = f"{head}.*.{tail} ({', '.join(middles)})"
        else:
            key = f"{head}.{middles[0]}.{tail}" if tail else head
        parts.append(
            f"{key} {old} -> {new}{after}" if plain else f"<code>{e(key)}</code> {e(old)} → {e(new)}{e(after)}"
        )
    return parts


_STEPS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}
"""Small counts of steps in words (``8 -> 3 in three steps``)."""


def _moves(dated: Sequence[Any]) -> tuple[list[tuple[str, Any, Any]], dict[str, str]]:
    """Each setting the dated changes move, with its value before the first move and after the
    last (the option's end state, not its first step), and a note of how it gets there: the
    number of steps, and their dates where they are not those of the changes as a whole. A
    setting that comes back to where it started (a vacancy crisis, then recovery) reads as its
    first move and its return: ``8 -> 5, back to 8 on 1 June 2020`` (never ``8 -> 8``)."""
    spans: dict[str, tuple[list[Any], list[str]]] = {}  # key -> (values, dates of the moves)
    for ch in dated:
        for key, old, new in ch.settings:
            if old == new:  # a change that sets a value to what it was says nothing
                continue
            values, dates = spans.setdefault(key, ([old], []))
            values.append(new)
            dates.append(ch.when)
    whole = (dated[0].when, dated[-1].when)
    moves, notes = [], {}
    for key, (values, dates) in spans.items():
        steps, first, last = len(dates), dates[0], dates[-1]
        if steps > 1 and values[-1] == values[0]:
            moves.append((key, values[0], values[1]))
            back = shown_apart(values[0], values[1])[0]  # as its first move shows it
            notes[key] = ("" if first == whole[0] else f" on {first}") + f", back to {back} on {last}"
            continue
        moves.append((key, values[0], values[-1]))
        when = "" if (first, last) == whole else f", {first} to {last}" if steps > 1 else f" on {first}"
        notes[key] = (f" in {_STEPS.get(steps, str(steps))} steps" if steps > 1 else "") + when
    return moves, notes


def _dated_text(res: Results, option: str, plain: bool = False) -> str:
    """An option's dated changes as a short phrase: how many, from when, the first setting
    moved (from its value before the first change to that after the last, :func:`_moves`), and
    (in HTML) where the table lists them all; ``""`` when they are the baseline's."""
    base, scenario = res.config(res.base), res.config(option)
    if base.get("changes") == scenario.get("changes"):
        return ""
    dated = dated_changes(scenario)
    if not dated:
        n = len(base.get("changes") or [])
        return f"none of the baseline's {n} dated change{'s' if n != 1 else ''}"
    when = f"on {dated[0].when}" if len(dated) == 1 else f"from {dated[0].when} to {dated[-1].when}"
    count = "a dated change" if len(dated) == 1 else f"{len(dated)} dated changes"
    settings, notes = _moves(dated)
    listed = _grouped(settings, plain, notes)
    shown = (listed[0] + (f" and {len(listed) - 1} more" if len(listed) > 1 else "")) if listed else "no value moves"
    if plain:
        return f"{count} {when} ({shown})"
    see = f'<a href="#{e(changes_anchor(option))}">What {e(option)} changes</a>'
    return f"{count} {when} ({shown}; see {see})"


def changes_text(res: Results, option: str, limit: int = 4, plain: bool = False) -> str:
    """What an option changes from the baseline, for the report's summary (HTML) or the
    console (``plain``): its settings that differ from the baseline's (grouped, at most
    ``limit``, then "and N more") and its dated changes as a short phrase; ``""`` when
    nothing differs or the results hold no scenario files."""
    if not res.configs:
        return ""
    parts = _grouped(config_changes(res.config(res.base), res.config(option)), plain)
    if len(parts) > limit:
        parts = [*parts[:limit], f"and {len(parts) - limit} more" + ("" if plain else " (see Assumptions)")]
    dated = _dated_text(res, option, plain)
    return "; ".join([*parts, *([dated] if dated else [])])


def _clause(
    res: Results,
    option: str,
    kpi: Kpi,
    row: Mapping[str, Any],
    at_least: int = 0,
    millions: bool | None = None,
) -> tuple[str, str]:
    """One option's change in one KPI as a clause, with its verdict (its numbers to the row's own
    precision, from ``at_least`` decimals, and its money in millions as ``millions`` says if
    given, else as the row's does, :func:`num`)."""

    def cell(field: str, magnitude: bool = False) -> str:
        return num(res, kpi, field, option=option, magnitude=magnitude, at_least=at_least, millions=millions)

    b, o, d = cell("base_mean"), cell("option_mean"), cell("diff_mean")
    # £ and % are part of the formatted number
    label, unit = e(kpi.label), "" if kpi.kind in ("gbp", "share") else f" {e(kpi.display_unit)}"
    # a change in a share is in percentage points; its interval's ends too
    pts, ci_pts = (f" {change_unit(kpi)}", " points") if kpi.kind == "share" else ("", "")
    how = verdict(row)
    if how == "none":
        return f"no change in {label} ({b}{unit} in both)", how
    if how == "unknown":
        return (
            f"{label}: {b} → {o}{unit} (change {d}{pts}; one replication, so no confidence interval and no verdict)",
            how,
        )
    ends = f"{cell('ci_low')} to {cell('ci_high')}{ci_pts}"
    if how == "unclear":
        return (
            f"no clear difference in {label}: {b} vs {o}{unit} (change {d}{pts}, 95% CI {ends}, which includes zero)",
            how,
        )
    # a clear difference states its size first, then the levels, then the interval of the change
    ci = f"95% CI of the change {ends}"
    mag = cell("diff_mean", magnitude=True)
    down = float(row["diff_mean"]) < 0
    if kpi.name in FAMILIES_WHO:
        return f"{mag} {'fewer' if down else 'more'} families a year {FAMILIES_WHO[kpi.name]} ({b} → {o}; {ci})", how
    if kpi.kind == "days":
        return f"the {label} {'falls' if down else 'rises'} by {mag} days, from {b} to {o} ({ci})", how
    if kpi.kind == "gbp":
        return f"the {label} {'falls' if down else 'rises'} by {mag} a year, from {b} to {o} ({ci})", how
    if pts:
        return f"{label}: {'down' if down else 'up'} {mag}{pts}, from {b} to {o} ({ci})", how
    return f"{label}: {'down' if down else 'up'} by {mag}{unit}, from {b} to {o} ({ci})", how


def _unreached_text(res: Results, option: str) -> str:
    """That an option's dated changes never take effect, dated on or after the run's end (a
    typo in a year): ``""`` when none, or when its dated changes are the baseline's."""
    late = unreached_changes(res.config(option))
    if not late or res.config(res.base).get("changes") == res.config(option).get("changes"):
        return ""
    start, days = res.setting("run.start_date", option), res.setting("run.duration_days", option)
    end = long_date(last_day(dt.date.fromisoformat(str(start)), float(days)))
    one = len(late) == 1
    when = ", ".join(ch.when for ch in late[:-1]) + (" and " if not one else "") + late[-1].when
    return (
        f'<span class="warn">its dated change{"" if one else "s"} on {e(when)} '
        f"fall{'s' if one else ''} after the run's last day ({e(end)}), so "
        f"{'it never takes' if one else 'they never take'} effect in this run</span>"
    )


CARE_EFFECT = "care_relative_reduction"
"""The setting of a service at the edge of care by which it reduces entries to care."""


def _no_care_effect(res: Results, option: str) -> str:
    """Sentences for the entries-to-care clause: for each service at the edge of care (a block
    with a :data:`CARE_EFFECT`) that ``option`` changes (a setting, or a dated change of one)
    but that has no direct effect on entries to care in it (:data:`CARE_EFFECT` 0), that the
    scenario assumes so, with the setting's source key(s) (its comment in the option's scenario
    file), and that any difference comes by other routes: the service still changes entries to
    care indirectly (how long a care-bound family waits for it before care starts, who
    withdraws), so the sentence never says it cannot change them; ``""`` when none."""
    if not res.configs:
        return ""
    base, scenario = res.config(res.base), res.config(option)
    changed = [key for key, _, _ in config_changes(base, scenario)]
    if base.get("changes") != scenario.get("changes"):  # dated changes of the option's own
        changed += [key for ch in dated_changes(scenario) for key, old, new in ch.settings if old != new]
    sources = setting_sources(res, option)
    out = []
    for block, settings in scenario.items():
        if not isinstance(settings, Mapping) or CARE_EFFECT not in settings:
            continue
        if settings[CARE_EFFECT] != 0 or not any(key.startswith(f"{block}.") for key in changed):
            continue
        setting = f"{block}.{CARE_EFFECT}"
        src = sources.get(setting)
        keys = cited_keys(src.source) if src is not None else []
        why = f", {', '.join(keys)}" if keys else ", an assumption" if src is not None and src.is_assumption else ""
        name = e(stage_info(SERVICE_SETTINGS[block]).label if block in SERVICE_SETTINGS else block)
        out.append(
            f"The scenario assumes {name} has no direct effect on entries to care (<code>{e(setting)}</code> "
            f"0{e(why)}): it prevents no placement, so any difference comes by other routes, such as how long "
            f"families wait for {name} before their care starts."
        )
    return " ".join(out)


def _option_item(res: Results, option: str) -> str:
    assert res.differences is not None
    d = res.differences
    changes = changes_text(res, option)
    what = f" ({changes})" if changes else ""
    clauses: list[tuple[int, str]] = []
    # a clear difference that reads as zero at its KPI's precision in the paragraph is listed apart
    said: dict[str, list[str]] = {"clear": [], "negligible": [], "unclear": [], "none": [], "unknown": []}
    recs = {
        str(r["kpi"]): {str(k): v for k, v in r.items()}
        for r in d.to_dict(orient="records")
        if str(r["option"]) == option
    }
    window = res.window_days(option)

    def unit(kpi: Kpi) -> bool:  # one unit for a KPI's money in every option's block (not £980,000, then £1.0m)
        return shown_in_millions(difference_rows(res, kpi))

    # the option's costs that add up to the total, at one precision (not £5.5m beside £76.23m and
    # £81.77m), each in its own unit; another option's costs do not set it
    costs = {k.name: k for k in present(res, map(K.per_year, K.COST_TOTALS)) if k.name in recs}
    cost_decimals = max(
        (rows_decimals([(recs[n], k, window)], short=True, millions=unit(k)) for n, k in costs.items()), default=0
    )
    listed = present(res, K.COMPARE)  # and any large change in a service's wait or list beside them
    for kpi in [*listed, *large_changes(res, option, [k.name for k in listed])]:
        rec = recs.get(kpi.name)
        if rec is None or not (finite(rec["base_mean"]) or finite(rec["option_mean"])):
            continue
        # the row's own precision (a cost at least its fellow costs'), in the KPI's one unit
        at_least = cost_decimals if kpi.name in costs else 0
        millions = unit(kpi)
        text, how = _clause(res, option, kpi, rec, at_least, millions)
        note = _no_care_effect(res, option) if kpi.name == K.CARE_ENTRIES.name else ""
        # zero as the clause shows it (the same precision and unit)
        shown_as = res.kpis.get(kpi.name, kpi)
        small = negligible(rec, shown_as, window, millions=millions, at_least=at_least) if how == "clear" else ""
        group = "negligible" if small else how
        clauses.append((list(said).index(group), f"<li>{cap(text)}.{' ' + note if note else ''}</li>"))  # clear first
        said[group].append(e(kpi.label) + (f" (rounds to {e(small)})" if small else ""))
    tally = [
        f"{words} {', '.join(said[how])}"
        for how, words in (
            ("clear", "clear differences in"),
            ("negligible", "clear but negligible differences in"),
            ("unclear", "no clear difference in"),
            ("unknown", "no verdict (one replication) on"),
        )
        if said[how]
    ]
    late = _unreached_text(res, option)
    if not tally:
        tally = ["no change in any KPI" if said["none"] else "nothing to compare"]
    head = f"With <b>{e(option)}</b>{what}: " + "; ".join([late, *tally] if late else tally) + "."
    return head + '<ul class="clauses">' + "".join(c for _, c in sorted(clauses, key=lambda c: c[0])) + "</ul>"


def _compare_items(res: Results) -> list[str]:
    n = n_reps(res, res.base)
    items = [
        f"Each option is compared with <b>{e(res.base)}</b> over {n} paired replication{'s' if n != 1 else ''} "
        "(common random numbers: replication <i>r</i> of every scenario sees the same families). A difference is "
        "called clear when the paired 95% confidence interval of the difference excludes zero. "
        + _per_year(res, res.base),
        checks_pointer(res),
        *[_option_item(res, option) for option in res.options],
    ]
    if n < 2:
        items.append(ONE_REPLICATION.format(what="differences"))
    return [i for i in items if i]


# --------------------------------------------------------------------------- sweep
def _py(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _reached_at(tied: pd.DataFrame, rows: pd.DataFrame, keys: Sequence[str]) -> str:
    """Where a sweep's KPI reads its lowest (or highest) value: the combination, where one
    does; else the settings that matter, where every combination with them does
    (``interval_days = 7, any therapists``); else how many combinations do. A tie is never
    credited to one of them (a wait the same with 4, 5 and 6 therapists read as "therapists = 4")."""
    fixed = {k: _py(tied[k].iloc[0]) for k in keys if tied[k].nunique() == 1}
    if len(tied) == 1:
        return ", ".join(sweep_label(k, v) for k, v in fixed.items())
    alike = rows
    for k, v in fixed.items():
        alike = alike[alike[k] == v]
    if fixed and len(alike) == len(tied):
        anything = [f"any {sweep_name(k)}" for k in keys if k not in fixed]
        return ", ".join([*(sweep_label(k, v) for k, v in fixed.items()), *anything])
    return f"{len(tied)} combinations"


def _sweep_range(res: Results, kpi: Kpi) -> str:
    """The range of ``kpi`` over the sweep's combinations, from the lowest mean to the highest,
    each with where it is reached (:func:`_reached_at`: every combination that reads the same
    as that end, as printed); "about the same in every combination" where both ends read the same."""
    keys = res.sweep_keys
    rows = res.summary[res.summary["kpi"] == kpi.name]
    rows = rows[pd.to_numeric(rows["mean"], errors="coerce").notna()]
    if rows.empty:
        return ""
    ordered = rows.sort_values("mean", kind="stable")
    # each mean as printed, untagged: combinations that read the same tie
    read = ordered["mean"].map(lambda v: num(res, kpi, "mean", value=float(v)))
    ends = []
    for row in (ordered.iloc[0], ordered.iloc[-1]):
        where = {k: _py(row[k]) for k in keys}
        tied = ordered[read == num(res, kpi, "mean", value=float(row["mean"]))]
        shown = num(res, kpi, "mean", value=float(row["mean"]), where=where)
        ends.append((shown, _reached_at(tied, rows, keys), float(row["mean"])))
    unit = "" if kpi.kind in ("gbp", "share") else f" {e(kpi.display_unit)}"  # £ and % are in the number
    (lo, lo_at, lo_v), (hi, hi_at, hi_v) = ends
    if lo_v == hi_v:
        return f"{cap(e(kpi.label))} is {lo}{unit} in every combination."
    if read.iloc[0] == read.iloc[-1]:
        return f"{cap(e(kpi.label))} is about the same in every combination: {lo}{unit}."
    return f"{cap(e(kpi.label))} ranges from {lo}{unit} ({e(lo_at)}) to {hi}{unit} ({e(hi_at)})."


def _sweep_items(res: Results) -> list[str]:
    keys = res.sweep_keys
    combos = res.summary[keys].drop_duplicates() if keys else pd.DataFrame()
    n = n_reps(res)
    head = (
        f"The sweep varies {', '.join(f'<code>{e(k)}</code>' for k in keys)} over {len(combos)} combinations, "
        f"{n} replication{'s' if n != 1 else ''} each, with common random numbers. {_per_year(res, res.base)} "
        f"Each range in the tables is a {INTERVAL_TEXT}."
    )
    items = [head, *[_sweep_range(res, k) for k in present(res, K.SWEEP)]]
    if n < 2:
        items.append(ONE_REPLICATION.format(what="numbers"))
    return [i for i in items if i]


def summary_items(res: Results) -> list[str]:
    """The summary, as HTML list items (already escaped)."""
    if res.kind == Kind.COMPARE:
        return _compare_items(res)
    if res.kind == Kind.SWEEP:
        return _sweep_items(res)
    if res.kind == Kind.UNCERTAINTY:
        from sim.present.uncertainty_page import uncertainty_items

        return uncertainty_items(res)
    return _run_items(res)

"""The finding each figure's title states, as a sentence computed from the numbers it shows.

Each function takes values already in display units (per year, percent) and returns one
sentence; nothing here reads files or draws. A comparison's title says that something falls,
rises or changes only where the option's paired 95% CI excludes zero: the functions take the
verdicts of :func:`sim.present.data.verdict` and never judge a difference by its size.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

from sim.kpis import Kpi
from sim.present.data import BUDGET_WORDS, VERDICT_WORDS
from sim.present.format import fmt_number, group_decimals
from sim.present.theme import TITLE_MAX_CHARS
from sim.vocab import Stage, stage_info
from sim.warmup import Settling

__all__ = [
    "costs",
    "family_waits",
    "flows",
    "forest",
    "over_time",
    "precision",
    "step_ups",
    "sweep",
    "utilisation",
    "waits",
    "warmup",
]


def _days(x: float, decimals: int | None = None) -> str:
    return fmt_number(x, "days", decimals)


def _apart(kind: str, base: float, value: float, verdict: str | None) -> int:
    """The decimals of a level of ``kind`` beside the baseline's ``base``: the kind's, more where
    the difference is clear (its paired 95% CI excludes zero) and the two would read the same
    (:func:`sim.present.format.group_decimals`: not "61 in baseline; 61 with weekly_panel (clear
    difference)" for 61.35 and 60.67)."""
    return group_decimals(kind, [base, value], apart=[(base, value)] if verdict == "clear" else [])


def _beside(
    kind: str, base: float, values: Mapping[str, float], verdicts: Mapping[str, str]
) -> tuple[str, dict[str, str]]:
    """The baseline's ``base`` and each option's level in ``values``, formatted: each option to
    the precision its own pair with the baseline needs (:func:`_apart`), not another option's;
    the baseline, said once, to the most of them, so it reads apart from every clear one."""
    places = {s: _apart(kind, base, v, verdicts.get(s)) for s, v in values.items()}
    shown = {s: fmt_number(v, kind, places[s]) for s, v in values.items()}
    return fmt_number(base, kind, max(places.values(), default=None)), shown


def _phrase(stage: str) -> str:
    return stage_info(Stage(stage)).phrase


def _listed(head: str, parts: Sequence[str], width: int, lines: int = 2) -> str:
    """``head`` and then ``parts``, joined by commas: every part where that fits on ``lines``
    title lines of ``width`` characters, else as many as fit and "and N more (see the table)"
    ("N options (see the table)" where none fits): a title never drops an option silently, and
    never says "and 1 more" (the one is named, or two are counted, as :func:`sim.results._names`).
    The parts are named in the order given: :func:`_ranked` puts the clear differences first."""
    for shown in range(len(parts), 0, -1):
        rest = len(parts) - shown
        if rest == 1:
            continue
        text = head + ", ".join([*parts[:shown], *([f"and {rest} more (see the table)"] if rest else [])])
        if len(textwrap.wrap(text, width)) <= lines:
            return text
    return f"{head}{len(parts)} options (see the table)"


def _ranked(parts: Sequence[tuple[str, str | None, float]]) -> list[str]:
    """The texts of ``parts`` (text, verdict, difference from the baseline), the clear
    differences first, largest first, then the rest in the order given: a title that cannot
    name every option names the clear ones (a cost title led with an option of no clear
    difference, in scenario order, and counted the one clear saving among "4 more")."""

    def key(item: tuple[int, tuple[str, str | None, float]]) -> tuple[bool, float, int]:
        at, (_, said, diff) = item
        clear = said == "clear"
        return (not clear, -abs(diff) if clear and math.isfinite(diff) else 0.0, at)

    return [text for _, (text, _, _) in sorted(enumerate(parts), key=key)]


def _said(verdict: str | None) -> str:
    """`` (clear difference)``, `` (no clear difference)``...: a verdict of
    :func:`sim.present.data.verdict` in words, after a number it qualifies; nothing for a
    difference that was not computed (``missing``, ``None``)."""
    return f" ({VERDICT_WORDS[verdict]})" if verdict in VERDICT_WORDS else ""


def waits(
    means: Mapping[tuple[str, str], float],
    p90: Mapping[str, float],
    scenarios: Sequence[str],
    verdicts: Mapping[tuple[str, str], str],
    n: int,
) -> str:
    """``means[(queue, scenario)]`` the mean wait (days); ``p90[queue]`` the baseline's 90th
    percentile; ``verdicts[(queue, option)]`` the :func:`sim.present.data.verdict` on the option's
    paired difference in that queue's mean wait; ``n`` replications per scenario.

    A wait is said to fall or rise only where that difference is clear (its paired 95% CI
    excludes zero)."""
    table = {key: v for key, v in means.items() if math.isfinite(v)}
    if not table or not scenarios:
        return "No family waited in any queue in the results window"
    base = scenarios[0]
    if len(scenarios) > 1:
        changes = [(v - table[(q, base)], q, s) for (q, s), v in table.items() if s != base and (q, base) in table]
        if not changes:
            return "No queue has a mean wait in both the baseline and an option"
        clear = [c for c in changes if verdicts.get((c[1], c[2])) == "clear"]
        change, q, s = max(clear or changes, key=lambda c: abs(c[0]))
        shift = f"the mean wait for {_phrase(q)}, {_days(table[(q, base)])} → {_days(table[(q, s)])} days with {s}"
        if clear:
            verb = "falls" if change < 0 else "rises"
            places = _apart("days", table[(q, base)], table[(q, s)], "clear")
            before, after = _days(table[(q, base)], places), _days(table[(q, s)], places)
            return (
                f"Biggest clear change: the mean wait for {_phrase(q)} {verb} by {_days(abs(change), places)} days "
                f"with {s} ({before} → {after} days; the paired 95% CI excludes 0)"
            )
        if abs(change) < 0.05:
            return "Mean waits barely differ between the options (under 0.1 day)"
        if n < 2:
            return f"One replication: no verdict on mean waits (largest difference: {shift})"
        return (
            f"No clear change in mean waits with {n} replications: every paired 95% CI of a mean wait "
            f"includes 0 (largest difference: {shift})"
        )
    own = {q: v for (q, s), v in table.items() if s == base}
    q = max(own, key=lambda k: own[k])
    text = f"Families wait longest for {_phrase(q)}: {_days(own[q])} days on average"
    if math.isfinite(p90.get(q, math.nan)):
        text += f", 1 in 10 over {_days(p90[q])} days"
    return text


def family_waits(p90: Mapping[str, float]) -> str:
    longest = max(p90, key=lambda q: p90[q])
    return f"In replication 0, 1 family in 10 waits over {_days(p90[longest])} days for {_phrase(longest)}"


def over_time(
    what: str,
    stats: Mapping[str, Mapping[str, tuple[float, float, float]]],
    scenarios: Sequence[str],
    averages: Mapping[tuple[str, str], float],
    verdicts: Mapping[tuple[str, str], str],
) -> str:
    """``stats[label][scenario]`` = (first, last, mean) of the median monthly average (one
    scenario); for a comparison ``averages[(label, scenario)]`` is the time-average over the
    results window (its KPI's mean) and ``verdicts[(label, option)]`` the verdict on the option's
    paired difference in it. A change is named only where that difference is clear."""
    base = scenarios[0]
    level = "level"
    if len(scenarios) > 1:
        changes = [
            (v - averages[(label, base)], label, s)
            for (label, s), v in averages.items()
            if s != base and (label, base) in averages and verdicts.get((label, s)) == "clear"
        ]
        if not changes:
            return f"{what}: no clear change in any time-average over the results window (no paired 95% CI excludes 0)"
        _, label, s = max(changes, key=lambda c: abs(c[0]))
        before, after = averages[(label, base)], averages[(label, s)]
        places = _apart(level, before, after, "clear")
        return (
            f"{what}: biggest clear change in {label}, {fmt_number(before, level, places)} on average in {base} and "
            f"{fmt_number(after, level, places)} with {s} over the results window (the paired 95% CI excludes 0)"
        )
    label = max(stats, key=lambda lab: stats[lab][base][2])
    first, last, mean = stats[label][base]
    if what == "Queues":
        return (
            f"Longest queue: {label}, {fmt_number(mean, level)} families waiting on average "
            f"({fmt_number(last, level)} in the last month; monthly averages, median of the replications)"
        )
    return (
        f"{what}: most are {label}, {fmt_number(first, level)} in the first month and "
        f"{fmt_number(last, level)} in the last (monthly averages, median of the replications)"
    )


def utilisation(
    items: Sequence[tuple[str, str, float]],
    scenarios: Sequence[str],
    verdicts: Mapping[tuple[str, str], str],
    width: int = TITLE_MAX_CHARS,
) -> str:
    """``items``: (scenario, label, percent) per service; ``verdicts[(label, option)]`` the verdict
    on the option's paired difference; ``width`` the characters of a title line (the options
    named as :func:`_listed` says)."""
    base = [(lab, v) for s, lab, v in items if s == scenarios[0] and math.isfinite(v)]
    if not base:
        return "No utilisation to show"
    label, value = max(base, key=lambda item: item[1])
    levels = {s: v for s, lab, v in items if lab == label and s != scenarios[0]}
    said, shown = _beside("share", value, levels, {s: verdicts[(label, s)] for s in levels if (label, s) in verdicts})
    text = f"Highest {label}: {said} of slots in use on average"
    if len(scenarios) > 1 and levels:
        # every option counted: one without the service is named as such, not dropped
        # (the title said "4 options" of five where one had no such team)
        others = _ranked(
            [
                (
                    f"{shown[s]} with {s}{_said(verdicts.get((label, s)))}",
                    verdicts.get((label, s)),
                    levels[s] - value,
                )
                if s in levels
                else (f"not in {s}", None, math.nan)
                for s in scenarios[1:]
            ]
        )
        text = _listed(f"{text} in {scenarios[0]}; ", others, width)
    return text


def step_ups(
    step_ups: Mapping[str, float],
    care: Mapping[str, float],
    scenarios: Sequence[str],
    verdicts: Mapping[str, str],
    width: int = TITLE_MAX_CHARS,
) -> str:
    """Step-ups and entries to care a year per scenario; ``verdicts[option]`` the verdict on the
    option's paired difference in step-ups; ``width`` the characters of a title line (the
    options named as :func:`_listed` says)."""
    base = scenarios[0]
    su, ce = step_ups.get(base, math.nan), care.get(base, math.nan)
    if len(scenarios) > 1:
        said, shown = _beside("count", su, {s: step_ups.get(s, math.nan) for s in scenarios[1:]}, verdicts)
        parts = _ranked(
            [
                (f"{shown[s]} with {s}{_said(verdicts.get(s))}", verdicts.get(s), step_ups.get(s, math.nan) - su)
                for s in scenarios[1:]
            ]
        )
        return _listed(f"Step-ups to social care a year: {said} in {base}; ", parts, width)
    if not su > 0 and not ce > 0:
        return "No step-ups to social care and no entries to care"
    return f"{fmt_number(su, 'count')} families a year step up to social care; {fmt_number(ce, 'count')} enter care"


def costs(
    totals: Mapping[str, float],
    scenarios: Sequence[str],
    verdicts: Mapping[str, str],
    budgets: Mapping[str, str],
    width: int = TITLE_MAX_CHARS,
) -> str:
    """Total cost a year per scenario; ``verdicts[option]`` the verdict on the option's paired
    difference in the total; ``budgets[scenario]`` whether its early help cost is within its
    own budget (:func:`sim.present.data.budget_verdict`; the budget covers early help only, so
    it is never set against the total); ``width`` the characters of a title line (the options
    named as :func:`_listed` says)."""
    base = scenarios[0]
    m = totals.get(base, math.nan)
    text = f"Total cost {fmt_number(m, 'gbp')} a year" + (f" in {base}" if len(scenarios) > 1 else "")
    if len(scenarios) > 1:
        parts = []
        for s in scenarios[1:]:
            d = totals.get(s, math.nan) - m
            said = verdicts.get(s)
            parts.append((f"{s} {'+' if d >= 0 else '−'}{fmt_number(abs(d), 'gbp')}{_said(said)}", said, d))
        text = _listed(f"{text}; ", _ranked(parts), width)
    groups: dict[str, list[str]] = {}
    for s, v in budgets.items():
        groups.setdefault(v, []).append(s)
    if len(scenarios) == 1 and groups:
        text += f". Early help cost {BUDGET_WORDS[next(iter(groups))]} its budget"
    elif groups:
        each = [f"{BUDGET_WORDS[v]} its budget in {' and '.join(names)}" for v, names in groups.items()]
        text += ". Early help cost " + "; ".join(each)
    return text


def forest(clear: Mapping[str, int], total: int, one_replication: bool) -> str:
    if one_replication:
        return "One replication: no confidence intervals, so no difference can be called clear"
    parts = [f"{opt}: {n} of {total}" for opt, n in clear.items()]
    return "Clear differences from the baseline (paired 95% CI excludes 0) - " + "; ".join(parts)


def sweep(kpi: Kpi, key: str, first: tuple[object, float], last: tuple[object, float], over: Sequence[str] = ()) -> str:
    """The sweep figure's finding: ``kpi`` from its mean at the first value of ``key`` to that
    at the last; with other swept settings ``over``, the means are averaged over their values,
    and the title says so."""
    unit = "" if kpi.kind == "gbp" else f" {kpi.display_unit}"
    averaged = f" (averaged over the values of {' and '.join(over)})" if over else ""
    return (
        f"{kpi.label[:1].upper() + kpi.label[1:]} goes from {fmt_number(first[1], kpi.kind)} to "
        f"{fmt_number(last[1], kpi.kind)}{unit} as {key} goes from {first[0]} to {last[0]}{averaged}"
    )


def precision(n: int, within: int, total: int, target: float, where: str) -> str:
    if n < 2:
        return f"One replication{where}: no confidence intervals; run 10 or more to judge precision"
    return (
        f"After {n} replications{where}, the 95% CI is within ±{target:.0%} of the mean (or ±half a unit) "
        f"for {within} of {total} key KPIs"
    )


def warmup(warm: Settling | None, label: str, where: str) -> str:
    if warm is not None and not warm.steady:
        return f"Warm-up{where}: no steady state within the run ({label} still {warm.drift} at the end)"
    if warm is not None and warm.undecided:
        return (
            f"Warm-up{where}: MSER-5 suggests at least {warm.discard_days:,} days, its most in a run this long; "
            f"the scenario uses {warm.warmup_days:,.0f} (run longer to tell)"
        )
    if warm is not None and warm.by_chance:
        return (
            f"Warm-up{where}: MSER-5 stops at its cap, {warm.discard_days:,} days, but {label} "
            "shows no transient worth it; "
            f"the scenario uses {warm.warmup_days:,.0f} (enough)"
        )
    if warm is not None:
        verdict = "shorter than suggested" if warm.settling else "enough"
        return (
            f"Warm-up{where}: MSER-5 suggests {warm.discard_days:,} days; "
            f"the scenario uses {warm.warmup_days:,.0f} ({verdict})"
        )
    return f"Warm-up{where}: {label} over time"


def flows(
    to_early_help: float,
    to_social_care: float,
    level3: float,
    social_care: float,
    care: float,
    where: str,
    years: float,
) -> str:
    """Counts over the results window: new referrals and re-referrals entering early help and
    entering social care directly (step-downs are moves, not referrals), key-worker plans
    started, families going on to social care and entries to care.

    The total is the sum of its two parts as shown (each a whole number)."""
    eh, sc = (round(x) if math.isfinite(x) else 0 for x in (to_early_help, to_social_care))
    if not eh + sc > 0:
        return f"No referrals in the results window{where}"
    span = f"{years:.1f} years" if math.isfinite(years) else "the results window"
    referred = f"{fmt_number(eh, 'count')} referrals to early help"
    if sc:
        referred = (
            f"{fmt_number(eh + sc, 'count')} referrals to early help and social care ({fmt_number(eh, 'count')} "
            f"to early help, {fmt_number(sc, 'count')} straight to social care)"
        )
    return (
        f"Over {span}{where}: {referred}; {fmt_number(level3, 'count')} key-worker plans start, "
        f"{fmt_number(social_care, 'count')} families go on to social care and {fmt_number(care, 'count')} enter care"
    )

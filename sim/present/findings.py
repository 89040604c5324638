"""The finding each figure's title states, as a sentence computed from the numbers it shows.

Each function takes values already in display units (per year, percent) and returns one
sentence; nothing here reads files or draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from sim.kpis import Kpi
from sim.present.format import fmt_number
from sim.vocab import Stage, stage_info

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


def _days(x: float) -> str:
    return fmt_number(x, "days")


def _phrase(stage: str) -> str:
    return stage_info(Stage(stage)).phrase


def waits(means: Mapping[tuple[str, str], float], p90: Mapping[str, float], scenarios: Sequence[str]) -> str:
    """``means[(queue, scenario)]`` the mean wait (days); ``p90[queue]`` the baseline's 90th percentile."""
    table = {key: v for key, v in means.items() if math.isfinite(v)}
    if not table or not scenarios:
        return "No family waited in any queue in the results window"
    base = scenarios[0]
    if len(scenarios) > 1:
        changes = [(v - table[(q, base)], q, s) for (q, s), v in table.items() if s != base and (q, base) in table]
        if not changes:
            return "No queue has a mean wait in both the baseline and an option"
        change, q, s = max(changes, key=lambda c: abs(c[0]))
        if abs(change) < 0.05:
            return "Mean waits barely differ between the options (under 0.1 day)"
        verb = "falls" if change < 0 else "rises"
        return (
            f"Biggest change: the mean wait for {_phrase(q)} {verb} by {_days(abs(change))} days with {s} "
            f"({_days(table[(q, base)])} → {_days(table[(q, s)])} days)"
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
    what: str, stats: Mapping[str, Mapping[str, tuple[float, float, float]]], scenarios: Sequence[str]
) -> str:
    """``stats[label][scenario]`` = (first, last, mean) of the median monthly average."""
    base = scenarios[0]
    level = "level"
    if len(scenarios) > 1:
        changes = [
            (by[s][2] - by[base][2], label, s)
            for label, by in stats.items()
            for s in scenarios[1:]
            if s in by and base in by
        ]
        if changes:
            d, label, s = max(changes, key=lambda c: abs(c[0]))
            before, after = stats[label][base][2], stats[label][s][2]
            if abs(d) >= max(1.0, 0.05 * abs(before)):
                return (
                    f"{what}: {label} average {fmt_number(before, level)} in {base} and "
                    f"{fmt_number(after, level)} with {s} over the run"
                )
        return f"{what}: the options stay within 5% (or one family) of {base} on average"
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


def utilisation(items: Sequence[tuple[str, str, float]], scenarios: Sequence[str]) -> str:
    """``items``: (scenario, label, percent) per service."""
    base = [(lab, v) for s, lab, v in items if s == scenarios[0] and math.isfinite(v)]
    if not base:
        return "No utilisation to show"
    label, value = max(base, key=lambda item: item[1])
    text = f"Highest {label}: {fmt_number(value, 'share')} of slots in use on average"
    if len(scenarios) > 1:
        others = [f"{fmt_number(v, 'share')} with {s}" for s, lab, v in items if lab == label and s != scenarios[0]]
        if others:
            text += f" in {scenarios[0]}; " + ", ".join(others[:3])
    return text


def step_ups(step_ups: Mapping[str, float], care: Mapping[str, float], scenarios: Sequence[str]) -> str:
    """Step-ups and entries to care a year per scenario."""
    base = scenarios[0]
    su, ce = step_ups.get(base, math.nan), care.get(base, math.nan)
    if len(scenarios) > 1:
        parts = [f"{fmt_number(step_ups.get(s), 'count')} with {s}" for s in scenarios[1:]]
        return f"Step-ups to social care a year: {fmt_number(su, 'count')} in {base}; " + ", ".join(parts[:3])
    if not su > 0 and not ce > 0:
        return "No step-ups to social care and no entries to care"
    return f"{fmt_number(su, 'count')} families a year step up to social care; {fmt_number(ce, 'count')} enter care"


def costs(totals: Mapping[str, float], scenarios: Sequence[str], budget: float | None) -> str:
    """Total cost a year per scenario, against the budget when there is one."""
    base = scenarios[0]
    m = totals.get(base, math.nan)
    text = f"Total cost {fmt_number(m, 'gbp')} a year" + (f" in {base}" if len(scenarios) > 1 else "")
    if budget:
        gap = m - budget
        text += (
            f", {fmt_number(abs(gap), 'gbp')} {'over' if gap > 0 else 'under'} the {fmt_number(budget, 'gbp')} budget"
        )
    if len(scenarios) > 1:
        parts = []
        for s in scenarios[1:]:
            d = totals.get(s, math.nan) - m
            parts.append(f"{s} {'+' if d >= 0 else '−'}{fmt_number(abs(d), 'gbp')}")
        text += "; " + ", ".join(parts[:3])
    return text


def forest(clear: Mapping[str, int], total: int, one_replication: bool) -> str:
    if one_replication:
        return "One replication: no confidence intervals, so no difference can be called clear"
    parts = [f"{opt}: {n} of {total}" for opt, n in clear.items()]
    return "Clear differences from the baseline (paired 95% CI excludes 0) - " + "; ".join(parts)


def sweep(kpi: Kpi, key: str, first: tuple[object, float], last: tuple[object, float]) -> str:
    unit = "" if kpi.kind == "gbp" else f" {kpi.display_unit}"
    return (
        f"{kpi.label[:1].upper() + kpi.label[1:]} goes from {fmt_number(first[1], kpi.kind)} to "
        f"{fmt_number(last[1], kpi.kind)}{unit} as {key} goes from {first[0]} to {last[0]}"
    )


def precision(n: int, within: int, total: int, target: float, where: str) -> str:
    if n < 2:
        return f"One replication{where}: no confidence intervals; run 10 or more to judge precision"
    return (
        f"After {n} replications{where}, the 95% CI is within ±{target:.0%} of the mean (or ±half a unit) "
        f"for {within} of {total} key KPIs"
    )


def warmup(suggested: float | None, configured: float | None, label: str, where: str) -> str:
    if suggested is not None and configured is not None and math.isfinite(suggested):
        verdict = "enough" if configured >= suggested else "shorter than suggested"
        return f"Warm-up{where}: MSER-5 suggests {suggested:,.0f} days; the scenario uses {configured:,.0f} ({verdict})"
    return f"Warm-up{where}: {label} over time"


def flows(referrals: float, level3: float, social_care: float, care: float, where: str, years: float) -> str:
    if not referrals > 0:
        return f"No referrals in the results window{where}"
    span = f"{years:.1f} years" if math.isfinite(years) else "the results window"
    return (
        f"Over {span}{where}: {fmt_number(referrals, 'count')} referrals; {fmt_number(level3, 'count')} key-worker "
        f"plans start, {fmt_number(social_care, 'count')} families go on to social care and "
        f"{fmt_number(care, 'count')} enter care"
    )

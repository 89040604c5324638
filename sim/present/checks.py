"""The summary's checks in plain words: which answers are measured less precisely than the
target, and what the warm-up check and unreached dated changes affect.

The report's summary says them in one "Checks:" line near its top, pointing to the
Diagnostics section, which holds the technical detail (the confidence-interval method, MSER-5).
"""

from __future__ import annotations

import html
from typing import Any

from sim import kpis as K
from sim.present.assumptions import unreached_changes
from sim.present.data import finite
from sim.results import Kind, Results
from sim.vocab import Stage, stage_info
from sim.warmup import diagnosed, plainly

__all__ = ["checks_pointer", "short_of_precision"]

e = html.escape


def short_of_precision(res: Results, s: str) -> list[dict[str, Any]]:
    """The replication-count records of scenario ``s`` whose 95% CI misses the target precision."""
    records = (res.diagnostics.get(s) or {}).get("replications_needed") or []
    return [r for r in records if not r.get("sufficient") and finite(r.get("n_needed")) and r["kpi"] in res.kpis]


def _warmup_checks(res: Results) -> list[str]:
    """What the Diagnostics section says of the baseline's warm-up, in plain words
    (:func:`sim.warmup.plainly`): the warm-up measure, when it is still settling after the
    warm-up or may be changing at the end of the run, and each list so flagged, with the
    answers it affects (:func:`sim.warmup.diagnosed`)."""
    warm, queues = diagnosed(res.diagnostics.get(res.base) or {})
    measure = f"the number of open {stage_info(Stage(K.WARMUP_MEASURE.subject)).open_label}"
    parts = [plainly(measure, warm, "every answer")] if warm is not None and warm.flagged else []
    parts += [
        plainly(f"the waiting list for {stage_info(s).phrase}", v, "its wait") for s, v in queues.items() if v.flagged
    ]
    return parts


def _and(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _precision_check(res: Results) -> str:
    """The KPIs whose 95% CI misses the target precision in some scenario of a comparison, in
    plain words, with the replications they have and, for each, the most any scenario needs
    for it (the Diagnostics section gives each scenario's); ``""`` when none."""
    short = [r for s in res.scenarios for r in short_of_precision(res, s)]
    if not short:
        return ""
    needed: dict[str, int] = {}  # label -> the most runs any scenario needs for it, in first-seen order
    for r in short:
        label = res.kpis[r["kpi"]].label
        needed[label] = max(needed.get(label, 0), int(r["n_needed"]))
    runs = sorted({int(r["n_now"]) for r in short})
    target = float((res.diagnostics.get(res.base) or {}).get("precision", 0.05))
    with_runs = f"measured less precisely than ±{target:.0%} with {' or '.join(map(str, runs))} runs"
    if len(needed) == 1:
        ((label, n),) = needed.items()
        return f"{e(label)} is {with_runs} (about {n:,} would be needed)"
    first, *rest = needed.items()
    named = [f"{e(first[0])} (about {first[1]:,} runs would be needed)", *(f"{e(k)} (about {n:,})" for k, n in rest)]
    return f"{_and(named)} are {with_runs}"


def checks_pointer(res: Results) -> str:
    """One line pointing to the Diagnostics section when it holds warnings the summary does not
    repeat (a comparison's KPIs short of the target precision, the warm-up check, dated changes
    that never take effect), in plain words; else ``""``."""
    parts = [_precision_check(res)] if res.kind == Kind.COMPARE else []
    parts += _warmup_checks(res)
    for s in res.scenarios if res.kind == Kind.COMPARE else [res.base]:
        if n := len(unreached_changes(res.config(s))):
            one = n == 1
            parts.append(f"{n} dated change{'' if one else 's'} of {e(s)} never take{'s' if one else ''} effect")
    parts = [p for p in parts if p]
    if not parts:
        return ""
    return f'<span class="warn">Checks: {"; ".join(parts)}; see <a href="#diagnostics">Diagnostics</a>.</span>'

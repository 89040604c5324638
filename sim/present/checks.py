"""The summary's checks in plain words: which answers are measured less precisely than the
target, and what the warm-up check and unreached dated changes affect.

The report's summary says them in one "Checks:" line near its top, pointing to the
Diagnostics section, which holds the technical detail (the confidence-interval method, MSER-5).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from sim import kpis as K
from sim.analysis import replications_needed
from sim.present.assumptions import unreached_changes
from sim.present.data import finite, present, reps_of
from sim.results import Kind, Results
from sim.vocab import Stage, stage_info
from sim.warmup import diagnosed, plainly

__all__ = ["checks_pointer", "rank", "replication_records", "said_by", "short_of_precision"]

e = html.escape


def replication_records(res: Results, scenario: str) -> tuple[list[dict[str, Any]], float]:
    """Replication-count check per :data:`sim.kpis.PRECISION` KPI (the count meeting the target
    precision or :data:`sim.kpis.ABSOLUTE_ENOUGH`, :func:`sim.analysis.replications_needed`),
    with its target: from ``diagnostics.json``, or (a sweep, which stores none) worked out for
    its first combination."""
    diag = res.diagnostics.get(scenario) or {}
    if isinstance(diag.get("replications_needed"), list):
        return list(diag["replications_needed"]), float(diag.get("precision", 0.05))
    one = None if res.kind == Kind.SWEEP else scenario
    reps = reps_of(res, one)
    names = [k.name for k in present(res, K.PRECISION) if k.name in reps.columns]
    if not names or len(reps) < 2:
        return [], 0.05
    enough = {n: K.enough(res.kpis[n], res.window_days(one)) for n in names}
    need = replications_needed(reps, names, rel_precision=0.05, absolute=enough)
    return [{str(k): v for k, v in r.items()} for r in need.to_dict(orient="records")], 0.05


def short_of_precision(res: Results, s: str) -> list[dict[str, Any]]:
    """The replication-count records of scenario ``s`` whose 95% CI misses the target precision."""
    records = (res.diagnostics.get(s) or {}).get("replications_needed") or []
    return [r for r in records if not r.get("sufficient") and finite(r.get("n_needed")) and r["kpi"] in res.kpis]


def said_by(res: Results, say: Callable[[Mapping[str, Any]], list[tuple[int, str]]]) -> list[tuple[str, str]]:
    """What ``say`` says of each scenario's diagnostics entry, each sentence once, with the
    scenarios that say it, so several scenarios saying the same thing say it once.

    Parameters
    ----------
    res
        The results: a comparison's scenarios, else its one scenario (:attr:`Results.base`).
    say
        The sentences of one scenario's diagnostics entry (none for nothing to say), each with
        its rank (what it is of: :func:`rank`).

    Returns
    -------
    list of tuple
        Each sentence once, by rank and then in the order first said (the baseline's first),
        with the scenarios saying it in words, escaped: "every scenario" when a comparison's
        every scenario does, else their names ("a", "a and b"...).
    """
    names = res.scenarios if res.kind == Kind.COMPARE else [res.base]
    said: dict[str, tuple[int, list[str]]] = {}  # sentence -> (its rank, the scenarios saying it)
    for s in names:
        for r, text in say(res.diagnostics.get(s) or {}):
            said.setdefault(text, (r, []))[1].append(s)
    every = len(names) > 1
    in_order = sorted(said.items(), key=lambda item: item[1][0])  # stable: first said first among equals
    return [
        (text, "every scenario" if every and len(by) == len(names) else _and([e(s) for s in by]))
        for text, (_, by) in in_order
    ]


def rank(stage: Stage | None) -> int:
    """Where a warm-up sentence goes among a scenario's (:func:`said_by`): the warm-up measure's
    (``None``) first, then each queue's in the order of the stages."""
    return 0 if stage is None else 1 + list(Stage).index(stage)


def _warmup_checks(res: Results) -> list[str]:
    """What the Diagnostics section says of each scenario's warm-up, in plain words
    (:func:`sim.warmup.plainly`): the warm-up measure, when it is still settling after the
    warm-up or may be changing at the end of the run, and each list so flagged, with the
    answers it affects (:func:`sim.warmup.diagnosed`); in a comparison each names the
    scenarios it holds for (:func:`said_by`)."""
    measure = f"the number of open {stage_info(Stage(K.WARMUP_MEASURE.subject)).open_label}"

    def say(diag: Mapping[str, Any]) -> list[tuple[int, str]]:
        warm, queues = diagnosed(diag)
        parts = [(rank(None), plainly(measure, warm, "every answer"))] if warm is not None and warm.flagged else []
        return parts + [
            (rank(s), plainly(f"the waiting list for {stage_info(s).phrase}", v, "its wait"))
            for s, v in queues.items()
            if v.flagged
        ]

    named = res.kind == Kind.COMPARE and len(res.scenarios) > 1
    return [f"in {who}, {text}" if named else text for text, who in said_by(res, say)]


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
    with_runs = f"measured less precisely than ±{target:.0%} or half a unit with {' or '.join(map(str, runs))} runs"
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

"""The warm-up rule, in one place: does a monthly series reach a steady state within the run
and, if it does, is the run's warm-up shorter than its MSER-5 truncation point, and by how much?

:func:`sim.experiment.diagnostics` measures the truncation points (:func:`sim.warmup_stats.suggest_warmup`)
of the warm-up measure (:data:`sim.kpis.WARMUP_MEASURE`) and of every queue long enough to
check (:data:`sim.experiment.QUEUE_CHECKED`) and stores them in the scenario's diagnostics
entry. The console (:mod:`sim.cli`), the report's Diagnostics section and summary, and the
warm-up figure all take their verdict from :func:`diagnosed`, which applies
:func:`verdicts`, so they never disagree.

MSER-5 only looks at truncation points in the first half of the run, so a series still
growing (or falling) at the end gets a truncation point at or below half the run that no
warm-up makes good: lengthening the run to follow it moves the point along. Such a series has
no steady state within the run (:func:`sim.warmup_stats.drift` decides, stored beside the point);
its verdict says so (:func:`unsteady`) and never advises a warm-up.

A series with a steady state whose truncation point is MSER-5's cap (:attr:`Settling.at_cap`,
:func:`sim.warmup_stats.mser_cap`: the largest point it may choose, so the point only says "at
least this") and which is still settling after the warm-up gets no warm-up advice either: a
warm-up of that many days may not be enough, since in a longer run the point could be later.
Its verdict says so and advises a longer run to tell (:func:`at_cap`). That needs evidence
of a transient (:attr:`Settling.transient`: the months MSER-5 cuts differ from those it keeps,
a t-test at 95% against the noise of the kept batches, :func:`sim.warmup_stats.suggest_warmup`):
on a steady series with few batches MSER-5's minimum lands at its cap by chance, and such a
point (:attr:`Settling.by_chance`) is no warning (:func:`chance`). On white noise of 36 months
(7 batches) the point is the cap in 16% of runs, each warned of before; with the test, 4% of
runs (6% with month-to-month correlation 0.5; ``tests/test_warmup_lists.py``). A series
filling up (or emptying) for half the run or more differs between the two parts.

A truncation point is the start of a month: ``k x 365 / 12`` days, rarely a whole number.
It is shown as the whole days to discard, rounded up (:attr:`Settling.discard_days`): a
warm-up of that many days is long enough, and one a day shorter is not. (Rounded to the
nearest day, 91.25 read "suggests 91 days; the scenario uses 91 (shorter than suggested)".)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.vocab import Stage, stage_info

__all__ = ["Settling", "at_cap", "chance", "diagnosed", "plainly", "queue_warning", "unsteady", "verdicts"]

_DECIMALS = 6
"""A truncation point is compared at this many decimals of a day: a month start that is a
whole day in exact arithmetic (365 = 12 x 365 / 12) may be a hair above it in floating point."""


@dataclass(frozen=True)
class Settling:
    """The verdict on one series.

    Attributes
    ----------
    suggested_days : float
        The MSER-5 truncation point (days since the start of the run).
    warmup_days : float
        The run's warm-up (days).
    drift : str, default ""
        ``""`` when MSER-5 finds a steady state within the run; else ``"growing"`` or
        ``"falling"`` (:func:`sim.warmup_stats.drift`), and the truncation point means nothing.
    at_cap : bool, default False
        The truncation point is the largest MSER-5 may choose in a run this long
        (:func:`sim.warmup_stats.mser_cap`): it is a lower bound, not an answer.
    transient : bool, default True
        What MSER-5 cuts differs from what it keeps (``suggest_warmup``'s ``transient``):
        without that, a point at the cap is chance (:attr:`by_chance`).
    """

    suggested_days: float
    warmup_days: float
    drift: str = ""
    at_cap: bool = False
    transient: bool = True

    @property
    def _point(self) -> float:
        return round(self.suggested_days, _DECIMALS)

    @property
    def discard_days(self) -> int:
        """Whole days MSER-5 says to discard: the truncation point rounded up."""
        return math.ceil(self._point)

    @property
    def short_by(self) -> float:
        """Days by which the warm-up falls short of the truncation point (0 if it does not)."""
        return max(self._point - self.warmup_days, 0.0)

    @property
    def steady(self) -> bool:
        """True when MSER-5 finds a steady state within the run."""
        return not self.drift

    @property
    def by_chance(self) -> bool:
        """True when the warm-up is shorter than a point at MSER-5's cap but what MSER-5 cuts
        does not differ from what it keeps (not at 95%, or by under 5%): the cap is where a
        steady series' minimum often lands by chance, not evidence of a transient worth that
        warm-up, so the series counts as settled."""
        return self.steady and self.at_cap and not self.transient and self.short_by > 0

    @property
    def settling(self) -> bool:
        """True when the series has a steady state but the warm-up is shorter than its
        truncation point (not one at the cap :attr:`by_chance`): the series is still settling
        in the results window, and a longer warm-up would help."""
        return self.steady and self.short_by > 0 and not self.by_chance

    @property
    def undecided(self) -> bool:
        """True when the series is still settling and its truncation point is at MSER-5's cap:
        the run is too short to tell how long a warm-up it needs, or whether it settles."""
        return self.settling and self.at_cap

    @property
    def flagged(self) -> bool:
        """True when the series gets a warning: still settling, or no steady state."""
        return self.settling or not self.steady


def verdicts(
    points: Mapping[str, Any],
    warmup_days: float,
    drifts: Mapping[str, str] | None = None,
    caps: Mapping[str, Any] | None = None,
    transients: Mapping[str, Any] | None = None,
) -> dict[str, Settling]:
    """The verdict on each series with a finite truncation point.

    Parameters
    ----------
    points
        Truncation point (days) of each series, by any key (a stage, a column...); a missing
        (None or NaN) point means the series was not checked and gets no verdict.
    warmup_days
        The run's warm-up (days).
    drifts
        :func:`sim.warmup_stats.drift` of each series, by the same keys; a series missing here
        (or all, when None: a folder written before drift was stored) counts as steady.
    caps
        Whether each series' point is at MSER-5's cap (:attr:`Settling.at_cap`), by the same
        keys; a series missing here (or all, when None: a folder written before it was
        stored) counts as not at the cap.
    transients
        Whether MSER-5's cut of each series removes a transient (:attr:`Settling.transient`),
        by the same keys; a series missing here (or all, when None: a folder written before it
        was stored) counts as having one, its verdict as it was read then.

    Returns
    -------
    dict
        ``points``' keys, in order, to their :class:`Settling`; a series is still settling
        where :attr:`Settling.settling`, by :attr:`Settling.short_by` days.
    """
    out = {}
    for key, point in points.items():
        if point is not None and math.isfinite(float(point)):
            drift, capped = str((drifts or {}).get(key) or ""), bool((caps or {}).get(key, False))
            transient = bool((transients or {}).get(key, True))
            out[key] = Settling(float(point), float(warmup_days), drift, capped, transient)
    return out


def diagnosed(diag: Mapping[str, Any]) -> tuple[Settling | None, dict[Stage, Settling]]:
    """The verdicts of a scenario's diagnostics entry (:func:`sim.experiment.diagnostics`).

    Returns
    -------
    tuple
        The warm-up measure's verdict (None when it was not checked), then each checked
        queue's verdict by stage (none in a folder written before queues were stored).
    """
    configured = diag.get("warmup_days_configured")
    if configured is None:
        return None, {}
    warm = diag.get("warmup") or {}
    main = verdicts(
        {"": warm.get("warmup_days")},
        configured,
        {"": warm.get("drift", "")},
        {"": warm.get("at_cap", False)},
        {"": warm.get("transient", True)},
    ).get("")
    queues = verdicts(
        diag.get("queue_warmup") or {},
        configured,
        diag.get("queue_drift"),
        diag.get("queue_at_cap"),
        diag.get("queue_transient"),
    )
    return main, {Stage(stage): v for stage, v in queues.items()}


def unsteady(what: str, verdict: Settling, depends: str) -> str:
    """What the console and the report say of a series with no steady state within the run.

    Parameters
    ----------
    what
        The series, as the subject of a sentence ("the list for a key worker").
    verdict
        Its verdict (:attr:`Settling.drift` not empty).
    depends
        What therefore depends on the run's length, with its verb ("its waits and length depend").
    """
    return (
        f"{what} is still {verdict.drift} at the end of the run (MSER-5 finds no steady state within it), "
        f"so {depends} on how long the run is; no warm-up within this run can be shown to fix that"
    )


def at_cap(what: str, verdict: Settling, on: str = "") -> str:
    """What the console and the report say of a series still settling whose truncation point
    is at MSER-5's cap (:attr:`Settling.undecided`), instead of advising that warm-up.

    Parameters
    ----------
    what
        The series, as the subject of a sentence ("the list", "the series").
    verdict
        Its verdict.
    on
        What MSER-5 was run on, with its preposition (" on its monthly length"), or "".
    """
    days = f"{verdict.discard_days:,}"
    return (
        f"MSER-5{on} suggests discarding at least {days} days, the most it can suggest in a run this long: "
        f"{what} may still be changing at the end of the run; run longer (a warm-up of {days} days or more "
        "and the same results window after it) to tell"
    )


def chance(what: str, verdict: Settling) -> str:
    """What the console and the report say of a series whose truncation point is at MSER-5's
    cap with no transient to cut (:attr:`Settling.by_chance`), instead of advising that warm-up.

    Parameters
    ----------
    what
        The series, as the subject of a sentence ("the series").
    verdict
        Its verdict.
    """
    return (
        f"MSER-5's minimum is at its cap, {verdict.discard_days:,} days, but the months it would discard differ "
        "little from those it keeps (under 5% of their level, or not at 95% confidence), as on a steady series "
        f"whose minimum lands there by chance: {what} shows no transient worth that warm-up, and the scenario's "
        f"{verdict.warmup_days:,.0f} days are taken as long enough"
    )


def plainly(what: str, verdict: Settling, affected: str) -> str:
    """A flagged verdict (:attr:`Settling.flagged`) in plain words, for a reader who does not
    know MSER-5 (the report summary's Checks line; the Diagnostics section gives the detail).

    Parameters
    ----------
    what
        The series, as the singular subject of a sentence ("the waiting list for MST").
    verdict
        Its verdict.
    affected
        The answers it affects, as a singular subject ("its wait", "every answer").
    """
    if not verdict.steady:
        return f"{what} is still {verdict.drift} at the end of the run, so {affected} depends on how long the run is"
    if verdict.undecided:
        return f"{what} may still be changing at the end of the run, so {affected} may depend on how long the run is"
    return f"{what} is still settling after the warm-up, so {affected} depends on how long the warm-up is"


def queue_warning(stage: Stage, verdict: Settling) -> str:
    """What the console's warnings and the report say of a queue still settling, or with no
    steady state within the run (:attr:`Settling.flagged`)."""
    if not verdict.steady:
        return unsteady(f"the list for {stage_info(stage).phrase}", verdict, "its waits and length depend")
    if verdict.undecided:
        return (
            f"the list for {stage_info(stage).phrase} is still settling after the warm-up (the scenario discards "
            f"{verdict.warmup_days:,.0f} days): {at_cap('the list', verdict, ' on its monthly length')}"
        )
    return (
        f"the list for {stage_info(stage).phrase} is still settling after the warm-up: MSER-5 on its "
        f"monthly length suggests discarding the first {verdict.discard_days} days (the scenario discards "
        f"{verdict.warmup_days:.0f}), so its waits and length depend on how long the run is"
    )

"""The KPI definitions: every KPI's name, label, unit, kind and one-sentence definition.

:mod:`sim.metrics` names every value it computes through the functions here; the CLI, the
report and the figures read labels, units and lists from here; nothing parses a KPI name.
Families of KPIs (one per queue, team, source or year) come from small template functions
(``wait(Stage.LEVEL3, "mean")``), and :func:`catalogue` lists every KPI a scenario produces:
exactly the KPI columns of its ``replications.parquet`` (tested both ways).

Units: a KPI is stored in ``unit`` and shown in ``display_unit``. Counts and money summed
over the results window (``per_year``) are shown per year (``x 365 / window_days``); shares
are stored as fractions and shown in percent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

from sim.vocab import (
    Exit,
    Stage,
    stage_info,
)

__all__ = [
    "ASSESSMENTS",
    "BUDGET",
    "CARE_ENTRIES",
    "CARE_ENTRIES_FOSTER",
    "CARE_ENTRIES_RESIDENTIAL",
    "COST_PER_FAMILY",
    "DAYS_PER_YEAR",
    "FAMILIES_REFERRED",
    "IN_EARLY_HELP_AT_END",
    "OVER_BUDGET",
    "REFERRALS_TOTAL",
    "SOCIAL_CARE_ROUTES",
    "STAGE_FAMILIES",
    "STEP_UPS_DURING_PLAN",
    "STEP_UPS_TOTAL",
    "STEP_UPS_WHILE_WAITING",
    "TO_SC_FRONT_DOOR",
    "TO_SC_PANEL",
    "TO_SC_TOTAL",
    "WINDOW_DAYS",
    "WITHDRAWN_TOTAL",
    "Kind",
    "Kpi",
    "Stat",
    "agency_share",
    "caseload",
    "closed",
    "escalated",
    "open_at_end",
    "open_mean",
    "queue_mean",
    "referrals_from",
    "referrals_in_year",
    "role_caseload",
    "routed",
    "served",
    "staff_fte",
    "starts",
    "utilisation",
    "vacancy_rate",
    "wait",
    "waited_at_end",
    "waiting_at_end",
    "withdrawn",
]

Kind = Literal["days", "count", "level", "share", "gbp", "number"]
"""``days`` (durations), ``count`` (events in the window), ``level`` (cases at a time),
``share`` (a fraction), ``gbp`` (money), ``number`` (anything else)."""
DAYS_PER_YEAR = 365.0

Stat = Literal["mean", "median", "p90"]
_STAT_WORDS: dict[str, str] = {"mean": "mean", "median": "median", "p90": "90th percentile"}


@dataclass(frozen=True)
class Kpi:
    """One KPI.

    Attributes
    ----------
    name
        Column name in ``replications.parquet`` (stable).
    label
        Plain-English name, lower case ("mean wait for a key worker").
    unit
        Unit of the stored value ("days", "families", "£", "fraction").
    kind
        See :data:`Kind`; decides how the value is formatted.
    definition
        One sentence: what is counted or measured, and over which period.
    per_year
        Stored as a total over the results window; shown per year.
    family
        The template it comes from ("wait", "starts", "cost"...), for grouping figures.
    subject
        What a templated KPI is about (a stage, team, source, decision or year), else "".
    lists
        Which selections it belongs to: ``headline``, ``compare``, ``precision``, ``sweep``.
    signed
        Whether the value can be negative (a difference to a budget; the social worker cost
        beyond the unit costs, with posts standing empty); every other KPI is a count, duration,
        level, share or cost and never is.
    group
        For a KPI of one group of families (a locality), the group; "" for the whole area.
    at_most_one
        Whether the value is a part of its whole and so never above 1 (a share of families, a
        vacancy rate, busy slots over slots of a list whose slots never fall): its interval is
        truncated at 1 as a non-negative KPI's is at 0. False for a share that can exceed its
        whole (a list's utilisation after its capacity falls, as families keep their worker).
    at_most
        The most the value can be, in the stored unit, where a scenario sets it (the open Level 3
        key-worker plans: the key-worker lists' slots, while they never fall); ``inf`` else. Its
        interval is truncated there as a share's is at 1.
    """

    name: str
    label: str
    unit: str
    kind: Kind
    definition: str
    per_year: bool = False
    family: str = ""
    subject: str = ""
    lists: frozenset[str] = field(default_factory=frozenset)
    signed: bool = False
    group: str = ""
    at_most_one: bool = False
    at_most: float = math.inf

    @property
    def nonnegative(self) -> bool:
        """Whether the true value can never be below zero (all but the ``signed``)."""
        return not self.signed

    @property
    def display_unit(self) -> str:
        """The unit as shown (per year for window totals, percent for shares)."""
        if self.kind == "share":
            return "%"
        if self.per_year:
            return f"{self.unit} a year"
        return self.unit

    @property
    def stored_unit(self) -> str:
        """The unit of the stored value with its basis: a total over the results window
        (``per_year``) says so ("families over the results window"), as the ``unit`` column
        of ``robustness.csv`` and ``sensitivity.csv`` states it beside numbers shown a year."""
        return f"{self.unit} over the results window" if self.per_year else self.unit

    @property
    def stage(self) -> Stage | None:
        """The stage a KPI of a stage's template (:data:`STAGE_FAMILIES`: a wait, a queue, open
        plans) is about, its ``subject``; None for any other KPI."""
        return Stage(self.subject) if self.family in STAGE_FAMILIES else None

    def scale(self, window_days: float) -> float:
        """Factor from the stored value to the shown value."""
        if self.per_year:
            return DAYS_PER_YEAR / window_days if window_days and window_days > 0 else float("nan")
        if self.kind == "share":
            return 100.0
        return 1.0


def _k(
    name: str,
    label: str,
    unit: str,
    kind: Kind,
    definition: str,
    per_year: bool = False,
    family: str = "",
    subject: str = "",
    at_most_one: bool = False,
) -> Kpi:
    return Kpi(name, label, unit, kind, definition, per_year, family, subject, at_most_one=at_most_one)


# --------------------------------------------------------------------------- single KPIs
WINDOW_DAYS = _k(
    "window_days", "length of the results window", "days", "days", "Days from run.warmup_days to run.duration_days."
)
REFERRALS_TOTAL = _k(
    "referrals_total",
    "referrals and step-downs into early help",
    "referrals",
    "count",
    "Early help episodes started in the window (every source, re-referrals and step-downs included).",
    True,
)
FAMILIES_REFERRED = _k(
    "families_referred",
    "families referred",
    "families",
    "count",
    "Distinct families with at least one referral in the window.",
    True,
)
IN_EARLY_HELP_AT_END = _k(
    "in_early_help_at_end",
    "families in early help at the end",
    "families",
    "level",
    "Families queued or on a plan in an early help stage (front door, panel, Level 2, Level 3) at the end.",
)
ASSESSMENTS = _k(
    "assessments",
    "social care assessments",
    "families",
    "count",
    "Social care assessments started in the window.",
    True,
)
WITHDRAWN_TOTAL = _k(
    "withdrawn_total",
    "families withdrawing while waiting",
    "families",
    "count",
    "Episodes that ended because the family withdrew from a queue, in the window.",
    True,
)
STEP_UPS_WHILE_WAITING = _k(
    "step_ups_while_waiting",
    "step-ups to social care while waiting",
    "families",
    "count",
    "Episodes that escalated to social care from an early help queue, in the window.",
    True,
)
STEP_UPS_DURING_PLAN = _k(
    "step_ups_during_plan",
    "step-ups to social care during a plan",
    "families",
    "count",
    "Episodes stepped up to social care at a Level 3 plan review, in the window.",
    True,
)
STEP_UPS_TOTAL = _k(
    "step_ups_total",
    "step-ups to social care",
    "families",
    "count",
    "Step-ups while waiting plus step-ups during a plan, in the window.",
    True,
)
TO_SC_FRONT_DOOR = _k(
    "to_social_care_front_door",
    "referred on to social care by the front door",
    "families",
    "count",
    "Requests the front door passed to social care (need at Level 4), in the window.",
    True,
)
TO_SC_PANEL = _k(
    "to_social_care_panel",
    "referred on to social care by the panel",
    "families",
    "count",
    "Cases the panel passed to social care, in the window.",
    True,
)
TO_SC_TOTAL = _k(
    "to_social_care_total",
    "families going to social care",
    "families",
    "count",
    "Every route from early help into social care (front door, panel, step-ups), in the window.",
    True,
)
CARE_ENTRIES = _k(
    "care_entries", "entries to care", "families", "count", "Families starting a care placement in the window.", True
)
CARE_ENTRIES_FOSTER = _k(
    "care_entries_foster",
    "entries to foster care",
    "families",
    "count",
    "Families starting a foster placement in the window.",
    True,
)
CARE_ENTRIES_RESIDENTIAL = _k(
    "care_entries_residential",
    "entries to residential care",
    "families",
    "count",
    "Families starting a residential placement in the window.",
    True,
)
COST_PER_FAMILY = _k(
    "cost_per_family_gbp",
    "cost per family referred",
    "£ per family",
    "gbp",
    "Total cost in the window divided by the families referred in it.",
)
BUDGET = _k(
    "budget_gbp_per_year",
    "budget envelope",
    "£ a year",
    "gbp",
    "costs.budget_gbp_per_year of the scenario (price_year prices).",
)
OVER_BUDGET = replace(
    _k(
        "cost_early_help_over_budget_gbp_per_year",
        "early help cost over budget",
        "£ a year",
        "gbp",
        "Early help cost a year less the budget envelope (negative: under budget).",
    ),
    signed=True,
)

_EXIT_KPIS = {
    Exit.ADVICE: ("closed_advice", "requests closed with advice", "Requests the front door closed with advice only"),
    Exit.NO_PLAN: ("closed_no_plan", "panel cases closed with no plan", "Cases the panel closed with no plan"),
    Exit.OUTCOMES_MET: ("closed_outcomes_met", "plans closed with outcomes met", "Plans closed with outcomes met"),
    Exit.DISENGAGED: ("closed_disengaged", "plans ended by disengagement", "Plans ended because the family disengaged"),
    Exit.STEPPED_DOWN: (
        "closed_stepped_down",
        "plans stepped down to universal services",
        "Level 2 plans closed at review as stepped down to universal services",
    ),
    Exit.MST_COMPLETED: ("closed_mst_completed", "direct MST referrals completed", "Direct MST referrals closed"),
}


def closed(reason: Exit) -> Kpi:
    """Episodes that ended with ``reason`` (an exit within early help) in the window."""
    name, label, text = _EXIT_KPIS[reason]
    return _k(name, label, "families", "count", f"{text}, in the window.", True, family="closed", subject=reason)


SOCIAL_CARE_ROUTES = {
    Exit.STEP_UP_WHILE_WAITING: STEP_UPS_WHILE_WAITING,
    Exit.STEP_UP_DURING_PLAN: STEP_UPS_DURING_PLAN,
    Exit.TO_SOCIAL_CARE_FRONT_DOOR: TO_SC_FRONT_DOOR,
    Exit.TO_SOCIAL_CARE_PANEL: TO_SC_PANEL,
}
"""Exit reason into social care -> the KPI counting it."""


# --------------------------------------------------------------------------- templates
def referrals_from(source: str) -> Kpi:
    return _k(
        f"referrals_source_{source}",
        f"referrals from {source.replace('_', ' ')}",
        "referrals",
        "count",
        f"Episodes started in the window with source {source}.",
        True,
        family="referrals_source",
        subject=source,
    )


def wait(stage: Stage, stat: Stat) -> Kpi:
    suffix = {"mean": "mean_days", "median": "median_days", "p90": "p90_days"}[stat]
    phrase = stage_info(stage).phrase
    return _k(
        f"wait_{stage}_{suffix}",
        f"{_STAT_WORDS[stat]} wait for {phrase}",
        "days",
        "days",
        f"The {_STAT_WORDS[stat]} of waits (join to start) of families who joined the queue for {phrase} "
        "in the window and were served.",
        family=f"wait_{stat}",
        subject=stage,
    )


def served(stage: Stage) -> Kpi:
    phrase = stage_info(stage).phrase
    return _k(
        f"wait_{stage}_served",
        f"families served from the queue for {phrase}",
        "families",
        "count",
        f"Families who joined the queue for {phrase} in the window and were served (any time before the end).",
        True,
        family="served",
        subject=stage,
    )


def withdrawn(stage: Stage) -> Kpi:
    phrase = stage_info(stage).phrase
    return _k(
        f"withdrawn_{stage}",
        f"withdrew while waiting for {phrase}",
        "families",
        "count",
        f"Families who left the queue for {phrase} by withdrawing, in the window.",
        True,
        family="withdrawn",
        subject=stage,
    )


def escalated(stage: Stage) -> Kpi:
    phrase = stage_info(stage).phrase
    return _k(
        f"escalated_{stage}",
        f"escalated while waiting for {phrase}",
        "families",
        "count",
        f"Families who left the queue for {phrase} by escalating (to social care, or into care from an "
        "edge-of-care queue), in the window.",
        True,
        family="escalated",
        subject=stage,
    )


def waiting_at_end(stage: Stage) -> Kpi:
    phrase = stage_info(stage).phrase
    return _k(
        f"waiting_{stage}_at_end",
        f"still waiting for {phrase} at the end",
        "families",
        "level",
        f"Families in the queue for {phrase} at the end of the run.",
        family="waiting_at_end",
        subject=stage,
    )


def waited_at_end(stage: Stage) -> Kpi:
    phrase = stage_info(stage).phrase
    return _k(
        f"waiting_{stage}_at_end_mean_days",
        f"time already waited by those still waiting for {phrase}",
        "days",
        "days",
        f"Mean days already waited, at the end of the run, by families still in the queue for {phrase}.",
        family="waited_at_end",
        subject=stage,
    )


def queue_mean(stage: Stage) -> Kpi:
    phrase = stage_info(stage).phrase
    return _k(
        f"queue_{stage}_mean",
        f"average queue for {phrase}",
        "families",
        "level",
        f"Families waiting for {phrase}, averaged over the window.",
        family="queue_mean",
        subject=stage,
    )


def open_mean(stage: Stage) -> Kpi:
    label = stage_info(stage).open_label
    return _k(
        f"open_{stage}_mean",
        f"average open {label}",
        "families",
        "level",
        f"Open {label}, averaged over the window.",
        family="open_mean",
        subject=stage,
    )


def open_at_end(stage: Stage) -> Kpi:
    label = stage_info(stage).open_label
    return _k(
        f"open_{stage}_at_end",
        f"open {label} at the end",
        "families",
        "level",
        f"Open {label} at the end of the run.",
        family="open_at_end",
        subject=stage,
    )


def starts(stage: Stage) -> Kpi:
    label = stage_info(stage).open_label
    return _k(
        f"starts_{stage}",
        f"{label} started",
        "families",
        "count",
        f"{label[0].upper() + label[1:]} started in the window.",
        True,
        family="starts",
        subject=stage,
    )


STAGE_FAMILIES = frozenset(
    {wait(Stage.LEVEL3, stat).family for stat in get_args(Stat)}
    | {
        template(Stage.LEVEL3).family
        for template in (
            served,
            withdrawn,
            escalated,
            waiting_at_end,
            waited_at_end,
            queue_mean,
            open_mean,
            open_at_end,
            starts,
        )
    }
)
"""The families of the KPIs of one stage (the templates above): their ``subject`` is the stage
(:attr:`Kpi.stage`)."""


def utilisation(service: str, label: str, at_most_one: bool = False) -> Kpi:
    """Busy slots / slots of a service (``label`` names it: "Washington team", "MST");
    ``at_most_one`` when its slots never fall during the run (see :class:`Kpi`)."""
    return _k(
        f"utilisation_{service}",
        f"utilisation of {label}",
        "fraction",
        "share",
        f"Occupied slots of {label} averaged over the window, divided by its slots.",
        family="utilisation",
        subject=service,
        at_most_one=at_most_one,
    )


def caseload(service: str, label: str) -> Kpi:
    """Open plans per case-holding worker in post (an output: caseload caps are maxima)."""
    return _k(
        f"caseload_{service}",
        f"average caseload in {label}",
        "families per worker",
        "level",
        f"Open plans held by {label}, averaged over the window, divided by its case-holding workers in post "
        "(senior and not, averaged over the window).",
        family="caseload",
        subject=service,
    )


_ROLE_WORDS = {
    Stage.KEY_WORKER: ("key worker (not senior)", "key workers (not senior)"),
    Stage.SENIOR_KEY_WORKER: ("senior key worker", "senior key workers"),
}
"""A role's name in a KPI's label and definition: one worker, several."""


def role_caseload(service: str, role: Stage, label: str) -> Kpi:
    """Open plans per worker of one role (key worker or senior) in post on a list with senior posts."""
    who, whom = _ROLE_WORDS[role]
    return _k(
        f"caseload_{service}_{role}",
        f"average caseload per {who} in {label}",
        "families per worker",
        "level",
        f"Open plans held by {label} times the share of its caseload capacity held by its {whom}, divided "
        f"by the {whom} in post (time-averages over the window): the caseload of a {who} when families are spread "
        "over the workers in proportion to their maximum caseloads.",
        family="role_caseload",
        subject=service,
    )


def staff_fte(service: str, label: str) -> Kpi:
    """Case-holding FTE working on a list under workforce dynamics (employees and agency)."""
    return _k(
        f"staff_fte_{service}",
        f"case-holding FTE in post in {label}",
        "FTE",
        "level",
        f"Case-holding workers in post in {label} (permanent, new starters and agency cover; sick staff "
        "included), averaged over the window.",
        family="staff_fte",
        subject=service,
    )


def vacancy_rate(service: str, label: str) -> Kpi:
    """Vacant posts / posts of a list under workforce dynamics (DfE's FTE vacancy rate)."""
    return _k(
        f"vacancy_rate_{service}",
        f"vacancy rate in {label}",
        "fraction",
        "share",
        f"Case-holding posts in {label} without a permanent worker (agency-covered or not), averaged over the "
        "window, divided by the posts averaged over the window.",
        family="vacancy_rate",
        subject=service,
        at_most_one=True,
    )


def agency_share(service: str, label: str) -> Kpi:
    """Agency FTE / FTE working on a list under workforce dynamics (DfE's agency rate)."""
    return _k(
        f"agency_share_{service}",
        f"agency share of FTE in {label}",
        "fraction",
        "share",
        f"Agency workers covering vacant posts in {label}, averaged over the window, divided by the "
        "case-holding FTE in post (permanent and agency) averaged over the window.",
        family="agency_share",
        subject=service,
        at_most_one=True,
    )


def routed(stage: Stage, decision: str) -> Kpi:
    who = "the front door" if stage == Stage.FRONT_DOOR else "the panel"
    to = decision.replace("_", " ")
    return _k(
        f"routed_{stage}_{decision}",
        f"{who} decisions: {to}",
        "families",
        "count",
        f"Cases {who} routed to {to}, in the window.",
        True,
        family=f"routed_{stage}",
        subject=decision,
    )


def referrals_in_year(year: int) -> Kpi:
    return _k(
        f"referrals_year{year}",
        f"referrals in year {year}",
        "referrals",
        "count",
        f"Referrals in whole year {year} of the window (a projection from forecast demand).",
        family="referrals_year",
        subject=str(year),
    )

"""The model's names, defined once: stages, events, exit reasons, decisions, services.

Every other module (the model, the event log, the KPIs, the report) reads these; nothing
builds one of these names by hand or decodes one from a longer string. Members are
:class:`enum.StrEnum`, so they compare equal to, and are stored in the event log as, their
plain string values (``Stage.LEVEL3 == "level3"``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

__all__ = [
    "CIN_ENDS",
    "CP_ENDS",
    "DEPRIVATION_GROUPS",
    "DEPRIVATION_GROUP_LABELS",
    "EH_STAGES",
    "ICPC_OUTCOMES",
    "KEY_WORKER_STAGES",
    "LEAVE_ALLOCATED",
    "NEED_EXITS",
    "NEED_LEVELS",
    "PANEL_DECISIONS",
    "PLAN_STAGES",
    "POOLED_SERVICE",
    "QUEUE_STAGES",
    "REFERRAL_DECISIONS",
    "S47_OUTCOMES",
    "SC_ASSESSED",
    "SC_CLOSED",
    "SC_INITIAL",
    "SC_OUTCOMES",
    "SERVICE_SETTINGS",
    "SOCIAL_CARE",
    "SOCIAL_CARE_CLOSED",
    "SOCIAL_CARE_EXITS",
    "SOCIAL_WORKERS",
    "SOCIAL_WORKER_LIST",
    "STAFF_STAGES",
    "STAGE_SETTINGS",
    "TRIAGE_DECISIONS",
    "WAITING_LISTS",
    "BudgetLine",
    "Event",
    "Exit",
    "Staffing",
    "Stage",
    "StageInfo",
    "stage_info",
    "team_service",
]


class Stage(StrEnum):
    """Where a family is: a queue, a plan or service, a social care status, or closed."""

    FRONT_DOOR = "front_door"
    PANEL = "panel"
    LEVEL2 = "level2"
    LEVEL3 = "level3"
    MST = "mst"
    FGC = "fgc"
    FMH = "fmh"
    PARENTING = "parenting"
    ASSESSMENT = "assessment"
    SC_REFERRAL = "sc_referral"
    S47 = "s47"
    ICPC = "icpc"
    CIN = "cin"
    CP = "cp"
    LAC = "lac"
    CLOSED = "closed"
    KEY_WORKER = "key_worker"  # a key worker post's occupant (workforce dynamics only)
    SENIOR_KEY_WORKER = "senior_key_worker"  # a senior key worker post's occupant
    SOCIAL_WORKER = "social_worker"  # a case-holding social worker post's occupant


class Event(StrEnum):
    """What happened (the ``event`` column of the log)."""

    REFERRAL = "referral"  # an episode starts (detail: source)
    JOIN = "join"  # joined a queue
    LEAVE = "leave"  # left a queue unserved (detail: withdrawn | escalated; the parenting list also allocated)
    START = "start"  # service or plan started (slot taken)
    END = "end"  # service or plan ended (slot freed; detail: outcome or decision)
    EXIT = "exit"  # the early help episode ended (detail: an :class:`Exit`)


class Exit(StrEnum):
    """How an early help episode ended (the ``detail`` of an ``exit`` event)."""

    ADVICE = "advice"
    NO_PLAN = "no_plan"
    OUTCOMES_MET = "outcomes_met"
    DISENGAGED = "disengaged"
    STEPPED_DOWN = "stepped_down"
    MST_COMPLETED = "mst_completed"
    WITHDRAWN = "withdrawn"
    TO_SOCIAL_CARE_FRONT_DOOR = "to_social_care_front_door"
    TO_SOCIAL_CARE_PANEL = "to_social_care_panel"
    STEP_UP_WHILE_WAITING = "step_up_while_waiting"
    STEP_UP_DURING_PLAN = "step_up_during_plan"


SOCIAL_CARE_EXITS = (
    Exit.TO_SOCIAL_CARE_FRONT_DOOR,
    Exit.TO_SOCIAL_CARE_PANEL,
    Exit.STEP_UP_WHILE_WAITING,
    Exit.STEP_UP_DURING_PLAN,
)
"""Exits that send the family on to children's social care."""
CLOSED_EXITS = (Exit.ADVICE, Exit.NO_PLAN, Exit.OUTCOMES_MET, Exit.DISENGAGED, Exit.STEPPED_DOWN, Exit.MST_COMPLETED)
"""Exits that close the episode within early help."""

QUEUE_STAGES = (
    Stage.FRONT_DOOR,
    Stage.PANEL,
    Stage.LEVEL2,
    Stage.LEVEL3,
    Stage.MST,
    Stage.FGC,
    Stage.FMH,
    Stage.PARENTING,
)
"""Stages with a queue (join -> start or leave)."""
SOCIAL_WORKER_LIST = Stage.SOCIAL_WORKER
"""The list of children awaiting allocation to a social worker (statutory path): a family
joins it when the referral decision is to assess (``join`` of :attr:`Stage.ASSESSMENT`) and leaves
it when allocated (that stage's ``start``). It is counted in children, as the social
worker KPIs are (``waiting_social_worker_at_end``)."""
WAITING_LISTS = (*QUEUE_STAGES, SOCIAL_WORKER_LIST)
"""Every waiting list with a monthly series (``waiting_<stage>``) and its own warm-up check:
the queues, then the social workers' list."""
PLAN_STAGES = (
    Stage.LEVEL2,
    Stage.LEVEL3,
    Stage.MST,
    Stage.FGC,
    Stage.FMH,
    Stage.PARENTING,
    Stage.CIN,
    Stage.CP,
    Stage.LAC,
)
"""Stages with open cases (start -> end)."""
LEAVE_ALLOCATED = "allocated"
"""The ``detail`` of a ``leave`` of the parenting list by a family allocated its key worker
before its group started (a group is for families while they wait; a family that leaves
the key worker list unserved leaves the parenting list ``withdrawn`` or ``escalated`` too)."""
EH_STAGES = (Stage.FRONT_DOOR, Stage.PANEL, Stage.LEVEL2, Stage.LEVEL3)
"""Stages inside an early help episode."""
KEY_WORKER_STAGES = (Stage.KEY_WORKER, Stage.SENIOR_KEY_WORKER)
"""The roles of the key worker lists (a team's posts)."""
STAFF_STAGES = (*KEY_WORKER_STAGES, Stage.SOCIAL_WORKER)
"""Stages of the workforce log: a worker (not a family) starts and ends a spell in a
post of this role, with a :class:`Staffing` as ``detail`` (only with a ``workforce`` block)."""


class Staffing(StrEnum):
    """How a post is staffed during a spell (the ``detail`` of a workforce ``start`` / ``end``)."""

    EMPLOYEE = "employee"  # a permanent worker at the full caseload cap
    NEW_STARTER = "new_starter"  # a permanent worker in the ramp-up period (a reduced cap)
    AGENCY = "agency"  # agency cover of a vacant post (full cap, paid at the agency premium)


NEED_LEVELS = ("level1", "level2", "level3", "level4")
"""Levels of need on the continuum (West Sussex's four levels; level 4 is statutory)."""
SOCIAL_CARE_CLOSED = "social_care_closed"
"""How a family's time in children's social care ended when it is not stepped down (the need
chain's exit type after social care, ``needs.exits``)."""
NEED_EXITS = (
    Exit.OUTCOMES_MET,
    Exit.STEPPED_DOWN,
    Exit.DISENGAGED,
    Exit.WITHDRAWN,
    Exit.NO_PLAN,
    Exit.ADVICE,
    Exit.MST_COMPLETED,
    SOCIAL_CARE_CLOSED,
)
"""How the last episode ended, as the need chain distinguishes it (``needs.exits`` keys)."""
DEPRIVATION_GROUPS = ("most_deprived_40pct", "other_60pct")
"""Groups of localities for the by-locality KPIs: the most deprived 40%
(``localities.<name>.deprived``) and the rest."""
DEPRIVATION_GROUP_LABELS = {
    "most_deprived_40pct": "the most deprived 40% of localities",
    "other_60pct": "the other localities",
}
"""How each of :data:`DEPRIVATION_GROUPS` reads in a sentence."""
TRIAGE_DECISIONS = ("advice", "level2", "level3", "social_care", "panel")
"""Where the front door sends a request (the ``detail`` of its ``end`` event)."""
TRIAGE_BY_NEED = ("advice", "level2", "level3", "social_care")
"""The front door's route for each level of need, in :data:`NEED_LEVELS` order."""
PANEL_DECISIONS = ("level2", "level3", "no_plan", "social_care")
"""What the panel decides (the ``detail`` of its ``end`` event)."""
SC_OUTCOMES = ("nfa", "cin", "cp", "lac")
"""Outcomes of a social care assessment: no further action, child in need, child protection, care."""
SC_ASSESSED = ("not_in_need", "cin", "s47", "lac")
"""Outcomes of an assessment on the statutory path (the ``detail`` of its ``end`` event):
not in need (closed), a child in need plan, a section 47 enquiry, or entry to care."""
S47_OUTCOMES = ("icpc", "cin", "nfa")
"""Outcomes of a section 47 enquiry: an initial child protection conference, a CIN plan, or none."""
ICPC_OUTCOMES = ("cp", "cin", "nfa")
"""Decisions of an initial child protection conference: a CP plan, a CIN plan, or none."""
CP_ENDS = ("closed", "cin", "lac")
"""How a CP plan ends on the statutory path (the ``detail`` of its ``end`` event)."""
CIN_ENDS = ("closed", "lac")
"""How a CIN plan ends on the statutory path (the ``detail`` of its ``end`` event)."""
SC_CLOSED = "closed"
"""``detail`` of the end of a CIN or CP plan that closes the case (statutory path)."""
SC_INITIAL = "initial"
"""``detail`` of the start of a CIN or CP plan, or care, open at day 0 (statutory path)."""
REFERRAL_NFA = "nfa"
REFERRAL_ASSESS = "assessment"
REFERRAL_DECISIONS = (REFERRAL_NFA, REFERRAL_ASSESS)
"""The referral decision (the ``detail`` of the ``end`` of a ``sc_referral``)."""
SOCIAL_WORKERS = "social_workers"
"""The service name of the social workers' caseload list (statutory path)."""
PLACEMENTS = ("foster", "residential")
"""Care placement types (the ``detail`` of ``lac`` events)."""
REFERRAL_RE = "re_referral"
REFERRAL_STEP_DOWN = "social_care_step_down"
REFERRAL_INITIAL = "initial"
MODEL_SOURCES = (REFERRAL_RE, REFERRAL_STEP_DOWN)
"""Referral sources the model creates itself, beside the scenario's own sources."""

SOCIAL_CARE = "social_care"
"""Children's social care (assessment, CIN, CP, care) as one place a family can be: a node of
the routing graph and of the flow table, and where an escalating episode goes."""

BudgetLine = Literal["early_help", "social_care"]
"""Which cost total an edge-of-care service's staff and per-case costs fall on (its
``budget_line``): early help, or social care (the ``subject`` of the cost KPIs)."""

SERVICE_SETTINGS = {
    "mst": Stage.MST,
    "fgc": Stage.FGC,
    "family_mental_health": Stage.FMH,
    "parenting_groups": Stage.PARENTING,
}
"""The scenario block (top-level setting) of each service beside the plans, to its stage."""
STAGE_SETTINGS = {
    Stage.FRONT_DOOR: "front_door",
    Stage.PANEL: "panel",
    Stage.LEVEL2: "partner_plans",
    **{stage: block for block, stage in SERVICE_SETTINGS.items()},
}
"""The early help stages a scenario has only when it sets their block (top-level setting) on
day 0, to that block: without it the model builds no such queue or service (a scenario
without ``panel`` has no panel). The key worker stage is in every scenario."""

POOLED_SERVICE = "team_pool"
"""The service name of one pooled key worker list (``early_help.allocation: pooled``)."""
PARTNER_SERVICE = "partner"


def team_service(team: str) -> str:
    """The service name of a locality team's key worker list."""
    return f"team_{team}"


class StageInfo:
    """How a stage is named on a page: ``label`` (a noun phrase), ``phrase`` (after "wait for")."""

    __slots__ = ("label", "open_label", "phrase")

    def __init__(self, label: str, phrase: str, open_label: str):
        self.label = label
        self.phrase = phrase
        self.open_label = open_label


_STAGE_INFO = {
    Stage.FRONT_DOOR: StageInfo("Front door triage", "triage at the front door", "requests in triage"),
    Stage.PANEL: StageInfo("Panel", "the panel", "cases at panel"),
    Stage.LEVEL2: StageInfo("Level 2 partner plan", "a partner-led plan", "Level 2 partner plans"),
    Stage.LEVEL3: StageInfo("Key worker (Level 3)", "a key worker", "Level 3 key-worker plans"),
    Stage.MST: StageInfo("MST", "multi-systemic therapy", "MST cases"),
    Stage.FGC: StageInfo("FGC", "a family group conference", "family group conferences"),
    Stage.FMH: StageInfo("Family mental health", "family mental health support", "family mental health cases"),
    Stage.PARENTING: StageInfo("Parenting group", "a parenting group", "parenting group places"),
    Stage.ASSESSMENT: StageInfo("Assessment", "a social care assessment", "assessments"),
    Stage.SC_REFERRAL: StageInfo("Referral decision", "a referral decision", "referrals awaiting a decision"),
    Stage.S47: StageInfo("Section 47 enquiry", "a section 47 enquiry", "section 47 enquiries"),
    Stage.ICPC: StageInfo("Initial CP conference", "an initial CP conference", "cases awaiting conference"),
    Stage.CIN: StageInfo("Child in need", "a child in need plan", "child in need cases"),
    Stage.CP: StageInfo("Child protection", "a child protection plan", "child protection cases"),
    Stage.LAC: StageInfo("In care", "a care placement", "looked-after cases"),
    Stage.CLOSED: StageInfo("Closed", "closure", "closed cases"),
    Stage.KEY_WORKER: StageInfo("Key worker post", "a key worker", "key workers in post"),
    Stage.SENIOR_KEY_WORKER: StageInfo("Senior key worker post", "a senior key worker", "senior key workers in post"),
    Stage.SOCIAL_WORKER: StageInfo("Social worker post", "a social worker", "social workers in post"),
}


def stage_info(stage: Stage) -> StageInfo:
    """Labels of a stage for figures and text."""
    return _STAGE_INFO[stage]

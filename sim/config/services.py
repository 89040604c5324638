"""Scenario schema, services: front door, panel, plans, key worker teams and their workforce,
waiting, and the edge-of-care services (MST, FGC, family mental health, parenting groups)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from sim.config.limits import (
    MAX_ANNUAL_RATE,
    MAX_COUNT,
    MAX_DURATION_DAYS,
    MAX_STAFF,
    Interval,
    _check_probs,
    _Model,
    _prob,
)
from sim.distributions import Distribution
from sim.vocab import (
    PANEL_DECISIONS,
    BudgetLine,
)


# ---------------------------------------------------------------------- services
def _budget_line(costs: str) -> Any:
    """The ``budget_line`` field of an edge-of-care service, whose ``costs`` it places."""
    return Field(
        default="early_help",
        description=f"Which cost total its {costs} fall on: early_help (cost_staff_gbp, cost_cases_gbp) or "
        "social_care (cost_edge_of_care_social_care_gbp).",
    )


class FrontDoor(_Model):
    staff: int = Field(strict=True, ge=0, le=MAX_STAFF, description="Triage staff (FTE) working in parallel.")
    triage_time: Distribution
    insufficient_info_prob: float = _prob(description="Share sent to panel for lack of information.")
    misclassification_prob: float = _prob(description="Share routed one level above or below true need.")
    misclassification_up_share: float = _prob(
        default=0.5,
        description="Of misclassified requests, the share routed one level above true need (the rest one below). "
        "ASSUMPTION: no source reports the direction of triage error; 0.5 is symmetric.",
    )
    level3_partner_led_prob: float = _prob(
        default=0.0,
        description="Of requests triaged to a Level 3 plan (after misclassification), the share judged suitable "
        "for a partner-led Level 2 plan instead; the family's need is unchanged.",
    )


class Panel(_Model):
    interval_days: Interval = Field(gt=0, description="Days between meetings (at least MIN_INTERVAL_DAYS).")
    first_meeting_day: float = Field(default=0.0, ge=0, description="Day of the first meeting; < run.duration_days.")
    capacity_per_meeting: int = Field(
        strict=True, ge=0, le=MAX_COUNT, description="Cases heard per meeting; the rest roll over."
    )
    order: Literal["fifo", "risk"] = "fifo"
    decision_probs: dict[str, float]

    @model_validator(mode="after")
    def _check(self) -> Panel:
        _check_probs(self.decision_probs, PANEL_DECISIONS, "decision_probs")
        return self


class Reviews(_Model):
    interval_days: float = Field(gt=0, description="Days between plan reviews.")
    step_up_prob: float = _prob(default=0.0, description="Per review: escalate (L3: to social care; L2: to L3).")
    step_down_prob: float = _prob(default=0.0, description="Per review: step down to a Level 2 plan (L3 only).")
    disengage_prob: float = _prob(default=0.0, description="Per review: family disengages, case closed.")

    @model_validator(mode="after")
    def _total(self) -> Reviews:
        total = self.step_up_prob + self.step_down_prob + self.disengage_prob
        if total > 1:
            raise ValueError(f"step_up_prob + step_down_prob + disengage_prob must be <= 1, got {total:.6g}")
        return self


class PlanSettings(_Model):
    duration: Distribution
    reviews: Reviews | None = None


class PartnerPlans(PlanSettings):
    """Level 2 plans led by a school or health professional."""

    capacity: int | None = Field(
        strict=True, default=None, ge=0, le=MAX_COUNT, description="Concurrent plans; null is unlimited."
    )


class Workforce(_Model):
    """Workforce dynamics of a team's case-holding posts (see :mod:`sim.model.workforce`).

    Each post is in turn filled by a permanent worker, who leaves after an exponential time
    at ``turnover_rate``, and vacant for a ``recruitment_lag_days`` draw; a vacancy is covered
    by an agency worker with probability ``agency_cover_share``. New starters hold
    ``ramp_up_caseload_share`` of the cap for ``ramp_up_days``; sickness absence removes
    ``sickness_rate`` of every worker's caseload capacity. Absent: posts stay as filled.
    """

    turnover_rate: float = Field(
        ge=0, le=MAX_ANNUAL_RATE, description="Permanent workers leaving per FTE in post a year (leaving hazard)."
    )
    recruitment_lag_days: Distribution = Field(
        description="Days from a post falling vacant to a new starter taking it up."
    )
    agency_cover_share: float = _prob(
        default=0.0, description="Share of vacancies covered by an agency worker from the day they open."
    )
    agency_premium: float = Field(
        default=1.0, ge=1, le=10, description="An agency FTE costs the post's annual cost times this."
    )
    sickness_rate: float = Field(
        default=0.0, ge=0, lt=1, description="Share of FTE absent through sickness (caseload capacity lost)."
    )
    ramp_up_days: float = Field(default=0.0, ge=0, le=MAX_DURATION_DAYS, description="Days a new starter ramps up.")
    ramp_up_caseload_share: float = _prob(
        default=1.0, description="Share of the caseload cap a new starter holds while ramping up."
    )


class Team(_Model):
    workers: int = Field(strict=True, ge=0, le=MAX_STAFF, description="Case-holding key worker posts (FTE).")
    caseload_cap: int = Field(
        strict=True,
        ge=0,
        le=MAX_COUNT,
        description="Most (weighted) families a key worker holds; the average caseload is an output.",
    )
    senior_workers: int = Field(
        strict=True,
        default=0,
        ge=0,
        le=MAX_STAFF,
        description="Senior key worker posts (FTE), holding a smaller caseload.",
    )
    senior_caseload_cap: int = Field(
        strict=True, default=0, ge=0, le=MAX_COUNT, description="Most (weighted) families a senior key worker holds."
    )
    other_fte: float = Field(default=0.0, ge=0, le=MAX_STAFF, description="Non-case-holding staff costed to the team.")
    vacancy_rate: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="Share of key worker posts unfilled (with workforce dynamics: at day 0 only).",
    )
    workforce: Workforce | None = Field(
        default=None, description="Workforce dynamics of this team's posts; null: the scenario's workforce."
    )

    @property
    def filled(self) -> int:
        """Key workers in post: posts less vacancies, rounded to whole workers."""
        return round(self.workers * (1 - self.vacancy_rate))

    @property
    def senior_filled(self) -> int:
        """Senior key workers in post (the same vacancy rate)."""
        return round(self.senior_workers * (1 - self.vacancy_rate))

    @property
    def in_post(self) -> int:
        """Case-holding staff in post, senior and not."""
        return self.filled + self.senior_filled

    @property
    def slots(self) -> int:
        """Caseload units: each worker in post times their maximum caseload."""
        return self.filled * self.caseload_cap + self.senior_filled * self.senior_caseload_cap


class EarlyHelp(PlanSettings):
    allocation: Literal["locality", "pooled"] = "locality"
    queue_discipline: Literal["fifo", "risk"] = "fifo"
    turnover_per_year: float = Field(
        default=0.0, ge=0, description="Key workers leaving per post per year; each departure hands cases over."
    )
    handover_delay_days: float = Field(default=0.0, ge=0, description="Days a plan is extended by each handover.")


class Escalation(_Model):
    base_per_day: float = Field(default=0.0, ge=0, description="Hazard at risk 0, time 0.")
    risk_multiplier: float = Field(default=0.0, ge=0, description="Hazard x (1 + m * risk).")
    growth_per_day: float = Field(default=0.0, ge=0, description="Hazard x exp(g * days waited).")


class Waiting(_Model):
    escalation: Escalation = Field(default_factory=Escalation)
    withdrawal_per_day: float = Field(default=0.0, ge=0, description="Constant hazard of withdrawing.")

    @property
    def active(self) -> bool:
        return self.escalation.base_per_day > 0 or self.withdrawal_per_day > 0


class Mst(_Model):
    therapists: int = Field(strict=True, ge=0, le=MAX_STAFF)
    caseload_cap: int = Field(strict=True, ge=0, le=MAX_COUNT)
    duration: Distribution
    referral_prob: float = _prob(description="Share of eligible families (CP/care-bound, child in age range) referred.")
    age_min: int = Field(strict=True, default=11, ge=0)
    age_max: int = Field(strict=True, default=17, ge=0)
    care_relative_reduction: float = _prob(description="Relative reduction in care entry after MST.")
    budget_line: BudgetLine = _budget_line("therapists' and per-case costs")

    @property
    def slots(self) -> int:
        return self.therapists * self.caseload_cap


class Fgc(_Model):
    """Family Group Conferencing: each conference takes a coordinator's time for weeks."""

    coordinators: int = Field(strict=True, ge=0, le=MAX_STAFF)
    conferences_per_coordinator: int = Field(
        strict=True, ge=0, le=MAX_COUNT, description="Conferences a coordinator runs at once."
    )
    duration: Distribution
    offer_at: Literal["pre_proceedings", "first_contact"] = Field(
        description="pre_proceedings: CP- or care-bound families after assessment; first_contact: families "
        "starting a Level 3 plan."
    )
    referral_prob: float = _prob(description="Share of families at the offer point referred.")
    early_help_referral_prob: float = _prob(
        default=0.0,
        description="With offer_at pre_proceedings: share of families starting a Level 3 plan also referred "
        "(conferences in early support as well as at pre-proceedings; step_up_relative_reduction applies).",
    )
    care_relative_reduction: float = _prob(description="Relative reduction in care entry (pre-proceedings).")
    step_up_relative_reduction: float = _prob(
        default=0.0, description="Relative reduction in the plan's step-up probability (first contact)."
    )
    budget_line: BudgetLine = _budget_line("coordinators' and per-conference costs")

    @property
    def slots(self) -> int:
        return self.coordinators * self.conferences_per_coordinator


class FamilyMentalHealth(_Model):
    """Consultants supporting families on a Level 3 plan whose parents have mental health needs."""

    consultants: int = Field(strict=True, ge=0, le=MAX_STAFF)
    caseload_cap: int = Field(strict=True, ge=0, le=MAX_COUNT)
    duration: Distribution
    referral_prob: float = _prob(description="Share of families starting a Level 3 plan referred.")
    step_up_relative_reduction: float = _prob(description="Relative reduction in the plan's step-up probability.")
    budget_line: BudgetLine = _budget_line("consultants' costs")

    @property
    def slots(self) -> int:
        return self.consultants * self.caseload_cap


class ParentingGroups(_Model):
    """Group programmes offered to families while they wait for a key worker; groups start
    every ``interval_days`` with at most ``group_size`` families (the rest wait for the next)."""

    group_size: int = Field(strict=True, gt=0, le=MAX_COUNT)
    interval_days: Interval = Field(gt=0, description="Days between groups (at least MIN_INTERVAL_DAYS).")
    first_group_day: float = Field(default=0.0, ge=0, description="Day the first group starts; < run.duration_days.")
    duration_days: float = Field(gt=0)
    offer_prob: float = _prob(description="Share of families joining the Level 3 queue who take up a place.")
    withdrawal_relative_reduction: float = _prob(description="Lower withdrawal hazard while waiting, once enrolled.")
    escalation_relative_reduction: float = _prob(description="Lower escalation hazard while waiting, once enrolled.")

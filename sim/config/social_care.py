"""Scenario schema, social care and need over time: social workers, the statutory path,
its inflow and stock, the simple path, re-referral, the needs chain and the initial state."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.config.limits import (
    MAX_ANNUAL_RATE,
    MAX_COUNT,
    MAX_STAFF,
    _check_probs,
    _check_seasonality,
    _complete,
    _Model,
    _prob,
)
from sim.config.services import Workforce
from sim.distributions import Distribution
from sim.vocab import (
    CIN_ENDS,
    CP_ENDS,
    ICPC_OUTCOMES,
    NEED_EXITS,
    NEED_LEVELS,
    S47_OUTCOMES,
    SC_ASSESSED,
    SC_OUTCOMES,
)

EdgeOfCare = Literal["fgc", "mst"]


def _fgc_then_mst() -> list[EdgeOfCare]:
    return ["fgc", "mst"]


WORKING_TO_CALENDAR = 7.0 / 5.0
"""Calendar days per working day: five working days a week, bank holidays ignored
(ASSUMPTION: with 8 bank holidays a year the factor would be 1.44, not 1.40)."""


class SocialWorkers(_Model):
    """Case-holding social workers: ``case_holding_fte`` x ``caseload_cap`` children. A child
    takes one unit from allocation for assessment until the case closes (assessment, section 47,
    conference, CIN and CP plans and care are all held), so assessments share capacity with
    case holding; the average caseload is an output."""

    case_holding_fte: float = Field(
        gt=0,
        le=MAX_STAFF,
        description="Case-holding social workers in post (FTE); with workforce dynamics, posts (rounded).",
    )
    caseload_cap: float = Field(gt=0, le=MAX_COUNT, description="Most children a social worker holds.")
    vacancy_rate: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="With workforce dynamics: share of posts vacant at day 0 (ignored without).",
    )
    workforce: Workforce | None = Field(
        default=None,
        description="Workforce dynamics of the posts (turnover, vacancies, agency cover); null: FTE fixed.",
    )

    @property
    def slots(self) -> float:
        """Caseload units (children) without workforce dynamics."""
        return self.case_holding_fte * self.caseload_cap

    @property
    def posts(self) -> int:
        """Posts under workforce dynamics: ``case_holding_fte`` rounded to whole posts."""
        return round(self.case_holding_fte)

    @property
    def filled(self) -> int:
        """Posts filled at day 0 under workforce dynamics."""
        return round(self.posts * (1 - self.vacancy_rate))


class ScSource(_Model):
    children_per_year: float = Field(ge=0, le=MAX_ANNUAL_RATE, description="Children referred a year at day 0.")
    annual_growth: float = Field(default=0.0, gt=-1, le=1, description="Compound growth per year.")


class ScInflow(_Model):
    """Referrals to children's social care from outside the modelled early help (police,
    schools, health...), in children a year by source, arriving as families (children /
    ``family.children_mean``) that have not passed through early help."""

    sources: dict[str, ScSource] = Field(min_length=1)
    seasonality: list[float] = Field(default_factory=lambda: [1.0] * 12)

    @model_validator(mode="after")
    def _check(self) -> ScInflow:
        _check_seasonality(self.seasonality)
        return self


class ScStock(_Model):
    """Children open to social care at day 0, per 10,000 children aged 0-17, by state. Each
    family's time already spent is drawn from the equilibrium residual-life distribution of
    its state's duration, so the run starts near steady state."""

    assessment_per_10k: float = Field(default=0.0, ge=0, le=10_000, description="Being assessed (allocated).")
    cin_per_10k: float = Field(default=0.0, ge=0, le=10_000, description="On a CIN plan (not CP, not in care).")
    cp_per_10k: float = Field(default=0.0, ge=0, le=10_000, description="On a child protection plan.")
    lac_per_10k: float = Field(default=0.0, ge=0, le=10_000, description="Looked after.")


class Statutory(_Model):
    """The statutory path, children counted: referral decision -> assessment (social worker
    allocated) -> section 47 enquiry -> initial CP conference -> CIN / CP plan -> care ->
    closure. Durations marked ``working_days`` are converted to calendar days by
    :data:`WORKING_TO_CALENDAR`."""

    decision_working_days: float = Field(
        default=1.0, ge=0, description="Referral to decision (ASSUMPTION: within one working day)."
    )
    nfa_prob: float = _prob(description="Share of referrals with no further action at the decision.")
    assessment_working_days: Distribution = Field(description="Assessment, allocation to completion (working days).")
    assessed_probs: dict[str, float] = Field(description="not_in_need, cin, s47, lac after assessment.")
    s47_working_days: Distribution
    s47_probs: dict[str, float] = Field(description="icpc, cin, nfa after a section 47 enquiry.")
    icpc_working_days: Distribution = Field(description="End of the enquiry to the initial CP conference.")
    icpc_probs: dict[str, float] = Field(description="cp, cin, nfa decided by the conference.")
    cp_end_probs: dict[str, float] = Field(description="closed, cin, lac at the end of a CP plan.")
    cin_end_probs: dict[str, float] = Field(description="closed, lac at the end of a CIN plan.")
    rereferral_prob: float = _prob(
        default=0.0, description="Chance a closed social care case (not stepped down) is re-referred within 12 months."
    )
    population_0_17: int | None = Field(
        strict=True, default=None, gt=0, le=100_000_000, description="Children aged 0-17 in the area (per 10,000 KPIs)."
    )
    social_workers: SocialWorkers | None = Field(default=None, description="Null: unlimited (no allocation wait).")
    inflow: ScInflow | None = Field(default=None, description="Null: only early help escalations are referred.")
    initial_stock: ScStock | None = Field(default=None, description="Null: social care starts empty.")

    @model_validator(mode="after")
    def _check(self) -> Statutory:
        for name, keys in (
            ("assessed_probs", SC_ASSESSED),
            ("s47_probs", S47_OUTCOMES),
            ("icpc_probs", ICPC_OUTCOMES),
            ("cp_end_probs", CP_ENDS),
            ("cin_end_probs", CIN_ENDS),
        ):
            _check_probs(getattr(self, name), keys, name)
        if self.initial_stock is not None and self.population_0_17 is None:
            raise ValueError("initial_stock: needs population_0_17 (the stock is per 10,000 children)")
        return self


class SocialCare(_Model):
    assessment_duration: Distribution | None = Field(
        default=None, description="Days (the simple path; unused with statutory)."
    )
    outcome_probs: dict[str, float] | None = Field(default=None, description="The simple path; unused with statutory.")
    cin_duration: Distribution
    cp_duration: Distribution
    lac_duration: Distribution
    residential_share: float = _prob(description="Share of care entries placed in residential care.")
    step_down_probs: dict[str, Annotated[float, _prob()]] = Field(
        description="Probability the family steps down into a Level 3 early help plan at closure."
    )
    edge_of_care_order: list[EdgeOfCare] = Field(
        default_factory=_fgc_then_mst,
        description="The order in which a CP- or care-bound family is offered the edge-of-care services it is "
        "eligible for. ASSUMPTION: FGC at the start of pre-proceedings (Kirklees-ESP-2019), then MST.",
    )
    statutory: Statutory | None = Field(
        default=None, description="The statutory path with social workers, inflow and stock; null: the simple path."
    )

    @model_validator(mode="after")
    def _check(self) -> SocialCare:
        if self.statutory is None and (self.assessment_duration is None or self.outcome_probs is None):
            missing = "assessment_duration" if self.assessment_duration is None else "outcome_probs"
            raise ValueError(f"{missing}: required unless social_care.statutory is given")
        if self.outcome_probs is not None:
            _check_probs(self.outcome_probs, SC_OUTCOMES, "outcome_probs")
        _complete(self.step_down_probs, SC_OUTCOMES, "step_down_probs")
        if len(set(self.edge_of_care_order)) != len(self.edge_of_care_order):
            raise ValueError(f"edge_of_care_order: each service at most once, got {self.edge_of_care_order}")
        return self


class Rereferral(_Model):
    prob_within_12_months: float = _prob(default=0.0, description="Chance a closed episode is re-referred.")
    timing_days: float = Field(
        default=365.0,
        gt=0,
        description="A re-referral comes at a uniform time within this many days of closure. ASSUMPTION: "
        "the 12 months of the DfE re-referral measure, spread evenly.",
    )


class NeedExit(_Model):
    level_change: int = Field(
        strict=True, default=0, ge=-3, le=3, description="Levels of need gained (+) or lost (-) at this exit."
    )
    rereferral_multiplier: float = Field(
        default=1.0, ge=0, le=100, description="Factor on the re-referral hazard until the next referral."
    )


_RATE = {"ge": 0, "le": 365.0}


class Needs(_Model):
    """A family's level of need between episodes as a continuous-time Markov chain
    (:mod:`sim.model.needs`); when set, it replaces ``rereferral``."""

    worsen_per_year: dict[str, Annotated[float, Field(**_RATE)]] = Field(
        description="Rate (per year) of moving up one level, from level1, level2, level3."
    )
    improve_per_year: dict[str, Annotated[float, Field(**_RATE)]] = Field(
        description="Rate (per year) of moving down one level, from level2, level3, level4."
    )
    rereferral_per_year: dict[str, Annotated[float, Field(**_RATE)]] = Field(
        description="Hazard (per year) of a new referral at each level of need."
    )
    leave_per_year: float = Field(
        default=0.0, ge=0, le=365.0, description="Hazard (per year) of leaving for good (children grown up, moved)."
    )
    exits: dict[str, NeedExit] = Field(description="How each kind of exit changes need and the re-referral hazard.")
    worsen_while_waiting: bool = Field(
        default=False,
        description="Need also worsens while a family waits for early help (front door, panel, Level 2 and 3 "
        "lists), at worsen_per_year; edge-of-care queues excepted. Off: need changes only between episodes.",
    )

    @model_validator(mode="after")
    def _check(self) -> Needs:
        _complete(self.worsen_per_year, NEED_LEVELS[:-1], "worsen_per_year")
        _complete(self.improve_per_year, NEED_LEVELS[1:], "improve_per_year")
        _complete(self.rereferral_per_year, NEED_LEVELS, "rereferral_per_year")
        _complete(self.exits, tuple(str(e) for e in NEED_EXITS), "exits")
        return self


class InitialTeam(_Model):
    open_plans: int = Field(strict=True, default=0, ge=0, le=MAX_COUNT)
    waiting: int = Field(strict=True, default=0, ge=0, le=MAX_COUNT)


class InitialState(_Model):
    teams: dict[str, InitialTeam] = Field(default_factory=dict)
    open_elapsed: Distribution | None = Field(default=None, description="Days already spent on plan.")
    waiting_elapsed: Distribution | None = Field(default=None, description="Days already waited.")

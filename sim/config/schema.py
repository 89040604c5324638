"""The scenario schema (pydantic v2): every field with its unit, default and description."""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, model_validator

from sim.config.limits import (
    _NAME,
    _VARIANT_SUFFIX,
    MAX_ANNUAL_RATE,
    MAX_COUNT,
    MAX_DURATION_DAYS,
    MAX_NAME_CHARS,
    MAX_STAFF,
    MAX_VARIANT_NAME_CHARS,
    MIN_RESULTS_WINDOW_DAYS,
    NAME_RULE,
    Interval,
    _iso_date,
    _Model,
    _one_line,
    _prob,
)
from sim.distributions import Distribution, check_probabilities
from sim.routing import reachable
from sim.vocab import (
    CIN_ENDS,
    CP_ENDS,
    ICPC_OUTCOMES,
    NEED_EXITS,
    NEED_LEVELS,
    PANEL_DECISIONS,
    S47_OUTCOMES,
    SC_ASSESSED,
    SC_OUTCOMES,
)


# --------------------------------------------------------------------------- run
class RunSettings(_Model):
    start_date: Annotated[_dt.date, BeforeValidator(_iso_date)] = Field(
        description="Calendar date of day 0 (YYYY-MM-DD); drives seasonality."
    )
    duration_days: float = Field(
        gt=0, le=MAX_DURATION_DAYS, description="Simulated horizon, days (at most MAX_DURATION_DAYS, 100 years)."
    )
    warmup_days: float = Field(ge=0, description="Days excluded from KPIs at the start.")

    @model_validator(mode="after")
    def _warmup(self) -> RunSettings:
        if self.warmup_days >= self.duration_days:
            raise ValueError(f"warmup_days: must be < duration_days, got {self.warmup_days} >= {self.duration_days}")
        window = self.duration_days - self.warmup_days
        if window < MIN_RESULTS_WINDOW_DAYS:
            field = "duration_days" if self.duration_days < MIN_RESULTS_WINDOW_DAYS else "warmup_days"
            raise ValueError(
                f"{field}: leaves a results window (duration_days - warmup_days) of {window:g} days; "
                f"it must be at least {MIN_RESULTS_WINDOW_DAYS:g} days"
            )
        return self


# ---------------------------------------------------------------------- arrivals
class Locality(_Model):
    referral_share: float = _prob(description="Share of referrals from this locality at day 0.")
    deprived: bool = Field(
        default=False, description="In the most deprived 40% of localities (IMD); groups the by-locality KPIs."
    )
    annual_growth: float = Field(
        default=0.0,
        gt=-1,
        le=1,
        description="Compound growth per year of this locality's referrals, on top of each source's growth; "
        "locality shares shift over time as growth differs.",
    )
    need_probs: dict[str, float] | None = Field(
        default=None, description="Levels of need among this locality's requests; null uses family.need_probs."
    )

    @model_validator(mode="after")
    def _check(self) -> Locality:
        if self.need_probs is not None:
            _check_probs(self.need_probs, NEED_LEVELS, "need_probs")
        return self


class Source(_Model):
    annual_rate: float = Field(ge=0, le=MAX_ANNUAL_RATE, description="Referrals per year at day 0.")
    annual_growth: float = Field(default=0.0, gt=-1, le=1, description="Compound growth per year.")
    seasonality: list[float] | None = Field(
        default=None, description="12 monthly multipliers (Jan..Dec); null uses referrals.seasonality."
    )
    entry: Literal["front_door", "panel", "level2", "level3", "mst"] = Field(
        default="front_door", description="Stage a referral from this source enters."
    )

    @model_validator(mode="after")
    def _season(self) -> Source:
        if self.seasonality is not None:
            _check_seasonality(self.seasonality)
        return self


def _check_seasonality(values: list[float]) -> None:
    if len(values) != 12:
        raise ValueError(f"seasonality: needs 12 monthly multipliers, got {len(values)}")
    if any(v < 0 for v in values):
        raise ValueError(f"seasonality: multipliers must be >= 0, got {values}")


class Referrals(_Model):
    process: Literal["poisson", "deterministic"] = Field(
        default="poisson",
        description="poisson: non-homogeneous Poisson by thinning; deterministic: evenly spaced "
        "(validation only; one source, no seasonality or growth).",
    )
    seasonality: list[float] = Field(default_factory=lambda: [1.0] * 12)
    sources: dict[str, Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Referrals:
        _check_seasonality(self.seasonality)
        if self.process == "deterministic":
            src = list(self.sources.values())
            if (
                len(src) != 1
                or src[0].annual_growth != 0
                or src[0].seasonality is not None
                or any(v != 1.0 for v in self.seasonality)
            ):
                raise ValueError(
                    "process: deterministic arrivals need exactly one source, no growth and no seasonality"
                )
        return self


# ---------------------------------------------------------------------- families
MAX_CHILD_AGE = 25
"""Oldest age a band may reach (services for care leavers and young adults run to 25)."""


class AgeBand(_Model):
    """A band of children's ages (whole years, inclusive) and its share of children."""

    low: int = Field(strict=True, ge=0, le=MAX_CHILD_AGE, description="Youngest age in the band, years.")
    high: int = Field(strict=True, ge=0, le=MAX_CHILD_AGE, description="Oldest age in the band, years.")
    share: float = _prob(description="Share of children in the band; ages within it are uniform.")

    @model_validator(mode="after")
    def _check(self) -> AgeBand:
        if self.low > self.high:
            raise ValueError(f"low: must be <= high, got {self.low} > {self.high}")
        return self


CIN_AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (0, 0, 0.05),
    (1, 4, 0.16),
    (5, 9, 0.22),
    (10, 15, 0.36),
    (16, 17, 0.21),
)
"""Default ``family.age_bands``: the age bands of the DfE children in need census (under 1,
1-4, 5-9, 10-15, 16 and over, children in need at 31 March; docs/sources.md DfE-CIN-2025 A4),
the 16-and-over band closed at 17; shares as in ``configs/baseline.yaml``."""


def _cin_age_bands() -> list[AgeBand]:
    return [AgeBand(low=lo, high=hi, share=s) for lo, hi, s in CIN_AGE_BANDS]


class Family(_Model):
    children_mean: float = Field(
        default=2.25, ge=1, description="Mean children per family; number = 1 + Poisson(mean - 1)."
    )
    age_bands: list[AgeBand] = Field(
        default_factory=_cin_age_bands,
        min_length=1,
        description="Children's ages: bands in order from age 0, contiguous, shares summing to 1; each child "
        "draws a band by its share, then an age uniformly within it.",
    )
    need_probs: dict[str, float] = Field(
        default_factory=lambda: {"level1": 0.0, "level2": 0.0, "level3": 1.0, "level4": 0.0}
    )
    risk_mean_by_need: dict[str, float] = Field(
        default_factory=lambda: {"level1": 0.1, "level2": 0.25, "level3": 0.5, "level4": 0.75},
        description="Mean of the Beta-distributed risk score (0-1) for each level of need.",
    )
    risk_concentration: float = Field(default=8.0, gt=0, description="Beta a + b; larger is less spread.")

    @model_validator(mode="after")
    def _check(self) -> Family:
        expected = 0
        for i, band in enumerate(self.age_bands):
            if band.low != expected:
                raise ValueError(
                    f"age_bands.{i}.low: bands must start at age 0 and be contiguous, "
                    f"expected {expected}, got {band.low}"
                )
            expected = band.high + 1
        try:
            check_probabilities({f"{b.low}-{b.high}": b.share for b in self.age_bands})
        except ValueError as e:
            raise ValueError(f"age_bands: {e}") from None
        _check_probs(self.need_probs, NEED_LEVELS, "need_probs")
        _complete(self.risk_mean_by_need, NEED_LEVELS, "risk_mean_by_need")
        for k, v in self.risk_mean_by_need.items():
            if not 0 < v < 1:
                raise ValueError(f"risk_mean_by_need.{k}: must be in (0, 1), got {v}")
        return self


def _complete(d: dict[str, Any], keys: tuple[str, ...], name: str) -> None:
    for k in d:
        if k not in keys:
            raise ValueError(f"{name}.{_one_line(str(k))}: unknown key; must be one of {', '.join(keys)}")
    missing = [k for k in keys if k not in d]
    if missing:
        raise ValueError(f"{name}: missing {', '.join(missing)}")


def _check_probs(d: dict[str, float], keys: tuple[str, ...], name: str) -> None:
    _complete(d, keys, name)
    try:
        check_probabilities(d)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


# ---------------------------------------------------------------------- services
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


# ---------------------------------------------------------------------- costs
class Cost(_Model):
    gbp: float = Field(ge=0)
    price_year: int = Field(strict=True, ge=1990, le=2100)


class StaffCosts(_Model):
    key_worker_per_year: Cost | None = None
    senior_key_worker_per_year: Cost | None = Field(default=None, description="Null: as key_worker_per_year.")
    other_team_staff_per_year: Cost | None = None
    front_door_per_year: Cost | None = None
    mst_therapist_per_year: Cost | None = None
    fgc_coordinator_per_year: Cost | None = None
    fmh_consultant_per_year: Cost | None = None


class CaseCosts(_Model):
    level3_plan: Cost | None = None
    level2_plan: Cost | None = None
    mst_case: Cost | None = None
    assessment: Cost | None = None
    fgc_conference: Cost | None = None
    parenting_place: Cost | None = None


class SocialCareCosts(_Model):
    """Per-child unit costs of social care and the pay of its case-holding social workers.

    Social worker pay is counted once: the per-child unit costs (``assessment``,
    ``cin_per_day``, ``cp_per_day``) include the time of ``social_worker_fte_in_unit_costs``
    case-holding FTE (the funded establishment they were costed at), and the social worker
    cost component pays (FTE in post - that) x ``social_worker_per_year``: the cost of
    social workers above it, a saving (negative) below it. 0 (the default) says the unit
    costs exclude social worker time and every FTE is paid here."""

    cin_per_day: Cost | None = None
    cp_per_day: Cost | None = None
    foster_per_week: Cost | None = None
    residential_per_week: Cost | None = None
    social_worker_per_year: Cost | None = Field(
        default=None, description="A case-holding social worker's annual cost (null: social workers not costed)."
    )
    social_worker_fte_in_unit_costs: float = Field(
        default=0.0,
        ge=0,
        le=MAX_STAFF,
        description="Case-holding social worker FTE whose time the per-child unit costs already include.",
    )


class Costs(_Model):
    price_year: int = Field(strict=True, default=2024, ge=1990, le=2100, description="Year all costs are reported in.")
    annual_uprating: float = Field(default=0.0, ge=0, le=0.5, description="Uprating per year between price years.")
    staff: StaffCosts = Field(default_factory=StaffCosts)
    per_case: CaseCosts = Field(default_factory=CaseCosts)
    social_care: SocialCareCosts = Field(default_factory=SocialCareCosts)
    budget_gbp_per_year: float | None = Field(
        default=None, ge=0, description="Budget envelope to report costs against (price_year prices); null: none."
    )

    def gbp(self, cost: Cost | None) -> float:
        """The cost in ``price_year`` prices (0 when not given)."""
        if cost is None:
            return 0.0
        return cost.gbp * (1 + self.annual_uprating) ** (self.price_year - cost.price_year)


# ---------------------------------------------------------------------- dated changes
RUNTIME_KEYS = (
    "teams.*.workers",
    "teams.*.caseload_cap",
    "teams.*.senior_workers",
    "teams.*.senior_caseload_cap",
    "teams.*.vacancy_rate",
    "teams.*.other_fte",
    "front_door.staff",
    "mst.therapists",
    "mst.caseload_cap",
    "fgc.coordinators",
    "fgc.conferences_per_coordinator",
    "fgc.offer_at",
    "fgc.referral_prob",
    "fgc.early_help_referral_prob",
    "fgc.care_relative_reduction",
    "fgc.step_up_relative_reduction",
    "family_mental_health.consultants",
    "family_mental_health.caseload_cap",
    "partner_plans.capacity",
    "panel.interval_days",
    "panel.capacity_per_meeting",
    "costs.budget_gbp_per_year",
    "social_care.statutory.social_workers.case_holding_fte",
    "social_care.statutory.social_workers.caseload_cap",
)
"""Keys a dated change may set: staffing (front door, teams, edge-of-care services), caseload
caps, panel frequency and capacity, where and how often Family Group Conferences are offered
(a service moving between directorates), and the budget envelope. Each takes effect on its
date (pools change capacity; families already allocated keep their worker; the next panel
meets on the new cycle; an FGC offer is decided by the settings in force when it is made)."""


def _runtime_key(dotted: str) -> bool:
    parts = dotted.split(".")
    return any(
        len(parts) == len(pat.split(".")) and all(q in ("*", p) for p, q in zip(parts, pat.split(".")))
        for pat in RUNTIME_KEYS
    )


class Change(_Model):
    """A dated policy change: from ``date`` on, the keys in ``set`` take these values."""

    date: _dt.date = Field(description="The day the change takes effect (ISO YYYY-MM-DD).")
    set: dict[str, Any] = Field(min_length=1, description="Dotted keys and their new values (see RUNTIME_KEYS).")
    why: str = Field(default="", description="What the change is and its source.")

    @model_validator(mode="after")
    def _keys(self) -> Change:
        bad = [k for k in self.set if not _runtime_key(k)]
        if bad:
            raise ValueError(
                f"set: {', '.join(bad)} cannot change during a run; dated changes can set {', '.join(RUNTIME_KEYS)}"
            )
        return self


# ---------------------------------------------------------------------- scenario
def _check_name(name: str) -> str:
    """A scenario name is a name, never a path: it becomes a folder name under ``results/``.
    A variant made by :func:`sim.sweep` adds ``[key=value,...]`` (no path separators)."""
    base, bracket, rest = name.partition("[")
    suffix = bracket + rest
    ok = (
        _NAME.fullmatch(base) is not None
        and ".." not in name
        and len(base) <= MAX_NAME_CHARS
        and (not suffix or (_VARIANT_SUFFIX.fullmatch(suffix) is not None and len(name) <= MAX_VARIANT_NAME_CHARS))
    )
    if not ok:
        shown = repr(name) if len(name) <= 60 else repr(name[:57] + "...")
        raise ValueError(f"must be a name of {NAME_RULE}; got {shown}")
    return name


class Scenario(_Model):
    """A validated, frozen scenario. Build with :func:`load_scenario`."""

    name: Annotated[str, AfterValidator(_check_name)] = Field(
        min_length=1, description=f"The scenario's name: {NAME_RULE}."
    )
    description: str = ""
    run: RunSettings
    localities: dict[str, Locality] = Field(min_length=1)
    referrals: Referrals
    family: Family = Field(default_factory=Family)
    front_door: FrontDoor | None = None
    panel: Panel | None = None
    partner_plans: PartnerPlans | None = None
    teams: dict[str, Team] = Field(min_length=1)
    workforce: Workforce | None = Field(
        default=None, description="Workforce dynamics for every team without its own block; null: static posts."
    )
    early_help: EarlyHelp
    waiting: Waiting = Field(default_factory=Waiting)
    mst: Mst | None = None
    fgc: Fgc | None = None
    family_mental_health: FamilyMentalHealth | None = None
    parenting_groups: ParentingGroups | None = None
    social_care: SocialCare | None = None
    rereferral: Rereferral = Field(default_factory=Rereferral)
    needs: Needs | None = Field(
        default=None, description="Need that changes between episodes (replaces rereferral when set)."
    )
    initial_state: InitialState = Field(default_factory=InitialState)
    costs: Costs = Field(default_factory=Costs)
    changes: list[Change] = Field(
        default_factory=list, description="Dated policy changes, in date order, within the run."
    )

    @model_validator(mode="after")
    def _changes(self) -> Scenario:
        start = self.run.start_date
        end = start + _dt.timedelta(days=self.run.duration_days)
        # a change dated after the run's end never takes effect (a run shortened with --set
        # keeps its scenario's schedule); one on or before the start day is refused
        for i, ch in enumerate(self.changes):
            if not start < ch.date:
                raise ValueError(f"changes.{i}.date: {ch.date} is not after the run's start ({start}; ends {end})")
            if i and ch.date <= self.changes[i - 1].date:
                raise ValueError(f"changes.{i}.date: {ch.date} is not after the previous change's date")
            for key in ch.set:
                if key.startswith("teams.") and key.split(".")[1] not in self.teams:
                    raise ValueError(
                        f"changes.{i}.set.{key}: no team {key.split('.')[1]!r} (teams: {', '.join(self.teams)})"
                    )
        budgeted = [i for i, ch in enumerate(self.changes) if "costs.budget_gbp_per_year" in ch.set]
        if budgeted and self.costs.budget_gbp_per_year is None:
            raise ValueError(
                f"changes.{budgeted[0]}.set.costs.budget_gbp_per_year: set costs.budget_gbp_per_year from the start "
                "too, so the envelope is known for the whole run"
            )
        if self.changes:
            timeline(self)  # every state the changes lead to must be a valid scenario
        return self

    @model_validator(mode="after")
    def _routing(self) -> Scenario:
        errors: list[str] = []
        self._check_horizon(errors)
        shares = {k: v.referral_share for k, v in self.localities.items()}
        try:
            check_probabilities(shares)
        except ValueError as exc:
            errors.append(f"localities: referral_share: {exc}")
        entries: set[str] = {s.entry for s in self.referrals.sources.values() if s.annual_rate > 0}
        if self.initial_state.teams:
            entries.add("level3")
        routes = reachable(self, entries)
        self._check_capacity(routes, shares, errors)
        if errors:
            raise ValueError("\n".join(_one_line(e) for e in errors))  # one line per problem
        return self

    def _check_horizon(self, errors: list[str]) -> None:
        """Cycles that would start only after the run has ended."""
        end = self.run.duration_days
        if self.panel is not None and self.panel.first_meeting_day >= end:
            errors.append(
                f"panel.first_meeting_day: must be < run.duration_days (the panel would never meet), "
                f"got {self.panel.first_meeting_day:g} >= {end:g}"
            )
        pg = self.parenting_groups
        if pg is not None and pg.first_group_day >= end:
            errors.append(
                f"parenting_groups.first_group_day: must be < run.duration_days (no group would start), "
                f"got {pg.first_group_day:g} >= {end:g}"
            )

    def _check_capacity(self, routes: set[str], shares: dict[str, float], errors: list[str]) -> None:
        if "front_door" in routes:
            if self.front_door is None:
                errors.append("front_door: missing, but referrals enter at the front door")
            elif self.front_door.staff == 0:
                errors.append("front_door.staff: zero capacity, but referrals are routed to the front door")
        if "panel" in routes:
            if self.panel is None:
                errors.append("panel: missing, but families are routed to panel")
            elif self.panel.capacity_per_meeting == 0:
                errors.append("panel.capacity_per_meeting: zero capacity, but families are routed to panel")
        if "level2" in routes:
            if self.partner_plans is None:
                errors.append("partner_plans: missing, but families are routed to Level 2 plans")
            elif self.partner_plans.capacity == 0:
                errors.append("partner_plans.capacity: zero capacity, but families are routed to Level 2 plans")
        if "social_care" in routes and self.social_care is None:
            errors.append("social_care: missing, but families can be referred to social care")
        for name in self.initial_state.teams:
            if name not in self.teams:
                errors.append(f"initial_state.teams.{name}: no such team (teams: {', '.join(self.teams)})")
        for name in self.teams:
            if name not in self.localities and self.early_help.allocation == "locality":
                errors.append(f"teams.{name}: no locality of that name (localities: {', '.join(self.localities)})")
        if "level3" in routes:
            if self.early_help.allocation == "pooled":
                if sum(t.slots for t in self.teams.values()) == 0:
                    errors.append("teams: zero caseload slots in the pool, but families are routed to Level 3")
            else:
                for loc, share in shares.items():
                    team = self.teams.get(loc)
                    if share > 0 and team is None:
                        errors.append(f"teams.{loc}: missing, but locality {loc} has referrals")
                    elif share > 0 and team is not None and team.slots == 0:
                        field = "caseload_cap" if team.caseload_cap == 0 else "workers"
                        if team.workers > 0 and team.caseload_cap > 0:
                            field = "vacancy_rate"
                        errors.append(f"teams.{loc}.{field}: zero capacity, but locality {loc} has referrals")
        for name, init in self.initial_state.teams.items():
            team = self.teams.get(name)
            if team is not None and init.open_plans > team.slots:
                errors.append(
                    f"initial_state.teams.{name}.open_plans: {init.open_plans} exceeds the team's "
                    f"{team.slots} caseload slots"
                )
        if "mst" in routes and self.mst is None:
            errors.append("mst: missing, but a referral source enters at MST")
        if self.mst is not None:
            if self.mst.age_min > self.mst.age_max:
                errors.append(f"mst.age_min: must be <= age_max, got {self.mst.age_min} > {self.mst.age_max}")
            referred = "mst" in routes or (self.mst.referral_prob > 0 and "social_care" in routes)
            if referred and self.mst.slots == 0:
                field = "therapists" if self.mst.therapists == 0 else "caseload_cap"
                errors.append(f"mst.{field}: zero capacity, but families are referred to MST")
        fgc = self.fgc
        if fgc is not None and fgc.referral_prob > 0 and fgc.slots == 0:
            offer_stage = "social_care" if fgc.offer_at == "pre_proceedings" else "level3"
            if offer_stage in routes:
                field = "coordinators" if fgc.coordinators == 0 else "conferences_per_coordinator"
                errors.append(f"fgc.{field}: zero capacity, but families are referred to FGC")
        fmh = self.family_mental_health
        if fmh is not None and fmh.referral_prob > 0 and fmh.slots == 0 and "level3" in routes:
            field = "consultants" if fmh.consultants == 0 else "caseload_cap"
            errors.append(f"family_mental_health.{field}: zero capacity, but families are referred to it")


def team_workforce(scenario: Scenario, team: str) -> Workforce | None:
    """The workforce dynamics of a team: its own block, else the scenario's, else none."""
    own = scenario.teams[team].workforce
    return own if own is not None else scenario.workforce


def timeline(scenario: Scenario) -> list[tuple[float, Scenario]]:
    """The scenario in force from each day on: ``[(0, scenario), (day, changed), ...]``.

    Each dated change applies on top of the ones before it; every state is validated (an
    error names the change). With no changes, ``[(0, scenario)]``.
    """
    from sim.config.loading import _format_error, apply_overrides  # loading builds on the schema

    out: list[tuple[float, Scenario]] = [(0.0, scenario)]
    if not scenario.changes:
        return out
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.pop("changes")
    data.pop("initial_state", None)  # day 0 only: a later state's caps need not hold the day-0 caseload
    for i, ch in enumerate(scenario.changes):
        data = apply_overrides(data, ch.set)
        try:
            state = Scenario.model_validate(data)
        except ValidationError as exc:
            lines = [line for e in exc.errors() for line in _format_error(dict(e)).splitlines()]
            raise ValueError("\n".join(f"changes.{i} ({ch.date}): {line}" for line in lines)) from None
        out.append(((ch.date - scenario.run.start_date).days, state))
    return out

"""Scenario schema (pydantic v2) and loading from YAML.

A scenario is one frozen, validated :class:`Scenario`. Files may ``extends:`` another
file (path relative to the extending file) and override any key; dotted overrides
(``teams.north.workers=12``) are applied last. Every error names its field::

    teams.north.workers: must be >= 0, got -2

Units are in the key names: ``_days``, ``_per_day``, ``_gbp``. Times are days.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from sim.distributions import DIST_TAGS, Distribution, check_probabilities
from sim.errors import ScenarioError
from sim.routing import reachable
from sim.vocab import NEED_LEVELS, PANEL_DECISIONS, SC_OUTCOMES

__all__ = [
    "MAX_ANNUAL_RATE",
    "MAX_COUNT",
    "MAX_DURATION_DAYS",
    "MAX_EXTENDS_CHAIN",
    "MAX_NAME_CHARS",
    "MAX_STAFF",
    "MAX_VARIANT_NAME_CHARS",
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "MIN_INTERVAL_DAYS",
    "MIN_RESULTS_WINDOW_DAYS",
    "NAMED_ENTRIES",
    "NAME_RULE",
    "Scenario",
    "ScenarioError",
    "apply_overrides",
    "load_scenario",
    "parse_override",
    "safe_yaml_load",
    "scenario_from_dict",
    "timeline",
]

_T = TypeVar("_T")
_P = ParamSpec("_P")

# --------------------------------------------------------------------------- limits
# Bounds on what a scenario file may ask for. Each is far outside any real service (the
# bundled scenarios are quoted for scale) and exists so that a typo or a hostile file is
# refused at validation, with the field named, instead of hanging or exhausting memory.
# The work a valid scenario implies (referrals x replications) is bounded separately, in
# :mod:`sim.workload`.

MAX_YAML_BYTES = 1024 * 1024
"""Largest scenario file read, in bytes (1 MiB). The largest bundled scenario is 14 kB."""
MAX_YAML_NODES = 100_000
"""Most YAML nodes (mappings, sequences, scalars, keys included) a document may hold once its
aliases (``*name``) are expanded. The largest bundled scenario has 453. An alias "bomb" of a
few hundred bytes expands to billions of nodes; it is refused after a count that takes time
linear in the file, before anything is built from it."""
MAX_YAML_DEPTH = 50
"""Deepest nesting of mappings and sequences (aliases expanded). Scenarios nest 5 deep; the
limit keeps the loader and the validator far from Python's recursion limit."""

MAX_NAME_CHARS = 100
"""Longest scenario ``name``. Names become folder names (``results/<name>-...``)."""
MAX_VARIANT_NAME_CHARS = 1000
"""Longest name of a derived variant (``<name>[key=value,...]``, as :func:`sim.sweep` makes)."""
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_VARIANT_SUFFIX = re.compile(r"\[[^/\\\x00-\x1f\x7f]*\]")
NAME_RULE = (
    f"letters, digits, '_', '-' and '.', starting with a letter, digit or '_', no '..', "
    f"at most {MAX_NAME_CHARS} characters (a name, not a path)"
)

MIN_INTERVAL_DAYS = 1.0
"""Shortest cycle of a panel (``panel.interval_days``) or of parenting groups
(``parenting_groups.interval_days``): one meeting or one new group a day. A shorter cycle is
a typo (``1e-7`` makes a run of billions of empty meetings that never ends)."""
MIN_RESULTS_WINDOW_DAYS = 30.0
"""Shortest results window, ``run.duration_days - run.warmup_days``: KPIs are reported per
year, and a window under a month is extrapolated from too few events to mean anything."""
MAX_DURATION_DAYS = 36_525.0
"""Longest horizon, ``run.duration_days``: 100 years (the longest bundled run is 20,000 days)."""
MAX_ANNUAL_RATE = 10_000_000.0
"""Largest ``annual_rate`` of one referral source: ten million referrals a year, far beyond any
local authority (the largest bundled source has 1,740)."""
MAX_STAFF = 100_000
"""Most staff in one post type (``teams.*.workers``, ``teams.*.other_fte``, ``front_door.staff``,
``mst.therapists``, ``fgc.coordinators``, ``family_mental_health.consultants``): far beyond any
local authority (bundled teams have tens)."""
MAX_COUNT = 1_000_000
"""Most of any other count: caseload caps, capacities per meeting or group, concurrent plans,
families open or waiting in ``initial_state`` (the largest bundled count is 1,100)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(32), 127)} | {0x85: "\\x85", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _one_line(text: str) -> str:
    """``text`` with control characters and line breaks escaped: a key or name read from a
    file never splits a message line (one line per problem) or garbles a terminal."""
    return text.translate(_CONTROL)


def _one_line_errors(fn: Callable[_P, _T]) -> Callable[_P, _T]:
    """Decorate a public loader: its :class:`ScenarioError` messages keep to one line each,
    whatever keys, names or paths they quote."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return fn(*args, **kwargs)
        except ScenarioError as exc:
            lines = [_one_line(m) for m in exc.messages]
            if lines == exc.messages:
                raise
            raise ScenarioError(lines) from None

    return wrapper


def _prob(**kw: Any) -> Any:
    return Field(ge=0, le=1, **kw)


def _at_least_a_day(value: float) -> float:
    if value < MIN_INTERVAL_DAYS:
        raise ValueError(
            f"must be >= {MIN_INTERVAL_DAYS:g} day (at most one a day; a shorter cycle never lets the run end), "
            f"got {value:g}"
        )
    return value


Interval = Annotated[float, AfterValidator(_at_least_a_day)]
"""Days between meetings or groups: > 0 (checked first, by the field) and at least a day."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """``YYYY-MM-DD``, as a YAML date or a string; anything else is refused by name."""
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    if isinstance(value, _dt.datetime):
        shown = f"a date and time ({value.isoformat(sep=' ')})"
    else:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    raise ValueError(f"must be a valid date written YYYY-MM-DD (e.g. 2017-04-01), got {shown}")


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
    referral_share: float = _prob(description="Share of referrals from this locality.")


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
class Family(_Model):
    children_mean: float = Field(
        default=2.25, ge=1, description="Mean children per family; number = 1 + Poisson(mean - 1)."
    )
    max_child_age: int = Field(strict=True, default=17, ge=0, le=25, description="Ages drawn uniformly in 0..max.")
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
    vacancy_rate: float = Field(default=0.0, ge=0, lt=1, description="Share of key worker posts unfilled.")

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


class SocialCare(_Model):
    assessment_duration: Distribution
    outcome_probs: dict[str, float]
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

    @model_validator(mode="after")
    def _check(self) -> SocialCare:
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
    cin_per_day: Cost | None = None
    cp_per_day: Cost | None = None
    foster_per_week: Cost | None = None
    residential_per_week: Cost | None = None


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
    "mst.therapists",
    "mst.caseload_cap",
    "fgc.coordinators",
    "fgc.conferences_per_coordinator",
    "family_mental_health.consultants",
    "family_mental_health.caseload_cap",
    "partner_plans.capacity",
    "panel.interval_days",
    "panel.capacity_per_meeting",
    "costs.budget_gbp_per_year",
)
"""Keys a dated change may set: staffing, caseload caps, panel frequency and capacity, and
the budget envelope. Each takes effect on its date (pools change capacity; families already
allocated keep their worker; the next panel meets on the new cycle)."""


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
    early_help: EarlyHelp
    waiting: Waiting = Field(default_factory=Waiting)
    mst: Mst | None = None
    fgc: Fgc | None = None
    family_mental_health: FamilyMentalHealth | None = None
    parenting_groups: ParentingGroups | None = None
    social_care: SocialCare | None = None
    rereferral: Rereferral = Field(default_factory=Rereferral)
    initial_state: InitialState = Field(default_factory=InitialState)
    costs: Costs = Field(default_factory=Costs)
    changes: list[Change] = Field(
        default_factory=list, description="Dated policy changes, in date order, within the run."
    )

    @model_validator(mode="after")
    def _changes(self) -> Scenario:
        start = self.run.start_date
        end = start + _dt.timedelta(days=self.run.duration_days)
        for i, ch in enumerate(self.changes):
            if not start < ch.date < end:
                raise ValueError(f"changes.{i}.date: {ch.date} is not inside the run ({start} to {end})")
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


def timeline(scenario: Scenario) -> list[tuple[float, Scenario]]:
    """The scenario in force from each day on: ``[(0, scenario), (day, changed), ...]``.

    Each dated change applies on top of the ones before it; every state is validated (an
    error names the change). With no changes, ``[(0, scenario)]``.
    """
    out: list[tuple[float, Scenario]] = [(0.0, scenario)]
    if not scenario.changes:
        return out
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.pop("changes")
    for i, ch in enumerate(scenario.changes):
        data = apply_overrides(data, ch.set)
        try:
            state = Scenario.model_validate(data)
        except ValidationError as exc:
            lines = [line for e in exc.errors() for line in _format_error(dict(e)).splitlines()]
            raise ValueError("\n".join(f"changes.{i} ({ch.date}): {line}" for line in lines)) from None
        out.append(((ch.date - scenario.run.start_date).days, state))
    return out


# ---------------------------------------------------------------------- loading
_MESSAGES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "finite_number": "must be a finite number",
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "too_short": "must have at least {min_length} item(s)",
    "literal_error": "must be one of {expected}",
}


# A validator's message may start with the field it is about, relative to the model
# ("need_probs: probabilities must sum to 1"); it is joined to the model's location.
_FIELD_PREFIX = re.compile(r"([A-Za-z_]\w*(?:\.\w+)*): (.*)", re.DOTALL)


def _format_error(err: dict[str, Any], prefix: tuple[str | int, ...] = ()) -> str:
    """One line per problem (a model validator may report several, one per line)."""
    loc = [_one_line(str(p)) for p in (*prefix, *err["loc"]) if str(p) not in DIST_TAGS and str(p) != "[key]"]
    # pydantic reports errors raised in a model validator at the model's own location
    where = ".".join(loc) or "scenario"
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "value_error":
        lines = []
        for msg in str(ctx.get("error", err["msg"])).split("\n"):
            m = _FIELD_PREFIX.fullmatch(msg)
            if m and loc:
                lines.append(f"{where}.{m[1]}: {m[2]}")
            elif m:
                lines.append(msg)
            else:
                lines.append(f"{where}: {msg}")
        return "\n".join(lines)
    if kind == "union_tag_invalid":
        return f"{where}.dist: unknown distribution {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"{where}.dist: required key is missing (the distribution's name)"
    template = _MESSAGES.get(kind)
    msg = template.format(**ctx) if template else err["msg"][0].lower() + err["msg"][1:]
    if kind in ("missing", "extra_forbidden"):
        return f"{where}: {msg}"
    return f"{where}: {msg}, got {err.get('input')!r}"


@_one_line_errors
def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    """Validate a plain mapping into a :class:`Scenario`, raising :class:`ScenarioError`."""
    if not isinstance(data, dict):
        raise ScenarioError([f"scenario: must be a mapping of keys, got {type(data).__name__}"])
    problem = _shape_problem(data, _data_children)
    if problem:
        raise ScenarioError([f"scenario: {problem}"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(
            [_one_line(line) for e in exc.errors() for line in _format_error(dict(e)).split("\n")]
        ) from None


@_one_line_errors
def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` (value as YAML) from the command line."""
    if not isinstance(text, str):
        raise ScenarioError([f"--set {_clip(repr(text))}: expected a KEY=VALUE string, got {type(text).__name__}"])
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError([f"--set {_clip(repr(text))}: expected KEY=VALUE, e.g. teams.north.workers=12"])
    if "" in key.strip().split("."):
        raise ScenarioError([f"--set {_clip(repr(text))}: empty key in dotted path {_clip(repr(key.strip()))}"])
    where = f"--set {_clip(key.strip())}"
    parsed = safe_yaml_load(value, where, "value is not valid YAML") if value.strip() else None
    return key.strip(), parsed


def _clip(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (a subject echoed back must leave room for the problem)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


NAMED_ENTRIES: dict[tuple[str, ...], tuple[str, str, tuple[str, ...]]] = {
    ("localities",): ("locality", "localities", ("localities",)),
    ("referrals", "sources"): ("referral source", "sources", ("referrals", "sources")),
    ("teams",): ("team", "teams", ("teams",)),
    ("initial_state", "teams"): ("team", "teams", ("teams",)),
}
"""The mappings of named entries, by dotted path: (what an entry is, what the list of them is
called, the path of the mapping whose names may be used). An override *through* an entry
that does not exist (``teams.nonexistent.workers=3``) is refused with the names that do;
otherwise it would create half an entry and fail on a missing key. An ``initial_state.teams``
entry may be added for any team in ``teams``; a new team is added by setting the whole entry
(``teams.new={workers: 5, caseload_cap: 20}``)."""


def _names_at(data: dict[str, Any], path: tuple[str, ...]) -> list[str]:
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return [str(k) for k in node] if isinstance(node, dict) else []


@_one_line_errors
def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``data`` with dotted keys set, creating mappings as needed.

    Raises :class:`ScenarioError` for a key that is not a dotted path, a key through a value
    that is not a mapping, and a key through a named entry that does not exist
    (:data:`NAMED_ENTRIES`)."""
    out = _deep_copy(data)
    for dotted, value in _override_pairs(overrides).items():
        parts = dotted.split(".")
        node = out
        for i, part in enumerate(parts[:-1]):
            named = NAMED_ENTRIES.get(tuple(parts[:i]))
            if named is not None and part not in node:
                noun, plural, known_at = named
                known = _names_at(out, known_at)
                if part not in known:
                    here = ".".join(parts[: i + 1])
                    listed = ", ".join(known) if known else "none"
                    hint = ""
                    if known_at == tuple(parts[:i]):
                        hint = f"; to add a {noun}, set the whole entry: {here}={{...}}"
                    raise ScenarioError(
                        [_one_line(f"{here}: {noun} {part!r} does not exist ({plural}: {listed}){hint}")]
                    )
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            if not isinstance(nxt, dict):
                raise ScenarioError(
                    [_one_line(f"{'.'.join(parts[: i + 1])}: cannot set {dotted}, this key is not a mapping")]
                )
            node = nxt
        node[parts[-1]] = value
    return out


_OVERRIDES_FORM = "a mapping {'teams.north.workers': 12} or a list of 'KEY=VALUE' strings"


def _override_pairs(overrides: Any) -> dict[str, Any]:
    """``overrides`` as ``{dotted key: value}``, from a mapping or a list of ``KEY=VALUE``."""
    if overrides is None:
        return {}
    if isinstance(overrides, str):
        raise ScenarioError(
            [f"overrides: must be {_OVERRIDES_FORM}, got the string {overrides[:60]!r} (put it in a list)"]
        )
    if isinstance(overrides, (list, tuple)):
        return dict(parse_override(o) for o in overrides)
    if not isinstance(overrides, dict):
        raise ScenarioError([f"overrides: must be {_OVERRIDES_FORM}, got {type(overrides).__name__}"])
    for key in overrides:
        if not isinstance(key, str) or not key.strip() or "" in key.split("."):
            raise ScenarioError([f"overrides: {key!r} is not a dotted key like 'teams.north.workers'"])
    return overrides


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``child`` over ``base``. A mapping with ``replace: true`` replaces instead."""
    out = _deep_copy(base)
    for key, value in child.items():
        if isinstance(value, dict) and value.get("replace") is True:
            out[key] = {k: v for k, v in value.items() if k != "replace"}
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = _deep_copy(value)
    return out


# ---------------------------------------------------------------------- YAML with limits
def _yaml_children(node: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _data_children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [*node.keys(), *node.values()]
    if isinstance(node, (list, tuple)):
        return list(node)
    return []


def _shape_problem(root: Any, children: Callable[[Any], list[Any]]) -> str | None:
    """What is wrong with the size or shape of a tree whose shared branches (YAML aliases) are
    counted each time they are used, or None. Memoised, so an alias bomb costs time linear in
    the file, not in its expansion; iterative, so depth costs no recursion."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            kids = children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if size[key] > MAX_YAML_NODES:
                return (
                    f"expands to more than {MAX_YAML_NODES:,} values (aliases, *name, are expanded where "
                    "they are used); a scenario holds a few hundred"
                )
            if depth[key] > MAX_YAML_DEPTH:
                return f"nested more than {MAX_YAML_DEPTH} levels deep; a scenario nests a few levels"
            continue
        if key in size:
            continue
        if key in on_path:
            return "contains itself (a recursive alias or reference)"
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in children(node) if id(k) not in size)
    return None


class _YamlLimitError(yaml.YAMLError):
    """A YAML document over one of the loader's limits (not malformed, but refused)."""

    def __init__(self, problem: str, mark: Any = None):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class _ScenarioLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (by default the last one silently wins),
    nesting deeper than :data:`MAX_YAML_DEPTH` and documents that expand, through their
    aliases, beyond :data:`MAX_YAML_NODES` nodes."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _YamlLimitError(
                    f"nested more than {MAX_YAML_DEPTH} levels deep; a scenario nests a few levels",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            problem = _shape_problem(node, _yaml_children)
            if problem:
                raise _YamlLimitError(problem)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # a list or mapping as a key (``? [a, b]``)
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be a plain value, got {type(key).__name__}", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_date_or_text(self, node: yaml.ScalarNode) -> Any:
        """A date-like scalar that is no date (``2023-02-30``) stays text, so the field it is
        given to names itself in the error, instead of the loader failing without a field."""
        try:
            return self.construct_yaml_timestamp(node)
        except (ValueError, AttributeError):
            return self.construct_scalar(node)


_ScenarioLoader.add_constructor("tag:yaml.org,2002:timestamp", _ScenarioLoader.construct_date_or_text)


def _yaml_problem(exc: yaml.YAMLError, malformed: str) -> str:
    mark = getattr(exc, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    if isinstance(exc, _YamlLimitError):
        return f"{at.strip()}: {exc.problem}" if at else exc.problem
    if isinstance(exc, yaml.reader.ReaderError):
        return f"{malformed}: character {exc.character!r} at position {exc.position} is not allowed in YAML"
    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    return _one_line(f"{malformed}{at}: {problem}")


def safe_yaml_load(text: str, where: str, malformed: str = "malformed YAML") -> Any:
    """Parse YAML text with the scenario loader's limits (:data:`MAX_YAML_DEPTH`,
    :data:`MAX_YAML_NODES`, no duplicate keys, no Python tags), raising :class:`ScenarioError`
    whose message starts with ``where`` (a file, or ``--set KEY``)."""
    try:
        return yaml.load(text, Loader=_ScenarioLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{where}: {_yaml_problem(exc, malformed)}"]) from None
    except RecursionError:  # belt and braces: the depth limit stops well before this
        raise ScenarioError([f"{where}: nested too deeply"]) from None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError) as exc:
        # PyYAML's constructors let these through for a tagged or date-like value they cannot
        # build (``2023-02-30``, ``!!int abc``, ``!!bool maybe``, ``!!map [1]``)
        raise ScenarioError([f"{where}: {malformed}: a value could not be read ({exc})"]) from None


MAX_EXTENDS_CHAIN = 16
"""Most files in one ``extends:`` chain (bundled chains have two)."""


def _read_yaml(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError([f"extends: cycle in scenario files: {cycle}"])
    if len(chain) >= MAX_EXTENDS_CHAIN:
        raise ScenarioError([f"extends: more than {MAX_EXTENDS_CHAIN} files in a chain (at {path})"])
    where = f"extends (in {chain[-1]})" if chain else "scenario"
    try:
        if not path.is_file():
            raise ScenarioError([f"{where}: file not found: {path}"])
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise ScenarioError(
                [f"{path}: the file is {size:,} bytes; a scenario file may be at most {MAX_YAML_BYTES:,} bytes"]
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError([f"{path}: not a text file (could not decode as UTF-8)"]) from None
    except OSError as exc:
        raise ScenarioError([f"{where}: cannot read {path}: {exc.strerror or exc}"]) from None
    data = safe_yaml_load(text, str(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError([f"{path}: the top level must be a mapping of keys, got {type(data).__name__}"])
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError([f"extends: must be a file path, got {parent!r}"])
    base = _read_yaml((path.parent / parent).resolve(), (*chain, path))
    return _merge(base, data)


@_one_line_errors
def load_raw(path: str | Path, overrides: dict[str, Any] | list[str] | None = None) -> dict[str, Any]:
    """The merged, overridden mapping behind a scenario file (before validation)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ScenarioError([f"path: must be a scenario file path (str or Path), got {type(path).__name__}"])
    pairs = _override_pairs(overrides)  # a bad overrides argument is refused before reading
    try:
        resolved = Path(path).resolve()
    except (OSError, TypeError, ValueError) as exc:
        raise ScenarioError([f"scenario: not a usable file path: {path!r} ({exc})"]) from None
    data = _read_yaml(resolved, ())
    if pairs:
        data = apply_overrides(data, pairs)
    return data


@_one_line_errors
def load_scenario(path: str | Path, overrides: dict[str, Any] | list[str] | None = None) -> Scenario:
    """Load, merge (``extends:``), override and validate a scenario file.

    Parameters
    ----------
    path
        YAML scenario file (at most :data:`MAX_YAML_BYTES`, nested at most
        :data:`MAX_YAML_DEPTH` deep, at most :data:`MAX_YAML_NODES` values with aliases
        expanded).
    overrides
        ``{"teams.north.workers": 12}`` or ``["teams.north.workers=12"]`` (not a bare string).

    Raises
    ------
    ScenarioError
        With one field-named message per problem.
    """
    return scenario_from_dict(load_raw(path, overrides))


def scenario_to_yaml(scenario: Scenario) -> str:
    """The resolved scenario as YAML (what ``config.resolved.yaml`` holds)."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False)

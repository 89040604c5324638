"""The scenario schema (pydantic v2): the run, dated changes and the :class:`Scenario` that
holds every part; the parts are in :mod:`sim.config.demand`, :mod:`~sim.config.services`,
:mod:`~sim.config.social_care` and :mod:`~sim.config.costs` (every field with its unit,
default and description)."""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import typing
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from sim.config.costs import Costs
from sim.config.demand import Family, Locality, Referrals
from sim.config.limits import (
    _NAME,
    _VARIANT_SUFFIX,
    MAX_DURATION_DAYS,
    MAX_NAME_CHARS,
    MAX_VARIANT_NAME_CHARS,
    MIN_RESULTS_WINDOW_DAYS,
    NAME_RULE,
    IsoDate,
    _Model,
    _one_line,
)
from sim.config.services import (
    EarlyHelp,
    FamilyMentalHealth,
    Fgc,
    FrontDoor,
    Mst,
    Panel,
    ParentingGroups,
    PartnerPlans,
    Team,
    Waiting,
    Workforce,
)
from sim.config.social_care import InitialState, Needs, Rereferral, SocialCare
from sim.distributions import check_probabilities
from sim.routing import reachable


# --------------------------------------------------------------------------- run
class RunSettings(_Model):
    start_date: IsoDate = Field(description="Calendar date of day 0 (YYYY-MM-DD); drives seasonality.")
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
    "mst.budget_line",
    "fgc.coordinators",
    "fgc.conferences_per_coordinator",
    "fgc.offer_at",
    "fgc.referral_prob",
    "fgc.early_help_referral_prob",
    "fgc.care_relative_reduction",
    "fgc.step_up_relative_reduction",
    "fgc.budget_line",
    "family_mental_health.consultants",
    "family_mental_health.caseload_cap",
    "family_mental_health.budget_line",
    "partner_plans.capacity",
    "panel.interval_days",
    "panel.capacity_per_meeting",
    "costs.budget_gbp_per_year",
    "social_care.statutory.social_workers.case_holding_fte",
    "social_care.statutory.social_workers.caseload_cap",
)
"""Keys a dated change may set: staffing (front door, teams, edge-of-care services), caseload
caps, panel frequency and capacity, where and how often Family Group Conferences are offered
(a service moving between directorates), the budget line an edge-of-care service's costs fall
on, and the budget envelope. Each takes effect on its
date (pools change capacity; families already allocated keep their worker; the next panel
meets on the new cycle; an FGC offer is decided by the settings in force when it is made)."""


RUNTIME_KEYS_DOC = 'the README\'s "Dated policy changes" lists the keys a dated change can set'
"""Where the full list of :data:`RUNTIME_KEYS` is documented for a user (a message naming a key a
dated change cannot set points there rather than printing the whole list)."""


def _matches(dotted: str, pattern: str) -> bool:
    parts, pat = dotted.split("."), pattern.split(".")
    return len(parts) == len(pat) and all(q in ("*", p) for p, q in zip(parts, pat))


def _runtime_key(dotted: str) -> bool:
    return any(_matches(dotted, pat) for pat in RUNTIME_KEYS)


def _runtime_keys_for(dotted: str) -> list[str]:
    """:data:`RUNTIME_KEYS` with each ``*`` filled in from ``dotted`` where it has that part
    (``teams.horsham.wrokers`` -> ``teams.horsham.workers``...): the keys a typo is near."""
    parts = dotted.split(".")
    return [
        ".".join(parts[i] if q == "*" and i < len(parts) else q for i, q in enumerate(pat.split(".")))
        for pat in RUNTIME_KEYS
    ]


def model_at(
    path: Sequence[str], entries: bool = True, tp: Any = None, field: FieldInfo | None = None
) -> list[tuple[Any, FieldInfo | None]]:
    """The types of the schema (under ``tp``, the :class:`Scenario` by default) that ``path``
    (a dotted key, split) names, each with the field it is the type of (None for an entry of a
    mapping): an optional block's model, not ``X | None``; through a union (a distribution) or a
    list, each of its types. Any name is an entry of a mapping (``teams.<any>``), unless not
    ``entries``: then a path through a mapping names nothing. Empty where ``path`` is no key."""
    tp = Scenario if tp is None else tp
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        return model_at(path, entries, args[0], field)
    if origin is dict:
        if not path:
            return [(tp, field)]
        return model_at(path[1:], entries, args[1]) if entries else []
    if args:  # an optional block, a union, a list: each of its types
        return [hit for a in args if a is not type(None) for hit in model_at(path, entries, a, field)]
    if not path:
        return [(tp, field)]
    fields = tp.model_fields if isinstance(tp, type) and issubclass(tp, BaseModel) else {}
    named = {f.alias or n: f for n, f in fields.items()}.get(path[0])
    return model_at(path[1:], entries, named.annotation, named) if named else []


def _not_runtime(key: str) -> str:
    """The problem with setting ``key`` in a dated change: a key no scenario has (with the key
    it may be a typo of) or a real one that cannot change during a run (with those of its
    block that can)."""
    if not model_at(key.split(".")):
        near = difflib.get_close_matches(key, _runtime_keys_for(key), n=1, cutoff=0.8)
        hint = f"did you mean {near[0]}?" if near else RUNTIME_KEYS_DOC
        return f"unknown key; {hint}"
    block = key.split(".")[0]
    same = [k for k in _runtime_keys_for(key) if k.split(".")[0] == block]
    can = f"of {block}, only {', '.join(same)} can" if same else f"no {block} key can"
    return f"cannot change during a run ({can}; {RUNTIME_KEYS_DOC})"


class Change(_Model):
    """A dated policy change: from ``date`` on, the keys in ``set`` take these values."""

    date: IsoDate = Field(description="The day the change takes effect (ISO YYYY-MM-DD).")
    set: dict[str, Any] = Field(min_length=1, description="Dotted keys and their new values (see RUNTIME_KEYS).")
    why: str = Field(default="", description="What the change is and its source.")

    @model_validator(mode="after")
    def _keys(self) -> Change:
        bad = [f"set.{k}: {_not_runtime(k)}" for k in self.set if not _runtime_key(k)]
        if bad:
            raise ValueError("\n".join(bad))  # one line per key
        return self


# ---------------------------------------------------------------------- scenario
def check_name(name: str) -> str:
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

    name: Annotated[str, AfterValidator(check_name)] = Field(
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

    # defined (so run) before _changes: a problem of the day-0 scenario is reported as its own,
    # not as that of the first dated change, whose state would inherit it
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

    @model_validator(mode="after")
    def _changes(self) -> Scenario:
        start = self.run.start_date
        last = long_date(last_day(start, self.run.duration_days))
        # a change dated after the run's end never takes effect (a run shortened with --set
        # keeps its scenario's schedule: a warning, scenario_warnings); one on or before the
        # start day is refused
        for i, ch in enumerate(self.changes):
            if not start < ch.date:
                raise ValueError(
                    f"changes.{i}.date: {ch.date} is not after the run's start ({long_date(start)}; "
                    f"the run's last day is {last})"
                )
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


def long_date(day: _dt.date) -> str:
    """A date as a planner writes it: ``1 April 2015``."""
    return f"{day.day} {day:%B %Y}"


def last_day(start_date: _dt.date, duration_days: float) -> _dt.date:
    """The run's last day: the one before day ``duration_days`` (a part day counts)."""
    return start_date + _dt.timedelta(days=math.ceil(duration_days) - 1)


def unreached(start_date: _dt.date, duration_days: float, dates: Sequence[_dt.date]) -> list[int]:
    """The indices of the dated changes on or after the run's end: they never take effect.

    Not an error (:meth:`Scenario._changes` lets them pass: a run shortened with ``--set
    run.duration_days=...`` keeps its scenario's schedule), but worth a warning
    (:func:`change_warnings`): a typo in a year makes an option change nothing."""
    return [i for i, day in enumerate(dates) if (day - start_date).days >= duration_days]


def change_warnings(start_date: _dt.date, duration_days: float, dates: Sequence[_dt.date]) -> list[str]:
    """One warning per dated change that never takes effect (:func:`unreached`), naming it:
    ``changes.0: the dated change on 1 October 2107 falls after the run's last day (28 March
    2020): it never takes effect in this run``. Shown by ``ehsim validate``, the console's
    warnings of a run or comparison and the report's Diagnostics."""
    end = long_date(last_day(start_date, duration_days))
    return [
        f"changes.{i}: the dated change on {long_date(dates[i])} falls after the run's last day ({end}): "
        "it never takes effect in this run"
        for i in unreached(start_date, duration_days, dates)
    ]


def scenario_warnings(scenario: Scenario) -> list[str]:
    """What is valid in a scenario but probably not meant: its dated changes that never take
    effect (:func:`change_warnings`)."""
    return change_warnings(scenario.run.start_date, scenario.run.duration_days, [ch.date for ch in scenario.changes])


def team_workforce(scenario: Scenario, team: str) -> Workforce | None:
    """The workforce dynamics of a team: its own block, else the scenario's, else none."""
    own = scenario.teams[team].workforce
    return own if own is not None else scenario.workforce


def timeline(scenario: Scenario) -> list[tuple[float, Scenario]]:
    """The scenario in force from each day on: ``[(0, scenario), (day, changed), ...]``.

    Each dated change applies on top of the ones before it; every state is validated (an
    error names the change). With no changes, ``[(0, scenario)]``.
    """
    from sim.config.loading import _part_set, _validated, absent_blocks, apply_overrides, no_block  # builds on this

    out: list[tuple[float, Scenario]] = [(0.0, scenario)]
    if not scenario.changes:
        return out
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.pop("changes")
    data.pop("initial_state", None)  # day 0 only: a later state's caps need not hold the day-0 caseload
    for i, ch in enumerate(scenario.changes):
        parts = {key: _part_set(data, key) for key in ch.set}
        data = apply_overrides(data, ch.set)
        try:  # data of a valid scenario: the shape guard (_validated) only where it fails
            state = Scenario.model_validate(data)
        except ValidationError:
            _, problems = _validated(data)
            # a key set in a block the scenario has not got (panel.interval_days, no panel): one
            # line saying so, as for --set, not one "required key is missing" per key
            problems, absent = absent_blocks(parts, data, problems)
            lines = [
                no_block(
                    part,
                    required,
                    "a dated change can only change a block the scenario has from its start: give the scenario "
                    f"one (required keys: {', '.join(required)})",
                )
                for part, required in absent
            ]
            lines += [line for _, line in problems]
            raise ValueError("\n".join(f"changes.{i} ({ch.date}): {line}" for line in lines)) from None
        out.append(((ch.date - scenario.run.start_date).days, state))
    return out

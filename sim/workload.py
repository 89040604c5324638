"""Bounded work: estimate what replications of a scenario will cost before running them,
and refuse the absurd unless forced.

A scenario can be valid field by field and still ask for more than any computer can give:
``run.duration_days: 36525`` with ``annual_rate: 10000000`` is 10^9 referrals, and
``--replications 1000000000`` of the baseline is 10^13. :func:`estimate` predicts the work
from the scenario alone (no simulation); :func:`check` raises :class:`ScenarioError` naming
the fields that drive it (or :class:`ArgumentError` naming ``replications`` when it is the
number of replications), when a prediction exceeds one of the limits below, unless
``force=True`` (``--force`` on the command line). An uncertainty design is checked from its
size before its scenarios are built (:func:`check_design`, naming ``samples``), then each
sampled scenario's replication (:func:`check_replications`).

The estimate
------------
Expected referrals of source ``s`` over a horizon of ``Y = duration_days / 365`` years, at
``annual_rate`` ``r`` growing by ``g`` a year::

    r * m * Y                               if g == 0
    r * m * ((1 + g) ** Y - 1) / ln(1 + g)  otherwise

where ``m`` is the mean of the source's 12 monthly seasonality multipliers. Taking the mean
treats the months as equally likely: exact over whole years, and off for a part year by at
most the gap between the mean and the largest multiplier (8% for the bundled seasonality),
which is well inside the limits' margin. Families in ``initial_state`` are added, and with
``social_care.statutory`` the families referred straight to social care (children a year /
``family.children_mean``) and those open there at day 0, each with ``1 / (1 - p)`` cases
for the social care re-referral probability ``p``.

Each family has ``1 / (1 - p)`` episodes on average when ``p`` is
``rereferral.prob_within_12_months`` (capped at two a year of the horizon, as ``p`` nears 1),
each writing about :data:`EVENTS_PER_EPISODE` rows to the event log, each row costing
about :data:`BYTES_PER_EVENT` of peak memory. Over the bundled scenarios the estimate of
events is 1.1-1.6 times the events actually logged (1.6 for the M/M/c reduction, whose
families skip triage and panel); ``tests/test_bad_inputs.py`` checks two of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import overload

from sim.config import Scenario
from sim.errors import ArgumentError, ScenarioError

__all__ = [
    "BYTES_PER_EVENT",
    "EPISODES_PER_SECOND",
    "EVENTS_PER_EPISODE",
    "MAX_MEMORY_BYTES_PER_REPLICATION",
    "MAX_REFERRALS_PER_REPLICATION",
    "MAX_TOTAL_REFERRALS",
    "Workload",
    "check",
    "check_design",
    "check_replications",
    "estimate",
]

EVENTS_PER_EPISODE = 8.0
"""Event-log rows per referral episode (referral, triage, panel, joins, starts, ends, exit).
Measured 5.0 (the M/M/c reduction) to 7.3 across the bundled scenarios; rounded up."""
BYTES_PER_EVENT = 300
"""Peak memory of a replication per event-log row: the log and the families and processes
behind it. Measured (tracemalloc over ``run_replication``) 150-240 bytes on the bundled
scenarios; rounded up, as tracemalloc does not see the interpreter's own overheads."""
EPISODES_PER_SECOND = 4_000
"""Rough speed of one core, for the time quoted in messages: 2,500-8,000 families a second
were measured on the bundled scenarios."""

MAX_REFERRALS_PER_REPLICATION = 5_000_000
"""Most expected referrals in one replication: about 100 times the largest bundled scenario
(50,000 over ten years), and over 20 minutes of one core."""
MAX_MEMORY_BYTES_PER_REPLICATION = 2 * 1024**3
"""Most expected peak memory of one replication (2 GiB): every worker holds one replication's
event log at a time, so a process backend with 8 workers needs 8 times this."""
MAX_TOTAL_REFERRALS = 100_000_000
"""Most expected referrals across all replications (and scenarios) of one command: about
7 hours of one core (20 replications of the baseline are 150,000)."""

_MIN_SHARE = 0.1  # a source with at least this share of the referrals is named as a driver
_MAX_NAMED = 3


@dataclass(frozen=True)
class Workload:
    """Expected work of ``replications`` replications of one scenario (see the module's
    docstring for how each figure is estimated).

    Attributes
    ----------
    referrals
        New referrals per replication from ``referrals.sources``.
    by_source
        The same, per source.
    initial_families
        Families open or waiting at day 0 (``initial_state``).
    episodes
        Referral episodes per replication (families x episodes per family).
    events
        Event-log rows per replication.
    memory_bytes
        Peak memory of one replication.
    """

    scenario: str
    replications: int
    duration_days: float
    referrals: float
    by_source: dict[str, float] = field(repr=False)
    growth_factor: dict[str, float] = field(repr=False)
    initial_families: int
    episodes_per_family: float
    episodes: float
    events: float
    memory_bytes: float

    @property
    def total_referrals(self) -> float:
        """Referrals (including initial families) over all replications."""
        return (self.referrals + self.initial_families) * self.replications

    @property
    def seconds(self) -> float:
        """Rough single-core time of all replications (:data:`EPISODES_PER_SECOND`)."""
        return self.episodes * self.replications / EPISODES_PER_SECOND


def _check_replications(replications: object) -> int:
    if isinstance(replications, bool) or not isinstance(replications, int):
        raise ArgumentError("replications", f"must be a whole number >= 1, got {replications!r}")
    if replications < 1:
        raise ArgumentError("replications", f"must be >= 1, got {replications}")
    return replications


def _source_referrals(rate: float, growth: float, season_mean: float, years: float) -> tuple[float, float]:
    """(expected referrals, their ratio to the same source without growth)."""
    flat = rate * season_mean * years
    if growth == 0 or years == 0:
        return flat, 1.0
    try:
        factor = math.expm1(years * math.log1p(growth)) / (math.log1p(growth) * years)
    except OverflowError:
        factor = math.inf
    return flat * factor, factor


def estimate(scenario: Scenario, replications: int = 1) -> Workload:
    """The expected work of ``replications`` replications of ``scenario`` (nothing is run)."""
    replications = _check_replications(replications)
    horizon = scenario.run.duration_days
    years = horizon / 365.0
    refs = scenario.referrals
    by_source: dict[str, float] = {}
    growth: dict[str, float] = {}
    for name, src in refs.sources.items():
        season = src.seasonality or refs.seasonality
        by_source[name], growth[name] = _source_referrals(
            src.annual_rate, src.annual_growth, sum(season) / len(season), years
        )
    referrals = sum(by_source.values())
    initial = sum(t.open_plans + t.waiting for t in scenario.initial_state.teams.values())
    p = scenario.rereferral.prob_within_12_months
    per_family = min(1.0 / (1.0 - p) if p < 1 else math.inf, 1.0 + 2.0 * years)
    episodes = (referrals + initial) * per_family + _social_care_cases(scenario, years)
    events = episodes * EVENTS_PER_EPISODE
    return Workload(
        scenario=scenario.name,
        replications=replications,
        duration_days=horizon,
        referrals=referrals,
        by_source=by_source,
        growth_factor=growth,
        initial_families=initial,
        episodes_per_family=per_family,
        episodes=episodes,
        events=events,
        memory_bytes=events * BYTES_PER_EVENT,
    )


def _social_care_cases(scenario: Scenario, years: float) -> float:
    """Cases of families referred straight to social care or open there at day 0."""
    st = scenario.social_care.statutory if scenario.social_care is not None else None
    if st is None:
        return 0.0
    kids = 0.0
    if st.inflow is not None:
        season = sum(st.inflow.seasonality) / 12
        kids += sum(
            _source_referrals(src.children_per_year, src.annual_growth, season, years)[0]
            for src in st.inflow.sources.values()
        )
    if st.initial_stock is not None and st.population_0_17 is not None:
        s = st.initial_stock
        kids += (s.assessment_per_10k + s.cin_per_10k + s.cp_per_10k + s.lac_per_10k) * st.population_0_17 / 1e4
    p = st.rereferral_prob
    return kids / scenario.family.children_mean * min(1.0 / (1.0 - p) if p < 1 else math.inf, 1.0 + 2.0 * years)


def _drivers(w: Workload) -> list[str]:
    """The fields that drive a replication's size, the largest first."""
    fields = ["run.duration_days"]
    total = w.referrals + w.initial_families
    if total <= 0:
        return fields
    big = sorted((name for name, n in w.by_source.items() if n >= _MIN_SHARE * total), key=lambda s: -w.by_source[s])
    for name in big[:_MAX_NAMED]:
        fields.append(f"referrals.sources.{name}.annual_rate")
        if w.growth_factor[name] > 2:
            fields.append(f"referrals.sources.{name}.annual_growth")
    if len(big) > _MAX_NAMED:
        fields.append("referrals.sources.*.annual_rate")
    if w.initial_families >= _MIN_SHARE * total:
        fields.append("initial_state.teams.*")
    if w.episodes_per_family > 2:
        fields.append("rereferral.prob_within_12_months")
    return fields


def _count(x: float) -> str:
    return f"{x:,.0f}" if x < 1e15 else f"{x:.2g}"


def _size(n: float) -> str:
    return f"{n / 1024**3:,.1f} GiB" if n < 1e18 else f"{n:.2g} bytes"


def _time(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:,.0f} minutes"
    if seconds < 86400 * 3:
        return f"{seconds / 3600:,.0f} hours"
    return f"{seconds / 86400:,.0f} days"


_FORCE = "or force it (--force; force=True in Python)"


def _replication_problems(loads: Sequence[Workload], named: bool) -> list[str]:
    """One line per scenario whose single replication exceeds a per-replication limit."""
    problems: list[str] = []
    for w in loads:
        who = f" of scenario {w.scenario!r}" if named else ""
        fields = ", ".join(_drivers(w))
        if w.referrals + w.initial_families > MAX_REFERRALS_PER_REPLICATION:
            problems.append(
                f"{fields}: about {_count(w.referrals + w.initial_families)} referrals per replication{who} over "
                f"{w.duration_days:,.0f} days (limit {MAX_REFERRALS_PER_REPLICATION:,}); shorten the run or "
                f"lower the rates, {_FORCE}"
            )
        elif w.memory_bytes > MAX_MEMORY_BYTES_PER_REPLICATION:
            problems.append(
                f"{fields}: about {_size(w.memory_bytes)} of memory per replication{who} for its event log "
                f"({_count(w.events)} events x {BYTES_PER_EVENT} bytes; limit "
                f"{_size(MAX_MEMORY_BYTES_PER_REPLICATION)}); shorten the run or lower the rates, {_FORCE}"
            )
    return problems


def _check_total(loads: Sequence[Workload], replications: int, points: int | None, built: bool = False) -> None:
    """Raise :class:`ArgumentError` when all replications of ``loads`` (each at every one of
    ``points`` parameter points, if given; with ``built``, ``loads`` are already every point's
    scenarios) exceed :data:`MAX_TOTAL_REFERRALS`, naming the argument that multiplies the
    work: ``samples`` for a design, else ``replications``."""
    times = 1 if points is None or built else points
    total = sum(w.total_referrals for w in loads) * times
    if total <= MAX_TOTAL_REFERRALS:
        return
    seconds = sum(w.seconds for w in loads) * times
    per_point = len(loads) // points if built and points else len(loads)
    scenarios = f"{per_point} scenarios x " if per_point > 1 else ""
    limit = f"(limit {MAX_TOTAL_REFERRALS:,}; about {_time(seconds)} of one core)"
    if points is None:
        raise ArgumentError(
            "replications",
            f"{scenarios}{replications:,} replications give about {_count(total)} referrals in all {limit}; "
            f"use fewer replications or a shorter run.duration_days, {_FORCE}",
        )
    raise ArgumentError(
        "samples",
        f"{points:,} parameter points x {scenarios or '1 scenario x '}{replications:,} replication(s) give about "
        f"{_count(total)} referrals in all {limit}; use fewer samples (or fewer replications, or a shorter "
        f"run.duration_days), {_FORCE}",
    )


@overload
def check(scenario: Scenario, replications: int = 1, force: bool = False) -> Workload: ...
@overload
def check(scenario: Sequence[Scenario], replications: int = 1, force: bool = False) -> list[Workload]: ...
def check(
    scenario: Scenario | Sequence[Scenario], replications: int = 1, force: bool = False
) -> Workload | list[Workload]:
    """Estimate the work of ``replications`` replications of ``scenario`` (or of each of
    several scenarios, as a comparison or sweep runs them) and raise :class:`ScenarioError`
    (naming the scenario's fields) when a replication exceeds
    :data:`MAX_REFERRALS_PER_REPLICATION` or :data:`MAX_MEMORY_BYTES_PER_REPLICATION`, or
    :class:`ArgumentError` (naming ``replications``) when all scenarios and replications
    exceed :data:`MAX_TOTAL_REFERRALS`, unless ``force``. Returns the estimate(s).
    """
    single = isinstance(scenario, Scenario)
    scenarios = [scenario] if isinstance(scenario, Scenario) else list(scenario)
    loads = [estimate(sc, replications) for sc in scenarios]
    problems = _replication_problems(loads, named=not single)
    if problems and not force:
        raise ScenarioError(problems)
    if not force:
        _check_total(loads, replications, None)
    return loads[0] if single else loads


def check_design(scenarios: Sequence[Scenario], points: int, replications: int, force: bool = False) -> list[Workload]:
    """The check of :func:`check` for an uncertainty design, before its scenarios are built:
    ``scenarios`` (the baseline and options as given) are each run at ``points`` parameter
    points, so the total is estimated from their expected referrals times ``points``, and a
    total beyond :data:`MAX_TOTAL_REFERRALS` names ``samples`` (the argument that sets the
    points). Each sampled scenario's own replication is checked once it is built
    (:func:`check_replications`).
    """
    loads = [estimate(sc, replications) for sc in scenarios]
    problems = _replication_problems(loads, named=True)
    if problems and not force:
        raise ScenarioError(problems)
    if not force:
        _check_total(loads, replications, points)
    return loads


def check_replications(scenarios: Sequence[Scenario], replications: int, points: int, force: bool = False) -> None:
    """The limits of :func:`check` on the built scenarios of an uncertainty design (every
    point's baseline and options): each one's replication (at most five lines of problems),
    then the total again, naming ``samples``: a parameter that raises demand (a referral
    volume) makes the built scenarios' total exceed :func:`check_design`'s estimate from the
    scenarios as given."""
    loads = [estimate(sc, replications) for sc in scenarios]
    problems = _replication_problems(loads, named=True)
    if problems and not force:
        raise ScenarioError(problems[:5])
    if not force:
        _check_total(loads, replications, points, built=True)

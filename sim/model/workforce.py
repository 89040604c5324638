"""Workforce dynamics: posts that fall vacant, are covered by agency staff and are filled again.

A caseload list's capacity (a :class:`~sim.model.pools.CaseloadPool`, in caseload units) is,
without workforce dynamics, posts filled x caseload cap, fixed between dated changes. With
a ``workforce`` block each case-holding **post** of a :class:`StaffGroup` (a team's key
worker and senior key worker posts; any list's posts) lives its own life, as a SimPy
process:

1. a permanent worker is in post (``employee``) until they leave, after an exponential time
   at ``turnover_rate`` leavers per FTE a year (a constant hazard: turnover = leavers / FTE);
2. the post is then **vacant** for a recruitment lag drawn from ``recruitment_lag_days``;
   with probability ``agency_cover_share`` an agency worker covers it from the day it
   falls vacant until the new starter arrives (``agency``: full cap, paid at the premium);
3. the new starter holds ``ramp_up_caseload_share`` of the cap for ``ramp_up_days``
   (``new_starter``), then the full cap (``employee``), and is again subject to turnover.

Capacity in caseload units = the sum over the group's workers (employees, new starters and
agency cover) of their cap (times the ramp-up share for new starters), times
``1 - sickness_rate``, plus any static capacity on the same list (pooled teams without a
block). Every change calls the pool's ``set_capacity``, which never takes units from
families already allocated: a fall below the units held only stops new allocations until
enough plans close.

**Long-run vacancy rate.** Each post alternates between filled spells of mean ``1/r`` years
and vacant spells of mean ``L`` years (whatever their distributions), so by the renewal-reward
theorem the long-run share of time it is vacant is ``L / (1/r + L) = rL / (1 + rL)``; the
posts are independent, so the vacancy count of ``n`` posts is Binomial(n, rL/(1+rL)) at a
random time (the finite-source analogue of an M/G/infinity queue of vacancies).

**Randomness.** Each post draws from its own generator, keyed to (seed, rep, the group's
name, role, post number), never from a family's stream: workforce settings change no
family's draws (common random numbers between options), and a post's history is the same
whatever the other posts do. Every cycle draws exactly three uniforms (leaving time, agency
cover, recruitment lag) whatever the settings, so options that differ only in, say, the
agency share keep the same leavers and lags.

**The log.** A worker's spell in a post is logged as ``start`` / ``end`` rows of the role's
stage (:data:`~sim.vocab.STAFF_STAGES`) with the :class:`~sim.vocab.Staffing` as ``detail``,
the list's service name as ``service``, the group's name as ``locality`` and a worker id
from :data:`WORKER_ID_OFFSET` as ``family_id``; the workforce KPIs and staff costs are
computed from these rows (see :mod:`sim.metrics`).
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.config import Scenario, Workforce, team_workforce
from sim.model.pools import CaseloadPool
from sim.records import EventLog
from sim.vocab import SOCIAL_WORKERS, STAFF_STAGES, Event, Staffing, Stage, team_service

__all__ = [
    "WORKER_ID_OFFSET",
    "WORKFORCE_STREAM",
    "StaffGroup",
    "StaffSpec",
    "StaffedList",
    "WorkforceModel",
    "staffed_lists",
]

WORKER_ID_OFFSET = 2_000_000_000
"""Workers get ids from here in the log's ``family_id`` column (families are below it)."""
WORKFORCE_STREAM = 3
"""The stream kind of workforce generators (:mod:`sim.random` uses 0-2 for arrivals and families)."""

_DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class StaffSpec:
    """The posts of one group on a list at one time: posts, filled posts at day 0, caps and
    the annual cost of a post (``costs.price_year`` prices) by role (a stage of
    :data:`~sim.vocab.STAFF_STAGES`), and the group's workforce settings."""

    name: str
    settings: Workforce
    posts: dict[Stage, int]
    filled: dict[Stage, int]
    caps: dict[Stage, float]
    cost_per_year: dict[Stage, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StaffedList:
    """A caseload list under workforce dynamics in one state of the scenario: its label, a
    :class:`StaffSpec` per group of posts with dynamics, and the static capacity, posts and
    workers in post of any other posts on the list (pooled teams without a block)."""

    label: str
    specs: list[StaffSpec]
    static_capacity: float = 0.0
    static_posts: float = 0.0
    static_in_post: float = 0.0


@dataclass
class _Post:
    role: Stage
    index: int
    rng: np.random.Generator
    staffing: Staffing | None = None
    worker: int = -1
    proc: simpy.Process | None = None


@dataclass
class StaffGroup:
    """One group's posts while the model runs, and the counts of workers by role and staffing."""

    spec: StaffSpec
    posts: dict[Stage, list[_Post]] = field(default_factory=dict)
    counts: dict[tuple[Stage, Staffing], int] = field(default_factory=dict)
    created: dict[Stage, int] = field(default_factory=dict)

    def capacity(self) -> float:
        """Caseload units of the workers in post, after ramp-up and sickness."""
        s = self.spec.settings
        units = sum(
            n * self.spec.caps[role] * (s.ramp_up_caseload_share if staffing == Staffing.NEW_STARTER else 1.0)
            for (role, staffing), n in self.counts.items()
        )
        return units * (1.0 - s.sickness_rate)


class WorkforceModel:
    """The workforce behind one caseload list: its groups' posts as SimPy processes.

    Parameters
    ----------
    env, pool, log
        The simulation, the list's pool (whose capacity this sets) and the event log.
    service
        The list's service name (the ``service`` of the log rows).
    seed, rep
        Key the posts' random streams.
    specs
        The groups with workforce dynamics on this list.
    static_capacity
        Capacity of the list not modelled here (pooled teams without a workforce block).
    ids
        Worker ids, shared by the lists of one run (default: from :data:`WORKER_ID_OFFSET`).
    """

    def __init__(
        self,
        env: simpy.Environment,
        pool: CaseloadPool,
        log: EventLog,
        service: str,
        seed: int,
        rep: int,
        specs: Sequence[StaffSpec],
        static_capacity: float = 0.0,
        ids: Iterator[int] | None = None,
    ):
        self.env, self.pool, self.log, self.service = env, pool, log, service
        self.seed, self.rep = seed, rep
        self.groups = {spec.name: StaffGroup(spec) for spec in specs}
        self.static_capacity = static_capacity
        self._ids = ids if ids is not None else itertools.count(WORKER_ID_OFFSET)
        self._live = False  # capacity is set once all posts are staffed at day 0

    # ------------------------------------------------------------------ set-up and changes
    def start(self) -> None:
        """Staff the posts at day 0 (filled posts by employees at the full cap; the others
        vacant, with their lag and agency cover drawn now) and set the pool's capacity."""
        for group in self.groups.values():
            for role in STAFF_STAGES:
                group.posts[role] = []
                group.created[role] = 0
                filled = group.spec.filled.get(role, 0)
                for i in range(group.spec.posts.get(role, 0)):
                    self._open_post(group, role, filled=i < filled)
        self._live = True
        self._set_capacity()

    def update(self, specs: Sequence[StaffSpec], static_capacity: float) -> None:
        """A dated change: new caps, and posts added (vacant, recruited to) or removed (the
        highest-numbered first; their worker leaves on the day)."""
        self.static_capacity = static_capacity
        for spec in specs:
            group = self.groups[spec.name]
            group.spec = spec
            for role in STAFF_STAGES:
                posts = group.posts[role]
                want = spec.posts.get(role, 0)
                while len(posts) > want:
                    post = posts.pop()
                    assert post.proc is not None
                    post.proc.interrupt()
                while len(posts) < want:
                    self._open_post(group, role, filled=False)
        self._set_capacity()

    def capacity(self) -> float:
        """The list's capacity now, in caseload units."""
        return self.static_capacity + sum(g.capacity() for g in self.groups.values())

    def _set_capacity(self) -> None:
        self.pool.set_capacity(self.capacity())

    def _open_post(self, group: StaffGroup, role: Stage, filled: bool) -> None:
        index = group.created[role]
        group.created[role] = index + 1
        key = (self.rep, WORKFORCE_STREAM, zlib.crc32(group.spec.name.encode()), STAFF_STAGES.index(role), index)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key)))
        post = _Post(role, index, rng)
        group.posts[role].append(post)
        if filled:
            self._begin(group, post, Staffing.EMPLOYEE, new_worker=True)
            post.proc = self.env.process(self._employed(group, post, ramping=False))
        else:
            post.proc = self.env.process(self._vacant(group, post, *self._vacancy(group, post)))

    # ------------------------------------------------------------------ a post's life
    def _vacancy(self, group: StaffGroup, post: _Post) -> tuple[float, bool]:
        """A post falls vacant: draw its recruitment lag and whether agency covers it (the
        agency worker starts at once)."""
        s = group.spec.settings
        covered = bool(post.rng.random() < s.agency_cover_share)
        lag = s.recruitment_lag_days.ppf(float(post.rng.random()))
        if covered:
            self._begin(group, post, Staffing.AGENCY, new_worker=True)
        return lag, covered

    def _vacant(self, group: StaffGroup, post: _Post, lag: float, covered: bool) -> Generator[simpy.Event, Any, None]:
        try:
            yield self.env.timeout(lag)
            if covered:
                self._end(group, post)
            ramping = group.spec.settings.ramp_up_days > 0
            self._begin(group, post, Staffing.NEW_STARTER if ramping else Staffing.EMPLOYEE, new_worker=True)
        except simpy.Interrupt:
            self._abolish(group, post)
            return
        yield from self._employed(group, post, ramping)

    def _employed(self, group: StaffGroup, post: _Post, ramping: bool) -> Generator[simpy.Event, Any, None]:
        """A permanent worker in post until they leave; then a vacancy, and so on."""
        try:
            while True:
                s = group.spec.settings
                u = float(post.rng.random())
                rate = s.turnover_rate / _DAYS_PER_YEAR
                stay = -math.log1p(-u) / rate if rate > 0 else math.inf
                if ramping and stay > s.ramp_up_days:
                    yield self.env.timeout(s.ramp_up_days)
                    self._end(group, post, keep_worker=True)
                    self._begin(group, post, Staffing.EMPLOYEE, new_worker=False)
                    stay -= s.ramp_up_days
                if math.isinf(stay):
                    yield self.env.event()  # stays until the end of the run (or the post goes)
                yield self.env.timeout(stay)
                self._end(group, post)
                lag, covered = self._vacancy(group, post)
                yield self.env.timeout(lag)
                if covered:
                    self._end(group, post)
                ramping = s.ramp_up_days > 0
                self._begin(group, post, Staffing.NEW_STARTER if ramping else Staffing.EMPLOYEE, new_worker=True)
        except simpy.Interrupt:
            self._abolish(group, post)

    def _abolish(self, group: StaffGroup, post: _Post) -> None:
        """A post removed by a dated change: its worker (employee or agency) goes on the day."""
        if post.staffing is not None:
            self._end(group, post)

    # ------------------------------------------------------------------ spells
    def _begin(self, group: StaffGroup, post: _Post, staffing: Staffing, new_worker: bool) -> None:
        if new_worker:
            post.worker = next(self._ids)
        post.staffing = staffing
        key = (post.role, staffing)
        group.counts[key] = group.counts.get(key, 0) + 1
        self.log.add(self.env.now, post.worker, 0, Event.START, post.role, self.service, staffing, group.spec.name)
        if self._live:
            self._set_capacity()

    def _end(self, group: StaffGroup, post: _Post, keep_worker: bool = False) -> None:
        assert post.staffing is not None
        key = (post.role, post.staffing)
        group.counts[key] -= 1
        self.log.add(self.env.now, post.worker, 0, Event.END, post.role, self.service, post.staffing, group.spec.name)
        post.staffing = None
        if not keep_worker:
            post.worker = -1
        if self._live:
            self._set_capacity()


def staffed_lists(state: Scenario) -> dict[str, StaffedList]:
    """Every caseload list under workforce dynamics in a state of the scenario, by service name.

    This is the one place a list is put under workforce dynamics; the model, the KPI
    catalogue, the workforce KPIs and the staff costs all read it. Here: the key worker
    lists (a team's, or the pool) with at least one team under a ``workforce`` block, and
    the social workers (:data:`~sim.vocab.SOCIAL_WORKERS`, role ``social_worker``) when
    ``social_care.statutory.social_workers.workforce`` is given. To put another case-holding
    list under it, add its entry here (its block, posts, filled posts, cap and annual cost
    under a role of :data:`~sim.vocab.STAFF_STAGES`) and its service to
    ``World.caseload_services``.
    """
    from sim.kpis.catalogue import key_worker_lists  # the KPI catalogue reads this function too

    out: dict[str, StaffedList] = {}
    lists = key_worker_lists(state)
    pooled = state.early_help.allocation == "pooled"
    for service, label in lists.items():
        teams = [n for n in state.teams if pooled or team_service(n) == service]
        if any(team_workforce(state, n) is not None for n in teams):
            out[service] = _key_worker_list(state, label, teams)
    sc = state.social_care
    sw = sc.statutory.social_workers if sc is not None and sc.statutory is not None else None
    if sw is not None and sw.workforce is not None:
        role = Stage.SOCIAL_WORKER
        c = state.costs
        spec = StaffSpec(
            SOCIAL_WORKERS,
            sw.workforce,
            posts={role: sw.posts},
            filled={role: sw.filled},
            caps={role: float(sw.caseload_cap)},
            cost_per_year={role: c.gbp(c.social_care.social_worker_per_year)},
        )
        out[SOCIAL_WORKERS] = StaffedList("social workers", [spec])
    return out


def _key_worker_list(state: Scenario, label: str, teams: Sequence[str]) -> StaffedList:
    c = state.costs
    sal = c.staff
    kw, senior = Stage.KEY_WORKER, Stage.SENIOR_KEY_WORKER
    cost = {
        kw: c.gbp(sal.key_worker_per_year),
        senior: c.gbp(sal.senior_key_worker_per_year or sal.key_worker_per_year),
    }
    specs: list[StaffSpec] = []
    static = [0.0, 0.0, 0.0]
    for name in teams:
        t = state.teams[name]
        wf = team_workforce(state, name)
        if wf is None:
            static[0] += t.slots
            static[1] += t.workers + t.senior_workers
            static[2] += t.in_post
            continue
        specs.append(
            StaffSpec(
                name,
                wf,
                posts={kw: t.workers, senior: t.senior_workers},
                filled={kw: t.filled, senior: t.senior_filled},
                caps={kw: float(t.caseload_cap), senior: float(t.senior_caseload_cap)},
                cost_per_year=cost,
            )
        )
    return StaffedList(label, specs, *static)

"""The SimPy world: services and the family journey.

One process per family carries it through its whole history: referral -> front door ->
(panel) -> Level 2 / Level 3 plan -> closure, with loops to social care (and MST), step-down
back into early help and re-referral. Handlers for each stage return ``(next, reason)``:
``next`` is another stage, ``SOCIAL_CARE`` (the early help episode ends escalated) or
``CLOSED``; ``reason`` is then the :class:`~sim.vocab.Exit` logged.

Every random number a family uses comes from ``family.rng`` in a fixed order at each
decision point (hazards are drawn on joining a queue whether or not a slot is free), which
keeps common random numbers aligned between scenarios.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from sim.config import Referrals, Scenario, Source, timeline
from sim.distributions import Distribution
from sim.model.arrivals import referral_schedule
from sim.model.common import (
    CLOSED,
    DONE,
    LEVEL2_NEXT,
    LEVEL3_NEXT,
    Deadlines,
    KindLogger,
    Place,
    Proc,
    RowLogger,
    StartedProcess,
    arrivals,
    choose,
    hold,
    row_loggers,
)
from sim.model.family import AttributeTables, Family, FamilyMaker
from sim.model.fates import Fates, WaitKinds
from sim.model.needs import REFERRED, Chain, rate_matrix, start_level, worsen_matrix
from sim.model.needs import path as need_path
from sim.model.pools import CaseloadPool, CaseloadService
from sim.model.statutory import StatutoryCare, _statutory
from sim.model.supports import GroupPlace, Supports
from sim.model.workforce import WORKER_ID_OFFSET, WorkforceModel, staffed_lists
from sim.random import (
    INITIAL_FAMILIES,
    FamilyStreams,
    arrival_generator,
    sc_arrival_generator,
)
from sim.records import EventLog
from sim.routing import NODES, allowed
from sim.vocab import (
    LEAVE_ALLOCATED,
    NEED_EXITS,
    NEED_LEVELS,
    PANEL_DECISIONS,
    PARTNER_SERVICE,
    POOLED_SERVICE,
    REFERRAL_INITIAL,
    REFERRAL_RE,
    REFERRAL_STEP_DOWN,
    SC_OUTCOMES,
    SOCIAL_CARE,
    SOCIAL_CARE_CLOSED,
    SOCIAL_WORKERS,
    TRIAGE_BY_NEED,
    TRIAGE_DECISIONS,
    Exit,
    team_service,
)

__all__ = ["World", "simulate"]

INITIAL_ID_OFFSET = 1_000_000_000
"""Families in the initial state get ids from here, so arriving families keep ids 0, 1, ..."""

_INF = math.inf
_ROUTES = {here: frozenset(nxt for nxt in NODES if allowed(here, nxt)) for here in NODES}
"""Where :func:`sim.routing.allowed` lets a family go from each stage (looked up once a step)."""
NO_ESCALATION = (0.0, 1.0)
"""Hazard factors (escalation, withdrawal) for the queues of edge-of-care services."""


class _PanelTicket(Place):
    """A place in the panel's queue; triggered when the case is heard. Cancelling only marks
    the ticket (O(1), whatever the queue's length); the next meeting drops marked tickets."""

    __slots__ = ()

    def __init__(self, env: simpy.Environment, queue: list[tuple[_PanelTicket, Family]], fam: Family):
        super().__init__(env)
        queue.append((self, fam))


class World(StatutoryCare, Supports, Fates):
    """Builds the services of one scenario and runs one replication."""

    def __init__(self, scenario: Scenario, seed: int, rep: int):
        self.sc = scenario
        self.seed = seed
        self.rep = rep
        self.env = simpy.Environment()
        self.log = EventLog()
        self._log: RowLogger
        self._log_kind: KindLogger
        self._log, self._log_kind = row_loggers(self.log, self.env)
        self._kind = self.log.register_kind
        self.families: list[Family] = []
        self.tables = AttributeTables.build(scenario)
        env = self.env
        fd = scenario.front_door
        # triage staff as a pool of unit requests (the same order as simpy.Resource; its
        # capacity can change on a dated change of front_door.staff)
        self.triage = CaseloadPool(env, "front_door", fd.staff) if fd is not None and fd.staff > 0 else None
        pp = scenario.partner_plans
        self.partner = None
        if pp is not None:
            slots = _INF if pp.capacity is None else pp.capacity
            self.partner = CaseloadService(env, PARTNER_SERVICE, slots, False)
        eh = scenario.early_help
        by_risk = eh.queue_discipline == "risk"
        if eh.allocation == "pooled":
            pool = CaseloadService(env, POOLED_SERVICE, sum(t.slots for t in scenario.teams.values()), by_risk)
            self.team_for = {loc: pool for loc in scenario.localities}
            self.team_for.update({name: pool for name in scenario.teams})
        else:
            self.team_for = {
                name: CaseloadService(env, team_service(name), t.slots, by_risk) for name, t in scenario.teams.items()
            }
        mst, fgc, fmh = scenario.mst, scenario.fgc, scenario.family_mental_health
        self.mst = CaseloadService(env, "mst", mst.slots, False) if mst is not None else None
        self.fgc = CaseloadService(env, "fgc", fgc.slots, False) if fgc is not None else None
        self.fmh = CaseloadService(env, "fmh", fmh.slots, False) if fmh is not None else None
        st = _statutory(scenario)
        self.social_workers = None
        if st is not None:
            slots = st.social_workers.slots if st.social_workers is not None else _INF
            self.social_workers = CaseloadService(env, SOCIAL_WORKERS, slots, False)
        self.workforce = self._build_workforce()
        self.panel_queue: list[tuple[_PanelTicket, Family]] = []
        self._deadlines = Deadlines(env, end=scenario.run.duration_days)  # World.run runs until then
        self.parenting_list: deque[GroupPlace] = deque()
        wt = scenario.waiting
        self._hazards = wt.active
        esc = wt.escalation  # read once, at the start: the escalation hazard's constants
        self._esc_params = (esc.base_per_day, esc.risk_multiplier, esc.growth_per_day)
        self._escalates = esc.base_per_day > 0  # (else its uniform is drawn, its time never worked out)
        self._withdraw = wt.withdrawal_per_day
        needs = scenario.needs
        self._need_q = {str(k): Chain(rate_matrix(needs, k)) for k in NEED_EXITS} if needs is not None else {}
        self._wait_q = Chain(worsen_matrix(needs)) if needs is not None and needs.worsen_while_waiting else None
        # needs and the run's length cannot change during a run (sim.config.RUNTIME_KEYS)
        levels = range(1, len(NEED_LEVELS) + 1)
        self._need_start = (
            {str(k): [0, *(start_level(needs, k, n) for n in levels)] for k in NEED_EXITS} if needs is not None else {}
        )
        """By exit kind, the level of need (1-4) an episode ending that way leaves a family of
        each level at (indexed by the level)."""
        self._horizon = scenario.run.duration_days
        kind = self._kind
        self._exit_kinds = {str(x): kind("exit", "closed", "", x) for x in Exit}
        self._referral_kinds: dict[tuple[str, str], int] = {}
        self._waits: dict[tuple[str, str], WaitKinds] = {}
        self._level3_of = {
            where: (
                svc,
                self._wait_kinds("level3", svc.name),
                {outcome: kind("end", "level3", svc.name, outcome) for outcome in LEVEL3_NEXT},
            )
            for where, svc in self.team_for.items()
        }
        """Each locality's (and team's) Level 3 list with the kinds of its rows (a wait's, and
        the end's by outcome)."""
        self._fd_kinds = self._wait_kinds("front_door", "front_door")
        self._fd_ends = {where: kind("end", "front_door", "front_door", where) for where in TRIAGE_DECISIONS}
        self._panel_ends = {d: kind("end", "panel", "panel", d) for d in PANEL_DECISIONS}
        self._level2_kinds = (
            self._wait_kinds("level2", PARTNER_SERVICE),
            {outcome: kind("end", "level2", PARTNER_SERVICE, outcome) for outcome in LEVEL2_NEXT},
        )
        """The kinds of the front door's, the panel's and the partner list's rows."""
        self.handlers: dict[str, Callable[[Family], Proc]] = {
            "front_door": self._front_door,
            "panel": self._panel,
            "level2": self._level2,
            "level3": self._level3,
            "mst": self._mst_direct,
        }

    def caseload_services(self) -> dict[str, CaseloadService]:
        """Every caseload list of the run by service name (a list under workforce dynamics
        must be here)."""
        out = {svc.name: svc for svc in self.team_for.values()}
        for svc in (self.partner, self.mst, self.fgc, self.fmh, self.social_workers):
            if svc is not None:
                out[svc.name] = svc
        return out

    def _build_workforce(self) -> dict[str, WorkforceModel]:
        """A :class:`WorkforceModel` for each list of :func:`~sim.model.workforce.staffed_lists`
        (none without a ``workforce`` block: the model is then exactly as before)."""
        staffed = staffed_lists(self.sc)
        if not staffed:
            return {}
        ids = itertools.count(WORKER_ID_OFFSET)
        services = self.caseload_services()
        return {
            service: WorkforceModel(
                self.env,
                services[service].pool,
                self.log,
                service,
                self.seed,
                self.rep,
                sl.specs,
                sl.static_capacity,
                ids,
            )
            for service, sl in staffed.items()
        }

    def _start_workforce(self) -> Proc:
        """Staff the posts at day 0, after the initial state's families have taken their slots
        (they were allocated under the scenario's static capacity)."""
        for model in self.workforce.values():
            model.start()
        yield from ()

    # ------------------------------------------------------------------ running
    def run(self) -> None:
        sc = self.sc
        horizon = sc.run.duration_days
        times, src = referral_schedule(
            sc.referrals,
            sc.run.start_date,
            horizon,
            arrival_generator(self.seed, self.rep),
            self.tables.volume if self.tables.locality_growth else None,
        )
        st = _statutory(sc)
        sc_rows, sc_first = self._sc_stock(st) if st is not None and st.initial_stock is not None else ([], [])
        self._start_initial_state(sc_rows)
        for fam, first in sc_first:
            self.env.process(self._sc_life(fam, self._statutory(fam, "", first=first)))
        if self.workforce:
            self.env.process(self._start_workforce())
        self._arrivals(times, src)
        if st is not None and st.inflow is not None:
            inflow = st.inflow
            per_family = sc.family.children_mean
            refs = Referrals(
                seasonality=inflow.seasonality,
                sources={
                    k: Source(annual_rate=v.children_per_year / per_family, annual_growth=v.annual_growth)
                    for k, v in inflow.sources.items()
                },
            )
            sc_times, sc_src = referral_schedule(
                refs, sc.run.start_date, horizon, sc_arrival_generator(self.seed, self.rep)
            )
            self._sc_arrivals(sc_times, sc_src, list(inflow.sources))
        if sc.panel is not None:
            self.env.process(self._panel_meetings())
        if sc.parenting_groups is not None:
            self.env.process(self._parenting_cohorts())
        if sc.changes:
            self.env.process(self._dated_changes())
        self.env.run(until=horizon)

    def discard(self) -> None:
        """Let the finished run be freed by reference counts: drop the scheduler's queue, the
        caseload lists, the panel's queue and the deadlines, and cut each pending event from
        the processes waiting on it. A process still waiting at the end (a family on a list or
        in a plan) is a reference cycle through its generator back to the world; cut, it is
        freed at once instead of being scanned and freed by the garbage collector (thousands
        of families on an overloaded list). The world cannot run on afterwards."""
        env = self.env
        pending: list[simpy.Event] = [entry[3] for entry in env._queue]
        env._queue.clear()
        pools = {id(svc.pool): svc.pool for svc in self.caseload_services().values()}
        if self.triage is not None:
            pools[id(self.triage)] = self.triage
        for pool in pools.values():
            pending += pool.discard()
        pending += [ticket for ticket, _ in self.panel_queue]
        self.panel_queue.clear()
        self._deadlines.discard()
        for event in pending:
            event.callbacks = None  # type: ignore[assignment]

    def _dated_changes(self) -> Proc:
        """Each dated change takes effect on its day: the scenario in force is replaced and
        every caseload list and the front door get their new capacity (families already
        allocated keep theirs); a list under workforce dynamics gets its new posts and caps
        instead."""
        for day, state in timeline(self.sc)[1:]:
            yield hold(self.env, day - self.env.now)
            self.sc = state
            if self.triage is not None and state.front_door is not None:
                self.triage.set_capacity(state.front_door.staff)
            staffed = staffed_lists(state)
            for service, model in self.workforce.items():
                model.update(staffed[service].specs, staffed[service].static_capacity)
            pooled = state.early_help.allocation == "pooled"
            for name, svc in self.team_for.items():
                if name in state.teams and svc.name not in self.workforce:
                    slots = sum(t.slots for t in state.teams.values()) if pooled else state.teams[name].slots
                    svc.pool.set_capacity(slots)
            pp = state.partner_plans
            if self.partner is not None and pp is not None:
                self.partner.pool.set_capacity(math.inf if pp.capacity is None else pp.capacity)
            for edge, conf in ((self.mst, state.mst), (self.fgc, state.fgc), (self.fmh, state.family_mental_health)):
                if edge is not None and conf is not None:
                    edge.pool.set_capacity(conf.slots)
            st = _statutory(state)
            sw = st.social_workers if st is not None else None
            if self.social_workers is not None and sw is not None and SOCIAL_WORKERS not in self.workforce:
                self.social_workers.pool.set_capacity(sw.slots)

    def _arrivals(self, times: np.ndarray, src: np.ndarray) -> None:
        """The referred families, each made and started at its referral time (:func:`arrivals`)."""
        env = self.env
        names = list(self.sc.referrals.sources)
        entries = [s.entry for s in self.sc.referrals.sources.values()]
        make = FamilyMaker(FamilyStreams(self.seed, self.rep), self.tables, _asks_risk(self.sc)).make
        families, life = self.families, self._life
        at, source = times.tolist(), src.tolist()

        def arrive(i: int) -> None:
            fam = make(i, i, now=at[i])
            families.append(fam)
            s = source[i]
            StartedProcess(env, life(fam, entries[s], names[s]))

        arrivals(env, at, arrive)

    def _start_initial_state(self, sc_rows: list[tuple[float, Family, str, str]]) -> None:
        """Families already on plans or waiting at day 0, with time already spent drawn from
        ``initial_state.open_elapsed`` / ``waiting_elapsed``. Their history before day 0 is
        logged at negative times, in time order, before anything else, merged with the
        starts of social care cases open at day 0 (``sc_rows``: time, family, stage, detail)."""
        init = self.sc.initial_state
        maker = FamilyMaker(FamilyStreams(self.seed, self.rep, INITIAL_FAMILIES), self.tables)
        starts: list[tuple[bool, float, int, Family]] = []
        for team_name, counts in init.teams.items():
            for is_open, n, dist in (
                (True, counts.open_plans, init.open_elapsed),
                (False, counts.waiting, init.waiting_elapsed),
            ):
                for _ in range(n):
                    k = len(self.families)
                    fam = maker.make(INITIAL_ID_OFFSET + k, k, locality=team_name)
                    self.families.append(fam)
                    elapsed = dist.ppf(fam.rng.u()) if dist is not None else 0.0
                    starts.append((is_open, elapsed, k, fam))
        history = []
        for is_open, elapsed, k, fam in starts:
            service = self.team_for[fam.locality].name
            history += [
                (-elapsed, 0, k, 0, fam, "referral", "level3", "", REFERRAL_INITIAL),
                (-elapsed, 0, k, 1, fam, "join", "level3", service, ""),
            ]
            if is_open:
                history.append((-elapsed, 0, k, 2, fam, "start", "level3", service, ""))
        for k, (t, fam, stage, detail) in enumerate(sc_rows):
            if stage == "assessment":  # allocated at once: join and start together
                history.append((t, 1, k, 0, fam, "join", stage, SOCIAL_WORKERS, detail))
            history.append((t, 1, k, 1, fam, "start", stage, SOCIAL_WORKERS, detail))
        for t, _, _, _, fam, event, stage, service, detail in sorted(history, key=lambda h: h[:4]):
            self._log(fam, event, stage, service, detail, t)
        # open plans take their slots first, then the waiting list, longest wait first
        starts.sort(key=lambda s: (not s[0], -s[1], s[2]))
        for is_open, elapsed, _, fam in starts:
            first = self._level3(fam, elapsed=elapsed, initial_open=is_open, initial_waiting=not is_open)
            self.env.process(self._life(fam, "level3", REFERRAL_INITIAL, first=first))

    # ------------------------------------------------------------------ journey
    def _life(self, fam: Family, entry: str, source: str, first: Proc | None = None) -> Proc:
        """A family's whole history, episode after episode."""
        nxt, reason = entry, source
        handlers, log_kind = self.handlers, self._log_kind
        while True:
            if first is not None:
                nxt, reason = yield from first
                first = None
            else:
                log_kind(fam, self._referral_kind(nxt, source))
            while nxt in handlers:
                here = nxt
                nxt, reason = yield from handlers[here](fam)
                if nxt not in _ROUTES[here]:  # the routing table is the one statement of the graph
                    raise RuntimeError(f"route {here} -> {nxt} is not in sim.routing.EDGES")
            log_kind(fam, self._exit_kinds[reason])  # reason: an Exit
            if nxt == SOCIAL_CARE:
                nxt, source = yield from self._social_care(fam, reason)
                # need dynamics after social care closes, on the simple path only: the statutory
                # path has its own re-referral to social care (statutory.rereferral_prob, DfE's
                # 12-month measure), and both would count the same return twice
                simple = nxt == DONE and self._need_q and _statutory(self.sc) is None
                gap = self._gap(fam, SOCIAL_CARE_CLOSED) if simple else None
            else:  # (no call when nobody is re-referred)
                nxt, source = DONE, ""
                gap = self._gap(fam, reason) if self._need_q or self.sc.rereferral.prob_within_12_months > 0 else None
            if gap is not None:  # re-referred after ``gap[0]`` days, at level of need ``gap[1]``
                yield hold(self.env, gap[0])
                if gap[1] != fam.need:  # an unchanged level keeps its risk score (no Beta inverse CDF again)
                    fam.set_need(gap[1], self.tables)
                nxt, source = "front_door", REFERRAL_RE
            if nxt == DONE:
                fam.rng.release()  # nothing draws for this family again
                return
            fam.episode += 1

    def _referral_kind(self, stage: str, source: str) -> int:
        """The kind of a referral row into ``stage`` from ``source`` (registered on first use)."""
        kind = self._referral_kinds.get((stage, source))
        if kind is None:
            kind = self._referral_kinds[stage, source] = self._kind("referral", stage, "", source)
        return kind

    def _gap(self, fam: Family, exit_kind: str) -> tuple[float, int] | None:
        """After an episode closes (``exit_kind``): ``None`` if the family is not referred
        again, else the days until its re-referral and its level of need then. With needs, the
        family's need follows the chain of :mod:`sim.model.needs` from its level at closure
        until a new referral, leaving, or the end of the run; else it is re-referred with
        ``rereferral.prob_within_12_months``, at a uniform time within ``timing_days``. (No
        generator: the caller waits, when there is anything to wait for.)"""
        if self._need_q:
            level = self._need_start[exit_kind][fam.need]
            steps = need_path(self._need_q[exit_kind], level - 1, fam.rng.u, self._horizon - self.env.now)
            t, state = steps[-1]
            if state != REFERRED:
                return None
            return t, steps[-2][1] + 1
        p = self.sc.rereferral.prob_within_12_months
        if p <= 0:
            return None
        u, v = fam.rng.u(), fam.rng.u()
        if u >= p:
            return None
        return v * self.sc.rereferral.timing_days, fam.need

    # ------------------------------------------------------------------ stages
    def _front_door(self, fam: Family) -> Proc:
        fd = self.sc.front_door
        assert fd is not None and self.triage is not None
        triage = self.triage
        req = triage.request(polled=True)
        kinds = self._fd_kinds
        leave = self._join(fam, kinds, req)
        if leave is not None:
            yield req
            why = self._served(fam, kinds, req, leave)
            if why:
                return self._left(why)
        u = fam.rng.u
        yield hold(self.env, fd.triage_time.ppf(u()))
        u1, u2, u3 = u(), u(), u()
        if u1 < fd.insufficient_info_prob:
            where = "panel"
        else:
            level, v = fam.need, u3  # v: u3 as a fresh uniform once the direction has used it
            if u2 < fd.misclassification_prob:
                up = fd.misclassification_up_share
                level, v = (min(4, level + 1), u3 / up) if u3 < up else (max(1, level - 1), (u3 - up) / (1 - up))
            where = TRIAGE_BY_NEED[level - 1]
            if where == "level3" and v < fd.level3_partner_led_prob:  # judged suitable for a partner-led plan
                where = "level2"
        self._log_kind(fam, self._fd_ends[where])
        triage.release(req)  # after the end row: the family it serves starts after it
        if where == "advice":
            return (CLOSED, Exit.ADVICE)
        if where == "social_care":
            return (SOCIAL_CARE, Exit.TO_SOCIAL_CARE_FRONT_DOOR)
        return (where, "")

    def _panel(self, fam: Family) -> Proc:
        panel = self.sc.panel
        assert panel is not None
        ticket = _PanelTicket(self.env, self.panel_queue, fam)
        kinds = self._wait_kinds("panel", "panel")
        leave = self._join(fam, kinds, ticket)
        if leave is not None:
            yield ticket
            why = self._served(fam, kinds, ticket, leave)
            if why:
                return self._left(why)
        decision = choose(fam.rng.u(), panel.decision_probs, PANEL_DECISIONS)
        self._log_kind(fam, self._panel_ends[decision])
        if decision == "no_plan":
            return (CLOSED, Exit.NO_PLAN)
        if decision == "social_care":
            return (SOCIAL_CARE, Exit.TO_SOCIAL_CARE_PANEL)
        return (decision, "")

    def _panel_meetings(self) -> Proc:
        env, queue = self.env, self.panel_queue
        assert self.sc.panel is not None
        yield hold(env, self.sc.panel.first_meeting_day)
        while True:
            panel = self.sc.panel  # read at every meeting: a dated change may alter the cycle
            assert panel is not None
            queue[:] = [item for item in queue if not item[0].cancelled]  # tickets withdrawn since
            if panel.order == "risk":
                queue.sort(key=lambda item: -item[1].risk)  # stable: FIFO among equal risk
            heard = queue[: panel.capacity_per_meeting]
            del queue[: panel.capacity_per_meeting]
            for ticket, _ in heard:
                ticket.succeed()
            yield hold(env, panel.interval_days)

    def _level2(self, fam: Family) -> Proc:
        pp = self.sc.partner_plans
        assert pp is not None and self.partner is not None
        svc = self.partner
        req = svc.request(fam, polled=True)
        kinds, ends = self._level2_kinds
        leave = self._join(fam, kinds, req)
        if leave is not None:
            yield req
            why = self._served(fam, kinds, req, leave)
            if why:
                return self._left(why)
        t, outcome = self._plan(fam, pp)
        yield hold(self.env, t)
        self._log_kind(fam, ends[outcome])
        svc.release(req)
        return LEVEL2_NEXT[outcome]

    def _level3(
        self, fam: Family, elapsed: float = 0.0, initial_open: bool = False, initial_waiting: bool = False
    ) -> Proc:
        svc, kinds, k_end = self._level3_of[fam.locality]
        req = svc.request(fam, polled=not initial_open)
        plan_elapsed, step_up_factor = 0.0, 1.0
        if initial_open:  # the slot is free at day 0 (validated); join and start were logged
            yield req
            plan_elapsed = elapsed
        else:
            sc = self.sc
            # (no call when there is nothing to enrol in or refer to: no uniform is drawn then)
            group, factors = (
                self._enrol_parenting(fam, not req.triggered)
                if not initial_waiting and sc.parenting_groups is not None
                else (None, (1.0, 1.0))
            )
            if self._hazards or self._wait_q is not None:
                leave = self._join(fam, kinds, req, elapsed, not initial_waiting, factors)
                if leave is not None:
                    yield req
                    why = self._served(fam, kinds, req, leave)
                    if group is not None:  # no longer waiting: off the parenting list unless in a group
                        self._stop_waiting(group, why or LEAVE_ALLOCATED)
                    if why:
                        return self._left(why)
            else:  # no hazards, need fixed while waiting: :meth:`_join` and :meth:`_served` inline
                # (the M/M/c reduction's path: two calls less a family)
                if not initial_waiting:
                    self._log_kind(fam, kinds.join)
                if not req.triggered:
                    yield req
                self._log_kind(fam, kinds.start)
                if group is not None:
                    self._stop_waiting(group, LEAVE_ALLOCATED)
            if sc.fgc is not None or sc.family_mental_health is not None:
                step_up_factor = self._refer_supports(fam)
        t, outcome = self._plan(fam, self.sc.early_help, plan_elapsed, step_up_factor)
        yield hold(self.env, t)
        self._log_kind(fam, k_end[outcome])
        svc.release(req)
        return LEVEL3_NEXT[outcome]

    # ------------------------------------------------------------------ social care
    def _social_care(self, fam: Family, reason: str = "") -> Proc:
        sc = self.sc.social_care
        assert sc is not None
        if sc.statutory is not None:
            return (yield from self._statutory(fam, reason))
        assert sc.assessment_duration is not None and sc.outcome_probs is not None
        env, u = self.env, fam.rng.u
        self._log(fam, "start", "assessment")
        yield hold(env, sc.assessment_duration.ppf(u()))
        outcome = choose(u(), sc.outcome_probs, SC_OUTCOMES)
        self._log(fam, "end", "assessment", "", outcome)
        if outcome in ("cp", "lac"):  # edge of care, in social_care.edge_of_care_order
            fgc, mst = self.sc.fgc, self.sc.mst
            for service in sc.edge_of_care_order:
                # each referral uniform is drawn for every CP/care-bound family, eligible or not
                if (
                    service == "fgc"
                    and fgc is not None
                    and fgc.offer_at == "pre_proceedings"
                    and u() < fgc.referral_prob
                ):
                    assert self.fgc is not None
                    outcome = yield from self._edge_of_care(
                        fam, outcome, self.fgc, fgc.duration, fgc.care_relative_reduction
                    )
                elif (
                    service == "mst"
                    and mst is not None
                    and u() < mst.referral_prob
                    and fam.has_child_aged(mst.age_min, mst.age_max)
                ):
                    assert self.mst is not None
                    outcome = yield from self._edge_of_care(
                        fam, outcome, self.mst, mst.duration, mst.care_relative_reduction
                    )
        if outcome in ("cin", "cp"):
            dist = sc.cin_duration if outcome == "cin" else sc.cp_duration
            self._log(fam, "start", outcome)
            yield hold(env, dist.ppf(u()))
            self._log(fam, "end", outcome)
        elif outcome == "lac":
            placement = "residential" if u() < sc.residential_share else "foster"
            self._log(fam, "start", "lac", "", placement)
            yield hold(env, sc.lac_duration.ppf(u()))
            self._log(fam, "end", "lac", "", placement)
        if u() < sc.step_down_probs[outcome]:
            return ("level3", REFERRAL_STEP_DOWN)
        return (DONE, "")

    def _edge_of_care(
        self, fam: Family, outcome: str, svc: CaseloadService, duration: Distribution, care_reduction: float
    ) -> Generator[simpy.Event, Any, str]:
        """An edge-of-care service (MST, FGC at pre-proceedings) for a CP- or care-bound family.

        Waiting for it does not by itself make care more likely (ASSUMPTION: no source says
        so; the family's social care outcome stands while it waits), so no escalation hazard
        applies in this queue; withdrawing leaves the outcome as it was. After the service, a
        care-bound family avoids care with ``care_reduction``: a service with no effect changes
        no outcome."""
        stage = svc.name
        req = svc.request(fam, polled=True)
        kinds = self._wait_kinds(stage, stage)
        leave = self._join(fam, kinds, req, 0.0, True, NO_ESCALATION, False)
        if leave is not None:
            yield req
            if self._served(fam, kinds, req, leave, False) == "withdrawn":
                return outcome
        yield hold(self.env, duration.ppf(fam.rng.u()))
        averted = outcome == "lac" and fam.rng.u() < care_reduction
        self._log(fam, "end", stage, stage, "care_averted" if averted else "completed")
        svc.release(req)
        return "cp" if averted else outcome

    def _mst_direct(self, fam: Family) -> Proc:
        """A referral straight to MST (youth offending, schools, health): wait, therapy, close.
        No escalation hazard while waiting (as :meth:`_edge_of_care`): the START trial found no
        effect of MST on placements (Fonagy-2018), so waiting for it is not a risk it removes."""
        mst = self.sc.mst
        assert mst is not None and self.mst is not None
        req = self.mst.request(fam, polled=True)
        kinds = self._wait_kinds("mst", "mst")
        leave = self._join(fam, kinds, req, 0.0, True, NO_ESCALATION, False)
        if leave is not None:
            yield req
            why = self._served(fam, kinds, req, leave, False)
            if why:
                return self._left(why)
        yield hold(self.env, mst.duration.ppf(fam.rng.u()))
        self._log(fam, "end", "mst", "mst", "completed")
        self.mst.release(req)
        return (CLOSED, Exit.MST_COMPLETED)


def _asks_risk(scenario: Scenario) -> bool:
    """Whether the run may read most arriving families' risk scores (an escalation hazard that
    grows with risk, a caseload list or panel ordered by risk, needs that change, dated changes that could turn
    any of these on): their scores are then computed a block at a time as they are drawn.
    Else a family computes its own only when asked (the same value: only the cost differs)."""
    panel, esc = scenario.panel, scenario.waiting.escalation
    return bool(
        (esc.base_per_day > 0 and esc.risk_multiplier > 0)
        or scenario.early_help.queue_discipline == "risk"
        or (panel is not None and panel.order == "risk")
        or scenario.needs is not None
        or scenario.changes
    )


def simulate(scenario: Scenario, seed: int, rep: int) -> World:
    """Run one replication and return the finished world (its ``log`` and ``families``)."""
    world = World(scenario, seed, rep)
    world.run()
    return world

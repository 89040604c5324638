"""The SimPy world: services and the family journey.

One process per family carries it through its whole history: referral -> front door ->
(panel) -> Level 2 / Level 3 plan -> closure, with loops to social care (and MST), step-down
back into early help and re-referral. Handlers for each stage return ``(next, reason)``:
``next`` is another stage, ``"social_care"`` (the early help episode ends escalated) or
``"closed"`` (it ends with ``reason``).

Every random number a family uses comes from ``family.rng`` in a fixed order at each
decision point (hazards are drawn on joining a queue whether or not a slot is free), which
keeps common random numbers aligned between scenarios.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy
from simpy.resources.resource import Request

from sim.config import PANEL_DECISIONS, SC_OUTCOMES, PlanSettings, Scenario
from sim.model.arrivals import referral_schedule
from sim.model.family import AttributeTables, Family
from sim.random import INITIAL_FAMILIES, FamilyStreams, arrival_generator
from sim.records import EventLog

__all__ = ["World", "simulate"]

INITIAL_ID_OFFSET = 1_000_000_000
"""Families in the initial state get ids from here, so arriving families keep ids 0, 1, ..."""

_INF = math.inf
Step = tuple[str, str]  # (next stage or "closed" / "social_care" / "done", reason)
Proc = Generator[simpy.Event, Any, Any]


class CaseloadService:
    """A pool of caseload slots (``workers x caseload_cap``); FIFO or highest-risk-first."""

    __slots__ = ("by_risk", "name", "resource")

    def __init__(self, env: simpy.Environment, name: str, slots: float, by_risk: bool):
        self.name = name
        self.by_risk = by_risk
        # zero-slot services receive no demand (validated); unlimited services get inf slots
        capacity: Any = slots if slots > 0 else 1
        self.resource: simpy.Resource = (
            simpy.PriorityResource(env, capacity) if by_risk else simpy.Resource(env, capacity)
        )

    def request(self, fam: Family) -> Request:
        if self.by_risk:
            return self.resource.request(priority=-fam.risk)  # type: ignore[call-arg]
        return self.resource.request()

    def release(self, req: Request) -> None:
        self.resource.release(req)


class _PanelTicket(simpy.Event):
    """A place in the panel's queue; triggered when the case is heard."""

    def __init__(self, env: simpy.Environment, queue: list[tuple[_PanelTicket, Family]], fam: Family):
        super().__init__(env)
        self._queue = queue
        queue.append((self, fam))

    def cancel(self) -> None:
        for i, (ticket, _) in enumerate(self._queue):
            if ticket is self:
                del self._queue[i]
                return


class World:
    """Builds the services of one scenario and runs one replication."""

    def __init__(self, scenario: Scenario, seed: int, rep: int):
        self.sc = scenario
        self.seed = seed
        self.rep = rep
        self.env = simpy.Environment()
        self.log = EventLog()
        self.families: list[Family] = []
        self.tables = AttributeTables.build(scenario)
        env = self.env
        fd = scenario.front_door
        self.triage = simpy.Resource(env, fd.staff) if fd is not None and fd.staff > 0 else None
        pp = scenario.partner_plans
        self.partner = None
        if pp is not None:
            slots = _INF if pp.capacity is None else pp.capacity
            self.partner = CaseloadService(env, "partner", slots, False)
        eh = scenario.early_help
        by_risk = eh.queue_discipline == "risk"
        if eh.allocation == "pooled":
            pool = CaseloadService(env, "team_pool", sum(t.slots for t in scenario.teams.values()), by_risk)
            self.team_for = {loc: pool for loc in scenario.localities}
            self.team_for.update({name: pool for name in scenario.teams})
        else:
            self.team_for = {
                name: CaseloadService(env, f"team_{name}", t.slots, by_risk) for name, t in scenario.teams.items()
            }
        mst = scenario.mst
        self.mst = CaseloadService(env, "mst", mst.slots, False) if mst is not None else None
        self.panel_queue: list[tuple[_PanelTicket, Family]] = []
        wt = scenario.waiting
        self._hazards = wt.active
        self._esc = wt.escalation
        self._withdraw = wt.withdrawal_per_day
        self.handlers: dict[str, Callable[[Family], Proc]] = {
            "front_door": self._front_door,
            "panel": self._panel,
            "level2": self._level2,
            "level3": self._level3,
        }

    # ------------------------------------------------------------------ running
    def run(self) -> None:
        sc = self.sc
        horizon = sc.run.duration_days
        times, src = referral_schedule(sc.referrals, sc.run.start_date, horizon, arrival_generator(self.seed, self.rep))
        self._start_initial_state()
        self.env.process(self._arrivals(times, src))
        if sc.panel is not None:
            self.env.process(self._panel_meetings())
        self.env.run(until=horizon)

    def _arrivals(self, times: np.ndarray, src: np.ndarray) -> Proc:
        env = self.env
        names = list(self.sc.referrals.sources)
        entries = [s.entry for s in self.sc.referrals.sources.values()]
        streams = FamilyStreams(self.seed, self.rep)
        tables, families, life = self.tables, self.families, self._life
        for i, (t, s) in enumerate(zip(times.tolist(), src.tolist())):
            yield env.timeout(max(t - env.now, 0.0))
            fam = Family(i, streams.family(i), tables)
            families.append(fam)
            env.process(life(fam, entries[s], names[s]))

    def _start_initial_state(self) -> None:
        """Families already on plans or waiting at day 0, with time already spent drawn from
        ``initial_state.open_elapsed`` / ``waiting_elapsed``. Their history before day 0 is
        logged at negative times, in time order, before anything else."""
        init = self.sc.initial_state
        streams = FamilyStreams(self.seed, self.rep, INITIAL_FAMILIES)
        starts: list[tuple[bool, float, int, Family]] = []
        for team_name, counts in init.teams.items():
            for is_open, n, dist in (
                (True, counts.open_plans, init.open_elapsed),
                (False, counts.waiting, init.waiting_elapsed),
            ):
                for _ in range(n):
                    k = len(self.families)
                    fam = Family(INITIAL_ID_OFFSET + k, streams.family(k), self.tables, locality=team_name)
                    self.families.append(fam)
                    elapsed = dist.ppf(fam.rng.u()) if dist is not None else 0.0
                    starts.append((is_open, elapsed, k, fam))
        history = []
        for is_open, elapsed, k, fam in starts:
            service = self.team_for[fam.locality].name
            history += [(-elapsed, k, 0, fam, "referral", "", "initial"), (-elapsed, k, 1, fam, "join", service, "")]
            if is_open:
                history.append((-elapsed, k, 2, fam, "start", service, ""))
        for t, _, _, fam, event, service, detail in sorted(history, key=lambda h: h[:3]):
            self._log(fam, event, "level3", service, detail, t)
        # open plans take their slots first, then the waiting list, longest wait first
        starts.sort(key=lambda s: (not s[0], -s[1], s[2]))
        for is_open, elapsed, _, fam in starts:
            first = self._level3(fam, elapsed=elapsed, initial_open=is_open, initial_waiting=not is_open)
            self.env.process(self._life(fam, "level3", "initial", first=first))

    # ------------------------------------------------------------------ logging
    def _log(
        self, fam: Family, event: str, stage: str, service: str = "", detail: str = "", time: float | None = None
    ) -> None:
        self.log.add(
            self.env.now if time is None else time, fam.id, fam.episode, event, stage, service, detail, fam.locality
        )

    # ------------------------------------------------------------------ journey
    def _life(self, fam: Family, entry: str, source: str, first: Proc | None = None) -> Proc:
        """A family's whole history, episode after episode."""
        nxt, reason = entry, source
        handlers = self.handlers
        while True:
            if first is not None:
                nxt, reason = yield from first
                first = None
            else:
                self._log(fam, "referral", nxt, "", source)
            while nxt in handlers:
                nxt, reason = yield from handlers[nxt](fam)
            if nxt == "social_care":
                self._log(fam, "exit", "closed", "", f"to_social_care:{reason}")
                nxt, source = yield from self._social_care(fam)
            else:
                self._log(fam, "exit", "closed", "", reason)
                nxt, source = yield from self._after_closure(fam)
            if nxt == "done":
                fam.rng.release()  # nothing draws for this family again
                return
            fam.episode += 1

    def _after_closure(self, fam: Family) -> Proc:
        p = self.sc.rereferral.prob_within_12_months
        if p <= 0:
            return ("done", "")
        u, v = fam.rng.u(), fam.rng.u()
        if u >= p:
            return ("done", "")
        yield self.env.timeout(v * 365.0)
        return ("front_door", "re_referral")

    def _left(self, why: str) -> Step:
        return ("social_care", "while_waiting") if why == "escalated" else ("closed", "withdrawn")

    def _wait(
        self, fam: Family, stage: str, service: str, req: Any, elapsed: float = 0.0, log_join: bool = True
    ) -> Generator[simpy.Event, Any, str]:
        """Queue for ``req`` with the hazards of escalation and withdrawal.

        Returns ``""`` once served, else ``"escalated"`` or ``"withdrawn"`` after cancelling
        the request (so no slot can leak).
        """
        if log_join:
            self._log(fam, "join", stage, service)
        if self._hazards:
            esc = self._escalation_time(fam, elapsed)
            wd = -math.log1p(-fam.rng.u()) / self._withdraw if self._withdraw > 0 else _INF
            patience = min(esc, wd)
            if patience < _INF:
                yield req | self.env.timeout(patience)
                if not req.triggered:
                    req.cancel()
                    why = "escalated" if esc <= wd else "withdrawn"
                    self._log(fam, "leave", stage, service, why)
                    return why
            else:
                yield req
        else:
            yield req
        self._log(fam, "start", stage, service)
        return ""

    def _escalation_time(self, fam: Family, elapsed: float) -> float:
        """Time to escalation under hazard ``h(t) = base (1 + m risk) exp(g t)``, given
        ``elapsed`` days already waited (inverse of the Gompertz cumulative hazard)."""
        e = -math.log1p(-fam.rng.u())
        esc = self._esc
        a = esc.base_per_day * (1.0 + esc.risk_multiplier * fam.risk)
        if a <= 0:
            return _INF
        g = esc.growth_per_day
        if g == 0:
            return e / a
        return math.log1p(g * e / (a * math.exp(g * elapsed))) / g

    def _plan(self, fam: Family, settings: PlanSettings, elapsed: float = 0.0) -> tuple[float, str]:
        """How long a plan lasts from now and how it ends: ``completed``, ``step_up``,
        ``step_down`` or ``disengage`` (reviews every ``interval_days`` from plan start)."""
        u = fam.rng.u
        dur = settings.duration
        total = dur.ppf(u())
        tries = 0
        while total <= elapsed and tries < 100:  # condition on the plan still being open
            total, tries = dur.ppf(u()), tries + 1
        remaining = total - elapsed if total > elapsed else total
        r = settings.reviews
        if r is None:
            return remaining, "completed"
        u1, u2 = u(), u()
        p = r.step_up_prob + r.step_down_prob + r.disengage_prob
        if p <= 0:
            return remaining, "completed"
        k = 1 if p >= 1 else max(1, math.ceil(math.log1p(-u1) / math.log1p(-p)))
        reviews_done = math.floor(elapsed / r.interval_days)
        t = (reviews_done + k) * r.interval_days - elapsed
        if t >= remaining:
            return remaining, "completed"
        x = u2 * p
        kind = (
            "step_up" if x < r.step_up_prob else "step_down" if x < r.step_up_prob + r.step_down_prob else "disengage"
        )
        return t, kind

    def _hold(
        self, fam: Family, stage: str, svc: CaseloadService, req: Any, settings: PlanSettings, elapsed: float
    ) -> Generator[simpy.Event, Any, str]:
        t, outcome = self._plan(fam, settings, elapsed)
        yield self.env.timeout(t)
        svc.release(req)
        self._log(fam, "end", stage, svc.name, outcome)
        return outcome

    # ------------------------------------------------------------------ stages
    def _front_door(self, fam: Family) -> Proc:
        fd = self.sc.front_door
        assert fd is not None and self.triage is not None
        req = self.triage.request()
        why = yield from self._wait(fam, "front_door", "front_door", req)
        if why:
            return self._left(why)
        yield self.env.timeout(fd.triage_time.ppf(fam.rng.u()))
        self.triage.release(req)
        u1, u2, u3 = fam.rng.u(), fam.rng.u(), fam.rng.u()
        if u1 < fd.insufficient_info_prob:
            where = "panel"
        else:
            level = fam.need
            if u2 < fd.misclassification_prob:
                level = min(4, level + 1) if u3 < 0.5 else max(1, level - 1)
            where = ("advice", "level2", "level3", "social_care")[level - 1]
        self._log(fam, "end", "front_door", "front_door", where)
        if where == "advice":
            return ("closed", "advice")
        if where == "social_care":
            return ("social_care", "front_door")
        return (where, "")

    def _panel(self, fam: Family) -> Proc:
        panel = self.sc.panel
        assert panel is not None
        ticket = _PanelTicket(self.env, self.panel_queue, fam)
        why = yield from self._wait(fam, "panel", "panel", ticket)
        if why:
            return self._left(why)
        decision = _choose(fam.rng.u(), panel.decision_probs, PANEL_DECISIONS)
        self._log(fam, "end", "panel", "panel", decision)
        if decision == "no_plan":
            return ("closed", "no_plan")
        if decision == "social_care":
            return ("social_care", "panel")
        return (decision, "")

    def _panel_meetings(self) -> Proc:
        panel = self.sc.panel
        assert panel is not None
        env, queue = self.env, self.panel_queue
        yield env.timeout(panel.first_meeting_day)
        while True:
            if panel.order == "risk":
                queue.sort(key=lambda item: -item[1].risk)  # stable: FIFO among equal risk
            heard = queue[: panel.capacity_per_meeting]
            del queue[: panel.capacity_per_meeting]
            for ticket, _ in heard:
                ticket.succeed()
            yield env.timeout(panel.interval_days)

    def _level2(self, fam: Family) -> Proc:
        pp = self.sc.partner_plans
        assert pp is not None and self.partner is not None
        svc = self.partner
        req = svc.request(fam)
        why = yield from self._wait(fam, "level2", svc.name, req)
        if why:
            return self._left(why)
        outcome = yield from self._hold(fam, "level2", svc, req, pp, 0.0)
        return {
            "completed": ("closed", "outcomes_met"),
            "step_up": ("level3", ""),
            "step_down": ("closed", "stepped_down"),
            "disengage": ("closed", "disengaged"),
        }[outcome]

    def _level3(
        self, fam: Family, elapsed: float = 0.0, initial_open: bool = False, initial_waiting: bool = False
    ) -> Proc:
        svc = self.team_for[fam.locality]
        req = svc.request(fam)
        plan_elapsed = 0.0
        if initial_open:  # the slot is free at day 0 (validated); join and start were logged
            yield req
            plan_elapsed = elapsed
        else:
            why = yield from self._wait(fam, "level3", svc.name, req, elapsed, log_join=not initial_waiting)
            if why:
                return self._left(why)
        outcome = yield from self._hold(fam, "level3", svc, req, self.sc.early_help, plan_elapsed)
        return {
            "completed": ("closed", "outcomes_met"),
            "step_up": ("social_care", "during_plan"),
            "step_down": ("level2", ""),
            "disengage": ("closed", "disengaged"),
        }[outcome]

    # ------------------------------------------------------------------ social care
    def _social_care(self, fam: Family) -> Proc:
        sc = self.sc.social_care
        assert sc is not None
        env, u = self.env, fam.rng.u
        self._log(fam, "start", "assessment")
        yield env.timeout(sc.assessment_duration.ppf(u()))
        outcome = _choose(u(), sc.outcome_probs, SC_OUTCOMES)
        self._log(fam, "end", "assessment", "", outcome)
        mst = self.sc.mst
        # the referral uniform is drawn for every CP/care-bound family, eligible or not
        if (
            mst is not None
            and outcome in ("cp", "lac")
            and u() < mst.referral_prob
            and fam.has_child_aged(mst.age_min, mst.age_max)
        ):
            outcome = yield from self._mst(fam, outcome)
        if outcome in ("cin", "cp"):
            dist = sc.cin_duration if outcome == "cin" else sc.cp_duration
            self._log(fam, "start", outcome)
            yield env.timeout(dist.ppf(u()))
            self._log(fam, "end", outcome)
        elif outcome == "lac":
            placement = "residential" if u() < sc.residential_share else "foster"
            self._log(fam, "start", "lac", "", placement)
            yield env.timeout(sc.lac_duration.ppf(u()))
            self._log(fam, "end", "lac", "", placement)
        if u() < sc.step_down_probs[outcome]:
            return ("level3", "social_care_step_down")
        return ("done", "")

    def _mst(self, fam: Family, outcome: str) -> Generator[simpy.Event, Any, str]:
        mst = self.sc.mst
        assert mst is not None and self.mst is not None
        svc = self.mst
        req = svc.request(fam)
        why = yield from self._wait(fam, "mst", svc.name, req)
        if why == "escalated":
            return "lac"
        if why == "withdrawn":
            return outcome
        yield self.env.timeout(mst.duration.ppf(fam.rng.u()))
        svc.release(req)
        averted = outcome == "lac" and fam.rng.u() < mst.care_relative_reduction
        self._log(fam, "end", "mst", svc.name, "care_averted" if averted else "completed")
        return "cp" if averted else outcome


def _choose(u: float, probs: dict[str, float], keys: tuple[str, ...]) -> str:
    """The category a uniform falls in, walking ``keys`` in a fixed order (not the YAML's)."""
    acc = 0.0
    for key in keys:
        acc += probs[key]
        if u < acc:
            return key
    return keys[-1]  # rounding: the probabilities sum to 1 within 1e-6


def simulate(scenario: Scenario, seed: int, rep: int) -> World:
    """Run one replication and return the finished world (its ``log`` and ``families``)."""
    world = World(scenario, seed, rep)
    world.run()
    return world

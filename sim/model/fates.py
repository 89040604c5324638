"""The random fates of a wait and of a plan, mixed into :class:`~sim.model.world.World`: a
family on a list is served, escalates or withdraws (:meth:`Fates._join`, the hazards drawn on
joining whether or not a slot is free, so that common random numbers stay aligned), and a plan
lasts so long and ends completed, stepped up, stepped down or disengaged
(:meth:`Fates._plan`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import simpy

from sim.config import PlanSettings, Scenario
from sim.model.common import CLOSED, Deadlines, KindLogger, Place, Step, poisson_ppf
from sim.model.family import AttributeTables, Family
from sim.model.needs import Chain
from sim.model.needs import path as need_path
from sim.vocab import SOCIAL_CARE, Exit

_INF = math.inf


class WaitKinds(NamedTuple):
    """The kinds of the event log rows of a wait on one list (:meth:`Fates._wait_kinds`)."""

    join: int
    start: int
    escalated: int  # a leave row, detail "escalated"
    withdrawn: int  # a leave row, detail "withdrawn"


class Fates:
    """Waits (served, escalated, withdrawn) and plans (length and ending) of a family."""

    if TYPE_CHECKING:  # provided by World
        env: simpy.Environment
        sc: Scenario
        tables: AttributeTables
        _log_kind: KindLogger
        _kind: Callable[..., int]
        _waits: dict[tuple[str, str], WaitKinds]
        _hazards: bool
        _withdraw: float
        _esc_params: tuple[float, float, float]
        _escalates: bool
        _wait_q: Chain | None
        _deadlines: Deadlines

    def _left(self, why: str) -> Step:
        return (SOCIAL_CARE, Exit.STEP_UP_WHILE_WAITING) if why == "escalated" else (CLOSED, Exit.WITHDRAWN)

    def _wait_kinds(self, stage: str, service: str) -> WaitKinds:
        """The kinds of the rows of a wait on ``service`` in ``stage`` (registered on first use)."""
        kinds = self._waits.get((stage, service))
        if kinds is None:
            kind = self._kind
            kinds = self._waits[stage, service] = WaitKinds(
                kind("join", stage, service),
                kind("start", stage, service),
                kind("leave", stage, service, "escalated"),
                kind("leave", stage, service, "withdrawn"),
            )
        return kinds

    def _join(
        self,
        fam: Family,
        kinds: WaitKinds,
        req: Place,
        elapsed: float = 0.0,
        log_join: bool = True,
        hazard_factors: tuple[float, float] = (1.0, 1.0),
        need_worsens: bool = True,
    ) -> int | None:
        """Join the list of ``req`` with the hazards of escalation and withdrawal (scaled by
        ``hazard_factors``, e.g. for families in a parenting group while they wait; their
        uniforms drawn whether or not a slot is free, so that common random numbers stay
        aligned, and their times worked out only for a family that waits).

        Served at once (``req`` triggered): the start is logged and ``None`` returned. Else the
        family's deadline is set and the kind of the leave row it would log at it returned:
        the caller yields ``req`` and then calls :meth:`_served` with it. At the deadline
        :class:`~sim.model.common.Deadlines` cancels the request (so no slot can leak) and wakes
        the family on it; a served family resumes when it is served. No generator and nothing
        allocated: a waiting family holds no frame or object beside its stage's and its place.
        With ``needs.worsen_while_waiting`` (and ``need_worsens``), the family's level of need
        moves up the chain's worsening rates over the time it waited (the hazards use its
        level at joining)."""
        if log_join:
            self._log_kind(fam, kinds.join)
        if self._hazards:  # the hazards' uniforms: the escalation's (drawn whatever its rate),
            u = fam.rng.u  # then the withdrawal's if its rate is positive
            u_esc = u()
            wd_rate = self._withdraw * hazard_factors[1]
            u_wd = u() if wd_rate > 0 else 0.0
        if req.triggered:  # a slot was free: served at once, no scheduler step needed
            self._log_kind(fam, kinds.start)
            if need_worsens and self._wait_q is not None:
                self._worsen(fam, 0.0)
            return None
        if not self._hazards:
            return kinds.escalated  # (never left: no deadline)
        esc = self._escalation_time(fam, u_esc, elapsed, hazard_factors[0]) if self._escalates else _INF
        wd = -math.log1p(-u_wd) / wd_rate if wd_rate > 0 else _INF
        if esc <= wd:
            if esc < _INF:
                self._deadlines.add(req, esc)  # at the deadline: cancelled and woken
            return kinds.escalated
        if wd < _INF:
            self._deadlines.add(req, wd)
        return kinds.withdrawn

    def _served(self, fam: Family, kinds: WaitKinds, req: Place, leave: int, need_worsens: bool = True) -> str:
        """After the family of :meth:`_join` yielded ``req`` (``leave``: what :meth:`_join`
        returned): ``""`` if it was served, else ``"escalated"`` or ``"withdrawn"`` (the row
        logged either way)."""
        why = ""
        if req.cancelled:
            why = "escalated" if leave == kinds.escalated else "withdrawn"
            self._log_kind(fam, leave)
        else:
            self._log_kind(fam, kinds.start)
        if need_worsens and self._wait_q is not None:
            self._worsen(fam, self.env._now - req.joined)
        return why

    def _worsen(self, fam: Family, waited: float) -> None:
        """The family's level of need after ``waited`` days on a list (the worsening chain)."""
        assert self._wait_q is not None
        level = need_path(self._wait_q, fam.need - 1, fam.rng.u, waited)[-1][1] + 1
        if level != fam.need:
            fam.set_need(level, self.tables)

    def _escalation_time(self, fam: Family, u: float, elapsed: float, factor: float = 1.0) -> float:
        """Time to escalation, given the uniform ``u`` drawn for it, under hazard
        ``h(t) = factor base (1 + m risk) exp(g t)``, given ``elapsed`` days already waited
        (inverse of the Gompertz cumulative hazard)."""
        e = -math.log1p(-u)
        base, mult, g = self._esc_params
        a = factor * base * (1.0 + mult * fam.risk) if mult else factor * base  # (the risk only if it counts)
        if a <= 0:
            return _INF
        if g == 0:
            return e / a
        return math.log1p(g * e / (a * math.exp(g * elapsed))) / g

    def _plan(
        self, fam: Family, settings: PlanSettings, elapsed: float = 0.0, step_up_factor: float = 1.0
    ) -> tuple[float, str]:
        """How long a plan lasts from now and how it ends: ``completed``, ``step_up``,
        ``step_down`` or ``disengage`` (reviews every ``interval_days`` from plan start).
        ``step_up_factor`` scales the step-up probability (support alongside the plan); a
        key worker plan is lengthened by the handovers that staff turnover causes."""
        t, outcome = self._plan_fate(fam, settings, elapsed, step_up_factor)
        eh = self.sc.early_help
        if settings is eh and eh.turnover_per_year > 0:
            # departures of the family's key worker while the plan runs: Poisson(turnover x years)
            t += poisson_ppf(fam.rng.u(), eh.turnover_per_year * t / 365.0) * eh.handover_delay_days
        return t, outcome

    def _plan_fate(
        self, fam: Family, settings: PlanSettings, elapsed: float, step_up_factor: float
    ) -> tuple[float, str]:
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
        step_up = r.step_up_prob * step_up_factor
        p = step_up + r.step_down_prob + r.disengage_prob
        if p <= 0:
            return remaining, "completed"
        k = 1 if p >= 1 else max(1, math.ceil(math.log1p(-u1) / math.log1p(-p)))
        reviews_done = math.floor(elapsed / r.interval_days)
        t = (reviews_done + k) * r.interval_days - elapsed
        if t >= remaining:
            return remaining, "completed"
        x = u2 * p
        kind = "step_up" if x < step_up else "step_down" if x < step_up + r.step_down_prob else "disengage"
        return t, kind

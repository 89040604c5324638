"""The random fates of a wait and of a plan, mixed into :class:`~sim.model.world.World`: a
family on a list is served, escalates or withdraws (:meth:`Fates._wait`, the hazards drawn on
joining whether or not a slot is free, so that common random numbers stay aligned), and a plan
lasts so long and ends completed, stepped up, stepped down or disengaged
(:meth:`Fates._plan`)."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from sim.config import PlanSettings, Scenario
from sim.model.common import CLOSED, Deadlines, Place, RowLogger, Step, poisson_ppf
from sim.model.family import AttributeTables, Family
from sim.model.needs import Chain
from sim.model.needs import path as need_path
from sim.vocab import SOCIAL_CARE, Exit

_INF = math.inf


class Fates:
    """Waits (served, escalated, withdrawn) and plans (length and ending) of a family."""

    if TYPE_CHECKING:  # provided by World
        env: simpy.Environment
        sc: Scenario
        tables: AttributeTables
        _log: RowLogger
        _hazards: bool
        _withdraw: float
        _esc_params: tuple[float, float, float]
        _wait_q: Chain | None
        _deadlines: Deadlines

    def _left(self, why: str) -> Step:
        return (SOCIAL_CARE, Exit.STEP_UP_WHILE_WAITING) if why == "escalated" else (CLOSED, Exit.WITHDRAWN)

    def _wait(
        self,
        fam: Family,
        stage: str,
        service: str,
        req: Place,
        elapsed: float = 0.0,
        log_join: bool = True,
        hazard_factors: tuple[float, float] = (1.0, 1.0),
        need_worsens: bool = True,
    ) -> Generator[simpy.Event, Any, str]:
        """Queue for ``req`` with the hazards of escalation and withdrawal (scaled by
        ``hazard_factors``, e.g. for families in a parenting group while they wait).

        Returns ``""`` once served, else ``"escalated"`` or ``"withdrawn"``: at the family's
        deadline :class:`~sim.model.common.Deadlines` cancels the request (so no slot can leak)
        and wakes the family on it; a served family resumes on the request itself. With
        ``needs.worsen_while_waiting`` (and ``need_worsens``), the family's level of need then
        moves up the chain's worsening rates over the time it waited (the hazards above use its
        level at joining).
        """
        env = self.env
        if log_join:
            self._log(fam, "join", stage, service)
        joined = env.now
        esc, wd = self._hazard_times(fam, elapsed, hazard_factors) if self._hazards else (_INF, _INF)
        patience = esc if esc < wd else wd
        why = ""
        if not req.triggered:  # else a slot was free: served at once, no scheduler step needed
            if patience < _INF:
                self._deadlines.add(req, patience)  # at the deadline: cancelled and woken
            yield req
            if req.cancelled:
                why = "escalated" if esc <= wd else "withdrawn"
        self._log(fam, "leave" if why else "start", stage, service, why)
        if need_worsens and self._wait_q is not None:
            level = need_path(self._wait_q, fam.need - 1, fam.rng.u, env.now - joined)[-1][1] + 1
            if level != fam.need:
                fam.set_need(level, self.tables)
        return why

    def _hazard_times(self, fam: Family, elapsed: float, factors: tuple[float, float]) -> tuple[float, float]:
        """The family's times to escalating and to withdrawing from joining a list (with the
        hazards' ``factors``): drawn on joining whether or not a slot is free, so that common
        random numbers stay aligned (the escalation's uniform first, then the withdrawal's)."""
        esc = self._escalation_time(fam, elapsed, factors[0])
        wd_rate = self._withdraw * factors[1]
        return esc, -math.log1p(-fam.rng.u()) / wd_rate if wd_rate > 0 else _INF

    def _escalation_time(self, fam: Family, elapsed: float, factor: float = 1.0) -> float:
        """Time to escalation under hazard ``h(t) = factor base (1 + m risk) exp(g t)``, given
        ``elapsed`` days already waited (inverse of the Gompertz cumulative hazard)."""
        e = -math.log1p(-fam.rng.u())
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

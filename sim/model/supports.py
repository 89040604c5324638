"""Support alongside early help plans, mixed into :class:`~sim.model.world.World`: FGC and
family mental health referred at the start of a Level 3 plan, and parenting groups offered to
families waiting for a key worker, run in cohorts."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import simpy

from sim.config import Scenario
from sim.distributions import Distribution
from sim.model.common import Proc, RowLogger, hold
from sim.model.family import Family
from sim.model.pools import CaseloadService
from sim.vocab import Stage


class GroupPlace:
    """A family's place on the parenting list: ``started`` when its group starts,
    ``cancelled`` when it stops waiting for a key worker before then (the list drops a
    cancelled place when it comes to it: leaving costs O(1), as on a caseload list)."""

    __slots__ = ("cancelled", "fam", "started")

    def __init__(self, fam: Family):
        self.fam = fam
        self.cancelled = False
        self.started = False


class Supports:
    """FGC, family mental health and parenting groups alongside plans and waits."""

    if TYPE_CHECKING:  # provided by World
        env: simpy.Environment
        sc: Scenario
        fgc: CaseloadService | None
        fmh: CaseloadService | None
        parenting_list: deque[GroupPlace]

        _log: RowLogger

    def _refer_supports(self, fam: Family) -> float:
        """At the start of a Level 3 plan: referral to FGC (when offered at first contact, or
        with ``early_help_referral_prob`` alongside the pre-proceedings offer) and to family
        mental health, each running alongside the plan. Returns the factor on the plan's
        step-up probability (support is assumed to act from referral). The FGC uniform is
        drawn at first contact always, alongside pre-proceedings only when the share is set."""
        factor = 1.0
        fgc, fmh = self.sc.fgc, self.sc.family_mental_health
        first = fgc is not None and fgc.offer_at == "first_contact"
        p = 0.0 if fgc is None else fgc.referral_prob if first else fgc.early_help_referral_prob
        if fgc is not None and (first or p > 0) and fam.rng.u() < p:
            assert self.fgc is not None
            self.env.process(self._support(fam, self.fgc, fgc.duration))
            factor *= 1.0 - fgc.step_up_relative_reduction
        if fmh is not None and fam.rng.u() < fmh.referral_prob:
            assert self.fmh is not None
            self.env.process(self._support(fam, self.fmh, fmh.duration))
            factor *= 1.0 - fmh.step_up_relative_reduction
        return factor

    def _support(self, fam: Family, svc: CaseloadService, duration: Distribution) -> Proc:
        """Queue for and hold a slot of a support service (no hazards: the family is on a plan)."""
        u = fam.rng.u()  # drawn now, so the plan's own draws stay in step
        req = svc.request(fam)
        self._log(fam, "join", svc.name, svc.name)
        yield req
        self._log(fam, "start", svc.name, svc.name)
        yield hold(self.env, duration.ppf(u))
        self._log(fam, "end", svc.name, svc.name, "completed")
        svc.release(req)

    def _enrol_parenting(self, fam: Family, waits: bool) -> tuple[GroupPlace | None, tuple[float, float]]:
        """Offer a place in the next parenting group to a family joining the key worker list
        (the offer's uniform is drawn whether or not it waits, so that common random numbers
        stay aligned). Returns its place on the parenting list (``None`` if it is not offered
        one, or does not wait: ``waits`` false, allocated at once, it is never put on the list)
        and the factors on its escalation and withdrawal hazards while it waits (the offer's,
        unused by a family allocated at once). The caller ends the place with
        :meth:`_stop_waiting` when the family stops waiting for its key worker."""
        pg = self.sc.parenting_groups
        if pg is None or fam.rng.u() >= pg.offer_prob:
            return None, (1.0, 1.0)
        factors = (1.0 - pg.escalation_relative_reduction, 1.0 - pg.withdrawal_relative_reduction)
        if not waits:
            return None, factors
        place = GroupPlace(fam)
        self.parenting_list.append(place)
        self._log(fam, "join", Stage.PARENTING, Stage.PARENTING)
        return place, factors

    def _stop_waiting(self, place: GroupPlace, why: str) -> None:
        """The family of ``place`` stops waiting for its key worker (``why``: allocated,
        withdrawn or escalated): if its group has not started, it leaves the parenting list
        (a leave row with ``why``; the place is marked and dropped when the list reaches it,
        O(1)). A family already in a group finishes it: the group started while it waited."""
        if not place.started:
            place.cancelled = True
            self._log(place.fam, "leave", Stage.PARENTING, Stage.PARENTING, why)

    def _parenting_cohorts(self) -> Proc:
        """Every ``interval_days`` from ``first_group_day``, a group starts with the first
        ``group_size`` families still on the parenting list (places marked left are dropped
        on the way)."""
        pg = self.sc.parenting_groups
        assert pg is not None
        env, waiting = self.env, self.parenting_list
        yield hold(env, pg.first_group_day)
        while True:
            cohort: list[Family] = []
            while waiting and len(cohort) < pg.group_size:
                place = waiting.popleft()
                if not place.cancelled:
                    place.started = True
                    cohort.append(place.fam)
                    self._log(place.fam, "start", Stage.PARENTING, Stage.PARENTING)
            if cohort:
                env.process(self._cohort_end(cohort, pg.duration_days))
            yield hold(env, pg.interval_days)

    def _cohort_end(self, cohort: list[Family], duration: float) -> Proc:
        yield hold(self.env, duration)
        for fam in cohort:
            self._log(fam, "end", Stage.PARENTING, Stage.PARENTING, "completed")

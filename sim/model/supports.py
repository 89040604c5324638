"""Support alongside early help plans, mixed into :class:`~sim.model.world.World`: FGC and
family mental health referred at the start of a Level 3 plan, and parenting groups offered to
families waiting for a key worker, run in cohorts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from sim.config import Scenario
from sim.distributions import Distribution
from sim.model.common import Proc, RowLogger, hold
from sim.model.family import Family
from sim.model.pools import CaseloadService


class Supports:
    """FGC, family mental health and parenting groups alongside plans and waits."""

    if TYPE_CHECKING:  # provided by World
        env: simpy.Environment
        sc: Scenario
        fgc: CaseloadService | None
        fmh: CaseloadService | None
        parenting_list: list[Family]

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

    def _enrol_parenting(self, fam: Family) -> tuple[float, float]:
        """Offer a place in the next parenting group to a family joining the key worker queue;
        returns the factors on its escalation and withdrawal hazards while it waits."""
        pg = self.sc.parenting_groups
        if pg is None or fam.rng.u() >= pg.offer_prob:
            return (1.0, 1.0)
        self.parenting_list.append(fam)
        self._log(fam, "join", "parenting", "parenting")
        return (1.0 - pg.escalation_relative_reduction, 1.0 - pg.withdrawal_relative_reduction)

    def _parenting_cohorts(self) -> Proc:
        pg = self.sc.parenting_groups
        assert pg is not None
        env, waiting = self.env, self.parenting_list
        yield hold(env, pg.first_group_day)
        while True:
            cohort = waiting[: pg.group_size]
            del waiting[: pg.group_size]
            if cohort:
                for fam in cohort:
                    self._log(fam, "start", "parenting", "parenting")
                env.process(self._cohort_end(cohort, pg.duration_days))
            yield hold(env, pg.interval_days)

    def _cohort_end(self, cohort: list[Family], duration: float) -> Proc:
        yield hold(self.env, duration)
        for fam in cohort:
            self._log(fam, "end", "parenting", "parenting", "completed")

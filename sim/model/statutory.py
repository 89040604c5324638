"""Children's social care on the statutory path (``social_care.statutory``): referrals
straight to social care, the decision, assessment, s47 enquiry, conference, CIN and CP plans,
care, closure, step-down and re-referral, social workers as a caseload, and the stock open at
day 0. A mixin of :class:`sim.model.world.World`: it uses the world's clock, log, services and
journey (``_log``, ``_life``, ``_support``), declared below for the type checker."""

from __future__ import annotations

import bisect
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim.config import WORKING_TO_CALENDAR, Scenario, Statutory
from sim.distributions import Distribution
from sim.model.common import DONE, Proc, RowLogger, StartedProcess, arrivals, choose, hold
from sim.model.family import AttributeTables, Family, FamilyMaker
from sim.model.pools import PoolRequest
from sim.random import SC_FAMILIES, SC_INITIAL_FAMILIES, FamilyStreams
from sim.vocab import (
    CIN_ENDS,
    CP_ENDS,
    ICPC_OUTCOMES,
    REFERRAL_ASSESS,
    REFERRAL_NFA,
    REFERRAL_RE,
    REFERRAL_STEP_DOWN,
    S47_OUTCOMES,
    SC_ASSESSED,
    SC_CLOSED,
    SC_INITIAL,
    SOCIAL_WORKERS,
)

if TYPE_CHECKING:
    from sim.model.pools import CaseloadService

__all__ = ["DAYS_12_MONTHS", "SC_ID_OFFSET", "SC_INITIAL_ID_OFFSET", "StatutoryCare"]

SC_ID_OFFSET = 2_000_000_000
"""Families referred straight to social care get ids from here."""
SC_INITIAL_ID_OFFSET = 3_000_000_000
"""Families open to social care at day 0 get ids from here."""
DAYS_12_MONTHS = 365.0


class StatutoryCare:
    """The statutory social care path, mixed into :class:`~sim.model.world.World`."""

    if TYPE_CHECKING:  # provided by World
        env: simpy.Environment
        sc: Scenario
        seed: int
        rep: int
        families: list[Family]
        tables: AttributeTables
        fgc: CaseloadService | None
        mst: CaseloadService | None
        social_workers: CaseloadService | None

        _log: RowLogger

        def _life(self, fam: Family, entry: str, source: str, first: Proc | None = None) -> Proc: ...

        def _support(self, fam: Family, svc: CaseloadService, duration: Distribution) -> Proc: ...

    def _sc_arrivals(self, times: np.ndarray, src: np.ndarray, names: list[str]) -> None:
        """Families referred straight to children's social care (not through early help), each
        made and started at its referral time (:func:`~sim.model.common.arrivals`)."""
        env = self.env
        maker = FamilyMaker(FamilyStreams(self.seed, self.rep, SC_FAMILIES), self.tables)
        source = src.tolist()

        def arrive(i: int) -> None:
            fam = maker.make(SC_ID_OFFSET + i, i)
            self.families.append(fam)
            StartedProcess(env, self._sc_life(fam, self._statutory(fam, names[source[i]])))

        arrivals(env, times.tolist(), arrive)

    def _sc_life(self, fam: Family, first: Proc) -> Proc:
        """A family whose history starts in social care: its cases there, then early help if
        it steps down (and whatever follows)."""
        nxt, source = yield from first
        if nxt == DONE:
            fam.rng.release()
            return
        fam.episode += 1
        yield from self._life(fam, nxt, source)

    def _statutory(self, fam: Family, source: str, first: Proc | None = None) -> Proc:
        """Social care cases of one family until it steps down into early help (returns
        ``("level3", step-down)``) or leaves with no re-referral (``(DONE, "")``). After each
        closure: step-down with ``step_down_probs`` of the last state, else re-referral to
        social care with ``rereferral_prob`` at a uniform time within 12 months."""
        while True:
            last = yield from (first if first is not None else self._sc_case(fam, source))
            first = None
            sc = self.sc.social_care
            assert sc is not None and sc.statutory is not None
            u1, u2, u3 = fam.rng.u(), fam.rng.u(), fam.rng.u()
            if u1 < sc.step_down_probs[last]:
                return ("level3", REFERRAL_STEP_DOWN)
            if u2 >= sc.statutory.rereferral_prob:
                return (DONE, "")
            yield hold(self.env, u3 * DAYS_12_MONTHS)
            source = REFERRAL_RE

    def _sc_case(self, fam: Family, source: str) -> Generator[simpy.Event, Any, str]:
        """One referral to social care, to closure. Returns the last state (``SC_OUTCOMES``)."""
        st = _statutory(self.sc)
        assert st is not None and self.social_workers is not None
        env, u, w = self.env, fam.rng.u, WORKING_TO_CALENDAR
        self._log(fam, "start", "sc_referral", "", source)
        u_nfa, u_dur, u_out = u(), u(), u()
        yield hold(env, st.decision_working_days * w)
        if u_nfa < st.nfa_prob:
            self._log(fam, "end", "sc_referral", "", REFERRAL_NFA)
            return "nfa"
        self._log(fam, "end", "sc_referral", "", REFERRAL_ASSESS)
        svc = self.social_workers
        req = svc.request(fam, float(len(fam.ages)), polled=True)  # allocated at once: no event
        self._log(fam, "join", "assessment", svc.name)
        if not req.triggered:
            yield req  # waits for a social worker with room for the family's children
        self._log(fam, "start", "assessment", svc.name)
        # the DfE duration runs from referral: the assessment takes it less the decision time
        work = max(st.assessment_working_days.ppf(u_dur) - st.decision_working_days, 0.0) * w
        return (yield from self._sc_assessed(fam, req, work, u_out))

    def _sc_assessed(
        self, fam: Family, req: PoolRequest, work: float, u_out: float
    ) -> Generator[simpy.Event, Any, str]:
        """An assessment's remaining ``work`` (days), its outcome, the section 47 enquiry and
        initial conference if any, then the plans. Returns the last state."""
        st = _statutory(self.sc)
        assert st is not None and self.social_workers is not None
        env, u, w, svc = self.env, fam.rng.u, WORKING_TO_CALENDAR, self.social_workers
        yield hold(env, work)
        outcome = choose(u_out, st.assessed_probs, SC_ASSESSED)
        self._log(fam, "end", "assessment", svc.name, outcome)
        if outcome == "s47":
            u_dur, u_out = u(), u()
            self._log(fam, "start", "s47", svc.name)
            yield hold(env, st.s47_working_days.ppf(u_dur) * w)
            outcome = choose(u_out, st.s47_probs, S47_OUTCOMES)
            self._log(fam, "end", "s47", svc.name, outcome)
            if outcome == "icpc":
                u_dur, u_out = u(), u()
                self._log(fam, "start", "icpc", svc.name)
                yield hold(env, st.icpc_working_days.ppf(u_dur) * w)
                outcome = choose(u_out, st.icpc_probs, ICPC_OUTCOMES)
                self._log(fam, "end", "icpc", svc.name, outcome)
        if outcome in ("not_in_need", "nfa"):
            svc.release(req)
            return "nfa"
        return (yield from self._sc_plans(fam, outcome, req))

    def _sc_plans(
        self, fam: Family, state: str, req: PoolRequest, remaining: float | None = None
    ) -> Generator[simpy.Event, Any, str]:
        """CIN and CP plans and care, one after another, until the case closes; the social
        worker's units are held throughout and released at closure. ``remaining``: the
        first state's time left (a case open at day 0, its start already logged)."""
        sc = self.sc.social_care
        assert sc is not None and sc.statutory is not None and self.social_workers is not None
        env, u, svc = self.env, fam.rng.u, self.social_workers
        while True:
            st = sc.statutory
            assert st is not None
            if state == "lac":
                u_place, u_dur = u(), u()
                placement = "residential" if u_place < sc.residential_share else "foster"
                self._log(fam, "start", "lac", svc.name, placement)
                yield hold(env, sc.lac_duration.ppf(u_dur))
                self._log(fam, "end", "lac", svc.name, placement)
                svc.release(req)
                return "lac"
            cp = state == "cp"
            u_dur, u_end = u(), u()
            end = choose(u_end, st.cp_end_probs, CP_ENDS) if cp else choose(u_end, st.cin_end_probs, CIN_ENDS)
            if cp or end == "lac":
                end = self._edge_of_care_alongside(fam, end, initial=remaining is not None)
            if remaining is None:
                self._log(fam, "start", state, svc.name)
            t = (sc.cp_duration if cp else sc.cin_duration).ppf(u_dur) if remaining is None else remaining
            remaining = None
            yield hold(env, t)
            self._log(fam, "end", state, svc.name, end)
            if end == SC_CLOSED:
                svc.release(req)
                return state
            state = end

    def _edge_of_care_alongside(self, fam: Family, end: str, initial: bool = False) -> str:
        """FGC at pre-proceedings and MST for a family starting a CP plan or a care-bound CIN
        plan: each service it is referred to runs alongside the plan, and a care-bound plan
        then closes instead with the service's ``care_relative_reduction``. Two uniforms per
        service in ``edge_of_care_order``, drawn whether or not it is offered.

        ``initial``: a plan already open at day 0. Its conference, if any, was held before
        the run (FGC is an existing service), so it takes no coordinator's time now, though
        its effect on care applies; MST, a service that starts with the run, takes it on."""
        sc = self.sc.social_care
        assert sc is not None
        fgc, mst = self.sc.fgc, self.sc.mst
        for service in sc.edge_of_care_order:
            u_ref, u_avert = fam.rng.u(), fam.rng.u()
            if service == "fgc":
                if fgc is None or fgc.offer_at != "pre_proceedings" or u_ref >= fgc.referral_prob:
                    continue
                assert self.fgc is not None
                if not initial:
                    self.env.process(self._support(fam, self.fgc, fgc.duration))
                reduction = fgc.care_relative_reduction
            else:
                if mst is None or u_ref >= mst.referral_prob or not fam.has_child_aged(mst.age_min, mst.age_max):
                    continue
                assert self.mst is not None
                self.env.process(self._support(fam, self.mst, mst.duration))
                reduction = mst.care_relative_reduction
            if end == "lac" and u_avert < reduction:
                end = SC_CLOSED
        return end

    def _sc_stock(self, st: Statutory) -> tuple[list[tuple[float, Family, str, str]], list[tuple[Family, Proc]]]:
        """Children on CIN and CP plans and in care at day 0 (``initial_stock`` per 10,000 x
        ``population_0_17``), whole families added until each state's children reach the
        target. Each family's time already spent and time left are drawn from the equilibrium
        of its state's duration: a length-biased duration split at a uniform point. Their
        start is logged at minus the time already spent (CIN and CP with detail ``initial``);
        each holds its social worker units from day 0, whatever the capacity."""
        sc = self.sc.social_care
        assert sc is not None and st.initial_stock is not None and st.population_0_17 is not None
        assert self.social_workers is not None
        stock, per = st.initial_stock, st.population_0_17 / 10_000.0
        maker = FamilyMaker(FamilyStreams(self.seed, self.rep, SC_INITIAL_FAMILIES), self.tables)
        k = 0
        history = []
        assess = _Scaled(st.assessment_working_days, WORKING_TO_CALENDAR)
        for state, rate, dist in (
            ("assessment", stock.assessment_per_10k, assess),
            ("cin", stock.cin_per_10k, sc.cin_duration),
            ("cp", stock.cp_per_10k, sc.cp_duration),
            ("lac", stock.lac_per_10k, sc.lac_duration),
        ):
            lengths, cum = _length_biased(dist)
            last = len(lengths) - 1
            target, children = rate * per, 0
            while children < target:
                fam = maker.make(SC_INITIAL_ID_OFFSET + k, k)
                self.families.append(fam)
                children += len(fam.ages)
                total = lengths[min(bisect.bisect_right(cum, fam.rng.u()), last)]
                elapsed = fam.rng.u() * total
                history.append((-elapsed, k, fam, state, total - elapsed))
                k += 1
        rows: list[tuple[float, Family, str, str]] = []
        starts: list[tuple[Family, Proc]] = []
        for t, _, fam, state, left in sorted(history, key=lambda h: h[:2]):
            req = self.social_workers.pool.hold(float(len(fam.ages)))
            if state == "lac":
                placement = "residential" if fam.rng.u() < sc.residential_share else "foster"
                rows.append((t, fam, state, placement))
                starts.append((fam, self._sc_care_left(fam, req, left, placement)))
            elif state == "assessment":
                rows.append((t, fam, state, ""))
                starts.append((fam, self._sc_assessed(fam, req, left, fam.rng.u())))
            else:
                rows.append((t, fam, state, SC_INITIAL))
                starts.append((fam, self._sc_plans(fam, state, req, remaining=left)))
        return rows, starts

    def _sc_care_left(
        self, fam: Family, req: PoolRequest, left: float, placement: str
    ) -> Generator[simpy.Event, Any, str]:
        """The rest of a care episode open at day 0 (its start already logged)."""
        assert self.social_workers is not None
        yield hold(self.env, left)
        self._log(fam, "end", "lac", SOCIAL_WORKERS, placement)
        self.social_workers.release(req)
        return "lac"


def _statutory(scenario: Scenario) -> Statutory | None:
    """The statutory social care block of a scenario, if any."""
    return scenario.social_care.statutory if scenario.social_care is not None else None


class _Scaled:
    """A distribution's values times a factor (working days to calendar days)."""

    def __init__(self, dist: Distribution, factor: float):
        self.dist, self.factor = dist, factor

    def ppf(self, u: float) -> float:
        return self.dist.ppf(u) * self.factor


MAX_CASE_DAYS = 18 * 365.0
"""No case open at day 0 is older than a childhood (durations of the initial stock are capped)."""


_LENGTHS: dict[tuple[str, float, int], tuple[list[float], list[float]]] = {}
"""Tables of :func:`_length_biased` already computed in this process, by distribution."""
_LENGTHS_KEPT = 64


def _length_biased(dist: Distribution | _Scaled, n: int = 2048) -> tuple[list[float], list[float]]:
    """Quantiles of ``dist`` on a grid of ``n`` (capped at :data:`MAX_CASE_DAYS`) and the
    cumulative length-biased weights: a duration drawn by inverting them is a case open at a
    random instant (its length).

    Every replication of a scenario needs the same tables (``n`` inverse CDFs each), so they
    are kept for the process, keyed by the distribution's parameters (at most
    :data:`_LENGTHS_KEPT`); callers only read them."""
    inner, factor = (dist.dist, dist.factor) if isinstance(dist, _Scaled) else (dist, 1.0)
    key = (inner.model_dump_json(), factor, n)
    hit = _LENGTHS.get(key)
    if hit is None:
        q = np.minimum([dist.ppf((i + 0.5) / n) for i in range(n)], MAX_CASE_DAYS)
        cum = np.cumsum(q)
        if len(_LENGTHS) >= _LENGTHS_KEPT:
            _LENGTHS.clear()
        hit = _LENGTHS[key] = (q.tolist(), (cum / cum[-1]).tolist())
    return hit

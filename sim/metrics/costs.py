"""Costs from the event log: staff (posts in force, or worker-days under workforce dynamics),
per-case costs, social workers beyond the unit costs, social care per day and per week, by
whole year of the window (:data:`sim.kpis.COST_COMPONENTS`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import kpis as K
from sim.config import Scenario, team_workforce
from sim.metrics.base import DAYS_PER_YEAR, _average, _segments, _staff_days, _steps, _sw, _time_average
from sim.metrics.log import Log
from sim.model.workforce import staffed_lists
from sim.vocab import (
    SOCIAL_WORKERS,
    STAGE_SETTINGS,
    BudgetLine,
    Event,
    Staffing,
    Stage,
)

_CASE_STAGES = (Stage.LEVEL3, Stage.LEVEL2, Stage.MST, Stage.FGC, Stage.PARENTING, Stage.ASSESSMENT)


_DAY_COSTS = ((Stage.CIN, None), (Stage.CP, None), (Stage.LAC, "foster"), (Stage.LAC, "residential"))


@dataclass(frozen=True)
class _CostInputs:
    """What the costs read from the log, extracted once for any number of windows (the
    yearly costs evaluate ten or more): per stage the sorted times of its starts with the
    running total of their children (a window's starts are two binary searches, not a mask
    of every start), and the occupancy steps of the stages costed by the day."""

    starts: dict[str, tuple[np.ndarray, np.ndarray]]
    steps: dict[tuple[str, str | None], tuple[np.ndarray, np.ndarray]]

    @classmethod
    def of(cls, st: dict[str, Log]) -> _CostInputs:
        starts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for stage in _CASE_STAGES:
            rows = st[stage]
            is_start = rows.event.eq(Event.START)
            times, kids = rows.time[is_start], rows.children[is_start]
            order = np.argsort(times, kind="stable")
            starts[stage] = (times[order], np.r_[0, np.cumsum(kids[order], dtype=np.int64)])
        steps: dict[tuple[str, str | None], tuple[np.ndarray, np.ndarray]] = {}
        for stage, detail in _DAY_COSTS:
            rows = st[stage] if detail is None else st[stage].take(st[stage].detail.eq(detail))
            steps[stage, detail] = _steps(rows, (Event.START,), (Event.END,), children=True)
        return cls(starts, steps)

    def starts_in(self, stage: str, lo: float, hi: float, children: bool = False) -> float:
        """Starts inside ``[lo, hi)``: families, or with ``children`` their children."""
        times, kids = self.starts[stage]
        a, b = np.searchsorted(times, (lo, hi), side="left")
        return float(kids[b] - kids[a]) if children else float(b - a)

    def occupied_days(self, stage: str, lo: float, hi: float, detail: str | None = None) -> float:
        """Total child-days of a stage inside ``[lo, hi]`` (open cases run to ``hi``)."""
        return _time_average(*self.steps[stage, detail], lo, hi) * (hi - lo)


def _costs(
    st: dict[str, Log], sc: Scenario, lo: float, hi: float, inputs: _CostInputs | None = None
) -> dict[str, float]:
    """Costs over ``[lo, hi]`` in ``costs.price_year`` prices: the components of
    :data:`sim.kpis.COST_COMPONENTS`, their totals (early help: staff and per-case costs of
    its services; social care: the edge-of-care services on its budget line, assessments,
    social workers, CIN, CP and care) and the totals a year.
    ``inputs``: the log's cost inputs when already extracted."""
    c = sc.costs
    years = (hi - lo) / DAYS_PER_YEAR
    pc, scc = c.per_case, c.social_care
    x = inputs if inputs is not None else _CostInputs.of(st)
    parts = {
        K.COST_STAFF: _average(sc, lo, hi, _staff_per_year) * years + _workforce_cost(st, sc, lo, hi),
        K.COST_CASES: _case_costs(x, sc, lo, hi, "early_help"),
        K.COST_EDGE_OF_CARE_SOCIAL_CARE: _average(sc, lo, hi, lambda state: _edge_of_care_staff(state, "social_care"))
        * years
        + _case_costs(x, sc, lo, hi, "social_care"),
        K.COST_ASSESSMENT: x.starts_in(Stage.ASSESSMENT, lo, hi, children=True) * c.gbp(pc.assessment),
        K.COST_SOCIAL_WORKERS: _social_worker_cost(st, sc, lo, hi),
        K.COST_CIN: x.occupied_days(Stage.CIN, lo, hi) * c.gbp(scc.cin_per_day),
        K.COST_CP: x.occupied_days(Stage.CP, lo, hi) * c.gbp(scc.cp_per_day),
        K.COST_FOSTER: x.occupied_days(Stage.LAC, lo, hi, "foster") / 7 * c.gbp(scc.foster_per_week),
        K.COST_RESIDENTIAL: x.occupied_days(Stage.LAC, lo, hi, "residential") / 7 * c.gbp(scc.residential_per_week),
    }
    out = {kpi.name: value for kpi, value in parts.items()}
    totals = {
        K.COST_EARLY_HELP: sum(v for kpi, v in parts.items() if kpi.subject == "early_help"),
        K.COST_SOCIAL_CARE: sum(v for kpi, v in parts.items() if kpi.subject == "social_care"),
    }
    totals[K.COST_TOTAL] = totals[K.COST_EARLY_HELP] + totals[K.COST_SOCIAL_CARE]
    out.update({kpi.name: value for kpi, value in totals.items()})
    out.update({K.per_year(kpi).name: value / years for kpi, value in totals.items()})
    return out


def _staff_per_year(sc: Scenario) -> float:
    """Early help staff cost a year of one state of the scenario (posts filled: vacant posts
    are not paid), in ``costs.price_year`` prices: the teams, the front door and the
    edge-of-care services whose ``budget_line`` is early help. Key workers of a team under
    workforce dynamics are costed from the log instead (:func:`_workforce_cost`)."""
    c = sc.costs
    sal = c.staff
    senior = sal.senior_key_worker_per_year or sal.key_worker_per_year
    staff = sum(
        (
            0.0
            if team_workforce(sc, name) is not None
            else t.filled * c.gbp(sal.key_worker_per_year) + t.senior_filled * c.gbp(senior)
        )
        + t.other_fte * c.gbp(sal.other_team_staff_per_year)
        for name, t in sc.teams.items()
    )
    staff += (sc.front_door.staff if sc.front_door else 0) * c.gbp(sal.front_door_per_year)
    return _edge_of_care_staff(sc, "early_help", staff)


def _edge_of_care_staff(sc: Scenario, line: BudgetLine, start: float = 0.0) -> float:
    """``start`` plus the staff cost a year of the edge-of-care services (MST, FGC, family
    mental health) whose ``budget_line`` is ``line`` in this state of the scenario."""
    staff, sal = start, sc.costs.staff
    for stage, fte, cost in (
        (Stage.MST, sc.mst.therapists if sc.mst else 0, sal.mst_therapist_per_year),
        (Stage.FGC, sc.fgc.coordinators if sc.fgc else 0, sal.fgc_coordinator_per_year),
        (Stage.FMH, sc.family_mental_health.consultants if sc.family_mental_health else 0, sal.fmh_consultant_per_year),
    ):
        if _line(sc, stage) == line:
            staff += fte * sc.costs.gbp(cost)
    return staff


def _line(state: Scenario, stage: Stage) -> BudgetLine | None:
    """The budget line of an edge-of-care service in one state (None: the scenario has none)."""
    service = getattr(state, STAGE_SETTINGS[stage])
    return service.budget_line if service is not None else None


def _case_costs(x: _CostInputs, sc: Scenario, lo: float, hi: float, line: BudgetLine) -> float:
    """Per-case costs of the cases started in ``[lo, hi)`` that fall on budget line ``line``:
    plans and parenting places are early help's; an MST or FGC case is on its service's
    ``budget_line`` in force on the day it starts (a dated change may move it)."""
    c = sc.costs
    pc = c.per_case
    segments = _segments(sc, lo, hi)
    total = 0.0
    for stage, cost in (
        (Stage.LEVEL3, pc.level3_plan),
        (Stage.LEVEL2, pc.level2_plan),
        (Stage.MST, pc.mst_case),
        (Stage.FGC, pc.fgc_conference),
        (Stage.PARENTING, pc.parenting_place),
    ):
        if stage not in (Stage.MST, Stage.FGC):
            starts = x.starts_in(stage, lo, hi) if line == "early_help" else 0.0
        else:
            starts = sum(x.starts_in(stage, a, b) for a, b, state in segments if _line(state, stage) == line)
        total += starts * c.gbp(cost)
    return total


def _social_worker_cost(st: dict[str, Log], sc: Scenario, lo: float, hi: float) -> float:
    """Social worker pay over ``[lo, hi]`` beyond what the per-child unit costs include:
    the pay of the social workers in post (FTE x annual cost; under workforce dynamics the
    worker-days from the log, agency cover at its premium) less
    ``social_worker_fte_in_unit_costs`` x annual cost, over the window's years."""
    scc = sc.costs.social_care
    per_fte = sc.costs.gbp(scc.social_worker_per_year)
    years = (hi - lo) / DAYS_PER_YEAR
    if SOCIAL_WORKERS in K.workforce_lists(sc):
        paid = _workforce_cost(st, sc, lo, hi, social_workers=True)
    else:
        paid = _average(sc, lo, hi, lambda state: _sw(state, "fte")) * years * per_fte
    return paid - scc.social_worker_fte_in_unit_costs * years * per_fte


def _workforce_cost(st: dict[str, Log], sc: Scenario, lo: float, hi: float, social_workers: bool = False) -> float:
    """Cost over ``[lo, hi]`` of the posts under workforce dynamics: the worker-days in post
    from the log x the post's annual cost / 365, agency cover at the group's
    ``agency_premium`` (vacant posts are not paid; sick staff are). 0 without any block.
    The early help lists, or with ``social_workers`` only the social workers' list."""
    cost = 0.0
    for service, sl in staffed_lists(sc).items():
        if (service == SOCIAL_WORKERS) != social_workers:
            continue
        specs = {spec.name: spec for spec in sl.specs}
        for (role, staffing, group), days in _staff_days(st, lo, hi, service).items():
            spec = specs[group]
            premium = spec.settings.agency_premium if staffing == Staffing.AGENCY else 1.0
            cost += days / DAYS_PER_YEAR * spec.cost_per_year[Stage(role)] * premium
    return cost


def _yearly(st: dict[str, Log], sc: Scenario, lo: float, hi: float) -> dict[str, float]:
    """Costs in each whole year of the KPI window (``_year1``, ``_year2``...), for financial
    projections from forecast demand."""
    out: dict[str, float] = {}
    inputs = _CostInputs.of(st)
    for i in range(K.whole_years(sc)):
        costs = _costs(st, sc, lo + i * DAYS_PER_YEAR, lo + (i + 1) * DAYS_PER_YEAR, inputs)
        for total in K.COST_TOTALS:
            out[K.in_year(total, i + 1).name] = costs[total.name]
    return out

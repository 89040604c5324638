"""KPIs for one replication, computed from the event log alone.

Every KPI is a float under a stable name (documented in the README). The KPI window is
``[run.warmup_days, run.duration_days]``: counts are of events inside it, waits are of
families who joined a queue inside it, time averages are over it. Families still waiting
or on a plan at the end are counted (``waiting_*_at_end``, ``open_*_at_end``,
``in_early_help_at_end``), never dropped. A statistic with nothing to measure (the mean
wait of a queue nobody joined) is NaN, not 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import kpis as K
from sim.config import Scenario, team_workforce
from sim.metrics.base import (
    DAYS_PER_YEAR,
    _area_to,
    _average,
    _by_stage,
    _in_post,
    _level_at,
    _pair_spells,
    _pair_waits,
    _segments,
    _share,
    _staff_days,
    _starts,
    _starts_from,
    _steps,
    _sw,
    _time_average,
    _wait_stats,
)
from sim.metrics.costs import _costs, _yearly
from sim.metrics.flows import _open_in_early_help, flow_balance, flows
from sim.metrics.log import Log, as_log
from sim.model.workforce import staffed_lists
from sim.vocab import (
    CLOSED_EXITS,
    DEPRIVATION_GROUPS,
    KEY_WORKER_STAGES,
    MODEL_SOURCES,
    PANEL_DECISIONS,
    PLAN_STAGES,
    POOLED_SERVICE,
    QUEUE_STAGES,
    REFERRAL_RE,
    REFERRAL_STEP_DOWN,
    SOCIAL_CARE_CLOSED,
    SOCIAL_WORKER_LIST,
    SOCIAL_WORKERS,
    TRIAGE_DECISIONS,
    Event,
    Exit,
    Staffing,
    Stage,
    team_service,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Log",
    "by_locality",
    "closures_and_rereferrals",
    "compute_kpis",
    "flow_balance",
    "flows",
    "kpis_and_series",
    "monthly_arrays",
    "monthly_series",
    "series_frame",
]


def compute_kpis(events: Log | pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """All KPIs of one replication, named through :mod:`sim.kpis` (exactly the names of
    :func:`sim.kpis.catalogue` for the scenario, in its order), from its event log: a
    :class:`Log` (no pandas needed) or the events DataFrame (converted to one: the same code
    computes both)."""
    return kpis_and_series(as_log(events), scenario, series=False)[0]


def kpis_and_series(ev: Log, scenario: Scenario, series: bool = True) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """:func:`compute_kpis` and, with ``series``, :func:`monthly_arrays` (else ``{}``) of one
    log, splitting it by stage once for both."""
    lo, hi = scenario.run.warmup_days, scenario.run.duration_days
    flow = flows(ev, lo)  # first: its temporaries are the largest, and need no split log alive
    st = _by_stage(ev)
    # referrals and exits: the two stage-independent events
    is_ref, after = ev.event.eq(Event.REFERRAL), ev.time >= lo
    k: dict[str, float] = {K.WINDOW_DAYS.name: hi - lo}
    k.update(_referral_kpis(ev.take(is_ref & after), scenario))
    k.update(_queue_kpis(st, lo, hi))
    k.update(_plan_kpis(st, scenario, lo, hi))
    k.update(_exit_kpis(ev.take(ev.event.eq(Event.EXIT) & after), st, lo, hi))
    k.update(_statutory_kpis(st, scenario, lo, hi))
    k.update(flow)
    refs = np.sort(ev.time[is_ref])
    starts = lo + np.arange(K.whole_years(scenario)) * DAYS_PER_YEAR  # each year [a, a + one year)
    counts = np.searchsorted(refs, starts + DAYS_PER_YEAR) - np.searchsorted(refs, starts)
    for i, count in enumerate(counts):
        k[K.referrals_in_year(i + 1).name] = float(count)
    k.update(_costs(st, scenario, lo, hi))
    families = k[K.FAMILIES_REFERRED.name]
    k[K.COST_PER_FAMILY.name] = k[K.COST_TOTAL.name] / families if families else np.nan
    if K.has_budget(scenario):
        budget = _average(scenario, lo, hi, lambda state: state.costs.budget_gbp_per_year or 0.0)
        k[K.BUDGET.name] = budget
        k[K.OVER_BUDGET.name] = k[K.per_year(K.COST_EARLY_HELP).name] - budget
    k.update(_yearly(st, scenario, lo, hi))
    return k, (_monthly(st, scenario) if series else {})


def _referral_kpis(ref: Log, scenario: Scenario) -> dict[str, float]:
    k = {K.REFERRALS_TOTAL.name: float(len(ref))}
    by_source = ref.detail.counts()
    for src in (*scenario.referrals.sources, *MODEL_SOURCES):
        k[K.referrals_from(src).name] = float(by_source.get(src, 0))
    k[K.FAMILIES_REFERRED.name] = float(len(np.unique(ref.family_id)))
    return k


def _queue_kpis(st: dict[str, Log], lo: float, hi: float) -> dict[str, float]:
    """Waits, withdrawals, escalations and lengths of every queue."""
    k: dict[str, float] = {}
    for stage in QUEUE_STAGES:
        pairs = _pair_waits(st[stage])
        started = pairs.event.eq(Event.START) & (pairs.time_join >= lo)
        mean, median, p90 = _wait_stats(pairs.time_end[started] - pairs.time_join[started])
        k[K.wait(stage, "mean").name] = mean
        k[K.wait(stage, "median").name] = median
        k[K.wait(stage, "p90").name] = p90
        k[K.served(stage).name] = float(started.sum())
        left = pairs.event.eq(Event.LEAVE) & (pairs.time_end >= lo)
        k[K.withdrawn(stage).name] = float((left & pairs.detail.eq("withdrawn")).sum())
        k[K.escalated(stage).name] = float((left & pairs.detail.eq("escalated")).sum())
        still = pairs.event.codes < 0
        k[K.waiting_at_end(stage).name] = float(still.sum())
        k[K.waited_at_end(stage).name] = float(np.mean(hi - pairs.time_join[still])) if still.any() else np.nan
        queued = _steps(st[stage], (Event.JOIN,), (Event.START, Event.LEAVE))
        k[K.queue_mean(stage).name] = _time_average(*queued, lo, hi)
    return k


def _plan_kpis(st: dict[str, Log], scenario: Scenario, lo: float, hi: float) -> dict[str, float]:
    """Open plans and cases, starts, utilisation and where triage and panel sent families."""
    k: dict[str, float] = {}
    for stage in PLAN_STAGES:
        t, d = _steps(st[stage], (Event.START,), (Event.END,))
        k[K.open_mean(stage).name] = _time_average(t, d, lo, hi)
        k[K.open_at_end(stage).name] = _level_at(t, d, hi)
        k[K.starts(stage).name] = float(len(_starts_from(st[stage], lo)))
    if scenario.front_door is not None and scenario.front_door.staff > 0:
        busy = _time_average(*_steps(st[Stage.FRONT_DOOR], (Event.START,), (Event.END,)), lo, hi)
        k[K.utilisation(Stage.FRONT_DOOR, "").name] = busy / scenario.front_door.staff
    held = {name: _time_average(*_held_steps(st, name), lo, hi) for name in K.caseload_services(scenario)}
    staffed = {name: _workforce(st, scenario, name, lo, hi) for name in K.workforce_lists(scenario)}
    for name, busy in held.items():
        if name in staffed:
            slots = staffed[name]["capacity"]
        else:
            slots = _average(scenario, lo, hi, lambda state, n=name: K.caseload_services(state)[n][1])  # type: ignore[misc]
        k[K.utilisation(name, "").name] = busy / slots if slots > 0 else np.nan
    for name in K.key_worker_lists(scenario):
        if name in staffed:
            workers = staffed[name]["employed"] + staffed[name]["agency"]
        else:
            workers = _average(scenario, lo, hi, lambda state, n=name: _in_post(state, n))  # type: ignore[misc]
        k[K.caseload(name, "").name] = held[name] / workers if workers > 0 else np.nan
    for name in K.senior_lists(scenario):
        roles = _roles(st, scenario, name, lo, hi)
        units = sum(u for u, _ in roles.values())
        for role in KEY_WORKER_STAGES:
            u, fte = roles[role]
            k[K.role_caseload(name, role, "").name] = held[name] * u / units / fte if units > 0 and fte > 0 else np.nan
    for name, w in staffed.items():
        working = w["employed"] + w["agency"]
        k[K.staff_fte(name, "").name] = working
        k[K.vacancy_rate(name, "").name] = 1.0 - w["employed"] / w["posts"] if w["posts"] > 0 else np.nan
        k[K.agency_share(name, "").name] = w["agency"] / working if working > 0 else np.nan
    for stage, outcomes in ((Stage.FRONT_DOOR, TRIAGE_DECISIONS), (Stage.PANEL, PANEL_DECISIONS)):
        rows = st[stage]
        decided = rows.detail.take(rows.event.eq(Event.END) & (rows.time >= lo)).counts()
        for outcome in outcomes:
            k[K.routed(stage, outcome).name] = float(decided.get(outcome, 0))
    return k


_SERVED = (Stage.LEVEL2, Stage.LEVEL3, Stage.MST, Stage.FGC, Stage.FMH)


def _held_steps(st: dict[str, Log], service: str) -> tuple[np.ndarray, np.ndarray]:
    """The occupancy steps (plan starts and ends) of a caseload list over the stages it can
    serve, in the order of those stages' logs one after another (masks: no log copied)."""
    parts = [_steps(st[s], (Event.START,), (Event.END,), where=st[s].service.eq(service)) for s in _SERVED]
    return np.concatenate([t for t, _ in parts]), np.concatenate([d for _, d in parts])


def _workforce(st: dict[str, Log], scenario: Scenario, service: str, lo: float, hi: float) -> dict[str, float]:
    """Time-averages over ``[lo, hi]`` of a list under workforce dynamics
    (:func:`~sim.model.workforce.staffed_lists`): ``employed`` (permanent workers in post,
    new starters included), ``agency``, ``posts`` and ``capacity`` (caseload units after
    ramp-up and sickness, with the caps in force), read from the workforce rows of the log,
    plus the list's static posts, workers in post and capacity."""
    total = {"employed": 0.0, "agency": 0.0, "posts": 0.0, "capacity": 0.0}
    for a, b, state in _segments(scenario, lo, hi):
        sl = staffed_lists(state)[service]
        total["capacity"] += sl.static_capacity * (b - a)
        total["posts"] += (sl.static_posts + sum(sum(spec.posts.values()) for spec in sl.specs)) * (b - a)
        total["employed"] += sl.static_in_post * (b - a)
        days = _staff_days(st, a, b, service)
        for spec in sl.specs:
            s = spec.settings
            for (role, staffing, group), d in days.items():
                if group == spec.name:
                    share = s.ramp_up_caseload_share if staffing == Staffing.NEW_STARTER else 1.0
                    total["capacity"] += d * spec.caps[Stage(role)] * share * (1.0 - s.sickness_rate)
                    total["agency" if staffing == Staffing.AGENCY else "employed"] += d
    return {key: value / (hi - lo) for key, value in total.items()}


def _roles(
    st: dict[str, Log], scenario: Scenario, service: str, lo: float, hi: float
) -> dict[Stage, tuple[float, float]]:
    """For each role of a key worker list, the time-averages over ``[lo, hi]`` of its
    caseload capacity (units) and of its workers in post: static posts filled x caps, or,
    for a team under workforce dynamics, its workers from the log (ramp-up and sickness
    applied to the units)."""
    teams = [n for n in scenario.teams if service in (POOLED_SERVICE, team_service(n))]
    total = {role: [0.0, 0.0] for role in KEY_WORKER_STAGES}
    for a, b, state in _segments(scenario, lo, hi):
        sl = staffed_lists(state).get(service)
        specs = sl.specs if sl is not None else []
        for name in teams:
            t = state.teams[name]
            if team_workforce(state, name) is None:
                for role, filled, cap in (
                    (Stage.KEY_WORKER, t.filled, t.caseload_cap),
                    (Stage.SENIOR_KEY_WORKER, t.senior_filled, t.senior_caseload_cap),
                ):
                    total[role][0] += filled * cap * (b - a)
                    total[role][1] += filled * (b - a)
        days = _staff_days(st, a, b, service) if specs else {}
        for spec in specs:
            s = spec.settings
            for (held_by, staffing, team), d in days.items():
                if team == spec.name:
                    share = s.ramp_up_caseload_share if staffing == Staffing.NEW_STARTER else 1.0
                    total[Stage(held_by)][0] += d * spec.caps[Stage(held_by)] * share * (1.0 - s.sickness_rate)
                    total[Stage(held_by)][1] += d
    return {role: (u / (hi - lo), n / (hi - lo)) for role, (u, n) in total.items()}


def _exit_kpis(exits: Log, st: dict[str, Log], lo: float, hi: float) -> dict[str, float]:
    """How episodes ended, routes into social care, entries to care, assessments."""
    ex = exits.detail.counts()
    k: dict[str, float] = {K.closed(reason).name: float(ex.get(reason, 0)) for reason in CLOSED_EXITS}
    k[K.WITHDRAWN_TOTAL.name] = float(ex.get(Exit.WITHDRAWN, 0))
    for reason, kpi in K.SOCIAL_CARE_ROUTES.items():
        k[kpi.name] = float(ex.get(reason, 0))
    k[K.STEP_UPS_TOTAL.name] = k[K.STEP_UPS_WHILE_WAITING.name] + k[K.STEP_UPS_DURING_PLAN.name]
    k[K.TO_SC_TOTAL.name] = sum(k[kpi.name] for kpi in K.SOCIAL_CARE_ROUTES.values())
    care = _starts_from(st[Stage.LAC], lo).detail
    k[K.CARE_ENTRIES.name] = float(len(care.codes))
    k[K.CARE_ENTRIES_FOSTER.name] = float(care.eq("foster").sum())
    k[K.CARE_ENTRIES_RESIDENTIAL.name] = float(care.eq("residential").sum())
    k[K.IN_EARLY_HELP_AT_END.name] = _open_in_early_help(st, hi)
    k[K.ASSESSMENTS.name] = float(len(_starts_from(st[Stage.ASSESSMENT], lo)))
    return k


_IN_NEED = (Stage.SC_REFERRAL, Stage.ASSESSMENT, Stage.S47, Stage.ICPC, Stage.CIN, Stage.CP, Stage.LAC)


"""Social care stages a child in need is in (DfE definition: from referral to closure)."""


_HELD = (Stage.ASSESSMENT, Stage.S47, Stage.ICPC, Stage.CIN, Stage.CP, Stage.LAC)


"""Stages in which a child is on a social worker's caseload (allocation to closure)."""


_WD = 5.0 / 7.0  # working days per calendar day (sim.config.WORKING_TO_CALENDAR)


def _statutory_kpis(st: dict[str, Log], scenario: Scenario, lo: float, hi: float) -> dict[str, float]:
    """:func:`sim.kpis.statutory_kpis`: the measures councils report, in children."""
    sc = scenario.social_care
    stat = sc.statutory if sc is not None else None
    if stat is None:
        return {}
    k: dict[str, float] = {}
    ref = st[Stage.SC_REFERRAL]
    is_start = ref.event.eq(Event.START)
    fid, time, kids = ref.family_id[is_start], ref.time[is_start], ref.children[is_start].astype(float)
    order = np.lexsort((time, fid))  # by family, then time (stable)
    fid, time, kids = fid[order], time[order], kids[order]
    same = np.r_[False, fid[1:] == fid[:-1]]
    prev = np.where(same, np.r_[np.nan, time[:-1]], np.nan)  # the family's previous referral
    inside = time >= lo
    k[K.SC_REFERRALS.name] = float(kids[inside].sum())
    again = (time - prev) <= DAYS_PER_YEAR
    k[K.SC_REREFERRALS.name] = _share(kids[inside], again[inside])
    # referral -> completed assessment: each assessment end with the family's latest referral
    # before it (a family has one case open at a time; assessments open at day 0 have none)
    ass = st[Stage.ASSESSMENT]
    is_done = ass.event.eq(Event.END)
    by_time = np.argsort(ass.time[is_done], kind="stable")
    done_fid, done_time = ass.family_id[is_done][by_time], ass.time[is_done][by_time]
    done_kids = ass.children[is_done][by_time]
    referred = _latest_before(fid, time, done_fid, done_time)
    paired = ~np.isnan(referred) & (done_time >= lo)
    working = (done_time[paired] - referred[paired]) * _WD
    pk = done_kids[paired].astype(float)
    k[K.ASSESSMENTS_ON_TIME.name] = _share(pk, working < 46.0)
    k[K.ASSESSMENT_DAYS.name] = float(np.average(working, weights=pk)) if pk.sum() > 0 else np.nan
    for kpi, stage in ((K.S47_ENQUIRIES, Stage.S47), (K.ICPCS, Stage.ICPC)):
        k[kpi.name] = _starts(st[stage], lo, hi, children=True)
    for kpi, stage in ((K.CP_STARTS, Stage.CP), (K.CIN_STARTS, Stage.CIN), (K.CARE_ENTRIES_CHILDREN, Stage.LAC)):
        k[kpi.name] = _starts(st[stage], lo, np.inf, children=True)
    cp = _pair_spells(st[Stage.CP])
    ended = cp.time_end >= lo  # NaN (still open): False
    k[K.CP_LONG.name] = _share(cp.children[ended].astype(float), (cp.time_end - cp.time_start)[ended] >= 730.0)
    began = cp.time_start >= lo
    k[K.CP_REPEAT.name] = _share(cp.children[began].astype(float), cp.n[began] > 0)
    pairs = _pair_waits(ass)
    served = pairs.event.eq(Event.START) & (pairs.time_join >= lo)
    k[K.SW_WAIT.name], _, k[K.SW_WAIT_P90.name] = _wait_stats(pairs.time_end[served] - pairs.time_join[served])
    joined = ass.children[ass.event.eq(Event.JOIN)]
    started = ass.children[ass.event.eq(Event.START)]
    k[K.SW_WAITING_AT_END.name] = float(joined.sum() - started.sum())
    held = sum(_time_average(*_steps(st[s], (Event.START,), (Event.END,), children=True), lo, hi) for s in _HELD)
    sw = stat.social_workers
    fte, slots = _sw_fte_slots(st, scenario, lo, hi)
    k[K.SW_CASELOAD.name] = held / fte if sw is not None and fte > 0 else np.nan
    if sw is not None:
        k[K.SW_UTILISATION.name] = held / slots if slots > 0 else np.nan
    if stat.population_0_17 is not None:
        per = stat.population_0_17 / 10_000.0
        for when, at in (("start", 0.0), ("end", hi)):
            for state, stages in (("cin", _IN_NEED), ("cp", (Stage.CP,)), ("lac", (Stage.LAC,))):
                level = 0.0
                for s in stages:
                    up = (Event.JOIN,) if s == Stage.ASSESSMENT else (Event.START,)
                    level += _level_at(*_steps(st[s], up, (Event.END,), children=True), at)
                k[K.per_10k(state, when).name] = level / per
    return k


def _latest_before(fid: np.ndarray, time: np.ndarray, at_fid: np.ndarray, at: np.ndarray) -> np.ndarray:
    """For each ``(at_fid, at)``, the latest ``time`` of the same family at or before ``at``
    (NaN if none): ``merge_asof(..., by=family, direction="backward")`` without pandas."""
    n = len(time)
    fids = np.concatenate([fid, at_fid])
    times = np.concatenate([time, at])
    is_query = np.r_[np.zeros(n, dtype=bool), np.ones(len(at), dtype=bool)]
    order = np.lexsort((is_query, times, fids))  # an exact match sorts before its query
    pos = np.where(is_query[order], -1, np.arange(len(order)))
    last = np.maximum.accumulate(pos) if len(pos) else pos  # the last earlier time in sorted order
    found = np.full(len(order), np.nan)
    ok = (last >= 0) & (fids[order][np.maximum(last, 0)] == fids[order])
    found[ok] = times[order][last[ok]]
    out = np.empty(len(order))
    out[order] = found
    return out[n:]


def _sw_fte_slots(st: dict[str, Log], scenario: Scenario, lo: float, hi: float) -> tuple[float, float]:
    """Time-averages over ``[lo, hi]`` of the case-holding social workers in post (FTE) and
    of their caseload units: from the workforce log under workforce dynamics (employees and
    agency; units after ramp-up and sickness), else from the scenario's states."""
    if SOCIAL_WORKERS in K.workforce_lists(scenario):
        w = _workforce(st, scenario, SOCIAL_WORKERS, lo, hi)
        return w["employed"] + w["agency"], w["capacity"]
    fte = _average(scenario, lo, hi, lambda state: _sw(state, "fte"))
    return fte, _average(scenario, lo, hi, lambda state: _sw(state, "slots"))


def by_locality(events: Log | pd.DataFrame, scenario: Scenario) -> dict[K.Kpi, float]:
    """:data:`sim.kpis.BY_LOCALITY` for the families of each locality (each family belongs
    to one locality, so waits pair and counts add up within it) and, when some localities
    are flagged ``deprived``, for each group of :data:`sim.vocab.DEPRIVATION_GROUPS`."""
    ev = as_log(events)
    out: dict[K.Kpi, float] = {}
    for loc in scenario.localities:
        k = compute_kpis(ev.take(ev.locality.eq(loc)), scenario)
        out.update({K.in_locality(kpi, loc): k[kpi.name] for kpi in K.BY_LOCALITY})
    deprived = [name for name, loc in scenario.localities.items() if loc.deprived]
    if deprived:  # the same KPIs for the most deprived 40% of localities and the rest
        inside = ev.locality.isin(deprived)
        for group, rows in zip(DEPRIVATION_GROUPS, (ev.take(inside), ev.take(~inside))):
            k = compute_kpis(rows, scenario)
            out.update({K.in_locality(kpi, group): k[kpi.name] for kpi in K.BY_LOCALITY})
    return out


def monthly_arrays(events: Log | pd.DataFrame, scenario: Scenario) -> dict[str, np.ndarray]:
    """Open cases and queue lengths per month (30.42-day steps from day 0), each the
    time-average over its month: ``day`` (the month's start), then ``open_<stage>`` for every
    plan stage and ``waiting_<stage>`` for every waiting list (:data:`sim.vocab.WAITING_LISTS`:
    the queues in families, then the social workers' list in children, ``waiting_social_worker``,
    0 without a statutory path). Averages, not samples at one instant:
    a queue that a fortnightly panel empties would otherwise alias into a false monthly
    sawtooth."""
    return _monthly(_by_stage(as_log(events)), scenario)


def _monthly(st: dict[str, Log], scenario: Scenario) -> dict[str, np.ndarray]:
    """:func:`monthly_arrays` of the log split by stage."""
    hi = scenario.run.duration_days
    edges = np.append(np.arange(0.0, hi, DAYS_PER_YEAR / 12), hi)
    out = {"day": edges[:-1]}
    for prefix, stages, up, down in (
        ("open", PLAN_STAGES, (Event.START,), (Event.END,)),
        ("waiting", QUEUE_STAGES, (Event.JOIN,), (Event.START, Event.LEAVE)),
    ):
        for stage in stages:
            area = _area_to(*_steps(st[stage], up, down), edges)
            out[f"{prefix}_{stage}"] = np.diff(area) / np.diff(edges)
    allocation = _steps(st[Stage.ASSESSMENT], (Event.JOIN,), (Event.START,), children=True)
    out[f"waiting_{SOCIAL_WORKER_LIST}"] = np.diff(_area_to(*allocation, edges)) / np.diff(edges)
    return out


def series_frame(arrays: dict[str, np.ndarray], scenario: Scenario) -> pd.DataFrame:
    """:func:`monthly_arrays` as a table, with each month's ``date`` after its ``day``: the
    date (midnight) of the day the month starts on, the whole days before its first instant
    (day 30.42 is on day 30, as the model dates any time). ``day`` keeps the exact start."""
    import pandas as pd

    day = arrays["day"]
    # a start that is a whole day in exact arithmetic (365 = 12 x 365 / 12) may be a hair below it
    whole = np.floor(np.round(day, 6))
    date = pd.Timestamp(scenario.run.start_date) + pd.to_timedelta(whole, unit="D")
    return pd.DataFrame({"day": day, "date": date, **{c: v for c, v in arrays.items() if c != "day"}})


def monthly_series(events: Log | pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """:func:`monthly_arrays` as a table (:func:`series_frame`)."""
    return series_frame(monthly_arrays(events, scenario), scenario)


def closures_and_rereferrals(events: pd.DataFrame, lo: float, hi: float) -> pd.DataFrame:
    """Every closure in ``[lo, hi)`` with how it ended and the days to the family's next
    re-referral (``inf`` if none in the log).

    Closures are early help exits that close the episode (:data:`sim.vocab.CLOSED_EXITS` and
    withdrawals) and the end of a social care involvement (an assessment with no further
    action, or the end of CIN, CP or care) that is not stepped down into early help
    (:data:`sim.vocab.SOCIAL_CARE_CLOSED`). A closure is followed up to the next referral of
    any kind; only a ``re_referral`` counts.

    Returns
    -------
    pandas.DataFrame
        Columns ``family_id``, ``time``, ``exit`` and ``gap`` (days).
    """
    import pandas as pd

    ev = events[["time", "family_id", "event", "stage", "detail"]].astype({"event": str, "stage": str, "detail": str})
    early = ev[(ev["event"] == Event.EXIT) & ev["detail"].isin([*map(str, CLOSED_EXITS), str(Exit.WITHDRAWN)])]
    sc_end = (ev["event"] == Event.END) & (
        ev["stage"].isin([Stage.CIN, Stage.CP, Stage.LAC])
        | ((ev["stage"] == Stage.ASSESSMENT) & (ev["detail"] == "nfa"))
    )
    social = ev[sc_end].assign(detail=SOCIAL_CARE_CLOSED)
    closes = pd.concat([early, social])[["time", "family_id", "detail"]].rename(columns={"detail": "exit"})
    closes = closes[(closes["time"] >= lo) & (closes["time"] < hi)].sort_values("time", kind="stable")
    refs = ev.loc[ev["event"] == Event.REFERRAL, ["time", "family_id", "detail"]].sort_values("time", kind="stable")
    refs = refs.rename(columns={"time": "ref_time", "detail": "source"})
    m = pd.merge_asof(
        closes, refs, left_on="time", right_on="ref_time", by="family_id", direction="forward", allow_exact_matches=True
    )
    stepped_down = (
        (m["exit"] == SOCIAL_CARE_CLOSED) & (m["source"] == REFERRAL_STEP_DOWN) & (m["ref_time"] == m["time"])
    )
    m = m[~stepped_down]
    gap = np.where(m["source"] == REFERRAL_RE, m["ref_time"] - m["time"], np.inf)
    return pd.DataFrame(
        {"family_id": m["family_id"].to_numpy(), "time": m["time"].to_numpy(), "exit": m["exit"].to_numpy(), "gap": gap}
    )

"""KPIs for one replication, computed from the event log alone.

Every KPI is a float under a stable name (documented in the README). The KPI window is
``[run.warmup_days, run.duration_days]``: counts are of events inside it, waits are of
families who joined a queue inside it, time averages are over it. Families still waiting
or on a plan at the end are counted (``waiting_*_at_end``, ``open_*_at_end``,
``in_early_help_at_end``), never dropped. A statistic with nothing to measure (the mean
wait of a queue nobody joined) is NaN, not 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import kpis as K
from sim.config import Scenario, team_workforce, timeline
from sim.model.workforce import staffed_lists
from sim.vocab import (
    CLOSED_EXITS,
    DEPRIVATION_GROUPS,
    EH_STAGES,
    KEY_WORKER_STAGES,
    MODEL_SOURCES,
    PANEL_DECISIONS,
    PLAN_STAGES,
    POOLED_SERVICE,
    QUEUE_STAGES,
    REFERRAL_RE,
    REFERRAL_STEP_DOWN,
    SC_ASSESSED,
    SC_CLOSED,
    SC_OUTCOMES,
    SOCIAL_CARE_CLOSED,
    SOCIAL_CARE_EXITS,
    SOCIAL_WORKERS,
    STAFF_STAGES,
    TRIAGE_DECISIONS,
    Event,
    Exit,
    Staffing,
    Stage,
    team_service,
)

__all__ = ["by_locality", "closures_and_rereferrals", "compute_kpis", "flow_balance", "flows", "monthly_series"]

DAYS_PER_YEAR = K.DAYS_PER_YEAR


def _time_average(times: np.ndarray, deltas: np.ndarray, lo: float, hi: float) -> float:
    """Time-average over ``[lo, hi]`` of a step function that starts at 0 and jumps by
    ``deltas`` at ``times``."""
    if len(times) == 0:
        return 0.0
    order = np.argsort(times, kind="stable")
    t, level = times[order], np.cumsum(deltas[order])
    edges = np.clip(np.append(t, hi), lo, hi)
    return float(np.sum(level * np.diff(edges))) / (hi - lo)


def _level_at(times: np.ndarray, deltas: np.ndarray, at: float) -> float:
    """Value at time ``at`` of the same step function."""
    return float(deltas[times <= at].sum())


_EMPTY = pd.DataFrame({"time": [], "family_id": [], "event": [], "detail": [], "service": [], "children": []})


def _by_stage(ev: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The log split by stage once (every stage present, possibly empty), so that each KPI
    filters a small frame instead of masking the whole log again."""
    groups = ev.groupby("stage", observed=True).indices
    return {stage: ev.iloc[groups[stage]] if stage in groups else _EMPTY for stage in Stage}


def _is_in(column: pd.Series, values: tuple[str, ...]) -> np.ndarray:
    """``column.isin(values)`` as a boolean array, on a categorical's codes when it is one."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        wanted = column.cat.categories.get_indexer(pd.Index(values))
        return np.isin(column.cat.codes.to_numpy(), wanted[wanted >= 0])
    return column.isin(values).to_numpy(dtype=bool)


def _steps(
    rows: pd.DataFrame, up: tuple[str, ...], down: tuple[str, ...], children: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Times and +1/-1 jumps of a stage's occupancy: ``up`` events add one, ``down`` remove one
    (with ``children``, the family's children instead of one)."""
    is_up, keep = _is_in(rows["event"], up), _is_in(rows["event"], up + down)  # masks: no filtered frame
    deltas = np.where(is_up[keep], 1.0, -1.0)
    if children:
        deltas = deltas * rows["children"].to_numpy(dtype=float)[keep]
    return rows["time"].to_numpy(dtype=float)[keep], deltas


def _pair_waits(rows: pd.DataFrame) -> pd.DataFrame:
    """Each queue join matched with the start or leave that ended it (NaN end: still waiting):
    the family's n-th join with its n-th start or leave. Columns ``family_id, time_join, n,
    time_end, event, detail``, one row per join in log order (numpy: no groupby or merge, whose
    fixed costs dominated the KPIs of short runs)."""
    event = rows["event"]
    is_join = (event == Event.JOIN).to_numpy(dtype=bool)
    is_end = event.isin((Event.START, Event.LEAVE)).to_numpy(dtype=bool)
    fid = rows["family_id"].to_numpy(dtype=np.int64)
    time = rows["time"].to_numpy(dtype=float)
    join_fid, end_fid = fid[is_join], fid[is_end]
    join_n, end_n = _cumcount(join_fid), _cumcount(end_fid)
    # the end row of each join: (family, n) pairs are unique among ends, so sort and search them
    order = np.lexsort((end_n, end_fid))
    keys_f, keys_n = end_fid[order], end_n[order]
    pos = np.searchsorted(keys_f, join_fid, side="left")
    # within a family's block, ends are sorted by n, from 0: the n-th is at block start + n
    cand = pos + join_n
    hit = cand < len(keys_f)
    hit[hit] = (keys_f[cand[hit]] == join_fid[hit]) & (keys_n[cand[hit]] == join_n[hit])
    at = np.full(len(join_fid), -1, dtype=np.int64)
    at[hit] = order[cand[hit]]
    end_time = np.full(len(join_fid), np.nan)
    end_time[hit] = time[is_end][at[hit]]
    return pd.DataFrame(
        {
            "family_id": join_fid,
            "time_join": time[is_join],
            "n": join_n,
            "time_end": end_time,
            "event": event.array[is_end].take(at, allow_fill=True),
            "detail": rows["detail"].array[is_end].take(at, allow_fill=True),
        }
    )


def _cumcount(keys: np.ndarray) -> np.ndarray:
    """For each element, how many earlier elements have the same key (``groupby.cumcount``)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    first = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(keys)), 0))
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = np.arange(len(keys)) - start
    return out


def _wait_stats(waits: np.ndarray) -> tuple[float, float, float]:
    if len(waits) == 0:
        return (np.nan, np.nan, np.nan)
    return float(np.mean(waits)), float(np.median(waits)), float(np.quantile(waits, 0.9))


def compute_kpis(events: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """All KPIs of one replication, named through :mod:`sim.kpis` (exactly the names of
    :func:`sim.kpis.catalogue` for the scenario, in its order)."""
    lo, hi = scenario.run.warmup_days, scenario.run.duration_days
    st = _by_stage(events)
    # referrals and exits: the two stage-independent events
    marks = events[events["event"].isin((Event.REFERRAL, Event.EXIT)) & (events["time"] >= lo)]
    k: dict[str, float] = {K.WINDOW_DAYS.name: hi - lo}
    k.update(_referral_kpis(marks[marks["event"] == Event.REFERRAL], scenario))
    k.update(_queue_kpis(st, lo, hi))
    k.update(_plan_kpis(st, scenario, lo, hi))
    k.update(_exit_kpis(marks[marks["event"] == Event.EXIT], st, lo, hi))
    k.update(_statutory_kpis(st, scenario, lo, hi))
    k.update(flows(events, lo))
    refs = events[events["event"] == Event.REFERRAL]["time"].to_numpy()
    for i in range(K.whole_years(scenario)):
        a = lo + i * DAYS_PER_YEAR
        k[K.referrals_in_year(i + 1).name] = float(((refs >= a) & (refs < a + DAYS_PER_YEAR)).sum())
    k.update(_costs(st, scenario, lo, hi))
    families = k[K.FAMILIES_REFERRED.name]
    k[K.COST_PER_FAMILY.name] = k[K.COST_TOTAL.name] / families if families else np.nan
    if K.has_budget(scenario):
        budget = _average(scenario, lo, hi, lambda state: state.costs.budget_gbp_per_year or 0.0)
        k[K.BUDGET.name] = budget
        k[K.OVER_BUDGET.name] = k[K.per_year(K.COST_EARLY_HELP).name] - budget
    k.update(_yearly(st, scenario, lo, hi))
    return k


def _referral_kpis(ref: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    k = {K.REFERRALS_TOTAL.name: float(len(ref))}
    by_source = ref["detail"].value_counts()
    for src in (*scenario.referrals.sources, *MODEL_SOURCES):
        k[K.referrals_from(src).name] = float(by_source.get(src, 0))
    k[K.FAMILIES_REFERRED.name] = float(ref["family_id"].nunique())
    return k


def _queue_kpis(st: dict[str, pd.DataFrame], lo: float, hi: float) -> dict[str, float]:
    """Waits, withdrawals, escalations and lengths of every queue."""
    k: dict[str, float] = {}
    for stage in QUEUE_STAGES:
        pairs = _pair_waits(st[stage])
        started = pairs[(pairs["event"] == Event.START) & (pairs["time_join"] >= lo)]
        mean, median, p90 = _wait_stats((started["time_end"] - started["time_join"]).to_numpy(dtype=float))
        k[K.wait(stage, "mean").name] = mean
        k[K.wait(stage, "median").name] = median
        k[K.wait(stage, "p90").name] = p90
        k[K.served(stage).name] = float(len(started))
        left = pairs[(pairs["event"] == Event.LEAVE) & (pairs["time_end"] >= lo)]
        k[K.withdrawn(stage).name] = float((left["detail"] == "withdrawn").sum())
        k[K.escalated(stage).name] = float((left["detail"] == "escalated").sum())
        still = pairs[pairs["event"].isna()]
        k[K.waiting_at_end(stage).name] = float(len(still))
        k[K.waited_at_end(stage).name] = float((hi - still["time_join"]).mean()) if len(still) else np.nan
        queued = _steps(st[stage], (Event.JOIN,), (Event.START, Event.LEAVE))
        k[K.queue_mean(stage).name] = _time_average(*queued, lo, hi)
    return k


def _plan_kpis(st: dict[str, pd.DataFrame], scenario: Scenario, lo: float, hi: float) -> dict[str, float]:
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
    served = pd.concat([st[s] for s in (Stage.LEVEL2, Stage.LEVEL3, Stage.MST, Stage.FGC, Stage.FMH)])
    held = {
        name: _time_average(*_steps(served[served["service"] == name], (Event.START,), (Event.END,)), lo, hi)
        for name in K.caseload_services(scenario)
    }
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
        decided = rows[(rows["event"] == Event.END) & (rows["time"] >= lo)]["detail"].value_counts()
        for outcome in outcomes:
            k[K.routed(stage, outcome).name] = float(decided.get(outcome, 0))
    return k


def _staff_days(
    st: dict[str, pd.DataFrame], lo: float, hi: float, service: str | None = None
) -> dict[tuple[str, str, str], float]:
    """Worker-days inside ``[lo, hi]`` from the workforce log, by (role, staffing, team)
    (the stage, ``detail`` and ``locality`` of the spells); ``service`` keeps one list's."""
    rows = pd.concat([st[stage] for stage in STAFF_STAGES])
    if service is not None:
        rows = rows[rows["service"] == service]
    return {
        (str(role), str(staffing), str(team)): _time_average(*_steps(g, (Event.START,), (Event.END,)), lo, hi)
        * (hi - lo)
        for (role, staffing, team), g in rows.groupby(["stage", "detail", "locality"], observed=True)
    }


def _segments(scenario: Scenario, lo: float, hi: float) -> list[tuple[float, float, Scenario]]:
    """The states of the scenario's timeline with the part of ``[lo, hi]`` each is in force."""
    tl = timeline(scenario)
    ends = [day for day, _ in tl[1:]] + [scenario.run.duration_days]
    return [(max(lo, d), min(hi, e), state) for (d, state), e in zip(tl, ends) if min(hi, e) > max(lo, d)]


def _workforce(st: dict[str, pd.DataFrame], scenario: Scenario, service: str, lo: float, hi: float) -> dict[str, float]:
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
    st: dict[str, pd.DataFrame], scenario: Scenario, service: str, lo: float, hi: float
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


def _in_post(state: Scenario, service: str) -> float:
    """Case-holding workers in post behind a key worker list (a team, or all of them pooled)."""
    return float(sum(t.in_post for n, t in state.teams.items() if service in (POOLED_SERVICE, team_service(n))))


def _exit_kpis(exits: pd.DataFrame, st: dict[str, pd.DataFrame], lo: float, hi: float) -> dict[str, float]:
    """How episodes ended, routes into social care, entries to care, assessments."""
    ex = exits["detail"].value_counts()
    k: dict[str, float] = {K.closed(reason).name: float(ex.get(reason, 0)) for reason in CLOSED_EXITS}
    k[K.WITHDRAWN_TOTAL.name] = float(ex.get(Exit.WITHDRAWN, 0))
    for reason, kpi in K.SOCIAL_CARE_ROUTES.items():
        k[kpi.name] = float(ex.get(reason, 0))
    k[K.STEP_UPS_TOTAL.name] = k[K.STEP_UPS_WHILE_WAITING.name] + k[K.STEP_UPS_DURING_PLAN.name]
    k[K.TO_SC_TOTAL.name] = sum(k[kpi.name] for kpi in K.SOCIAL_CARE_ROUTES.values())
    care = _starts_from(st[Stage.LAC], lo)["detail"]
    k[K.CARE_ENTRIES.name] = float(len(care))
    k[K.CARE_ENTRIES_FOSTER.name] = float((care == "foster").sum())
    k[K.CARE_ENTRIES_RESIDENTIAL.name] = float((care == "residential").sum())
    k[K.IN_EARLY_HELP_AT_END.name] = _open_in_early_help(st, hi)
    k[K.ASSESSMENTS.name] = float(len(_starts_from(st[Stage.ASSESSMENT], lo)))
    return k


_IN_NEED = (Stage.SC_REFERRAL, Stage.ASSESSMENT, Stage.S47, Stage.ICPC, Stage.CIN, Stage.CP, Stage.LAC)
"""Social care stages a child in need is in (DfE definition: from referral to closure)."""
_HELD = (Stage.ASSESSMENT, Stage.S47, Stage.ICPC, Stage.CIN, Stage.CP, Stage.LAC)
"""Stages in which a child is on a social worker's caseload (allocation to closure)."""
_WD = 5.0 / 7.0  # working days per calendar day (sim.config.WORKING_TO_CALENDAR)


def _statutory_kpis(st: dict[str, pd.DataFrame], scenario: Scenario, lo: float, hi: float) -> dict[str, float]:
    """:func:`sim.kpis.statutory_kpis`: the measures councils report, in children."""
    sc = scenario.social_care
    stat = sc.statutory if sc is not None else None
    if stat is None:
        return {}
    k: dict[str, float] = {}
    ref = st[Stage.SC_REFERRAL]
    starts = ref[ref["event"] == Event.START].sort_values(["family_id", "time"], kind="stable")
    prev = starts.groupby("family_id")["time"].shift(1)
    inside = starts["time"] >= lo
    kids = starts["children"].to_numpy(dtype=float)
    k[K.SC_REFERRALS.name] = float(kids[inside].sum())
    again = ((starts["time"] - prev) <= DAYS_PER_YEAR).to_numpy()
    k[K.SC_REREFERRALS.name] = _share(kids[inside.to_numpy()], again[inside.to_numpy()])
    # referral -> completed assessment: each assessment end with the family's latest referral
    # before it (a family has one case open at a time; assessments open at day 0 have none)
    ass = st[Stage.ASSESSMENT]
    done = ass[ass["event"] == Event.END][["family_id", "time", "children"]].sort_values("time", kind="stable")
    referred = starts[["family_id", "time"]].rename(columns={"time": "referred"}).sort_values("referred")
    paired = pd.merge_asof(
        done.astype({"family_id": "int64"}),
        referred.astype({"family_id": "int64"}),
        left_on="time",
        right_on="referred",
        by="family_id",
    ).dropna(subset=["referred"])
    paired = paired[paired["time"] >= lo]
    working = ((paired["time"] - paired["referred"]) * _WD).to_numpy(dtype=float)
    pk = paired["children"].to_numpy(dtype=float)
    k[K.ASSESSMENTS_ON_TIME.name] = _share(pk, working < 46.0)
    k[K.ASSESSMENT_DAYS.name] = float(np.average(working, weights=pk)) if pk.sum() > 0 else np.nan
    for kpi, stage in ((K.S47_ENQUIRIES, Stage.S47), (K.ICPCS, Stage.ICPC)):
        k[kpi.name] = _starts(st[stage], lo, hi, children=True)
    for kpi, stage in ((K.CP_STARTS, Stage.CP), (K.CIN_STARTS, Stage.CIN), (K.CARE_ENTRIES_CHILDREN, Stage.LAC)):
        k[kpi.name] = _starts(st[stage], lo, np.inf, children=True)
    cp = st[Stage.CP]
    cp_pairs = _pair_spells(cp)
    ended = cp_pairs[(cp_pairs["time_end"] >= lo) & cp_pairs["time_end"].notna()]
    k[K.CP_LONG.name] = _share(
        ended["children"].to_numpy(dtype=float), ((ended["time_end"] - ended["time_start"]) >= 730.0).to_numpy()
    )
    began = cp_pairs[cp_pairs["time_start"] >= lo]
    k[K.CP_REPEAT.name] = _share(began["children"].to_numpy(dtype=float), (began["n"] > 0).to_numpy())
    pairs = _pair_waits(ass)
    served = pairs[(pairs["event"] == Event.START) & (pairs["time_join"] >= lo)]
    waits = (served["time_end"] - served["time_join"]).to_numpy(dtype=float)
    k[K.SW_WAIT.name], _, k[K.SW_WAIT_P90.name] = _wait_stats(waits)
    still = ass[ass["event"] == Event.JOIN]
    started = ass[ass["event"] == Event.START]
    k[K.SW_WAITING_AT_END.name] = float(still["children"].sum() - started["children"].sum())
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


def _sw_fte_slots(st: dict[str, pd.DataFrame], scenario: Scenario, lo: float, hi: float) -> tuple[float, float]:
    """Time-averages over ``[lo, hi]`` of the case-holding social workers in post (FTE) and
    of their caseload units: from the workforce log under workforce dynamics (employees and
    agency; units after ramp-up and sickness), else from the scenario's states."""
    if SOCIAL_WORKERS in K.workforce_lists(scenario):
        w = _workforce(st, scenario, SOCIAL_WORKERS, lo, hi)
        return w["employed"] + w["agency"], w["capacity"]
    fte = _average(scenario, lo, hi, lambda state: _sw(state, "fte"))
    return fte, _average(scenario, lo, hi, lambda state: _sw(state, "slots"))


def _sw(state: Scenario, what: str) -> float:
    """Social worker FTE or caseload units of one state of the scenario (0 if none)."""
    sc = state.social_care
    sw = sc.statutory.social_workers if sc is not None and sc.statutory is not None else None
    if sw is None:
        return 0.0
    return sw.case_holding_fte if what == "fte" else sw.slots


def _share(weights: np.ndarray, hit: np.ndarray) -> float:
    """Weighted share of ``hit`` (NaN with nothing to count)."""
    total = float(weights.sum())
    return float(weights[hit].sum()) / total if total > 0 else np.nan


def _pair_spells(rows: pd.DataFrame) -> pd.DataFrame:
    """Each start of a stage with its end (NaN: still open), ``n`` counting the family's spells."""
    s = rows[rows["event"] == Event.START][["family_id", "time", "children"]]
    e = rows[rows["event"] == Event.END][["family_id", "time"]]
    s = s.assign(n=s.groupby("family_id").cumcount())
    e = e.assign(n=e.groupby("family_id").cumcount())
    return s.merge(e, on=["family_id", "n"], how="left", suffixes=("_start", "_end"))


def _starts_from(rows: pd.DataFrame, lo: float) -> pd.DataFrame:
    return rows[(rows["event"] == Event.START) & (rows["time"] >= lo)]


def _in_force(scenario: Scenario, lo: float, hi: float) -> list[tuple[float, Scenario]]:
    """The states of the scenario's timeline with the days each is in force within [lo, hi]."""
    tl = timeline(scenario)
    ends = [day for day, _ in tl[1:]] + [scenario.run.duration_days]
    return [(max(0.0, min(hi, e) - max(lo, d)), state) for (d, state), e in zip(tl, ends)]


def _average(scenario: Scenario, lo: float, hi: float, value: Callable[[Scenario], float]) -> float:
    """Time-average of ``value(state)`` over [lo, hi] across dated changes (exactly
    ``value(scenario)`` when nothing changes)."""
    if not scenario.changes:
        return value(scenario)
    return sum(days * value(state) for days, state in _in_force(scenario, lo, hi)) / (hi - lo)


def by_locality(events: pd.DataFrame, scenario: Scenario) -> dict[K.Kpi, float]:
    """:data:`sim.kpis.BY_LOCALITY` for the families of each locality (each family belongs
    to one locality, so waits pair and counts add up within it) and, when some localities
    are flagged ``deprived``, for each group of :data:`sim.vocab.DEPRIVATION_GROUPS`."""
    out: dict[K.Kpi, float] = {}
    for loc in scenario.localities:
        k = compute_kpis(events[events["locality"] == loc], scenario)
        out.update({K.in_locality(kpi, loc): k[kpi.name] for kpi in K.BY_LOCALITY})
    deprived = [name for name, loc in scenario.localities.items() if loc.deprived]
    if deprived:  # the same KPIs for the most deprived 40% of localities and the rest
        inside = events["locality"].isin(deprived)
        for group, rows in zip(DEPRIVATION_GROUPS, (events[inside], events[~inside])):
            k = compute_kpis(rows, scenario)
            out.update({K.in_locality(kpi, group): k[kpi.name] for kpi in K.BY_LOCALITY})
    return out


def _starts(rows: pd.DataFrame, lo: float, hi: float, children: bool = False) -> float:
    """Starts inside ``[lo, hi)``: families, or with ``children`` their children."""
    inside = (rows["event"] == Event.START) & (rows["time"] >= lo) & (rows["time"] < hi)
    return float(rows["children"][inside].sum()) if children else float(inside.sum())


_CASE_STAGES = (Stage.LEVEL3, Stage.LEVEL2, Stage.MST, Stage.FGC, Stage.PARENTING, Stage.ASSESSMENT)
_DAY_COSTS = ((Stage.CIN, None), (Stage.CP, None), (Stage.LAC, "foster"), (Stage.LAC, "residential"))


@dataclass(frozen=True)
class _CostInputs:
    """What the costs read from the log, extracted once for any number of windows (the
    yearly costs evaluate ten or more): per stage the times and children of its starts, and
    the occupancy steps of the stages costed by the day."""

    starts: dict[str, tuple[np.ndarray, np.ndarray]]
    steps: dict[tuple[str, str | None], tuple[np.ndarray, np.ndarray]]

    @classmethod
    def of(cls, st: dict[str, pd.DataFrame]) -> _CostInputs:
        starts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for stage in _CASE_STAGES:
            rows = st[stage]
            is_start = (rows["event"] == Event.START).to_numpy(dtype=bool)
            starts[stage] = (rows["time"].to_numpy(dtype=float)[is_start], rows["children"].to_numpy()[is_start])
        steps: dict[tuple[str, str | None], tuple[np.ndarray, np.ndarray]] = {}
        for stage, detail in _DAY_COSTS:
            rows = st[stage] if detail is None else st[stage][st[stage]["detail"] == detail]
            steps[stage, detail] = _steps(rows, (Event.START,), (Event.END,), children=True)
        return cls(starts, steps)

    def starts_in(self, stage: str, lo: float, hi: float, children: bool = False) -> float:
        """Starts inside ``[lo, hi)``: families, or with ``children`` their children."""
        times, kids = self.starts[stage]
        inside = (times >= lo) & (times < hi)
        return float(kids[inside].sum()) if children else float(inside.sum())

    def occupied_days(self, stage: str, lo: float, hi: float, detail: str | None = None) -> float:
        """Total child-days of a stage inside ``[lo, hi]`` (open cases run to ``hi``)."""
        return _time_average(*self.steps[stage, detail], lo, hi) * (hi - lo)


def _costs(
    st: dict[str, pd.DataFrame], sc: Scenario, lo: float, hi: float, inputs: _CostInputs | None = None
) -> dict[str, float]:
    """Costs over ``[lo, hi]`` in ``costs.price_year`` prices: the components of
    :data:`sim.kpis.COST_COMPONENTS`, their totals (early help: staff and per-case costs of
    its services; social care: assessments, CIN, CP and care) and the totals a year.
    ``inputs``: the log's cost inputs when already extracted."""
    c = sc.costs
    years = (hi - lo) / DAYS_PER_YEAR
    pc, scc = c.per_case, c.social_care
    x = inputs if inputs is not None else _CostInputs.of(st)
    parts = {
        K.COST_STAFF: _average(sc, lo, hi, _staff_per_year) * years + _workforce_cost(st, sc, lo, hi),
        K.COST_CASES: sum(
            x.starts_in(stage, lo, hi) * c.gbp(cost)
            for stage, cost in (
                (Stage.LEVEL3, pc.level3_plan),
                (Stage.LEVEL2, pc.level2_plan),
                (Stage.MST, pc.mst_case),
                (Stage.FGC, pc.fgc_conference),
                (Stage.PARENTING, pc.parenting_place),
            )
        ),
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
    are not paid), in ``costs.price_year`` prices. Key workers of a team under workforce
    dynamics are costed from the log instead (:func:`_workforce_cost`)."""
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
    for fte, cost in (
        (sc.front_door.staff if sc.front_door else 0, sal.front_door_per_year),
        (sc.mst.therapists if sc.mst else 0, sal.mst_therapist_per_year),
        (sc.fgc.coordinators if sc.fgc else 0, sal.fgc_coordinator_per_year),
        (sc.family_mental_health.consultants if sc.family_mental_health else 0, sal.fmh_consultant_per_year),
    ):
        staff += fte * c.gbp(cost)
    return staff


def _social_worker_cost(st: dict[str, pd.DataFrame], sc: Scenario, lo: float, hi: float) -> float:
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


def _workforce_cost(
    st: dict[str, pd.DataFrame], sc: Scenario, lo: float, hi: float, social_workers: bool = False
) -> float:
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


def _yearly(st: dict[str, pd.DataFrame], sc: Scenario, lo: float, hi: float) -> dict[str, float]:
    """Costs in each whole year of the KPI window (``_year1``, ``_year2``...), for financial
    projections from forecast demand."""
    out: dict[str, float] = {}
    inputs = _CostInputs.of(st)
    for i in range(K.whole_years(sc)):
        costs = _costs(st, sc, lo + i * DAYS_PER_YEAR, lo + (i + 1) * DAYS_PER_YEAR, inputs)
        for total in K.COST_TOTALS:
            out[K.in_year(total, i + 1).name] = costs[total.name]
    return out


_FLOW_JOINS = frozenset(K.FLOW_ENTRIES)
_SC_CASES = frozenset((Stage.CIN, Stage.CP, Stage.LAC))
_NO_FURTHER_ACTION = SC_OUTCOMES[0]
_PLAN_CLOSES = frozenset(("", SC_CLOSED))  # the end detail of a CIN / CP plan that closes the case
_STEP_CLOSES = frozenset((Stage.SC_REFERRAL, Stage.ASSESSMENT, Stage.S47, Stage.ICPC))
_NOTHING_MORE = frozenset((_NO_FURTHER_ACTION, SC_ASSESSED[0]))  # nfa, not_in_need
_SC_EXITS = frozenset(SOCIAL_CARE_EXITS)


def _places(ev: pd.DataFrame) -> pd.DataFrame:
    """The events that move a family between flow nodes, each with the node it is in after
    it (``place``: an early help stage, ``social_care``, or "" for nowhere) and before it
    (``prev``): a referral (into its stage), a join of an early help queue within the
    episode (not after the episode reached social care: an MST place alongside a CP plan is
    not a move), an exit (into social care or nowhere), a referral straight to social care or a
    case open there at day 0 (into social care), and the end of social care involvement
    (a CIN or CP plan that closes, care, or a decision, assessment, enquiry or conference with
    no further action)
    (numpy on the categorical codes, no string columns: the pandas definition is in
    ``tests/test_metrics_lean.py``, which checks that both give the same rows.)"""
    event, stage, detail = ev["event"], ev["stage"], ev["detail"]
    fid = ev["family_id"].to_numpy(dtype=np.int64)
    episode = ev["episode"].to_numpy(dtype=np.int64)
    is_exit = _is_in(event, (Event.EXIT,))
    exited = _group_cumsum(fid, episode, is_exit) - is_exit  # exits before this row
    sc_end = _is_in(event, (Event.END,)) & (
        (_is_in(stage, (Stage.CIN, Stage.CP)) & _is_in(detail, tuple(_PLAN_CLOSES)))
        | _is_in(stage, (Stage.LAC,))
        | (_is_in(stage, tuple(_STEP_CLOSES)) & _is_in(detail, tuple(_NOTHING_MORE)))
    )
    sc_in = _is_in(event, (Event.START,)) & _is_in(stage, (*_SC_CASES, Stage.SC_REFERRAL, Stage.ASSESSMENT))
    entered = _group_cumsum(fid, episode, sc_in)  # social care so far
    eh_join = _is_in(event, (Event.JOIN,)) & _is_in(stage, tuple(_FLOW_JOINS)) & (exited == 0) & (entered == 0)
    sel = _is_in(event, (Event.REFERRAL,)) | eh_join | is_exit | sc_in | sc_end
    place = np.where(
        is_exit[sel],
        np.where(_is_in(detail, tuple(_SC_EXITS))[sel], K.SOCIAL_CARE, ""),
        np.where(sc_in[sel], K.SOCIAL_CARE, _strings(stage, sel)),
    ).astype(object)
    end = sc_end[sel]
    place[end] = ""
    f = fid[sel]
    # an end of social care followed by a step-down is not a closure: the step-down moves the family
    step_down = (_is_in(event, (Event.REFERRAL,)) & _is_in(detail, (REFERRAL_STEP_DOWN,)))[sel]
    order = np.argsort(f, kind="stable")
    fs = f[order]
    same_next = np.r_[fs[1:] == fs[:-1], False]
    followed = np.empty(len(f), dtype=bool)
    followed[order] = same_next & np.r_[step_down[order][1:], False]
    kept = ~(end & followed)
    f, place = f[kept], place[kept]
    order = np.argsort(f, kind="stable")
    fs, ps = f[order], place[order]
    prev = np.empty(len(f), dtype=object)
    prev[order] = np.where(np.r_[False, fs[1:] == fs[:-1]], np.concatenate([np.array([""], dtype=object), ps[:-1]]), "")
    moved = prev != place
    rows = np.flatnonzero(sel)[kept][moved]
    return pd.DataFrame(
        {
            "family_id": f[moved],
            "time": ev["time"].to_numpy(dtype=float)[rows],
            "event": _strings(event, rows),
            "detail": _strings(detail, rows),
            "place": place[moved],
            "prev": prev[moved],
        }
    )


def _strings(column: pd.Series, rows: np.ndarray) -> np.ndarray:
    """The values of a categorical column at ``rows`` (a mask or positions) as an object array."""
    cats = np.asarray(column.cat.categories, dtype=object)
    return cats[column.cat.codes.to_numpy()[rows]]


def _group_cumsum(fid: np.ndarray, episode: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Running total of ``x`` within each (family, episode), in log order, this row included
    (``groupby([family_id, episode]).cumsum()``)."""
    x = x.astype(np.int64)
    if len(x) == 0:
        return x
    order = np.lexsort((episode, fid))  # stable: log order within a group
    f, e, xs = fid[order], episode[order], x[order]
    first = np.r_[True, (f[1:] != f[:-1]) | (e[1:] != e[:-1])]
    total = np.cumsum(xs)
    before = (total - xs)[first]  # the running total before each group
    out = np.empty(len(x), dtype=np.int64)
    out[order] = total - before[np.cumsum(first) - 1]
    return out


def flows(events: pd.DataFrame, lo: float) -> dict[str, float]:
    """The flow table of one replication (:func:`sim.kpis.flow_kpis`): families in each node
    at ``lo`` and at the end, and every referral, move and exit in the window. For every
    node, at start + arriving = leaving + at end."""
    rows = _places(events)
    fid, time, place, prev = (rows[c].to_numpy() for c in ("family_id", "time", "place", "prev"))
    inside = time >= lo
    k: dict[str, float] = {}
    pairs = Counter(zip(prev[inside], place[inside]))
    is_exit = inside & (rows["event"].to_numpy() == Event.EXIT)
    exits = Counter(zip(prev[is_exit], rows["detail"].to_numpy()[is_exit]))
    for node in K.FLOW_ENTRIES:
        k[K.flow_referred(node).name] = float(pairs.get(("", node), 0))
    for source, target in K.FLOW_MOVES:
        k[K.flow_moved(source, target).name] = float(pairs.get((source, target), 0))
    for node, reasons in K.FLOW_EXITS.items():
        for reason in reasons:
            k[K.flow_exit(node, reason).name] = float(exits.get((node, reason), 0))
    k[K.FLOW_SC_CLOSED.name] = float(pairs.get((K.SOCIAL_CARE, ""), 0))
    # each family's last place (a dict keeps the last value written for a key)
    start = Counter(dict(zip(fid[~inside], place[~inside])).values())
    end = Counter(dict(zip(fid, place)).values())
    for node in K.FLOW_NODES:
        k[K.flow_at_start(node).name] = float(start.get(node, 0))
        k[K.flow_at_end(node).name] = float(end.get(node, 0))
    return k


def flow_balance(events: pd.DataFrame, horizon: float) -> dict[str, float]:
    """Whole-run conservation of early help episodes.

    ``referrals`` (all episodes, initial state included) should equal ``closed + withdrawn
    + escalated + open``, where ``open`` is counted independently of exits: the families
    queued or served in an early help stage at ``horizon``.
    """
    ref = float((events["event"] == Event.REFERRAL).sum())
    ex = events[events["event"] == Event.EXIT]["detail"]
    escalated = float(ex.isin(SOCIAL_CARE_EXITS).sum())
    withdrawn = float((ex == Exit.WITHDRAWN).sum())
    closed = float(ex.isin(CLOSED_EXITS).sum())
    open_ = _open_in_early_help(_by_stage(events), horizon)
    return {"referrals": ref, "closed": closed, "withdrawn": withdrawn, "escalated": escalated, "open": open_}


def _open_in_early_help(st: dict[str, pd.DataFrame], at: float) -> float:
    """Families queued or served in an early help stage at time ``at``."""
    open_ = 0.0
    for stage in EH_STAGES:
        open_ += _level_at(*_steps(st[stage], (Event.JOIN,), (Event.START, Event.LEAVE)), at)
        if stage != Stage.PANEL:  # the panel hears a case; it holds no slot afterwards
            open_ += _level_at(*_steps(st[stage], (Event.START,), (Event.END,)), at)
    return open_


def monthly_series(events: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Open cases and queue lengths per month (30.42-day steps from day 0), each the
    time-average over its month (``day`` is the month's start). Averages, not samples at one
    instant: a queue that a fortnightly panel empties would otherwise alias into a false
    monthly sawtooth."""
    hi = scenario.run.duration_days
    edges = np.append(np.arange(0.0, hi, DAYS_PER_YEAR / 12), hi)
    out = {"day": edges[:-1], "date": pd.Timestamp(scenario.run.start_date) + pd.to_timedelta(edges[:-1], unit="D")}
    st = _by_stage(events)
    for prefix, stages, up, down in (
        ("open", PLAN_STAGES, (Event.START,), (Event.END,)),
        ("waiting", QUEUE_STAGES, (Event.JOIN,), (Event.START, Event.LEAVE)),
    ):
        for stage in stages:
            area = _area_to(*_steps(st[stage], up, down), edges)
            out[f"{prefix}_{stage}"] = np.diff(area) / np.diff(edges)
    return pd.DataFrame(out)


def _area_to(times: np.ndarray, deltas: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Integral from day 0 to each of ``at`` of the step function that starts at the level
    reached before day 0 and jumps by ``deltas`` at ``times``."""
    order = np.argsort(times, kind="stable")
    t, level = times[order], np.cumsum(deltas[order])
    before = t < 0
    start = level[before][-1] if before.any() else 0.0
    t, level = t[~before], level[~before]
    knots = np.concatenate([[0.0], t])
    levels = np.concatenate([[start], level])
    seg_area = np.concatenate([[0.0], np.cumsum(levels[:-1] * np.diff(knots))])
    i = np.searchsorted(knots, at, side="right") - 1
    return seg_area[i] + levels[i] * (at - knots[i])


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

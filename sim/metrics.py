"""KPIs for one replication, computed from the event log alone.

Every KPI is a float under a stable name (documented in the README). The KPI window is
``[run.warmup_days, run.duration_days]``: counts are of events inside it, waits are of
families who joined a queue inside it, time averages are over it. Families still waiting
or on a plan at the end are counted (``waiting_*_at_end``, ``open_*_at_end``,
``in_early_help_at_end``), never dropped. A statistic with nothing to measure (the mean
wait of a queue nobody joined) is NaN, not 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import Scenario
from sim.records import STAGES

__all__ = ["EH_STAGES", "PLAN_STAGES", "QUEUE_STAGES", "compute_kpis", "flow_balance", "monthly_series"]

QUEUE_STAGES = ("front_door", "panel", "level2", "level3", "mst", "fgc", "fmh", "parenting")
"""Stages with a queue (join -> start or leave)."""
PLAN_STAGES = ("level2", "level3", "mst", "fgc", "fmh", "parenting", "cin", "cp", "lac")
"""Stages with open cases (start -> end)."""
EH_STAGES = ("front_door", "panel", "level2", "level3")
"""Stages inside an early help episode."""
EXIT_KINDS = {
    "advice": "closed",
    "no_plan": "closed",
    "outcomes_met": "closed",
    "disengaged": "closed",
    "stepped_down": "closed",
    "mst_completed": "closed",
    "withdrawn": "withdrawn",
}
DAYS_PER_YEAR = 365.0


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


_EMPTY = pd.DataFrame({"time": [], "family_id": [], "event": [], "detail": [], "service": []})


def _by_stage(ev: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The log split by stage once (every stage present, possibly empty), so that each KPI
    filters a small frame instead of masking the whole log again."""
    groups = ev.groupby("stage", observed=True).indices
    return {stage: ev.iloc[groups[stage]] if stage in groups else _EMPTY for stage in STAGES}


def _steps(rows: pd.DataFrame, up: tuple[str, ...], down: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Times and +1/-1 jumps of a stage's occupancy: ``up`` events add one, ``down`` remove one."""
    rows = rows[rows["event"].isin(up + down)]
    deltas = np.where(rows["event"].isin(up).to_numpy(), 1.0, -1.0)
    return rows["time"].to_numpy(dtype=float), deltas


def _pair_waits(rows: pd.DataFrame) -> pd.DataFrame:
    """Each queue join matched with the start or leave that ended it (NaN end: still waiting)."""
    joins = rows[rows["event"] == "join"][["family_id", "time"]].copy()
    ends = rows[rows["event"].isin(("start", "leave"))][["family_id", "time", "event", "detail"]].copy()
    joins["n"] = joins.groupby("family_id").cumcount()
    ends["n"] = ends.groupby("family_id").cumcount()
    pairs = joins.merge(ends, on=["family_id", "n"], how="left", suffixes=("_join", "_end"))
    return pairs


def _wait_stats(waits: np.ndarray) -> tuple[float, float, float]:
    if len(waits) == 0:
        return (np.nan, np.nan, np.nan)
    return float(np.mean(waits)), float(np.median(waits)), float(np.quantile(waits, 0.9))


def compute_kpis(events: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """All KPIs of one replication. See the README's KPI table for names and units."""
    lo, hi = scenario.run.warmup_days, scenario.run.duration_days
    ev = events
    st = _by_stage(ev)
    k: dict[str, float] = {"window_days": hi - lo}

    def starts_in_window(stage: str) -> pd.DataFrame:
        rows = st[stage]
        return rows[(rows["event"] == "start") & (rows["time"] >= lo)]

    # referrals and exits (the two stage-independent events)
    marks = ev[ev["event"].isin(("referral", "exit")) & (ev["time"] >= lo)]
    ref = marks[marks["event"] == "referral"]
    k["referrals_total"] = float(len(ref))
    by_source = ref["detail"].value_counts()
    for src in (*scenario.referrals.sources, "re_referral", "social_care_step_down"):
        k[f"referrals_source_{src}"] = float(by_source.get(src, 0))
    k["rereferrals_within_12m"] = k["referrals_source_re_referral"]
    k["families_referred"] = float(ref["family_id"].nunique())

    # queues: waits, withdrawals, lengths
    for stage in QUEUE_STAGES:
        pairs = _pair_waits(st[stage])
        started = pairs[(pairs["event"] == "start") & (pairs["time_join"] >= lo)]
        mean, median, p90 = _wait_stats((started["time_end"] - started["time_join"]).to_numpy(dtype=float))
        k[f"wait_{stage}_mean_days"] = mean
        k[f"wait_{stage}_median_days"] = median
        k[f"wait_{stage}_p90_days"] = p90
        k[f"wait_{stage}_served"] = float(len(started))
        left = pairs[(pairs["event"] == "leave") & (pairs["time_end"] >= lo)]
        k[f"withdrawn_{stage}"] = float((left["detail"] == "withdrawn").sum())
        k[f"escalated_{stage}"] = float((left["detail"] == "escalated").sum())
        still = pairs[pairs["event"].isna()]
        k[f"waiting_{stage}_at_end"] = float(len(still))
        k[f"waiting_{stage}_at_end_mean_days"] = float((hi - still["time_join"]).mean()) if len(still) else np.nan
        k[f"queue_{stage}_mean"] = _time_average(*_steps(st[stage], ("join",), ("start", "leave")), lo, hi)

    # open plans and cases, utilisation
    for stage in PLAN_STAGES:
        t, d = _steps(st[stage], ("start",), ("end",))
        k[f"open_{stage}_mean"] = _time_average(t, d, lo, hi)
        k[f"open_{stage}_at_end"] = _level_at(t, d, hi)
        k[f"starts_{stage}"] = float(len(starts_in_window(stage)))
    if scenario.front_door is not None and scenario.front_door.staff > 0:
        busy = _time_average(*_steps(st["front_door"], ("start",), ("end",)), lo, hi)
        k["utilisation_front_door"] = busy / scenario.front_door.staff
    served = pd.concat([st[s] for s in ("level2", "level3", "mst", "fgc", "fmh")])
    for name, slots in _caseload_services(scenario).items():
        busy = _time_average(*_steps(served[served["service"] == name], ("start",), ("end",)), lo, hi)
        k[f"utilisation_{name}"] = busy / slots if slots > 0 else np.nan

    # routing decisions (for flow diagrams): where triage and panel sent families
    for stage, outcomes in (
        ("front_door", ("advice", "level2", "level3", "social_care", "panel")),
        ("panel", ("level2", "level3", "no_plan", "social_care")),
    ):
        rows = st[stage]
        decided = rows[(rows["event"] == "end") & (rows["time"] >= lo)]["detail"].value_counts()
        for outcome in outcomes:
            k[f"routed_{stage}_{outcome}"] = float(decided.get(outcome, 0))

    # exits, escalations, care
    ex = marks[marks["event"] == "exit"]["detail"].value_counts()
    for reason in EXIT_KINDS:
        k[f"closed_{reason}" if reason != "withdrawn" else "withdrawn_total"] = float(ex.get(reason, 0))
    routes = {
        "while_waiting": "step_ups_while_waiting",
        "during_plan": "step_ups_during_plan",
        "front_door": "to_social_care_front_door",
        "panel": "to_social_care_panel",
    }
    for route, name in routes.items():
        k[name] = float(ex.get(f"to_social_care:{route}", 0))
    k["step_ups_total"] = k["step_ups_while_waiting"] + k["step_ups_during_plan"]
    k["to_social_care_total"] = sum(k[n] for n in routes.values())
    k["mst_starts"] = k["starts_mst"]
    k["mst_waiting_mean"] = k["queue_mst_mean"]
    k["mst_waiting_at_end"] = k["waiting_mst_at_end"]
    care = starts_in_window("lac")["detail"]
    k["care_entries"] = float(len(care))
    k["care_entries_foster"] = float((care == "foster").sum())
    k["care_entries_residential"] = float((care == "residential").sum())
    k["in_early_help_at_end"] = _open_in_early_help(st, hi)

    k["assessments"] = float(len(starts_in_window("assessment")))
    refs = ev[ev["event"] == "referral"]["time"].to_numpy()
    for i in range(int((hi - lo) // DAYS_PER_YEAR)):
        a = lo + i * DAYS_PER_YEAR
        k[f"referrals_year{i + 1}"] = float(((refs >= a) & (refs < a + DAYS_PER_YEAR)).sum())
    k.update(_costs(st, scenario, lo, hi))
    k["cost_per_family_gbp"] = k["cost_total_gbp"] / k["families_referred"] if k["families_referred"] else np.nan
    budget = scenario.costs.budget_gbp_per_year
    if budget is not None:
        k["budget_gbp_per_year"] = budget
        k["cost_early_help_over_budget_gbp_per_year"] = k["cost_early_help_gbp_per_year"] - budget
    k.update(_yearly(st, scenario, lo, hi))
    return k


def _caseload_services(scenario: Scenario) -> dict[str, float]:
    """Caseload services and their slots (unlimited services have no utilisation)."""
    out: dict[str, float] = {}
    if scenario.early_help.allocation == "pooled":
        out["team_pool"] = float(sum(t.slots for t in scenario.teams.values()))
    else:
        out.update({f"team_{n}": float(t.slots) for n, t in scenario.teams.items()})
    pp = scenario.partner_plans
    if pp is not None and pp.capacity is not None:
        out["partner"] = float(pp.capacity)
    for name, svc in (("mst", scenario.mst), ("fgc", scenario.fgc), ("fmh", scenario.family_mental_health)):
        if svc is not None:
            out[name] = float(svc.slots)
    return out


def _occupied_days(rows: pd.DataFrame, lo: float, hi: float, detail: str | None = None) -> float:
    """Total case-days of a stage's rows inside ``[lo, hi]`` (open cases run to ``hi``)."""
    if detail is not None:
        rows = rows[rows["detail"] == detail]
    return _time_average(*_steps(rows, ("start",), ("end",)), lo, hi) * (hi - lo)


def _starts(rows: pd.DataFrame, lo: float, hi: float) -> float:
    return float(((rows["event"] == "start") & (rows["time"] >= lo) & (rows["time"] < hi)).sum())


def _costs(st: dict[str, pd.DataFrame], sc: Scenario, lo: float, hi: float) -> dict[str, float]:
    """Costs over ``[lo, hi]`` in ``costs.price_year`` prices, split between the early help
    service (staff and per-case costs of its services) and social care (assessments, CIN,
    CP and care placements)."""
    c = sc.costs
    years = (hi - lo) / DAYS_PER_YEAR
    sal, pc, scc = c.staff, c.per_case, c.social_care
    staff = sum(  # key workers in post (vacant posts are not paid)
        t.filled * c.gbp(sal.key_worker_per_year) + t.other_fte * c.gbp(sal.other_team_staff_per_year)
        for t in sc.teams.values()
    )
    for fte, cost in (
        (sc.front_door.staff if sc.front_door else 0, sal.front_door_per_year),
        (sc.mst.therapists if sc.mst else 0, sal.mst_therapist_per_year),
        (sc.fgc.coordinators if sc.fgc else 0, sal.fgc_coordinator_per_year),
        (sc.family_mental_health.consultants if sc.family_mental_health else 0, sal.fmh_consultant_per_year),
    ):
        staff += fte * c.gbp(cost)
    out = {"cost_staff_gbp": staff * years}
    out["cost_cases_gbp"] = sum(
        _starts(st[stage], lo, hi) * c.gbp(cost)
        for stage, cost in (
            ("level3", pc.level3_plan),
            ("level2", pc.level2_plan),
            ("mst", pc.mst_case),
            ("fgc", pc.fgc_conference),
            ("parenting", pc.parenting_place),
        )
    )
    out["cost_assessment_gbp"] = _starts(st["assessment"], lo, hi) * c.gbp(pc.assessment)
    out["cost_cin_gbp"] = _occupied_days(st["cin"], lo, hi) * c.gbp(scc.cin_per_day)
    out["cost_cp_gbp"] = _occupied_days(st["cp"], lo, hi) * c.gbp(scc.cp_per_day)
    out["cost_care_foster_gbp"] = _occupied_days(st["lac"], lo, hi, "foster") / 7 * c.gbp(scc.foster_per_week)
    out["cost_care_residential_gbp"] = (
        _occupied_days(st["lac"], lo, hi, "residential") / 7 * c.gbp(scc.residential_per_week)
    )
    early_help = out["cost_staff_gbp"] + out["cost_cases_gbp"]
    total = sum(out.values())
    out["cost_early_help_gbp"] = early_help
    out["cost_social_care_gbp"] = total - early_help
    out["cost_total_gbp"] = total
    out["cost_early_help_gbp_per_year"] = early_help / years
    out["cost_social_care_gbp_per_year"] = (total - early_help) / years
    out["cost_total_gbp_per_year"] = total / years
    return out


def _yearly(st: dict[str, pd.DataFrame], sc: Scenario, lo: float, hi: float) -> dict[str, float]:
    """Referrals and costs in each whole year of the KPI window (``_year1``, ``_year2``...),
    for financial projections from forecast demand."""
    out: dict[str, float] = {}
    for i in range(int((hi - lo) // DAYS_PER_YEAR)):
        a, b = lo + i * DAYS_PER_YEAR, lo + (i + 1) * DAYS_PER_YEAR
        costs = _costs(st, sc, a, b)
        out[f"cost_early_help_gbp_year{i + 1}"] = costs["cost_early_help_gbp"]
        out[f"cost_social_care_gbp_year{i + 1}"] = costs["cost_social_care_gbp"]
        out[f"cost_total_gbp_year{i + 1}"] = costs["cost_total_gbp"]
    return out


def flow_balance(events: pd.DataFrame, horizon: float) -> dict[str, float]:
    """Whole-run conservation of early help episodes.

    ``referrals`` (all episodes, initial state included) should equal ``closed + withdrawn
    + escalated + open``, where ``open`` is counted independently of exits: the families
    queued or served in an early help stage at ``horizon``.
    """
    ref = float((events["event"] == "referral").sum())
    ex = events[events["event"] == "exit"]["detail"]
    to_sc = [c for c in ex.cat.categories if c.startswith("to_social_care")]
    escalated = float(ex.isin(to_sc).sum())
    withdrawn = float((ex == "withdrawn").sum())
    closed = float(len(ex)) - escalated - withdrawn
    open_ = _open_in_early_help(_by_stage(events), horizon)
    return {"referrals": ref, "closed": closed, "withdrawn": withdrawn, "escalated": escalated, "open": open_}


def _open_in_early_help(st: dict[str, pd.DataFrame], at: float) -> float:
    """Families queued or served in an early help stage at time ``at``."""
    open_ = 0.0
    for stage in EH_STAGES:
        open_ += _level_at(*_steps(st[stage], ("join",), ("start", "leave")), at)
        if stage != "panel":  # the panel hears a case; it holds no slot afterwards
            open_ += _level_at(*_steps(st[stage], ("start",), ("end",)), at)
    return open_


def monthly_series(events: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Open plans and queue lengths at the start of each month (30.44-day steps) from day 0."""
    hi = scenario.run.duration_days
    grid = np.arange(0.0, hi + 1e-9, DAYS_PER_YEAR / 12)
    out = {"day": grid, "date": pd.Timestamp(scenario.run.start_date) + pd.to_timedelta(grid, unit="D")}
    st = _by_stage(events)
    for prefix, stages, up, down in (
        ("open", PLAN_STAGES, ("start",), ("end",)),
        ("waiting", QUEUE_STAGES, ("join",), ("start", "leave")),
    ):
        for stage in stages:
            t, d = _steps(st[stage], up, down)
            order = np.argsort(t, kind="stable")
            level = np.concatenate([[0.0], np.cumsum(d[order])])
            out[f"{prefix}_{stage}"] = level[np.searchsorted(t[order], grid, side="right")]
    return pd.DataFrame(out)

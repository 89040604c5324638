"""Shared arithmetic over the event log for the KPI modules: time averages of step
functions, queue joins paired with their ends, starts in a window, the staffing in force."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim import kpis as K
from sim.config import Scenario, timeline
from sim.vocab import (
    POOLED_SERVICE,
    STAFF_STAGES,
    Event,
    Stage,
    team_service,
)

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


def _in_post(state: Scenario, service: str) -> float:
    """Case-holding workers in post behind a key worker list (a team, or all of them pooled)."""
    return float(sum(t.in_post for n, t in state.teams.items() if service in (POOLED_SERVICE, team_service(n))))


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


def _starts(rows: pd.DataFrame, lo: float, hi: float, children: bool = False) -> float:
    """Starts inside ``[lo, hi)``: families, or with ``children`` their children."""
    inside = (rows["event"] == Event.START) & (rows["time"] >= lo) & (rows["time"] < hi)
    return float(rows["children"][inside].sum()) if children else float(inside.sum())


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

"""Shared arithmetic over the event log (:class:`sim.metrics.log.Log`) for the KPI modules:
time averages of step functions, queue joins paired with their ends, starts in a window, the
staffing in force. numpy only: a replication's KPIs need no pandas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim import kpis as K
from sim.config import Scenario, timeline
from sim.metrics.log import Codes, Log
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


def _by_stage(ev: Log) -> dict[str, Log]:
    """The log split by stage once (every stage present, possibly empty; rows in log order),
    so that each KPI filters a small log instead of masking the whole log again."""
    codes = ev.stage.codes
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(ev.stage.labels) + 1))
    index = {label: i for i, label in enumerate(ev.stage.labels)}
    none = np.zeros(0, dtype=np.int64)
    return {
        stage: ev.take(order[bounds[index[stage]] : bounds[index[stage] + 1]] if stage in index else none)
        for stage in Stage
    }


def _steps(
    rows: Log, up: tuple[str, ...], down: tuple[str, ...], children: bool = False, where: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Times and +1/-1 jumps of a stage's occupancy: ``up`` events add one, ``down`` remove one
    (with ``children``, the family's children instead of one); with ``where``, of those rows
    only (a mask: the jumps of ``rows.take(where)``, without taking it)."""
    is_up, keep = rows.event.isin(up), rows.event.isin(up + down)  # masks: no filtered log
    if where is not None:
        keep &= where
    deltas = np.where(is_up[keep], 1.0, -1.0)
    if children:
        deltas = deltas * rows.children.astype(float)[keep]
    return rows.time[keep], deltas


def _match(fid_a: np.ndarray, n_a: np.ndarray, fid_b: np.ndarray, n_b: np.ndarray) -> np.ndarray:
    """For each ``(fid_a, n_a)``, the position in ``b`` of the same (family, n) pair, or -1
    (pairs are unique within ``b``): a left merge on (family, n) without pandas."""
    order = np.lexsort((n_b, fid_b))
    keys_f, keys_n = fid_b[order], n_b[order]
    pos = np.searchsorted(keys_f, fid_a, side="left")
    # within a family's block, b's pairs are sorted by n, from 0: the n-th is at block start + n
    cand = pos + n_a
    hit = cand < len(keys_f)
    hit[hit] = (keys_f[cand[hit]] == fid_a[hit]) & (keys_n[cand[hit]] == n_a[hit])
    at = np.full(len(fid_a), -1, dtype=np.int64)
    at[hit] = order[cand[hit]]
    return at


@dataclass(frozen=True)
class Waits:
    """Queue joins, each with the start or leave that ended it, one per join in log order.

    Attributes
    ----------
    family_id, time_join, n
        The join: its family, its time, and how many joins of the family came before it.
    time_end
        The time of its end (NaN: still waiting).
    event, detail
        The end's event and detail (code -1: still waiting).
    """

    family_id: np.ndarray
    time_join: np.ndarray
    n: np.ndarray
    time_end: np.ndarray
    event: Codes
    detail: Codes


def _pair_waits(rows: Log) -> Waits:
    """Each queue join matched with the start or leave that ended it: the family's n-th join
    with its n-th start or leave (numpy: no groupby or merge, whose fixed costs dominated the
    KPIs of short runs)."""
    is_join = rows.event.eq(Event.JOIN)
    is_end = rows.event.isin((Event.START, Event.LEAVE))
    join_fid, end_fid = rows.family_id[is_join], rows.family_id[is_end]
    join_n = _cumcount(join_fid)
    at = _match(join_fid, join_n, end_fid, _cumcount(end_fid))
    hit = at >= 0
    end_time = np.full(len(join_fid), np.nan)
    end_time[hit] = rows.time[is_end][at[hit]]
    ends = rows.take(is_end)
    return Waits(
        join_fid,
        rows.time[is_join],
        join_n,
        end_time,
        Codes(_at_hits(ends.event.codes, at, hit), ends.event.labels),
        Codes(_at_hits(ends.detail.codes, at, hit), ends.detail.labels),
    )


def _at_hits(codes: np.ndarray, at: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """``codes[at]`` where ``hit``, else -1 (no end yet); indexes only the hits, so a log
    with joins and no end at all (an empty ``codes``) is fine."""
    out = np.full(len(at), -1, dtype=codes.dtype)
    out[hit] = codes[at[hit]]
    return out


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
    st: dict[str, Log], lo: float, hi: float, service: str | None = None
) -> dict[tuple[str, str, str], float]:
    """Worker-days inside ``[lo, hi]`` from the workforce log, by (role, staffing, team)
    (the stage, ``detail`` and ``locality`` of the spells), in the order of those names;
    ``service`` keeps one list's."""
    rows = Log.concat([st[stage] for stage in STAFF_STAGES])
    if service is not None:
        rows = rows.take(rows.service.eq(service))
    columns = (rows.stage, rows.detail, rows.locality)
    combos, group = np.unique(np.stack([c.codes for c in columns], axis=1).reshape(-1, 3), axis=0, return_inverse=True)
    group = group.reshape(-1)
    names = [tuple(c.labels[code] for c, code in zip(columns, combo)) for combo in combos]
    out: dict[tuple[str, str, str], float] = {}
    for i in sorted(range(len(names)), key=names.__getitem__):
        g = rows.take(group == i)
        out[names[i]] = _time_average(*_steps(g, (Event.START,), (Event.END,)), lo, hi) * (hi - lo)
    return out


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


@dataclass(frozen=True)
class Spells:
    """Each start of a stage with its end, one per start in log order (``n`` counts the
    family's earlier spells; ``time_end`` NaN: still open)."""

    family_id: np.ndarray
    time_start: np.ndarray
    children: np.ndarray
    n: np.ndarray
    time_end: np.ndarray


def _pair_spells(rows: Log) -> Spells:
    """Each start of a stage matched with the family's end of the same rank."""
    is_start, is_end = rows.event.eq(Event.START), rows.event.eq(Event.END)
    fid, end_fid = rows.family_id[is_start], rows.family_id[is_end]
    n = _cumcount(fid)
    at = _match(fid, n, end_fid, _cumcount(end_fid))
    end_time = np.full(len(fid), np.nan)
    end_time[at >= 0] = rows.time[is_end][at[at >= 0]]
    return Spells(fid, rows.time[is_start], rows.children[is_start], n, end_time)


def _starts_from(rows: Log, lo: float) -> Log:
    return rows.take(rows.event.eq(Event.START) & (rows.time >= lo))


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


def _starts(rows: Log, lo: float, hi: float, children: bool = False) -> float:
    """Starts inside ``[lo, hi)``: families, or with ``children`` their children."""
    inside = rows.event.eq(Event.START) & (rows.time >= lo) & (rows.time < hi)
    return float(rows.children[inside].sum()) if children else float(inside.sum())


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

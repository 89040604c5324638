"""The flow table: families moving between places (referral, front door, panel, plans, edge
of care, social care, exits) counted from the event log, and the conservation balance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import kpis as K
from sim.metrics.base import _by_stage, _level_at, _steps
from sim.metrics.log import Log, _index, as_log
from sim.vocab import (
    CLOSED_EXITS,
    EH_STAGES,
    REFERRAL_STEP_DOWN,
    SC_ASSESSED,
    SC_CLOSED,
    SC_OUTCOMES,
    SOCIAL_CARE_EXITS,
    Event,
    Exit,
    Stage,
)

_FLOW_JOINS = frozenset(K.FLOW_ENTRIES)


_SC_CASES = frozenset((Stage.CIN, Stage.CP, Stage.LAC))


_NO_FURTHER_ACTION = SC_OUTCOMES[0]


_PLAN_CLOSES = frozenset(("", SC_CLOSED))  # the end detail of a CIN / CP plan that closes the case


_STEP_CLOSES = frozenset((Stage.SC_REFERRAL, Stage.ASSESSMENT, Stage.S47, Stage.ICPC))


_NOTHING_MORE = frozenset((_NO_FURTHER_ACTION, SC_ASSESSED[0]))  # nfa, not_in_need


_SC_EXITS = frozenset(SOCIAL_CARE_EXITS)


if TYPE_CHECKING:
    import pandas as pd


def _place_codes(ev: Log) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray]:
    """The events that move a family between flow nodes, each with the node it is in after
    it (``place``: an early help stage, ``social_care``, or "" for nowhere) and before it
    (``prev``): a referral (into its stage), a join of an early help queue within the
    episode (not after the episode reached social care: an MST place alongside a CP plan is
    not a move), an exit (into social care or nowhere), a referral straight to social care or a
    case open there at day 0 (into social care), and the end of social care involvement
    (a CIN or CP plan that closes, care, or a decision, assessment, enquiry or conference with
    no further action)
    (numpy on the categorical codes, no string columns: the pandas definition is in
    ``tests/test_metrics_lean.py``, which checks that both give the same rows.) Returns the
    rows (positions in ``ev``), their family ids, ``place`` and ``prev`` as codes into
    ``names``, ``names``, and the rows' stable argsort by family."""
    event, stage, detail = ev.event, ev.stage, ev.detail
    is_exit = event.eq(Event.EXIT)
    sc_end = event.eq(Event.END) & (
        (stage.isin((Stage.CIN, Stage.CP)) & detail.isin(_PLAN_CLOSES))
        | stage.eq(Stage.LAC)
        | (stage.isin(_STEP_CLOSES) & detail.isin(_NOTHING_MORE))
    )
    sc_in = event.eq(Event.START) & stage.isin((*_SC_CASES, Stage.SC_REFERRAL, Stage.ASSESSMENT))
    join = event.eq(Event.JOIN) & stage.isin(_FLOW_JOINS)
    referral = event.eq(Event.REFERRAL)
    # the rows that can be a move, in family order once (one sort): each subset's order below
    # is read off it
    rows = np.flatnonzero(referral | join | is_exit | sc_in | sc_end)
    by_family = np.argsort(ev.family_id[rows], kind="stable").astype(np.int32)  # (half the memory)
    # a join counts only before the episode's first exit or social care start: the running
    # totals per (family, episode) are taken over the rows that can change or use them only
    in_sub = (is_exit | sc_in | join)[rows]
    sub = rows[in_sub]
    f_sub, e_sub = ev.family_id[sub], ev.episode[sub]
    x_exit, x_in = is_exit[sub], sc_in[sub]
    exited, entered = _group_cumsum(_subset_order(by_family, in_sub), f_sub, e_sub, x_exit, x_in)
    exited -= x_exit  # exits before this row (entered: social care starts so far, this row's too)
    eh_join = np.zeros(len(ev), dtype=bool)
    eh_join[sub] = ~x_exit & ~x_in & (exited == 0) & (entered == 0)
    in_sel = (referral | eh_join | is_exit | sc_in | sc_end)[rows]
    sel = rows[in_sel]
    # places as codes into ``names`` (the stages, then social care and nowhere): no strings
    names = [*stage.labels]
    for extra in (K.SOCIAL_CARE, ""):
        if extra not in names:
            names.append(extra)
    social, nowhere = names.index(K.SOCIAL_CARE), names.index("")
    place = np.where(
        is_exit[sel],
        np.where(detail.isin(_SC_EXITS)[sel], social, nowhere),
        np.where(sc_in[sel], social, stage.codes[sel]),
    )
    end = sc_end[sel]
    place[end] = nowhere
    f = ev.family_id[sel]
    # an end of social care followed by a step-down is not a closure: the step-down moves the family
    step_down = (event.eq(Event.REFERRAL) & detail.eq(REFERRAL_STEP_DOWN))[sel]
    order = _subset_order(by_family, in_sel)  # the stable argsort of ``f``
    fs = f[order]
    same_next = np.r_[fs[1:] == fs[:-1], False]
    followed = np.empty(len(f), dtype=bool)
    followed[order] = same_next & np.r_[step_down[order][1:], False]
    kept = ~(end & followed)
    f, place = f[kept], place[kept]
    order = _subset_order(order, kept)
    fs, ps = f[order], place[order]
    prev = np.empty(len(f), dtype=place.dtype)
    prev[order] = np.where(np.r_[False, fs[1:] == fs[:-1]], np.r_[nowhere, ps[:-1]], nowhere)
    moved = prev != place
    return sel[kept][moved], f[moved], place[moved], prev[moved], names, _subset_order(order, moved)


def _subset_order(order: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``order`` (a stable argsort of an array) restricted to the elements where ``keep``
    holds, as positions into that smaller array: the stable argsort of the subset, read off
    in linear time (no second sort)."""
    rank = np.cumsum(keep, dtype=np.int32) - 1  # an element's position in the subset
    return rank[order[keep[order]]]


def _places(ev: Log) -> dict[str, np.ndarray]:
    """The rows of :func:`_place_codes` as columns ``family_id, time, event, detail, place,
    prev`` (strings: the pandas definition in ``tests/test_metrics_lean.py``)."""
    rows, fid, place, prev, names, _ = _place_codes(ev)
    labels = np.asarray(names, dtype=object)
    return {
        "family_id": fid,
        "time": ev.time[rows],
        "event": ev.event.strings(rows),
        "detail": ev.detail.strings(rows),
        "place": labels[place],
        "prev": labels[prev],
    }


def _group_cumsum(order: np.ndarray, fid: np.ndarray, episode: np.ndarray, *xs: np.ndarray) -> list[np.ndarray]:
    """Running totals of each of ``xs`` within each (family, episode), in log order, this row
    included (``groupby([family_id, episode]).cumsum()``). ``order``: the rows' stable argsort
    by family, which is also their order by (family, episode): a family's episode never
    decreases down the log (its rows are written as they happen, and its episode only grows)."""
    out = []
    f, e = fid[order], episode[order]
    first = np.r_[True, (f[1:] != f[:-1]) | (e[1:] != e[:-1])] if len(order) else np.zeros(0, dtype=bool)
    group = np.cumsum(first) - 1
    for x in xs:
        x_sorted = x[order].astype(np.int64)
        total = np.cumsum(x_sorted)
        before = (total - x_sorted)[first]  # the running total before each group
        run = np.empty(len(x), dtype=np.int64)
        run[order] = total - before[group]
        out.append(run)
    return out


def flows(events: Log | pd.DataFrame, lo: float) -> dict[str, float]:
    """The flow table of one replication (:func:`sim.kpis.flow_kpis`): families in each node
    at ``lo`` and at the end, and every referral, move and exit in the window. For every
    node, at start + arriving = leaving + at end."""
    ev = as_log(events)
    rows, fid, place, prev, names, by_family = _place_codes(ev)
    place, prev = place.astype(np.intp), prev.astype(np.intp)  # codes may be int8: no overflow below
    inside = ev.time[rows] >= lo
    n = len(names)
    index = {name: i for i, name in enumerate(names)}
    # moves counted on the codes: prev x place -> count (a bincount, no tuples of strings)
    pairs = np.bincount(prev[inside] * n + place[inside], minlength=n * n)

    def moved(source: str, target: str) -> float:
        if source not in index or target not in index:
            return 0.0
        return float(pairs[index[source] * n + index[target]])

    is_exit = inside & ev.event.eq(Event.EXIT)[rows]
    reasons = ev.detail.take(rows[is_exit])
    m = len(reasons.labels) + 1  # code -1 (no detail) in the last column
    why_codes = np.where(reasons.codes < 0, m - 1, reasons.codes).astype(np.intp)
    exits = np.bincount(prev[is_exit] * m + why_codes, minlength=n * m)
    reason_index = _index(reasons.labels)
    k: dict[str, float] = {}
    for node in K.FLOW_ENTRIES:
        k[K.flow_referred(node).name] = moved("", node)
    for source, target in K.FLOW_MOVES:
        k[K.flow_moved(source, target).name] = moved(source, target)
    for node, why in K.FLOW_EXITS.items():
        for reason in why:
            hit = node in index and reason in reason_index
            k[K.flow_exit(node, reason).name] = float(exits[index[node] * m + reason_index[reason]]) if hit else 0.0
    k[K.FLOW_SC_CLOSED.name] = moved(K.SOCIAL_CARE, "")
    # each family's last place: the last row of each family in a stable sort by family
    start = _last_places(_subset_order(by_family, ~inside), fid[~inside], place[~inside], n)
    end = _last_places(by_family, fid, place, n)
    for node in K.FLOW_NODES:
        k[K.flow_at_start(node).name] = float(start[index[node]]) if node in index else 0.0
        k[K.flow_at_end(node).name] = float(end[index[node]]) if node in index else 0.0
    return k


def _last_places(order: np.ndarray, fid: np.ndarray, place: np.ndarray, n: int) -> np.ndarray:
    """Families per place code (``n`` codes) by the place of each family's last row
    (``order``: the stable argsort of ``fid``)."""
    fs = fid[order]
    last = order[np.r_[fs[1:] != fs[:-1], True]] if len(fs) else order
    return np.bincount(place[last], minlength=n)


def flow_balance(events: Log | pd.DataFrame, horizon: float) -> dict[str, float]:
    """Whole-run conservation of early help episodes.

    ``referrals`` (all episodes, initial state included) should equal ``closed + withdrawn
    + escalated + open``, where ``open`` is counted independently of exits: the families
    queued or served in an early help stage at ``horizon``.
    """
    ev = as_log(events)
    ref = float(ev.event.eq(Event.REFERRAL).sum())
    ex = ev.detail.take(ev.event.eq(Event.EXIT))
    escalated = float(ex.isin(SOCIAL_CARE_EXITS).sum())
    withdrawn = float(ex.eq(Exit.WITHDRAWN).sum())
    closed = float(ex.isin(CLOSED_EXITS).sum())
    open_ = _open_in_early_help(_by_stage(ev), horizon)
    return {"referrals": ref, "closed": closed, "withdrawn": withdrawn, "escalated": escalated, "open": open_}


def _open_in_early_help(st: dict[str, Log], at: float) -> float:
    """Families queued or served in an early help stage at time ``at``."""
    open_ = 0.0
    for stage in EH_STAGES:
        open_ += _level_at(*_steps(st[stage], (Event.JOIN,), (Event.START, Event.LEAVE)), at)
        if stage != Stage.PANEL:  # the panel hears a case; it holds no slot afterwards
            open_ += _level_at(*_steps(st[stage], (Event.START,), (Event.END,)), at)
    return open_

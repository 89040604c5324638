"""The flow table: families moving between places (referral, front door, panel, plans, edge
of care, social care, exits) counted from the event log, and the conservation balance."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from sim import kpis as K
from sim.metrics.base import _by_stage, _is_in, _level_at, _steps
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

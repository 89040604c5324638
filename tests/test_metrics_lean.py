"""The numpy pairing of queue joins with their ends equals its pandas definition (groupby
cumcount + merge), on random logs with unfinished waits, re-joins and interleaved families.
Exact comparison: the pairing involves no arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.metrics.base import _cumcount, _pair_waits
from sim.metrics.log import Log


def _definition(rows: pd.DataFrame) -> pd.DataFrame:
    joins = rows[rows["event"] == "join"][["family_id", "time"]].copy()
    ends = rows[rows["event"].isin(("start", "leave"))][["family_id", "time", "event", "detail"]].copy()
    joins["n"] = joins.groupby("family_id").cumcount()
    ends["n"] = ends.groupby("family_id").cumcount()
    return joins.merge(ends, on=["family_id", "n"], how="left", suffixes=("_join", "_end"))


def _random_log(seed: int, families: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for fid in range(families):
        t = rng.uniform(0, 100)
        for _ in range(rng.integers(1, 4)):  # up to three waits a family
            rows.append((t, fid, "join", ""))
            t += rng.exponential(5)
            u = rng.uniform()
            if u < 0.6:
                rows.append((t, fid, "start", ""))
            elif u < 0.8:
                rows.append((t, fid, "leave", str(rng.choice(["withdrawn", "escalated"]))))
            else:
                break  # still waiting at the end
            t += rng.exponential(5)
    rows.sort(key=lambda r: r[0])
    return pd.DataFrame(
        {
            "time": [r[0] for r in rows],
            "family_id": np.array([r[1] for r in rows], dtype=np.int64),
            "episode": np.zeros(len(rows), dtype=np.int32),
            "event": pd.Categorical([r[2] for r in rows], categories=["referral", "join", "leave", "start", "end"]),
            "stage": pd.Categorical(["level3"] * len(rows)),
            "service": pd.Categorical([""] * len(rows)),
            "detail": pd.Categorical([r[3] for r in rows]),
            "locality": pd.Categorical([""] * len(rows)),
            "children": np.ones(len(rows), dtype=np.int16),
        }
    )


@pytest.mark.parametrize("seed", range(5))
def test_pair_waits_equals_groupby_merge(seed: int) -> None:
    rows = _random_log(seed)
    want = _definition(rows).reset_index(drop=True)
    got = _pair_waits(Log.from_frame(rows))
    for column in ("family_id", "time_join", "n", "time_end"):
        np.testing.assert_array_equal(getattr(got, column), want[column].to_numpy(dtype=float), err_msg=column)
    for column in ("event", "detail"):
        codes = getattr(got, column)
        values = [codes.labels[c] if c >= 0 else None for c in codes.codes]
        assert values == [None if pd.isna(v) else str(v) for v in want[column].tolist()], column
    assert want["event"].isna().any() and want["event"].notna().any()  # both kinds of join are checked


def test_pair_waits_of_an_empty_log() -> None:
    assert len(_pair_waits(Log.from_frame(_random_log(0).iloc[:0])).time_join) == 0


def test_pair_waits_of_joins_with_no_end_yet() -> None:
    # every family still waiting at the end: joins and not one start or leave in the log (a
    # short run, an overloaded list); each join pairs with nothing (it raised IndexError)
    rows = _random_log(0)
    rows = rows[rows["event"] == "join"].reset_index(drop=True)
    got = _pair_waits(Log.from_frame(rows))
    assert len(got.time_join) == len(rows) > 0
    assert np.isnan(got.time_end).all()
    assert (got.event.codes == -1).all() and (got.detail.codes == -1).all()


def test_cumcount_equals_pandas() -> None:
    keys = np.random.default_rng(1).integers(0, 7, size=200)
    expected = pd.Series(keys).groupby(keys).cumcount().to_numpy()
    np.testing.assert_array_equal(_cumcount(keys), expected)


def _places_definition(ev: pd.DataFrame) -> pd.DataFrame:
    """:func:`sim.metrics.flows._places` as it was written in pandas (string columns, groupby)."""
    from sim import kpis as K
    from sim.metrics.flows import _FLOW_JOINS, _NOTHING_MORE, _PLAN_CLOSES, _SC_CASES, _SC_EXITS, _STEP_CLOSES
    from sim.vocab import REFERRAL_STEP_DOWN, Event, Stage

    event, stage, detail = ev["event"].astype(str), ev["stage"].astype(str), ev["detail"].astype(str)
    is_exit = event == Event.EXIT
    exits = is_exit.astype(int)
    exited = exits.groupby([ev["family_id"], ev["episode"]]).cumsum() - exits
    sc_end = (event == Event.END) & (
        (stage.isin((Stage.CIN, Stage.CP)) & detail.isin(_PLAN_CLOSES))
        | (stage == Stage.LAC)
        | (stage.isin(_STEP_CLOSES) & detail.isin(_NOTHING_MORE))
    )
    sc_in = (event == Event.START) & (stage.isin(_SC_CASES) | stage.isin((Stage.SC_REFERRAL, Stage.ASSESSMENT)))
    entered = sc_in.astype(int).groupby([ev["family_id"], ev["episode"]]).cumsum()
    eh_join = (event == Event.JOIN) & stage.isin(_FLOW_JOINS) & (exited == 0) & (entered == 0)
    keep = (event == Event.REFERRAL) | eh_join | is_exit | sc_in
    rows = pd.DataFrame(
        {
            "family_id": ev["family_id"],
            "time": ev["time"].astype(float),
            "event": event,
            "detail": detail,
            "place": np.where(
                is_exit, np.where(detail.isin(_SC_EXITS), K.SOCIAL_CARE, ""), np.where(sc_in, K.SOCIAL_CARE, stage)
            ),
            "sc_end": sc_end,
        }
    )[keep | sc_end]
    rows.loc[rows["sc_end"], "place"] = ""
    step_down = (rows["event"] == Event.REFERRAL) & (rows["detail"] == REFERRAL_STEP_DOWN)
    followed = step_down.groupby(rows["family_id"]).shift(-1, fill_value=False).astype(bool)
    rows = rows[~(rows["sc_end"] & followed)]
    rows["prev"] = rows.groupby("family_id")["place"].shift(1, fill_value="")
    return rows[rows["prev"] != rows["place"]]


@pytest.mark.parametrize("config", ["configs/kirklees/baseline.yaml", "configs/worcestershire/baseline.yaml"])
def test_places_equals_pandas_definition(config: str) -> None:
    """The numpy flow moves equal the pandas definition row for row on the log of a council with
    social care cases, step-downs, edge of care and re-referrals (a short run: ~1 s each)."""
    import sim
    from sim.metrics.flows import _places
    from sim.model import simulate

    scenario = sim.load_scenario(config, overrides={"run.duration_days": 400, "run.warmup_days": 50})
    events = simulate(scenario, 5, 0).log.to_frame()
    want = _places_definition(events)[["family_id", "time", "event", "detail", "place", "prev"]]
    got = _places(Log.from_frame(events))
    assert len(got["time"]) > 1000  # the check covers many moves
    for column in want.columns:
        assert got[column].tolist() == want[column].tolist(), column


def test_group_cumsum_equals_pandas_on_interleaved_families() -> None:
    # families' rows interleaved down the log, each family's episode growing as its rows go
    rng = np.random.default_rng(3)
    fid = rng.integers(0, 9, size=400)
    episode = np.zeros(400, dtype=np.int32)
    current: dict[int, int] = {}
    for i, f in enumerate(fid.tolist()):
        current[f] = current.get(f, 0) + int(rng.uniform() < 0.2)
        episode[i] = current[f]
    xa, xb = rng.uniform(size=400) < 0.3, rng.uniform(size=400) < 0.5
    from sim.metrics.flows import _group_cumsum

    got = _group_cumsum(np.argsort(fid, kind="stable"), fid, episode, xa, xb)
    for x, run in zip((xa, xb), got, strict=True):
        want = pd.Series(x.astype(int)).groupby([fid, episode]).cumsum().to_numpy()
        np.testing.assert_array_equal(run, want)


def test_a_familys_episode_never_decreases_down_the_log() -> None:
    # what _group_cumsum relies on (its order by family is its order by family and episode), on
    # a council with social care, step-downs, edge of care, supports and re-referrals
    import sim
    from sim.model import simulate

    scenario = sim.load_scenario("configs/kirklees/calibrated.yaml", overrides={"run.duration_days": 400})
    ev = Log.from_event_log(simulate(scenario, 5, 0).log)
    order = np.argsort(ev.family_id, kind="stable")
    f, e = ev.family_id[order], ev.episode[order]
    same = f[1:] == f[:-1]
    assert same.sum() > 1000 and (e[1:] > e[:-1])[same].sum() > 100  # many families, many re-referrals
    assert (e[1:] >= e[:-1])[same].all()

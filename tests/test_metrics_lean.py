"""The numpy pairing of queue joins with their ends equals its pandas definition (groupby
cumcount + merge), on random logs with unfinished waits, re-joins and interleaved families.
Exact comparison: the pairing involves no arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.metrics import _cumcount, _pair_waits


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
            "event": pd.Categorical([r[2] for r in rows], categories=["referral", "join", "leave", "start", "end"]),
            "detail": pd.Categorical([r[3] for r in rows]),
        }
    )


@pytest.mark.parametrize("seed", range(5))
def test_pair_waits_equals_groupby_merge(seed: int) -> None:
    rows = _random_log(seed)
    pd.testing.assert_frame_equal(_pair_waits(rows), _definition(rows).reset_index(drop=True), check_dtype=False)


def test_pair_waits_of_an_empty_log() -> None:
    assert len(_pair_waits(_random_log(0).iloc[:0])) == 0


def test_cumcount_equals_pandas() -> None:
    keys = np.random.default_rng(1).integers(0, 7, size=200)
    expected = pd.Series(keys).groupby(keys).cumcount().to_numpy()
    np.testing.assert_array_equal(_cumcount(keys), expected)

"""The per-list warm-up checks: every waiting list has a monthly series and its own check
(the social workers' list too)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

import sim
import sim.results as R
from sim.cli import main
from sim.present.narrative import summary_items
from sim.vocab import SOCIAL_WORKER_LIST, WAITING_LISTS, Event, Stage
from tests.conftest import CONFIGS

MONTH = 365 / 12
SCARCE = ["--set", "social_care.statutory.social_workers.case_holding_fte=70"]  # 120 in the default
"""Too few social workers for the default's social care: the list for one grows all run."""


# --------------------------------------------------------------------------- the social workers' list
def test_the_social_workers_list_is_a_monthly_series_of_children_waiting() -> None:
    """``waiting_social_worker``: the monthly time-average of children between their assessment's
    ``join`` (the referral decision) and its ``start`` (allocation), worked out here from the
    events by hand. It was not in the series, so the list was never checked."""
    scenario = sim.load_scenario(
        CONFIGS / "baseline.yaml",
        overrides={
            "run.duration_days": 400,
            "run.warmup_days": 30,
            "social_care.statutory.social_workers.case_holding_fte": 70,
        },
    )
    res = sim.run_replication(scenario, rep=0, seed=1)
    column = f"waiting_{SOCIAL_WORKER_LIST}"
    assert column == "waiting_social_worker" and SOCIAL_WORKER_LIST in WAITING_LISTS
    ev = res.events
    rows = ev[(ev["stage"].astype(str) == Stage.ASSESSMENT) & ev["event"].astype(str).isin([Event.JOIN, Event.START])]
    times = rows["time"].to_numpy(float)
    jumps = np.where(rows["event"].astype(str) == Event.JOIN, 1.0, -1.0) * rows["children"].to_numpy(float)
    order = np.argsort(times, kind="stable")
    times, level = times[order], np.cumsum(jumps[order])  # children waiting from each event on
    edges = [*(m * MONTH for m in range(len(res.series))), 400.0]
    want = []
    for a, b in pairwise(edges):
        cuts = np.clip(np.r_[times, b], a, b)  # each level holds from its event to the next
        before = level[times <= a][-1] if (times <= a).any() else 0.0
        want.append((before * (cuts[0] - a) + float(level @ np.diff(cuts))) / (b - a))
    got = res.series[column].to_numpy()
    assert got.max() > 100  # the list is long: the case is what it says
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_a_social_workers_list_growing_all_run_is_warned_of(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Worcestershire's budget cut over 9-10 years: 1,180 then 2,309 children waiting for a
    social worker at the end, yet only the key-worker list was warned of and the report's Checks
    line said nothing. With 70 social workers instead of 120 the default's list grows from 60 to
    about 1,300 children in two years: the console, diagnostics.json and the report's Checks
    line say so, in the words every list gets."""
    out = tmp_path / "r"
    over = ["--set", "run.duration_days=730", "--set", "run.warmup_days=30", *SCARCE]
    assert main(["run", str(CONFIGS / "baseline.yaml"), "--replications", "2", "--out", str(out), *over]) == 0
    err = capsys.readouterr().err
    said = (
        "the list for a social worker is still growing at the end of the run (MSER-5 finds no steady state "
        "within it), so its waits and length depend on how long the run is"
    )
    assert f"warning: {said}" in err
    res = R.read(out)
    diag = res.diagnostics["baseline"]
    assert diag["queue_drift"][SOCIAL_WORKER_LIST] == "growing"
    assert any(w.startswith(said) for w in diag["warnings"])
    assert f"waiting_{SOCIAL_WORKER_LIST}" in res.series.columns  # type: ignore[union-attr]
    checks = " ".join(i for i in summary_items(res) if "Checks:" in i)
    assert (
        "the waiting list for a social worker is still growing at the end of the run, "
        "so its wait depends on how long the run is"
    ) in checks

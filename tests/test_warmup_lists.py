"""The per-list warm-up checks: every waiting list has a monthly series and its own check
(the social workers' list too), and a point at MSER-5's cap is a warning only when the series
changes over the run (on steady noise the cap is where MSER-5's minimum often lands by chance).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
import sim.results as R
from sim.cli import main
from sim.experiment import diagnostics
from sim.present.narrative import summary_items
from sim.vocab import SOCIAL_WORKER_LIST, WAITING_LISTS, Event, Stage
from sim.warmup import Settling, diagnosed
from sim.warmup_stats import mser_cap, suggest_warmup
from tests.conftest import CONFIGS

MONTH = 365 / 12
SCARCE = ["--set", "social_care.statutory.social_workers.case_holding_fte=70"]  # 120 in the default
"""Too few social workers for the default's social care: the list for one grows all run."""


def _verdict(values: np.ndarray, warmup: float = 365.0) -> Settling:
    """The verdict the warm-up rule gives one monthly series (as ``diagnostics`` stores it)."""
    frame = pd.DataFrame({"rep": 0, "day": np.arange(len(values)) * MONTH, "x": values})
    main_verdict, _ = diagnosed({"warmup": suggest_warmup(frame, "x"), "warmup_days_configured": warmup})
    assert main_verdict is not None
    return main_verdict


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


# --------------------------------------------------------------------------- a point at the cap by chance
SUNDERLAND_PANEL = np.array(
    [
        *(1.41, 2.09, 2.21, 2.19, 2.12, 2.69, 2.3, 3.42, 1.87, 2.87, 1.68, 1.86, 2.43, 1.87, 1.99, 2.25, 2.3, 2.09),
        *(3.95, 3.05, 1.9, 2.17, 2.4, 2.68, 2.22, 3.68, 2.6, 2.66, 2.25, 2.63, 2.37, 2.78, 2.38, 2.68, 2.29, 2.22),
    ]
)
"""Sunderland's panel list (families), monthly, mean of 5 replications of the calibrated scenario
(``experiments/sunderland.py --replications 5``, seed 0): flat at 2-3 families all run."""


def test_a_flat_list_whose_point_is_the_cap_by_chance_is_not_warned_of() -> None:
    """MSER-5 on 36 months (7 batches) put the panel list's point at its cap, 457 days, and every
    Sunderland scenario was told the list "may still be changing at the end of the run"; with 20
    replications the warning went. The 3 batch means it cuts (2.0, 2.6, 2.0) do not differ from
    the 4 it keeps (2.7, 2.3, 2.8, 2.5; t = 2.1 on 3 df, under 3.18): no transient, no warning."""
    v = _verdict(SUNDERLAND_PANEL)
    assert v.at_cap and v.suggested_days == pytest.approx(mser_cap(36) * MONTH)  # the case is what it says
    assert not v.flagged and not v.settling and not v.undecided
    assert v.by_chance and v.steady and not v.transient


def _noise(rng: np.random.Generator, phi: float) -> np.ndarray:
    """36 months around 2.5 families, sd 0.5 a month, each month correlated ``phi`` with the last."""
    e = rng.normal(0.0, 0.5, 36)
    for i in range(1, 36):
        e[i] += phi * e[i - 1]
    return 2.5 + e


@pytest.mark.parametrize("phi", [0.0, 0.5])
def test_the_false_alarms_at_the_cap_are_rare(phi: float) -> None:
    """Steady noise, 36 months, warm-up 365 days: MSER-5's point is the cap (456.25 days, beyond
    the warm-up) in 15.5% of these runs (17.0% with month-to-month correlation 0.5), each warned
    of before (the old rule fails here: 16.1% and 17.8% warned). Now only those whose cut months
    differ from the kept ones at 95% (and by over 5%): 4.0% of all runs, and 5.9% with the
    correlation. MSER-5's selection makes the cut months look extreme, so of the runs at the cap
    more than the test's nominal 5% pass (26% and 35%); over all runs the rate stays near the
    nominal 5%. The runs are fixed (seed 0); the bound of 7.5% is about 3 binomial standard errors
    (0.5 points at 2,000 runs) above the correlated rate, and the old rate 20 above it."""
    rng = np.random.default_rng(0)
    runs = [_verdict(_noise(rng, phi)) for _ in range(2000)]
    at_cap = sum(v.at_cap and v.steady for v in runs)
    flagged = sum(v.flagged for v in runs if v.at_cap)
    assert at_cap / len(runs) > 0.12  # the problem exists: the old rule warned of all of these
    assert flagged / len(runs) < 0.075


def test_a_list_still_changing_at_the_cap_is_still_warned_of() -> None:
    """A slow fill-up, 90 -> 145 over 36 months (Kirklees's MST list grew 97 -> 123 -> 140 a
    year): MSER-5 stops at its cap and the tail's 4 batches are too few for drift to find the
    trend, but the months cut differ from those kept: still settling, and may still be changing
    (seed 0). Every one of 200 seeds is flagged."""
    t = np.arange(36.0)
    fill = 90 + 55 * (1 - np.exp(-t / 15))
    v = _verdict(fill + np.random.default_rng(0).normal(0, 4, 36))
    assert v.at_cap and v.steady and v.transient  # the case is what it says
    assert v.undecided and v.flagged and not v.by_chance
    assert all(_verdict(fill + np.random.default_rng(s).normal(0, 4, 36)).flagged for s in range(200))


def test_a_trending_list_is_still_warned_of() -> None:
    """Sunderland's key-worker list (yearly means 0.3, 8.5, 25.9 families; 5 replications) and a
    linear trend plus noise (seed 1) have no steady state within the run."""
    kw = np.array(
        [0.0] * 9
        + [0.2, 1.3, 1.5, 2.8, 2.6, 3.2, 2.3, 6.1, 9.0, 10.7, 13.6, 14.3, 13.4, 12.2, 12.0, 11.6, 15.3]
        + [20.9, 22.8, 22.3, 17.4, 23.7, 29.1, 31.5, 35.7, 37.4, 42.7]
    )
    line = 2 + 0.5 * np.arange(36.0) + np.random.default_rng(1).normal(0, 2, 36)
    for series in (kw, line):
        v = _verdict(series)
        assert v.drift == "growing" and v.flagged


def test_the_queue_checks_carry_the_transient_evidence() -> None:
    """The flat Sunderland panel list as a batch's only waiting-list series (warm-up 365 days):
    ``diagnostics`` stores its check under ``queue_warmup`` / ``queue_drift`` / ``queue_at_cap`` /
    ``queue_transient``, and ``diagnosed`` reads the same keys back: at the cap by chance, no
    warning. The same entry without ``queue_transient`` (a folder written before it was
    stored) counts the point as a transient: still settling, warned of."""
    small = sim.load_scenario(CONFIGS / "baseline.yaml", {"run.duration_days": 60, "run.warmup_days": 0})
    batch = sim.run_batch(small, 2, seed=1)
    run = small.run.model_copy(update={"duration_days": 36 * MONTH, "warmup_days": 365.0})
    column = f"waiting_{Stage.PANEL}"
    series = pd.DataFrame({"rep": 0, "day": np.arange(36) * MONTH, column: SUNDERLAND_PANEL})
    batch = replace(batch, series=series, scenario=small.model_copy(update={"run": run}))
    diag = diagnostics(batch)
    assert diag["queue_at_cap"] == {Stage.PANEL: True} and diag["queue_transient"] == {Stage.PANEL: False}
    verdict = diagnosed(diag)[1][Stage.PANEL]
    assert verdict.at_cap and verdict.by_chance and not verdict.flagged
    assert not any("list for" in w for w in diag["warnings"])
    old = {k: v for k, v in diag.items() if k != "queue_transient"}
    assert diagnosed(old)[1][Stage.PANEL].flagged

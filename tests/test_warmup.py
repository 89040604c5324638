"""The warm-up rule (sim.warmup): one verdict per series, the same on the console and in the
report.

Unit cases by hand at the boundary; then one batch read by every caller (the console's
warm-up check and warnings, the report's Diagnostics section, its summary and the warm-up
figure's title), which must agree on which series are still settling and on the days shown.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.results as R
from sim.cli import main
from sim.present import fig_diagnostics, page
from sim.present.console import WARMUP_ADVICE
from sim.present.narrative import summary_items
from sim.vocab import QUEUE_STAGES, Stage, stage_info
from sim.warmup import Settling, at_cap, diagnosed, queue_warning, unsteady, verdicts
from sim.warmup_stats import mser, mser_cap, suggest_warmup
from tests.conftest import CONFIGS

MONTH = 365 / 12


# --------------------------------------------------------------------------- the rule, by hand
def test_a_warmup_equal_to_the_point_is_long_enough() -> None:
    (v,) = verdicts({"x": 365.0}, 365).values()
    assert not v.settling and v.short_by == 0 and v.discard_days == 365


def test_a_warmup_one_day_shorter_is_still_settling_by_one_day() -> None:
    (v,) = verdicts({"x": 365.0}, 364).values()
    assert v.settling and v.short_by == 1 and v.discard_days == 365


def test_a_month_start_is_shown_as_the_whole_days_rounded_up() -> None:
    # MSER-5 on 24 months truncates at a multiple of 5 months: 5 x 365 / 12 = 152.083 days
    point = float(np.arange(0.0, 730, MONTH)[5])
    short, equal, longer = (verdicts({"x": point}, w)["x"] for w in (152, 153, 200))
    assert short.discard_days == equal.discard_days == longer.discard_days == 153  # 152 would not be enough
    assert short.settling and short.short_by == pytest.approx(point - 152, abs=1e-6)  # to a micro-day
    assert not equal.settling and not longer.settling and equal.short_by == longer.short_by == 0


def test_float_noise_above_a_whole_day_is_not_a_day_short() -> None:
    noisy = 12 * MONTH + 1e-12  # 365 in exact arithmetic
    (v,) = verdicts({"x": noisy}, 365).values()
    assert not v.settling and v.discard_days == 365


def test_unchecked_series_get_no_verdict_and_the_order_is_kept() -> None:
    out = verdicts({"b": 60.0, "nan": math.nan, "none": None, "a": 30.0}, 45)
    assert list(out) == ["b", "a"] and out["b"].settling and not out["a"].settling


def test_diagnosed_reads_the_measure_and_each_queue() -> None:
    diag = {
        "warmup": {"warmup_days": 91.25},
        "queue_warmup": {"level3": 30.0, "mst": 120.0},
        "warmup_days_configured": 91,
    }
    warm, queues = diagnosed(diag)
    assert warm == Settling(91.25, 91.0) and warm.settling and warm.discard_days == 92
    assert queues == {Stage.LEVEL3: Settling(30.0, 91.0), Stage.MST: Settling(120.0, 91.0)}
    assert [s for s, v in queues.items() if v.settling] == [Stage.MST]
    # a folder written before the queues were stored, and one with no series
    assert diagnosed({"warmup": {"warmup_days": 30.0}, "warmup_days_configured": 30})[1] == {}
    assert diagnosed({"warmup": {}, "warmup_days_configured": 30}) == (None, {})


# --------------------------------------------------------------------------- a steady state within the run?
def _monthly(values: np.ndarray) -> pd.DataFrame:
    """One replication's monthly series, as :func:`sim.warmup_stats.suggest_warmup` reads it."""
    return pd.DataFrame({"rep": 0, "day": np.arange(len(values)) * MONTH, "x": values})


def _check(values: np.ndarray, warmup: float) -> Settling:
    """The verdict the warm-up rule gives a series (as ``diagnostics`` stores and reads it)."""
    warm = suggest_warmup(_monthly(values), "x")
    main, _ = diagnosed({"warmup": warm, "warmup_days_configured": warmup})
    assert main is not None
    return main


T = np.arange(120.0)  # ten years of months: 24 batches of 5, so MSER-5 looks at cuts up to 55 months
NOISE = np.random.default_rng(3).normal(0.0, 1.0, len(T))
CAP_DAYS = 55 * MONTH


def test_a_steady_series_after_a_transient_gets_a_warmup_below_the_cap() -> None:
    steady = _check(50 + 40 * np.exp(-T / 6) + NOISE, 365)
    assert steady.steady and 0 < steady.suggested_days < CAP_DAYS - 5 * MONTH
    assert steady.settling == (steady.suggested_days > 365)
    longer = _check(50 + 40 * np.exp(-T / 6) + NOISE, steady.discard_days)
    assert longer.steady and not longer.settling and not longer.flagged


def test_a_list_growing_through_the_run_has_no_steady_state() -> None:
    """MSER-5 cut a linearly growing list at its cap, half the run, and a warm-up of half the
    run was 'long enough' (Worcestershire's key-worker list, 200 -> 430 through the window)."""
    growing = _check(100 + 3 * T + NOISE, 1825)
    assert growing.suggested_days == pytest.approx(CAP_DAYS)  # the capped point, which means nothing
    assert growing.drift == "growing" and not growing.steady and growing.flagged
    assert not growing.settling  # no warm-up advice: none would work
    said = unsteady("the list", growing, "its waits depend")
    assert said.startswith("the list is still growing at the end of the run")
    assert said.endswith(
        "so its waits depend on how long the run is; no warm-up within this run can be shown to fix that"
    )


def test_a_series_still_changing_at_the_cap_has_no_steady_state() -> None:
    """A fill-up slower than half the run: MSER-5's minimum is at its cap, and following it
    with a longer run only moves the cap (the default scenario's 456 -> 608 -> ...)."""
    values = 50 * (1 - np.exp(-T / 60)) + 0.3 * NOISE
    falling = 80 * np.exp(-T / 60) + 0.3 * NOISE
    for series, way in ((values, "growing"), (falling, "falling")):
        v = _check(series, 365)
        assert v.suggested_days == pytest.approx(CAP_DAYS)
        assert v.drift == way and not v.settling


def test_a_list_growing_ever_faster_has_no_steady_state_though_mser_cuts_nothing() -> None:
    """A list growing ever faster (Worcestershire's budget cut, 280 -> 860) made MSER-5 cut
    nothing, and no warning was given."""
    v = _check(280 * np.exp(T / 60) + NOISE, 1825)
    assert v.suggested_days == 0 and v.drift == "growing" and v.flagged


def test_steady_noise_is_steady_though_mser_may_stop_at_its_cap() -> None:
    """On a steady series with few batches MSER-5's minimum lands at its cap by chance (about
    a third of 4-batch runs): that alone does not make a series unsteady."""
    rng = np.random.default_rng(0)
    runs = [rng.normal(100.0, 10.0, 24) for _ in range(200)]
    at_cap = [x for x in runs if suggest_warmup(_monthly(x), "x")["truncation_index"] == 5]
    assert len(at_cap) > 40
    assert sum(not _check(x, 200).steady for x in at_cap) <= len(at_cap) // 10


def test_a_queue_with_no_steady_state_is_warned_of_without_a_warmup() -> None:
    diag = {
        "warmup": {"warmup_days": 91.25, "drift": ""},
        "queue_warmup": {"level3": 152.0, "mst": 30.0},
        "queue_drift": {"level3": "growing", "mst": ""},
        "warmup_days_configured": 160,
    }
    warm, queues = diagnosed(diag)
    assert warm is not None and warm.steady and not warm.flagged
    assert queues[Stage.LEVEL3].flagged and not queues[Stage.MST].flagged
    text = queue_warning(Stage.LEVEL3, queues[Stage.LEVEL3])
    assert text.startswith("the list for a key worker is still growing at the end of the run")
    assert "suggests" not in text and "warm-up within this run" in text
    # a folder written before drift was stored: steady, as it was read then
    old = {k: v for k, v in diag.items() if k != "queue_drift"}
    assert all(v.steady for v in diagnosed(old)[1].values())


def test_no_steady_state_is_said_alike_on_the_console_and_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plans lasting 2,000 days on average, never a queue: the open plans fill up over years,
    growing through a two-year run. The check suggested 153 days (its cap) and advised that
    warm-up; now the console, the report's Diagnostics and summary and the figure say there is
    no steady state within the run, and none advises a warm-up."""
    out = tmp_path / "r"
    over = ["--set", "early_help.duration.mean=2000", "--set", "teams.town.workers=10"]
    over += ["--set", "teams.town.caseload_cap=300", "--set", "run.duration_days=730", "--set", "run.warmup_days=30"]
    assert main(["run", str(CONFIGS / "validation" / "mmc.yaml"), "--replications", "2", "--out", str(out), *over]) == 0
    printed = capsys.readouterr().out
    res = R.read(out)
    warm, _ = diagnosed(res.diagnostics["mmc"])
    assert warm is not None and warm.drift == "growing"
    said = "is still growing at the end of the run (MSER-5 finds no steady state within it)"
    check = next(line for line in printed.splitlines() if line.startswith("Warm-up check"))
    assert said in check and "no warm-up within this run can be shown to fix that" in check
    assert "suggests" not in check and "run.warmup_days" not in printed
    section = page.diagnostics(res)
    assert said in section and "suggests discarding" not in section and "shorter than suggested" not in section
    checks = " ".join(i for i in summary_items(res) if "Checks:" in i)
    assert "is still growing at the end of the run, so every answer depends on how long the run is" in checks
    assert "MSER-5" not in checks
    fig = fig_diagnostics.warmup(res)
    title = fig._suptitle.get_text().replace("\n", " ")  # type: ignore[union-attr]
    assert "no steady state within the run" in title and "MSER-5 suggests" not in title
    assert not any("MSER-5 suggestion" in t.get_text() for t in fig.axes[0].get_legend().get_texts())


# --------------------------------------------------------------------------- a point at MSER-5's cap
def test_the_cap_is_the_largest_point_mser_may_choose() -> None:
    assert [mser_cap(n) for n in (9, 10, 24, 36, 48, 120)] == [0, 0, 5, 15, 20, 55]
    rising = np.arange(36.0)  # still rising: MSER's minimum is as late as it may look
    assert mser(rising) == mser_cap(36) == 15


def test_suggest_warmup_says_whether_its_point_is_at_the_cap() -> None:
    transient = suggest_warmup(_monthly(50 + 40 * np.exp(-T / 6) + NOISE), "x")
    slow = suggest_warmup(_monthly(50 * (1 - np.exp(-T / 60)) + 0.3 * NOISE), "x")
    flat = suggest_warmup(_monthly(np.full(36, 7.0)), "x")  # MSER cuts nothing: 0 is no cap
    assert transient["at_cap"] is False and slow["at_cap"] is True and flat["at_cap"] is False


KIRKLEES = {  # diagnostics.json of the calibrated Kirklees scenario, 4 replications of 3 years
    "warmup": {"warmup_days": 456.25, "drift": "", "n_points": 36, "truncation_index": 15, "at_cap": True},
    "queue_warmup": {"mst": 456.25, "panel": 152.08333333333334},
    "queue_drift": {"mst": "", "panel": ""},
    "queue_at_cap": {"mst": True, "panel": False},
    "warmup_days_configured": 365.0,
}


def test_a_list_settling_at_the_cap_gets_no_warmup_advice() -> None:
    """The MST list grows 97 -> 123 -> 140 through a 3-year window; MSER-5 cut at its cap, 457
    days, and the report advised that warm-up, after which the next run said "still growing".
    A point at the cap is a lower bound: the warning says so and advises a longer run."""
    warm, queues = diagnosed(KIRKLEES)
    assert warm is not None and warm.at_cap and warm.undecided and warm.flagged
    mst, panel = queues[Stage.MST], queues[Stage.PANEL]
    assert mst.undecided and not panel.at_cap and not panel.flagged
    text = queue_warning(Stage.MST, mst)
    assert text == (
        "the list for multi-systemic therapy is still settling after the warm-up (the scenario discards 365 days): "
        "MSER-5 on its monthly length suggests discarding at least 457 days, the most it can suggest in a run this "
        "long: the list may still be changing at the end of the run; run longer (a warm-up of 457 days or more and "
        "the same results window after it) to tell"
    )
    assert "the first" not in text and at_cap("the list", mst, " on its monthly length") in text
    # a warm-up as long as the cap is long enough, whatever the cap: nothing to say
    assert not verdicts({"x": 456.25}, 457, caps={"x": True})["x"].flagged


def test_a_folder_written_before_the_cap_was_stored_reads_as_not_at_cap() -> None:
    old = {k: v for k, v in KIRKLEES.items() if k != "queue_at_cap"}
    old["warmup"] = {k: v for k, v in KIRKLEES["warmup"].items() if k != "at_cap"}
    warm, queues = diagnosed(old)
    assert warm is not None and not warm.at_cap and warm.settling
    assert not queues[Stage.MST].at_cap
    assert "suggests discarding the first 457 days" in queue_warning(Stage.MST, queues[Stage.MST])


# --------------------------------------------------------------------------- every caller agrees
def _said_settling(text: str, state: str = "settling") -> set[str]:
    """The stages whose list a text says is still settling (or growing...), by their phrase (the
    summary's Checks line calls it the waiting list)."""
    return {
        s
        for s in QUEUE_STAGES
        if re.search(f"the (waiting )?list for {stage_info(s).phrase} is still {state}", text.lower())
    }


@pytest.mark.parametrize(
    ("plan_days", "warmup", "settling", "chance"),
    [
        (3.0, 10, False, True),  # rho 1.5: the key-worker list grows throughout; plans fill up at once
        (3.0, 152, False, True),  # both truncate at 152.08 days: a warm-up of 152 is a hair short of it
        (3.0, 153, False, False),  # ... and one of 153, the days shown, is enough
        (1.2, 153, False, False),  # rho 0.6: no queue to check (it averages under one family)
    ],
)
def test_the_console_and_the_report_give_the_same_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan_days: float, warmup: int, settling: bool, chance: bool
) -> None:
    """An M/M/c of 4 slots at 2 referrals a day, 24 months (MSER-5 truncates after 5, 10...
    months). The console said the key-worker list was still settling while the report said
    nothing of it; and a truncation point of 152.08 days was shown as 152 beside a warm-up of
    152 that it called too short. The key-worker list at rho 1.5 grows throughout: no warm-up
    settles it (the check once called a warm-up of 153 days long enough for it). The open plans
    fill up in the first month (batch means 3.94, 4, 4, 4): MSER-5's point is its cap, once "still
    settling, may still be changing"; the 1.5% it cuts is no transient worth a warm-up, and every
    caller says so alike (``chance``)."""
    out = tmp_path / "r"
    over = ["--set", f"early_help.duration.mean={plan_days}"]
    over += ["--set", "run.duration_days=730", "--set", f"run.warmup_days={warmup}"]
    assert main(["run", str(CONFIGS / "validation" / "mmc.yaml"), "--replications", "2", "--out", str(out), *over]) == 0
    printed = capsys.readouterr()
    res = R.read(out)
    warm, queues = diagnosed(res.diagnostics["mmc"])
    assert warm is not None and warm.settling == settling  # the case is what it says
    # 24 months: MSER-5 cuts at most 5 (152.08 days), so a warm-up short of it is short of the cap
    assert warm.at_cap and warm.undecided == settling and warm.by_chance == chance

    # the console: the warm-up check with its advice, and a warning for each list still settling
    check = next(line for line in printed.out.splitlines() if line.startswith("Warm-up check"))
    console_days = int(re.search(r"(?:suggests (?:discarding at least )?|at its cap, )(\d+) days", check).group(1))  # type: ignore[union-attr]
    console_short = "run longer" in check
    assert f"  {WARMUP_ADVICE.format(days=console_days)}" not in printed.out.splitlines()  # at the cap: no such advice
    console_lists = _said_settling(printed.err)

    # the report: the Diagnostics section, the summary's pointer to it, the warm-up figure's title
    section = page.diagnostics(res)
    main_text = section[section.index("<p>Warm-up (") :].split("</p>")[0]
    report_days = int(
        re.search(r"(?:suggests discarding (?:the first|at least)|at its cap,) ([\d,]+) days", main_text)
        .group(1)  # type: ignore[union-attr]
        .replace(",", "")
    )  # type: ignore[union-attr]
    report_short = "run longer" in main_text and "(shorter than suggested" not in main_text
    checks = " ".join(i for i in summary_items(res) if "Checks:" in i)
    fig = fig_diagnostics.warmup(res)
    title = fig._suptitle.get_text().replace("\n", " ")  # type: ignore[union-attr]
    figure_days = int(
        re.search(r"MSER-5 (?:suggests (?:at least )?|stops at its cap, )([\d,]+) days", title)
        .group(1)
        .replace(",", "")
    )  # type: ignore[union-attr]

    measure = "the number of open level 3 key-worker plans"
    assert (
        console_short == report_short == (f"{measure} may still be changing at the end" in checks.lower()) == settling
    )
    assert ("(run longer to tell)" in title) == settling and "(shorter than suggested)" not in title
    assert console_lists == _said_settling(section) == _said_settling(checks) == set()  # none settles later
    growing = {Stage.LEVEL3} if plan_days == 3.0 else set()  # only the key-worker list is long: it grows
    assert _said_settling(printed.err, "growing") == _said_settling(section, "growing") == growing
    assert _said_settling(checks, "growing") == growing
    assert (console_days > warmup) == (settling or chance)  # the days shown are enough, but for a chance cap
    assert ("no transient worth" in check) == ("no transient worth" in main_text) == ("no transient" in title) == chance
    assert console_days == report_days == figure_days == warm.discard_days
    assert list(queues) == ([Stage.LEVEL3] if plan_days == 3.0 else [])
    for stage, v in queues.items():
        assert v.drift == "growing" and not v.settling
        assert f"warning: {queue_warning(stage, v)}" in printed.err.splitlines()
        assert "no warm-up within this run can be shown to fix that" in queue_warning(stage, v)

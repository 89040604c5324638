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
import pytest

import sim.results as R
from sim.cli import WARMUP_ADVICE, main
from sim.present import fig_diagnostics, page
from sim.present.narrative import summary_items
from sim.vocab import QUEUE_STAGES, Stage, stage_info
from sim.warmup import Settling, diagnosed, queue_warning, verdicts
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


# --------------------------------------------------------------------------- every caller agrees
def _said_settling(text: str) -> set[str]:
    """The stages whose list a text says is still settling (by their phrase)."""
    return {s for s in QUEUE_STAGES if f"the list for {stage_info(s).phrase} is still settling" in text.lower()}


@pytest.mark.parametrize(
    ("plan_days", "warmup", "settling"),
    [
        (3.0, 10, True),  # rho 1.5: the key-worker list grows throughout; plans fill up at once
        (3.0, 152, True),  # both truncate at 152.08 days: a warm-up of 152 is a hair short
        (3.0, 153, False),  # ... and one of 153, the days shown, is enough
        (1.2, 153, False),  # rho 0.6: no queue to check (it averages under one family)
    ],
)
def test_the_console_and_the_report_give_the_same_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan_days: float, warmup: int, settling: bool
) -> None:
    """An M/M/c of 4 slots at 2 referrals a day, 24 months (MSER-5 truncates after 5, 10...
    months). The console said the key-worker list was still settling while the report said
    nothing of it; and a truncation point of 152.08 days was shown as 152 beside a warm-up of
    152 that it called too short."""
    out = tmp_path / "r"
    over = ["--set", f"early_help.duration.mean={plan_days}"]
    over += ["--set", "run.duration_days=730", "--set", f"run.warmup_days={warmup}"]
    assert main(["run", str(CONFIGS / "validation" / "mmc.yaml"), "--replications", "2", "--out", str(out), *over]) == 0
    printed = capsys.readouterr()
    res = R.read(out)
    warm, queues = diagnosed(res.diagnostics["mmc"])
    assert warm is not None and warm.settling == settling  # the case is what it says

    # the console: the warm-up check with its advice, and a warning for each list still settling
    check = next(line for line in printed.out.splitlines() if line.startswith("Warm-up check"))
    console_days = int(re.search(r"suggests (\d+) days", check).group(1))  # type: ignore[union-attr]
    console_short = f"  {WARMUP_ADVICE.format(days=console_days)}" in printed.out.splitlines()
    console_lists = _said_settling(printed.err)

    # the report: the Diagnostics section, the summary's pointer to it, the warm-up figure's title
    section = page.diagnostics(res)
    report_days = int(re.search(r"suggests discarding the first ([\d,]+) days", section).group(1).replace(",", ""))  # type: ignore[union-attr]
    report_short = "(shorter than suggested" in section
    checks = " ".join(i for i in summary_items(res) if "Checks:" in i)
    fig = fig_diagnostics.warmup(res)
    title = fig._suptitle.get_text().replace("\n", " ")  # type: ignore[union-attr]
    figure_days = int(re.search(r"MSER-5 suggests ([\d,]+) days", title).group(1).replace(",", ""))  # type: ignore[union-attr]

    assert console_short == report_short == ("shorter than MSER-5 suggests" in checks) == settling
    assert ("(shorter than suggested)" in title) == settling
    lists = {Stage.LEVEL3} if plan_days == 3.0 and settling else set()  # only the key-worker list is long
    assert console_lists == _said_settling(section) == _said_settling(checks) == lists
    assert (console_days > warmup) == settling  # the days shown are enough exactly when the verdict says so
    assert console_days == report_days == figure_days == warm.discard_days
    assert list(queues) == ([Stage.LEVEL3] if plan_days == 3.0 else [])
    for stage, v in queues.items():
        assert v.settling == settling
        if v.settling:
            assert f"warning: {queue_warning(stage, v)}" in printed.err.splitlines()

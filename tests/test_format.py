"""How numbers are shown: a value and its interval at one precision (``sim.present.format``).

A planner reads "0.0 (0.017 to 0.024)" as a mean outside its own interval, "0.0 -> 0.0" next to a
clear-difference mark as a contradiction, and "up by 2%" for a change of two shares as a relative
change. These tests pin the rules on the console's tables and the report's text.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import kpis as K
from sim.present import console, narrative
from sim.present.format import DIFF_ROW, fmt_number, fmt_row, negligible
from sim.vocab import Stage

FRONT_DOOR_WAIT = K.wait(Stage.FRONT_DOOR, "mean")
UTILISATION = K.utilisation("social_workers", "social workers")
DIFF = DIFF_ROW


def _num(text: str) -> tuple[float, int]:
    """A number as printed and its decimals."""
    t = text.replace("£", "").replace(",", "").replace("%", "").strip()
    assert re.fullmatch(r"-?\d+(\.\d+)?", t), f"not a number: {text!r}"
    return float(t), len(t.split(".")[1]) if "." in t else 0


def _after_label(line: str) -> str:
    """A console line's numbers: after the KPI's label and unit, without "95% CI"."""
    return line.split(")", 1)[1].replace("95% CI", "")


def _summary(mean: float, low: float, high: float, kpi: K.Kpi) -> pd.DataFrame:
    return pd.DataFrame([{"kpi": kpi.name, "mean": mean, "ci_low": low, "ci_high": high}])


def _differences(kpi: K.Kpi, base: float, option: float, low: float, high: float, n: int = 4) -> pd.DataFrame:
    row = {"option": "opt", "kpi": kpi.name, "base_mean": base, "option_mean": option, "diff_mean": option - base}
    row |= {"ci_low": low, "ci_high": high, "diff_sd": 0.01, "n": n, "distinguishable": low > 0 or high < 0}
    return pd.DataFrame([row])


def test_the_console_shows_a_mean_inside_its_interval() -> None:
    """The reviewer's case: a front-door wait of 0.0204 days, 95% CI 0.017 to 0.024, printed
    "0.0 | 0.017 to 0.024". The mean is shown at its interval's precision."""
    (line,) = console.summary_lines(_summary(0.0204, 0.017, 0.024, FRONT_DOOR_WAIT), [FRONT_DOOR_WAIT], 365.0, 4)[1:]
    mean, low, high = (_num(t) for t in re.findall(r"-?\d[\d,]*\.?\d*", _after_label(line)))
    assert low[0] <= mean[0] <= high[0], line
    assert mean[1] == low[1] == high[1] == 3, line


def test_two_levels_with_a_clear_difference_never_read_as_equal() -> None:
    """The reviewer's case: "* 0.0 -> 0.0 diff 0.014 (95% CI 0.01 to 0.017)". The levels, the
    difference and its interval are shown at one precision, enough that the levels differ."""
    d = _differences(FRONT_DOOR_WAIT, 0.0062, 0.0202, 0.0104, 0.0172)
    (line,) = console.difference_lines(d, [FRONT_DOOR_WAIT], 365.0, "opt")
    assert line.lstrip().startswith(console.CLEAR_MARK)
    base, option, diff, low, high = (_num(t) for t in re.findall(r"-?\d[\d,]*\.?\d*", _after_label(line)))
    assert base[0] != option[0], line
    assert base[1] == option[1] == diff[1] == low[1] == high[1], line
    assert low[0] <= diff[0] <= high[0] and low[0] > 0, line


def test_a_change_in_a_share_is_in_percentage_points_at_one_precision() -> None:
    """The reviewer's case: 76.77% -> 78.45%, +1.68 points (95% CI 1.40 to 1.96) was printed "up by
    2%, from 77% to 78% (95% CI 1% to 2%)". It reads in percentage points, and the levels
    subtract to the difference as shown."""
    base, option, diff, low, high = fmt_row(
        {"base_mean": 0.7677, "option_mean": 0.7845, "diff_mean": 0.0168, "ci_low": 0.0140, "ci_high": 0.0196},
        UTILISATION,
        365.0,
        DIFF,
    )
    assert (base, option, diff, low, high) == ("76.8%", "78.5%", "1.7", "1.4", "2.0")
    d = _differences(UTILISATION, 0.7677, 0.7845, 0.0140, 0.0196)
    (line,) = console.difference_lines(d, [UTILISATION], 365.0, "opt")
    assert "diff 1.7 (95% CI 1.4 to 2.0) percentage points" in line, line


class _Res:
    """Just what :func:`sim.present.narrative._clause` reads of a comparison's results."""

    def __init__(self, differences: pd.DataFrame, kpi: K.Kpi) -> None:
        self.differences = differences
        self.kpis = {kpi.name: kpi}

    def window_days(self, _name: Any = None) -> float:
        return 365.0

    def config(self, _name: str) -> dict[str, Any]:
        return {}  # no resolved scenario: no dated changes


def test_the_report_says_a_change_in_a_share_in_percentage_points() -> None:
    d = _differences(UTILISATION, 0.7677, 0.7845, 0.0140, 0.0196)
    row = {str(k): v for k, v in d.iloc[0].items()}
    text, how = narrative._clause(_Res(d, UTILISATION), "opt", UTILISATION, row)  # type: ignore[arg-type]
    plain = re.sub(r"<[^>]+>", "", text)
    assert how == "clear"
    want = (
        f"{UTILISATION.label}: up 1.7 percentage points, from 76.8% to 78.5% (95% CI of the change 1.4 to 2.0 points)"
    )
    assert plain == want, plain


def test_the_report_shows_a_mean_inside_its_interval() -> None:
    """The narrative's numbers of one summary row share its precision (the headline's "0.0"
    against "0.017 to 0.024")."""
    kpi = FRONT_DOOR_WAIT
    row = {"mean": 0.0204, "ci_low": 0.017, "ci_high": 0.024}
    shown = fmt_row(row, kpi, 365.0, ("mean", "ci_low", "ci_high"))
    assert shown == ["0.020", "0.017", "0.024"]


@pytest.mark.parametrize("kind", ["days", "count", "level", "share", "gbp", "number"])
def test_every_group_reads_in_order_and_off_zero_when_its_interval_excludes_zero(kind: str) -> None:
    """Random levels and intervals at every scale: the mean (and the difference) read inside the
    interval; an interval that excludes zero has no end reading 0; an interval whose ends differ
    is not printed as one number; two levels with a clear difference read apart. Money is
    never shown past whole pounds: there, ends a pound or more apart read apart, and an end of
    half a pound or more off zero reads off zero."""
    # signed: these levels may be negative (a non-negative KPI's interval is bounded, see
    # test_a_difference_interval_never_puts_the_options_level_below_zero)
    kpi = K.Kpi("x", "x", "u", kind, "x", signed=True)  # type: ignore[arg-type]
    rng = np.random.default_rng(7)
    for _ in range(400):
        scale = 10.0 ** rng.uniform(-4, 6)
        mean, half = rng.normal() * scale, abs(rng.normal()) * scale * 10.0 ** rng.uniform(-3, 0.5)
        base = abs(rng.normal()) * scale
        row = {"base_mean": base, "option_mean": base + mean, "diff_mean": mean}
        row |= {"ci_low": mean - half, "ci_high": mean + half}
        if kind == "share":
            row = {k: v / 100 for k, v in row.items()}  # stored as fractions, shown in percent
        b, o, m, lo, hi = (_num(t)[0] for t in fmt_row(row, kpi, 365.0, DIFF))
        assert lo <= m <= hi, (row, b, o, m, lo, hi)
        pound = 1.0 if kind == "gbp" else 0.0  # the least money shown
        if half > 0 and 2 * half >= pound:
            assert lo < hi, row
        if (mean - half > 0 or mean + half < 0) and min(abs(mean - half), abs(mean + half)) >= pound / 2:
            assert lo != 0 and hi != 0, row
            if abs(mean) >= pound:
                assert b != o, row


def test_a_lone_number_keeps_its_kinds_precision() -> None:
    assert fmt_number(1234.5, "count") == "1,234"
    assert fmt_number(-0.04, "days") == "0.0"  # never -0
    assert fmt_number(0.775, "share", 1) == "0.8%" or fmt_number(0.775, "share", 1) == "0.7%"
    assert fmt_number(46_816_018, "gbp") == "£46,816,018"
    assert fmt_number(math.nan, "days") == "n/a"


def test_the_reports_text_shows_millions_of_pounds_short_and_the_tables_in_pounds() -> None:
    """The reviewer's case: "£46,816,018 (£41,635,097 to £51,996,939)" in the text, pounds against a
    ±£5m interval. The text shows £m at the group's precision; the tables keep pounds."""
    cost = K.per_year(K.COST_TOTAL)
    row = {"mean": 46_816_018.0, "ci_low": 41_635_097.0, "ci_high": 51_996_939.0}
    assert fmt_row(row, cost, 365.0, ("mean", "ci_low", "ci_high"), short=True) == ["£46.8m", "£41.6m", "£52.0m"]
    assert fmt_row(row, cost, 365.0, ("mean",)) == ["£46,816,018"]
    small = {"mean": 350_000.0, "ci_low": 300_000.0, "ci_high": 400_000.0}
    assert fmt_row(small, cost, 365.0, ("mean",), short=True) == ["£350,000"]
    d = _differences(cost, 46_816_018.0, 47_145_083.0, 284_769.0, 373_360.0)
    row = {str(k): v for k, v in d.iloc[0].items()}
    text, how = narrative._clause(_Res(d, cost), "opt", cost, row)  # type: ignore[arg-type]
    plain = re.sub(r"<[^>]+>", "", text)
    assert how == "clear"
    # the change is under £1m: in pounds, beside levels in millions (money_change)
    assert plain == (
        f"the {cost.label} rises by £329,065 a year, from £46.82m to £47.15m "
        "(95% CI of the change £284,769 to £373,360)"
    )


def test_the_reports_text_states_a_change_in_a_wait() -> None:
    """The planner's case: "The mean wait for multi-systemic therapy falls from 360.5 to 305.3
    days (95% CI -72.0 to -38.4)" left the reader to subtract, and the interval read as one of a
    level. A wait's clause says the change first, as the withdrawals' and the money's do."""
    kpi = K.wait(Stage.MST, "mean")
    d = _differences(kpi, 360.5, 305.3, -72.0, -38.4)
    row = {str(k): v for k, v in d.iloc[0].items()}
    text, how = narrative._clause(_Res(d, kpi), "opt", kpi, row)  # type: ignore[arg-type]
    plain = re.sub(r"<[^>]+>", "", text)
    assert how == "clear"
    assert plain == f"the {kpi.label} falls by 55.2 days, from 360.5 to 305.3 (95% CI of the change -72.0 to -38.4)"
    up = _differences(kpi, 305.3, 360.5, 38.4, 72.0)
    text, _ = narrative._clause(_Res(up, kpi), "opt", kpi, {str(k): v for k, v in up.iloc[0].items()})  # type: ignore[arg-type]
    assert re.sub(r"<[^>]+>", "", text).startswith(f"the {kpi.label} rises by 55.2 days, from 305.3 to 360.5 (")
    withdrawn = _differences(K.WITHDRAWN_TOTAL, 129.4, 116.6, -15.7, -9.8)
    text, _ = narrative._clause(  # type: ignore[arg-type]
        _Res(withdrawn, K.WITHDRAWN_TOTAL), "opt", K.WITHDRAWN_TOTAL, {str(k): v for k, v in withdrawn.iloc[0].items()}
    )
    assert re.sub(r"<[^>]+>", "", text).endswith("(129.4 → 116.6; 95% CI of the change -15.7 to -9.8)")


def test_a_difference_is_negligible_when_it_reads_zero_as_the_text_shows_it() -> None:
    """Negligible is judged at the precision the report's text shows the difference at (the
    KPI's one precision in every option, ``decimals``; else the row's own): a caseload change of
    0.0028 children whose interval needs three decimals to read shows as 0.003, not "0.00"; a
    change in money under a pound shows as £0; a wait's 0.037 days at three decimals is no
    "0.0 days"."""

    def row(kpi: K.Kpi, base: float, diff: float) -> dict[str, Any]:
        return {str(k): v for k, v in _differences(kpi, base, base + diff, diff / 2, diff * 2).iloc[0].items()}

    assert negligible(row(K.SW_CASELOAD, 15.3547, 0.0028), K.SW_CASELOAD, 365.0) == ""
    assert negligible(row(K.SW_CASELOAD, 15.352, 0.0028), K.SW_CASELOAD, 365.0, decimals=2) == "0.00 children"
    assert negligible(row(UTILISATION, 0.767736, 0.000138), UTILISATION, 365.0, decimals=0) == "0 percentage points"
    assert negligible(row(UTILISATION, 0.767736, 0.006), UTILISATION, 365.0) == ""
    cost = K.per_year(K.COST_TOTAL)
    assert negligible(row(cost, 81_769_464.0, 0.4), cost, 365.0) == "£0"
    panel = row(FRONT_DOOR_WAIT, 6.889, 0.037)
    assert negligible(panel, FRONT_DOOR_WAIT, 365.0, decimals=3) == ""
    assert negligible(panel, FRONT_DOOR_WAIT, 365.0, decimals=1) == "0.0 days"
    assert negligible(row(FRONT_DOOR_WAIT, 360.5, -55.2), FRONT_DOOR_WAIT, 365.0) == ""


# --------------------------------------------------------------------------- levels and their difference add up
def _units(text: str) -> int:
    """A number as printed, in units of its last digit (``-12.8`` -> -128)."""
    t = text.replace("£", "").replace(",", "").replace("%", "").removesuffix("m").strip()
    return int(t.replace(".", ""))


def _adds_up(base: str, option: str, diff: str) -> bool:
    """Whether the shown option less the shown baseline is the shown difference (one precision)."""
    return _units(option) - _units(base) == _units(diff)


@pytest.mark.parametrize(
    ("kpi", "base", "option", "low", "high", "want"),
    [
        # the review's "129 -> 117 diff -13" (exact 129.375 -> 116.625, -12.75)
        (K.WITHDRAWN_TOTAL, 129.375, 116.625, -15.9, -9.6, "129.4 -> 116.6   diff -12.8 (95% CI -15.9 to -9.6)"),
        # "3,181 -> 3,188 diff 6" (exact 6.125)
        (K.REFERRALS_TOTAL, 3181.375, 3187.5, 2.9, 9.35, "3,181.4 -> 3,187.5   diff 6.1 (95% CI 2.9 to 9.3)"),
        # "122 -> 123 diff 0"
        (K.CARE_ENTRIES, 122.375, 122.625, -1.5, 2.0, "122.4 -> 122.6   diff 0.2 (95% CI -1.5 to 2.0)"),
    ],
)
def test_the_console_shows_levels_that_subtract_to_the_difference(
    kpi: K.Kpi, base: float, option: float, low: float, high: float, want: str
) -> None:
    """The review's cases: the console printed two levels whose difference as shown is not the
    difference shown beside them. One precision for the row, raised until they add up."""
    (line,) = console.difference_lines(_differences(kpi, base, option, low, high), [kpi], 365.0, "opt")
    assert re.sub(r"\s+->\s+", " -> ", line).endswith(want), line


def test_the_reports_text_says_a_rise_in_money_that_its_levels_add_up_to() -> None:
    """The review's case: "rises by £0.1m a year, from £5.5m to £5.7m" (exact £115,927, the same in
    every replication: the cost of the staff added). Then "rises by £0.12m ... (95% CI of the
    change £0.12m to £0.12m)": a change under £1m is now in whole pounds; its levels stay in
    millions, at the precision at which they subtract to it in millions."""
    cost = K.per_year(K.COST_EARLY_HELP)
    d = _differences(cost, 5_540_000.0, 5_655_927.0, 115_927.0, 115_927.0)
    row = {str(k): v for k, v in d.iloc[0].items()}
    text, how = narrative._clause(_Res(d, cost), "opt", cost, row)  # type: ignore[arg-type]
    plain = re.sub(r"<[^>]+>", "", text)
    assert how == "clear"
    assert plain == (
        f"the {cost.label} rises by £115,927 a year, from £5.54m to £5.66m (95% CI of the change £115,927 to £115,927)"
    )


_KINDS = ["days", "count", "level", "share", "gbp", "number"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    kind=st.sampled_from(_KINDS),
    short=st.booleans(),
    exponent=st.floats(-3, 8),
    base=st.floats(0, 1),
    change=st.floats(-1, 1),
    half=st.floats(0, 0.5),
)
def test_shown_levels_always_subtract_to_the_shown_difference(
    kind: str, short: bool, exponent: float, base: float, change: float, half: float
) -> None:
    """For any baseline and option level (and any interval of their difference), the shown
    option less the shown baseline is the shown difference, or (where no precision makes them)
    within one unit of its last digit, the difference being the true one rounded; and the
    difference reads inside its interval, in the console's tables and the report's text
    (``short``: money in £m)."""
    kpi = K.Kpi("x", "x", "u", kind, "x", signed=True)  # type: ignore[arg-type]
    scale = 10.0**exponent
    b, c, h = base * scale, change * scale, half * scale
    row = {"base_mean": b, "option_mean": b + c, "diff_mean": (b + c) - b, "ci_low": c - h, "ci_high": c + h}
    if kind == "share":
        row = {k: v / 100 for k, v in row.items()}
    shown_base, shown_option, diff, low, high = fmt_row(row, kpi, 365.0, DIFF, short=short)
    # a change in money may be in pounds beside levels in millions (money_change): nothing to add up
    if shown_base.endswith("m") == diff.endswith("m") and not _adds_up(shown_base, shown_option, diff):
        assert abs(_units(shown_option) - _units(shown_base) - _units(diff)) == 1, (row, shown_base, shown_option, diff)
        decimals = len(diff.split(".")[1]) if "." in diff else 0
        money = 1e6 if diff.endswith("m") else 1.0
        true = row["diff_mean"] * kpi.scale(365.0) / money
        assert _units(diff) == _units(f"{true:.{decimals}f}"), (row, diff, true)
    assert _units(low) <= _units(diff) <= _units(high), (row, diff, low, high)
    # an interval that excludes zero never reads as zero (ends within reach of the most
    # decimals any number is given, MAX_DECIMALS = 8; money to the pound, MONEY_DECIMALS)
    nearest = min(abs(c - h), abs(c + h))
    if (c - h > 0 or c + h < 0) and nearest >= (0.5 if kind == "gbp" else 1e-7):
        assert _units(low) != 0 and _units(high) != 0, (row, low, high)


class _Compare:
    """Just what :func:`sim.present.page._headline` reads of a comparison's results."""

    kind = None
    base = "base"
    scenarios = ("base", "opt")

    def __init__(self, summary: pd.DataFrame, differences: pd.DataFrame, kpi: K.Kpi) -> None:
        self.summary, self.differences, self.kpis = summary, differences, {kpi.name: kpi}

    def window_days(self, _name: Any = None) -> float:
        return 365.0


def test_each_scenarios_headline_cell_takes_its_own_precision() -> None:
    """The designer's seven-option comparison: the headline table read referrals
    "2,620.261 (2,580.165 to 2,660.357)", an interval ±40 wide to a thousandth, because the
    table took at least the precision of the KPI's differences in every option, one of which
    needed three decimals. Each scenario's mean and interval now take the precision they need
    (one significant figure of the half-width): "2,620 (2,580 to 2,660)". A headline level may
    then read coarser than the same level in a paired row (entries to care 123 here, 122.8 in
    the differences, whose interval is ±0.4): the same number, rounded for its own interval."""
    from sim.present import page

    class Three(_Compare):
        scenarios = ("base", "opt", "quiet")

    kpi = K.REFERRALS_TOTAL
    summary = pd.DataFrame(
        [
            {"scenario": s, "kpi": kpi.name, "mean": 2620.261, "ci_low": 2580.165, "ci_high": 2660.357}
            for s in ("base", "opt")
        ]
        + [{"scenario": "quiet", "kpi": kpi.name, "mean": 2620.259, "ci_low": 2580.163, "ci_high": 2660.355}]
    )
    differences = pd.concat(
        [
            _differences(kpi, 2620.261, 2620.261, 0.0, 0.0),
            _differences(kpi, 2620.261, 2620.259, -0.006, 0.002).assign(option="quiet"),
        ],
        ignore_index=True,
    )
    cells = re.findall(r'<td class="n">(.*?)</td>', page._headline(Three(summary, differences, kpi)))  # type: ignore[arg-type]
    assert cells == ["2,620<br><small>2,580 to 2,660</small>"] * 3, cells
    shown = [
        re.sub(r"\s+", " ", line.split(")", 1)[1]).strip()
        for line in console.difference_lines(differences, [kpi], 365.0, "opt")
    ]
    assert shown == ["2,620 -> 2,620 diff 0 (95% CI 0 to 0)"], shown  # was 2,620.261 -> 2,620.261 diff 0.000
    (quiet,) = console.difference_lines(differences, [kpi], 365.0, "quiet")
    assert "2,620.261 -> 2,620.259 diff -0.002 (95% CI -0.006 to 0.002)" in re.sub(r"\s+", " ", quiet), quiet

    care = K.CARE_ENTRIES
    summary = pd.DataFrame(
        [
            {"scenario": "base", "kpi": care.name, "mean": 122.8, "ci_low": 109.4, "ci_high": 136.2},
            {"scenario": "opt", "kpi": care.name, "mean": 122.9, "ci_low": 109.5, "ci_high": 136.3},
        ]
    )
    differences = _differences(care, 122.8, 122.9, -0.3, 0.5)
    (line,) = console.difference_lines(differences, [care], 365.0, "opt")
    assert "122.8 ->" in line, line
    cells = re.findall(r'<td class="n">(.*?)</td>', page._headline(_Compare(summary, differences, care)))  # type: ignore[arg-type]
    assert cells == ["123<br><small>109 to 136</small>", "123<br><small>110 to 136</small>"], cells


def test_the_reports_text_shows_the_costs_that_add_up_to_the_total_at_one_precision() -> None:
    """The review's case: the early help cost read to £0.1m ("from £5.5m to £6.0m") beside the
    social care and total costs to £0.01m ("from £76.23m to £76.29m", "from £81.77m to £82.30m"),
    so the parts could not be checked against the total. None reads coarser than the others
    (£0.01m); the early help cost takes a decimal more, as at £0.01m its levels would not
    subtract to its change in millions (£6.01m - £5.54m is not £0.46m, the exact change being
    £463,710). Each change, under £1m, reads in whole pounds, so the parts' changes add up to the
    total's exactly (£463,710 + £63,418 = £527,128)."""
    eh, sc, total = (K.per_year(k) for k in K.COST_TOTALS)
    rows = [
        _differences(eh, 5_544_241.6, 6_007_951.3, 463_709.6, 463_709.6),  # the staff added: the same every time
        _differences(sc, 76_225_222.8, 76_288_641.2, 43_999.5, 82_837.3),
    ]
    rows.append(_differences(total, 81_769_464.4, 82_296_592.5, 507_709.1, 546_547.0))
    d = pd.concat(rows, ignore_index=True)
    res = _Res(d, eh)
    res.kpis = {k.name: k for k in (eh, sc, total)}
    res.configs = {}  # type: ignore[attr-defined]
    plain = re.sub(r"<[^>]+>", "", narrative._option_item(res, "opt"))  # type: ignore[arg-type]
    # each change under £1m reads in whole pounds, and the changes add up: £463,710 + £63,418
    assert (
        f"The {eh.label} rises by £463,710 a year, from £5.544m to £6.008m "
        "(95% CI of the change £463,710 to £463,710)" in plain
    ), plain
    assert f"The {sc.label} rises by £63,418 a year, from £76.23m to £76.29m" in plain
    assert f"The {total.label} rises by £527,128 a year, from £81.77m to £82.30m" in plain


def test_when_no_precision_adds_up_each_number_is_rounded_on_its_own() -> None:
    """Referrals a year 1,491.77 -> 1,492.44, difference 0.676: at neither 0 nor 1 decimal do the
    rounded levels subtract to the rounded difference. The first fallback showed "1,492 -> 1,492,
    diff 0" (hiding the change), the second "1,491.77 -> 1,492.44, 0.67" (a decimal too many and
    a wrong last digit). Each number is now rounded on its own at the fewest decimals at which
    the levels move the way the difference does: 0.7, the true difference, within a unit of
    1,492.4 less 1,491.8."""
    from sim import kpis as K
    from sim.present.format import DIFF_ROW, fmt_row

    kpi = K.REFERRALS_TOTAL
    scale = kpi.scale(270.0)
    row = {"base_mean": 1103.5, "option_mean": 1104.0, "diff_mean": 0.5, "n": 2}
    row |= {"ci_low": -5.853102368087347, "ci_high": 6.853102368087347, "diff_sd": 0.7071, "distinguishable": False}
    assert scale == pytest.approx(365 / 270)
    base, option, diff, _, _ = fmt_row(row, kpi, 270.0, DIFF_ROW)
    assert (base, option, diff) == ("1,491.8", "1,492.4", "0.7")


def test_money_in_pounds_beside_money_in_millions_keeps_whole_pounds() -> None:
    """The summary's cost sentences share one precision (rows_decimals), chosen in millions when
    the total is over £1m; an early help cost under £1m, shown in pounds, took those decimals
    (£812,345.300). Pounds keep whole pounds; millions keep the shared decimals."""
    from sim import kpis as K
    from sim.present.format import MEAN_CI, fmt_row, rows_decimals

    kpi = K.per_year(K.COST_EARLY_HELP)
    small = {"mean": 812_345.3, "ci_low": 801_000.0, "ci_high": 823_000.0}
    large = {"mean": 75_221_400.0, "ci_low": 75_100_000.0, "ci_high": 75_342_800.0}
    same = rows_decimals([(small, kpi, 365.0), (large, kpi, 365.0)], short=True)
    assert same >= 1
    assert fmt_row(small, kpi, 365.0, MEAN_CI, short=True, at_least=same) == ["£812,345", "£801,000", "£823,000"]
    assert fmt_row(large, kpi, 365.0, MEAN_CI, short=True, at_least=same)[0].endswith("m")


def test_a_clear_interval_is_never_moved_onto_zero() -> None:
    """51.8666 -> 52.5343 days, difference 0.6678 (95% CI 0.0838 to 1.2518, clear): at no
    precision tried do the rounded levels subtract to the rounded difference; a fallback that
    moved the interval with the difference showed "0.6 (0.0 to 1.2)" beside "clear". The
    difference and its interval are now the true ones rounded, so neither end reads zero."""
    kpi = K.wait(Stage.LEVEL3, "mean")
    row = {"base_mean": 51.86655561110434, "option_mean": 52.53434800280247, "diff_mean": 0.6677923916981285}
    row |= {"ci_low": 0.08381393097243339, "ci_high": 1.251770852423817}
    assert fmt_row(row, kpi, 365.0, DIFF) == ["51.9", "52.5", "0.7", "0.1", "1.3"]


# --------------------------------------------------------------------------- means of three replications
def _decimals(text: str) -> int:
    return _num(text.removesuffix("m"))[1]


def test_the_reviewers_means_of_three_are_shown_at_the_kpis_precision() -> None:
    """The review's case (budget cut, 3 replications): "down by 172.334 children, from 330.667 to
    158.333" for a true difference of -172.333. Means of three are thirds, so no precision adds
    up; the fallback took the most decimals tried and showed the levels' difference, with a
    wrong last digit. Now: the KPI's own precision, the true difference rounded."""
    kpi = K.SW_WAITING_AT_END
    row = {"base_mean": 992 / 3, "option_mean": 475 / 3, "diff_mean": -517 / 3, "ci_low": -330.8, "ci_high": -13.868}
    assert fmt_row(row, kpi, 365.0, DIFF) == ["331", "158", "-172", "-331", "-14"]
    withdrew = {"base_mean": 114.8667, "option_mean": 114.9333, "diff_mean": 0.0667, "ci_low": -2.1, "ci_high": 2.2}
    assert fmt_row(withdrew, K.WITHDRAWN_TOTAL, 365.0, DIFF)[:3] == ["115", "115", "0"]


@pytest.mark.parametrize(
    ("kind", "short"),
    [("count", False), ("days", False), ("number", False), ("share", False), ("gbp", False), ("gbp", True)],
)
def test_means_of_three_never_take_more_than_one_extra_decimal(kind: str, short: bool) -> None:
    """Levels that are means of three replications, each replication a whole number of the
    KPI's last unit (a count, days to a tenth, a share to a percent...), with an interval at
    least a unit wide: no number is shown with more than one decimal past the KPI's own, the
    shown difference is within one unit of its last digit of the true difference, and the
    levels subtract to it within one unit (exactly where a precision makes them)."""
    kpi = K.Kpi("x", "x", "u", kind, "x")  # type: ignore[arg-type]
    own = {"count": 0, "days": 1, "number": 2, "share": 0, "gbp": 0}[kind]
    unit = 1e6 * 10.0**-1 if short else 10.0**-own  # money in £m has one decimal of millions
    stored = 0.01 if kind == "share" else 1.0  # a share is stored as a fraction, shown in percent
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(600):
        top = int(10 ** rng.uniform(1, 4))
        base = rng.integers(10, top + 10, 3) * unit  # from £1m when in millions
        option = np.maximum(base + rng.integers(-top // 2, top // 2 + 1, 3) * unit, 0)
        if kind == "share":
            base, option = np.minimum(base, 100), np.minimum(option, 100)
        diffs = option - base
        half = 4.303 * float(np.std(diffs, ddof=1)) / math.sqrt(3)
        mean = float(diffs.mean())
        low, high = mean - half, mean + half
        if half < unit or min(abs(low), abs(high)) < unit or abs(mean) < unit:
            continue  # an interval under a unit (or an end within one of zero) rightly takes decimals
        checked += 1
        row = {
            "base_mean": base.mean(),
            "option_mean": option.mean(),
            "diff_mean": mean,
            "ci_low": low,
            "ci_high": high,
        }
        row = {k: v * stored for k, v in row.items()}
        shown = fmt_row(row, kpi, 365.0, DIFF, short=short)
        extra = 0 if kind == "gbp" and not short else 1  # pounds are whole: never pence beside £81,769,464
        assert all(_decimals(t) <= own + extra for t in shown), (row, shown)
        b, o, d = shown[:3]
        places = _decimals(d)
        true = mean / (1e6 if d.endswith("m") else 1.0)  # a change under £1m is in pounds
        assert abs(_units(d) - true * 10**places) <= 1, (row, shown, true)
        if b.endswith("m") == d.endswith("m"):
            assert abs(_units(o) - _units(b) - _units(d)) <= 1, (row, shown)
    assert checked > 100


# --------------------------------------------------------------------------- a difference's interval and zero
def test_a_difference_interval_never_puts_the_options_level_below_zero() -> None:
    """The review's case: "from 330.667 to 158.333 (95% CI -330.800 to -13.868)": at its lower end
    the option would have fewer than no children waiting. For a KPI that cannot be negative the
    interval's lower end is at least minus the baseline's level, as a level's interval is
    truncated at zero; a signed KPI (cost less budget) keeps its interval."""
    kpi = K.SW_WAITING_AT_END
    row = {"base_mean": 992 / 3, "option_mean": 475 / 3, "diff_mean": -517 / 3, "ci_low": -340.8, "ci_high": -13.868}
    base, _, _, low, high = fmt_row(row, kpi, 365.0, DIFF)
    assert (base, low, high) == ("331", "-331", "-14")
    d = _differences(kpi, row["base_mean"], row["option_mean"], row["ci_low"], row["ci_high"])
    (line,) = console.difference_lines(d, [kpi], 365.0, "opt")
    assert "(95% CI -331 to -14)" in line, line
    signed = K.OVER_BUDGET
    money = {"base_mean": 1000.0, "option_mean": -500.0, "diff_mean": -1500.0, "ci_low": -2500.0, "ci_high": -500.0}
    assert fmt_row(money, signed, 365.0, DIFF)[3] == "-£2,500"


# --------------------------------------------------------------------------- one precision in every option
class _TwoOptions:
    """Just what the console, the report's summary and its differences table read of a comparison
    of two options."""

    kind = None
    base = "base"
    options = ("quiet", "loud")
    scenarios = ("base", "quiet", "loud")

    def __init__(self, differences: pd.DataFrame, kpis: list[K.Kpi]) -> None:
        self.differences, self.kpis = differences, {k.name: k for k in kpis}
        self.configs: dict[str, Any] = {}

    def window_days(self, _name: Any = None) -> float:
        return 365.0

    def config(self, _name: str) -> dict[str, Any]:
        return {}  # no resolved scenario: no dated changes


def _two_option_compare() -> _TwoOptions:
    """Step-ups 244.35 a year in the baseline: the quiet option leaves them at 244.62 (a change of
    0.27 whose interval, half a family wide, needs a decimal), the loud one cuts them to 230.12
    (whole families would do); the total cost
    £90,287,000 rises by £15,000 (quiet) or by £2,400,000 (loud)."""
    steps, cost = K.STEP_UPS_TOTAL, K.per_year(K.COST_TOTAL)
    rows = []
    for option, k, base, new, low, high in [
        ("quiet", steps, 244.35, 244.62, -0.3, 0.8),
        ("loud", steps, 244.35, 230.12, -20.0, -8.0),
        ("quiet", cost, 90_287_000.0, 90_302_000.0, -20_000.0, 50_000.0),
        ("loud", cost, 90_287_000.0, 92_687_000.0, 2_100_000.0, 2_700_000.0),
    ]:
        rows.append(_differences(k, base, new, low, high).assign(option=option))
    return _TwoOptions(pd.concat(rows, ignore_index=True), [steps, cost])


def test_each_options_block_takes_its_own_precision() -> None:
    """One precision per KPI in every option's block (the baseline's step-ups "244.35" under one
    option and "244" under the next was once a review's complaint) let one option's narrow
    interval set the decimals of every other: Sunderland's FGC queue read "0.01437 -> 77.22013"
    beside an interval 21 families wide. Each option's row now takes the precision its own
    numbers need, so the baseline may read 244.3 in one block and 244 in the next (the two
    goals conflict: per-row precision wins). The console's tables, the report's sentences and
    its table agree on each row."""
    from sim.present import page

    res = _two_option_compare()
    steps, cost = K.STEP_UPS_TOTAL, K.per_year(K.COST_TOTAL)
    lines = {o: console.difference_lines(res.differences, [steps, cost], 365.0, o) for o in res.options}
    shown = {o: [re.sub(r"\s+", " ", line.split(")", 1)[1]).strip() for line in lines[o]] for o in res.options}
    assert shown["quiet"] == [
        "244.3 -> 244.6 diff 0.3 (95% CI -0.3 to 0.8)",
        "£90,287,000 -> £90,302,000 diff £15,000 (95% CI -£20,000 to £50,000)",
    ], shown
    assert shown["loud"] == [
        "244 -> 230 diff -14 (95% CI -20 to -8)",
        "£90,287,000 -> £92,687,000 diff £2,400,000 (95% CI £2,100,000 to £2,700,000)",
    ], shown
    quiet, loud = (re.sub(r"<[^>]+>", "", narrative._option_item(res, o)) for o in res.options)  # type: ignore[arg-type]
    assert "244.3 vs 244.6 families a year (change 0.3, 95% CI -0.3 to 0.8" in quiet, quiet
    assert "£90.29m vs £90.30m (change £15,000" in quiet, quiet  # an interval ±£35,000 wide: £0.01m
    assert "14 fewer families a year step up to social care (244 → 230; 95% CI of the change -20 to -8)" in loud
    assert "rises by £2.4m a year, from £90.3m to £92.7m (95% CI of the change £2.1m to £2.7m)" in loud, loud
    cells = re.findall(r'<td class="n">(.*?)</td>', page._differences(res))  # type: ignore[arg-type]
    assert cells[:4] == ["244.3", "244.6", "0.3", "-0.3 to 0.8"], cells
    assert cells[8:12] == ["244", "230", "-14", "-20 to -8"], cells


def _sunderland_fgc() -> _TwoOptions:
    """Sunderland's calibrated model against two options, 5 replications
    (``experiments/sunderland.py --replications 5``, seed 0): the average queue for a family
    group conference and its mean wait with FGC moved into early help (here "loud") and with
    pooled allocation ("quiet", whose interval of the queue's change is ±0.0009 families)."""
    queue, wait = K.queue_mean(Stage.FGC), K.wait(Stage.FGC, "mean")
    rows = []
    for option, k, base, new, low, high in [
        ("loud", queue, 0.014374303535873467, 77.22013487374764, 66.44306448489661, 87.96845665552692),
        ("quiet", queue, 0.014374303535873467, 0.014052262318739617, -0.0012161709781170693, 0.0005720885438493682),
        ("loud", wait, 0.0970173163619989, 153.81978882838172, 144.40410597964188, 163.04143704439758),
        ("quiet", wait, 0.0970173163619989, 0.09539817530815234, -0.006114597307423647, 0.0028763151997305224),
    ]:
        rows.append(_differences(k, base, new, low, high, n=5).assign(option=option))
    return _TwoOptions(pd.concat(rows, ignore_index=True), [queue, wait])


def test_a_narrow_interval_in_one_option_sets_no_other_options_precision() -> None:
    """The Sunderland review's case: "Average queue for a family group conference: up by
    77.20576 families, from 0.01437 to 77.22013 (95% CI of the change 66.44306 to 87.96846)",
    "rises by 153.723 days" and on the console "0.097 -> 153.820 diff 153.723": pooled
    allocation's interval of ±0.0009 families set five decimals for every option. Each option's
    row now reads at its own precision (a half-width of 10.8 families needs no decimal, one of
    9.3 days the kind's one; the levels subtract to the change), and pooled allocation's keeps
    the decimals its own interval needs."""
    res = _sunderland_fgc()
    queue, wait = K.queue_mean(Stage.FGC), K.wait(Stage.FGC, "mean")

    def line(kpi: K.Kpi, option: str) -> str:
        (said,) = console.difference_lines(res.differences, [kpi], 365.0, option)
        return re.sub(r"\s+", " ", said.split(")", 1)[1]).strip()

    assert line(queue, "loud") == "0 -> 77 diff 77 (95% CI 66 to 88)"
    assert line(wait, "loud") == "0.1 -> 153.8 diff 153.7 (95% CI 144.4 to 163.0)"
    assert line(queue, "quiet") == "0.0144 -> 0.0141 diff -0.0003 (95% CI -0.0012 to 0.0006)"
    assert line(wait, "quiet") == "0.097 -> 0.095 diff -0.002 (95% CI -0.006 to 0.003)"
    text = re.sub(r"<[^>]+>", "", narrative._option_item(res, "loud"))  # type: ignore[arg-type]
    assert (
        f"{queue.label[:1].upper()}{queue.label[1:]}: up by 77 families, from 0 to 77 (95% CI of the change 66 to 88)"
        in text
    ), text
    assert f"The {wait.label} rises by 153.7 days, from 0.1 to 153.8 (95% CI of the change 144.4 to 163.0)" in text


# --------------------------------------------------------------------------- settings, stored values, a run's words
def test_a_settings_number_reads_plainly() -> None:
    """The review's case: the "What ... changes" table showed ``7700000.0 -> 6200000`` and
    ``14.0 -> 7.0``. A whole number has no ``.0``; a big one has thousands separators; a year
    keeps its digits; a command line (``--vary``) keeps the number as typed."""
    from sim.present.assumptions import show
    from sim.present.narrative import _grouped

    assert [show(v) for v in (7_700_000.0, 6200000, 14.0, 7.0, 0.35, 2024, 1825.0, True)] == [
        "7,700,000",
        "6,200,000",
        "14",
        "7",
        "0.35",
        "2024",
        "1825",
        "true",
    ]
    changes = [("costs.budget_gbp_per_year", 7_700_000.0, 6_200_000), ("panel.interval_days", 14.0, 7.0)]
    assert _grouped(changes, plain=True) == [
        "costs.budget_gbp_per_year 7,700,000 -> 6,200,000",
        "panel.interval_days 14 -> 7",
    ]


def test_an_options_change_rounds_its_settings_but_never_to_look_alike() -> None:
    """The Sunderland review's case: "family.need_probs.level2 0.16769375804122127 -> 0.2677"
    on the console and in the report. A changed setting reads to 4 significant figures (a
    whole number whole); where two different values would then read the same, more digits."""
    from sim.present.narrative import _grouped

    changes = [("family.need_probs.level2", 0.16769375804122127, 0.2677), ("panel.interval_days", 14.0, 7)]
    changes += [("family.need_probs.level3", 0.38230624195877877, 0.2823)]
    assert _grouped(changes, plain=True) == [
        "family.need_probs.level2 0.1677 -> 0.2677",
        "panel.interval_days 14 -> 7",
        "family.need_probs.level3 0.3823 -> 0.2823",
    ]
    assert _grouped(changes[:1]) == ["<code>family.need_probs.level2</code> 0.1677 → 0.2677"]
    from sim.present.assumptions import shown_apart  # the report's table of what an option changes

    assert shown_apart(0.26770001, 0.2677) == ["0.26770001", "0.2677"]
    assert shown_apart(0.16769375804122127, 0.16769375804122127, 0.3) == ["0.1677", "0.1677", "0.3"]
    assert shown_apart(1234.5678, 7_700_000.0, "pooled") == ["1235", "7,700,000", "pooled"]
    assert shown_apart([0.123456, 0.5], [0.123457, 0.5]) == ["[0.123456, 0.5]", "[0.123457, 0.5]"]


def test_every_kpi_as_stored_reads_in_plain_digits() -> None:
    """The review's case: "Every KPI as stored" showed ``4.512e+08``, ``2.46e+04`` and ``7.7e+06``."""
    from sim.present import page

    summary = pd.DataFrame(
        [
            {"kpi": "cost_total_gbp", "mean": 451_234_567.8, "sd": 1234.5, "ci_low": 0.012345, "ci_high": -0.5, "n": 3},
            {"kpi": "referrals_total", "mean": 24_600.0, "sd": 7_700_000.0, "ci_low": 18.36364, "ci_high": 0.0, "n": 3},
        ]
    )

    class _Stored:
        kind = "run"

    res = _Stored()
    res.summary = summary  # type: ignore[attr-defined]
    cells = re.findall(r'<td class="n">(.*?)</td>', page._stored(res))  # type: ignore[arg-type]
    assert cells == ["451,234,568", "1,234", "0.01235", "-0.5", "3", "24,600", "7,700,000", "18.36", "0", "3"], cells


class _Run:
    """Just what a run's summary sentences read of its results: one scenario, a window of five
    years after a five-year warm-up, an early help cost of £4.066m a year against a £4.104m budget."""

    kind = None
    base = "base"
    scenarios = ("base",)

    def __init__(self, cost: float = 4_066_000.0, half: float = 114_000.0, budget: float = 4_104_000.0) -> None:
        early = K.per_year(K.COST_EARLY_HELP)
        rows = [
            (K.WINDOW_DAYS, 1825.0, 1825.0, 1825.0),
            (early, cost, cost - half, cost + half),  # stored a year
            (K.BUDGET, budget, budget, budget),
            (K.OVER_BUDGET, cost - budget, cost - budget - half, cost - budget + half),
        ]
        self.kpis = {k.name: k for k, *_ in rows}
        self.summary = pd.DataFrame(
            [{"kpi": k.name, "mean": m, "ci_low": lo, "ci_high": hi, "n": 3} for k, m, lo, hi in rows]
        )
        self.replications = pd.DataFrame({"scenario": ["base"] * 3, "rep": [0, 1, 2]})
        self.settings = {"run": {"warmup_days": 1825, "duration_days": 3650}}

    def window_days(self, _name: Any = None) -> float:
        return 1825.0

    def setting(self, dotted: str, _scenario: Any = None) -> Any:
        node: Any = self.settings
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node


def test_a_runs_window_reads_in_whole_days() -> None:
    """The review's case: "results over the 1,825.0 days after a 1,825-day warm-up"."""
    plain = re.sub(r"<[^>]+>", "", narrative._intro(_Run(), "base"))  # type: ignore[arg-type]
    assert "results over the 1,825 days after a 1,825-day warm-up" in plain, plain


def test_a_cost_and_its_budget_read_apart() -> None:
    """The review's case: "Early help costs £4.1m a year ... against a budget of £4.1m a year" for
    £4.066m against £4.104m (the cost's interval, ±£0.11m, asks for one decimal of millions).
    Both are shown to a precision that tells them apart."""
    plain = re.sub(r"<[^>]+>", "", narrative._budget_sentence(_Run(), "base"))  # type: ignore[arg-type]
    assert "Early help costs £4.07m a year (95% CI £3.95m to £4.18m), against a budget of £4.10m a year" in plain, plain
    assert plain.endswith("not distinguishable from its budget.")


def test_the_run_summary_says_how_precise_an_answer_is_in_plain_words() -> None:
    """The run summary said "With 3 replications the 95% CI of mean wait for a key worker is
    ±118% of the mean": a statistician's sentence. It now says how well the answer is known,
    in plain words, with the same numbers."""
    res = _Run()
    wait = K.wait(Stage.LEVEL3, "mean")
    res.kpis[wait.name] = wait
    res.summary = pd.concat(
        [res.summary, pd.DataFrame([{"kpi": wait.name, "mean": 3.1, "ci_low": 0.0, "ci_high": 6.8, "n": 3}])]
    ).assign(rel_half_width=1.1763)
    record = {"kpi": wait.name, "n_now": 3, "rel_half_width_now": 1.1763, "n_needed": 347.0, "sufficient": False}
    res.diagnostics = {"base": {"precision": 0.05, "replications_needed": [record]}}  # type: ignore[attr-defined]
    (said,) = (re.sub(r"<[^>]+>", "", t) for t in narrative._precision_sentences(res, "base"))  # type: ignore[arg-type]
    assert said == (
        "Mean wait for a key worker: with 3 replications it is known only to within ±118% of its value "
        "(95% confidence); about 347 replications would narrow that to ±5% of its value or half a day."
    ), said
    record["sufficient"] = True
    (said,) = narrative._precision_sentences(res, "base")  # type: ignore[arg-type]
    assert said.startswith("With 3 replications, every key answer is known to within ±5% of its value"), said
    assert "CI" not in said


def test_a_cost_and_its_budget_near_a_million_read_in_one_unit() -> None:
    """A cost of £970,000 against a budget of £1,030,000 read "£970,000 a year ... against a
    budget of £1.0m": each number chose pounds or millions on its own. One sentence, one unit."""
    plain = re.sub(r"<[^>]+>", "", narrative._budget_sentence(_Run(970_000.0, 20_000.0, 1_030_000.0), "base"))  # type: ignore[arg-type]
    money = re.findall(r"£[\d,.]+m?", plain)
    assert len(money) == 4 and all(m.endswith("m") for m in money), plain
    assert "Early help costs £0.97m a year (95% CI £0.95m to £0.99m), against a budget of £1.03m a year" in plain


def _near_a_million() -> _TwoOptions:
    """A total cost of £950,000 a year in the baseline: the quiet option raises it to £980,000,
    the loud one to £1,030,000."""
    cost = K.per_year(K.COST_TOTAL)
    rows = [
        _differences(cost, 950_000.0, 980_000.0, 20_000.0, 40_000.0).assign(option="quiet"),
        _differences(cost, 950_000.0, 1_030_000.0, 60_000.0, 100_000.0).assign(option="loud"),
    ]
    return _TwoOptions(pd.concat(rows, ignore_index=True), [cost])


def test_money_near_a_million_takes_one_unit_in_every_options_block() -> None:
    """The baseline's cost of £950,000 read "£950,000" under the option that keeps it under £1m
    and "£0.95m" under the option that takes it over: each option's row chose its unit. A KPI
    takes one unit in every option's block, as it takes one precision."""
    res = _near_a_million()
    said = [re.sub(r"<[^>]+>", "", narrative._option_item(res, o)) for o in res.options]  # type: ignore[arg-type]
    assert "rises by £30,000 a year, from £0.95m to £0.98m" in said[0], said[0]
    assert "rises by £80,000 a year, from £0.95m to £1.03m" in said[1], said[1]
    from sim.present.format import shown_in_millions

    cost = K.per_year(K.COST_TOTAL)
    rows = [({str(k): v for k, v in r.items()}, cost, 365.0) for r in res.differences.to_dict(orient="records")]
    millions = shown_in_millions(rows)
    shown = [fmt_row(r, cost, 365.0, DIFF, short=True, millions=millions) for r, *_ in rows]
    assert shown == [
        ["£0.95m", "£0.98m", "£30,000", "£20,000", "£40,000"],
        ["£0.95m", "£1.03m", "£80,000", "£60,000", "£100,000"],
    ], shown


def test_the_forest_plot_bounds_a_difference_as_the_text_does() -> None:
    """The comparison figure draws the same bounded interval as the text: never below minus the
    baseline's level for a KPI that cannot be negative."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.present import fig_compare

    kpi = K.SW_WAITING_AT_END
    d = _differences(kpi, 992 / 3, 475 / 3, -340.8, -13.868).assign(option="quiet")
    res = _TwoOptions(d, [kpi])
    res.options = ("quiet",)  # type: ignore[misc]
    fig, ax = plt.subplots()
    fig_compare._panel(ax, res, kpi, {"quiet": "black"})  # type: ignore[arg-type]
    drawn = [x for line in ax.get_lines() for x in line.get_xdata() if line.get_ydata()[0] == 0]
    plt.close(fig)
    assert min(drawn) == pytest.approx(-992 / 3), drawn


def test_a_difference_interval_stops_at_the_key_workers_slots() -> None:
    """Open Level 3 plans never outnumber the key workers' slots (``Kpi.at_most``, Sunderland's
    546): a difference from a baseline of 543.6 open plans reaches at most 546 - 543.6 = 2.4, in
    the text (``fmt_row``) and in the forest plot (``diff_interval``), as the option's level is
    truncated at the slots; its lower end, within bounds, is kept."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.present import fig_compare
    from sim.present.format import diff_interval

    kpi = replace(K.open_at_end(Stage.LEVEL3), at_most=546.0)
    row = {"base_mean": 543.6, "option_mean": 545.1, "diff_mean": 1.5, "ci_low": -0.4, "ci_high": 3.4}
    assert fmt_row(row, kpi, 365.0, DIFF) == ["543.6", "545.1", "1.5", "-0.4", "2.4"]
    low, high = diff_interval(kpi, 543.6, -0.4, 3.4)
    assert low == -0.4 and high == pytest.approx(2.4)
    unbounded = replace(kpi, at_most=math.inf)  # no slots known: the interval as computed
    assert fmt_row(row, unbounded, 365.0, DIFF)[3:] == ["-0.4", "3.4"]
    res = _TwoOptions(_differences(kpi, 543.6, 545.1, -0.4, 3.4).assign(option="quiet"), [kpi])
    res.options = ("quiet",)  # type: ignore[misc]
    fig, ax = plt.subplots()
    fig_compare._panel(ax, res, kpi, {"quiet": "black"})  # type: ignore[arg-type]
    drawn = [x for line in ax.get_lines() for x in line.get_xdata() if line.get_ydata()[0] == 0]
    plt.close(fig)
    assert max(drawn) == pytest.approx(2.4), drawn


def test_pounds_are_whole_even_where_a_decimal_would_make_them_add_up() -> None:
    """Kirklees's fifth MST therapist (4 replications): a total cost a year of
    £81,769,464.44 -> £81,901,827.52, difference £132,363.08, read
    "£81,769,464.4 -> £81,901,827.5 diff £132,363.1" (tenths of a pound on a cost whose
    interval is ±£31,000). Pounds are whole: the levels then subtract to the difference within
    one pound."""
    kpi = K.Kpi("cost", "total cost", "£", "gbp", "x")  # type: ignore[arg-type]
    row = {
        "base_mean": 81769464.44080156,
        "option_mean": 81901827.52330014,
        "diff_mean": 132363.08249855414,
        "ci_low": 101404.2642580002,
        "ci_high": 163321.90073910807,
    }
    assert fmt_row(row, kpi, 365.0, DIFF) == ["£81,769,464", "£81,901,828", "£132,363", "£101,404", "£163,322"]


# --------------------------------------------------------------------------- money changes, ends near zero, adding up
def _clause_text(kpi: K.Kpi, base: float, option: float, low: float, high: float) -> str:
    d = _differences(kpi, base, option, low, high)
    text, _ = narrative._clause(_Res(d, kpi), "opt", kpi, {str(k): v for k, v in d.iloc[0].items()})  # type: ignore[arg-type]
    return re.sub(r"<[^>]+>", "", text)


def test_a_change_in_money_takes_a_unit_of_its_own() -> None:
    """The review's cases: "change £0.00m, 95% CI -£0.02m to £0.02m" for a change of £1,414 in a
    social care cost of £42.47m; "(95% CI of the change £0.35m to £0.35m)"; a previous version
    printed £0.307976m. A change and its interval take their own unit (pounds when all are
    under £1m, whole pounds), the levels keep theirs; in millions, the ends read apart when they
    are a pound apart, never past the pound."""
    sc = K.per_year(K.COST_SOCIAL_CARE)
    plain = _clause_text(sc, 42_473_076.09, 42_474_490.01, -15_144.72, 17_972.55)
    assert plain == (
        f"no clear difference in {sc.label}: £42.47m vs £42.47m (change £1,414, 95% CI -£15,145 to £17,973, "
        "which includes zero)"
    ), plain
    eh = K.per_year(K.COST_EARLY_HELP)
    plain = _clause_text(eh, 4_342_941.9, 4_689_143.0, 345_800.0, 346_600.0)
    assert plain == (
        f"the {eh.label} rises by £346,201 a year, from £4.34m to £4.69m (95% CI of the change £345,800 to £346,600)"
    ), plain
    # a change of £1m or more is in millions, its ends (£1.20 apart) told apart to the pound, no further
    plain = _clause_text(eh, 4_342_941.9, 5_577_502.7, 1_234_560.2, 1_234_561.4)
    assert plain.endswith("(95% CI of the change £1.234560m to £1.234561m)"), plain


def test_an_end_that_rounds_to_zero_keeps_its_sign() -> None:
    """The review's cases: "95% CI 0.0 to 0.2, which includes zero" (true lower end -0.016),
    "-0.06 to 0.00" (true upper end +0.001). An end of an interval that includes zero that
    would read as zero is shown with the decimals that give it its sign, up to two more; an end
    that is zero stays 0."""
    wait = K.wait(Stage.LEVEL3, "mean")
    plain = _clause_text(wait, 2.0, 2.1, -0.016, 0.2)
    assert plain.endswith("(change 0.1, 95% CI -0.02 to 0.2, which includes zero)"), plain
    assert fmt_row(_row(wait, 2.0, 1.97, -0.06, 0.001), wait, 365.0, DIFF)[3:] == ["-0.06", "0.001"]
    assert fmt_row(_row(wait, 0.0, 0.1, 0.0, 0.2), wait, 365.0, DIFF)[3:] == ["0.0", "0.2"]  # truly zero
    assert fmt_row(_row(wait, 2.0, 2.1, -0.0001, 0.2), wait, 365.0, DIFF)[3:] == ["0.0", "0.2"]  # past two more


def _row(kpi: K.Kpi, base: float, option: float, low: float, high: float) -> dict[str, Any]:
    return {str(k): v for k, v in _differences(kpi, base, option, low, high).iloc[0].items()}


def test_an_options_levels_take_a_decimal_more_to_add_up() -> None:
    """The review's case: "falls by 4.9 days, from 5.2 to 0.2" (5.2 - 0.2 is 5.0): the KPI's one
    precision in every option did not add up for this option, and no precision added up for
    both. The option's levels and change take one decimal more where that makes them add up."""
    wait = K.wait(Stage.LEVEL3, "mean")
    rows = [
        _differences(wait, 5.1667, 5.1667 - 4.93, -6.0, -3.9).assign(option="loud"),
        _differences(wait, 5.1667, 5.1667 + 0.0064, -0.5, 0.5).assign(option="quiet"),
    ]
    res = _TwoOptions(pd.concat(rows, ignore_index=True), [wait])
    plain = re.sub(r"<[^>]+>", "", narrative._option_item(res, "loud"))  # type: ignore[arg-type]
    assert f"The {wait.label} falls by 4.93 days, from 5.17 to 0.24 (95% CI of the change -5.17 to -3.90)" in plain
    (line,) = console.difference_lines(res.differences, [wait], 365.0, "loud")
    assert re.sub(r"\s+->\s+", " -> ", line).endswith("5.17 -> 0.24   diff -4.93 (95% CI -5.17 to -3.90)"), line

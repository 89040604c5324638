"""The report summary as a planner hands it to councillors (a Kirklees review of a fifth MST
therapist): what an assumption fixes, which clear differences matter, and checks in plain words.

One short Kirklees comparison (a month, two replications) of an MST option and an FGC option.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re

import pytest

import sim.results as R
from sim import kpis as K
from sim.cli import main
from sim.present import console, page
from sim.present.data import cap, in_scenarios, large_changes
from sim.present.narrative import summary_items
from sim.vocab import Stage
from tests.conftest import CONFIGS

KIRKLEES = CONFIGS / "kirklees"


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


@pytest.fixture(scope="module")
def kirklees_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[R.Results, str]:
    """The comparison's results and what ``ehsim compare`` printed."""
    out = tmp_path_factory.mktemp("summary") / "kirklees"
    options = [KIRKLEES / "options" / f for f in ("second_mst_team.yaml", "fgc_at_first_contact.yaml")]
    days = ["--set", "run.duration_days=30", "--set", "run.warmup_days=0", "--quiet"]
    argv = ["compare", str(KIRKLEES / "calibrated.yaml"), *map(str, options), "--replications", "2", "--out", str(out)]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main([*argv, *days]) == 0
    return R.read(out), printed.getvalue()


@pytest.fixture(scope="module")
def kirklees(kirklees_run: tuple[R.Results, str]) -> R.Results:
    return kirklees_run[0]


def _option_items(res: R.Results, option: str) -> list[str]:
    """The option's summary item, as its clauses (the head first)."""
    (item,) = [i for i in summary_items(res) if f"With <b>{option}</b>" in i]
    return [_plain(c) for c in re.split(r"<li>", item)]


MST_NO_CARE_EFFECT = (
    "The scenario assumes MST has no direct effect on entries to care (mst.care_relative_reduction 0, "
    "Fonagy-2018): it prevents no placement, so any difference comes by other routes, such as how long families "
    "wait for MST before their care starts."
)


def test_an_mst_option_says_the_scenario_gives_mst_no_effect_on_care(kirklees: R.Results) -> None:
    """The planner's case: "No clear difference in entries to care" read as a finding, but
    the scenario sets mst.care_relative_reduction 0 (no placement reduction, Fonagy-2018), so
    MST has no direct effect on entries to care. The entries-to-care clause says so, with the
    setting's source, and that any difference comes by other routes (it said "changing MST
    cannot change them", which the model contradicts: test_mechanisms_edge_of_care); an FGC
    option (its reduction is 0.19) gets no such sentence."""
    mst = _option_items(kirklees, "second_mst_team")
    (care,) = [
        c for c in mst if c.startswith(("No clear difference in entries to care", "No change in entries to care"))
    ]
    assert care.endswith(MST_NO_CARE_EFFECT), care
    assert sum(MST_NO_CARE_EFFECT in c for c in mst) == 1  # once, beside entries to care
    # MST still changes entries to care indirectly (a care-bound family waits for it before its
    # care starts): the sentence said "changing MST cannot change them here" beside a fifth
    # therapist's 123.9 vs 124.0 entries a year
    assert "cannot change" not in care, care
    fgc = " ".join(_option_items(kirklees, "fgc_at_first_contact"))
    assert "no direct effect on entries to care" not in fgc


def _with_difference(
    res: R.Results, option: str, kpi: K.Kpi, base: float, diff: float, low: float, high: float
) -> R.Results:
    """``res`` with one row of ``differences.csv`` replaced (stored values, clear when the
    interval excludes zero)."""
    d = res.differences.copy()  # type: ignore[union-attr]
    at = (d["kpi"] == kpi.name) & (d["option"].astype(str) == option)
    assert at.sum() == 1, kpi.name
    d.loc[at, ["base_mean", "option_mean", "diff_mean", "ci_low", "ci_high"]] = [base, base + diff, diff, low, high]
    d.loc[at, "distinguishable"] = low > 0 or high < 0
    return dataclasses.replace(res, differences=d)


def test_a_clear_difference_is_negligible_only_where_its_sentence_shows_zero(kirklees: R.Results) -> None:
    """The Sunderland planner's case: "clear but negligible differences in mean wait for the
    panel (rounds to 0.0 days)", then "The mean wait for the panel rises by 0.037 days". One
    precision per KPI in a paragraph: a clear difference is listed as negligible only where its
    sentence shows it as zero (here a change in money under a pound, shown to the pound), and a
    clear difference its sentence shows (0.04 days, 0.003 children) is listed as clear."""
    panel = K.wait(Stage.MST, "mean")
    cost = K.per_year(K.COST_TOTAL)
    res = _with_difference(kirklees, "second_mst_team", panel, 6.889, 0.037, 0.017, 0.057)
    res = _with_difference(res, "second_mst_team", K.SW_CASELOAD, 15.3547, 0.0028, 0.0006, 0.0049)
    window = res.window_days("second_mst_team")
    per_day = 1 / cost.scale(window)  # stored per day of the window
    res = _with_difference(
        res, "second_mst_team", cost, 81_769_464.0 * per_day, 0.4 * per_day, 0.1 * per_day, 0.7 * per_day
    )
    items = _option_items(res, "second_mst_team")
    head = items[0]
    clear = re.search(r"\bclear differences in ([^;.]*)", head)
    assert clear is not None and panel.label in clear.group(1) and K.SW_CASELOAD.label in clear.group(1), head
    assert f"clear but negligible differences in {cost.label} (rounds to £0)" in head, head
    (said,) = [c for c in items if c.startswith(f"The {panel.label} rises by")]
    shown = re.match(rf"The {panel.label} rises by (\d+\.\d+) days", said)
    assert shown is not None and float(shown.group(1)) > 0, said
    # every KPI listed as negligible reads as zero in its own sentence, at the precision it is listed with
    for label, zero in re.findall(r"(?:negligible differences in |, )([^,(;]+?) \(rounds to ([^)]+)\)", head):
        (clause,) = [c for c in items[1:] if label.strip().lower() in c.lower()]
        assert f"by {zero.split()[0]} " in clause, (label, zero, clause)


def _short_of_precision(kpi: K.Kpi, needed: int) -> dict[str, object]:
    return {"kpi": kpi.name, "n_now": 4, "rel_half_width_now": 0.134, "n_needed": needed, "sufficient": False}


def test_the_checks_line_is_plain_and_says_which_answers_are_affected(kirklees: R.Results) -> None:
    """The planner's case: "Checks: 4 precision warnings (kirklees_calibrated 2, fifth_mst_therapist
    2); the warm-up is shorter than MSER-5 suggests; the list for multi-systemic therapy is still
    settling", for councillors. The line now says in plain words which answers are imprecise,
    with the runs they have and would need, and what a list still changing affects; MSER-5 and
    the CI method stay in the Diagnostics section, which says in one sentence what MSER-5 is."""
    diag = {  # the Kirklees fifth-therapist comparison's diagnostics (4 replications of 3 years)
        "precision": 0.05,
        "replications_needed": [_short_of_precision(K.CARE_ENTRIES, 10), _short_of_precision(K.STEP_UPS_TOTAL, 14)],
        "warmup": {"warmup_days": 456.25, "drift": "", "n_points": 36, "truncation_index": 15, "at_cap": True},
        "queue_warmup": {"mst": 456.25},
        "queue_drift": {"mst": ""},
        "queue_at_cap": {"mst": True},
        "warmup_days_configured": 365.0,
        "warnings": [],
        "quarantined": [],
    }
    res = dataclasses.replace(kirklees, diagnostics={s: diag for s in kirklees.scenarios})
    (line,) = [_plain(i) for i in summary_items(res) if "Checks:" in i]
    assert line.startswith(  # then the dated changes a month-long run never reaches
        "Checks: entries to care (about 10 runs would be needed) and step-ups to social care (about 14) are "
        "measured less precisely than ±5% or half a unit with 4 runs; in every scenario, the number of open Level 3 "
        "key-worker plans may still be changing at the end of the run, so every answer may depend on how long the "
        "run is; in every scenario, the waiting list for multi-systemic therapy may still be changing at the end of "
        "the run, so its wait may depend on how long the run is; "
    ), line
    assert line.endswith("; see Diagnostics.")
    for jargon in ("MSER", "precision warning", "CI", "replication"):
        assert jargon not in line
    section = page.diagnostics(res)
    assert page.MSER_PLAINLY in section and "confidence-interval method" in section


def test_the_warm_up_check_covers_every_scenario_and_says_each_thing_once(kirklees: R.Results) -> None:
    """The Sunderland review's case: the console warned that an option's open plans were still
    growing and that another's FGC list was, but the report's Diagnostics section and Checks
    line read the baseline's check alone. Each scenario's check is now there, each sentence once
    with the scenarios it holds for (every scenario, or their names)."""
    base, mst, fgc = kirklees.scenarios
    steady = {
        "warmup": {"warmup_days": 91.25, "drift": "", "n_points": 36, "at_cap": False},
        "queue_warmup": {"mst": 456.25},
        "queue_drift": {"mst": ""},
        "queue_at_cap": {"mst": True},
        "warmup_days_configured": 365.0,
    }
    growing = {
        "warmup": {"warmup_days": 456.25, "drift": "growing", "n_points": 36, "at_cap": True},
        "queue_warmup": {"mst": 456.25, "fgc": 456.25},
        "queue_drift": {"mst": "", "fgc": "growing"},
        "queue_at_cap": {"mst": True, "fgc": True},
        "warmup_days_configured": 365.0,
    }
    res = dataclasses.replace(kirklees, diagnostics={base: steady, mst: steady, fgc: growing})
    html = page.diagnostics(res)
    section = _plain(html)
    said = re.findall(r"<p>Warm-up \((.*?)\):", html)
    assert said == [f"{base} and {mst}", fgc, "every scenario", fgc], said
    assert section.count("The list for multi-systemic therapy is still settling") == 1
    assert f"Warm-up ({base} and {mst}): MSER-5 on the monthly" in section
    assert "suggests discarding the first 92 days; the scenario discards 365 days (long enough)" in section
    assert "Warm-up (every scenario): The list for multi-systemic therapy is still settling" in section
    assert f"Warm-up ({fgc}): The list for a family group conference is still growing at the end" in section
    assert re.search(rf"Warm-up \({fgc}\): MSER-5 on the monthly [^.]*: the series is still growing", section)
    (line,) = [_plain(i) for i in summary_items(res) if "Checks:" in i]
    assert (
        f"Checks: in {fgc}, the number of open Level 3 key-worker plans is still growing at the end of the run, so "
        "every answer depends on how long the run is; in every scenario, the waiting list for multi-systemic "
        "therapy may still be changing at the end of the run, so its wait may depend on how long the run is; in "
        f"{fgc}, the waiting list for a family group conference is still growing at the end of the run, so its "
        "wait depends on how long the run is; "
    ) in line, line


def test_the_checks_line_gives_the_runs_each_answer_needs(kirklees: R.Results) -> None:
    """The review's case: "mean wait for a key worker, step-ups to social care, entries to care and
    total cost are measured less precisely than ±5% with 4 runs (about 274 would be needed)":
    274 was the most over every measure and scenario, while the Diagnostics section said 6, 8
    and 5 for the last three. Each answer now has its own number: the most any scenario needs
    for it."""
    wait = K.wait(Stage.LEVEL3, "mean")
    base = kirklees.scenarios[0]
    needs = [
        [_short_of_precision(wait, 274), _short_of_precision(K.STEP_UPS_TOTAL, 6)],
        [_short_of_precision(K.STEP_UPS_TOTAL, 8), _short_of_precision(K.CARE_ENTRIES, 5)],
    ]
    diagnostics = {s: {"precision": 0.05, "replications_needed": needs[s != base]} for s in kirklees.scenarios}
    res = dataclasses.replace(kirklees, diagnostics=diagnostics)
    (line,) = [_plain(i) for i in summary_items(res) if "Checks:" in i]
    assert line.startswith(
        "Checks: mean wait for a key worker (about 274 runs would be needed), step-ups to social care (about 8) "
        "and entries to care (about 5) are measured less precisely than ±5% or half a unit with 4 runs; "
    ), line


def test_a_large_change_in_a_service_beside_the_headline_is_stated(kirklees: R.Results) -> None:
    """The Sunderland planner's case: with fgc_in_early_help the mean wait for a family group
    conference rose by 152.1 days (0.1 -> 152.3) and the figures' titles said so, but the
    summary, whose list has no FGC wait, said only "2.0 more families a year enter care". A
    clear change in a service's wait or list that at least doubles or halves it (and is half a
    day or half a family or more) is now stated, in the same sentence shape as the others; a
    clear change that is not large, or a large one that is not clear, is not."""
    fgc = K.wait(Stage.FGC, "mean")
    assert fgc.name not in {k.name for k in K.COMPARE}  # beside the summary's list
    res = _with_difference(kirklees, "second_mst_team", fgc, 0.12, 152.14, 139.98, 164.31)
    items = _option_items(res, "second_mst_team")
    shape = (  # size, then the two levels, then the interval of the change (at the precision all options share)
        r"The mean wait for a family group conference rises by 152\.1\d* days, from 0\.1\d* to 152\.\d+ "
        r"\(95% CI of the change 1[34]\d\.\d+ to 164\.\d+\)\.$"
    )
    assert sum(bool(re.match(shape, c)) for c in items) == 1, items
    clear = re.search(r"\bclear differences in ([^;.]*)", items[0])
    assert clear is not None and fgc.label in clear.group(1), items[0]
    # clear, but 5% longer: a knock-on effect, not a large change
    res = _with_difference(kirklees, "second_mst_team", fgc, 100.0, 5.0, 1.0, 9.0)
    assert fgc.label not in " ".join(_option_items(res, "second_mst_team"))
    # large, but its interval includes zero: no clear difference, so nothing is added
    res = _with_difference(kirklees, "second_mst_team", fgc, 0.12, 152.14, -10.0, 314.0)
    assert fgc.label not in " ".join(_option_items(res, "second_mst_team"))


def test_the_console_shows_the_large_changes_the_summary_states(kirklees_run: tuple[R.Results, str]) -> None:
    """The console's paired table (the headline KPIs) adds the same large changes in a
    service's wait or list as the summary: here the MST list at the end halves with a second
    MST team (14.5 -> 7.0 families), which the headline does not list."""
    res, printed = kirklees_run
    block = printed.split("  second_mst_team:\n")[1].split("  fgc_at_first_contact:")[0]
    headline = in_scenarios(res, K.HEADLINE, [res.base, "second_mst_team"])
    extra = large_changes(res, "second_mst_team", [k.name for k in headline])
    assert K.waiting_at_end(Stage.MST).name in {k.name for k in extra}
    summary = " ".join(_option_items(res, "second_mst_team"))
    for kpi in extra:
        assert re.search(rf"^   \* {re.escape(console.label(kpi))} ", block, re.M), block
        assert cap(kpi.label) in summary

"""The report summary as a planner hands it to councillors (a Kirklees review of a fifth MST
therapist): what an assumption fixes, which clear differences matter, and checks in plain words.

One short Kirklees comparison (a month, two replications) of an MST option and an FGC option.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

import sim.results as R
from sim import kpis as K
from sim.cli import main
from sim.present import page
from sim.present.narrative import summary_items
from sim.vocab import Stage
from tests.conftest import CONFIGS

KIRKLEES = CONFIGS / "kirklees"


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


@pytest.fixture(scope="module")
def kirklees(tmp_path_factory: pytest.TempPathFactory) -> R.Results:
    out = tmp_path_factory.mktemp("summary") / "kirklees"
    options = [KIRKLEES / "options" / f for f in ("second_mst_team.yaml", "fgc_at_first_contact.yaml")]
    days = ["--set", "run.duration_days=30", "--set", "run.warmup_days=0", "--quiet"]
    argv = ["compare", str(KIRKLEES / "calibrated.yaml"), *map(str, options), "--replications", "2", "--out", str(out)]
    assert main([*argv, *days]) == 0
    return R.read(out)


def _option_items(res: R.Results, option: str) -> list[str]:
    """The option's summary item, as its clauses (the head first)."""
    (item,) = [i for i in summary_items(res) if f"With <b>{option}</b>" in i]
    return [_plain(c) for c in re.split(r"<li>", item)]


MST_NO_CARE_EFFECT = (
    "The scenario assumes MST does not reduce entries to care (mst.care_relative_reduction 0, Fonagy-2018), "
    "so changing MST cannot change them here."
)


def test_an_mst_option_says_the_scenario_gives_mst_no_effect_on_care(kirklees: R.Results) -> None:
    """The planner's case: "No clear difference in entries to care" read as a finding, but
    the scenario sets mst.care_relative_reduction 0 (no placement reduction, Fonagy-2018), so
    no MST option can change entries to care. The entries-to-care clause now says so, with
    the setting's source; an FGC option (its reduction is 0.19) gets no such sentence."""
    mst = _option_items(kirklees, "second_mst_team")
    (care,) = [
        c for c in mst if c.startswith(("No clear difference in entries to care", "No change in entries to care"))
    ]
    assert care.endswith(MST_NO_CARE_EFFECT), care
    assert sum(MST_NO_CARE_EFFECT in c for c in mst) == 1  # once, beside entries to care
    fgc = " ".join(_option_items(kirklees, "fgc_at_first_contact"))
    assert "does not reduce entries to care" not in fgc


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
        "measured less precisely than ±5% with 4 runs; the number of open Level 3 key-worker plans may still be "
        "changing at the end of the run, so every answer may depend on how long the run is; the waiting list for "
        "multi-systemic therapy may still be changing at the end of the run, so its wait may depend on how long "
        "the run is; "
    ), line
    assert line.endswith("; see Diagnostics.")
    for jargon in ("MSER", "precision warning", "CI", "replication"):
        assert jargon not in line
    section = page.diagnostics(res)
    assert page.MSER_PLAINLY in section and "confidence-interval method" in section


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
        "and entries to care (about 5) are measured less precisely than ±5% with 4 runs; "
    ), line

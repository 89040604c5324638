"""The report summary as a planner hands it to councillors (a Kirklees review of a fifth MST
therapist): what an assumption fixes, which clear differences matter, and checks in plain words.

One short Kirklees comparison (a month, two replications) of an MST option and an FGC option.
"""

from __future__ import annotations

import re

import pytest

import sim.results as R
from sim.cli import main
from sim.present.narrative import summary_items
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

"""A dated change on or after the run's end is valid (a run shortened with ``--set
run.duration_days=...`` keeps its scenario's schedule) but never takes effect: ``ehsim
validate``, the console's warnings and the report all say so, and the report's summary says
that is why an option changes nothing (not "nothing to compare")."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import CONFIGS

BASE = str(CONFIGS / "baseline.yaml")
# baseline: 1 April 2017 + 300 days; its last day is 25 January 2018 (day 299)
SHORT = ["--set", "run.duration_days=300", "--set", "run.warmup_days=30", "--quiet"]
LATE = (
    "changes.0: the dated change on 1 October 2107 falls after the run's last day (25 January 2018): "
    "it never takes effect in this run"
)


def test_unreached_is_every_change_on_or_after_the_end() -> None:
    from sim.config import change_warnings, unreached

    start = dt.date(2017, 4, 1)
    days = [start + dt.timedelta(days=d) for d in (1, 299, 300, 4000)]
    assert unreached(start, 300, days) == [2, 3]  # day 300 is the end: the run stops before it
    assert unreached(start, 300.5, days) == [3]  # part of day 300 is run
    assert change_warnings(start, 300, days)[0].startswith("changes.2: the dated change on 26 January 2018 ")


def test_validate_warns_of_a_change_after_the_end(capsys: pytest.CaptureFixture[str]) -> None:
    late = "changes=[{date: 2107-10-01, set: {teams.washington.workers: 7}}]"
    assert main(["validate", BASE, "--set", "run.duration_days=300", "--set", "run.warmup_days=30", "--set", late]) == 0
    printed = capsys.readouterr()
    assert "valid scenario" in printed.out
    assert printed.err.splitlines() == [f"warning: {LATE}"]
    # a change within the run: no warning
    within = "changes=[{date: 2017-10-01, set: {teams.washington.workers: 7}}]"
    assert main(["validate", BASE, "--set", within]) == 0
    assert capsys.readouterr().err == ""


def test_a_comparison_whose_option_changes_after_the_end_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    option = tmp_path / "late.yaml"
    option.write_text(
        f"extends: {BASE}\nname: late\nchanges:\n"
        "  - date: 2107-10-01  # ASSUMPTION: a typo for 2017\n"
        "    why: one more key worker\n"
        "    set: {teams.washington.workers: 6}  # ASSUMPTION\n"
    )
    out = tmp_path / "c"
    argv = ["compare", BASE, str(option), "--replications", "2", "--out", str(out), "--report", *SHORT]
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert f"warning (late): {LATE}" in printed.err.splitlines()
    assert not any(line.startswith("warning (baseline): changes.") for line in printed.err.splitlines())
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["late"]["warnings"][0] == LATE
    html = (out / "report.html").read_text()
    summary = html[html.index('id="summary"') : html.index('id="assumptions"')]
    text = re.sub(r"<[^>]+>", "", summary)
    assert "With late (" in text and "nothing to compare" not in text
    assert (
        "its dated change on 1 October 2107 falls after the run's last day (25 January 2018), so it never takes "
        "effect in this run; no change in any KPI."
    ) in text
    assert "1 dated change of late never takes effect" in text  # the Checks line
    diagnostics = html[html.index('id="diagnostics"') :]
    assert f"Dated changes of late: {LATE}." in re.sub(r"<[^>]+>", "", diagnostics).replace("&#x27;", "'")


def test_a_sweep_warns_of_a_combination_whose_change_never_takes_effect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sweeping the run's length is the case the warning exists for: a combination too short to
    reach a dated change (day 200 < 1 December 2017, day 244) says so on the console and in
    diagnostics.json; the long one does not."""
    late = "changes=[{date: 2017-12-01, set: {teams.washington.workers: 7}}]"
    out = tmp_path / "s"
    argv = ["sweep", BASE, "--vary", "run.duration_days=200,300", "--replications", "2", "--quiet"]
    assert main([*argv, "--set", "run.warmup_days=30", "--set", late, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if "never takes effect" in line]
    assert len(warned) == 1 and "1 December 2017" in warned[0], err
    diag = json.loads((out / "diagnostics.json").read_text())
    assert len(diag) == 1 and "never takes effect" in next(iter(diag.values()))["warnings"][0], diag

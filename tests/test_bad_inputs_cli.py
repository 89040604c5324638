"""Bad arguments and output folders through the ``ehsim`` CLI and the Python API: each is
refused before any work, with exit code 2 and a one-line message naming the argument, no
traceback, nothing written outside the intended folder and existing results untouched
(checked by digest before and after)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

import sim
from sim.cli import main
from tests.conftest import CONFIGS

BASE = str(CONFIGS / "baseline.yaml")
SHORT = ["--set", "run.duration_days=300", "--set", "run.warmup_days=30", "--quiet"]


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], needle: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), err
    assert needle in err and "Traceback" not in err
    assert all(len(line) <= 500 for line in lines)
    return err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--precision", "0"], "--precision: must be a fraction between 0 and 1"),
        (["--precision", "-0.05"], "--precision: must be a fraction between 0 and 1"),
        (["--precision", "nan"], "--precision: must be a fraction between 0 and 1"),
        (["--precision", "1.5"], "--precision: must be a fraction between 0 and 1"),
        (["--seed", str(2**65)], "--seed: must be a whole number from 0 to 2**63 - 1"),
        (["--replications", "1000000000"], "--replications: must be <= 100,000"),
        (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler: only used with the dask backend"),
        (["--replications", "90000"], "error: --replications: 90,000 replications give about"),
        (["--workers", "3"], "error: --workers: only used with the process or dask backend"),
        (
            ["--set", "run.duration_days=36000", "--set", "referrals.sources.police.annual_rate=9000000"],
            "referrals.sources.police.annual_rate",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_arguments_are_refused_before_any_work(
    extra: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    _refused(["run", BASE, *SHORT, "--out", str(out), *extra], capsys, needle)
    assert not out.exists(), "nothing is written for a refused command"


def test_out_naming_a_file_or_a_path_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("keep me")
    _refused(["run", BASE, *SHORT, "--out", str(tmp_path / "afile")], capsys, "is a file, not a folder")
    _refused(["run", BASE, *SHORT, "--out", str(tmp_path / "afile" / "sub")], capsys, "cannot write there")
    assert (tmp_path / "afile").read_text() == "keep me"


def test_compare_or_sweep_into_a_run_folder_leaves_it_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert main(["run", BASE, *SHORT, "--replications", "2", "--out", str(run)]) == 0
    capsys.readouterr()
    before = _digests(run)
    option = str(CONFIGS / "options" / "weekly_panel.yaml")
    _refused(["compare", BASE, option, *SHORT, "--replications", "2", "--out", str(run)], capsys, "holds a run")
    _refused(["sweep", BASE, "--vary", "panel.interval_days=7,14", *SHORT, "--out", str(run)], capsys, "holds a run")
    _refused(["run", BASE, *SHORT, "--seed", "3", "--out", str(run)], capsys, "refusing to mix")
    assert _digests(run) == before


def test_out_dot_with_a_users_files_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "summary.csv").write_text("a user's own table\n")
    before = _digests(tmp_path)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        _refused(["run", BASE, *SHORT, "--out", "."], capsys, "not an ehsim results folder")
    finally:
        os.chdir(cwd)
    assert _digests(tmp_path) == before


@pytest.mark.parametrize(
    ("vary", "needle"),
    [
        (["--vary", "panel.interval_days=7,14", "--vary", "panel.interval_days=21,28"], "given twice"),
        (["--vary", "panel.interval_days=7,7"], "a value is given twice"),
        (["--vary", "panel.interval_days=7,7.0"], "a value is given twice"),
    ],
)
def test_vary_duplicates_are_refused(
    vary: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _refused(["sweep", BASE, *vary, *SHORT, "--out", str(tmp_path / "s")], capsys, needle)
    assert not (tmp_path / "s").exists()


def test_every_bad_vary_value_is_named_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each value of each --vary is checked and each problem printed on its own line, not just
    the first: a value the scenario refuses, one of the wrong type, one that is not YAML and a
    malformed --vary."""
    err = _refused(
        ["sweep", WORCS, "--vary", "teams.redditch.workers=6,x", *SHORT, "--out", str(tmp_path / "s")], capsys, ""
    )
    assert err.splitlines() == [
        "error: --vary teams.redditch.workers=6: initial_state.teams.redditch.open_plans: 95 exceeds the team's 90 "
        "caseload slots",
        "error: --vary teams.redditch.workers=x: teams.redditch.workers: input should be a valid integer, got 'x'",
    ]
    vary = ["--vary", "teams.redditch.workers=6,x,[1", "--vary", "panel.interval_days"]
    err = _refused(["sweep", WORCS, *vary, *SHORT, "--out", str(tmp_path / "s")], capsys, "")
    lines = err.splitlines()
    assert len(lines) == 4, err
    assert lines[0].startswith("error: --vary teams.redditch.workers: value is not valid YAML")
    assert lines[1] == "error: --vary 'panel.interval_days': expected KEY=V1,V2,... e.g. teams.washington.workers=5,6,7"
    assert lines[2].startswith("error: --vary teams.redditch.workers=6: ")
    assert lines[3].startswith("error: --vary teams.redditch.workers=x: ")
    assert not (tmp_path / "s").exists()


def test_compare_of_different_results_windows_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    longer = tmp_path / "longer.yaml"
    longer.write_text(f"extends: {BASE}\nname: longer\nrun: {{duration_days: 1200}}\n")
    err = _refused(["compare", BASE, str(longer), "--quiet", "--out", str(tmp_path / "c")], capsys, "results window")
    assert err.startswith(f"error: {longer}: run.warmup_days/duration_days 180/1200 differ") and BASE not in err
    assert not (tmp_path / "c").exists()


def test_calibration_target_typo_and_output_folder_are_refused_before_fitting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "cal.yaml"
    body = (
        f"scenario: {BASE}\noutput: fitted.yaml\nreplications: 1\nmax_evaluations: 2\n"
        "parameters:\n  panel.interval_days: {bounds: [7, 28]}\n"
    )
    spec.write_text(body + "targets:\n  open_level3_at_ned: {value: 475}\n")
    _refused(["calibrate", str(spec), "--quiet"], capsys, "did you mean open_level3_at_end")
    spec.write_text(body + "targets:\n  open_level3_at_end: {value: 475}\n")
    (tmp_path / "fitted.yaml").mkdir()
    _refused(["calibrate", str(spec), "--quiet"], capsys, "is a folder")


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda sc: sim.run_replication(sc, rep=0, seed=-1), "seed: must be a whole number"),
        (lambda sc: sim.run_replication(sc, rep=-1, seed=0), "rep: must be a whole number >= 0"),
        (lambda sc: sim.run_replication(sc, rep=0, seed=2**64), "seed: must be a whole number"),
        (lambda sc: sim.run_batch(sc, 0), "replications: must be a whole number >= 1"),
        (lambda sc: sim.run_batch(sc, 2.5), "replications: must be a whole number >= 1"),
        (lambda sc: sim.run_batch(sc, 1, backend="gpu"), "backend: unknown backend 'gpu'"),
        (lambda sc: sim.run_batch(sc, 1, precision=0.0), "precision: must be a fraction"),
        (lambda sc: sim.compare(sc, [], 2), "options: give at least one option"),
        (lambda sc: sim.sweep(sc, {}, 2), "grid: give at least one key"),
    ],
)
def test_api_arguments_raise_the_projects_error(call: object, needle: str) -> None:
    sc = sim.load_scenario(BASE, {"run.duration_days": 300, "run.warmup_days": 30})
    with pytest.raises(sim.ArgumentError, match=needle.replace("*", r"\*").replace("(", r"\(")):
        call(sc)  # type: ignore[operator]


@pytest.mark.parametrize("blocker", ["figures_is_a_file", "report_is_a_folder"])
def test_report_that_cannot_be_written_is_refused_before_drawing(
    blocker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    mmc = str(CONFIGS / "validation" / "mmc.yaml")
    assert (
        main(
            ["run", mmc, "--set", "run.duration_days=300", "--set", "run.warmup_days=30", "--quiet", "--out", str(out)]
        )
        == 0
    )
    capsys.readouterr()
    if blocker == "figures_is_a_file":
        (out / "figures").write_text("a user's file")
    else:
        (out / "report.html").mkdir()
    before = _digests(out)
    _refused(["report", str(out)], capsys, "is a file" if blocker == "figures_is_a_file" else "is a folder")
    assert _digests(out) == before


def test_several_bad_arguments_get_one_line_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = ["run", BASE, *SHORT, "--out", str(out), "--replications", "0", "--workers", "-1", "--seed", "-3"]
    err = _refused(argv, capsys, "--replications: must be a whole number >= 1, got 0")
    lines = err.strip().splitlines()
    assert lines == [
        "error: --replications: must be a whole number >= 1, got 0",
        "error: --seed: must be a whole number from 0 to 2**63 - 1, got -3",
        "error: --workers: must be a whole number >= 1, got -1",
    ]
    assert not out.exists()


def test_rerun_with_fewer_replications_is_refused_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    mmc = [str(CONFIGS / "validation" / "mmc.yaml"), "--set", "run.duration_days=300", "--set", "run.warmup_days=30"]
    assert main(["run", *mmc, "--quiet", "--out", str(out), "--replications", "3"]) == 0
    before = _digests(out)
    err = _refused(["run", *mmc, "--quiet", "--out", str(out)], capsys, f"--replications: {out} already holds 3")
    assert len(err.strip().splitlines()) == 1
    assert _digests(out) == before


def test_a_quick_rerun_with_fewer_replications_gets_a_default_folder_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # without --out: the default folder holding more replications of the job is kept whole and
    # the quick rerun writes the next default folder (-2), not refused; asking for as many or
    # more reuses the first folder again
    monkeypatch.chdir(tmp_path)
    mmc = [str(CONFIGS / "validation" / "mmc.yaml"), "--set", "run.duration_days=300", "--set", "run.warmup_days=30"]
    first = Path("results") / "run-mmc-seed0"
    assert main(["run", *mmc, "--quiet", "--replications", "3"]) == 0
    before = _digests(first)
    assert main(["run", *mmc, "--quiet", "--replications", "1"]) == 0
    assert _digests(first) == before
    second = Path("results") / "run-mmc-seed0-2"
    assert json.loads((second / "manifest.json").read_text())["replications"] == 1
    assert "Results written to results/run-mmc-seed0-2/" in capsys.readouterr().out
    assert main(["run", *mmc, "--quiet", "--replications", "3"]) == 0
    assert "Results written to results/run-mmc-seed0/" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("teams:\n  washington:\n    workrs: 8\n", "teams.washington.workrs: unknown key"),
        ("extends: missing.yaml\n", "missing.yaml"),
    ],
    ids=["typo", "missing_extends"],
)
def test_compare_names_the_option_file_that_has_the_error(
    body: str, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    option = tmp_path / "opt.yaml"
    option.write_text(f"name: opt\n{body}" if body.startswith("extends") else f"extends: {BASE}\nname: opt\n{body}")
    err = _refused(["compare", BASE, str(option), "--out", str(tmp_path / "out")], capsys, needle)
    assert err.strip().splitlines() == [err.strip()]
    assert err.startswith(f"error: {option}: ") and BASE not in err


SUNDERLAND = CONFIGS / "sunderland" / "calibrated.yaml"
NO_TEAM = "team 'washingtn' does not exist"
TEAMS = "(teams: washington, east_west, coalfields; did you mean 'washington'?)"


def test_a_team_typo_in_a_file_says_the_team_does_not_exist_as_set_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Sunderland review's case: an option file with ``teams: {washingtn: {workers: 7}}``
    got "teams.washingtn.caseload_cap: required key is missing", as if a team were being added,
    while ``--set teams.washingtn.workers=7`` said the team does not exist. Both now say so, in
    one line from one piece of code, with the teams and the one the name is close to."""
    option = tmp_path / "bad_team.yaml"
    option.write_text(f"extends: {SUNDERLAND}\nname: bad_team\nteams: {{washingtn: {{workers: 7}}}}\n")
    err = _refused(["validate", str(option)], capsys, NO_TEAM)
    assert err.strip() == (
        f"error: {option}: teams.washingtn: {NO_TEAM} in the scenario it extends {TEAMS}; to add a team, give it "
        "every required key (workers, caseload_cap)"
    )
    err = _refused(["validate", str(SUNDERLAND), "--set", "teams.washingtn.workers=7"], capsys, NO_TEAM)
    assert err.strip() == (
        f"error: --set teams.washingtn.workers=7: teams.washingtn: {NO_TEAM} {TEAMS}; to add a team, set the whole "
        "entry: teams.washingtn={...}"
    )
    # a new team given whole is added; a new team given in part, with no name close, is one line too
    option.write_text(f"extends: {SUNDERLAND}\nname: more\nteams: {{hendon: {{workers: 7, caseload_cap: 20}}}}\n")
    code = main(["validate", str(option)])
    assert "required key is missing" not in capsys.readouterr().err and code in (0, 2)
    option.write_text(f"extends: {SUNDERLAND}\nname: more\nteams: {{hendon: {{workers: 7}}}}\n")
    err = _refused(["validate", str(option)], capsys, "team 'hendon' does not exist in the scenario it extends")
    assert "did you mean" not in err and err.strip().splitlines() == [err.strip()]


def test_compare_names_every_bad_scenario_file_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``ehsim compare A past.yaml bad_team.yaml`` said only the first bad file's problem, though
    every problem gets a line: each file is now checked before any work, and each says its own."""
    past = tmp_path / "past.yaml"
    past.write_text(f"extends: {SUNDERLAND}\nname: past\nrun: {{start_date: 20170101}}\n")
    bad_team = tmp_path / "bad_team.yaml"
    bad_team.write_text(f"extends: {SUNDERLAND}\nname: bad_team\nteams: {{washingtn: {{workers: 7}}}}\n")
    out = tmp_path / "out"
    argv = ["compare", str(SUNDERLAND), str(past), str(bad_team), "--replications", "2", "--out", str(out)]
    err = _refused(argv, capsys, NO_TEAM)
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith(f"error: {past}: run.start_date") and lines[1].startswith(f"error: {bad_team}: ")
    assert not out.exists()


# ------------------------------------------------------------------- a problem an override brings
KIRKLEES = str(CONFIGS / "kirklees" / "calibrated.yaml")
MST_OPTION = str(CONFIGS / "kirklees" / "options" / "second_mst_team.yaml")
WORCS = str(CONFIGS / "worcestershire" / "baseline.yaml")  # no panel, no MST


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["validate", KIRKLEES, "--set", "mst.therapist=5"], "--set mst.therapist=5: mst.therapist: unknown key"),
        (["kpis", KIRKLEES, "--set", "mst.therapist=5"], "--set mst.therapist=5: mst.therapist: unknown key"),
        (["run", KIRKLEES, "--set", "mst.therapist=5"], "--set mst.therapist=5: mst.therapist: unknown key"),
        (
            ["compare", KIRKLEES, MST_OPTION, "--replications", "2", "--set", "mst.therapist=5"],
            "--set mst.therapist=5: mst.therapist: unknown key",
        ),
        (
            ["sweep", KIRKLEES, "--vary", "mst.therapist=4", "--replications", "2"],  # 4,5: a line each
            "--vary mst.therapist=4: mst.therapist: unknown key",
        ),
        (  # of two overrides, the one at fault
            ["validate", KIRKLEES, "--set", "description=x", "--set", "mst.therapists=-1"],
            "--set mst.therapists=-1: mst.therapists: must be >= 0, got -1",
        ),
        (
            ["validate", KIRKLEES, "--set", "teams.nowhere.workers=3"],
            "--set teams.nowhere.workers=3: teams.nowhere: team 'nowhere' does not exist",
        ),
        (  # through a block the scenario has not got: one line saying so, not one per missing key
            ["validate", WORCS, "--set", "panel.interval_days=7"],
            "--set panel.interval_days=7: panel: the scenario has no panel block; to add one, set the whole block "
            "(required keys: interval_days, capacity_per_meeting, decision_probs): panel={...}",
        ),
        (
            ["sweep", WORCS, "--vary", "mst.therapists=2", "--replications", "2"],
            "--vary mst.therapists=2: mst: the scenario has no mst block; to add one, set the whole block "
            "(required keys: therapists, caseload_cap, duration, referral_prob, care_relative_reduction): mst={...}",
        ),
        (["validate", KIRKLEES, "--set", "mst.therapists"], "--set 'mst.therapists': expected KEY=VALUE"),
        (
            ["sweep", KIRKLEES, "--vary", "mst.therapists=[4,5", "--replications", "2"],
            "--vary mst.therapists: value is not valid YAML",
        ),
    ],
    ids=[
        "validate",
        "kpis",
        "run",
        "compare",
        "sweep",
        "one-of-two",
        "through-missing-team",
        "through-missing-block",
        "vary-through-missing-block",
        "no-equals",
        "vary-bad-yaml",
    ],
)
def test_a_problem_an_override_brings_names_the_override_not_the_file(
    argv: list[str], line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped --set or --vary is on the command line: the one error line names the flag and
    the override, and never the scenario file (where there is nothing to fix)."""
    batch = argv[0] in ("run", "compare", "sweep")  # nothing may be written
    err = _refused([*argv, "--out", str(tmp_path / "o")] if batch else argv, capsys, line)
    assert err.startswith(f"error: {line}") and err.count("\n") == 1, err
    assert "calibrated.yaml" not in err and "second_mst_team" not in err, err
    assert not (tmp_path / "o").exists()


def test_a_problem_of_the_file_still_names_the_file_with_overrides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {KIRKLEES}\nmst: {{therapist: 5}}\n")
    for argv in (["validate", str(bad)], ["validate", str(bad), "--set", "mst.therapists=5"]):
        err = _refused(argv, capsys, "unknown key")
        assert err == f"error: {bad}: mst.therapist: unknown key\n", err
    err = _refused(["compare", KIRKLEES, str(bad), "--set", "description=x", "--out", str(tmp_path / "c")], capsys, "")
    assert err == f"error: {bad}: mst.therapist: unknown key\n", err


def test_api_override_error_pairs_each_problem_with_its_override() -> None:
    with pytest.raises(sim.OverrideError) as info:
        sim.load_scenario(KIRKLEES, {"description": "x", "mst.therapist": 5})
    assert info.value.argument == "overrides"
    assert info.value.problems == [(("mst.therapist=5",), "mst.therapist: unknown key")]
    base = sim.load_scenario(KIRKLEES)
    with pytest.raises(sim.OverrideError) as info:
        sim.sweep(base, {"mst.therapist": [4, 5]}, 2)
    assert info.value.argument == "grid" and info.value.problems[0][0] == ("mst.therapist=4",)


def test_an_override_that_suits_the_baseline_but_not_an_option_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``mst.therapists=3`` over an option with ``mst: null`` would create half an MST block:
    the override's problem (the option has no MST block), applied to the option (not the
    baseline's file)."""
    without = str(CONFIGS / "kirklees" / "options" / "without_edge_of_care.yaml")
    argv = ["compare", KIRKLEES, without, "--set", "mst.therapists=3", "--out", str(tmp_path / "c")]
    err = _refused(argv, capsys, "the scenario has no mst block; to add one, set the whole block")
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --set mst.therapists=3: mst: "), err
    assert lines[0].endswith(f"(applied to {without})"), err
    assert KIRKLEES not in err and not (tmp_path / "c").exists()


def test_the_files_of_a_comparison_give_an_error_of_the_kind_of_their_problems(tmp_path: Path) -> None:
    """An override's problems with several files of a comparison were one FileError (whose lines
    start with their file) built by parsing the lines: they are one OverrideError, its pairs
    the baseline's and, applied to an option, the option's own (the same problem said once);
    with a file's problem too, each keeps its kind, in the order of the files."""
    from sim.cli import _load_every
    from sim.errors import FileError, OverrideError, ScenarioErrors

    without = CONFIGS / "kirklees" / "options" / "without_edge_of_care.yaml"
    given = ["mst.therapists=3", "mst.therapist=5"]
    with pytest.raises(OverrideError) as info:
        _load_every(Path(KIRKLEES), [Path(MST_OPTION), without], given)
    unknown = "mst.therapist: unknown key"
    problems = info.value.problems
    assert problems[0] == (("mst.therapist=5",), unknown), problems  # the baseline's, said once
    assert problems[-1] == (tuple(given), f"{unknown} (applied to {without})"), problems
    assert len(problems) == 3 and problems[1][1].startswith("mst: the scenario has no mst block"), problems
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {KIRKLEES}\nmst: {{therapist: 5}}\n")
    with pytest.raises(ScenarioErrors) as mixed:
        _load_every(Path(KIRKLEES), [bad, without], given)
    assert [type(e) for e in mixed.value.errors] == [OverrideError, FileError, OverrideError], mixed.value.errors


def test_a_whole_scenario_check_names_only_the_overrides_that_cause_it() -> None:
    """A check across the scenario (a team's open plans at day 0 against its slots) has no one
    override's place: it names the overrides without any one of which the problem goes away
    (here the cut in workers), not every override given."""
    worcs = str(CONFIGS / "worcestershire" / "baseline.yaml")
    cut, others = "teams.redditch.workers=2", ["referrals.sources.police.annual_rate=100", "run.warmup_days=100"]
    with pytest.raises(sim.OverrideError) as info:
        sim.load_scenario(worcs, [cut, *others])
    assert [settings for settings, _ in info.value.problems] == [(cut,)], info.value.problems
    assert "exceeds the team's 30 caseload slots" in info.value.problems[0][1]
    # two overrides that each suffice: neither alone is to blame, so both (and only both) are named
    cap = "teams.redditch.caseload_cap=3"
    with pytest.raises(sim.OverrideError) as info:
        sim.load_scenario(worcs, [cut, cap, others[1]])
    assert [settings for settings, _ in info.value.problems] == [(cut, cap)], info.value.problems


def test_two_overrides_into_a_block_the_scenario_has_not_got_are_both_named() -> None:
    """``panel.interval_days`` and ``panel.capacity_per_meeting`` where there is no panel: the
    one problem names both overrides (it named the first alone)."""
    worcs = str(CONFIGS / "worcestershire" / "baseline.yaml")
    given = ["panel.interval_days=7", "panel.capacity_per_meeting=3"]
    with pytest.raises(sim.OverrideError) as info:
        sim.load_scenario(worcs, given)
    assert [settings for settings, _ in info.value.problems] == [tuple(given)], info.value.problems
    assert info.value.problems[0][1].startswith("panel: the scenario has no panel block")


@pytest.mark.parametrize(
    "keys",
    [["panel.interval_days"], ["panel.interval_days", "panel.capacity_per_meeting"]],
    ids=["one-key", "two-keys"],
)
def test_a_dated_change_into_a_block_the_scenario_has_not_got_is_one_line(
    keys: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dated change setting ``panel.*`` where the scenario has no panel: one line naming the
    change, its date and the absent block (as ``--set panel.interval_days=7``), not one
    "required key is missing" per key the change did not set."""
    scenario = tmp_path / "dated.yaml"
    given = "".join(f"      {key}: 7\n" for key in keys)
    scenario.write_text(f"extends: {WORCS}\nchanges:\n  - date: 2015-06-01\n    set:\n{given}")
    err = _refused(["validate", str(scenario)], capsys, "")
    assert err == (
        f"error: {scenario}: scenario: changes.0 (2015-06-01): panel: the scenario has no panel block; a dated "
        "change can only change a block the scenario has from its start: give the scenario one (required keys: "
        "interval_days, capacity_per_meeting, decision_probs)\n"
    ), err


WEST_SUSSEX = str(CONFIGS / "west_sussex" / "baseline.yaml")  # 1461 days from 2018-04-01: last day 31 March 2022


def _dated(tmp_path: Path, change: str) -> Path:
    """A West Sussex scenario with one dated change (``change``: its YAML flow mapping)."""
    scenario = tmp_path / "dated.yaml"
    scenario.write_text(f"extends: {WEST_SUSSEX}\nchanges:\n  - {change}\n")
    return scenario


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            "{date: 2020-04-01, set: {panel.intervall_days: 7}}",
            "changes.0.set.panel.intervall_days: unknown key; did you mean panel.interval_days?",
        ),
        (
            "{date: 2020-04-01, set: {teams.horsham.wrokers: 7}}",
            "changes.0.set.teams.horsham.wrokers: unknown key; did you mean teams.horsham.workers?",
        ),
        (
            "{date: 2020-04-01, set: {needs.x: 7}}",
            'changes.0.set.needs.x: unknown key; the README\'s "Dated policy changes" lists the keys a dated '
            "change can set",
        ),
        (
            "{date: 2020-04-01, set: {mst.age_min: 12}}",
            "changes.0.set.mst.age_min: cannot change during a run (of mst, only mst.therapists, mst.caseload_cap, "
            'mst.budget_line can; the README\'s "Dated policy changes" lists the keys a dated change can set)',
        ),
        (
            "{date: 2020-04-01, set: {run.duration_days: 700}}",
            "changes.0.set.run.duration_days: cannot change during a run (no run key can; the README's \"Dated "
            'policy changes" lists the keys a dated change can set)',
        ),
    ],
    ids=["typo", "typo-in-a-team", "unknown-no-near-key", "real-key-of-a-block", "real-key-no-block-key"],
)
def test_a_dated_change_tells_a_misspelt_key_from_one_that_cannot_change(
    change: str, line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key no scenario has is an unknown key, with the key a dated change can set it is near
    (it was "cannot change during a run" and a list of every key, cut off mid-word before the
    one meant); a real key that cannot change says so, with its block's keys that can, whole."""
    scenario = _dated(tmp_path, change)
    err = _refused(["validate", str(scenario)], capsys, "")
    assert err == f"error: {scenario}: {line}\n", err


def test_a_dated_change_date_gets_the_start_dates_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``date: 01/04/2020`` in a dated change is refused as ``run.start_date`` is (one validator),
    not with pydantic's "invalid character in year"."""
    scenario = _dated(tmp_path, "{date: 01/04/2020, set: {panel.interval_days: 7}}")
    err = _refused(["validate", str(scenario)], capsys, "")
    assert err == (
        f"error: {scenario}: changes.0.date: must be a valid date written YYYY-MM-DD (e.g. 2017-04-01), "
        "got '01/04/2020'\n"
    ), err


def test_the_readme_lists_every_key_a_dated_change_can_set() -> None:
    """The refusal of a key a dated change cannot set points to the README's "Dated policy
    changes" for the full list: it must name every key's block and last part."""
    from sim.config import RUNTIME_KEYS

    readme = (CONFIGS.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("**Dated policy changes**")
    section = readme[start : readme.index("\n* **", start)]
    missing = [key for key in RUNTIME_KEYS if f"`{key.split('.')[-1]}`" not in section and key not in section]
    missing += [key for key in RUNTIME_KEYS if f"`{key.split('.')[0]}." not in section]
    assert not missing, missing


def test_the_refusal_and_the_warning_name_the_same_last_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A change on the start day is refused and one the day after the run's last day is
    warned of: both name the run's last day, 31 March 2022 (1461 days from 1 April 2018), the
    same way (the refusal named the exclusive end, 2022-04-01)."""
    early = _dated(tmp_path, "{date: 2018-04-01, set: {panel.interval_days: 7}}")
    err = _refused(["validate", str(early)], capsys, "")
    assert err == (
        f"error: {early}: changes.0.date: 2018-04-01 is not after the run's start (1 April 2018; the run's last "
        "day is 31 March 2022)\n"
    ), err
    late = _dated(tmp_path, "{date: 2022-04-01, set: {panel.interval_days: 7}}")
    assert main(["validate", str(late)]) == 0
    warned = capsys.readouterr().err
    assert "falls after the run's last day (31 March 2022)" in warned, warned


@pytest.mark.parametrize("command", ["validate", "compare", "calibrate", "uncertainty"])
def test_malformed_yaml_names_its_file_once(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file with ``teams:`` twice is one line naming the file once (it was named twice:
    ``error: F: F: malformed YAML``; ``calibrate`` printed PyYAML's text over several lines)."""
    bad = tmp_path / "pct2.yaml"
    bad.write_text(f"extends: {WEST_SUSSEX}\nteams:\n  a: 1\nteams:\n  b: 2\n")
    argv = [command, str(bad)] if command != "compare" else [command, WEST_SUSSEX, str(bad)]
    err = _refused(argv, capsys, "")
    assert err == f"error: {bad}: malformed YAML at line 4, column 1: duplicate key 'teams'\n", err


@pytest.mark.parametrize("command", ["validate", "compare", "calibrate", "uncertainty"])
def test_a_file_that_is_not_utf8_is_one_line(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every YAML file is read by one reader (size, UTF-8, YAML): a calibration spec that is not
    UTF-8 let UnicodeDecodeError escape as a traceback, and an uncertainty spec said it otherwise."""
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: caf\xe9\n")
    argv = [command, str(bad)] if command != "compare" else [command, WEST_SUSSEX, str(bad)]
    err = _refused(argv, capsys, "")
    assert err == f"error: {bad}: not a text file (could not decode as UTF-8)\n", err


def test_malformed_yaml_in_an_extended_file_names_that_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The problem of a file read through ``extends:`` names that file, once."""
    base = tmp_path / "base.yaml"
    base.write_text("name: a\nname: b\n")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\n")
    err = _refused(["validate", str(child)], capsys, "")
    assert err == f"error: {base}: malformed YAML at line 2, column 1: duplicate key 'name'\n", err


def test_a_folder_of_another_comparison_says_what_differs_in_whole_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder claimed by a comparison of other options: the refusal says which scenarios
    differ (the first few by name, then how many more) before what the folder holds, and
    shortens its lists to fit one message line; it was cut by the line's length limit in the
    middle of a word ("ws_weekly_panel th..."), before it said what differs."""
    from sim import results as R

    monkeypatch.chdir(tmp_path)
    out = Path("results") / "compare-west_sussex_baseline"
    out.mkdir(parents=True)
    old = ["west_sussex_baseline", *(f"ws_an_option_with_a_long_name_{i}" for i in range(5))]
    (out / R.JOB).write_text(
        json.dumps(
            {"schema": R.SCHEMA_VERSION, "kind": "compare", "seed": 0, "scenarios": dict.fromkeys(old, "0" * 40)}
        )
    )
    before = _digests(out)
    options = [str(CONFIGS / "west_sussex" / "options" / f"{o}.yaml") for o in ("redesign_2019_20", "redesign_2020_21")]
    err = _refused(["compare", WEST_SUSSEX, *options, *SHORT, "--replications", "2", "--out", str(out)], capsys, "")
    assert err == (
        f"error: {out}: refusing to mix this comparison with the results there (what differs: scenarios "
        "ws_an_option_with_a_long_name_0, ws_an_option_with_a_long_name_1 and 3 more there only; scenarios "
        "ws_redesign_2019_20, ws_redesign_2020_21 here only; scenario west_sussex_baseline changed). Choose another "
        "output folder; this one holds a comparison of 6 scenarios with seed 0.\n"
    ), err
    assert _digests(out) == before


def test_a_line_too_long_is_cut_between_words() -> None:
    """A message line over the limit is cut at a space, never inside a word."""
    from sim.errors import MAX_MESSAGE_CHARS, ResultsError

    words = " ".join(f"word{i:03d}" for i in range(200))
    [line] = ResultsError(words).messages
    assert len(line) <= MAX_MESSAGE_CHARS and line.endswith(" ...")
    assert all(w.startswith("word") and len(w) == 7 for w in line.removesuffix(" ...").split()), line

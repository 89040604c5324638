"""The command line as a new user meets it: a closed pipe, argument errors, help texts."""

from __future__ import annotations

import io
import os
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import _parser, main
from sim.config import load_scenario
from tests.conftest import CONFIGS

BASE = str(CONFIGS / "baseline.yaml")


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_closed_stdout_stops_quietly(
    fmt: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``ehsim kpis | head -5``: the reader has gone; no traceback, no error, exit quietly."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (head) has exited
    closed = io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", closed)
    try:
        code = main(["kpis", BASE, "--format", fmt])
    finally:
        monkeypatch.undo()
    assert code == 141  # 128 + SIGPIPE
    assert capsys.readouterr().err == ""
    closed.close()  # its descriptor now points to the null device: closing it cannot fail


@pytest.mark.parametrize(
    ("argv", "message", "hint"),
    [
        (
            ["run", BASE, "--replications", "x"],
            "error: argument --replications: must be a whole number",
            "see ehsim run --help",
        ),
        (
            ["sweep", BASE, "--vary", "run.seed=1", "--events"],
            "error: unrecognized arguments: --events",
            "see ehsim sweep --help",
        ),
        (["compare", BASE], "error: the following arguments are required: OPTION", "see ehsim compare --help"),
        (["frob"], "error: argument command: invalid choice: 'frob'", "see ehsim --help"),
    ],
    ids=["bad-value", "unknown-flag", "missing", "no-such-command"],
)
def test_argument_errors_are_one_line_and_a_hint(
    argv: list[str], message: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and lines[0].startswith(message), lines
    assert lines[1] == hint


def test_compare_keeps_the_event_logs_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mmc = str(CONFIGS / "validation" / "mmc.yaml")
    option = tmp_path / "more.yaml"
    option.write_text(f"extends: {mmc}\nname: more\nteams:\n  town:\n    workers: 3\n")
    short = ["--set", "run.duration_days=200", "--set", "run.warmup_days=20", "--quiet", "--replications", "2"]
    assert main(["compare", mmc, str(option), *short, "--events", "--out", str(tmp_path / "out")]) == 0
    events = pd.read_parquet(tmp_path / "out" / "events.parquet")
    assert set(events["scenario"]) == {"mmc", "more"}


def test_compare_says_what_each_option_changes_before_its_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the tables, one line per option says what it changes from the baseline, in the
    report summary's words: grouped settings, at most three then "and N more", and its dated
    changes as a short phrase."""
    mmc = str(CONFIGS / "validation" / "mmc.yaml")
    one = tmp_path / "more.yaml"
    one.write_text(f"extends: {mmc}\nname: more\nteams:\n  town:\n    workers: 3\n")
    many = tmp_path / "many.yaml"
    many.write_text(
        f"extends: {mmc}\nname: many\nteams:\n  town: {{workers: 3, caseload_cap: 3, other_fte: 2}}\n"
        "referrals:\n  sources:\n    all: {annual_rate: 800}\n"
        "changes:\n  - {date: 2020-03-01, why: test, set: {teams.town.workers: 4}}\n"
    )
    short = ["--set", "run.duration_days=200", "--set", "run.warmup_days=20", "--quiet", "--replications", "2"]
    assert main(["compare", mmc, str(one), str(many), *short, "--out", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "What each option changes from mmc:",
        "  more: teams.town.workers 2 -> 3",
        "  many: referrals.sources.all.annual_rate 730 -> 800; teams.town.workers 2 -> 3; "
        "teams.town.caseload_cap 2 -> 3; and 1 more; a dated change on 1 March 2020 (teams.town.workers 3 -> 4)",
    ], lines[:3]
    assert lines[3].startswith("Paired differences"), lines[:4]


def test_every_argument_of_every_command_has_help() -> None:
    parser = _parser()
    for name, command in parser.commands.items():
        bare = [a.dest for a in command._actions if not a.help]  # argparse keeps its arguments there
        assert not bare, f"ehsim {name}: {bare} without help text"


def test_help_examples_name_keys_of_the_default_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_scenario(BASE, ["teams.washington.workers=7"]).teams["washington"].workers == 7
    for command in ("run", "sweep", "validate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "teams.washington.workers" in capsys.readouterr().out.replace("\n", " ")


def test_report_help_and_error_name_every_command_that_writes_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    assert "run, compare, sweep or uncertainty" in " ".join(capsys.readouterr().out.split())
    assert main(["report", str(tmp_path / "none")]) == 2
    assert "run, compare, sweep or uncertainty" in capsys.readouterr().err


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ehsim {metadata.version('ehsim')}"
    assert sim.__version__ == metadata.version("ehsim")  # one version: the package's and pyproject's


def test_the_parser_needs_no_installed_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    # from a source checkout without an install (PYTHONPATH=.), every command still parses
    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert main(["validate", str(CONFIGS / "validation" / "mmc.yaml")]) == 0


def test_a_resumed_comparison_says_it_resumed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As a run, a sweep and an uncertainty job do: the line that opens the paired table says how
    many replications were read back and from where."""
    mmc = str(CONFIGS / "validation" / "mmc.yaml")
    out = tmp_path / "c"
    args = ["compare", mmc, mmc, "--set", "run.duration_days=120", "--set", "run.warmup_days=10"]
    args += ["--replications", "2", "--quiet", "--out", str(out)]
    assert main(args) == 0
    assert " resumed from " not in capsys.readouterr().out
    assert main(args) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Paired differences"))
    assert line.endswith(f"with common random numbers (4 resumed from {out}):"), line

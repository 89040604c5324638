"""Bad scenario inputs through the real CLI: ``ehsim validate`` must exit 2, name the field by
its dotted path and say what is wrong, and never show a traceback.

Each bad scenario starts from a shipped config (loaded with ``yaml.safe_load``), changes one
thing, and is written to ``tmp_path``. Then the same checks through the Python API
(``load_scenario``, ``scenario_from_dict``, ``variant``: a ``ScenarioError`` with one line per
problem), every bundled config still validating, and the work limits of ``sim.workload``.
"""

from __future__ import annotations

import copy
import datetime as _dt
import re
import subprocess
import sys
import time
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

import sim
from sim import workload
from sim.cli import main
from sim.config import NAMED_ENTRIES, Scenario, load_scenario, scenario_from_dict
from sim.errors import ArgumentError, ScenarioError

ROOT = Path(__file__).resolve().parents[1]
MMC = ROOT / "configs" / "validation" / "mmc.yaml"
BASELINE = ROOT / "configs" / "baseline.yaml"
EXIT_BAD_INPUT = 2
DELETE = object()  # as a value in a case's changes: remove that key
NAN, INF = float("nan"), float("inf")
PARENTING = {
    "group_size": 12,
    "interval_days": 28,
    "duration_days": 70,
    "offer_prob": 0.5,
    "withdrawal_relative_reduction": 0.5,
    "escalation_relative_reduction": 0.0,
}


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _mutated(base: Path, changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with each dotted key set to its value (or removed for DELETE)."""
    data = copy.deepcopy(_load(base))
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return data


def _write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _validate(capsys: pytest.CaptureFixture[str], path: Path, *overrides: str) -> tuple[int, str, str]:
    argv = ["validate", str(path)]
    for o in overrides:
        argv += ["--set", o]
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def _assert_rejected(rc: int, out: str, err: str, field: str, problem: str, by: str | None = None) -> None:
    """One line names ``field`` as its subject, after the file or, given ``by``, after exactly
    ``by`` (the override that brings the problem), and says ``problem``."""
    assert rc == EXIT_BAD_INPUT, f"exit {rc}, stderr:\n{err}"
    assert "Traceback" not in out + err
    assert out == "", "nothing on stdout for an invalid scenario"
    # one message line both names the field (as its subject) and says what is wrong
    where = r"(?:[^:]*\.ya?ml: )?" if by is None else re.escape(f"{by}: ")
    subject = re.compile(rf"error: {where}{re.escape(field)}[: ]")
    lines = [line for line in err.splitlines() if subject.match(line)]
    assert lines, f"no line names {field!r}:\n{err}"
    assert any(problem in line for line in lines), f"{field!r} named, but not {problem!r}:\n{err}"


# ------------------------------------------------------------------- one change to a config
# id, base config, {dotted key: new value or DELETE}, field named in the message, problem word(s)
MUTATIONS = [
    # keys
    ("unknown-top-level-key", MMC, {"colour": "blue"}, "colour", "unknown key"),
    ("unknown-nested-key", MMC, {"teams.town.wrokers": 2}, "teams.town.wrokers", "unknown key"),
    ("missing-required-section", MMC, {"run": DELETE}, "run", "required key is missing"),
    ("empty-teams", MMC, {"teams": {}}, "teams", "at least 1 item"),
    (
        "team-with-no-locality",
        MMC,
        {"teams.village": {"workers": 1, "caseload_cap": 1}},
        "teams.village",
        "no locality of that name",
    ),
    # distributions
    (
        "misspelt-distribution",
        MMC,
        {"early_help.duration.dist": "exponentail"},
        "early_help.duration.dist",
        "unknown distribution 'exponentail'",
    ),
    (
        "distribution-missing-dist",
        MMC,
        {"early_help.duration.dist": DELETE},
        "early_help.duration.dist",
        "required key is missing",
    ),
    ("distribution-extra-key", MMC, {"early_help.duration.sd": 0.5}, "early_help.duration.sd", "unknown key"),
    (
        "distribution-not-a-mapping",
        MMC,
        {"early_help.duration": "exponential"},
        "early_help.duration",
        "valid dictionary",
    ),
    (
        "lognormal-mean-and-median",
        BASELINE,
        {"early_help.duration.mean": 200},
        "early_help.duration",
        "give either mean and sd, or median and sigma",
    ),
    ("uniform-high-below-low", BASELINE, {"mst.duration.low": 200}, "mst.duration", "high must be > low"),
    (
        "triangular-mode-outside",
        BASELINE,
        {"mst.duration": {"dist": "triangular", "low": 90, "mode": 200, "high": 150}},
        "mst.duration",
        "low <= mode <= high",
    ),
    (
        "bands-edges-probs-disagree",
        BASELINE,
        {"social_care.cin_duration.probs": [0.5, 0.5]},
        "social_care.cin_duration",
        "len(edges) == len(probs) + 1",
    ),
    (
        "bands-edges-not-increasing",
        BASELINE,
        {"social_care.cin_duration.edges": [0, 91, 50, 1095]},
        "social_care.cin_duration",
        "strictly increasing",
    ),
    # types and ranges
    ("string-for-int", MMC, {"teams.town.workers": "two"}, "teams.town.workers", "valid integer"),
    ("fraction-for-int", MMC, {"teams.town.workers": 2.5}, "teams.town.workers", "valid integer"),
    ("bool-for-int", MMC, {"teams.town.workers": True}, "teams.town.workers", "valid integer"),
    ("bad-start-date", MMC, {"run.start_date": "yesterday"}, "run.start_date", "valid date"),
    ("negative-workers", MMC, {"teams.town.workers": -2}, "teams.town.workers", "must be >= 0"),
    (
        "negative-annual-rate",
        MMC,
        {"referrals.sources.all.annual_rate": -730},
        "referrals.sources.all.annual_rate",
        "must be >= 0",
    ),
    ("nan-rate", MMC, {"referrals.sources.all.annual_rate": NAN}, "referrals.sources.all.annual_rate", "finite"),
    ("infinite-duration-mean", MMC, {"early_help.duration.mean": INF}, "early_help.duration.mean", "finite"),
    (
        "growth-of-minus-100pc",
        BASELINE,
        {"referrals.sources.police.annual_growth": -1},
        "referrals.sources.police.annual_growth",
        "must be > -1",
    ),
    (
        "price-year-too-early",
        BASELINE,
        {"costs.staff.key_worker_per_year.price_year": 1900},
        "costs.staff.key_worker_per_year.price_year",
        "must be >= 1990",
    ),
    (
        "entry-stage-not-allowed",
        MMC,
        {"referrals.sources.all.entry": "moon"},
        "referrals.sources.all.entry",
        "must be one of",
    ),
    # probabilities
    (
        "probability-above-1",
        BASELINE,
        {"front_door.insufficient_info_prob": 1.5},
        "front_door.insufficient_info_prob",
        "must be <= 1",
    ),
    (
        "negative-probability",
        BASELINE,
        {"front_door.misclassification_prob": -0.1},
        "front_door.misclassification_prob",
        "must be >= 0",
    ),
    ("need-probs-not-sum-1", BASELINE, {"family.need_probs.level1": 0.5}, "family.need_probs", "sum to 1"),
    (
        "age-bands-gap",
        BASELINE,
        {"family.age_bands": [{"low": 0, "high": 4, "share": 0.5}, {"low": 6, "high": 17, "share": 0.5}]},
        "family.age_bands.1.low",
        "contiguous",
    ),
    (
        "age-bands-not-sum-1",
        BASELINE,
        {"family.age_bands": [{"low": 0, "high": 9, "share": 0.5}, {"low": 10, "high": 17, "share": 0.4}]},
        "family.age_bands",
        "sum to 1",
    ),
    (
        "age-band-reversed",
        BASELINE,
        {"family.age_bands": [{"low": 0, "high": 17, "share": 0.5}, {"low": 18, "high": 16, "share": 0.5}]},
        "family.age_bands.1.low",
        "must be <= high",
    ),
    (
        "outcome-probs-not-sum-1",
        BASELINE,
        {"social_care.statutory.assessed_probs.cin": 0.5},
        "social_care.statutory.assessed_probs",
        "sum to 1",
    ),
    ("decision-probs-not-sum-1", BASELINE, {"panel.decision_probs.no_plan": 0.5}, "panel.decision_probs", "sum to 1"),
    (
        "probability-dict-missing-key",
        BASELINE,
        {"panel.decision_probs.no_plan": DELETE},
        "panel.decision_probs",
        "missing no_plan",
    ),
    (
        "probability-dict-unknown-key",
        BASELINE,
        {"family.need_probs.level5": 0.0},
        "family.need_probs.level5",
        "must be one of",
    ),
    (
        "step-down-prob-above-1",
        BASELINE,
        {"social_care.step_down_probs.lac": 2.0},
        "social_care.step_down_probs.lac",
        "must be <= 1",
    ),
    ("locality-shares-not-sum-1", BASELINE, {"localities.washington.referral_share": 0.5}, "localities", "sum to 1"),
    (
        "reviews-sum-above-1",
        BASELINE,
        {"early_help.reviews.step_up_prob": 0.6, "early_help.reviews.step_down_prob": 0.6},
        "early_help.reviews",
        "must be <= 1",
    ),
    (
        "risk-mean-at-1",
        BASELINE,
        {"family.risk_mean_by_need.level4": 1.0},
        "family.risk_mean_by_need.level4",
        "must be in (0, 1)",
    ),
    # seasonality and arrivals
    ("seasonality-11-values", BASELINE, {"referrals.seasonality": [1.0] * 11}, "referrals.seasonality", "12 monthly"),
    (
        "source-seasonality-11-values",
        BASELINE,
        {"referrals.sources.police.seasonality": [1.0] * 11},
        "referrals.sources.police.seasonality",
        "12 monthly",
    ),
    (
        "negative-seasonality",
        BASELINE,
        {"referrals.seasonality": [1.0] * 11 + [-0.5]},
        "referrals.seasonality",
        "must be >= 0",
    ),
    (
        "deterministic-two-sources",
        MMC,
        {"referrals.process": "deterministic", "referrals.sources.more": {"annual_rate": 10, "entry": "level3"}},
        "referrals.process",
        "exactly one source",
    ),
    # run length
    ("warmup-not-below-duration", MMC, {"run.warmup_days": 20000}, "run.warmup_days", "must be < duration_days"),
    ("zero-duration", MMC, {"run.duration_days": 0}, "run.duration_days", "must be > 0"),
    # capacity where demand is routed
    ("zero-workers-with-referrals", MMC, {"teams.town.workers": 0}, "teams.town.workers", "zero capacity"),
    ("zero-caseload-cap", MMC, {"teams.town.caseload_cap": 0}, "teams.town.caseload_cap", "zero capacity"),
    ("zero-front-door-staff", BASELINE, {"front_door.staff": 0}, "front_door.staff", "zero capacity"),
    ("no-front-door-section", BASELINE, {"front_door": DELETE}, "front_door", "missing"),
    ("zero-panel-capacity", BASELINE, {"panel.capacity_per_meeting": 0}, "panel.capacity_per_meeting", "zero capacity"),
    ("zero-mst-therapists", BASELINE, {"mst.therapists": 0}, "mst.therapists", "zero capacity"),
    ("zero-partner-plan-capacity", BASELINE, {"partner_plans.capacity": 0}, "partner_plans.capacity", "zero capacity"),
    ("no-social-care-section", BASELINE, {"social_care": DELETE}, "social_care", "missing"),
    ("mst-age-min-above-max", BASELINE, {"mst.age_min": 18}, "mst.age_min", "must be <= age_max"),
    # initial state
    (
        "initial-open-plans-exceed-slots",
        BASELINE,
        {"initial_state.teams.washington.open_plans": 1000},
        "initial_state.teams.washington.open_plans",
        "exceeds",
    ),
    (
        "initial-state-unknown-team",
        BASELINE,
        {"initial_state.teams.sunderland": {"open_plans": 1}},
        "initial_state.teams.sunderland",
        "no such team",
    ),
    # dates: ISO YYYY-MM-DD only (a YAML date or a string in that form)
    ("start-date-digits-only", MMC, {"run.start_date": 20230101}, "run.start_date", "YYYY-MM-DD"),
    ("start-date-no-such-day", MMC, {"run.start_date": "2023-02-30"}, "run.start_date", "YYYY-MM-DD"),
    ("start-date-day-first", MMC, {"run.start_date": "01/04/2017"}, "run.start_date", "YYYY-MM-DD"),
    (
        "start-date-with-time",
        MMC,
        {"run.start_date": _dt.datetime(2017, 4, 1, 10, 30)},
        "run.start_date",
        "a date and time",
    ),
    ("start-date-a-list", MMC, {"run.start_date": [2017, 4, 1]}, "run.start_date", "YYYY-MM-DD"),
    # names are names, not paths
    ("name-parent-path", MMC, {"name": "../../escaped"}, "name", "a name, not a path"),
    ("name-absolute-path", MMC, {"name": "/tmp/escaped"}, "name", "a name, not a path"),
    ("name-with-slash", MMC, {"name": "a/b"}, "name", "a name, not a path"),
    ("name-with-backslash", MMC, {"name": "a\\b"}, "name", "a name, not a path"),
    ("name-leading-dot", MMC, {"name": ".hidden"}, "name", "a name, not a path"),
    ("name-double-dot", MMC, {"name": "a..b"}, "name", "no '..'"),
    ("name-with-space", MMC, {"name": "my scenario"}, "name", "letters (any alphabet), digits"),
    ("name-leading-dash", MMC, {"name": "-rf"}, "name", "starting with a letter"),
    ("name-too-long", MMC, {"name": "x" * 101}, "name", "at most 100 characters"),
    ("name-newline", MMC, {"name": "a\nb"}, "name", "a name, not a path"),
    ("name-variant-suffix-with-slash", MMC, {"name": "mmc[k=../x]"}, "name", "a name, not a path"),
    # lower bounds that make no sense
    ("panel-interval-1e-7", BASELINE, {"panel.interval_days": 1e-7}, "panel.interval_days", "must be >= 1 day"),
    ("panel-interval-half-day", BASELINE, {"panel.interval_days": 0.5}, "panel.interval_days", "must be >= 1 day"),
    (
        "panel-first-meeting-at-end",
        BASELINE,
        {"panel.first_meeting_day": 1095},
        "panel.first_meeting_day",
        "must be < run.duration_days",
    ),
    (
        "panel-first-meeting-after-end",
        BASELINE,
        {"panel.first_meeting_day": 5000},
        "panel.first_meeting_day",
        "would never meet",
    ),
    (
        "results-window-15-days",
        BASELINE,
        {"run.warmup_days": 1080},
        "run.warmup_days",
        "results window (duration_days - warmup_days) of 15 days",
    ),
    (
        "results-window-15-minutes",
        BASELINE,
        {"run.warmup_days": 1095 - 15 / 1440},
        "run.warmup_days",
        "must be at least 30 days",
    ),
    (
        "run-shorter-than-30-days",
        MMC,
        {"run.duration_days": 20, "run.warmup_days": 0},
        "run.duration_days",
        "must be at least 30 days",
    ),
    (
        "parenting-interval-under-a-day",
        BASELINE,
        {"parenting_groups": {**PARENTING, "interval_days": 0.01}},
        "parenting_groups.interval_days",
        "must be >= 1 day",
    ),
    (
        "parenting-first-group-after-end",
        BASELINE,
        {"parenting_groups": {**PARENTING, "first_group_day": 2000}},
        "parenting_groups.first_group_day",
        "must be < run.duration_days",
    ),
    # absurd magnitudes
    ("duration-1e12", MMC, {"run.duration_days": 1e12}, "run.duration_days", "must be <= 36525"),
    ("duration-1e12-as-text", MMC, {"run.duration_days": "1e12"}, "run.duration_days", "must be <= 36525"),
    ("duration-100-years-and-a-day", MMC, {"run.duration_days": 36526}, "run.duration_days", "must be <= 36525"),
    (
        "annual-rate-1e15",
        MMC,
        {"referrals.sources.all.annual_rate": 1e15},
        "referrals.sources.all.annual_rate",
        "must be <= 10000000",
    ),
    ("workers-10-to-the-26", MMC, {"teams.town.workers": 10**26}, "teams.town.workers", "must be <= 100000"),
    ("front-door-staff-200k", BASELINE, {"front_door.staff": 200_000}, "front_door.staff", "must be <= 100000"),
    ("mst-therapists-1e6", BASELINE, {"mst.therapists": 10**6}, "mst.therapists", "must be <= 100000"),
    ("other-fte-1e9", BASELINE, {"teams.washington.other_fte": 1e9}, "teams.washington.other_fte", "must be <= 100000"),
    ("caseload-cap-1e7", MMC, {"teams.town.caseload_cap": 10**7}, "teams.town.caseload_cap", "must be <= 1000000"),
    (
        "panel-capacity-1e9",
        BASELINE,
        {"panel.capacity_per_meeting": 10**9},
        "panel.capacity_per_meeting",
        "must be <= 1000000",
    ),
    (
        "initial-waiting-1e7",
        BASELINE,
        {"initial_state.teams.washington.waiting": 10**7},
        "initial_state.teams.washington.waiting",
        "must be <= 1000000",
    ),
]


@pytest.mark.parametrize(
    ("base", "changes", "field", "problem"), [c[1:] for c in MUTATIONS], ids=[c[0] for c in MUTATIONS]
)
def test_bad_scenario(tmp_path, capsys, base, changes, field, problem):
    path = _write(tmp_path / "bad.yaml", _mutated(base, changes))
    _assert_rejected(*_validate(capsys, path), field, problem)


# ------------------------------------------------------------------- bad --set overrides
# id, overrides on mmc.yaml, field named in the message, problem word(s)
OVERRIDES = [
    ("set-without-equals", ["teams.town.workers"], "--set 'teams.town.workers'", "expected KEY=VALUE"),
    ("set-empty-key", ["=3"], "--set '=3'", "expected KEY=VALUE"),
    ("set-empty-key-segment", ["teams..workers=3"], "--set 'teams..workers=3'", "empty key"),
    ("set-through-a-string", ["name.first=x"], "name", "not a mapping"),
    ("set-through-a-number", ["teams.town.workers.max=3"], "teams.town.workers", "not a mapping"),
    ("set-value-bad-yaml", ["teams.town.workers=[3"], "--set teams.town.workers", "not valid YAML"),
    ("set-empty-value", ["teams.town.workers="], "teams.town.workers", "valid integer"),
    ("set-negative-value", ["teams.town.workers=-1"], "teams.town.workers", "must be >= 0"),
    ("set-unknown-key", ["teams.town.wrokers=3"], "teams.town.wrokers", "unknown key"),
    # an entry of a named mapping that does not exist: say so, and list the ones that do
    (
        "set-through-missing-team",
        ["teams.nonexistent.workers=3"],
        "teams.nonexistent",
        "team 'nonexistent' does not exist (teams: town)",
    ),
    (
        "set-through-missing-locality",
        ["localities.nowhere.referral_share=1"],
        "localities.nowhere",
        "locality 'nowhere' does not exist (localities: town)",
    ),
    (
        "set-through-missing-source",
        ["referrals.sources.gp.annual_rate=10"],
        "referrals.sources.gp",
        "referral source 'gp' does not exist (sources: all)",
    ),
    (
        "set-through-missing-initial-team",
        ["initial_state.teams.nowhere.open_plans=1"],
        "initial_state.teams.nowhere",
        "team 'nowhere' does not exist (teams: town)",
    ),
    ("set-start-date-digits", ["run.start_date=20230101"], "run.start_date", "YYYY-MM-DD"),
    ("set-start-date-no-such-day", ["run.start_date=2023-02-30"], "run.start_date", "YYYY-MM-DD"),
    ("set-workers-10^26", ["teams.town.workers=10^26"], "teams.town.workers", "valid integer"),
    (
        "set-workers-27-digits",
        ["teams.town.workers=100000000000000000000000000"],
        "teams.town.workers",
        "must be <= 100000",
    ),
    ("set-duration-1e12", ["run.duration_days=1e12"], "run.duration_days", "must be <= 36525"),
    (
        "set-annual-rate-1e15",
        ["referrals.sources.all.annual_rate=1e15"],
        "referrals.sources.all.annual_rate",
        "must be <= 10000000",
    ),
    ("set-name-path", ["name=../../escaped"], "name", "a name, not a path"),
    ("set-value-nested-60-deep", ["teams.town.workers=" + "[" * 60 + "]" * 60], "--set teams.town.workers", "nested"),
    (
        "set-value-alias-bomb",
        [
            "description=["
            + ", ".join(f"&a{i} [" + ", ".join([f"*a{i - 1}" if i else "lol"] * 9) + "]" for i in range(9))
            + "]"
        ],
        "--set description",
        "expands to more than 100,000 values",
    ),
    ("set-value-impossible-date-tag", ["run.start_date=!!timestamp 2023-13-45"], "run.start_date", "YYYY-MM-DD"),
    ("set-value-bad-int-tag", ["teams.town.workers=!!int abc"], "--set teams.town.workers", "could not be read"),
]


@pytest.mark.parametrize(("overrides", "field", "problem"), [c[1:] for c in OVERRIDES], ids=[c[0] for c in OVERRIDES])
def test_bad_override(capsys, overrides, field, problem):
    """The problem is the override's: the line names it (``--set KEY=VALUE: field: ...``), never the file."""
    rc, out, err = _validate(capsys, MMC, *overrides)
    by = None if field.startswith("--set") else f"--set {overrides[0]}"
    _assert_rejected(rc, out, err, field, problem, by)
    assert "mmc.yaml" not in err, err


# ------------------------------------------------------------------- bad files
# id, {file name: text}, field named in the message, problem word(s). The scenario validated is
# bad.yaml; "{MMC}" is the real mmc.yaml and "{BAD}" the absolute path of bad.yaml.
_MMC_TEXT = MMC.read_text(encoding="utf-8")
# "billion laughs" in 333 bytes: 9 levels of 9 aliases each, 9^9 (387 million) strings expanded
ALIAS_BOMB = (
    "name: bomb\na: &a [l,l,l,l,l,l,l,l,l]\n"
    + "".join(f"{b}: &{b} [" + ",".join([f"*{a}"] * 9) + "]\n" for a, b in zip("abcdefgh", "bcdefghi"))
    + "description: *i\n"
)
FILES = [
    ("scenario-file-not-found", {}, "scenario", "file not found"),
    ("extends-file-not-found", {"bad.yaml": "extends: no_such_base.yaml\n"}, "extends", "file not found"),
    ("extends-cycle", {"bad.yaml": "extends: other.yaml\n", "other.yaml": "extends: bad.yaml\n"}, "extends", "cycle"),
    ("extends-not-a-path", {"bad.yaml": "extends: [a.yaml, b.yaml]\n"}, "extends", "must be a file path"),
    (
        "extends-real-config-one-bad-override",
        {"bad.yaml": "extends: {MMC}\nteams: {town: {workers: -1}}\n"},
        "teams.town.workers",
        "must be >= 0",
    ),
    (
        "malformed-yaml-unclosed-bracket",
        {"bad.yaml": _MMC_TEXT.replace("{workers: 2, caseload_cap: 2}", "{workers: 2, caseload_cap: 2")},
        "{BAD}",
        "malformed YAML",
    ),
    ("top-level-list", {"bad.yaml": "- name: mmc\n- run: {}\n"}, "{BAD}", "must be a mapping"),
    ("empty-file", {"bad.yaml": ""}, "name", "required key is missing"),
    ("not-utf8", {"bad.yaml": b"name: caf\xe9\n"}, "{BAD}", "not a text file"),
    ("duplicate-key", {"bad.yaml": "name: a\nname: b\n"}, "{BAD}", "duplicate key 'name'"),
    # YAML loader limits: depth, alias expansion, size; and what PyYAML's constructors let through
    (
        "nested-500-deep-flow",
        {"bad.yaml": _MMC_TEXT + "description: " + "[" * 500 + "]" * 500 + "\n"},
        "{BAD}",
        "nested more than 50 levels deep",
    ),
    (
        "nested-500-deep-block",
        {"bad.yaml": "".join(" " * i + f"k{i}:\n" for i in range(500)) + " " * 500 + "k: 1\n"},
        "{BAD}",
        "nested more than 50 levels deep",
    ),
    ("alias-bomb", {"bad.yaml": ALIAS_BOMB}, "{BAD}", "expands to more than 100,000 values"),
    ("recursive-alias", {"bad.yaml": "name: &a [*a]\n"}, "{BAD}", "contains itself"),
    ("list-as-key", {"bad.yaml": "? [a, b]\n: 1\n"}, "{BAD}", "a key must be a plain value"),
    (
        "bad-int-tag",
        {"bad.yaml": _MMC_TEXT.replace("{workers: 2,", "{workers: !!int two,")},
        "{BAD}",
        "could not be read",
    ),
    (
        "python-object-tag",
        {"bad.yaml": "name: !!python/object/apply:os.system [echo hi]\n"},
        "{BAD}",
        "could not determine a constructor",
    ),
    (
        "impossible-date-in-file",
        {"bad.yaml": _MMC_TEXT.replace("start_date: 2020-01-01", "start_date: 2020-02-30")},
        "run.start_date",
        "YYYY-MM-DD",
    ),
    (
        "file-over-1-mib",
        {"bad.yaml": _MMC_TEXT + "# " + "x" * (1024 * 1024) + "\n"},
        "{BAD}",
        "a scenario file may be at most 1,048,576 bytes",
    ),
    (
        "extends-chain-of-18",
        {"bad.yaml": "extends: f1.yaml\n", **{f"f{i}.yaml": f"extends: f{i + 1}.yaml\n" for i in range(1, 18)}},
        "extends",
        "more than 16 files",
    ),
    ("scenario-is-a-directory", {"bad.yaml": None}, "scenario", "file not found"),
]


@pytest.mark.parametrize(("files", "field", "problem"), [c[1:] for c in FILES], ids=[c[0] for c in FILES])
def test_bad_file(tmp_path, capsys, files, field, problem):
    bad = (tmp_path / "bad.yaml").resolve()
    for name, text in files.items():
        if text is None:
            (tmp_path / name).mkdir()
        elif isinstance(text, bytes):
            (tmp_path / name).write_bytes(text)
        else:
            (tmp_path / name).write_text(text.replace("{MMC}", str(MMC)), encoding="utf-8")
    _assert_rejected(*_validate(capsys, bad), field.replace("{BAD}", str(bad)), problem)


def test_enough_distinct_cases():
    ids = [c[0] for c in (*MUTATIONS, *OVERRIDES, *FILES)]
    assert len(ids) == len(set(ids)) >= 120


# ------------------------------------------------------------------- good configs, real process
@pytest.mark.parametrize("config", [MMC, BASELINE], ids=["mmc", "baseline"])
def test_shipped_configs_validate(capsys, config):
    rc = main(["validate", str(config)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "valid scenario" in out
    assert err == ""


def test_python_m_sim_exits_2_without_traceback(tmp_path):
    bad = _write(tmp_path / "bad.yaml", _mutated(MMC, {"teams.town.workers": -2}))
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "teams.town.workers: must be >= 0" in proc.stderr


# ------------------------------------------------------------------- YAML limits, end to end
def test_alias_bomb_is_refused_quickly_with_a_short_message(tmp_path, capsys):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB, encoding="utf-8")
    assert len(ALIAS_BOMB.encode()) < 400
    start = time.perf_counter()
    rc, out, err = _validate(capsys, path)
    assert time.perf_counter() - start < 2.0
    assert rc == EXIT_BAD_INPUT and out == ""
    assert len(err) < 400, f"{len(err)} characters of error"
    assert "expands to more than 100,000 values" in err


def test_500_deep_yaml_through_a_real_process(tmp_path):
    bad = tmp_path / "deep.yaml"
    bad.write_text(_MMC_TEXT + "description: " + "{a: " * 500 + "1" + "}" * 500 + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "RecursionError" not in proc.stderr
    assert "nested more than 50 levels deep" in proc.stderr


# ------------------------------------------------------------------- the Python API
@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ("teams.town.workers=3", "got the string 'teams.town.workers=3' (put it in a list)"),
        (42, "overrides: must be a mapping"),
        ({3: 1}, "overrides: 3 is not a dotted key"),
        ({"teams..workers": 1}, "is not a dotted key"),
        ({"": 1}, "is not a dotted key"),
        (["teams.town.workers=3", 3], "expected a KEY=VALUE string, got int"),
        ({"teams.nonexistent.workers": 3}, "teams.nonexistent: team 'nonexistent' does not exist (teams: town)"),
        ({"teams.town.workers": 10**26}, "teams.town.workers: must be <= 100000"),
        ({"run.start_date": "20230101"}, "run.start_date: must be a valid date written YYYY-MM-DD"),
        ({"name": "../../escaped"}, "name: must be a name of letters"),
    ],
    ids=[
        "string",
        "int",
        "int-key",
        "empty-segment",
        "empty-key",
        "list-with-int",
        "missing-team",
        "huge-workers",
        "digit-date",
        "path-name",
    ],
)
def test_api_bad_overrides(overrides, problem):
    with pytest.raises(ScenarioError) as info:
        load_scenario(MMC, overrides)
    assert any(problem in m for m in info.value.messages), info.value.messages
    assert all("\n" not in m for m in info.value.messages)


@pytest.mark.parametrize("path", [123, None, b"configs/baseline.yaml", ["configs/baseline.yaml"]])
def test_api_path_must_be_a_path(path):
    with pytest.raises(ScenarioError, match="path: must be a scenario file path"):
        load_scenario(path)


def _deep(n: int) -> Any:
    node: Any = 1
    for _ in range(n):
        node = {"a": node}
    return node


def _cyclic() -> dict[str, Any]:
    d = _load(MMC)
    d["description"] = [d]
    return d


def _wide() -> dict[str, Any]:
    d = _load(MMC)
    shared = list(range(1000))
    d["description"] = [shared] * 1000  # a million values through shared references
    return d


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: {**_load(MMC), "description": _deep(5000)}, "nested more than 50 levels deep"),
        (_cyclic, "contains itself"),
        (_wide, "expands to more than 100,000 values"),
    ],
    ids=["5000-deep", "cyclic", "million-shared"],
)
def test_api_scenario_from_dict_refuses_bad_shapes(make, problem):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(make())
    assert info.value.messages == [f"scenario: {problem}" + info.value.messages[0].split(problem, 1)[1]]


def test_api_variant_through_a_missing_team_names_the_teams():
    base = load_scenario(BASELINE)
    with pytest.raises(ScenarioError, match=r"teams: washington, east_west, coalfields"):
        sim.variant(base, {"teams.nonexistent.workers": 3})


def test_whole_new_entries_and_initial_state_of_an_existing_team_are_still_allowed():
    sc = load_scenario(
        BASELINE,
        [
            "localities.village={referral_share: 0.0}",
            "teams.village={workers: 1, caseload_cap: 5}",
            "teams.village.vacancy_rate=0.1",  # through an entry that now exists
        ],
    )
    assert sc.teams["village"].vacancy_rate == 0.1
    mmc = load_scenario(MMC, {"initial_state.teams.town.open_plans": 2})  # mmc has no initial_state
    assert mmc.initial_state.teams["town"].open_plans == 2


def test_sweep_variant_names_are_still_valid():
    base = load_scenario(BASELINE, {"run.duration_days": 400, "run.warmup_days": 30})
    name = "baseline[teams.washington.workers=9,panel.interval_days=7.5]"
    v = sim.variant(base, {"teams.washington.workers": 9, "panel.interval_days": 7.5}, name)
    assert v.name == name
    with pytest.raises(ScenarioError, match="a name, not a path"):
        sim.variant(base, {}, "baseline[name=../../x]")


def test_named_entries_cover_every_mapping_of_named_models():
    """Every ``dict[str, <model>]`` field of the schema is in NAMED_ENTRIES, and nothing else."""
    found: set[tuple[str, ...]] = set()

    def walk(model: type[BaseModel], path: tuple[str, ...]) -> None:
        for name, info in model.model_fields.items():
            for ann in (info.annotation, *typing.get_args(info.annotation)):
                if typing.get_origin(ann) is dict:
                    value = typing.get_args(ann)[1]
                    if isinstance(value, type) and issubclass(value, BaseModel):
                        found.add((*path, name))
                elif isinstance(ann, type) and issubclass(ann, BaseModel):
                    walk(ann, (*path, name))

    walk(Scenario, ())
    assert found == set(NAMED_ENTRIES)


def _bundled() -> list[Path]:
    return sorted((ROOT / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("config", _bundled(), ids=lambda p: str(p.relative_to(ROOT / "configs")))
def test_every_bundled_config_still_validates(config):
    data = _load(config)
    if "targets" in data and "parameters" in data:  # a calibration spec: its scenario and overrides
        sc = load_scenario(config.parent / data["scenario"], dict(data.get("overrides") or {}))
    elif "parameters" in data and "options" in data:  # an uncertainty spec: its scenario and options
        from sim.uncertainty.spec import load_spec

        loaded = load_spec(config)
        for scenario in (loaded.base, *loaded.options):
            workload.check(scenario, 20)
        return
    else:
        sc = load_scenario(config)
    assert sc.name
    workload.check(sc, 20)  # and none needs --force for 20 replications


# ------------------------------------------------------------------- bounded work (sim.workload)
def test_workload_estimate_is_close_to_what_a_replication_does():
    for path, over in ((BASELINE, {}), (MMC, {"run.duration_days": 3000, "run.warmup_days": 300})):
        sc = load_scenario(path, over)
        est = workload.estimate(sc)
        res = sim.run_replication(sc, rep=0, seed=0)
        assert len(res.events) <= est.events <= 2 * len(res.events), (path, len(res.events), est.events)
        referrals = (res.events["event"] == "referral").sum()
        assert 0.8 * referrals <= est.episodes <= 1.6 * referrals


HUGE = {"run.duration_days": 36525, "run.warmup_days": 365}


@pytest.mark.parametrize(
    ("overrides", "reps", "fields", "problem"),
    [
        (
            {**HUGE, "referrals.sources.police.annual_rate": 1e7},
            1,
            "run.duration_days, referrals.sources.police.annual_rate:",
            "referrals per replication over 36,525 days (limit 5,000,000)",
        ),
        (
            {**HUGE, "referrals.sources.police.annual_growth": 1.0},
            1,
            "referrals.sources.police.annual_growth",
            "referrals per replication",
        ),
        (
            {**HUGE, "referrals.sources.police.annual_rate": 20_000},
            1,
            "run.duration_days, referrals.sources.police.annual_rate:",
            "GiB of memory per replication",
        ),
        (
            {**HUGE, "rereferral.prob_within_12_months": 1.0, "referrals.sources.police.annual_rate": 10_000},
            1,
            "rereferral.prob_within_12_months",
            "GiB of memory per replication",
        ),
        ({}, 10**9, "replications:", "1,000,000,000 replications give about"),
        ({}, 20_000, "replications:", "(limit 100,000,000; about"),
    ],
    ids=["rate-1e7-for-100-years", "doubling-for-100-years", "memory", "re-referral-loop", "1e9-reps", "20k-reps"],
)
def test_workload_check_refuses_naming_the_fields(overrides, reps, fields, problem):
    sc = load_scenario(BASELINE, overrides)
    start = time.perf_counter()
    with pytest.raises(ScenarioError if reps == 1 else ArgumentError) as info:
        workload.check(sc, reps)
    assert time.perf_counter() - start < 0.5
    (line,) = info.value.messages
    assert line.startswith("run.duration_days" if reps == 1 else "replications:"), line
    assert fields in line and problem in line and "--force" in line, line
    assert workload.check(sc, reps, force=True).replications == reps  # forced: the estimate, no error


def test_workload_check_sums_scenarios_of_a_comparison():
    base = load_scenario(BASELINE)
    assert len(workload.check([base, base], 5_000)) == 2  # 76 million: under the limit
    with pytest.raises(ArgumentError, match=r"^replications: 3 scenarios x 5,000 replications"):
        workload.check([base, base, base], 5_000)


@pytest.mark.parametrize("reps", [0, -1, True, 2.5, "3", None])
def test_workload_replications_must_be_a_positive_whole_number(reps):
    with pytest.raises(ArgumentError) as info:
        workload.check(load_scenario(MMC), reps)
    assert info.value.argument == "replications"


# ------------------------------------------------------------------- day 0 before dated changes
KIRKLEES = ROOT / "configs" / "kirklees" / "calibrated.yaml"  # with dated changes from 2019-03-06


def test_day0_problem_of_a_scenario_with_dated_changes_is_its_own(tmp_path, capsys):
    """Zero MST therapists from the start is the scenario's problem, not that of the first dated
    change (which only raises the caseload cap): named as in a scenario without changes."""
    path = _write(tmp_path / "no_mst.yaml", {"extends": str(KIRKLEES), "mst": {"therapists": 0}})
    rc, out, err = _validate(capsys, path)
    _assert_rejected(rc, out, err, "mst.therapists", "zero capacity")
    assert "changes." not in err, err


def test_a_dated_change_that_brings_the_problem_is_still_named():
    data = yaml.safe_load(yaml.safe_dump(load_scenario(KIRKLEES).model_dump(mode="json", exclude_none=True)))
    data["changes"][1]["set"] = {"mst.therapists": 0}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert any(
        line.startswith(f"scenario: changes.1 ({data['changes'][1]['date']}): mst.therapists: zero capacity")
        for line in info.value.messages
    ), info.value.messages


def test_a_design_whose_parameters_raise_demand_is_checked_on_its_built_scenarios() -> None:
    """The design's size is checked from the scenarios as given (before any is built); a
    parameter that raises demand (a referral volume x3) makes the built scenarios' total larger
    than that estimate, so the total is checked again on them, naming ``samples``."""
    base = load_scenario("configs/baseline.yaml")
    one = workload.estimate(base, 2).total_referrals
    points = int(workload.MAX_TOTAL_REFERRALS / one / 2)  # half the limit as given
    workload.check_design([base], points, 2)  # passes: about half the limit
    rate = base.referrals.sources
    tripled = load_scenario(
        "configs/baseline.yaml",
        {f"referrals.sources.{s}.annual_rate": 3 * src.annual_rate for s, src in rate.items()},
    )
    with pytest.raises(ArgumentError) as info:
        workload.check_replications([tripled] * points, 2, points)
    assert info.value.argument == "samples"
    assert f"{points:,} parameter points x 1 scenario x 2 replication(s)" in str(info.value), str(info.value)

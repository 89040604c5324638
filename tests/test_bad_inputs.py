"""Bad scenario inputs through the real CLI: ``ehsim validate`` must exit 2, name the field by
its dotted path and say what is wrong, and never show a traceback.

Each bad scenario starts from a shipped config (loaded with ``yaml.safe_load``), changes one
thing, and is written to ``tmp_path``.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
MMC = ROOT / "configs" / "validation" / "mmc.yaml"
BASELINE = ROOT / "configs" / "baseline.yaml"
EXIT_BAD_INPUT = 2
DELETE = object()  # as a value in a case's changes: remove that key
NAN, INF = float("nan"), float("inf")


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


def _assert_rejected(rc: int, out: str, err: str, field: str, problem: str) -> None:
    assert rc == EXIT_BAD_INPUT, f"exit {rc}, stderr:\n{err}"
    assert "Traceback" not in out + err
    assert out == "", "nothing on stdout for an invalid scenario"
    # one message line both names the field (as its subject) and says what is wrong
    subject = re.compile(rf"\s*{re.escape(field)}[: ]")
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
        "outcome-probs-not-sum-1",
        BASELINE,
        {"social_care.outcome_probs.nfa": 0.5},
        "social_care.outcome_probs",
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
]


@pytest.mark.parametrize(("overrides", "field", "problem"), [c[1:] for c in OVERRIDES], ids=[c[0] for c in OVERRIDES])
def test_bad_override(capsys, overrides, field, problem):
    _assert_rejected(*_validate(capsys, MMC, *overrides), field, problem)


# ------------------------------------------------------------------- bad files
# id, {file name: text}, field named in the message, problem word(s). The scenario validated is
# bad.yaml; "{MMC}" is the real mmc.yaml and "{BAD}" the absolute path of bad.yaml.
_MMC_TEXT = MMC.read_text(encoding="utf-8")
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
]


@pytest.mark.parametrize(("files", "field", "problem"), [c[1:] for c in FILES], ids=[c[0] for c in FILES])
def test_bad_file(tmp_path, capsys, files, field, problem):
    bad = (tmp_path / "bad.yaml").resolve()
    for name, text in files.items():
        if isinstance(text, bytes):
            (tmp_path / name).write_bytes(text)
        else:
            (tmp_path / name).write_text(text.replace("{MMC}", str(MMC)), encoding="utf-8")
    _assert_rejected(*_validate(capsys, bad), field.replace("{BAD}", str(bad)), problem)


def test_enough_distinct_cases():
    ids = [c[0] for c in (*MUTATIONS, *OVERRIDES, *FILES)]
    assert len(ids) == len(set(ids)) >= 35


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

"""Inputs once silently accepted or refused in words about keys the user never wrote: a mean
number of children no table holds, seasonality written as percentages, an option file that
switches a distribution, an option file without a name, and a setting an option adds. Each bad
input is refused before any work, exit code 2, one line naming the field, no traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.cli import main
from sim.config.limits import MAX_CHILDREN_MEAN
from sim.model.family import AttributeTables
from sim.present.assumptions import NOT_SET, read_assumptions, shown_apart
from sim.present.narrative import _grouped
from tests.conftest import CONFIGS

BASE = CONFIGS / "baseline.yaml"
SHORT = ["--set", "run.duration_days=400", "--set", "run.warmup_days=100", "--replications", "1", "--quiet"]
SEASON = [1.0, 0.95, 1.0, 0.92, 0.95, 1.0, 1.05, 0.82, 1.08, 1.05, 1.08, 0.9]  # configs/baseline.yaml's


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and all(line.startswith("error: ") for line in err.strip().splitlines()), err
    assert all(n in err for n in needles), err
    return err


def _option(tmp_path: Path, text: str, name: str = "option.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"extends: {BASE}\n{text}")
    return path


# ----------------------------------------------------------------- 1. children per family
@pytest.mark.parametrize("mean", ["225", "1e9", "10.5"])
def test_children_mean_beyond_any_family_is_refused(
    mean: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ran to exit 0 before, every family with exactly 60 children (the table stopped there)
    out = tmp_path / "k"
    argv = ["run", str(BASE), "--set", f"family.children_mean={mean}", *SHORT, "--out", str(out)]
    _refused(argv, capsys, "family.children_mean: must be <= 10")
    assert not out.exists()


def test_children_mean_at_the_bound_is_accepted_and_its_table_whole() -> None:
    sc = sim.load_scenario(BASE, overrides={"family.children_mean": MAX_CHILDREN_MEAN})
    cum = AttributeTables.build(sc).children_cum
    assert cum[-1] >= 1 - 1e-12 and len(cum) < 60  # the tail beyond the table is under 1e-12


def test_the_children_table_is_never_cut_short() -> None:
    # a mean that bypassed validation is refused where the table is built, not truncated
    sc = sim.load_scenario(BASE)
    big = sc.model_copy(update={"family": sc.family.model_copy(update={"children_mean": 225.0})})
    with pytest.raises(ValueError, match=r"family\.children_mean"):
        AttributeTables.build(big)


# ----------------------------------------------------------------- 2. seasonality
@pytest.mark.parametrize(
    ("key", "values", "needles"),
    [
        ("referrals.seasonality", [round(v * 100) for v in SEASON], ("average 98.3", "1.05", "percentages")),
        ("referrals.seasonality", [v / 10 for v in SEASON], ("average 0.0983", "1.05")),
        ("referrals.sources.police.seasonality", [3 * v for v in SEASON], ("average 2.95",)),
    ],
    ids=["percentages", "tenths", "source-tripled"],
)
def test_seasonality_far_from_an_average_of_one_is_refused(
    key: str, values: list[float], needles: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # valid before: the multipliers are not normalised, so percentages made ~100x the demand
    data: dict[str, Any] = {"extends": str(BASE), "name": "season"}
    node = data
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = values
    path = tmp_path / "season.yaml"
    path.write_text(yaml.safe_dump(data))
    _refused(["validate", str(path)], capsys, f"{key}: the 12 multipliers", "must average between 0.5 and 2", *needles)


def test_seasonality_around_one_is_accepted() -> None:
    sc = sim.load_scenario(BASE, overrides={"referrals.seasonality": [v * 1.9 / (sum(SEASON) / 12) for v in SEASON]})
    assert sum(sc.referrals.seasonality) / 12 == pytest.approx(1.9)


# ----------------------------------------------------------------- 3. a distribution switched
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("{dist: uniform, low: 90, high: 180}", {"dist": "uniform", "low": 90.0, "high": 180.0}),
        ("{dist: lognormal, mean: 150, sd: 60}", {"dist": "lognormal", "mean": 150.0, "sd": 60.0}),
        ("{dist: fixed, value: 120}", {"dist": "fixed", "value": 120.0}),
    ],
)
def test_a_distribution_given_in_an_option_file_replaces_the_extended_one(
    given: str, expected: dict[str, object], tmp_path: Path
) -> None:
    # before: "early_help.duration.median: unknown key" (the baseline's median and sigma merged in)
    sc = sim.load_scenario(_option(tmp_path, f"name: switched\nearly_help: {{duration: {given}}}\n"))
    assert sc.early_help.duration.model_dump(by_alias=True, exclude_none=True) == expected
    # as the same distribution given by --set
    by_set = sim.load_scenario(BASE, overrides=[f"early_help.duration={given}"])
    assert by_set.early_help.duration == sc.early_help.duration


def test_a_parameter_given_alone_still_changes_the_extended_distribution(tmp_path: Path) -> None:
    sc = sim.load_scenario(_option(tmp_path, "name: longer\nearly_help: {duration: {median: 200}}\n"))
    base = sim.load_scenario(BASE).early_help.duration
    assert sc.early_help.duration == base.model_copy(update={"median": 200.0})


def test_keys_merged_from_the_extended_file_are_named_as_its(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # without its dist the merge cannot tell a new distribution: the error says whose keys they are
    path = _option(tmp_path, "name: moments\nearly_help: {duration: {mean: 150, sd: 60}}\n")
    err = _refused(["validate", str(path)], capsys, "early_help.duration: median, sigma come from the file it extends")
    assert "mean, sd given here" in err and "replace: true" in err and "{dist: lognormal, mean: ..., sd: ...}" in err


def test_an_option_replacing_a_distribution_lists_only_its_own_settings(tmp_path: Path) -> None:
    # the Assumptions section merges as the loader does: the baseline's median and sigma are
    # not in force (listed before, beside the option's uniform)
    text = "name: switched\nearly_help:\n  duration: {dist: uniform, low: 90, high: 180}   # ASSUMPTION\n"
    listed = [(a.key, a.value) for a in read_assumptions(_option(tmp_path, text))[0]]
    assert [kv for kv in listed if kv[0] == "early_help.duration"] == [
        ("early_help.duration", "dist: uniform, low: 90, high: 180")
    ]


# ----------------------------------------------------------------- 4. an option file's name
def test_an_option_file_without_a_name_is_named_after_its_file(tmp_path: Path) -> None:
    # before: it inherited "baseline" and a comparison showed it as "baseline-2"
    assert sim.load_scenario(_option(tmp_path, "mst: {therapists: 5}\n", "fifth_mst.yaml")).name == "fifth_mst"
    assert sim.load_scenario(_option(tmp_path, "name: own\nmst: {therapists: 5}\n", "named.yaml")).name == "own"
    # a file name that is not a scenario name keeps the inherited one (no error about a key not written)
    assert sim.load_scenario(_option(tmp_path, "mst: {therapists: 5}\n", "fifth mst.yaml")).name == "baseline"


# ----------------------------------------------------------------- 5. a setting an option adds
def test_a_setting_an_option_adds_reads_not_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert shown_apart(None, 6_000_000) == [NOT_SET, "6,000,000"] == ["not set", "6,000,000"]
    assert _grouped([("costs.budget_gbp_per_year", None, 6_000_000)], plain=True) == [
        "costs.budget_gbp_per_year not set -> 6,000,000"
    ]
    option = _option(tmp_path, "mst: {therapists: 5}\ncosts: {budget_gbp_per_year: 6000000}\n", "fifth_mst.yaml")
    code = main(["compare", str(BASE), str(option), *SHORT[:4], "--replications", "2", "--out", str(tmp_path / "c")])
    out = capsys.readouterr().out
    assert code == 0
    assert "  fifth_mst: mst.therapists 4 -> 5; costs.budget_gbp_per_year not set -> 6,000,000" in out, out
    assert "null" not in out and "baseline-2" not in out

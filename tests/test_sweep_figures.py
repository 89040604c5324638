"""A sweep's figures and console: a finding averaged over another swept setting says so, the
precision figure names its combination by its swept values (not the internal variant name),
and a resumed sweep says it resumed, as a run and an uncertainty job do."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim.results as R
from sim.cli import main
from sim.present import fig_diagnostics, fig_sweep
from tests.conftest import CONFIGS

SHORT = ["--set", "run.duration_days=200", "--set", "run.warmup_days=20", "--quiet"]
VARY = ["--vary", "teams.town.workers=2,3", "--vary", "referrals.sources.all.annual_rate=500,800"]


@pytest.fixture(scope="module")
def two_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    """The M/M/c swept over its key workers and its referral rate (4 combinations)."""
    out = tmp_path_factory.mktemp("sweep") / "s"
    args = ["sweep", str(CONFIGS / "validation" / "mmc.yaml"), *VARY, "--replications", "2", "--out", str(out), *SHORT]
    assert main(args) == 0
    return args, out


def test_the_sweep_title_says_it_averages_over_the_other_setting(two_keys: tuple[list[str], Path]) -> None:
    title = fig_sweep.sweep(R.read(two_keys[1])).get_suptitle().replace("\n", " ")
    assert "as teams.town.workers goes from 2 to 3" in title, title
    assert title.endswith("(averaged over the values of referrals.sources.all.annual_rate)"), title


def test_the_precision_figure_names_its_combination_by_its_swept_values(two_keys: tuple[list[str], Path]) -> None:
    res = R.read(two_keys[1])
    title = fig_diagnostics.precision(res).get_suptitle().replace("\n", " ")
    assert "(workers = 2, annual_rate = 500)" in title, title
    assert "-v0" not in title and res.base not in title


def test_a_resumed_sweep_says_it_resumed(two_keys: tuple[list[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(two_keys[0]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith(f"(8 resumed from {two_keys[1]})"), first

"""A sweep's figures and console: a finding averaged over another swept setting says so, the
precision figure names its combination by its swept values (not the internal variant name),
and a resumed sweep says it resumed, as a run and an uncertainty job do; the summary credits no
tie to one setting."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import sim.results as R
from sim import kpis as K
from sim.cli import main
from sim.present import fig_diagnostics, fig_sweep
from sim.present.narrative import _sweep_range
from sim.vocab import Stage
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


def _sweep_of(means: dict[str, list[float]]) -> R.Results:
    """A sweep of ``mst.therapists`` 4, 5, 6 by ``panel.interval_days`` 7, 14 (in that order,
    the interval varying fastest) over a 365-day results window, with ``means[kpi]`` per
    combination (stored values: a count per window, so per year)."""
    combos = [(t, d) for t in (4, 5, 6) for d in (7, 14)]
    rows = [
        {"mst.therapists": t, "panel.interval_days": d, "kpi": kpi, "mean": v}
        for kpi, values in means.items()
        for (t, d), v in zip(combos, values, strict=True)
    ]
    return R.Results(
        kind=R.Kind.SWEEP,
        scenarios=["baseline"],
        replications=pd.DataFrame(),
        summary=pd.DataFrame(rows),
        kpis={},
        configs={"baseline": {"run": {"duration_days": 365.0, "warmup_days": 0.0}}},
        sweep_keys=["mst.therapists", "panel.interval_days"],
    )


def _ranges(res: R.Results, *kpis: K.Kpi) -> list[str]:
    """The summary's sentence of each of ``kpis`` (its range over the combinations), as text."""
    return [re.sub(r"<[^>]+>", "", _sweep_range(res, kpi)) for kpi in kpis]


def test_the_sweep_summary_names_the_setting_that_matters_where_settings_tie() -> None:
    """The review's sweep: "Mean wait for a key worker ranges from 2.5 days (therapists = 4,
    interval_days = 14) to 2.7 days (therapists = 6, interval_days = 7)", though 4, 5 and 6
    therapists gave the same waits: a tie was credited to one setting. The summary now names
    the setting that matters (and "any" other), or how many combinations tie."""
    wait = K.wait(Stage.LEVEL3, "mean")
    withdrawn = K.WITHDRAWN_TOTAL
    res = _sweep_of({wait.name: [2.684, 2.532] * 3, withdrawn.name: [13.0, 15.0, 14.0, 13.0, 15.0, 14.0]})
    wait_text, withdrawn_text = _ranges(res, wait, withdrawn)
    assert wait_text == (
        f"{wait.label[:1].upper()}{wait.label[1:]} ranges from 2.5 days (interval_days = 14, any therapists) "
        "to 2.7 days (interval_days = 7, any therapists)."
    ), wait_text
    # ties that no one setting explains: counted, not credited to the first of them
    assert withdrawn_text.endswith(
        "from 13 families a year (2 combinations) to 15 families a year (2 combinations)."
    ), withdrawn_text


def test_a_sweep_kpi_that_reads_the_same_at_both_ends_is_about_the_same_not_a_range() -> None:
    """The review's sweep read "Step-ups ... ranges from 66 families a year (...) to 66 families
    a year (...)": both ends print the same, so the summary says it is about the same in every
    combination (and a KPI exactly the same everywhere still reads as one value)."""
    res = _sweep_of({K.STEP_UPS_TOTAL.name: [65.6, 66.3, 65.6, 66.3, 65.6, 66.3], K.CARE_ENTRIES.name: [64.0] * 6})
    step_ups, care = _ranges(res, K.STEP_UPS_TOTAL, K.CARE_ENTRIES)
    assert step_ups == "Step-ups to social care is about the same in every combination: 66 families a year.", step_ups
    assert care == "Entries to care is 64 families a year in every combination.", care

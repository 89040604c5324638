"""A KPI or series zero throughout (a service the scenario does not have) is left out of a
figure and named in its footnote, by one rule (:func:`sim.present.data.zero_throughout`):
the comparison's figures over time did it, the sweep figure drew blank panels for them."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim.results as R
from sim import kpis as K
from sim.cli import main
from sim.present import fig_sweep, fig_time
from sim.present.data import cap, not_drawn, present, zero_throughout
from sim.vocab import Stage
from tests.conftest import CONFIGS

SHORT = ["--set", "run.duration_days=200", "--set", "run.warmup_days=20", "--quiet"]


def _texts(fig) -> str:  # type: ignore[no-untyped-def]
    return " ".join(t.get_text().replace("\n", " ") for t in fig.texts)


def test_the_rule() -> None:
    assert zero_throughout([0.0, 0, None, float("nan")]) and zero_throughout([])
    assert not zero_throughout([0.0, -0.1]) and not zero_throughout([0, 3])
    assert not_drawn([]) == "" and not_drawn(["A", "B"]) == " Always zero, not drawn: A, B."


@pytest.fixture(scope="module")
def mmc_sweep(tmp_path_factory: pytest.TempPathFactory) -> R.Results:
    """The M/M/c (no front door, panel, MST or social care) swept over its key workers."""
    out = tmp_path_factory.mktemp("sweep") / "s"
    args = ["sweep", str(CONFIGS / "validation" / "mmc.yaml"), "--vary", "teams.town.workers=2,3"]
    assert main([*args, "--replications", "2", "--out", str(out), *SHORT]) == 0
    return R.read(out)


def test_the_sweep_figure_leaves_out_kpis_zero_throughout(mmc_sweep: R.Results) -> None:
    """Worcestershire's sweep drew "Mean wait for the panel" and "... multi-systemic therapy"
    as blank panels with axes -0.04 to 0.04: it has neither."""
    kpis = present(mmc_sweep, K.SWEEP)
    zero = [k for k in kpis if zero_throughout(fig_sweep.sweep_table(mmc_sweep, k)["mean"])]
    drawn = [k for k in kpis if k not in zero]
    assert K.wait(Stage.PANEL, "mean").name in {k.name for k in zero}  # the case is what it says
    assert K.wait(Stage.MST, "mean").name in {k.name for k in zero}
    assert drawn and K.wait(Stage.LEVEL3, "mean").name in {k.name for k in drawn}
    fig = fig_sweep.sweep(mmc_sweep)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == [cap(k.label) for k in drawn]
    assert not_drawn([cap(k.label) for k in zero]).strip() in _texts(fig)


def test_the_over_time_figures_say_it_the_same_way(tmp_path: Path) -> None:
    out = tmp_path / "r"
    over = ["--set", "referrals.sources.all.annual_rate=1000"]  # rho 0.82: a key-worker list forms
    assert (
        main(["run", str(CONFIGS / "validation" / "mmc.yaml"), "--replications", "2", "--out", str(out), *SHORT, *over])
        == 0
    )
    fig = fig_time.queues(R.read(out))
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["Key worker (Level 3)"]
    said = _texts(fig).split("Always zero, not drawn: ")[1]
    assert "Panel" in said and "MST" in said

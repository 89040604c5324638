"""The headline KPIs ``ehsim run`` prints and the report's headline table leads with: a row
only for the stages and services the scenario has (Worcestershire has no panel and no MST, so
no "n/a" wait and no average queue of 0.0 for them)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim import kpis as K
from sim import results as R
from sim.cli import main
from sim.present import console, page
from sim.results import Kind
from sim.vocab import Stage
from tests.conftest import CONFIGS

SHORT = ["--set", "run.duration_days=300", "--set", "run.warmup_days=30", "--quiet", "--replications", "1"]
PANEL_AND_MST = (K.wait(Stage.PANEL, "mean"), K.wait(Stage.MST, "mean"), K.queue_mean(Stage.MST))
"""The headline's rows of the panel and of MST."""


@pytest.mark.parametrize(
    ("config", "has_them"), [("worcestershire/baseline.yaml", False), ("baseline.yaml", True)], ids=["worcs", "default"]
)
def test_the_headline_has_rows_only_for_the_services_the_scenario_has(
    config: str, has_them: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Worcestershire's headline printed "Mean wait for the panel (days)  n/a" and "Average queue
    for multi-systemic therapy (families)  0.0", though it has no panel and no MST; the
    default baseline has both and keeps their rows. So does the report's headline table."""
    out = tmp_path / "r"
    assert main(["run", str(CONFIGS / config), "--out", str(out), *SHORT]) == 0
    printed = capsys.readouterr().out
    for kpi in PANEL_AND_MST:
        assert (console.label(kpi) in printed) == has_them, (kpi.name, printed)
    assert console.label(K.wait(Stage.LEVEL3, "mean")) in printed  # every scenario has key workers
    headline = page._headline(R.read(out))
    for kpi in PANEL_AND_MST:
        assert (page._name(kpi) in headline) == has_them, kpi.name
    assert page._name(K.wait(Stage.LEVEL3, "mean")) in headline


class _TwoScenarios:
    """Just what :func:`in_scenarios` and the headline table read of a comparison: a baseline
    with MST and no panel beside an option with a panel (a wait of 3 days) and no MST."""

    kind = Kind.COMPARE
    base = "base"
    scenarios = ("base", "opt")
    differences = None

    def __init__(self) -> None:
        self.kpis = {k.name: k for k in K.HEADLINE}
        self.configs: dict[str, dict[str, Any]] = {"base": {"mst": {"therapists": 4}}, "opt": {"panel": {}}}
        panel = K.wait(Stage.PANEL, "mean").name
        self.summary = pd.DataFrame(
            [
                {"scenario": "base", "kpi": panel, "mean": math.nan, "ci_low": math.nan, "ci_high": math.nan},
                {"scenario": "opt", "kpi": panel, "mean": 3.0, "ci_low": 2.0, "ci_high": 4.0},
            ]
        )

    def window_days(self, _name: Any = None) -> float:
        return 365.0


def test_a_comparison_keeps_a_stage_that_one_of_its_scenarios_has() -> None:
    """A comparison shows the panel's wait when the option adds a panel; the baseline's cell then
    says it has none (not "n/a", which reads as a panel nobody reached)."""
    from sim.present.data import NOT_IN_SCENARIO, has, in_scenarios

    res = _TwoScenarios()
    panel, mst, level2 = K.wait(Stage.PANEL, "mean"), K.wait(Stage.MST, "mean"), K.open_at_end(Stage.LEVEL2)
    shown = [k.name for k in in_scenarios(res, K.HEADLINE)]  # type: ignore[arg-type]
    assert panel.name in shown and mst.name in shown and level2.name not in shown
    assert [k.name for k in in_scenarios(res, [panel, mst], ["base"])] == [mst.name]  # type: ignore[arg-type]
    assert not has(res, panel, "base") and has(res, panel, "opt")  # type: ignore[arg-type]
    assert has(res, K.REFERRALS_TOTAL, "base")  # type: ignore[arg-type]  # a KPI of no stage
    cells = re.findall(r"<td[^>]*>(.*?)</td>", page._headline(res))  # type: ignore[arg-type]
    assert cells == [page._name(panel), NOT_IN_SCENARIO, "3.0<br><small>2.0 to 4.0</small>"], cells


def test_a_wait_that_reads_n_a_says_nobody_was_served() -> None:
    """Where the scenario has a service but no family was served from its list, its wait reads
    "n/a"; a line under the table says so plainly, and only then."""
    panel = K.wait(Stage.PANEL, "mean")
    nobody = pd.DataFrame([{"kpi": panel.name, "mean": math.nan, "ci_low": math.nan, "ci_high": math.nan}])
    lines = console.summary_lines(nobody, [panel], 365.0, 3)
    assert "n/a" in lines[1], lines
    assert lines[-1].strip().startswith("n/a: the scenario has the service, but no family"), lines
    assert "was served, so there is no wait to average" in lines[-1], lines
    served = nobody.assign(mean=3.0, ci_low=2.0, ci_high=4.0)
    assert len(console.summary_lines(served, [panel], 365.0, 3)) == 2  # the header and the row


def test_a_missing_row_does_not_say_nobody_was_served() -> None:
    """The headline table's cell reads "n/a" where an option that has the panel holds no row for
    its wait; that is no evidence that no family was served, so the caption does not say so. A
    row whose wait is missing still does (one rule, :func:`sim.present.data.unserved`)."""
    from sim.present.data import NOBODY_SERVED

    res = _TwoScenarios()
    res.summary = res.summary[res.summary["scenario"] == "base"]  # the option has a panel but no row for its wait
    headline = page._headline(res)  # type: ignore[arg-type]
    assert re.findall(r"<td[^>]*>(.*?)</td>", headline)[-1] == "n/a", headline
    assert NOBODY_SERVED not in headline, headline
    res.summary = pd.concat([res.summary, res.summary.assign(scenario="opt")])  # its row: a wait of NaN
    assert NOBODY_SERVED in page._headline(res)  # type: ignore[arg-type]

"""Open Level 3 plans never outnumber the key workers' slots (each plan holds one until it
ends), so their interval is truncated there as a share's is at 1.

The review's case: Sunderland's "open Level 3 key-worker plans at the end 545.2 (543.6 to
546.8)" where the teams have 546 slots in all: the t interval ran past a value the true mean
cannot reach."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
import sim.experiment as experiment
from sim import kpis as K
from sim.analysis import summarise
from sim.cli import main
from sim.present.format import clip_interval
from sim.vocab import Stage
from tests.conftest import CONFIGS

OPEN_END, OPEN_MEAN = K.open_at_end(Stage.LEVEL3), K.open_mean(Stage.LEVEL3)


def _sunderland(changes: list[dict] | None = None) -> sim.Scenario:
    over = {"changes": changes} if changes is not None else {}
    return sim.load_scenario(CONFIGS / "sunderland" / "baseline.yaml", over)


def test_the_catalogue_bounds_open_level3_plans_by_the_key_workers_slots() -> None:
    sc = _sunderland()
    slots = sum(t.slots for t in sc.teams.values())
    assert slots == 546
    cat = K.catalogue(sc)
    assert cat[OPEN_END.name].at_most == cat[OPEN_MEAN.name].at_most == 546
    assert all(math.isinf(k.at_most) for n, k in cat.items() if n not in (OPEN_END.name, OPEN_MEAN.name))
    # slots that fall in the run: a family keeps its worker, so open plans can exceed the slots then
    team = next(iter(sc.teams))
    fewer = [{"date": "2018-03-01", "set": {f"teams.{team}.workers": sc.teams[team].workers - 1}}]
    assert math.isinf(K.catalogue(_sunderland(fewer))[OPEN_END.name].at_most)
    # slots that rise: the bound is the slots at the end
    more = [{"date": "2018-03-01", "set": {f"teams.{team}.workers": sc.teams[team].workers + 1}}]
    raised = K.catalogue(_sunderland(more))[OPEN_END.name].at_most
    assert raised == slots + sc.teams[team].caseload_cap


def test_summarise_truncates_at_the_bound_and_keeps_the_half_width() -> None:
    # 20 replications with the review's mean and interval: 545.2, half-width 1.6
    z = np.random.default_rng(0).standard_normal(20)
    sd = 1.6 * math.sqrt(20) / 2.093024  # t_{0.975, 19} = 2.093024
    values = 545.2 + sd * (z - z.mean()) / z.std(ddof=1)
    reps = pd.DataFrame({"rep": range(20), OPEN_END.name: values})
    bound = K.catalogue(_sunderland())[OPEN_END.name].at_most
    free = summarise(reps, [OPEN_END.name]).iloc[0]
    assert free["ci_high"] == pytest.approx(546.8, abs=1e-3)  # what was reported
    out = summarise(reps, [OPEN_END.name], nonnegative=[OPEN_END.name], at_most={OPEN_END.name: bound}).iloc[0]
    assert out["ci_high"] == 546.0 and out["ci_low"] == pytest.approx(543.6, abs=1e-3)
    assert out["half_width"] == free["half_width"]  # the precision is still the t interval's
    # a figure's own interval is truncated the same way (a bound in stored units, times the scale)
    kpi = K.catalogue(_sunderland())[OPEN_END.name]
    assert clip_interval(kpi, 543.6, 546.8) == (543.6, 546.0)
    assert clip_interval(kpi, 1.0, 3.0, scale=0.5) == (1.0, 3.0)


def test_the_bound_survives_the_data_dictionary_and_merging() -> None:
    kpi = K.catalogue(_sunderland())[OPEN_END.name]
    (row,) = K.dictionary_rows([kpi])
    assert row["at_most"] == 546.0 and K.from_row(row) == kpi
    (free,) = K.dictionary_rows([OPEN_END])
    assert free["at_most"] is None and math.isinf(K.from_row(free).at_most)
    assert math.isinf(K.from_row({k: v for k, v in free.items() if k != "at_most"}).at_most)  # an older kpis.csv
    wider = K.catalogue(_sunderland([{"date": "2018-03-01", "set": {"teams.washington.workers": 9}}]))
    assert K.merged([{kpi.name: kpi}, {kpi.name: wider[kpi.name]}])[kpi.name].at_most == wider[kpi.name].at_most
    assert math.isinf(K.merged([{kpi.name: kpi}, {kpi.name: OPEN_END}])[kpi.name].at_most)


def test_a_batch_summary_truncates_open_plans_at_the_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, float]] = []
    real = experiment.summarise

    def spy(*args: object, **kw: object) -> pd.DataFrame:
        seen.append(dict(kw.get("at_most") or {}))  # type: ignore[call-overload]
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(experiment, "summarise", spy)
    sc = sim.load_scenario(CONFIGS / "baseline.yaml", {"run.duration_days": 120, "run.warmup_days": 30})
    experiment.run_batch(sc, 2, seed=0)
    slots = sum(t.slots for t in sc.teams.values())
    assert seen == [{OPEN_END.name: slots, OPEN_MEAN.name: slots}]


def test_an_uncertainty_summary_takes_a_batchs_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The uncertainty folder's summary takes the same bounds as a batch's (K.summary_bounds):
    open Level 3 plans at the largest slots of its scenarios (K.merged), here the option's 3
    workers x 2 slots; it passed no ``at_most`` before. (Its interval columns are then blanked,
    the points being a design, so no number of summary.csv changes: one rule, one place.)"""
    import sim.uncertainty.run as U

    seen: list[dict[str, float]] = []
    real = U.summarise

    def spy(*args: object, **kw: object) -> pd.DataFrame:
        seen.append(dict(kw.get("at_most") or {}))  # type: ignore[call-overload]
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(U, "summarise", spy)
    mmc = {
        "extends": (CONFIGS / "validation" / "mmc.yaml").as_posix(),
        "run": {"duration_days": 120, "warmup_days": 30},
        "teams": {"town": {"workers": 2, "caseload_cap": 2}},
    }
    files = {
        "mmc.yaml": mmc,
        "more.yaml": {"extends": "mmc.yaml", "name": "mmc_more", "teams": {"town": {"workers": 3}}},
        "spec.yaml": {
            "scenario": "mmc.yaml",
            "options": ["more.yaml"],
            "kpis": [OPEN_END.name],
            "parameters": [
                {
                    "name": "arrivals",
                    "keys": ["referrals.sources.all.annual_rate"],
                    "distribution": {"dist": "uniform", "low": 500, "high": 800},
                    "source": "ASSUMPTION",
                }
            ],
        },
    }
    for name, data in files.items():
        (tmp_path / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "u"
    args = ["uncertainty", str(tmp_path / "spec.yaml"), "--samples", "2", "--replications", "1", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    assert seen and all(s == {OPEN_END.name: 6.0, OPEN_MEAN.name: 6.0} for s in seen), seen

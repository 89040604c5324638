"""Intervals of a fraction of a whole are truncated at 1 (100%), as those of a non-negative
KPI are at 0; the registry declares which KPIs are so (``Kpi.at_most_one``), and a list's
utilisation is one only where it cannot exceed its slots."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim import kpis as K
from sim.config import load_scenario, scenario_from_dict
from sim.present.data import INTERVAL_TEXT, TRUNCATION_TEXT, clip_interval
from sim.present.fig_diagnostics import running_interval
from sim.vocab import Stage, team_service
from tests.conftest import CONFIGS, mmc_dict

TOWN = K.utilisation(team_service("town"), "").name


def _town(changes: list[dict[str, Any]], **extra: Any) -> K.Kpi:
    d = mmc_dict(rate_per_day=4.0, workers=2, cap=1, mean=30.0, days=300, warmup=0)
    d["run"]["start_date"] = "2020-01-01"
    d["changes"] = changes
    d.update(extra)
    return K.catalogue(scenario_from_dict(d))[TOWN]


def test_a_lists_utilisation_is_at_most_one_only_while_its_slots_never_fall() -> None:
    """Busy slots over slots cannot exceed 1 when a slot is never taken away; after capacity
    falls a family keeps its worker (README), so the share can then exceed 1 and is not
    truncated."""
    assert _town([]).at_most_one
    assert _town([{"date": "2020-03-01", "set": {"teams.town.workers": 3}}]).at_most_one
    assert not _town([{"date": "2020-03-01", "set": {"teams.town.workers": 1}}]).at_most_one
    rise_then_fall = [
        {"date": "2020-03-01", "set": {"teams.town.workers": 3}},
        {"date": "2020-05-01", "set": {"teams.town.workers": 2}},
    ]
    assert not _town(rise_then_fall).at_most_one


def test_the_bundled_scenarios_declare_their_bounded_shares() -> None:
    """The baseline's teams (no change to their slots) and Kirklees' MST (its caps only rise)
    are at most one; under a workforce block (vacancies take slots away) a list's utilisation
    is not; a vacancy rate and an agency share always are."""
    baseline = K.catalogue(load_scenario(CONFIGS / "baseline.yaml"))
    assert baseline[K.utilisation(team_service("coalfields"), "").name].at_most_one
    kirklees = K.catalogue(load_scenario(CONFIGS / "kirklees" / "calibrated.yaml"))
    assert kirklees[K.utilisation(str(Stage.MST), "").name].at_most_one
    crisis = K.catalogue(load_scenario(CONFIGS / "options" / "vacancy_crisis.yaml"))
    staffed = K.workforce_lists(load_scenario(CONFIGS / "options" / "vacancy_crisis.yaml"))
    assert staffed
    for service in staffed:
        assert not crisis[K.utilisation(service, "").name].at_most_one
        assert crisis[K.vacancy_rate(service, "").name].at_most_one
        assert crisis[K.agency_share(service, "").name].at_most_one
    assert not any(k.at_most_one for k in kirklees.values() if k.kind != "share")


def test_merged_catalogues_and_the_data_dictionary_keep_the_bound_only_where_it_holds() -> None:
    bounded, unbounded = _town([]), _town([{"date": "2020-03-01", "set": {"teams.town.workers": 1}}])
    assert not K.merged([{TOWN: bounded}, {TOWN: unbounded}])[TOWN].at_most_one
    assert not K.merged([{TOWN: unbounded}, {TOWN: bounded}])[TOWN].at_most_one
    assert K.merged([{TOWN: bounded}, {TOWN: bounded}])[TOWN].at_most_one
    for kpi in (bounded, unbounded):
        (row,) = K.dictionary_rows([kpi])
        assert K.from_row(row) == kpi


def test_intervals_drawn_by_the_figures_are_truncated_at_100_percent() -> None:
    """The replication-count figure computes its own running interval (display units):
    truncated as summary.csv's, at 100% for a share of a whole."""
    share = _town([])
    assert clip_interval(share, 88.7, 100.8, 100.0) == (88.7, 100.0)
    assert clip_interval(share, 0.887, 1.008) == (0.887, 1.0)
    unbounded = _town([{"date": "2020-03-01", "set": {"teams.town.workers": 1}}])
    assert clip_interval(unbounded, 88.7, 100.8, 100.0) == (88.7, 100.8)
    run = running_interval(np.array([90.0, 93.0, 96.0, 100.0]), share, 100.0)
    assert run["high"].max() == 100.0
    assert "100%" in TRUNCATION_TEXT and TRUNCATION_TEXT in INTERVAL_TEXT

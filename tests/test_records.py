"""The event log's storage (two numbers a row, parties and kinds decoded on demand) gives
exactly the DataFrame of its rows written out in full."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.model.family import FamilyMaker
from sim.model.world import World, simulate
from sim.random import FamilyStreams
from sim.records import EVENT_COLUMNS, EVENTS, MAX_EPISODE, STAGES, EventLog, row_code


def _reference(log: EventLog) -> pd.DataFrame:
    """Every row written out in full, category columns by pandas' own inference of the
    distinct values (the definition the stored form must reproduce)."""
    parties = [log.party_of(i) for i in log.party.tolist()]
    kinds = [log._kinds[i] for i in log.kind.tolist()]
    cols: dict[str, object] = {
        "time": np.array(log.time, dtype=np.float64),
        "family_id": np.array([p[0] for p in parties], dtype=np.int64),
        "episode": np.array(log.episode, dtype=np.int32),
    }
    for j, name in enumerate(("event", "stage", "service", "detail")):
        values = [str(k[j]) for k in kinds]
        fixed = {"event": list(EVENTS), "stage": list(STAGES)}.get(name)
        cols[name] = pd.Categorical(values, categories=fixed if fixed is not None else sorted(set(values)))
    cols["locality"] = pd.Categorical([p[1] for p in parties], categories=sorted({p[1] for p in parties}))
    cols["children"] = np.array([p[2] for p in parties], dtype=np.int16)
    return pd.DataFrame(cols)


@pytest.mark.parametrize("config", ["configs/baseline.yaml", "configs/options/vacancy_crisis.yaml"])
def test_frame_equals_rows_written_out(config: str) -> None:
    # vacancy_crisis logs worker posts too (rows through EventLog.add, not the family path)
    scenario = sim.load_scenario(config, overrides={"run.duration_days": 120, "run.warmup_days": 10})
    log = simulate(scenario, 2, 0).log
    frame = log.to_frame()
    assert tuple(frame.columns) == EVENT_COLUMNS
    pd.testing.assert_frame_equal(frame, _reference(log), check_exact=True, check_categorical=True)


def test_unused_party_and_kind_add_no_labels() -> None:
    log = EventLog()
    log.register_party(7, "north", 2)  # registered, never logged
    log.register_kind("leave", "level3", "team_north", "withdrawn")
    log.add(1.5, 3, 0, "join", "level3", "team_south", "", "south", 1)
    log.add(2.5, 3, 1, "start", "level3", "team_south", "", "south", 1)
    frame = log.to_frame()
    assert list(frame["service"].cat.categories) == ["team_south"]
    assert list(frame["locality"].cat.categories) == ["south"]
    assert list(frame["detail"].cat.categories) == [""]
    assert frame["family_id"].tolist() == [3, 3] and frame["episode"].tolist() == [0, 1]
    pd.testing.assert_frame_equal(frame, _reference(log), check_exact=True)


def test_empty_log_keeps_the_schema() -> None:
    frame = EventLog().to_frame()
    assert len(frame) == 0 and tuple(frame.columns) == EVENT_COLUMNS
    assert str(frame["time"].dtype) == "float64" and str(frame["children"].dtype) == "int16"
    assert list(frame["event"].cat.categories) == list(EVENTS)


def test_rows_by_kind_equal_rows_by_name() -> None:
    # the two row loggers of the world (kind registered beforehand, or looked up by name)
    # write the same row; a new episode moves the family's key
    world = World(sim.load_scenario("configs/baseline.yaml"), 0, 0)
    fam = FamilyMaker(FamilyStreams(0, 0), world.tables).make(5, 5)
    world._log(fam, "join", "level3", "team_north")
    world._log_kind(fam, world._kind("join", "level3", "team_north"))
    fam.episode = 3
    world._log_kind(fam, world._kind("end", "level3", "team_north", "completed"))
    world._log(fam, "end", "level3", "team_north", "completed", time=-2.0)
    frame = world.log.to_frame()
    assert frame["family_id"].tolist() == [5] * 4 and frame["episode"].tolist() == [0, 0, 3, 3]
    assert frame["event"].astype(str).tolist() == ["join", "join", "end", "end"]
    assert frame["time"].tolist() == [0.0, 0.0, 0.0, -2.0]


def test_episode_beyond_the_code_is_refused() -> None:
    with pytest.raises(ValueError, match="episode"):
        row_code(1, MAX_EPISODE + 1)

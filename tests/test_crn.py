"""Common random numbers, end to end (issue 14, point 2).

Replication r of every scenario uses the same seed, and every draw a family makes comes
from its own stream in a fixed order (hazards are drawn on joining any queue, served at
once or not). So:

* two scenarios that differ only in a setting that cannot change a family's fate (a
  cost, the name, the budget) give identical event logs and families;
* a change to one stage's capacity leaves every other draw aligned: the same families
  with the same attributes are referred at the same times; families that never reach the
  changed stage have identical histories; families that do have identical histories up
  to the moment they join it, and the same plan or therapy length and outcome once served.

All checks are exact (no statistics): a single misaligned draw breaks them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import sim
from sim.config import scenario_from_dict

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline.yaml"
SEED = 3


def _baseline(**changes: Any) -> dict[str, Any]:
    """The bundled baseline (every service, hazards while waiting, re-referral, step-down,
    initial state) over two years, with dotted-key changes."""
    d = yaml.safe_load(BASELINE.read_text())
    d["run"]["duration_days"] = 730
    for key, value in changes.items():
        node = d
        *path, last = key.split(".")
        for p in path:
            node = node[p]
        node[last] = value
    return d


def _run(d: dict[str, Any]) -> sim.ReplicationResult:
    return sim.run_replication(scenario_from_dict(d), rep=1, seed=SEED)


def _histories(ev: pd.DataFrame) -> dict[int, list[tuple[Any, ...]]]:
    """Each family's rows (time, episode, event, stage, service, detail) in log order."""
    cols = [ev[c].tolist() for c in ("family_id", "time", "episode", "event", "stage", "service", "detail")]
    out: dict[int, list[tuple[Any, ...]]] = {}
    for fid, *row in zip(*cols):
        out.setdefault(fid, []).append(tuple(row))
    return out


def _first_referrals(ev: pd.DataFrame) -> pd.DataFrame:
    """Episode-0 referrals: family, time, source, locality (categories as plain strings:
    the log's category sets depend on which events happened anywhere in the run)."""
    ref = ev[(ev["event"] == "referral") & (ev["episode"] == 0)]
    ref = ref[["family_id", "time", "detail", "locality"]].reset_index(drop=True)
    return ref.astype({"detail": str, "locality": str})


# --------------------------------------------------------------------------- no effect on fates
def test_settings_that_cannot_change_a_fate_leave_every_history_identical() -> None:
    """Staff, per-case and social care costs, their price years and uprating, the budget
    and the scenario's name change no family's fate: the event logs and families are
    identical, and so is every KPI that is not a cost (while the costs do change)."""
    changes = {
        "name": "renamed",
        "costs.staff.key_worker_per_year": {"gbp": 99_999, "price_year": 2020},
        "costs.social_care.foster_per_week": {"gbp": 1, "price_year": 2024},
        "costs.per_case.assessment": {"gbp": 5, "price_year": 2019},
        "costs.annual_uprating": 0.1,
        "costs.budget_gbp_per_year": 1_000_000,
    }
    a = _run(_baseline())
    b = _run(_baseline(**changes))
    assert len(a.events) > 10_000
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.families, b.families)
    non_cost = [k for k in a.kpis if "cost" not in k]
    assert {k: a.kpis[k] for k in non_cost} == pytest.approx({k: b.kpis[k] for k in non_cost}, nan_ok=True)
    assert a.kpis["cost_total_gbp"] != b.kpis["cost_total_gbp"]


# --------------------------------------------------------------------------- one stage changed
def _uncongested(**changes: Any) -> dict[str, Any]:
    """The baseline with no queue anywhere except where ``changes`` create one: so the only
    way one family's history can affect another's is through the changed stage."""
    base = {
        "front_door.staff": 10_000,
        "panel.capacity_per_meeting": 100_000,
        "teams.washington.workers": 10_000,
        "teams.east_west.workers": 10_000,
        "teams.coalfields.workers": 10_000,
        "mst.therapists": 10_000,
        "mst.referral_prob": 1.0,
        # fewer open plans at day 0, so that a team of 2 x 20 slots can hold them
        **{f"initial_state.teams.{t}.open_plans": 30 for t in ("washington", "east_west", "coalfields")},
    }
    return _baseline(**{**base, **changes})


def _prefix_until(hist: list[tuple[Any, ...]], stage: str) -> list[tuple[Any, ...]]:
    """A family's history up to and including its first join of ``stage`` (all of it if
    it never joins)."""
    for i, row in enumerate(hist):
        if row[2] == "join" and row[3] == stage:
            return hist[: i + 1]
    return hist


def _served(ev: pd.DataFrame, stage: str) -> pd.DataFrame:
    """Families served from their first join of ``stage`` (the first queue exit is a
    start, not a leave): start, end, length and the end's detail."""
    rows = ev[ev["stage"] == stage]
    first = rows[rows["event"].isin(["start", "leave"])].groupby("family_id").first()
    start = first.loc[first["event"] == "start", "time"]
    end = rows[rows["event"] == "end"].groupby("family_id")[["time", "detail"]].first()
    out = pd.DataFrame({"start": start}).join(end.rename(columns={"time": "end"}), how="inner")
    out["length"] = out["end"] - out["start"]
    out["detail"] = out["detail"].astype(str)
    return out


def _check_stage_change(stage: str, small: dict[str, Any], large: dict[str, Any]) -> tuple[int, int]:
    """Run the same replication with a small and a large capacity at ``stage`` and check
    CRN alignment. Returns (families served in both, of which queued in the small run)."""
    a, b = _run(_uncongested(**small)), _run(_uncongested(**large))
    # the same families, with the same attributes, referred at the same times
    pd.testing.assert_frame_equal(a.families, b.families)
    pd.testing.assert_frame_equal(_first_referrals(a.events), _first_referrals(b.events))
    ha, hb = _histories(a.events), _histories(b.events)
    assert ha.keys() == hb.keys()
    touched = {f for h in (ha, hb) for f, rows in h.items() if any(r[3] == stage for r in rows)}
    assert len(touched) > 20
    for fid in ha:
        if fid in touched:  # identical up to the moment the family first joins the stage
            assert _prefix_until(ha[fid], stage) == _prefix_until(hb[fid], stage), fid
        else:  # never touches the stage: its whole history is identical
            assert ha[fid] == hb[fid], fid
    # served in both runs: same length and outcome (the draws after the wait are aligned)
    sa, sb = _served(a.events, stage), _served(b.events, stage)
    both = sa.index.intersection(sb.index)
    pd.testing.assert_series_equal(sa.loc[both, "length"], sb.loc[both, "length"], check_exact=False, rtol=1e-12)
    pd.testing.assert_series_equal(sa.loc[both, "detail"], sb.loc[both, "detail"])
    waited = int((sa.loc[both, "start"] > sb.loc[both, "start"] + 1e-9).sum())
    return len(both), waited


def test_more_mst_therapists_leave_every_other_draw_aligned() -> None:
    """MST: 1 therapist (a waiting list) against 6 (none). Families that never reach MST
    have identical histories; families that do are identical up to joining the MST list,
    and those treated in both runs have the same therapy length and outcome, whether or
    not they had to wait (their hazard draws were made in both runs)."""
    both, waited = _check_stage_change("mst", {"mst.therapists": 1}, {"mst.therapists": 6})
    assert both > 15 and waited > 5  # the small team really queues


def test_more_key_workers_leave_every_other_draw_aligned() -> None:
    """Level 3: 2 key workers a team (queues) against unlimited. Families that never reach
    a key worker have identical histories; those that do are identical up to joining the
    list, and families allocated in both runs have the same plan length and ending."""
    small = {f"teams.{t}.workers": 2 for t in ("washington", "east_west", "coalfields")}
    both, waited = _check_stage_change("level3", small, {})
    assert both > 200 and waited > 50

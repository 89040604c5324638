"""Running the model: one replication now; batches, comparisons and sweeps build on it.

This module knows the model only through :func:`sim.model.simulate` and the event log.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd

from sim.config import Scenario
from sim.metrics import compute_kpis, monthly_series
from sim.model import simulate

__all__ = ["ReplicationResult", "run_replication"]


@dataclass(frozen=True)
class ReplicationResult:
    """What one replication produces.

    Attributes
    ----------
    kpis
        KPI name -> value (see the README for names and units).
    events
        The event log (:mod:`sim.records` schema).
    families
        One row per family: id, locality, children, ages of the youngest and oldest child,
        level of need (1-4), risk score (0-1), whether it was in the initial state.
    series
        Open cases and queue lengths at the start of each month.
    """

    scenario: Scenario
    rep: int
    seed: int
    kpis: dict[str, float]
    events: pd.DataFrame
    families: pd.DataFrame
    series: pd.DataFrame


@contextmanager
def _few_collections(threshold: int = 100_000) -> Iterator[None]:
    """Run with a high first-generation GC threshold. A replication allocates many small
    long-lived objects (families, events, processes) and little cyclic garbage, so the
    default threshold (700) triggers repeated full collections that cost ~20% of a run."""
    old = gc.get_threshold()
    gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def run_replication(scenario: Scenario, rep: int = 0, seed: int = 0) -> ReplicationResult:
    """Run replication ``rep`` of ``scenario``; its random streams derive from ``(seed, rep)``.

    The same ``(scenario, rep, seed)`` always gives the same result, in any process.
    """
    with _few_collections():
        world = simulate(scenario, seed, rep)
    events = world.log.to_frame()
    fams = world.families
    families = pd.DataFrame(
        {
            "family_id": pd.array([f.id for f in fams], dtype="int64"),
            "locality": pd.Categorical([f.locality for f in fams]),
            "children": pd.array([len(f.ages) for f in fams], dtype="int16"),
            "youngest_age": pd.array([min(f.ages) for f in fams], dtype="int16"),
            "oldest_age": pd.array([max(f.ages) for f in fams], dtype="int16"),
            "need": pd.array([f.need for f in fams], dtype="int8"),
            "risk": pd.array([f.risk for f in fams], dtype="float64"),
            "initial": pd.array([f.initial for f in fams], dtype="bool"),
        }
    )
    return ReplicationResult(
        scenario=scenario,
        rep=rep,
        seed=seed,
        kpis=compute_kpis(events, scenario),
        events=events,
        families=families,
        series=monthly_series(events, scenario),
    )

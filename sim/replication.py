"""One replication, and the part of a batch that a worker runs, without pandas.

A replication's KPIs and monthly series come from the event log as numpy arrays
(:class:`sim.metrics.log.Log`), so running one, in a batch or alone, imports neither pandas
nor pyarrow (pandas 3 loads pyarrow itself): a county replication peaks at the simulation's
own memory. The tables (``events``, ``families``, ``series``) are built on first use, for the
callers that want them: ``--events``, the report's replication 0, or any caller of
:func:`run_replication` that reads them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import kpis as K
from sim.arguments import check_seed
from sim.config import Scenario
from sim.errors import ArgumentError
from sim.metrics import by_locality, kpis_and_series, series_frame
from sim.metrics.log import Codes, Log
from sim.model import simulate
from sim.model.family import Family, RiskParts, referral_parts

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KpiHook", "ReplicationResult", "batch_task", "locality_hook", "run_replication"]


@dataclass(frozen=True)
class ReplicationResult:
    """What one replication produces.

    Attributes
    ----------
    kpis
        KPI name -> value (see the README for names and units).
    log
        The event log as numpy columns (:class:`sim.metrics.log.Log`).
    family_columns
        The families table as numpy columns (``locality`` as :class:`~sim.metrics.log.Codes`,
        ``risk`` as :class:`~sim.model.family.RiskParts`: computed when ``families`` is built);
        ``None`` for a batch worker's replication, which needs no families table.
    series_arrays
        The monthly series as numpy columns (:func:`sim.metrics.monthly_arrays`).
    events
        The event log as a DataFrame (:mod:`sim.records` schema), built on first use.
    families
        One row per family: id, locality, children, ages of the youngest and oldest child,
        level of need (1-4), risk score (0-1), whether it was in the initial state (built on
        first use).
    series
        Open cases and queue lengths, monthly time-averages (built on first use).
    """

    scenario: Scenario
    rep: int
    seed: int
    kpis: dict[str, float]
    log: Log
    family_columns: dict[str, Any] | None
    series_arrays: dict[str, np.ndarray]

    @cached_property
    def events(self) -> pd.DataFrame:
        return self.log.to_frame()

    @cached_property
    def families(self) -> pd.DataFrame:
        import pandas as pd

        if self.family_columns is None:
            raise ValueError("this replication was run without its families table (run_replication makes one)")
        columns = dict(self.family_columns)
        risk: RiskParts = columns["risk"]
        columns["risk"] = risk.values()  # the scores nobody asked for during the run, computed now
        locality: Codes = columns["locality"]
        columns["locality"] = pd.Categorical.from_codes(locality.codes, categories=pd.Index(list(locality.labels)))
        return pd.DataFrame(columns)

    @cached_property
    def series(self) -> pd.DataFrame:
        return series_frame(self.series_arrays, self.scenario)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Run with the garbage collector's automatic collections off, and with every object that
    existed before (modules, scipy, pydantic: ~100,000 objects) frozen out of the collector's
    scans.

    A replication allocates many small long-lived objects (families, events, processes) and
    almost no cyclic garbage: the automatic collections of a run find nothing to free (none
    in the M/M/c at rho 0.5 or 1.5 at 50,000 families, none in the ten-year county), yet each
    scans the objects made since the last one (~10 ms CPU a collection at a threshold of
    100,000: 4-6% of the M/M/c's time, the more the more families wait). The caller's one
    ``gc.collect()`` at the end of the run frees what cycles there are (the finished world,
    ~100 objects left by :meth:`World.discard`); each full collection, including that one,
    would otherwise walk the whole interpreter's objects too. The collector's state and the
    frozen objects are restored on the way out (unless the caller had frozen some: then the
    frozen set is not touched).
    """
    enabled = gc.isenabled()
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        if freeze:
            gc.unfreeze()


def _family_columns(fams: list[Family], risk_beta: tuple[tuple[float, float], ...]) -> dict[str, Any]:
    """The families table's columns (dtypes of :attr:`ReplicationResult.families`): each
    column a list comprehension converted at once (no generator resumed once a value); the
    risk scores as :class:`~sim.model.family.RiskParts`, computed when the table is built."""
    need, risk = referral_parts(fams, risk_beta)
    localities = [f.locality for f in fams]
    ages = [f.ages for f in fams]
    labels = tuple(sorted(set(localities)))
    index = {label: i for i, label in enumerate(labels)}
    children = np.array(list(map(len, ages)), dtype=np.int16)
    # every child's age in one array; each family's youngest and oldest by a reduce over its run
    flat = np.fromiter(chain.from_iterable(ages), dtype=np.int16, count=int(children.sum()))
    starts = np.cumsum(children, dtype=np.int64) - children
    return {
        "family_id": np.array([f.id for f in fams], dtype=np.int64),
        "locality": Codes(np.array(list(map(index.__getitem__, localities)), dtype=np.int16), labels),
        "children": children,
        "youngest_age": np.minimum.reduceat(flat, starts) if len(fams) else flat,
        "oldest_age": np.maximum.reduceat(flat, starts) if len(fams) else flat,
        "need": need.astype(np.int8),
        "risk": risk,
        "initial": np.array([f.initial for f in fams], dtype=bool),
    }


def run_replication(scenario: Scenario, rep: int = 0, seed: int = 0) -> ReplicationResult:
    """Run replication ``rep`` of ``scenario``; its random streams derive from ``(seed, rep)``.

    The same ``(scenario, rep, seed)`` always gives the same result, in any process. The
    KPIs and the series are computed from numpy columns (no pandas); ``events``,
    ``families`` and ``series`` become DataFrames when first read.
    """
    check_seed(seed)
    if not isinstance(rep, int) or isinstance(rep, bool) or rep < 0:
        raise ArgumentError("rep", f"must be a whole number >= 0, got {rep!r}")
    return _replicate(scenario, rep, seed, families=True)


def _replicate(scenario: Scenario, rep: int, seed: int, families: bool) -> ReplicationResult:
    """:func:`run_replication`; without ``families``, no families table (a batch worker's
    replication: its row and series need none, and its columns cost ~5% of an M/M/c run)."""
    with _few_collections():
        world = simulate(scenario, seed, rep)
        log = Log.from_event_log(world.log)  # the world is dropped next
        table = _family_columns(world.families, world.tables.risk_beta) if families else None
        # the finished world is a web of reference cycles (processes, events): free it before
        # the KPIs allocate, so a replication's peak memory is the log, not log + world (the
        # collection scans only what the replication made: the rest is frozen). The families
        # (and their streams) are in no cycle, only held by the world: freed first, by their
        # reference counts, they are not among the objects the collection scans
        world.families.clear()
        world.discard()  # the processes still waiting are freed by their reference counts too
        del world
        gc.collect()
    kpis, series = kpis_and_series(log, scenario)
    return ReplicationResult(
        scenario=scenario, rep=rep, seed=seed, kpis=kpis, log=log, family_columns=table, series_arrays=series
    )


KpiHook = Callable[[ReplicationResult], dict[K.Kpi, float]]
"""Extra KPIs from each replication (e.g. by locality): Kpi -> value, computed in the worker
from the replication's own event log (:attr:`ReplicationResult.log`), so no second
simulation pass is needed (a batch replication has no families table)."""


def locality_hook(result: ReplicationResult) -> dict[K.Kpi, float]:
    """A :data:`KpiHook`: the KPIs of :data:`sim.kpis.BY_LOCALITY` per locality."""
    return by_locality(result.log, result.scenario)


locality_hook.kpis = K.locality_kpis  # type: ignore[attr-defined]
"""The hook's KPI definitions for a scenario, known without running it: a batch read back
wholly from checkpoints keeps its per-locality columns."""


def batch_task(
    scenario: Scenario, rep: int, seed: int, with_events: bool, hook: KpiHook | None
) -> tuple[str, int, dict[str, Any], dict[str, np.ndarray], pd.DataFrame | None, list[K.Kpi]]:
    """What a batch worker runs: one replication, returning its small results as plain data
    (the coordinator makes the checkpoint): scenario name, rep, the KPI row, the monthly
    series' columns, replication 0's events DataFrame when ``with_events`` (else None: no
    pandas is imported), and the hook's KPI definitions."""
    res = _replicate(scenario, rep, seed, families=False)
    extra = hook(res) if hook is not None else {}
    row: dict[str, Any] = {"scenario": scenario.name, "rep": rep, "seed": seed, **res.kpis}
    row.update({k.name: float(v) for k, v in extra.items()})
    events = res.events if with_events and rep == 0 else None
    return scenario.name, rep, row, res.series_arrays, events, list(extra)

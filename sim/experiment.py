"""Running the model: one replication, batches of replications, comparisons and sweeps.

This module knows the model only through :func:`sim.model.simulate` and the event log.

Seeds: replication ``r`` of a batch with root seed ``s`` runs with streams from
``SeedSequence(s, spawn_key=(r, ...))`` whatever the backend, the number of workers or the
order of completion, so a batch is identical bit for bit on every backend. Replication
``r`` of *every* scenario uses the same seed (common random numbers), which makes
:func:`compare` a paired comparison.

Checkpoints: with an output folder, each finished replication is written atomically to
``reps/`` as it completes; rerunning the same batch on the same folder skips finished
replications. A folder holding another scenario or seed is refused, never mixed.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import paired_differences, summarise
from sim.backends import iter_results
from sim.config import Scenario, ScenarioError, apply_overrides, scenario_from_dict
from sim.errors import ResultsError
from sim.io import write_json, write_parquet
from sim.metrics import compute_kpis, monthly_series
from sim.model import simulate

__all__ = [
    "BatchFolderError",
    "BatchResult",
    "CompareResult",
    "ReplicationResult",
    "compare",
    "run_batch",
    "run_replication",
    "scenario_fingerprint",
    "sweep",
    "variant",
]

ID_COLUMNS = ("scenario", "rep", "seed")
_FORMAT = 1


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
    # the finished world is a web of reference cycles (processes, events, families): free it
    # before the KPIs allocate, so a replication's peak memory is the log, not log + world
    del world, fams
    gc.collect()
    return ReplicationResult(
        scenario=scenario,
        rep=rep,
        seed=seed,
        kpis=compute_kpis(events, scenario),
        events=events,
        families=families,
        series=monthly_series(events, scenario),
    )


# --------------------------------------------------------------------------- batches
class BatchFolderError(ResultsError):
    """An output folder holds a different batch (scenario or seed) than the one asked for."""


Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each replication (including resumed ones)."""


@dataclass(frozen=True)
class BatchResult:
    """Replications of one scenario.

    Attributes
    ----------
    replications
        One row per replication: ``scenario``, ``rep``, ``seed``, then every KPI.
    summary
        Per KPI: ``kpi, mean, sd, ci_low, ci_high, n, half_width, rel_half_width`` (95% t).
    series
        Monthly open cases and queue lengths, long form with a ``rep`` column.
    resumed
        Replications read back from the output folder rather than run.
    """

    scenario: Scenario
    seed: int
    replications: pd.DataFrame
    summary: pd.DataFrame
    series: pd.DataFrame
    resumed: int = 0


def scenario_fingerprint(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario: two batches may share a folder only if these match."""
    text = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _replication_task(scenario: Scenario, rep: int, seed: int) -> tuple[int, dict[str, Any], pd.DataFrame]:
    """What a worker runs: one replication, returning only the small tables (not the log)."""
    res = run_replication(scenario, rep=rep, seed=seed)
    row: dict[str, Any] = {"scenario": scenario.name, "rep": rep, "seed": seed, **res.kpis}
    return rep, row, res.series.assign(rep=rep)


def _rep_paths(folder: Path, rep: int) -> tuple[Path, Path]:
    return folder / "reps" / f"rep-{rep:06d}.parquet", folder / "reps" / f"series-{rep:06d}.parquet"


def _claim_folder(folder: Path, scenario: Scenario, seed: int) -> None:
    """Create ``folder`` for this batch, or check that it already belongs to it."""
    fingerprint = scenario_fingerprint(scenario)
    stamp = {"format": _FORMAT, "scenario": scenario.name, "fingerprint": fingerprint, "seed": seed}
    marker = folder / "batch.json"
    if marker.exists():
        try:
            found = json.loads(marker.read_text())
        except (OSError, ValueError):
            found = {}
        if {k: found.get(k) for k in stamp} != stamp:
            raise BatchFolderError(
                [
                    f"--out {folder}: holds a batch of scenario {found.get('scenario')!r} with seed "
                    f"{found.get('seed')!r} (fingerprint {str(found.get('fingerprint'))[:12]}); refusing to mix it "
                    f"with scenario {scenario.name!r} seed {seed} (fingerprint {fingerprint[:12]}). "
                    "Use another --out folder, or delete this one to start again."
                ]
            )
        return
    if folder.exists() and any(folder.iterdir()):
        raise BatchFolderError(
            [f"--out {folder}: exists and is not an ehsim batch folder (no batch.json); refusing to write into it"]
        )
    write_json(marker, stamp)


def run_batch(
    scenario: Scenario,
    replications: int,
    seed: int = 0,
    backend: str = "serial",
    workers: int | None = None,
    *,
    scheduler: str | None = None,
    out: str | Path | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Run ``replications`` replications of ``scenario`` (replication ``r`` uses ``(seed, r)``).

    Parameters
    ----------
    backend, workers, scheduler
        See :func:`sim.backends.iter_results`.
    out
        Folder for per-replication checkpoints (``reps/``). Finished replications found there
        are reused, so an interrupted batch resumes where it stopped.
    progress
        Callback ``progress(done, total)``.

    Raises
    ------
    ScenarioError
        ``replications < 1``, a bad backend or scheduler, or a folder of another batch.
    """
    if replications < 1:
        raise ScenarioError([f"--replications: must be >= 1, got {replications}"])
    if seed < 0:
        raise ScenarioError([f"--seed: must be >= 0, got {seed}"])
    folder = Path(out) if out is not None else None
    rows: dict[int, dict[str, Any]] = {}
    series: dict[int, pd.DataFrame] = {}
    if folder is not None:
        _claim_folder(folder, scenario, seed)
        for rep in range(replications):
            row_path, series_path = _rep_paths(folder, rep)
            if row_path.exists() and series_path.exists():
                rows[rep] = {str(k): v for k, v in pd.read_parquet(row_path).iloc[0].items()}
                series[rep] = pd.read_parquet(series_path)
    resumed = len(rows)
    if progress is not None:
        progress(resumed, replications)
    todo = [(scenario, rep, seed) for rep in range(replications) if rep not in rows]
    for rep, row, ser in iter_results(_replication_task, todo, backend, workers, scheduler):
        if folder is not None:
            row_path, series_path = _rep_paths(folder, rep)
            write_parquet(series_path, ser)
            write_parquet(row_path, pd.DataFrame([row]))  # written last: its presence marks the rep done
        rows[rep], series[rep] = row, ser
        if progress is not None:
            progress(len(rows), replications)
    table = pd.DataFrame([rows[r] for r in range(replications)])
    table["rep"] = table["rep"].astype("int64")
    table["seed"] = table["seed"].astype("int64")
    long = pd.concat([series[r] for r in range(replications)], ignore_index=True)
    return BatchResult(scenario, seed, table, summarise(table), long, resumed)


# --------------------------------------------------------------------------- comparisons
@dataclass(frozen=True)
class CompareResult:
    """A baseline and options run under common random numbers.

    Attributes
    ----------
    batches
        Scenario name -> its :class:`BatchResult` (the baseline first).
    differences
        Paired differences (option - baseline) per KPI with 95% CIs, an ``option`` column
        naming the option; ``distinguishable`` is True when the CI excludes 0.
    """

    base: str
    batches: dict[str, BatchResult]
    differences: pd.DataFrame = field(repr=False)

    @property
    def replications(self) -> pd.DataFrame:
        return pd.concat([b.replications for b in self.batches.values()], ignore_index=True)


def _run_each(
    scenarios: Sequence[Scenario],
    folders: Sequence[Path | None],
    replications: int,
    seed: int,
    backend: str,
    workers: int | None,
    scheduler: str | None,
    progress: Progress | None,
) -> list[BatchResult]:
    """One batch per scenario, all with the same seeds (CRN); progress counts across them."""
    total = replications * len(scenarios)
    out = []
    for i, (sc, folder) in enumerate(zip(scenarios, folders)):

        def step(done: int, _total: int, offset: int = i * replications) -> None:
            if progress is not None:
                progress(offset + done, total)

        out.append(run_batch(sc, replications, seed, backend, workers, scheduler=scheduler, out=folder, progress=step))
    return out


def _unique_names(scenarios: Sequence[Scenario]) -> list[str]:
    names: list[str] = []
    for sc in scenarios:
        name, k = sc.name, 2
        while name in names:
            name, k = f"{sc.name}-{k}", k + 1
        names.append(name)
    return names


def compare(
    base: Scenario,
    options: Sequence[Scenario],
    replications: int,
    seed: int = 0,
    backend: str = "serial",
    workers: int | None = None,
    *,
    scheduler: str | None = None,
    out: str | Path | None = None,
    progress: Progress | None = None,
) -> CompareResult:
    """Run the baseline and each option with the same seeds and return paired differences.

    Replication ``r`` of every scenario uses seed ``(seed, r)``: the same referrals and the
    same families, so each difference is paired and its variance falls (common random
    numbers). With ``out``, each scenario checkpoints into ``out/<scenario name>/``.
    """
    if not options:
        raise ScenarioError(["compare: give at least one option to compare with the baseline"])
    scenarios = [base, *options]
    names = _unique_names(scenarios)
    scenarios = [sc if sc.name == n else sc.model_copy(update={"name": n}) for sc, n in zip(scenarios, names)]
    folders = [Path(out) / name if out is not None else None for name in names]
    runs = _run_each(scenarios, folders, replications, seed, backend, workers, scheduler, progress)
    batches = dict(zip(names, runs))
    base_reps = batches[names[0]].replications
    diffs = [paired_differences(base_reps, batches[name].replications).assign(option=name) for name in names[1:]]
    table = pd.concat(diffs, ignore_index=True)
    table = table[["option", *[c for c in table.columns if c != "option"]]]
    return CompareResult(names[0], batches, table)


# --------------------------------------------------------------------------- sweeps
def variant(scenario: Scenario, overrides: dict[str, Any], name: str | None = None) -> Scenario:
    """A validated copy of ``scenario`` with dotted keys changed (the original is untouched)."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    data = apply_overrides(data, overrides)
    if name is not None:
        data["name"] = name
    return scenario_from_dict(data)


def sweep(
    scenario: Scenario,
    grid: Mapping[str, Sequence[Any]],
    replications: int,
    seed: int = 0,
    backend: str = "serial",
    workers: int | None = None,
    *,
    scheduler: str | None = None,
    out: str | Path | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Full-factorial sweep: every combination of the values in ``grid`` (dotted key ->
    values), each run for ``replications`` replications with common random numbers.

    Returns one tidy table: a row per (combination, replication) with a column per swept
    key, then ``scenario``, ``rep``, ``seed`` and every KPI.
    """
    if not grid:
        raise ScenarioError(["--vary: give at least one KEY=V1,V2,... to sweep"])
    for key, values in grid.items():
        if len(values) == 0:
            raise ScenarioError([f"--vary {key}: give at least one value"])
    keys = list(grid)
    combos = list(itertools.product(*(grid[k] for k in keys)))
    # validate every variant before running anything, so a bad key fails fast
    labels = [",".join(f"{k}={v}" for k, v in zip(keys, combo)) for combo in combos]
    variants = [variant(scenario, dict(zip(keys, c)), f"{scenario.name}[{lab}]") for c, lab in zip(combos, labels)]
    folders = [Path(out) / f"variant-{i:03d}" if out is not None else None for i in range(len(variants))]
    batches = _run_each(variants, folders, replications, seed, backend, workers, scheduler, progress)
    tables = [
        pd.concat([pd.DataFrame({k: [v] * replications for k, v in zip(keys, combo)}), batch.replications], axis=1)
        for combo, batch in zip(combos, batches)
    ]
    return pd.concat(tables, ignore_index=True)

"""Running the model: one replication, batches of replications, comparisons and sweeps.

This module knows the model only through :func:`sim.model.simulate` and the event log.

Seeds: replication ``r`` of a batch with root seed ``s`` runs with streams from
``SeedSequence(s, spawn_key=(r, ...))`` whatever the backend, the number of workers or the
order of completion, so a batch is identical bit for bit on every backend. Replication
``r`` of *every* scenario uses the same seed (common random numbers), which makes
:func:`compare` a paired comparison.

Results: with an output folder, the job claims it (:func:`sim.results.claimed`), each
finished replication is checkpointed as it completes (verified when read back), and the
finished job is written through :mod:`sim.results`; rerunning the same job on the same
folder resumes it. A folder of another job is refused, never mixed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import kpis as K
from sim import results as R
from sim import workload
from sim.analysis import paired_differences, replications_needed, summarise
from sim.arguments import check_batch_args
from sim.backends import iter_results
from sim.checkpoints import Checkpoint, Checkpoints
from sim.config import Scenario, scenario_warnings, scenario_with_overrides
from sim.errors import ArgumentError, OverrideError, ScenarioError
from sim.metrics import series_frame
from sim.replication import KpiHook, ReplicationResult, batch_task, locality_hook, run_replication
from sim.vocab import WAITING_LISTS
from sim.warmup import diagnosed, queue_warning
from sim.warmup_stats import suggest_warmup

__all__ = [
    "BatchResult",
    "CompareResult",
    "ReplicationResult",
    "compare",
    "locality_hook",
    "run_batch",
    "run_checkpointed",
    "run_replication",
    "scenario_fingerprint",
    "sweep",
    "sweep_variants",
    "variant",
    "window_problems",
]


# --------------------------------------------------------------------------- batches
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
        Per KPI: ``kpi, mean, sd, ci_low, ci_high, n, half_width, rel_half_width`` (95% t,
        truncated at zero for quantities that cannot be negative and at one for fractions that
        cannot exceed their whole).
    series
        Monthly open cases and queue lengths, long form with a ``rep`` column.
    events
        Replication 0's event log, when asked for.
    kpis
        The data dictionary of every KPI column.
    resumed
        Replications read back from checkpoints rather than run.
    quarantined
        Checkpoints that failed verification and were set aside (one line each).
    """

    scenario: Scenario
    seed: int
    replications: pd.DataFrame
    summary: pd.DataFrame
    series: pd.DataFrame
    kpis: dict[str, K.Kpi]
    events: pd.DataFrame | None = None
    resumed: int = 0
    quarantined: tuple[str, ...] = ()


def scenario_fingerprint(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario: two batches may share a folder only if these match."""
    text = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _run_all(
    scenarios: Sequence[Scenario],
    replications: int,
    seed: int,
    backend: str,
    workers: int | None,
    scheduler: str | None,
    folder: Path | None,
    progress: Progress | None,
    events: bool,
    hook: KpiHook | None,
) -> list[BatchResult]:
    """Every replication of every scenario as one set of independent tasks (all with the
    same seeds: common random numbers), resuming from verified checkpoints."""
    done, extra, resumed, stores = run_checkpointed(
        scenarios, replications, seed, backend, workers, scheduler, folder, progress, events, hook
    )
    return [
        _batch(sc, seed, [done[sc.name][r] for r in range(replications)], extra, resumed[sc.name], stores.get(sc.name))
        for sc in scenarios
    ]


def run_checkpointed(
    scenarios: Sequence[Scenario],
    replications: int,
    seed: int,
    backend: str,
    workers: int | None,
    scheduler: str | None,
    folder: Path | None,
    progress: Progress | None,
    events: bool = False,
    hook: KpiHook | None = None,
) -> tuple[dict[str, dict[int, Checkpoint]], dict[str, K.Kpi], dict[str, int], dict[str, Checkpoints]]:
    """Run replications ``0..replications-1`` of every scenario (unique names) as independent
    tasks on ``backend``, checkpointing each into ``folder`` as it finishes.

    This neither claims ``folder`` nor releases it: the caller claims it for the job before
    and releases it after, however the run ends (inside :func:`sim.results.claimed`, as
    :func:`run_batch`, :func:`compare`, :func:`sweep` and :func:`sim.uncertainty.run_uncertainty` do).

    Returns
    -------
    done, extra, resumed, stores
        Scenario name -> rep -> checkpoint; the hook's KPI definitions; per scenario, how
        many replications were read back from checkpoints; the checkpoint stores.
    """
    done: dict[str, dict[int, Checkpoint]] = {}
    stores: dict[str, Checkpoints] = {}
    for sc in scenarios:
        if folder is not None:
            stores[sc.name] = Checkpoints(folder, sc.name, scenario_fingerprint(sc), seed)
            done[sc.name] = stores[sc.name].load(range(replications), need_events=events)
        else:
            done[sc.name] = {}
    resumed = {name: len(d) for name, d in done.items()}
    total = replications * len(scenarios)
    count = sum(resumed.values())
    if progress is not None:
        progress(count, total)
    extra: dict[str, K.Kpi] = {}
    definitions = getattr(hook, "kpis", None)  # a hook that can name its KPIs up front
    if definitions is not None:
        extra.update({k.name: k for sc in scenarios for k in definitions(sc)})
    todo = [
        (sc, rep, seed, events, hook) for sc in scenarios for rep in range(replications) if rep not in done[sc.name]
    ]
    by_name = {sc.name: sc for sc in scenarios}
    # closed as soon as the batch stops (Ctrl-C, a failed save), not when it is collected
    with closing(iter_results(batch_task, todo, backend, workers, scheduler)) as results:
        for name, rep, row, series, evs, defs in results:
            cp = Checkpoint(rep, row, series_frame(series, by_name[name]).assign(rep=rep), evs)
            if name in stores:
                stores[name].save(cp)
            done[name][cp.rep] = cp
            extra.update({k.name: k for k in defs})
            count += 1
            if progress is not None:
                progress(count, total)
    return done, extra, resumed, stores


def _batch(
    sc: Scenario,
    seed: int,
    cps: list[Checkpoint],
    extra: dict[str, K.Kpi],
    resumed: int,
    store: Checkpoints | None,
) -> BatchResult:
    table = pd.DataFrame([cp.row for cp in cps])
    table["rep"] = table["rep"].astype("int64")
    table["seed"] = table["seed"].astype("int64")
    catalogue = {**K.catalogue(sc), **{n: k for n, k in extra.items() if n in table.columns}}
    # a hook's KPIs from checkpoints made before it was added have no definition: keep known ones
    table = table[["scenario", "rep", "seed", *[n for n in catalogue if n in table.columns]]]
    summary = summarise(table, list(catalogue), **K.summary_bounds(catalogue))
    series = pd.concat([cp.series for cp in cps], ignore_index=True)
    events = cps[0].events
    quarantined = tuple(store.quarantined) if store is not None else ()
    return BatchResult(sc, seed, table, summary, series, catalogue, events, resumed, quarantined)


QUEUE_CHECKED = 1.0
"""A queue averaging at least this many families gets its own warm-up check (MSER-5 on its
monthly length): the one on open Level 3 plans says nothing of, say, an MST list still growing."""


def diagnostics(batch: BatchResult, precision: float = 0.05) -> dict[str, Any]:
    """Replication-count check (confidence-interval method) on :data:`sim.kpis.PRECISION`
    and the MSER-5 warm-up suggestion, with plain-English ``warnings`` (first the scenario's own,
    :func:`sim.config.scenario_warnings`: dated changes that never take effect).

    ``warmup`` is MSER-5 on :data:`sim.kpis.WARMUP_MEASURE`; ``queue_warmup`` the truncation
    point (days) of each waiting list (:data:`sim.vocab.WAITING_LISTS`) averaging
    :data:`QUEUE_CHECKED` families (children, on the social workers' list) or more, by stage, and
    ``queue_drift`` its :func:`sim.warmup_stats.drift` (``""``: a steady state within the run) and
    ``queue_at_cap`` whether its point is the largest MSER-5 may choose and ``queue_transient``
    whether what it cuts differs from what it keeps (``warmup``'s ``at_cap`` and ``transient``
    say the same of the warm-up measure; :func:`sim.warmup_stats.suggest_warmup`).
    Whether the warm-up is long enough for each is :func:`sim.warmup.diagnosed`'s verdict."""
    names = [k.name for k in K.PRECISION if k.name in batch.replications.columns]
    # a KPI near zero cannot reach a relative precision; half a unit (as shown) is precise enough
    window = batch.scenario.run.duration_days - batch.scenario.run.warmup_days
    enough = {n: K.enough(batch.kpis[n], window) for n in names}
    need = replications_needed(batch.replications, names, rel_precision=precision, absolute=enough)
    warnings = scenario_warnings(batch.scenario)
    warnings += [
        f"{batch.kpis[r['kpi']].label}: with {r['n_now']} replication(s) it is known only to within "
        f"+/-{r['rel_half_width_now']:.1%} of its value (95% confidence); about {int(r['n_needed'])} replications "
        f"would narrow that to +/-{precision:.0%} of its value or {K.enough_words(batch.kpis[r['kpi']])}"
        for r in need[~need["sufficient"] & need["n_needed"].notna()].to_dict(orient="records")
    ]
    if len(batch.replications) < 2:
        warnings.append("one replication gives no confidence interval; use 10 or more replications")
    measure = K.WARMUP_MEASURE.subject
    column = f"open_{measure}"
    warm = suggest_warmup(batch.series, column) if column in batch.series else {}
    queues, drifts, caps, transients = {}, {}, {}, {}  # a list still growing (or emptying) after the warm-up
    for stage in WAITING_LISTS:
        column = f"waiting_{stage}"
        if column in batch.series and batch.series[column].mean() >= QUEUE_CHECKED:
            check = suggest_warmup(batch.series, column)
            queues[stage], drifts[stage], caps[stage] = check["warmup_days"], check["drift"], check["at_cap"]
            transients[stage] = check["transient"]
    diag = {
        "precision": precision,
        "replications_needed": need.to_dict(orient="records"),
        "warmup": warm,
        "queue_warmup": queues,
        "queue_drift": drifts,
        "queue_at_cap": caps,
        "queue_transient": transients,
        "warmup_days_configured": batch.scenario.run.warmup_days,
        "warnings": warnings,
        "quarantined": list(batch.quarantined),
    }
    warnings.extend(queue_warning(stage, v) for stage, v in diagnosed(diag)[1].items() if v.flagged)
    return diag


def run_job(scenario: Scenario, seed: int) -> dict[str, Any]:
    """What identifies a run (its results folder holds only this)."""
    return {"kind": str(R.Kind.RUN), "seed": seed, "scenarios": {scenario.name: scenario_fingerprint(scenario)}}


def compare_job(scenarios: Sequence[Scenario], seed: int) -> dict[str, Any]:
    """What identifies a comparison: the baseline and options (unique names) and the seed."""
    names = _unique_names(scenarios)
    fingerprints = {n: scenario_fingerprint(sc.model_copy(update={"name": n})) for sc, n in zip(scenarios, names)}
    return {"kind": str(R.Kind.COMPARE), "seed": seed, "scenarios": fingerprints}


def sweep_job(scenario: Scenario, grid: Mapping[str, Sequence[Any]], seed: int) -> dict[str, Any]:
    """What identifies a sweep: the swept scenario, the grid and the seed."""
    return {
        "kind": str(R.Kind.SWEEP),
        "seed": seed,
        "scenarios": {scenario.name: scenario_fingerprint(scenario)},
        "grid": {k: list(v) for k, v in grid.items()},
    }


def _config(sc: Scenario) -> dict[str, Any]:
    return sc.model_dump(mode="json", by_alias=True, exclude_none=True)


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
    events: bool = False,
    hook: KpiHook | None = None,
    precision: float = 0.05,
    force: bool = False,
    meta: Mapping[str, Any] | None = None,
) -> BatchResult:
    """Run ``replications`` replications of ``scenario`` (replication ``r`` uses ``(seed, r)``).

    Parameters
    ----------
    backend, workers, scheduler
        See :func:`sim.backends.iter_results`.
    out
        Results folder (a ``run``): checkpoints as replications finish, then every table
        (:mod:`sim.results`). Rerunning on the same folder resumes (or extends it); fewer
        replications than it holds, or a folder of another job, is refused.
    progress
        Callback ``progress(done, total)``.
    events
        Keep replication 0's event log (``BatchResult.events``, ``events.parquet``).
    hook
        Extra KPIs per replication (:data:`KpiHook`).
    precision
        Relative CI half-width the replication-count check aims for.
    force
        Run even when :func:`sim.workload.check` finds the work beyond its limits.
    meta
        Extra manifest entries (the command line...).

    Raises
    ------
    ArgumentError, BackendError, ResultsError
        Before any replication runs.
    """
    check_batch_args(replications, seed, backend, workers, scheduler, precision)
    workload.check(scenario, replications, force=force)
    fingerprint = scenario_fingerprint(scenario)
    with R.claimed(out, run_job(scenario, seed), replications) as folder:
        (batch,) = _run_all([scenario], replications, seed, backend, workers, scheduler, folder, progress, events, hook)
        if folder is not None:
            diag = diagnostics(batch, precision)
            R.write(
                folder,
                R.Results(
                    kind=R.Kind.RUN,
                    scenarios=[scenario.name],
                    replications=batch.replications,
                    summary=batch.summary.assign(scenario=scenario.name)[["scenario", *batch.summary.columns]],
                    kpis=batch.kpis,
                    manifest=_manifest(meta, seed, replications, backend, workers, {scenario.name: fingerprint}),
                    configs={scenario.name: _config(scenario)},
                    series=batch.series.assign(scenario=scenario.name),
                    events=batch.events.assign(scenario=scenario.name) if batch.events is not None else None,
                    diagnostics={scenario.name: diag},
                ),
            )
        return batch


def _manifest(
    meta: Mapping[str, Any] | None,
    seed: int,
    replications: int,
    backend: str,
    workers: int | None,
    fingerprints: Mapping[str, str],
) -> dict[str, Any]:
    return {
        **(meta or {}),
        "seed": seed,
        "replications": replications,
        "backend": backend,
        "workers": workers,
        "fingerprints": dict(fingerprints),
    }


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

    @property
    def summary(self) -> pd.DataFrame:
        return pd.concat(
            [b.summary.assign(scenario=n)[["scenario", *b.summary.columns]] for n, b in self.batches.items()],
            ignore_index=True,
        )


def _unique_names(scenarios: Sequence[Scenario]) -> list[str]:
    names: list[str] = []
    for sc in scenarios:
        name, k = sc.name, 2
        while name in names:
            name, k = f"{sc.name}-{k}", k + 1
        names.append(name)
    return names


def window_problems(base: Scenario, options: Sequence[Scenario]) -> dict[int, str]:
    """The options (by index) whose results window differs from the baseline's, each with the
    problem: differences over different periods would compare different things."""
    window = (base.run.warmup_days, base.run.duration_days)
    return {
        i: f"run.warmup_days/duration_days {opt.run.warmup_days:g}/{opt.run.duration_days:g} differ from the "
        f"baseline's {window[0]:g}/{window[1]:g}; an option must be measured over the same results window as "
        "the baseline"
        for i, opt in enumerate(options)
        if (opt.run.warmup_days, opt.run.duration_days) != window
    }


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
    events: bool = False,
    hook: KpiHook | None = None,
    precision: float = 0.05,
    force: bool = False,
    meta: Mapping[str, Any] | None = None,
) -> CompareResult:
    """Run the baseline and each option with the same seeds and return paired differences.

    Replication ``r`` of every scenario uses seed ``(seed, r)``: the same referrals and the
    same families, so each difference is paired and its variance falls (common random
    numbers). Options must share the baseline's results window (else the differences would
    compare different periods). With ``out``, a ``compare`` results folder is written, its
    replication-count check aiming at ``precision`` (as :func:`run_batch`'s).
    """
    if not options:
        raise ArgumentError("options", "give at least one option to compare with the baseline")
    check_batch_args(replications, seed, backend, workers, scheduler, precision)
    if problems := window_problems(base, options):
        raise ScenarioError([f"{options[i].name}: {problem}" for i, problem in problems.items()])
    workload.check([base, *options], replications, force=force)
    names = _unique_names([base, *options])
    scenarios = [sc if sc.name == n else sc.model_copy(update={"name": n}) for sc, n in zip([base, *options], names)]
    fingerprints = {sc.name: scenario_fingerprint(sc) for sc in scenarios}
    with R.claimed(out, compare_job(scenarios, seed), replications) as folder:
        runs = _run_all(scenarios, replications, seed, backend, workers, scheduler, folder, progress, events, hook)
        batches = dict(zip(names, runs))
        base_reps = batches[names[0]].replications
        diffs = [paired_differences(base_reps, batches[name].replications).assign(option=name) for name in names[1:]]
        table = pd.concat(diffs, ignore_index=True)
        table = table[["option", *[c for c in table.columns if c != "option"]]]
        result = CompareResult(names[0], batches, table)
        if folder is not None:
            evs = [b.events.assign(scenario=n) for n, b in batches.items() if b.events is not None]
            R.write(
                folder,
                R.Results(
                    kind=R.Kind.COMPARE,
                    scenarios=names,
                    replications=result.replications,
                    summary=result.summary,
                    kpis=K.merged(b.kpis for b in runs),
                    manifest=_manifest(meta, seed, replications, backend, workers, fingerprints),
                    configs={sc.name: _config(sc) for sc in scenarios},
                    differences=table,
                    series=pd.concat([b.series.assign(scenario=n) for n, b in batches.items()], ignore_index=True),
                    events=pd.concat(evs, ignore_index=True) if evs else None,
                    diagnostics={n: diagnostics(b, precision) for n, b in batches.items()},
                ),
            )
        return result


# --------------------------------------------------------------------------- sweeps
def variant(scenario: Scenario, overrides: dict[str, Any], name: str | None = None) -> Scenario:
    """A validated copy of ``scenario`` with dotted keys changed (the original is untouched).

    Raises :class:`OverrideError` naming the override(s) a problem comes from (the scenario
    itself is valid), or :class:`ScenarioError` for a bad ``name``."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    return scenario_with_overrides(data, overrides, name)


def _same_value_key(value: Any) -> str:
    """Values that configure the same scenario compare equal (7 and 7.0)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    return json.dumps(value, sort_keys=True, default=str)


def sweep_variants(
    scenario: Scenario, grid: Mapping[str, Sequence[Any]]
) -> tuple[list[Scenario], list[tuple[tuple[str, ...], str]]]:
    """Every combination of the values in ``grid`` as a validated variant of ``scenario``
    (``<name>-v000``, ...), and the problems of those that are not valid, each once (a bad
    value fails every combination it is in), as :attr:`OverrideError.problems`: every value
    is checked, not just up to the first bad one."""
    variants, problems = [], {}
    for i, values in enumerate(combinations(grid)):
        try:
            variants.append(variant(scenario, values, f"{scenario.name}-v{i:03d}"))
        except OverrideError as exc:
            problems.update(dict.fromkeys(exc.problems))
    return variants, list(problems)


def combinations(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the values in ``grid``, in the sweep's order (the last key fastest),
    each as key -> value."""
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


@dataclass(frozen=True)
class SweepResult:
    """A full-factorial sweep: ``replications`` has a column per swept key, then
    ``scenario``, ``rep``, ``seed`` and every KPI; ``summary`` one row per combination and KPI;
    ``resumed`` how many replications were read back from checkpoints."""

    keys: list[str]
    replications: pd.DataFrame
    summary: pd.DataFrame
    kpis: dict[str, K.Kpi]
    resumed: int = 0


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
    hook: KpiHook | None = None,
    force: bool = False,
    meta: Mapping[str, Any] | None = None,
) -> SweepResult:
    """Full-factorial sweep: every combination of the values in ``grid`` (dotted key ->
    values), each run for ``replications`` replications with common random numbers."""
    if not grid:
        raise ArgumentError("grid", "give at least one key to sweep with its values")
    for key, values in grid.items():
        if len(values) == 0:
            raise ArgumentError("grid", f"{key}: give at least one value")
        if len({_same_value_key(v) for v in values}) != len(values):
            raise ArgumentError("grid", f"{key}: a value is given twice ({list(values)}); each value once")
    check_batch_args(replications, seed, backend, workers, scheduler)
    keys = list(grid)
    # validate every variant before running anything, so a bad key fails fast
    variants, problems = sweep_variants(scenario, grid)
    if problems:
        raise OverrideError("grid", problems)
    workload.check(variants, replications, force=force)
    fingerprints = {v.name: scenario_fingerprint(v) for v in variants}
    job = sweep_job(scenario, grid, seed)
    with R.claimed(out, job, replications) as folder:
        batches = _run_all(variants, replications, seed, backend, workers, scheduler, folder, progress, False, hook)
        setting = combinations(grid)  # each variant's values, in the variants' order
        table = pd.concat(
            [b.replications.assign(**values)[[*keys, *b.replications.columns]] for values, b in zip(setting, batches)],
            ignore_index=True,
        )
        summary = pd.concat(
            [b.summary.assign(**values)[[*keys, *b.summary.columns]] for values, b in zip(setting, batches)],
            ignore_index=True,
        )
        kpis = K.merged(b.kpis for b in batches)
        result = SweepResult(keys, table, summary, kpis, sum(b.resumed for b in batches))
        if folder is not None:
            R.write(
                folder,
                R.Results(
                    kind=R.Kind.SWEEP,
                    scenarios=[scenario.name],
                    replications=table,
                    summary=summary,
                    kpis=kpis,
                    manifest=_manifest(meta, seed, replications, backend, workers, fingerprints)
                    | {"grid": job["grid"], "variants": {v.name: values for v, values in zip(variants, setting)}},
                    configs={scenario.name: _config(scenario)},
                    sweep_keys=keys,
                    diagnostics={  # each combination's quarantined checkpoints and dated changes never reached
                        v.name: {"quarantined": list(b.quarantined), "warnings": scenario_warnings(v)}
                        for v, b in zip(variants, batches)
                        if b.quarantined or scenario_warnings(v)
                    },
                ),
            )
        return result

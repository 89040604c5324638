"""Running an uncertainty job: every parameter sample x scenario (baseline and options) x
replication is one independent task on the existing backends (:func:`sim.experiment.run_checkpointed`).

Common random numbers: replication ``r`` of every scenario of every sample runs with the
seed ``(seed, r)``, so within a sample the options are paired with the baseline, and
across samples the differences come from the parameters, not from different noise.
Each finished replication is checkpointed under ``reps/<scenario>[sample=i]/``; rerunning
the same job on the same folder resumes it (verified checkpoints, as for batches).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import kpis as K
from sim import results as R
from sim import workload
from sim.analysis import summarise
from sim.arguments import check_batch_args
from sim.config import Scenario, ScenarioError, apply_overrides, scenario_from_dict, scenario_warnings
from sim.experiment import Progress, run_checkpointed, scenario_fingerprint
from sim.uncertainty import analyse
from sim.uncertainty.sample import Design, check_design_args, design, design_size
from sim.uncertainty.spec import LoadedSpec, Parameter, lookup

__all__ = ["UncertaintyResult", "overrides_for", "run_uncertainty", "sample_scenarios", "uncertainty_job"]


def overrides_for(data: Mapping[str, Any], parameters: Sequence[Parameter], values: Sequence[float]) -> dict[str, Any]:
    """Dotted key -> value of one sample applied to one scenario mapping: the sampled value,
    or with ``scale`` the key's own value times the sampled factor; rounded to a whole
    number where the scenario holds a whole number."""
    out: dict[str, Any] = {}
    for p, v in zip(parameters, values):
        for key in p.keys:
            own = lookup(data, key)
            new = float(own) * float(v) if p.scale else float(v)
            out[key] = round(new) if isinstance(own, int) and not isinstance(own, bool) else new
    return out


def _variant_name(name: str, sample: int) -> str:
    return f"{name}[sample={sample}]"


def sample_scenarios(loaded: LoadedSpec, values: np.ndarray) -> list[list[Scenario]]:
    """For each parameter point, the baseline and every option with the point applied,
    each validated by the scenario schema (a point that makes an invalid scenario raises
    :class:`ScenarioError` naming the sample, its values and the field)."""
    params = loaded.parameters
    dumps = [sc.model_dump(mode="json", by_alias=True, exclude_none=True) for sc in loaded.scenarios]
    grid: list[list[Scenario]] = []
    problems: list[str] = []
    for i, row in enumerate(values):
        made = []
        for sc, data in zip(loaded.scenarios, dumps):
            try:
                new = apply_overrides(data, overrides_for(data, params, row))
                new["name"] = _variant_name(sc.name, i)
                made.append(scenario_from_dict(new))
            except ScenarioError as exc:
                where = ", ".join(f"{p.name}={v:.6g}" for p, v in zip(params, row))
                problems += [f"sample {i} ({where}) makes an invalid '{sc.name}': {m}" for m in exc.messages]
        if len(problems) >= 5:
            break
        grid.append(made)
    if problems:
        raise ScenarioError(problems[:5])
    return grid


def uncertainty_job(loaded: LoadedSpec, method: str, samples: int, seed: int) -> dict[str, Any]:
    """What identifies an uncertainty job: its scenarios, parameters, design and seed (the
    replications can grow, and the KPIs analysed can change, on the same folder)."""
    params = [p.model_dump(mode="json") for p in loaded.parameters]
    text = json.dumps(params, sort_keys=True)
    return {
        "kind": str(R.Kind.UNCERTAINTY),
        "seed": seed,
        "scenarios": {sc.name: scenario_fingerprint(sc) for sc in loaded.scenarios},
        "method": method,
        "samples": samples,
        "parameters": hashlib.sha256(text.encode()).hexdigest(),
    }


@dataclass(frozen=True)
class UncertaintyResult:
    """The runs and their analysis.

    Attributes
    ----------
    design
        The parameter points (unit and natural scales).
    parameters
        ``sample`` and one column per parameter (its value).
    replications
        One row per sample x scenario x replication: ``sample, scenario, rep, seed`` and every KPI.
    sensitivity, robustness
        See :mod:`sim.uncertainty.analyse`.
    resumed
        Replications read back from checkpoints rather than run.
    quarantined
        Per scenario (baseline and options), the checkpoints of its samples that failed
        verification and were set aside (one line each, as
        :attr:`sim.experiment.BatchResult.quarantined`).
    """

    spec: LoadedSpec
    design: Design
    parameters: pd.DataFrame
    replications: pd.DataFrame
    sensitivity: pd.DataFrame
    robustness: pd.DataFrame
    kpis: dict[str, K.Kpi]
    resumed: int = 0
    quarantined: dict[str, list[str]] = field(default_factory=dict)


def run_uncertainty(
    loaded: LoadedSpec,
    samples: int,
    replications: int,
    method: str = "morris",
    seed: int = 0,
    backend: str = "serial",
    workers: int | None = None,
    *,
    scheduler: str | None = None,
    out: str | Path | None = None,
    progress: Progress | None = None,
    force: bool = False,
    meta: Mapping[str, Any] | None = None,
) -> UncertaintyResult:
    """Run an uncertainty job: the design of ``method`` with ``samples``
    (:mod:`sim.uncertainty.sample`), every point x scenario x replication, then the
    sensitivity indices and robustness table. With ``out``, an ``uncertainty`` results
    folder is written (resumable).

    Raises
    ------
    ArgumentError, ScenarioError, ResultsError
        Before any replication runs (every sampled scenario is validated first).
    """
    check_batch_args(replications, seed, backend, workers, scheduler)
    check_design_args(method, samples, len(loaded.parameters))
    # the design's size alone, before building (and validating) a scenario per point
    workload.check_design(loaded.scenarios, design_size(method, samples, len(loaded.parameters)), replications, force)
    des = design(loaded.parameters, method, samples, seed)
    grid = sample_scenarios(loaded, des.values)
    flat = [sc for row in grid for sc in row]
    workload.check_replications(flat, replications, len(grid), force=force)
    with R.claimed(out, uncertainty_job(loaded, method, samples, seed), replications) as folder:
        done, _, resumed, stores = run_checkpointed(
            flat, replications, seed, backend, workers, scheduler, folder, progress
        )
        # checkpoints set aside as they were read, by the scenario (not the sample) they belong to
        quarantined = {
            orig.name: [line for row in grid for line in (stores[row[j].name].quarantined if stores else [])]
            for j, orig in enumerate(loaded.scenarios)
        }
        # every sample's scenarios: a share is bounded by one only where it is so in all of them
        catalogue = K.merged(K.catalogue(sc) for sc in flat)
        rows = [
            {**done[sc.name][r].row, "sample": i, "scenario": orig.name}
            for i, row in enumerate(grid)
            for orig, sc in zip(loaded.scenarios, row)
            for r in range(replications)
        ]
        table = pd.DataFrame(rows)
        table = table[["sample", "scenario", "rep", "seed", *[n for n in catalogue if n in table.columns]]]
        table = table.astype({"sample": "int64", "rep": "int64", "seed": "int64"})
        names = [p.name for p in loaded.parameters]
        params = pd.DataFrame(des.values, columns=names).rename_axis("sample").reset_index()
        kpis = list(loaded.spec.kpis)
        means = analyse.sample_means(table, kpis)
        base, options = loaded.base.name, [o.name for o in loaded.options]
        sens = analyse.sensitivity(des, analyse.outcomes(means, base, options), kpis, seed, catalogue)
        rob = analyse.robustness(table, base, options, kpis, catalogue)
        result = UncertaintyResult(loaded, des, params, table, sens, rob, catalogue, sum(resumed.values()), quarantined)
        if folder is not None:
            _write(folder, result, method, samples, seed, replications, backend, workers, meta)
        return result


def _write(
    folder: Path,
    res: UncertaintyResult,
    method: str,
    samples: int,
    seed: int,
    replications: int,
    backend: str,
    workers: int | None,
    meta: Mapping[str, Any] | None,
) -> None:
    loaded = res.spec
    summary = pd.concat(
        [
            summarise(
                res.replications[res.replications["scenario"] == sc.name],
                list(res.kpis),
                **K.summary_bounds(res.kpis),
            ).assign(scenario=sc.name)
            for sc in loaded.scenarios
        ],
        ignore_index=True,
    )
    summary = summary[["scenario", *[c for c in summary.columns if c != "scenario"]]]
    # the mean and spread over every parameter point and replication; no confidence interval:
    # the points are a design (a Morris grid, a Latin hypercube), not replications of one world,
    # so a t interval over them is an interval of nothing (robustness.csv has the honest one)
    summary[["ci_low", "ci_high", "half_width", "rel_half_width"]] = np.nan
    R.write(
        folder,
        R.Results(
            kind=R.Kind.UNCERTAINTY,
            scenarios=[sc.name for sc in loaded.scenarios],
            replications=res.replications,
            summary=summary,
            kpis=res.kpis,
            manifest={
                **(meta or {}),
                "seed": seed,
                "replications": replications,
                "backend": backend,
                "workers": workers,
                "method": method,
                "samples": samples,
                "points": len(res.parameters),
                "analysed_kpis": list(loaded.spec.kpis),
                "uncertain_parameters": [p.model_dump(mode="json") for p in loaded.parameters],
                "spec_file": str(loaded.path),
                "fingerprints": {sc.name: scenario_fingerprint(sc) for sc in loaded.scenarios},
            },
            configs={sc.name: sc.model_dump(mode="json", by_alias=True, exclude_none=True) for sc in loaded.scenarios},
            parameters=res.parameters,
            sensitivity=res.sensitivity,
            robustness=res.robustness,
            # what a run's diagnostics.json says of its checkpoints and dated changes (no warm-up
            # or replication check: those are a single scenario's, and samples differ)
            diagnostics={
                sc.name: {"quarantined": res.quarantined.get(sc.name, []), "warnings": scenario_warnings(sc)}
                for sc in loaded.scenarios
            },
        ),
    )

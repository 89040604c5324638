"""Calibration: fit uncertain scenario parameters to figures a council reports.

A calibration spec (YAML) names the scenario, the parameters to fit (dotted keys with
bounds; several keys can move together as one scale factor), and the targets (KPIs, or a
ratio of two KPIs, with the reported value and its source). The objective is the weighted
sum of squared relative errors between each target and the mean of the KPI over a fixed
set of replications. Every evaluation reuses the same seeds (common random numbers), so the
objective is a deterministic function of the parameters and a simplex search converges.
The fitted scenario is written as a small YAML file that ``extends:`` the original.

Spec format::

    scenario: baseline.yaml          # relative to the spec file
    output: calibrated.yaml          # where the fitted scenario is written
    replications: 8
    seed: 2017
    max_evaluations: 120
    parameters:
      referral_scale: {keys: [referrals.sources.a.annual_rate, ...], scale: true, bounds: [0.3, 3]}
      early_help.duration.median: {bounds: [90, 540]}
    targets:
      open_level3_at_end: {value: 475, source: "Sunderland-EH-2018 para 4.1"}
      step_up_share: {numerator: step_ups_total, denominator: starts_level3, value: 0.07, weight: 0.5}
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import optimize

from sim.analysis import t_interval
from sim.arguments import check_batch_args
from sim.config import Scenario, ScenarioError, _format_error, load_raw, read_yaml_file, scenario_from_dict
from sim.errors import ArgumentError
from sim.experiment import run_batch, variant
from sim.kpis import catalogue
from sim.results import write_text

__all__ = ["CalibrationResult", "CalibrationSpec", "calibrate", "load_spec"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Parameter(_Model):
    keys: list[str] | None = Field(default=None, description="Keys moved together; default: the parameter's name.")
    scale: bool = Field(default=False, description="Fit a multiplier on the keys' current values.")
    complement: str | None = Field(
        default=None,
        description="A key that takes up the change, keeping the pair's sum fixed (e.g. probabilities).",
    )
    bounds: tuple[float, float]

    @model_validator(mode="after")
    def _check(self) -> Parameter:
        lo, hi = self.bounds
        if not lo < hi:
            raise ValueError(f"bounds: need low < high, got {list(self.bounds)}")
        if self.keys is not None and not self.keys:
            raise ValueError("keys: give at least one dotted key")
        if self.complement is not None and (self.scale or (self.keys is not None and len(self.keys) != 1)):
            raise ValueError("complement: only for a single key fitted by value")
        return self


class Target(_Model):
    value: float
    kpi: str | None = Field(default=None, description="KPI name; default: the target's name.")
    numerator: str | None = None
    denominator: str | None = None
    weight: float = Field(default=1.0, gt=0)
    tolerance: float = Field(default=0.10, gt=0, description="Relative error accepted in the fit report.")
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> Target:
        if (self.numerator is None) != (self.denominator is None):
            raise ValueError("give both numerator and denominator for a ratio target")
        if self.numerator is not None and self.kpi is not None:
            raise ValueError("give either kpi or numerator/denominator, not both")
        if self.value == 0:
            raise ValueError("value: must be non-zero (errors are relative)")
        return self


class CalibrationSpec(_Model):
    scenario: str
    output: str
    replications: int = Field(default=8, ge=1, strict=True)
    seed: int = Field(default=0, ge=0, strict=True)
    max_evaluations: int = Field(default=120, ge=1, strict=True)
    overrides: dict[str, Any] = Field(default_factory=dict, description="Applied before fitting.")
    parameters: dict[str, Parameter] = Field(min_length=1)
    targets: dict[str, Target] = Field(min_length=1)


def load_spec(path: str | Path) -> tuple[CalibrationSpec, Path]:
    """Read and validate a calibration spec; returns it with its folder."""
    path = Path(path)
    data = read_yaml_file(path, "calibration spec", "a calibration spec")  # a problem of the file: one line naming it
    try:
        return CalibrationSpec.model_validate(data), path.parent
    except ValidationError as exc:
        raise ScenarioError([_format_error(dict(e)) for e in exc.errors()]) from None


@dataclass(frozen=True)
class CalibrationResult:
    """The fit: parameter values, target table, the fitted scenario and where it was saved."""

    parameters: dict[str, float]
    fit: pd.DataFrame
    scenario: Scenario
    output: Path
    evaluations: int
    objective: float
    replications: int
    """Replications of each evaluation (the spec's or the caller's)."""


def _target_values(table: pd.DataFrame, name: str, target: Target) -> np.ndarray:
    if target.numerator is not None and target.denominator is not None:
        num, den = table[target.numerator].to_numpy(float), table[target.denominator].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)
    return table[target.kpi or name].to_numpy(float)


def _overrides(spec: CalibrationSpec, base: Mapping[str, Any], x: np.ndarray) -> dict[str, Any]:
    """Dotted overrides for parameter vector ``x`` (natural units)."""
    out: dict[str, Any] = {}
    for value, (name, p) in zip(x, spec.parameters.items()):
        for key in p.keys or [name]:
            out[key] = float(base[key]) * float(value) if p.scale else float(value)
            if p.complement is not None:
                out[p.complement] = float(base[key]) + float(base[p.complement]) - float(value)
    return out


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ScenarioError([f"parameters: {dotted}: no such key in the scenario"])
        node = node[part]
    return node


def _check_targets(spec: CalibrationSpec, base: Scenario) -> None:
    """Every KPI a target names exists, checked before any evaluation runs."""
    known = catalogue(base)
    for name, t in spec.targets.items():
        for field, kpi in (
            ("kpi", t.kpi or (None if t.numerator else name)),
            ("numerator", t.numerator),
            ("denominator", t.denominator),
        ):
            if kpi is not None and kpi not in known:
                near = difflib.get_close_matches(kpi, list(known), n=1)
                hint = f" (did you mean {near[0]}?)" if near else "; see ehsim kpis for the names"
                raise ScenarioError([f"targets.{name}.{field}: unknown KPI {kpi!r}{hint}"])


def _output_path(spec: CalibrationSpec, folder: Path, output: str | Path | None, force: bool) -> Path:
    """Where the fitted scenario goes, checked before any fitting: a problem with a path the
    caller gave names that argument (``output``, ``--out`` on the command line); one with the
    spec's path names the spec's ``output`` field. An existing file is kept unless ``force``."""
    out = Path(output) if output is not None else folder / spec.output

    def refuse(problem: str) -> ArgumentError | ScenarioError:
        return ArgumentError("output", problem) if output is not None else ScenarioError([f"output: {problem}"])

    if out.is_dir():
        raise refuse(f"{out} is a folder; give the path of the YAML file to write")
    if not out.parent.is_dir():
        raise refuse(f"folder {out.parent} does not exist")
    if out.exists() and not force:
        elsewhere = "another path" if output is not None else "--out PATH to write elsewhere"
        raise refuse(f"{out} exists; give --force to write over it, or {elsewhere}")
    return out


def _fit_rows(spec: CalibrationSpec, table: pd.DataFrame, base: Scenario) -> list[dict[str, Any]]:
    """One row per target: the model's mean and 95% t interval, truncated at zero when every
    KPI the target reads is non-negative (a count, a wait: the true mean cannot be below 0)."""
    known = catalogue(base)
    rows = []
    for name, t in spec.targets.items():
        mean, ci_lo, ci_hi, n = t_interval(_target_values(table, name, t))
        read = [t.numerator, t.denominator] if t.numerator is not None else [t.kpi or name]
        if ci_lo < 0 and all(known[k].nonnegative for k in read if k is not None):
            ci_lo = 0.0
        rel = (mean - t.value) / t.value
        rows.append(
            {
                "target": name,
                "reported": t.value,
                "model_mean": mean,
                "ci_low": ci_lo,
                "ci_high": ci_hi,
                "n": n,
                "relative_error": rel,
                "tolerance": t.tolerance,
                "within": abs(rel) <= t.tolerance,
                "source": t.source,
            }
        )
    return rows


def _objective_error(spec: CalibrationSpec, table: pd.DataFrame) -> float:
    err = 0.0
    for name, t in spec.targets.items():
        mean = float(np.nanmean(_target_values(table, name, t)))
        err += t.weight * ((mean - t.value) / t.value) ** 2 if math.isfinite(mean) else 1e6
    return err


def calibrate(
    spec_path: str | Path,
    *,
    replications: int | None = None,
    max_evaluations: int | None = None,
    backend: str = "serial",
    workers: int | None = None,
    output: str | Path | None = None,
    force: bool = False,
    report: Callable[[str], None] | None = None,
) -> CalibrationResult:
    """Fit the spec's parameters to its targets (Nelder-Mead on parameters scaled to [0, 1]).

    Parameters
    ----------
    replications, max_evaluations, output
        Override the spec's values.
    force
        Write over an existing output file (otherwise refused, before any fitting).
    report
        Called with a line of text after each evaluation (progress).
    """
    spec, folder = load_spec(spec_path)
    scenario_path = folder / spec.scenario
    raw = load_raw(scenario_path, dict(spec.overrides))
    base = scenario_from_dict(raw)
    _check_targets(spec, base)
    out = _output_path(spec, folder, output, force)
    flat = {
        key: _lookup(raw, key)
        for name, p in spec.parameters.items()
        for key in [*(p.keys or [name]), *([p.complement] if p.complement else [])]
    }
    reps = replications or spec.replications
    check_batch_args(reps, spec.seed, backend, workers, None)
    lo = np.array([p.bounds[0] for p in spec.parameters.values()])
    hi = np.array([p.bounds[1] for p in spec.parameters.values()])
    start = np.array([1.0 if p.scale else float(flat[(p.keys or [n])[0]]) for n, p in spec.parameters.items()])
    for name, value, a, b in zip(spec.parameters, start, lo, hi):
        if not a <= value <= b:
            raise ScenarioError([f"parameters.{name}: the scenario's value {value} is outside bounds [{a}, {b}]"])
    cache: dict[tuple[float, ...], float] = {}

    def table_for(x: np.ndarray) -> pd.DataFrame:
        sc = variant(base, _overrides(spec, flat, x))
        return run_batch(sc, reps, spec.seed, backend, workers).replications

    def objective(z: np.ndarray) -> float:
        z = np.clip(z, 0.0, 1.0)
        key = tuple(np.round(z, 9))
        if key not in cache:
            x = lo + z * (hi - lo)
            try:
                cache[key] = _objective_error(spec, table_for(x))
            except ScenarioError:
                cache[key] = math.inf  # parameters that make the scenario invalid
            if report is not None:
                shown = ", ".join(f"{n}={v:.4g}" for n, v in zip(spec.parameters, x))
                report(f"evaluation {len(cache):>3}: objective {cache[key]:.5f}  ({shown})")
        return cache[key]

    z0 = (start - lo) / (hi - lo)
    options = {"maxfev": max_evaluations or spec.max_evaluations, "xatol": 1e-3, "fatol": 1e-5}
    res = optimize.minimize(objective, z0, method="Nelder-Mead", options={**options, "initial_simplex": _simplex(z0)})
    best = lo + np.clip(res.x, 0.0, 1.0) * (hi - lo)
    fitted = variant(base, _overrides(spec, flat, best))
    rows = _fit_rows(spec, table_for(best), base)
    params = {name: float(v) for name, v in zip(spec.parameters, best)}
    _write_fitted(out, scenario_path, spec, reps, _overrides(spec, flat, best), params, rows)
    return CalibrationResult(params, pd.DataFrame(rows), fitted, out, len(cache), float(res.fun), reps)


def _simplex(z0: np.ndarray) -> np.ndarray:
    """Start simplex: steps of 0.15 of each parameter's range, inward from the bounds."""
    pts = [z0]
    for i in range(len(z0)):
        p = z0.copy()
        p[i] = p[i] + 0.15 if p[i] <= 0.85 else p[i] - 0.15
        pts.append(p)
    return np.array(pts)


def _nest(overrides: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dotted, value in overrides.items():
        node = out
        *path, last = dotted.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def _write_fitted(
    out: Path,
    scenario_path: Path,
    spec: CalibrationSpec,
    replications: int,
    overrides: Mapping[str, Any],
    params: Mapping[str, float],
    rows: list[dict[str, Any]],
) -> None:
    """Write the fitted scenario as ``extends:`` + the fitted values, each line commented; the
    header records the ``replications`` each evaluation used (the spec's or the caller's)."""
    try:
        rel = Path(scenario_path).resolve().relative_to(out.resolve().parent)
    except ValueError:
        rel = Path(scenario_path).resolve()
    fit_note = "; ".join(f"{r['target']} {r['model_mean']:.4g} vs reported {r['reported']:.4g}" for r in rows)
    lines = [
        "# Written by `ehsim calibrate` (sim/calibrate.py): do not edit by hand; rerun the calibration.",
        f"# Fitted to: {fit_note}",
        f"# {replications} replication(s), seed {spec.seed}; fitted parameters: "
        + ", ".join(f"{k}={v:.4g}" for k, v in params.items()),
        f"extends: {rel}",
    ]
    if spec.overrides:
        lines.insert(
            3,
            "# Fitted with these overrides, which are not part of the fitted scenario: "
            + ", ".join(f"{k}={v}" for k, v in spec.overrides.items()),
        )
    lines.append(f"name: {scenario_from_dict(load_raw(scenario_path)).name}_calibrated")
    nested = _nest(overrides)

    def emit(node: Mapping[str, Any], indent: int, prefix: str) -> None:
        for key, value in node.items():
            pad, dotted = "  " * indent, f"{prefix}{key}"
            if isinstance(value, Mapping):
                lines.append(f"{pad}{key}:")
                emit(value, indent + 1, f"{dotted}.")
                continue
            shown = float(f"{value:.6g}") if isinstance(value, float) else value
            text = yaml.safe_dump(shown, default_flow_style=True).strip().removesuffix("...").strip()
            lines.append(f"{pad}{key}: {text}   # derived: calibrated by ehsim calibrate ({dotted}; see header)")

    emit(nested, 0, "")
    write_text(out, "\n".join(lines) + "\n")

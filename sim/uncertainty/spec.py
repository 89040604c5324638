"""The uncertainty spec: which scenario and options, which KPIs, and which uncertain
parameters with which distributions (and the source of each range).

Spec format (YAML)::

    scenario: baseline.yaml                 # relative to the spec file
    options: [options/budget_cut.yaml]
    kpis: [cost_total_gbp_per_year, care_entries, wait_level3_mean_days]   # default
    parameters:
      - name: withdrawal_rate
        keys: [waiting.withdrawal_per_day]
        distribution: {dist: uniform, low: 0.001, high: 0.006}
        source: ASSUMPTION
      - name: referral_volume
        keys: [referrals.sources.police.annual_rate, referrals.sources.schools.annual_rate]
        scale: true                       # multiply each key's own value by the sampled factor
        distribution: {dist: triangular, low: 0.8, mode: 1.0, high: 1.2}
        source: "ASSUMPTION: +/-20% on the calibrated volume"

Distributions (the sampled value; every one maps a uniform ``u`` through scipy's ``ppf``):
``uniform`` (low, high), ``triangular`` (low, mode, high), ``truncnormal`` (mean, sd, low,
high), ``lognormal`` (median, sigma), ``beta`` (a, b, low=0, high=1) and ``choice``
(values, equally likely).

A key holding a whole number (``teams.washington.workers``) receives the sampled value rounded
to the nearest whole number. :func:`load_spec` checks everything before any work: unknown
fields, empty or inverted ranges, parameter names, keys that do not exist in the baseline
or an option or are not numbers, unknown KPIs, and (:func:`sim.uncertainty.run.scenarios_for`)
every sampled scenario against the scenario schema.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from scipy import stats

from sim import kpis as K
from sim.config import NAME_RULE, Scenario, ScenarioError, _format_error, load_scenario, read_yaml_file
from sim.config.limits import MAX_NAME_CHARS
from sim.errors import FileError
from sim.vocab import Stage

__all__ = [
    "DEFAULT_KPIS",
    "LoadedSpec",
    "Parameter",
    "UncertaintySpec",
    "load_spec",
    "lookup",
]

DEFAULT_KPIS: tuple[str, ...] = (
    K.per_year(K.COST_TOTAL).name,
    K.CARE_ENTRIES.name,
    K.wait(Stage.LEVEL3, "mean").name,
)
"""Analysed when a spec names no KPIs: the total cost a year, entries to care and the mean
wait for a key worker."""
MAX_PARAMETERS = 50
"""More uncertain parameters than this is almost certainly a mistake (Morris needs (k + 1)
runs per trajectory)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Uniform(_Model):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"need low < high, got low {self.low:g}, high {self.high:g}")
        return self

    def frozen(self) -> Any:
        return stats.uniform(loc=self.low, scale=self.high - self.low)


class Triangular(_Model):
    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> Triangular:
        if not (self.low < self.high and self.low <= self.mode <= self.high):
            raise ValueError(f"need low <= mode <= high and low < high, got {self.low:g}, {self.mode:g}, {self.high:g}")
        return self

    def frozen(self) -> Any:
        width = self.high - self.low
        return stats.triang(c=(self.mode - self.low) / width, loc=self.low, scale=width)


class TruncNormal(_Model):
    dist: Literal["truncnormal"]
    mean: float
    sd: float = Field(gt=0)
    low: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> TruncNormal:
        if not self.low < self.high:
            raise ValueError(f"need low < high, got low {self.low:g}, high {self.high:g}")
        return self

    def frozen(self) -> Any:
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return stats.truncnorm(a, b, loc=self.mean, scale=self.sd)


class LogNormal(_Model):
    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0, le=5)

    def frozen(self) -> Any:
        return stats.lognorm(s=self.sigma, scale=self.median)


class Beta(_Model):
    dist: Literal["beta"]
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _check(self) -> Beta:
        if not self.low < self.high:
            raise ValueError(f"need low < high, got low {self.low:g}, high {self.high:g}")
        return self

    def frozen(self) -> Any:
        return stats.beta(self.a, self.b, loc=self.low, scale=self.high - self.low)


class Choice(_Model):
    dist: Literal["choice"]
    values: list[float] = Field(min_length=2)

    @field_validator("values")
    @classmethod
    def _distinct(cls, v: list[float]) -> list[float]:
        if len(set(v)) != len(v):
            raise ValueError(f"each value once, got {v}")
        return v

    def frozen(self) -> Any:
        return stats.randint(0, len(self.values))


Distribution = Annotated[Uniform | Triangular | TruncNormal | LogNormal | Beta | Choice, Field(discriminator="dist")]
U_EPS = 1e-9
"""Uniforms are clipped to [U_EPS, 1 - U_EPS] before the inverse CDF, so a design point on
the edge of the unit cube (a Sobol sequence starts at 0) never maps to an infinite value."""


class Parameter(_Model):
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS, description="A name for the parameter (no spaces).")
    keys: list[str] = Field(min_length=1, description="Dotted scenario keys moved together.")
    scale: bool = Field(default=False, description="Multiply each key's own value by the sampled factor.")
    distribution: Distribution
    source: str = Field(min_length=1, description="A docs/sources.md key or ASSUMPTION.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.replace("_", "a").replace("-", "a").replace(".", "a").isalnum() or v.startswith(("-", ".")):
            raise ValueError(f"must be {NAME_RULE}, got {v!r}")
        return v

    @field_validator("keys")
    @classmethod
    def _keys(cls, v: list[str]) -> list[str]:
        for key in v:
            if not key.strip() or "" in key.split("."):
                raise ValueError(f"{key!r} is not a dotted key like 'teams.washington.workers'")
        if len(set(v)) != len(v):
            raise ValueError("a key is given twice")
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("give a docs/sources.md key or ASSUMPTION")
        return v

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The parameter's values at uniforms ``u`` (inverse CDF)."""
        u = np.clip(np.asarray(u, dtype=float), U_EPS, 1 - U_EPS)
        dist = self.distribution
        if isinstance(dist, Choice):
            idx = np.minimum((u * len(dist.values)).astype(int), len(dist.values) - 1)
            return np.asarray(dist.values, dtype=float)[idx]
        return np.asarray(dist.frozen().ppf(u), dtype=float)

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value the parameter can take (after clipping the uniforms)."""
        lo, hi = self.ppf(np.array([0.0, 1.0]))
        return float(lo), float(hi)


class UncertaintySpec(_Model):
    scenario: str = Field(description="The baseline scenario file, relative to the spec.")
    options: list[str] = Field(default_factory=list, description="Option scenario files, relative to the spec.")
    kpis: list[str] = Field(default_factory=lambda: list(DEFAULT_KPIS), min_length=1)
    parameters: list[Parameter] = Field(min_length=1, max_length=MAX_PARAMETERS)

    @model_validator(mode="after")
    def _unique(self) -> UncertaintySpec:
        names = [p.name for p in self.parameters]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"parameters: each name once, {', '.join(twice)} given twice")
        setters: dict[str, list[str]] = {}
        for p in self.parameters:
            for key in p.keys:
                setters.setdefault(key, []).append(p.name)
        shared = [f"{key} is set by both {' and '.join(names)}" for key, names in setters.items() if len(names) > 1]
        if shared:
            raise ValueError(
                f"parameters: {'; '.join(shared)}; give each key to one parameter (only one value can reach "
                "the scenario)"
            )
        return self


def lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted key of a scenario mapping; KeyError if there is none."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with its scenarios loaded.

    Attributes
    ----------
    path
        The spec file.
    spec
        The validated spec.
    base, options
        The baseline and option scenarios, as their files define them (unperturbed).
    """

    path: Path
    spec: UncertaintySpec
    base: Scenario
    options: tuple[Scenario, ...]

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        return (self.base, *self.options)

    @property
    def parameters(self) -> list[Parameter]:
        return list(self.spec.parameters)

    def files(self) -> dict[str, Path]:
        folder = self.path.parent
        return {sc.name: folder / f for sc, f in zip(self.scenarios, [self.spec.scenario, *self.spec.options])}


def _check_keys(spec: UncertaintySpec, scenarios: Sequence[Scenario]) -> list[str]:
    problems = []
    for i, p in enumerate(spec.parameters):
        lo, _hi = p.bounds()
        if p.scale and lo < 0:
            problems.append(f"parameters.{i}.distribution: a scale factor must be >= 0, can be {lo:g}")
        for j, key in enumerate(p.keys):
            for sc in scenarios:
                data = sc.model_dump(mode="json", by_alias=True, exclude_none=True)
                try:
                    value = lookup(data, key)
                except KeyError:
                    problems.append(f"parameters.{i}.keys.{j}: {key} does not exist in scenario '{sc.name}'")
                    break
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
                    problems.append(f"parameters.{i}.keys.{j}: {key} is not a number in scenario '{sc.name}' ({shown})")
                    break
                if not math.isfinite(float(value)):
                    problems.append(f"parameters.{i}.keys.{j}: {key} is not finite in scenario '{sc.name}'")
                    break
    return problems


def load_spec(path: str | Path) -> LoadedSpec:
    """Read and validate an uncertainty spec and the scenarios it names.

    Raises
    ------
    ScenarioError
        One line per problem, each naming its field (``parameters.0.distribution.high``...).
    """
    path = Path(path)
    data = read_yaml_file(path, "uncertainty spec", "an uncertainty spec")
    if not isinstance(data, dict):
        raise FileError([f"{path}: an uncertainty spec is a mapping (scenario, options, kpis, parameters)"])
    try:
        spec = UncertaintySpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([_format_error(dict(e)) for e in exc.errors()]) from None
    folder = path.parent
    base = _load(folder / spec.scenario, "scenario")
    options = tuple(_load(folder / f, f"options.{i}") for i, f in enumerate(spec.options))
    names = [sc.name for sc in (base, *options)]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ScenarioError([f"options: scenario names must differ, {', '.join(twice)} appears twice"])
    window = (base.run.warmup_days, base.run.duration_days)
    problems = [
        f"options.{i}: run.warmup_days/duration_days differ from the baseline's; an option must be measured over "
        "the same results window"
        for i, o in enumerate(options)
        if (o.run.warmup_days, o.run.duration_days) != window
    ]
    known = K.catalogue(base)
    problems += [
        f"kpis.{i}: unknown KPI {k!r} (see ehsim kpis {spec.scenario})"
        for i, k in enumerate(spec.kpis)
        if k not in known
    ]
    problems += _check_keys(spec, (base, *options))
    if problems:
        raise ScenarioError(problems)
    return LoadedSpec(path, spec, base, options)


def _load(path: Path, field: str) -> Scenario:
    if not path.is_file():
        raise ScenarioError([f"{field}: scenario file not found: {path}"])
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        raise ScenarioError([f"{field} ({path}): {m}" for m in exc.messages]) from None

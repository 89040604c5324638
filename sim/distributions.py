"""Distribution specs as data, and inverse-CDF samplers.

A scenario writes a distribution as a mapping, e.g. ``{dist: lognormal, mean: 180, sd: 90}``.
Each spec is a frozen pydantic model that rejects impossible parameters and maps a
uniform ``u`` in ``[0, 1)`` to a sample with :meth:`ppf`. Sampling by inverse CDF from
uniforms (rather than by calling a generator's own method) is what lets every family
draw from a fixed block of its own uniforms, which keeps common random numbers aligned
between scenarios (see :mod:`sim.random`).

Every sampler returns a finite, non-negative number of days for any ``u`` in ``[0, 1)``.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import special

__all__ = [
    "DIST_KEY",
    "Bands",
    "Distribution",
    "Exponential",
    "Fixed",
    "Gamma",
    "Lognormal",
    "Triangular",
    "Uniform",
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def ppf(self, u: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def var(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


class Fixed(_Spec):
    """Always ``value`` (days)."""

    dist: Literal["fixed"]
    value: float = Field(ge=0)

    def ppf(self, u: float) -> float:
        return self.value

    @property
    def mean(self) -> float:
        return self.value

    @property
    def var(self) -> float:
        return 0.0


class Exponential(_Spec):
    """Exponential with the given ``mean`` (days)."""

    dist: Literal["exponential"]
    mean_: float = Field(gt=0, alias="mean")

    model_config = ConfigDict(populate_by_name=True)

    def ppf(self, u: float) -> float:
        return -self.mean_ * math.log1p(-u)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def var(self) -> float:
        return self.mean_**2


class Uniform(_Spec):
    """Uniform on ``[low, high]`` (days)."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError(f"high must be > low, got low={self.low}, high={self.high}")
        return self

    def ppf(self, u: float) -> float:
        return self.low + (self.high - self.low) * u

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def var(self) -> float:
        return (self.high - self.low) ** 2 / 12


class Triangular(_Spec):
    """Triangular on ``[low, high]`` with peak at ``mode`` (days)."""

    dist: Literal["triangular"]
    low: float = Field(ge=0)
    mode: float = Field(ge=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError(f"need low <= mode <= high and low < high, got {self.low}, {self.mode}, {self.high}")
        return self

    def ppf(self, u: float) -> float:
        a, c, b = self.low, self.mode, self.high
        cut = (c - a) / (b - a)
        if u < cut:
            return a + math.sqrt(u * (b - a) * (c - a))
        return b - math.sqrt((1 - u) * (b - a) * (b - c))

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def var(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18


class Lognormal(_Spec):
    """Lognormal given by its ``mean`` and ``sd`` (days), or by ``median`` and ``sigma``.

    ``sigma`` is the standard deviation of the log. A plan with median 180 days and
    sigma 0.5 has mean ``180 * exp(0.125)`` = 204 days.
    """

    dist: Literal["lognormal"]
    mean_: float | None = Field(default=None, gt=0, alias="mean")
    sd: float | None = Field(default=None, gt=0)
    median: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, gt=0, le=5)

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _params(self) -> Lognormal:
        by_moments = self.mean_ is not None and self.sd is not None
        by_median = self.median is not None and self.sigma is not None
        given = [
            k for k in ("mean", "sd", "median", "sigma") if getattr(self, "mean_" if k == "mean" else k) is not None
        ]
        if by_moments == by_median or len(given) != 2:
            raise ValueError(f"give either mean and sd, or median and sigma; got {', '.join(given) or 'none'}")
        return self

    @cached_property
    def log_params(self) -> tuple[float, float]:
        """``(mu, sigma)`` of the underlying normal (cached: ``ppf`` is on the hot path)."""
        if self.mean_ is not None and self.sd is not None:
            s2 = math.log1p((self.sd / self.mean_) ** 2)
            return math.log(self.mean_) - s2 / 2, math.sqrt(s2)
        assert self.median is not None and self.sigma is not None
        return math.log(self.median), self.sigma

    def ppf(self, u: float) -> float:
        mu, s = self.log_params
        return math.exp(mu + s * float(special.ndtri(u)))

    @property
    def mean(self) -> float:
        mu, s = self.log_params
        return math.exp(mu + s**2 / 2)

    @property
    def var(self) -> float:
        mu, s = self.log_params
        return (math.exp(s**2) - 1) * math.exp(2 * mu + s**2)


class Gamma(_Spec):
    """Gamma given by its ``mean`` and ``sd`` (days)."""

    dist: Literal["gamma"]
    mean_: float = Field(gt=0, alias="mean")
    sd: float = Field(gt=0)

    model_config = ConfigDict(populate_by_name=True)

    @cached_property
    def shape_scale(self) -> tuple[float, float]:
        """``(shape, scale)`` from the mean and sd (cached: ``ppf`` is on the hot path, e.g.
        every triage at the front door)."""
        return (self.mean_ / self.sd) ** 2, self.sd**2 / self.mean_

    def ppf(self, u: float) -> float:
        shape, scale = self.shape_scale
        return float(special.gammaincinv(shape, u)) * scale

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def var(self) -> float:
        return self.sd**2


class Bands(_Spec):
    """Piecewise-uniform histogram: a share ``probs[i]`` of values lies uniformly in
    ``[edges[i], edges[i+1]]`` (days). Used for the DfE duration bands."""

    dist: Literal["bands"]
    edges: list[float] = Field(min_length=2)
    probs: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Bands:
        if len(self.edges) != len(self.probs) + 1:
            raise ValueError(
                f"need len(edges) == len(probs) + 1, got {len(self.edges)} edges and {len(self.probs)} probs"
            )
        if any(e < 0 for e in self.edges) or any(b <= a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError(f"edges must be >= 0 and strictly increasing, got {self.edges}")
        check_probabilities(dict(enumerate(self.probs)))
        return self

    @cached_property
    def cumulative(self) -> list[float]:
        """Cumulative probabilities of the bands (cached for ``ppf``)."""
        return list(itertools.accumulate(self.probs))

    @cached_property
    def ppf_table(self) -> tuple[list[float], int, list[float], list[float]]:
        """What ``ppf`` reads, in one cached tuple: cumulative probabilities, the last band's
        index, the probabilities and the edges."""
        return self.cumulative, len(self.probs) - 1, self.probs, self.edges

    def ppf(self, u: float) -> float:
        cum, last, probs, edges = self.ppf_table
        i = min(bisect.bisect_right(cum, u), last)  # the first band with u < its cumulative
        lo = cum[i - 1] if i else 0.0
        p = probs[i]
        frac = 0.0 if p == 0 else min(max((u - lo) / p, 0.0), 1.0)
        return edges[i] + frac * (edges[i + 1] - edges[i])

    @property
    def mean(self) -> float:
        return sum(p * (a + b) / 2 for p, a, b in zip(self.probs, self.edges, self.edges[1:]))

    @property
    def var(self) -> float:
        second = sum(p * (a * a + a * b + b * b) / 3 for p, a, b in zip(self.probs, self.edges, self.edges[1:]))
        return second - self.mean**2


DIST_KEY = "dist"
"""The key that names a distribution in a scenario (``{dist: lognormal, ...}``)."""

Distribution = Annotated[
    Fixed | Exponential | Uniform | Triangular | Lognormal | Gamma | Bands,
    Field(discriminator=DIST_KEY),
]
"""Any duration distribution, chosen by its ``dist`` key."""

DIST_TAGS = frozenset({"fixed", "exponential", "uniform", "triangular", "lognormal", "gamma", "bands"})

_PROB_TOL = 1e-6


def check_probabilities(probs: Mapping[Any, float]) -> None:
    """Raise ``ValueError`` unless every value is in [0, 1] and they sum to 1."""
    for key, p in probs.items():
        if not (0.0 <= p <= 1.0):
            raise ValueError(f"probability {key!r} must be in [0, 1], got {p}")
    total = sum(probs.values())
    if abs(total - 1.0) > _PROB_TOL:
        raise ValueError(f"probabilities must sum to 1, got {total:.6g}")

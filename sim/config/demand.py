"""Scenario schema, demand: localities, referral sources and families (ages, children, need)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.config.limits import (
    MAX_ANNUAL_RATE,
    MAX_CHILDREN_MEAN,
    _check_probs,
    _check_seasonality,
    _complete,
    _Model,
    _prob,
)
from sim.distributions import check_probabilities
from sim.vocab import (
    NEED_LEVELS,
)


# ---------------------------------------------------------------------- arrivals
class Locality(_Model):
    referral_share: float = _prob(description="Share of referrals from this locality at day 0.")
    deprived: bool = Field(
        default=False, description="In the most deprived 40% of localities (IMD); groups the by-locality KPIs."
    )
    annual_growth: float = Field(
        default=0.0,
        gt=-1,
        le=1,
        description="Compound growth per year of this locality's referrals, on top of each source's growth; "
        "locality shares shift over time as growth differs.",
    )
    need_probs: dict[str, float] | None = Field(
        default=None, description="Levels of need among this locality's requests; null uses family.need_probs."
    )

    @model_validator(mode="after")
    def _check(self) -> Locality:
        if self.need_probs is not None:
            _check_probs(self.need_probs, NEED_LEVELS, "need_probs")
        return self


class Source(_Model):
    annual_rate: float = Field(ge=0, le=MAX_ANNUAL_RATE, description="Referrals per year at day 0.")
    annual_growth: float = Field(default=0.0, gt=-1, le=1, description="Compound growth per year.")
    seasonality: list[float] | None = Field(
        default=None, description="12 monthly multipliers (Jan..Dec); null uses referrals.seasonality."
    )
    entry: Literal["front_door", "panel", "level2", "level3", "mst"] = Field(
        default="front_door", description="Stage a referral from this source enters."
    )

    @model_validator(mode="after")
    def _season(self) -> Source:
        if self.seasonality is not None:
            _check_seasonality(self.seasonality)
        return self


class Referrals(_Model):
    process: Literal["poisson", "deterministic"] = Field(
        default="poisson",
        description="poisson: non-homogeneous Poisson by thinning; deterministic: evenly spaced "
        "(validation only; one source, no seasonality or growth).",
    )
    seasonality: list[float] = Field(default_factory=lambda: [1.0] * 12)
    sources: dict[str, Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Referrals:
        _check_seasonality(self.seasonality)
        if self.process == "deterministic":
            src = list(self.sources.values())
            if (
                len(src) != 1
                or src[0].annual_growth != 0
                or src[0].seasonality is not None
                or any(v != 1.0 for v in self.seasonality)
            ):
                raise ValueError(
                    "process: deterministic arrivals need exactly one source, no growth and no seasonality"
                )
        return self


# ---------------------------------------------------------------------- families
MAX_CHILD_AGE = 25
"""Oldest age a band may reach (services for care leavers and young adults run to 25)."""


class AgeBand(_Model):
    """A band of children's ages (whole years, inclusive) and its share of children."""

    low: int = Field(strict=True, ge=0, le=MAX_CHILD_AGE, description="Youngest age in the band, years.")
    high: int = Field(strict=True, ge=0, le=MAX_CHILD_AGE, description="Oldest age in the band, years.")
    share: float = _prob(description="Share of children in the band; ages within it are uniform.")

    @model_validator(mode="after")
    def _check(self) -> AgeBand:
        if self.low > self.high:
            raise ValueError(f"low: must be <= high, got {self.low} > {self.high}")
        return self


CIN_AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (0, 0, 0.05),
    (1, 4, 0.16),
    (5, 9, 0.22),
    (10, 15, 0.36),
    (16, 17, 0.21),
)
"""Default ``family.age_bands``: the age bands of the DfE children in need census (under 1,
1-4, 5-9, 10-15, 16 and over, children in need at 31 March; docs/sources.md DfE-CIN-2025 A4),
the 16-and-over band closed at 17; shares as in ``configs/baseline.yaml``."""


def _cin_age_bands() -> list[AgeBand]:
    return [AgeBand(low=lo, high=hi, share=s) for lo, hi, s in CIN_AGE_BANDS]


class Family(_Model):
    children_mean: float = Field(
        default=2.25,
        ge=1,
        le=MAX_CHILDREN_MEAN,
        description="Mean children per family; number = 1 + Poisson(mean - 1). At most "
        f"{MAX_CHILDREN_MEAN:g}: families in England average about 2 children (2.25 in the bundled "
        "councils, Sunderland-EH-2018 para 4.2); a larger mean is a typo (225 for 2.25).",
    )
    age_bands: list[AgeBand] = Field(
        default_factory=_cin_age_bands,
        min_length=1,
        description="Children's ages: bands in order from age 0, contiguous, shares summing to 1; each child "
        "draws a band by its share, then an age uniformly within it.",
    )
    need_probs: dict[str, float] = Field(
        default_factory=lambda: {"level1": 0.0, "level2": 0.0, "level3": 1.0, "level4": 0.0}
    )
    risk_mean_by_need: dict[str, float] = Field(
        default_factory=lambda: {"level1": 0.1, "level2": 0.25, "level3": 0.5, "level4": 0.75},
        description="Mean of the Beta-distributed risk score (0-1) for each level of need.",
    )
    risk_concentration: float = Field(default=8.0, gt=0, description="Beta a + b; larger is less spread.")

    @model_validator(mode="after")
    def _check(self) -> Family:
        expected = 0
        for i, band in enumerate(self.age_bands):
            if band.low != expected:
                raise ValueError(
                    f"age_bands.{i}.low: bands must start at age 0 and be contiguous, "
                    f"expected {expected}, got {band.low}"
                )
            expected = band.high + 1
        try:
            check_probabilities({f"{b.low}-{b.high}": b.share for b in self.age_bands})
        except ValueError as e:
            raise ValueError(f"age_bands: {e}") from None
        _check_probs(self.need_probs, NEED_LEVELS, "need_probs")
        _complete(self.risk_mean_by_need, NEED_LEVELS, "risk_mean_by_need")
        for k, v in self.risk_mean_by_need.items():
            if not 0 < v < 1:
                raise ValueError(f"risk_mean_by_need.{k}: must be in (0, 1), got {v}")
        return self

"""A family and its attributes, drawn at referral from the family's own stream."""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass

from scipy import special

from sim.config import Scenario
from sim.random import FamilyRandom
from sim.vocab import NEED_LEVELS

__all__ = ["AttributeTables", "Family"]


class Family:
    """One family. ``episode`` counts referrals (re-referral and step-down start a new one)."""

    __slots__ = ("_risk", "_risk_beta", "_u_risk", "ages", "episode", "id", "initial", "locality", "need", "rng")

    def __init__(self, fid: int, rng: FamilyRandom, tables: AttributeTables, locality: str | None = None):
        self.id = fid
        self.rng = rng
        self.episode = 0
        self.initial = locality is not None
        u = rng.u
        loc = tables.locality(u())
        self.locality = locality if locality is not None else loc
        n_children = 1 + tables.extra_children(u())
        top = tables.max_age + 1
        self.ages = tuple(min(int(u() * top), tables.max_age) for _ in range(n_children))
        level = tables.need(u())
        self.need = level + 1
        # the risk uniform is drawn now (fixing the stream's order); the Beta inverse CDF,
        # the costliest attribute, is computed only if something asks for the risk
        self._risk_beta = tables.risk_beta[level]
        self._u_risk = u()
        self._risk: float | None = None

    @property
    def risk(self) -> float:
        """Risk score in [0, 1], Beta-distributed with a mean set by the level of need."""
        if self._risk is None:
            a, b = self._risk_beta
            self._risk = float(special.betaincinv(a, b, self._u_risk))
        return self._risk

    def has_child_aged(self, low: int, high: int) -> bool:
        return any(low <= a <= high for a in self.ages)


@dataclass(frozen=True)
class AttributeTables:
    """Cumulative tables for drawing attributes by inverse CDF (built once per run)."""

    localities: tuple[str, ...]
    locality_cum: tuple[float, ...]
    children_cum: tuple[float, ...]
    max_age: int
    need_cum: tuple[float, ...]
    risk_beta: tuple[tuple[float, float], ...]

    @classmethod
    def build(cls, scenario: Scenario) -> AttributeTables:
        fam = scenario.family
        lam = fam.children_mean - 1.0
        # Poisson(lam) CDF up to 1 - 1e-12; the tail beyond is folded into the last count
        pmf, cum, k = math.exp(-lam), [], 0
        acc = 0.0
        while acc < 1 - 1e-12 and k < 60:
            acc += pmf
            cum.append(acc)
            k += 1
            pmf *= lam / k
        conc = fam.risk_concentration
        return cls(
            localities=tuple(scenario.localities),
            locality_cum=tuple(itertools.accumulate(v.referral_share for v in scenario.localities.values())),
            children_cum=tuple(cum),
            max_age=fam.max_child_age,
            need_cum=tuple(itertools.accumulate(fam.need_probs[k] for k in NEED_LEVELS)),
            risk_beta=tuple((m * conc, (1 - m) * conc) for m in (fam.risk_mean_by_need[k] for k in NEED_LEVELS)),
        )

    def locality(self, u: float) -> str:
        return self.localities[_pick(self.locality_cum, u)]

    def extra_children(self, u: float) -> int:
        return _pick(self.children_cum, u)

    def need(self, u: float) -> int:
        return _pick(self.need_cum, u)


def _pick(cum: tuple[float, ...], u: float) -> int:
    """Index of the first cumulative probability above ``u`` (the last one if rounding)."""
    return min(bisect.bisect_right(cum, u), len(cum) - 1)

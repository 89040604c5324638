"""A family and its attributes, drawn at referral from the family's own stream."""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from operator import attrgetter

import numpy as np
from scipy import special

from sim.config import Scenario
from sim.config.limits import MAX_CHILDREN_MEAN
from sim.random import FamilyRandom, FamilyStreams
from sim.records import row_code
from sim.vocab import NEED_LEVELS

__all__ = ["AttributeTables", "Family", "FamilyMaker", "RiskParts", "referral_parts"]


class Family:
    """One family. ``episode`` counts referrals (re-referral and step-down start a new one).

    ``key``, set when the event log registers the family (its first row), is the
    :func:`~sim.records.row_code` of its party and current episode: a row of the family is
    ``key | kind``. It is -1 until then."""

    __slots__ = (
        "_at_referral",
        "_episode",
        "_risk",
        "_risk_beta",
        "_u_risk",
        "ages",
        "id",
        "initial",
        "key",
        "locality",
        "need",
        "party",
        "rng",
    )

    def __init__(
        self,
        fid: int,
        rng: FamilyRandom,
        locality: str,
        ages: tuple[int, ...],
        level: int,
        risk_beta: tuple[float, float],
        u_risk: float,
        initial: bool = False,
        risk: float | None = None,
    ):
        self.id = fid
        self.rng = rng
        self._episode = 0
        self.key = -1
        self.party = -1
        """The family's party in the event log (-1 until its first row)."""
        self.initial = initial
        self.locality = locality
        self.ages = ages
        self.need = level + 1
        # the risk uniform is drawn now (fixing the stream's order); the Beta inverse CDF,
        # the costliest attribute, is computed only if something asks for the risk
        self._risk_beta = risk_beta
        self._u_risk = u_risk
        self._risk = risk  # None: computed when first asked for
        self._at_referral: tuple[int, float] | None = None  # (need, risk) once need has changed

    @classmethod
    def draw(
        cls, fid: int, rng: FamilyRandom, tables: AttributeTables, locality: str | None = None, now: float = 0.0
    ) -> Family:
        """A family with its attributes drawn from the start of ``rng``, in this order: the
        locality (at day ``now``; a uniform is drawn even when ``locality`` is given, as for
        a family of the initial state), the number of children, each child's age, the level
        of need, the risk score's uniform."""
        u = rng.u
        loc = tables.locality(u(), now)
        loc = locality if locality is not None else loc
        n_children = 1 + tables.extra_children(u())
        ages = tuple([tables.age(u()) for _ in range(n_children)])
        level = tables.need(u(), loc)
        return cls(fid, rng, loc, ages, level, tables.risk_beta[level], u(), locality is not None)

    @property
    def episode(self) -> int:
        """The family's episode: 0 for the first referral, +1 for each re-referral or step-down."""
        return self._episode

    @episode.setter
    def episode(self, value: int) -> None:
        self._episode = value
        if self.party >= 0:
            self.key = row_code(self.party, value)

    def register(self, party: int) -> int:
        """Record the family's party in the event log; returns its :attr:`key`."""
        self.party = party
        key = self.key = row_code(party, self._episode)
        return key

    @property
    def risk(self) -> float:
        """Risk score in [0, 1], Beta-distributed with a mean set by the level of need."""
        if self._risk is None:
            a, b = self._risk_beta
            self._risk = float(special.betaincinv(a, b, self._u_risk))
        return self._risk

    def set_need(self, need: int, tables: AttributeTables) -> None:
        """A new level of need (1-4); the risk score follows it, from the same uniform."""
        if self._at_referral is None:
            self._at_referral = (self.need, self.risk)
        self.need = need
        self._risk_beta = tables.risk_beta[need - 1]
        self._risk = None

    @property
    def at_referral(self) -> tuple[int, float]:
        """Level of need and risk score as drawn at the first referral (before any change)."""
        return self._at_referral if self._at_referral is not None else (self.need, self.risk)

    def has_child_aged(self, low: int, high: int) -> bool:
        return any(low <= a <= high for a in self.ages)


@dataclass(frozen=True)
class RiskParts:
    """Risk scores at referral, some known, the rest (``todo``) still to compute from their
    Beta parameters ``ab`` and uniforms ``u``: :meth:`values` computes them at once."""

    known: np.ndarray
    todo: np.ndarray
    ab: np.ndarray
    u: np.ndarray

    def values(self) -> np.ndarray:
        risk = self.known.copy()
        if len(self.todo):
            risk[self.todo] = special.betaincinv(self.ab[:, 0], self.ab[:, 1], self.u)
        return risk


def referral_parts(families: list[Family], risk_beta: tuple[tuple[float, float], ...]) -> tuple[np.ndarray, RiskParts]:
    """Each family's :attr:`Family.at_referral` as arrays: the levels of need, and the risk
    scores as :class:`RiskParts` (those nobody asked for during the run are computed later in
    one vectorised Beta inverse CDF: the same values as the scalar calls). ``risk_beta`` is
    the families' table of Beta parameters by level of need (:attr:`AttributeTables.risk_beta`:
    a family's are those of its level). Read with ``map`` over the families (no Python loop
    a family)."""
    n = len(families)
    need = np.fromiter(map(_NEED, families), dtype=np.int8, count=n)
    risk = np.array(list(map(_RISK, families)), dtype=np.float64).reshape(n)  # None (not computed) -> nan
    at = list(map(_AT_REFERRAL, families))
    for i in [i for i, a in enumerate(at) if a is not None]:  # need changed since: as it was
        need[i], risk[i] = at[i]
    todo = np.flatnonzero(np.isnan(risk))
    ab = np.asarray(risk_beta, dtype=np.float64).reshape(-1, 2)[need[todo] - 1]
    u = np.fromiter(map(_U_RISK, families), dtype=np.float64, count=n)[todo]
    return need, RiskParts(risk, todo, ab, u)


_NEED, _RISK, _AT_REFERRAL, _U_RISK = (attrgetter(a) for a in ("need", "_risk", "_at_referral", "_u_risk"))


Draws = tuple[list[str], list[tuple[int, ...]], list[int], list[float], list[float | None], list[int]]
"""Attributes of a block of families: see :meth:`AttributeTables.draw_block`."""


class FamilyMaker:
    """Families of one stream kind, their attributes drawn for a block of families at once
    (:meth:`AttributeTables.draw_block`): the same families as :meth:`Family.draw` one at a
    time, at a fraction of the cost."""

    __slots__ = ("_block", "_draws", "_eager_risk", "_streams", "_tables")

    def __init__(self, streams: FamilyStreams, tables: AttributeTables, eager_risk: bool = True):
        self._streams = streams
        self._tables = tables
        self._eager_risk = eager_risk
        """Compute the block's risk scores with its other attributes (when the run asks for
        most families' risk): else each family computes its own only if asked (the same
        value, :attr:`Family.risk`), and the families table computes the rest at once."""
        self._block: np.ndarray | None = None
        self._draws: Draws | None = None

    def make(self, fid: int, index: int, locality: str | None = None, now: float = 0.0) -> Family:
        """Family ``index`` of the stream, with id ``fid`` (see :meth:`Family.draw`)."""
        tables, streams = self._tables, self._streams
        if locality is not None or tables.locality_growth:  # shares that change, or imposed
            return Family.draw(fid, streams.family(index), tables, locality, now)
        block, row = streams.block(index)
        if block is not self._block or self._draws is None:
            self._block, self._draws = block, tables.draw_block(block, self._eager_risk)
        locs, ages, levels, u_risk, risks, used = self._draws
        if used[row] < 0:
            return Family.draw(fid, streams.family(index), tables)
        level = levels[row]
        rng = streams.in_block(index, row, used[row])
        return Family(fid, rng, locs[row], ages[row], level, tables.risk_beta[level], u_risk[row], False, risks[row])


@dataclass(frozen=True)
class AttributeTables:
    """Cumulative tables for drawing attributes by inverse CDF (built once per run)."""

    localities: tuple[str, ...]
    locality_cum: tuple[float, ...]
    children_cum: tuple[float, ...]
    age_cum: tuple[float, ...]
    """Cumulative shares of the age bands."""
    age_bands: tuple[tuple[int, int], ...]
    """Each band's youngest and oldest age."""
    need_cum: tuple[float, ...]
    risk_beta: tuple[tuple[float, float], ...]
    locality_growth: tuple[float, ...] = ()
    """Each locality's own annual growth; empty when none grows (shares stay fixed)."""
    need_cum_by_locality: tuple[tuple[str, tuple[float, ...]], ...] = ()
    """Localities with their own need mix, and its cumulative table."""

    @classmethod
    def build(cls, scenario: Scenario) -> AttributeTables:
        fam = scenario.family
        cum = _poisson_cum(fam.children_mean - 1.0)
        conc = fam.risk_concentration
        locs = scenario.localities.values()
        growth = tuple(v.annual_growth for v in locs)
        return cls(
            locality_growth=growth if any(growth) else (),
            need_cum_by_locality=tuple(
                (name, tuple(itertools.accumulate(v.need_probs[k] for k in NEED_LEVELS)))
                for name, v in scenario.localities.items()
                if v.need_probs is not None
            ),
            localities=tuple(scenario.localities),
            locality_cum=tuple(itertools.accumulate(v.referral_share for v in scenario.localities.values())),
            children_cum=tuple(cum),
            age_cum=tuple(itertools.accumulate(b.share for b in fam.age_bands)),
            age_bands=tuple((b.low, b.high) for b in fam.age_bands),
            need_cum=tuple(itertools.accumulate(fam.need_probs[k] for k in NEED_LEVELS)),
            risk_beta=tuple((m * conc, (1 - m) * conc) for m in (fam.risk_mean_by_need[k] for k in NEED_LEVELS)),
        )

    def locality(self, u: float, now: float = 0.0) -> str:
        """The locality of a referral at day ``now``: shares ``s_l (1 + g_l) ** (now / 365)``,
        normalised, when localities grow at different rates."""
        if not self.locality_growth:
            return self.localities[_pick(self.locality_cum, u)]
        w = np.cumsum(self._weights(np.array([now]))[:, 0])
        return self.localities[_pick(tuple((w / w[-1]).tolist()), u)]

    def volume(self, t: np.ndarray) -> np.ndarray:
        """Factor on every source's referral rate at days ``t`` from locality growth,
        ``sum_l s_l (1 + g_l) ** (t / 365)`` (1 at day 0)."""
        return np.sum(self._weights(t), axis=0)

    def _weights(self, t: np.ndarray) -> np.ndarray:
        shares = np.diff(np.concatenate([[0.0], self.locality_cum]))
        growth = np.asarray(self.locality_growth or (0.0,) * len(shares))
        return shares[:, None] * (1.0 + growth[:, None]) ** (np.asarray(t, dtype=float)[None, :] / 365.0)

    def age(self, u: float) -> int:
        """A child's age from one uniform: the band by inverse CDF of the band shares, then
        the age uniformly within the band from where ``u`` falls inside the band's share
        (so one uniform per child, as before bands, and the stream's order is unchanged)."""
        i = _pick(self.age_cum, u)
        below = self.age_cum[i - 1] if i else 0.0
        width = self.age_cum[i] - below
        low, high = self.age_bands[i]
        v = (u - below) / width if width > 0 else 0.0
        return min(low + int(v * (high - low + 1)), high)

    def draw_block(self, u: np.ndarray, risk: bool = True) -> Draws:
        """The attributes :meth:`Family.draw` would draw from each row of ``u`` (a block of
        families' first uniforms) when no locality grows and none is imposed, in numpy: the
        same comparisons and arithmetic, so the same values. Returns each row's locality,
        ages, level of need (0-3), risk uniform, risk score (one vectorised Beta inverse CDF
        for the block: the values of :attr:`Family.risk`, a third of the cost of computing
        them one at a time) and the uniforms used, or -1 for a row with more children than
        its row of uniforms covers (drawn one at a time instead). Without ``risk``, the risk
        scores are None (each family computes its own when asked)."""
        rows = np.arange(len(u))
        loc = _pick_all(self.locality_cum, u[:, 0])
        n = 1 + _pick_all(self.children_cum, u[:, 1])
        room = u.shape[1] - 4  # children whose draws fit in the row (locality, count, need, risk)
        n_fit = np.minimum(n, room)
        ages = self._ages(u[:, 2 : 2 + int(n_fit.max(initial=0))]).tolist()
        u_need = u[rows, 2 + n_fit]
        level = _pick_all(self.need_cum, u_need)
        for name, cum in self.need_cum_by_locality:
            here = loc == self.localities.index(name)
            level[here] = _pick_all(cum, u_need[here])
        used = np.where(n <= room, 4 + n, -1)
        u_risk = u[rows, 3 + n_fit]
        beta = np.asarray(self.risk_beta, dtype=np.float64).reshape(-1, 2)
        return (
            [self.localities[i] for i in loc.tolist()],
            [tuple(a[:m]) for a, m in zip(ages, n_fit.tolist())],
            level.tolist(),
            u_risk.tolist(),
            special.betaincinv(beta[level, 0], beta[level, 1], u_risk).tolist() if risk else [None] * len(u),
            used.tolist(),
        )

    def _ages(self, u: np.ndarray) -> np.ndarray:
        """:meth:`age` of every uniform in ``u``."""
        cum = np.asarray(self.age_cum)
        i = _pick_all(self.age_cum, u)
        below = np.where(i > 0, cum[i - 1], 0.0)
        width = cum[i] - below
        bands = np.asarray(self.age_bands, dtype=np.int64).reshape(-1, 2)
        low, high = bands[i, 0], bands[i, 1]
        v = np.where(width > 0, (u - below) / np.where(width > 0, width, 1.0), 0.0)
        return np.minimum(low + (v * (high - low + 1)).astype(np.int64), high)

    def extra_children(self, u: float) -> int:
        return _pick(self.children_cum, u)

    def need(self, u: float, locality: str = "") -> int:
        for name, cum in self.need_cum_by_locality:
            if name == locality:
                return _pick(cum, u)
        return _pick(self.need_cum, u)


_CHILDREN_TAIL = 1e-12
"""Probability of more extra children than the table holds, folded into its last count."""


def _poisson_cum(lam: float) -> list[float]:
    """The Poisson(``lam``) CDF from 0 until it reaches ``1 - _CHILDREN_TAIL`` (the rest folded
    into the last count). Never cut short: a mean the table cannot hold is refused, not
    truncated (``family.children_mean`` is at most ``MAX_CHILDREN_MEAN``, a table of about 40)."""
    if not 0.0 <= lam <= MAX_CHILDREN_MEAN - 1.0:
        raise ValueError(f"family.children_mean: must be from 1 to {MAX_CHILDREN_MEAN:g}, got {lam + 1.0:g}")
    pmf, cum, k, acc = math.exp(-lam), [], 0, 0.0
    while acc < 1 - _CHILDREN_TAIL:
        acc += pmf
        cum.append(acc)
        k += 1
        pmf *= lam / k
    return cum


def _pick_all(cum: tuple[float, ...], u: np.ndarray) -> np.ndarray:
    """:func:`_pick` of every uniform in ``u``."""
    return np.minimum(np.searchsorted(np.asarray(cum), u, side="right"), len(cum) - 1)


def _pick(cum: tuple[float, ...], u: float) -> int:
    """Index of the first cumulative probability above ``u`` (the last one if rounding)."""
    return min(bisect.bisect_right(cum, u), len(cum) - 1)

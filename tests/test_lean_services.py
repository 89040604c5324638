"""The county's services on the lean loop give exactly what the plain code gives: the need
chain walked on Python floats (:class:`sim.model.needs.Chain`) against the same walk on the
numpy matrix, and the cached constants of the hot inverse CDFs against the formulas written
out. Exact equality throughout: these are rewrites of the same arithmetic, not new samplers."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import special

from sim.config.social_care import Needs
from sim.distributions import Bands, Gamma
from sim.model.needs import Chain, path, rate_matrix, worsen_matrix
from sim.vocab import NEED_EXITS

ROOT = Path(__file__).resolve().parents[1]


def _numpy_walk(q: np.ndarray, state: int, u: Callable[[], float], horizon: float) -> list[tuple[float, int]]:
    """The chain's path as first written: every rate read from the matrix by index."""
    out = [(0.0, state)]
    t = 0.0
    while True:
        rate = -q[state, state]
        if rate <= 0:
            return out
        t += -math.log1p(-u()) / rate
        if t >= horizon:
            return out
        x, acc = u() * rate, 0.0
        nxt = state
        for j in range(q.shape[0]):
            if j != state:
                acc += q[state, j]
                nxt = j
                if x < acc:
                    break
        state = nxt
        out.append((t, state))


def _matrices() -> list[np.ndarray]:
    needs = Needs.model_validate(yaml.safe_load((ROOT / "configs" / "baseline.yaml").read_text())["needs"])
    qs = [rate_matrix(needs, str(k)) for k in NEED_EXITS] + [worsen_matrix(needs)]
    # random generators with every move possible, and one with a zero rate inside a row, so a
    # destination drawn from the wrong row or a move skipped changes the path
    rng = np.random.default_rng(5)
    for zero in (False, True):
        q = rng.uniform(0.001, 0.02, (6, 6))
        q[4:, :] = 0.0  # two absorbing states, as rate_matrix
        if zero:
            q[1, 3] = 0.0
        np.fill_diagonal(q, 0.0)
        np.fill_diagonal(q, -q.sum(axis=1))
        qs.append(q)
    return qs


@pytest.mark.parametrize("index", range(len(NEED_EXITS) + 3))
def test_chain_paths_equal_the_matrix_walk(index: int) -> None:
    """Same uniforms, same path: times and states equal exactly, from every starting level,
    over a short and a long horizon (1,000 paths each; the generators are the baseline's and
    two random ones)."""
    q = _matrices()[index]
    chain = Chain(q)
    for seed in range(4):
        for start in range(min(4, q.shape[0])):
            for horizon in (30.0, 5 * 365.0):
                for k in range(1_000 // 32):
                    stream = np.random.default_rng([seed, start, k]).random(400).tolist()
                    got = path(chain, start, iter(stream).__next__, horizon)
                    want = _numpy_walk(q, start, iter(stream).__next__, horizon)
                    assert got == want
                    assert path(q, start, iter(stream).__next__, horizon) == want  # a matrix is walked the same


def test_gamma_ppf_is_the_formula() -> None:
    """Cached shape and scale give the values computed from the mean and sd each time."""
    for mean, sd in ((0.5, 0.4), (33.0, 15.0), (2.0, 9.0)):
        g = Gamma(dist="gamma", mean=mean, sd=sd)
        for u in np.linspace(0.0, 0.999999, 1001).tolist():
            assert g.ppf(u) == float(special.gammaincinv((mean / sd) ** 2, u)) * (sd**2 / mean)


def test_bands_ppf_is_the_formula() -> None:
    """The cached table gives the piecewise-uniform inverse CDF, band by band (a zero band
    included), at and between the cumulative probabilities."""
    edges, probs = [0.0, 1.0, 11.0, 21.0, 46.0, 90.0], [0.1, 0.3, 0.0, 0.4, 0.2]
    b = Bands(dist="bands", edges=edges, probs=probs)
    cum = np.cumsum(probs).tolist()
    for u in np.linspace(0.0, 0.999999, 2001).tolist() + cum[:-1]:
        i = next((k for k, c in enumerate(cum) if u < c), len(cum) - 1)
        lo = cum[i - 1] if i else 0.0
        frac = 0.0 if probs[i] == 0 else min(max((u - lo) / probs[i], 0.0), 1.0)
        assert b.ppf(u) == edges[i] + frac * (edges[i + 1] - edges[i])


def test_length_biased_tables_are_kept_per_distribution() -> None:
    """The initial stock's tables, kept between replications, are the ones computed afresh,
    and each distribution (and working-day scaling) has its own."""
    from sim.model import statutory

    def fresh(dist: Bands | Gamma | statutory._Scaled, n: int = 2048) -> tuple[list[float], list[float]]:
        q = np.minimum([dist.ppf((i + 0.5) / n) for i in range(n)], statutory.MAX_CASE_DAYS)
        cum = np.cumsum(q)
        return q.tolist(), (cum / cum[-1]).tolist()

    a = Bands(dist="bands", edges=[0.0, 91.0, 730.0, 1095.0], probs=[0.5, 0.4, 0.1])
    b = Bands(dist="bands", edges=[0.0, 91.0, 730.0, 1095.0], probs=[0.4, 0.5, 0.1])
    g = Gamma(dist="gamma", mean=300.0, sd=200.0)
    dists = [a, b, g, statutory._Scaled(a, 1.4), statutory._Scaled(a, 1.0), statutory._Scaled(g, 7 / 5)]
    for _ in range(2):  # the second time from the kept tables
        for dist in dists:
            assert statutory._length_biased(dist) == fresh(dist)
    assert statutory._length_biased(a) != statutory._length_biased(b)

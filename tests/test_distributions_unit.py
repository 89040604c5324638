"""Distribution specs: moments, bounds and rejection of impossible parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from sim.distributions import Distribution

ADAPTER: TypeAdapter = TypeAdapter(Distribution)
SPECS = [
    {"dist": "fixed", "value": 3},
    {"dist": "exponential", "mean": 10},
    {"dist": "uniform", "low": 90, "high": 150},
    {"dist": "triangular", "low": 1, "mode": 2, "high": 6},
    {"dist": "lognormal", "mean": 180, "sd": 90},
    {"dist": "lognormal", "median": 182, "sigma": 0.35},
    {"dist": "gamma", "mean": 33, "sd": 15},
    {"dist": "bands", "edges": [0, 91, 182, 365, 730, 1095], "probs": [0.159, 0.11, 0.435, 0.252, 0.044]},
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["dist"] + "-" + "-".join(k for k in s if k != "dist"))
def test_sample_moments_match_declared(spec: dict) -> None:
    """Inverse-CDF samples on a fine stratified grid of u reproduce the declared mean and
    variance. The grid (not random draws) makes the check exact up to quadrature error,
    so the tolerance is 0.5% (mean) and 2% (variance; heavy lognormal tails converge slowly)."""
    d = ADAPTER.validate_python(spec)
    u = (np.arange(200_000) + 0.5) / 200_000
    x = np.array([d.ppf(float(v)) for v in u])
    assert np.all(np.isfinite(x)) and np.all(x >= 0)
    assert math.isclose(x.mean(), d.mean, rel_tol=5e-3, abs_tol=1e-9)
    assert math.isclose(x.var(), d.var, rel_tol=2e-2, abs_tol=1e-9)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["dist"])
def test_extreme_uniforms_give_finite_non_negative(spec: dict) -> None:
    d = ADAPTER.validate_python(spec)
    for u in (0.0, 1e-300, 0.5, 1 - 1e-16, np.nextafter(1.0, 0.0)):
        x = d.ppf(float(u))
        assert math.isfinite(x) and x >= 0, (u, x)


def test_lognormal_median_parameterisation() -> None:
    d = ADAPTER.validate_python({"dist": "lognormal", "median": 180, "sigma": 0.5})
    assert d.ppf(0.5) == pytest.approx(180)
    assert d.mean == pytest.approx(180 * math.exp(0.125))


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "exponential", "mean": 0},
        {"dist": "exponential", "mean": -1},
        {"dist": "exponential", "mean": float("nan")},
        {"dist": "exponential", "mean": float("inf")},
        {"dist": "uniform", "low": 5, "high": 5},
        {"dist": "triangular", "low": 1, "mode": 7, "high": 6},
        {"dist": "lognormal", "mean": 10},
        {"dist": "lognormal", "mean": 10, "sd": 2, "median": 9},
        {"dist": "gamma", "mean": 10, "sd": 0},
        {"dist": "bands", "edges": [0, 10], "probs": [0.5, 0.5]},
        {"dist": "bands", "edges": [0, 10, 5], "probs": [0.5, 0.5]},
        {"dist": "bands", "edges": [0, 10, 20], "probs": [0.5, 0.6]},
        {"dist": "fixed", "value": -1},
    ],
)
def test_impossible_parameters_rejected(spec: dict) -> None:
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(spec)

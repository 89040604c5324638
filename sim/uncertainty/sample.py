"""Parameter samples: SALib's Morris and Sobol (Saltelli) designs and scipy's Latin
hypercube, all drawn on the unit hypercube and mapped through each parameter's inverse CDF.

Every design is drawn on uniforms, so a parameter of any distribution (triangular,
truncated normal, lognormal, beta, discrete choices) fits SALib's uniform designs: column
``j`` of the design is the quantile of parameter ``j``. Morris levels sit at the centres of
``MORRIS_LEVELS`` equally likely bins (quantiles 1/8, 3/8, 5/8, 7/8 for 4 levels), never at
0 or 1, so a distribution with an infinite tail gives finite values.

``samples`` means: Morris, the number of trajectories (``samples x (k + 1)`` points for
``k`` parameters); Sobol, the base sample size ``N``, a power of two (``N x (k + 2)`` points,
first and total order); LHS, the number of points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from scipy.stats import qmc

from sim.errors import ArgumentError
from sim.uncertainty.spec import Parameter

__all__ = ["METHODS", "MORRIS_LEVELS", "Design", "design", "design_size", "problem"]

METHODS: tuple[str, ...] = ("morris", "sobol", "lhs")
MORRIS_LEVELS = 4
"""Levels of the Morris grid (SALib's default; the step is 2/3 of the range)."""
MAX_POINTS = 100_000
"""More design points than this is almost certainly a typo."""


def problem(parameters: Sequence[Parameter], method: str) -> dict[str, Any]:
    """SALib's problem definition on the quantile scale of each parameter."""
    lo = 1.0 / (2 * MORRIS_LEVELS) if method == "morris" else 0.0
    return {
        "num_vars": len(parameters),
        "names": [p.name for p in parameters],
        "bounds": [[lo, 1.0 - lo]] * len(parameters),
    }


def design_size(method: str, samples: int, k: int) -> int:
    """Number of parameter points of a design."""
    return {"morris": samples * (k + 1), "sobol": samples * (k + 2), "lhs": samples}[method]


def check_design_args(method: Any, samples: Any, k: int) -> None:
    """The method and sample size, checked before any work."""
    if method not in METHODS:
        raise ArgumentError("method", f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 2:
        raise ArgumentError("samples", f"must be a whole number >= 2, got {samples!r}")
    if method == "sobol" and samples & (samples - 1):
        raise ArgumentError("samples", f"must be a power of two for the Sobol design (e.g. 64), got {samples}")
    if design_size(method, samples, k) > MAX_POINTS:
        raise ArgumentError(
            "samples", f"{samples} give {design_size(method, samples, k):,} points; at most {MAX_POINTS:,}"
        )


@dataclass(frozen=True)
class Design:
    """Parameter points: ``unit`` on the SALib problem's (quantile) scale, ``values`` in the
    parameters' own units, one row per point, one column per parameter."""

    method: str
    problem: dict[str, Any]
    unit: np.ndarray
    values: np.ndarray


def design(parameters: Sequence[Parameter], method: str, samples: int, seed: int) -> Design:
    """The design of ``method`` with ``samples`` (see the module docstring), seeded by ``seed``."""
    check_design_args(method, samples, len(parameters))
    prob = problem(parameters, method)
    salib_seed = int(seed % 2**32)
    if method == "morris":
        unit = morris_sample.sample(prob, N=samples, num_levels=MORRIS_LEVELS, seed=salib_seed)
    elif method == "sobol":
        unit = sobol_sample.sample(prob, N=samples, calc_second_order=False, scramble=True, seed=salib_seed)
    else:
        unit = qmc.LatinHypercube(d=len(parameters), seed=np.random.default_rng(salib_seed)).random(samples)
    unit = np.asarray(unit, dtype=float)
    values = np.column_stack([p.ppf(unit[:, j]) for j, p in enumerate(parameters)])
    return Design(method, prob, unit, values)

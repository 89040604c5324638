"""Probabilistic sensitivity analysis: how much to trust an answer.

An uncertainty spec (:mod:`~sim.uncertainty.spec`) names a scenario, options and uncertain
parameters with distributions; :mod:`~sim.uncertainty.sample` draws a Morris, Sobol or
Latin hypercube design (SALib, scipy.stats.qmc); :mod:`~sim.uncertainty.run` runs every
point x scenario x replication on the existing backends with common random numbers and
checkpoints; :mod:`~sim.uncertainty.analyse` computes sensitivity indices (SALib) and the
probability that each option is better than the baseline across the uncertainty.
"""

from sim.uncertainty.run import UncertaintyResult, run_uncertainty, uncertainty_job
from sim.uncertainty.sample import METHODS, design
from sim.uncertainty.spec import LoadedSpec, UncertaintySpec, load_spec

__all__ = [
    "METHODS",
    "LoadedSpec",
    "UncertaintyResult",
    "UncertaintySpec",
    "design",
    "load_spec",
    "run_uncertainty",
    "uncertainty_job",
]

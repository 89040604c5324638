"""ehsim: discrete-event simulation of children's early help services.

Public API::

    scenario = sim.load_scenario("configs/baseline.yaml", overrides={"teams.washington.workers": 13})
    result = sim.run_replication(scenario, rep=0, seed=0)          # .kpis, .events, .series
    batch = sim.run_batch(scenario, 20, seed=0, backend="process")  # .replications, .summary
    cmp = sim.compare(scenario, [option], 20, seed=0)               # .differences (paired, CRN)
    table = sim.sweep(scenario, {"panel.interval_days": [7, 14]}, 10)

Importing ``sim`` imports none of its dependencies: each name above is loaded from its module
on first use (PEP 562), so ``import sim`` is cheap, loading a scenario loads pydantic and
scipy's special functions only, and pandas (with pyarrow, which pandas 3 imports itself), Dask
and matplotlib load only where a replication's tables, a Dask cluster or a figure are needed.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names for type checkers; at run time they load on first use
    from sim.config import Scenario, load_scenario
    from sim.errors import ArgumentError, BackendError, EhsimError, OverrideError, ResultsError, ScenarioError
    from sim.experiment import (
        BatchResult,
        CompareResult,
        ReplicationResult,
        compare,
        run_batch,
        run_replication,
        sweep,
        variant,
    )

_HOME = {
    "ArgumentError": "sim.errors",
    "BackendError": "sim.errors",
    "BatchResult": "sim.experiment",
    "CompareResult": "sim.experiment",
    "EhsimError": "sim.errors",
    "OverrideError": "sim.errors",
    "ReplicationResult": "sim.replication",
    "ResultsError": "sim.errors",
    "Scenario": "sim.config",
    "ScenarioError": "sim.errors",
    "compare": "sim.experiment",
    "load_scenario": "sim.config",
    "run_batch": "sim.experiment",
    "run_replication": "sim.replication",
    "sweep": "sim.experiment",
    "variant": "sim.experiment",
}
"""Public name -> the module that defines it."""

__all__ = [
    "ArgumentError",
    "BackendError",
    "BatchResult",
    "CompareResult",
    "EhsimError",
    "OverrideError",
    "ReplicationResult",
    "ResultsError",
    "Scenario",
    "ScenarioError",
    "compare",
    "load_scenario",
    "run_batch",
    "run_replication",
    "sweep",
    "variant",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (and keep it, so this runs once)."""
    home = _HOME.get(name)
    if home is None:
        # a module of the package (``sim.results.read(...)``, ``sim.backends.DASK_CONFIG``),
        # imported on first use like the names above
        if not name.startswith("_") and importlib.util.find_spec(f"sim.{name}") is not None:
            return importlib.import_module(f"sim.{name}")
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

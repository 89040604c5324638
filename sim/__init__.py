"""ehsim: discrete-event simulation of children's early help services.

Public API::

    scenario = sim.load_scenario("configs/baseline.yaml", overrides={"teams.washington.workers": 13})
    result = sim.run_replication(scenario, rep=0, seed=0)          # .kpis, .events, .series
    batch = sim.run_batch(scenario, 20, seed=0, backend="process")  # .replications, .summary
    cmp = sim.compare(scenario, [option], 20, seed=0)               # .differences (paired, CRN)
    table = sim.sweep(scenario, {"panel.interval_days": [7, 14]}, 10)
"""

from sim.config import Scenario, load_scenario
from sim.errors import ArgumentError, BackendError, EhsimError, ResultsError, ScenarioError
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

__all__ = [
    "ArgumentError",
    "BackendError",
    "BatchResult",
    "CompareResult",
    "EhsimError",
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

"""ehsim: discrete-event simulation of children's early help services.

Public API::

    scenario = sim.load_scenario("configs/baseline.yaml", overrides={"teams.north.workers": 12})
    result = sim.run_replication(scenario, rep=0, seed=0)
    result.kpis["wait_level3_mean_days"], result.events
"""

from sim.config import Scenario, ScenarioError, load_scenario
from sim.experiment import ReplicationResult, run_replication

__all__ = ["ReplicationResult", "Scenario", "ScenarioError", "load_scenario", "run_replication"]
__version__ = "0.1.0"

"""Importing ``sim`` and running a replication loads no heavy optional machinery.

Each check runs in a fresh interpreter (this test process has already imported everything),
which reports the modules it holds as JSON. A module counts as loaded when its top-level
package is in ``sys.modules``. These are exact checks (no tolerance): a stray top-level
import anywhere on the path makes them fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "pyarrow", "scipy", "dask", "distributed", "seaborn", "matplotlib")
NEVER_FOR_A_REPLICATION = ("dask", "distributed", "seaborn", "matplotlib")


def _loaded(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_sim_loads_no_dependency() -> None:
    assert _loaded("import sim").isdisjoint(HEAVY)


def test_loading_a_scenario_needs_no_pandas() -> None:
    loaded = _loaded("import sim\nsim.load_scenario('configs/baseline.yaml')")
    assert loaded.isdisjoint({"pandas", "pyarrow", "dask", "distributed", "seaborn", "matplotlib"})
    assert "pydantic" in loaded  # the probe can see what it should


def test_a_replication_loads_no_cluster_and_no_plotting() -> None:
    code = (
        "import sim\n"
        "sc = sim.load_scenario('configs/baseline.yaml', overrides={'run.duration_days': 60, 'run.warmup_days': 0})\n"
        "sim.run_replication(sc, rep=0, seed=0)"
    )
    loaded = _loaded(code)
    assert loaded.isdisjoint(NEVER_FOR_A_REPLICATION)
    assert "simpy" in loaded


def test_a_replication_and_its_kpis_load_no_pandas() -> None:
    """A replication computes its KPIs and series from numpy columns: pandas (and pyarrow,
    which pandas 3 imports itself) load only when a table is read."""
    run = (
        "import sim\n"
        "days = {'run.duration_days': 60, 'run.warmup_days': 0}\n"
        "sc = sim.load_scenario('configs/kirklees/baseline.yaml', overrides=days)\n"
        "res = sim.run_replication(sc, rep=0, seed=0)\n"
        "assert res.kpis['window_days'] > 0 and len(res.log) > 0 and len(res.series_arrays['day']) > 0"
    )
    assert _loaded(run).isdisjoint({"pandas", "pyarrow"})
    assert {"pandas", "pyarrow"} <= _loaded(run + "\nassert len(res.events) == len(res.log)")  # the probe sees it


def test_a_batch_replication_loads_no_pandas() -> None:
    """What a batch worker runs (:func:`sim.replication.batch_task`, here with the by-locality
    hook) loads no pandas, unless it is replication 0 and its events are asked for."""
    task = (
        "import sim\n"
        "from sim.replication import batch_task, locality_hook\n"
        "sc = sim.load_scenario('configs/worcestershire/options/targeted_deprived.yaml', "
        "overrides={{'run.duration_days': 60, 'run.warmup_days': 0}})\n"
        "name, rep, row, series, events, defs = batch_task(sc, {rep}, 0, True, locality_hook)\n"
        "assert (events is None) == ({rep} > 0) and len(defs) > 0 and row['rep'] == {rep}"
    )
    assert _loaded(task.format(rep=1)).isdisjoint({"pandas", "pyarrow"})
    assert "pandas" in _loaded(task.format(rep=0))  # replication 0 with its events builds the DataFrame


def test_the_package_modules_load_on_first_use_as_the_readme_uses_them() -> None:
    """The README reads a results folder with ``sim.results.read(...)`` and gives a cluster
    ``sim.backends.DASK_CONFIG`` straight after ``import sim``: in a fresh interpreter that raised
    AttributeError (only an earlier ``run_batch`` had imported the module). Dask loads with
    neither, and an unknown name still raises."""
    loaded = _loaded(
        "import sim\nassert callable(sim.results.read)\nassert sim.backends.DASK_CONFIG\n"
        "assert not hasattr(sim, 'nope')"
    )
    assert "pandas" in loaded and loaded.isdisjoint({"dask", "distributed"})

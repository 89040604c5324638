"""The KPI registry: every KPI's name, label, unit, kind and one-sentence definition.

:mod:`sim.metrics` names every value it computes through the functions here; the CLI, the
report and the figures read labels, units and lists from here; nothing parses a KPI name.
Families of KPIs (one per queue, team, source or year) come from small template functions
(``wait(Stage.LEVEL3, "mean")``), and :func:`catalogue` lists every KPI a scenario produces:
exactly the KPI columns of its ``replications.parquet`` (tested both ways).

``registry`` defines the KPIs (with ``statutory`` for statutory social care and ``costs`` for
the cost components); ``catalogue`` the selections, the by-locality breakdown,
the per-scenario catalogue and the data dictionary. Both are re-exported here.
"""

from sim.kpis.catalogue import *  # noqa: F403
from sim.kpis.costs import *  # noqa: F403
from sim.kpis.flows import *  # noqa: F403
from sim.kpis.registry import *  # noqa: F403
from sim.kpis.registry import _EXIT_KPIS  # noqa: F401
from sim.kpis.statutory import *  # noqa: F403

"""Regenerate the golden regression tables in ``tests/golden/`` (issue 14, point 3).

Run from the repository root::

    .venv/bin/python -m tests.golden.regenerate            # rewrite every table
    .venv/bin/python -m tests.golden.regenerate baseline   # rewrite one (by table name)

Each bundled scenario family is run for a short horizon (:data:`DURATION_DAYS` with a
:data:`WARMUP_DAYS` warm-up), :data:`REPLICATIONS` replications at seed :data:`SEED` on the
serial backend, and :data:`KPIS` are written one row per KPI, one column per replication,
every number as its shortest round-trip ``repr`` (so reading the CSV back with
``float_precision="round_trip"`` gives the identical float). ``tests/test_golden.py``
compares a fresh run with these files exactly.

Only regenerate after a change that is *meant* to move the model's numbers, and say so in
the commit message (which tables moved and why).
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import sim
from sim.kpis.catalogue import HEADLINE

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

SEED = 20240614
REPLICATIONS = 2
DURATION_DAYS = 365.0
WARMUP_DAYS = 90.0

SCENARIOS: dict[str, str] = {
    "baseline": "configs/baseline.yaml",
    "sunderland_calibrated": "configs/sunderland/calibrated.yaml",
    "kirklees_calibrated": "configs/kirklees/calibrated.yaml",
    "west_sussex_baseline": "configs/west_sussex/baseline.yaml",
    "worcestershire_baseline": "configs/worcestershire/baseline.yaml",
    "validation_mmc": "configs/validation/mmc.yaml",
}
"""Table name (``tests/golden/<name>.csv``) -> scenario file, relative to the repository root."""

KPIS: tuple[str, ...] = (
    *(k.name for k in HEADLINE),
    # costs by part
    "cost_early_help_gbp_per_year",
    "cost_social_care_gbp_per_year",
    "cost_staff_gbp",
    # flows
    "starts_level3",
    "to_social_care_total",
)
"""The pinned KPIs: the headline list, then a few cost and flow KPIs."""

REGENERATE = ".venv/bin/python -m tests.golden.regenerate"


def path(name: str) -> Path:
    return HERE / f"{name}.csv"


def compute(name: str) -> dict[str, list[float]]:
    """KPI -> its value in each replication, for the table ``name``, from a fresh run."""
    scenario = sim.load_scenario(
        ROOT / SCENARIOS[name],
        overrides={"run.duration_days": DURATION_DAYS, "run.warmup_days": WARMUP_DAYS},
    )
    reps = sim.run_batch(scenario, REPLICATIONS, seed=SEED, backend="serial").replications
    reps = reps.sort_values("rep")
    # a KPI the scenario does not have (children entering care without the statutory path) is NaN
    return {k: [float(v) for v in reps[k]] if k in reps else [math.nan] * REPLICATIONS for k in KPIS}


def write(name: str, table: dict[str, list[float]]) -> Path:
    out = path(name)
    with out.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["kpi", *(f"rep_{r}" for r in range(REPLICATIONS))])
        for kpi, values in table.items():
            w.writerow([kpi, *(repr(v) for v in values)])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown table(s) {unknown}; choose from {list(SCENARIOS)}", file=sys.stderr)
        return 2
    for name in names:
        out = write(name, compute(name))
        print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Sunderland (Sunderland-EH-2018, docs/sources.md): the calibrated April 2017 locality model against its redesign
options, paired under common random numbers.

Options (configs/sunderland/options/): weekly panel, pooled allocation, more partner-led
plans, FGC moved into early help (offered at first contact instead of pre-proceedings, or
keeping pre-proceedings conferences and adding early help referrals). Writes a compare
folder (default results/sunderland/: differences.csv and the rest; ehsim report reads it).
The options below are ehsim compare's, passed on to it; 20 replications take about 1 CPU
minute.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli import main, script_args

ROOT = Path(__file__).resolve().parents[1]
COUNCIL = ROOT / "configs" / "sunderland"


def run(argv: list[str]) -> int:
    options = [str(p) for p in sorted((COUNCIL / "options").glob("*.yaml"))]
    out = script_args(argv, __doc__, __file__, ROOT / "results" / "sunderland").out
    return main(["compare", str(COUNCIL / "calibrated.yaml"), *options, *argv, "--out", str(out)])


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))

"""Sunderland (Sunderland-EH-2018, docs/sources.md): the calibrated April 2017 locality model against its redesign
options, paired under common random numbers.

    python experiments/sunderland.py [--replications N] [--workers W] [--backend B] [--report]

Options (configs/sunderland/options/): weekly panel, pooled allocation, more partner-led
plans, FGC moved into early help. Writes results/sunderland/ (differences.csv and the rest).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
COUNCIL = ROOT / "configs" / "sunderland"


def run(argv: list[str]) -> int:
    options = [str(p) for p in sorted((COUNCIL / "options").glob("*.yaml"))]
    out = ["--out", str(ROOT / "results" / "sunderland")] if "--out" not in argv else []
    return main(["compare", str(COUNCIL / "calibrated.yaml"), *options, *out, *argv])


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))

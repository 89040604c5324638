"""Kirklees (Kirklees-ESP-2019): the calibrated Early Support Partnership with FGC,
MST and FMH against its options, paired under common random numbers, then the
mainstreaming question: does GBP 1,166,283 a year for FGC + MST + FMH buy enough avoided
escalations and care?

Options (configs/kirklees/options/): a fifth MST therapist, a second MST team, FGC at first
contact instead of at pre-proceedings, and not mainstreaming the three programmes. Writes a
compare folder (default results/kirklees/; ehsim report reads it). The options below are ehsim
compare's, passed on to it; 20 replications take about 2 CPU minutes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import sim.results as R
from sim import kpis as K
from sim.cli import main, script_args
from sim.present import console
from sim.present.console import clear_note
from sim.vocab import Stage

ROOT = Path(__file__).resolve().parents[1]
COUNCIL = ROOT / "configs" / "kirklees"
MAINSTREAMING_GBP = 1_166_283  # Kirklees-ESP-2019 para 3.5
EFFECTS = (
    K.per_year(K.COST_EARLY_HELP),
    K.per_year(K.COST_SOCIAL_CARE),
    K.TO_SC_TOTAL,
    K.CARE_ENTRIES,
    K.queue_mean(Stage.MST),
)


def run(argv: list[str]) -> int:
    out = script_args(argv, __doc__, __file__, ROOT / "results" / "kirklees").out
    options = [str(p) for p in sorted((COUNCIL / "options").glob("*.yaml"))]
    code = main(["compare", str(COUNCIL / "calibrated.yaml"), *options, *argv, "--out", str(out)])
    if code:
        return code
    res = R.read(out)
    print(f"\nMainstreaming FGC + MST + FMH (GBP {MAINSTREAMING_GBP:,} a year). Without them (paired, 95% CI):")
    print("\n".join(console.difference_lines(res.differences, EFFECTS, res.window_days(), "without_edge_of_care")))
    for line in clear_note(res.differences, [k.name for k in EFFECTS], ["without_edge_of_care"]):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))

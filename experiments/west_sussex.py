"""West Sussex IPEH redesign (WestSussex-IPEH-2019): each option against the
service as it was (the baseline, 2019/20-2021/22), then what the redesign buys at the same
GBP 12.69m (the redesign against the same cut without it), all paired under common random
numbers.

Writes a compare folder (default results/west_sussex/; ehsim report reads it) and, inside
it, redesign_vs_cut/. The options below are ehsim compare's, passed to both comparisons.
Prints early help cost a year against each
scenario's envelope (GBP 17.59m, 14.64m, 12.69m; the phased redesign's is the average of
its years) and the paired changes in social care demand and early help activity. Universal
and Level 1 provision has no modelled effect on need, so cutting it costs nothing in the
model beyond the Level 2 capacity it removes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import sim.results as R
from sim import kpis as K
from sim.cli import main, script_args
from sim.present import console
from sim.present.console import clear_note
from sim.vocab import Stage

ROOT = Path(__file__).resolve().parents[1]
COUNCIL = ROOT / "configs" / "west_sussex"
CHANGES = (
    K.TO_SC_TOTAL,
    K.STEP_UPS_TOTAL,
    K.STEP_UPS_WHILE_WAITING,
    K.CARE_ENTRIES,
    K.per_year(K.COST_SOCIAL_CARE),
    K.starts(Stage.LEVEL2),
    K.starts(Stage.LEVEL3),
    K.wait(Stage.LEVEL2, "mean"),
    K.wait(Stage.LEVEL3, "mean"),
    K.WITHDRAWN_TOTAL,
)


def run(argv: list[str]) -> int:
    out = script_args(argv, __doc__, __file__, ROOT / "results" / "west_sussex").out
    options = [str(p) for p in sorted((COUNCIL / "options").glob("*.yaml"))]
    code = main(["compare", str(COUNCIL / "baseline.yaml"), *options, *argv, "--out", str(out)])
    cut, redesign = (
        str(COUNCIL / "options" / f"{n}.yaml") for n in ("cut_without_redesign_2020_21", "redesign_2020_21")
    )
    code = code or main(["compare", cut, redesign, *argv, "--out", str(out / "redesign_vs_cut")])
    if code:
        return code
    res, buys = R.read(out), R.read(out / "redesign_vs_cut")
    print("\nEarly help cost a year against the envelope (WestSussex-IPEH-2019 para 6.3):")
    print("\n".join(console.envelope_lines(res)))
    for title, r in (("Each option against the service as it was", res), ("The redesign against the same cut", buys)):
        print(f"\n{title} (paired, 95% CI):")
        for option in r.options:
            print(f"  {option}")
            print("\n".join(console.difference_lines(r.differences, CHANGES, r.window_days(), option)))
    both = pd.concat([res.differences, buys.differences])
    for line in clear_note(both, [k.name for k in CHANGES], [*res.options, *buys.options]):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))

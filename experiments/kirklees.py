"""Kirklees (Kirklees-ESP-2019, docs/sources.md): the calibrated Early Support Partnership with FGC, MST and FMH against
its options, paired under common random numbers, then the mainstreaming question: does
£1,166,283 a year for FGC + MST + FMH buy enough avoided escalations and care?

    python experiments/kirklees.py [--replications N] [--workers W] [--backend B] [--report]

Options (configs/kirklees/options/): a second MST team, FGC at first contact instead of at
pre-proceedings, and not mainstreaming the three programmes. Writes results/kirklees/.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
COUNCIL = ROOT / "configs" / "kirklees"
MAINSTREAMING_GBP = 1_166_283  # Kirklees-ESP-2019 para 3.5
EFFECTS = (
    ("cost_early_help_gbp_per_year", "early help cost (GBP a year)"),
    ("cost_social_care_gbp_per_year", "social care cost (GBP a year)"),
    ("to_social_care_total", "referrals on to social care (in the window)"),
    ("care_entries", "entries to care (in the window)"),
    ("mst_waiting_mean", "MST waiting list (time-average)"),
)


def run(argv: list[str]) -> int:
    options = [str(p) for p in sorted((COUNCIL / "options").glob("*.yaml"))]
    out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else ROOT / "results" / "kirklees"
    extra = [] if "--out" in argv else ["--out", str(out)]
    code = main(["compare", str(COUNCIL / "calibrated.yaml"), *options, *extra, *argv])
    if code == 0:
        _mainstreaming(pd.read_csv(out / "differences.csv"))
    return code


def _mainstreaming(diff: pd.DataFrame) -> None:
    """Print what stopping FGC + MST + FMH saves and what it costs elsewhere."""
    rows = diff[diff["option"] == "without_edge_of_care"].set_index("kpi")
    if rows.empty:
        return
    print(
        f"\nMainstreaming FGC + MST + FMH (Kirklees-ESP-2019 para 3.5: £{MAINSTREAMING_GBP:,} a year). "
        "Without them, per replication:"
    )
    for kpi, label in EFFECTS:
        r = rows.loc[kpi]
        verdict = "clear" if r["distinguishable"] else "no clear difference"
        print(f"  {label:<46} {r['diff_mean']:>+14,.1f}  (95% CI {r['ci_low']:,.1f} to {r['ci_high']:,.1f}; {verdict})")
    saved = -rows.loc["cost_early_help_gbp_per_year", "diff_mean"]
    extra = rows.loc["cost_social_care_gbp_per_year", "diff_mean"]
    print(f"  net: saves £{saved:,.0f} a year of early help spending against £{extra:,.0f} a year more social care")


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))

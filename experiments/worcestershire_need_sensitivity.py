"""Worcestershire's GBP 4.5m cut (Worcestershire-EH-2015 para 9): how sensitive are its net
cost and care entries to each need-dynamics parameter, one at a time?

Each parameter of configs/uncertainty/worcestershire_needs.yaml (or those --params names) is
set to the low, then the high end of its range (the others at their scenario values; one run
at the defaults too), and baseline vs budget_cut is compared with paired replications.
Defaults: 5 replications and a horizon shortened but holding the dated cut (start 2013-04-01,
two warm-up years, window 2015/16-2017/18); the other options are ehsim compare's, passed on
(--set overrides the horizon). Writes a compare folder per setting under --out and
sensitivity.csv (net cost = cut - baseline, total cost a year; care entries a year).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

import sim.results as R
from sim.cli import main, script_args
from sim.uncertainty.run import overrides_for
from sim.uncertainty.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = load_spec(ROOT / "configs" / "uncertainty" / "worcestershire_needs.yaml")
SHORT = ["run.start_date=2013-04-01", "run.warmup_days=730", "run.duration_days=1826"]
DEFAULTS = ["--replications", "5", *(a for s in SHORT for a in ("--set", s))]
COST, CARE = "cost_total_gbp_per_year", "care_entries"
NAMES = [p.name for p in SPEC.parameters]
OWN = argparse.ArgumentParser(add_help=False)
OWN.add_argument("--params", type=lambda s: s.split(","), default=NAMES, help="parameters to vary, e.g. leave,a")


def run(argv: list[str]) -> int:
    args = script_args(argv, __doc__, __file__, ROOT / "results" / "worcestershire_needs", 5, [OWN])
    rest = OWN.parse_known_args(argv)[1]  # what compare takes: all but --params
    if unknown := set(args.params) - set(NAMES):
        return OWN.error(f"--params: {', '.join(sorted(unknown))}: choose from {', '.join(NAMES)}")
    params = {p.name: p for p in SPEC.parameters if p.name in args.params}
    data = SPEC.base.model_dump(mode="json", by_alias=True, exclude_none=True)
    settings = [("default", "-", float("nan"))]
    settings += [(n, end, round(v, 6)) for n, p in params.items() for end, v in zip(("low", "high"), p.bounds())]
    rows = []
    for name, end, value in settings:
        sets = overrides_for(data, [params[name]], [value]) if name in params else {}
        folder = args.out / (name if end == "-" else f"{name}_{end}")
        flags = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
        files = [str(f) for f in SPEC.files().values()]
        if code := main(["compare", *files, *DEFAULTS, *flags, *rest, "--quiet", "--out", str(folder)]):
            return code
        res = R.read(folder)
        d, per_year = res.differences.set_index("kpi"), 365.0 / res.window_days()  # type: ignore[union-attr]
        rows.append(
            {"parameter": name, "end": end, "value": value}
            | {f"net_cost_{c}": d.loc[COST, c] for c in ("diff_mean", "ci_low", "ci_high")}
            | {"care_base_per_year": d.loc[CARE, "base_mean"] * per_year}
            | {"care_cut_per_year": d.loc[CARE, "option_mean"] * per_year}
        )
    table = pd.DataFrame(rows)
    R.write_csv(args.out / "sensitivity.csv", table)
    shown = table.round({"value": 3, "care_base_per_year": 1, "care_cut_per_year": 1})
    print(shown.astype(dict.fromkeys([c for c in table if c.startswith("net_cost")], "int64")).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))

"""Worcestershire's GBP 4.5m cut (Worcestershire-EH-2015 para 9): one-at-a-time sensitivity of
its net cost and care entries to each need-dynamics parameter (issue 11, must-show 3).

    python experiments/worcestershire_need_sensitivity.py [--params a,b] [--out DIR] [ehsim compare flags]

Each parameter of configs/uncertainty/worcestershire_needs.yaml is set to the low, then the
high end of its range (the others at their scenario values; one run at the defaults too), and
baseline vs budget_cut is compared with paired replications. Defaults: 5 replications and a
horizon shortened but holding the dated cut (start 2013-04-01, two warm-up years, window
2015/16-2017/18); --replications and --set override them. Writes a compare folder per setting
and ``sensitivity.csv`` (net cost = cut - baseline, total cost a year; care entries a year).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

import sim.results as R
from sim.cli import main
from sim.uncertainty.run import overrides_for
from sim.uncertainty.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = load_spec(ROOT / "configs" / "uncertainty" / "worcestershire_needs.yaml")
SHORT = ["run.start_date=2013-04-01", "run.warmup_days=730", "run.duration_days=1826"]
DEFAULTS = ["--replications", "5", *(a for s in SHORT for a in ("--set", s))]
COST, CARE = "cost_total_gbp_per_year", "care_entries"


def run(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "worcestershire_needs")
    ap.add_argument("--params", type=lambda s: s.split(","), default=[p.name for p in SPEC.parameters])
    args, rest = ap.parse_known_args(argv)
    params = {p.name: p for p in SPEC.parameters if p.name in args.params}
    if len(params) != len(args.params):
        ap.error(f"--params: choose from {', '.join(p.name for p in SPEC.parameters)}")
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

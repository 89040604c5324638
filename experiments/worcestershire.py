"""Worcestershire 0-19 early help (Worcestershire-EH-2015, docs/sources.md): budget options and
the five-year projection.

Runs ``configs/worcestershire/baseline.yaml`` (GBP 7.7m) and its options, ``budget_cut``
(about GBP 4.5m less, cut across the six district providers in proportion) and
``targeted_deprived`` (the same money with key workers shared by need, towards the three
most deprived districts), under common random numbers (``sim.compare``: replication r of
every scenario uses seed (seed, r), so differences are paired), and prints

* early help cost a year (2015 prices) with its 95% CI against the scenario's envelope;
* the paired change against the baseline in social care demand (referrals to social care,
  step-ups, entries to care, social care cost) and in waits, with 95% CIs;
* the financial projection the peer review asked for (Worcestershire-EH-2015 para 16: "consistent
  financial projections based on forecast demand and complexity"): referrals, early help,
  social care and total cost in each year 2015/16-2019/20 (year1..year5) with 95% CIs, and
  each option's paired change per year;
* targeted_deprived against budget_cut (same money), paired: county totals, and per
  district the mean wait for a key worker and the share of families who leave the waiting
  list unserved, from a second pass over the same replications (the event log by locality;
  ``--skip-districts`` to omit it).

Outputs under ``--out`` (default ``results/worcestershire/``): ``envelope.csv``,
``changes.csv``, ``targeted_vs_cut.csv``, ``projection.csv``, ``projection_changes.csv``,
``districts.csv``, ``district_changes.csv``, ``differences.csv`` (every KPI),
``summary_<scenario>.csv``, ``manifest.json``, and each scenario's checkpointed
replications in ``<scenario>/`` (rerun the same command to resume or extend).

Limits to read the results with: a district's deprivation is modelled only as a larger
share of referrals (families' risk does not depend on where they live); the cut is in
place from 2015/16 rather than phased to 2017/18; non-case-holding staff have no modelled
effect; the Family Front Door is outside the 0-19 budget and costed at 0.

    python experiments/worcestershire.py --replications 20 --backend process --workers 2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

import sim
from sim.analysis import paired_differences, summarise
from sim.backends import iter_results
from sim.io import manifest, write_csv, write_json

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs" / "worcestershire"
BASELINE = CONFIGS / "baseline.yaml"
OPTIONS = ("budget_cut", "targeted_deprived")
CUT, TARGETED = "worcs_budget_cut", "worcs_targeted_deprived"
DEPRIVED = ("redditch", "wyre_forest", "worcester")
"""The three most deprived districts, standing for the most deprived 40% of localities."""
YEARS = ("2015/16", "2016/17", "2017/18", "2018/19", "2019/20")

COST = "cost_early_help_gbp_per_year"
CHANGES: tuple[tuple[str, str, bool], ...] = (
    ("to_social_care_total", "referrals to social care a year", True),
    ("step_ups_total", "step-ups from early help a year", True),
    ("care_entries", "entries to care a year", True),
    ("cost_social_care_gbp_per_year", "social care cost a year (GBP)", False),
    ("starts_level3", "Level 3 plans started a year", True),
    ("wait_level3_mean_days", "mean wait for a key worker (days)", False),
    ("withdrawn_level3", "withdrawn from the key worker list a year", True),
    ("escalated_level3", "escalated from the key worker list a year", True),
)
PROJECTION = (
    ("referrals_year", "referrals"),
    ("cost_early_help_gbp_year", "early help GBP"),
    ("cost_social_care_gbp_year", "social care GBP"),
    ("cost_total_gbp_year", "total GBP"),
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replications", type=int, default=20, help="replications per scenario (default 20)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--backend", choices=("serial", "process", "dask"), default="serial")
    p.add_argument("--workers", type=int, default=None, help="processes or Dask workers (default: cores)")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "worcestershire", help="output folder")
    p.add_argument("--skip-districts", action="store_true", help="omit the per-district second pass")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def load_scenarios() -> tuple[sim.Scenario, list[sim.Scenario]]:
    base = sim.load_scenario(BASELINE)
    return base, [sim.load_scenario(CONFIGS / "options" / f"{name}.yaml") for name in OPTIONS]


# --------------------------------------------------------------------------- districts
def level3_by_locality(events: pd.DataFrame, warmup_days: float) -> pd.DataFrame:
    """Per locality, for families joining the key worker list in the KPI window: how many
    joined, the mean wait of those allocated a key worker, and the share who left unserved
    (withdrew or escalated). Each join is matched with the start or leave that ended it."""
    l3 = events[events["stage"] == "level3"]
    joins = l3[l3["event"] == "join"][["family_id", "time", "locality"]].copy()
    ends = l3[l3["event"].isin(("start", "leave"))][["family_id", "time", "event"]].copy()
    joins["n"] = joins.groupby("family_id").cumcount()
    ends["n"] = ends.groupby("family_id").cumcount()
    pairs = joins.merge(ends, on=["family_id", "n"], how="left", suffixes=("_join", "_end"))
    pairs = pairs[pairs["time_join"] >= warmup_days]
    pairs["wait"] = pairs["time_end"] - pairs["time_join"]
    rows = []
    for loc, g in pairs.groupby("locality", observed=True):
        served = g[g["event"] == "start"]
        rows.append(
            {
                "locality": str(loc),
                "joined": float(len(g)),
                "wait_mean_days": float(served["wait"].mean()) if len(served) else np.nan,
                "left_unserved_share": float((g["event"] == "leave").mean()),
            }
        )
    return pd.DataFrame(rows)


def _district_task(scenario: sim.Scenario, rep: int, seed: int) -> tuple[str, int, dict[str, float]]:
    """One replication's per-district figures, flattened to KPI-like columns."""
    res = sim.run_replication(scenario, rep=rep, seed=seed)
    table = level3_by_locality(res.events, scenario.run.warmup_days)
    row: dict[str, float] = {}
    for _, r in table.iterrows():
        for col in ("wait_mean_days", "left_unserved_share", "joined"):
            row[f"{r['locality']}_{col}"] = float(r[col])
    return scenario.name, rep, row


def district_pass(
    scenarios: Sequence[sim.Scenario],
    replications: int,
    seed: int,
    backend: str,
    workers: int | None,
    scheduler: str | None,
) -> dict[str, pd.DataFrame]:
    """Per-district figures of each scenario, one row per replication (same seeds as compare)."""
    tasks = [(sc, rep, seed) for sc in scenarios for rep in range(replications)]
    rows: dict[str, list[dict[str, Any]]] = {sc.name: [] for sc in scenarios}
    for name, rep, row in iter_results(_district_task, tasks, backend, workers, scheduler):
        rows[name].append({"scenario": name, "rep": rep, "seed": seed, **row})
    return {name: pd.DataFrame(r).sort_values("rep").reset_index(drop=True) for name, r in rows.items()}


def district_tables(tables: dict[str, pd.DataFrame], localities: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Means with CIs per scenario and district, and targeted - cut paired differences."""
    means = []
    for name, t in tables.items():
        s = summarise(t).set_index("kpi")
        for loc in localities:
            for col in ("wait_mean_days", "left_unserved_share"):
                k = f"{loc}_{col}"
                if k in s.index:
                    means.append(
                        {
                            "scenario": name,
                            "locality": loc,
                            "deprived": loc in DEPRIVED,
                            "measure": col,
                            "mean": s.loc[k, "mean"],
                            "ci_low": s.loc[k, "ci_low"],
                            "ci_high": s.loc[k, "ci_high"],
                        }
                    )
    diffs = paired_differences(tables[CUT], tables[TARGETED])
    diffs = diffs[~diffs["kpi"].str.endswith("_joined")].copy()
    diffs.insert(0, "option", f"{TARGETED} - {CUT}")
    return pd.DataFrame(means), diffs


# --------------------------------------------------------------------------- tables
def _ci(summary: pd.DataFrame, kpi: str) -> tuple[float, float, float]:
    row = summary.set_index("kpi").loc[kpi]
    return float(row["mean"]), float(row["ci_low"]), float(row["ci_high"])


def envelope_table(result: sim.CompareResult) -> pd.DataFrame:
    rows = []
    for name, batch in result.batches.items():
        mean, low, high = _ci(batch.summary, COST)
        budget = batch.scenario.costs.budget_gbp_per_year
        verdict = "no envelope"
        if budget is not None:
            verdict = "under" if high <= budget else "OVER" if low > budget else "at (CI spans the envelope)"
        rows.append(
            {
                "scenario": name,
                COST: mean,
                "ci_low": low,
                "ci_high": high,
                "envelope_gbp_per_year": budget,
                "margin_gbp_per_year": (budget - mean) if budget is not None else np.nan,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def change_table(diffs: pd.DataFrame, years: float) -> pd.DataFrame:
    out = []
    for kpi, label, per_year in CHANGES:
        for _, r in diffs[diffs["kpi"] == kpi].iterrows():
            f = 1.0 / years if per_year else 1.0
            out.append(
                {
                    "option": r["option"],
                    "kpi": kpi,
                    "label": label,
                    "base": r["base_mean"] * f,
                    "option_value": r["option_mean"] * f,
                    "change": r["diff_mean"] * f,
                    "ci_low": r["ci_low"] * f,
                    "ci_high": r["ci_high"] * f,
                    "distinguishable": bool(r["distinguishable"]),
                }
            )
    return pd.DataFrame(out)


def projection_table(result: sim.CompareResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Year-by-year means with CIs per scenario, and each option's paired change per year."""
    levels, changes = [], []
    diffs = result.differences.set_index(["option", "kpi"])
    for name, batch in result.batches.items():
        s = batch.summary.set_index("kpi")
        for i, label in enumerate(YEARS, start=1):
            for prefix, what in PROJECTION:
                k = f"{prefix}{i}"
                if k not in s.index:
                    continue
                levels.append(
                    {
                        "scenario": name,
                        "year": i,
                        "financial_year": label,
                        "measure": what,
                        "kpi": k,
                        "mean": s.loc[k, "mean"],
                        "ci_low": s.loc[k, "ci_low"],
                        "ci_high": s.loc[k, "ci_high"],
                    }
                )
                if (name, k) in diffs.index:
                    d = diffs.loc[(name, k)]
                    changes.append(
                        {
                            "option": name,
                            "year": i,
                            "financial_year": label,
                            "measure": what,
                            "kpi": k,
                            "change": d["diff_mean"],
                            "ci_low": d["ci_low"],
                            "ci_high": d["ci_high"],
                        }
                    )
    return pd.DataFrame(levels), pd.DataFrame(changes)


# --------------------------------------------------------------------------- printing
def _m(x: float) -> str:
    return f"{x / 1e6:6.2f}"


def _num(x: float, money: bool) -> str:
    if pd.isna(x):
        return "n/a"
    return f"{x / 1e6:+.2f}m" if money else f"{x:+.1f}"


def _cell(mean: float, low: float, high: float, money: bool) -> str:
    if money:
        return f"{mean / 1e6:5.2f} [{low / 1e6:5.2f}, {high / 1e6:5.2f}]"
    return f"{mean:5.0f} [{low:5.0f}, {high:5.0f}]"


def print_report(
    env: pd.DataFrame,
    changes: pd.DataFrame,
    levels: pd.DataFrame,
    year_changes: pd.DataFrame,
    districts: tuple[pd.DataFrame, pd.DataFrame] | None,
    years: float,
    n: int,
) -> None:
    print(
        f"\nWorcestershire 0-19 early help (Worcestershire-EH-2015): {n} paired replications, "
        f"{years:.0f} years measured each"
    )
    print("\nEarly help cost a year (GBP m, 2015 prices) against the envelope (Worcestershire-EH-2015 para 9)")
    print(f"  {'scenario':26s} {'mean':>6s}  {'95% CI':>15s}  {'envelope':>8s}  {'margin':>7s}  verdict")
    for _, r in env.iterrows():
        print(
            f"  {r['scenario']:26s} {_m(r[COST])}  [{_m(r['ci_low'])}, {_m(r['ci_high'])}]  "
            f"{_m(r['envelope_gbp_per_year']):>8s}  {_m(r['margin_gbp_per_year']):>7s}  {r['verdict']}"
        )
    print("\nPaired change against the baseline (option - baseline), and of targeting against the cut, 95% CI")
    for option, group in changes.groupby("option", sort=False):
        print(f"  {option}")
        for _, r in group.iterrows():
            money = r["kpi"].startswith("cost_")
            flag = "" if r["distinguishable"] else "  (CI includes 0)"
            print(
                f"    {r['label']:44s} {_num(r['change'], money):>9s}  "
                f"[{_num(r['ci_low'], money)}, {_num(r['ci_high'], money)}]{flag}"
            )
    print("\nFinancial projection from forecast demand (Worcestershire-EH-2015 paras 12, 16): mean [95% CI], GBP m")
    for name, group in levels.groupby("scenario", sort=False):
        print(f"  {name}")
        print(f"    {'year':8s}" + "".join(f"{what:>26s}" for _, what in PROJECTION))
        for (_i, label), g in group.groupby(["year", "financial_year"], sort=True):
            cells = []
            for prefix, what in PROJECTION:
                row = g[g["measure"] == what]
                if row.empty:
                    cells.append(f"{'n/a':>26s}")
                    continue
                r = row.iloc[0]
                cells.append(f"{_cell(r['mean'], r['ci_low'], r['ci_high'], not prefix.startswith('referrals')):>26s}")
            print(f"    {label:8s}" + "".join(cells))
    if not year_changes.empty:
        print("\nPaired change per year against the baseline (option - baseline), GBP m [95% CI]")
        for name, group in year_changes.groupby("option", sort=False):
            print(f"  {name}")
            for (_i, label), g in group.groupby(["year", "financial_year"], sort=True):
                cells = []
                for _prefix, what in PROJECTION[1:]:
                    r = g[g["measure"] == what].iloc[0]
                    cells.append(
                        f"{what} {_num(r['change'], True)} [{_num(r['ci_low'], True)}, {_num(r['ci_high'], True)}]"
                    )
                print(f"    {label:8s}  " + ";  ".join(cells))
    if districts is not None:
        means, diffs = districts
        print("\nKey worker list by district (families joining in the window): mean [95% CI]")
        print(f"  {'district':14s} {'deprived':8s}" + "".join(f"{n:>44s}" for n in means["scenario"].unique()))
        for measure, label in (("wait_mean_days", "wait, days"), ("left_unserved_share", "share left unserved")):
            print(f"  {label}")
            for loc, g in means[means["measure"] == measure].groupby("locality", sort=False):
                cells = "".join(
                    f"{r['mean']:>20.2f} [{r['ci_low']:8.2f}, {r['ci_high']:8.2f}]" for _, r in g.iterrows()
                )
                print(f"    {loc:12s} {'yes' if loc in DEPRIVED else 'no':8s}{cells}")
        print(f"\n  Targeting against the untargeted cut ({TARGETED} - {CUT}), paired, 95% CI")
        for _, r in diffs.iterrows():
            flag = "" if r["distinguishable"] else "  (CI includes 0)"
            print(f"    {r['kpi']:36s} {r['diff_mean']:+9.2f}  [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]{flag}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    base, options = load_scenarios()
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            bar = tqdm(total=total, unit="rep", file=sys.stderr, dynamic_ncols=True)
        bar.n = done
        bar.refresh()

    try:
        result = sim.compare(
            base,
            options,
            args.replications,
            seed=args.seed,
            backend=args.backend,
            workers=args.workers,
            scheduler=args.scheduler,
            out=args.out,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    years = (base.run.duration_days - base.run.warmup_days) / 365.0
    out: Path = args.out
    env = envelope_table(result)
    changes = change_table(result.differences, years)
    levels, year_changes = projection_table(result)
    targeting = paired_differences(result.batches[CUT].replications, result.batches[TARGETED].replications)
    targeting = change_table(targeting.assign(option=f"{TARGETED} - {CUT}"), years)
    districts = None
    if not args.skip_districts:
        tables = district_pass(
            [base, *options], args.replications, args.seed, args.backend, args.workers, args.scheduler
        )
        districts = district_tables(tables, list(base.localities))
        write_csv(out / "districts.csv", districts[0])
        write_csv(out / "district_changes.csv", districts[1])
    write_csv(out / "envelope.csv", env)
    write_csv(out / "changes.csv", changes)
    write_csv(out / "targeted_vs_cut.csv", targeting)
    write_csv(out / "projection.csv", levels)
    write_csv(out / "projection_changes.csv", year_changes)
    write_csv(out / "differences.csv", result.differences)
    for name, batch in result.batches.items():
        write_csv(out / f"summary_{name}.csv", batch.summary)
    write_json(
        out / "manifest.json",
        manifest(
            experiment="worcestershire",
            command=" ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
            seed=args.seed,
            replications=args.replications,
            backend=args.backend,
            scenarios={name: b.scenario.name for name, b in result.batches.items()},
        ),
    )
    both = pd.concat([changes, targeting], ignore_index=True)
    print_report(env, both, levels, year_changes, districts, years, args.replications)
    print(f"\nWrote {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

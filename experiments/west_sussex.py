"""West Sussex IPEH redesign (WestSussex-IPEH-2019, docs/sources.md): each option against the 2019/20 baseline.

Runs ``configs/west_sussex/baseline.yaml`` and its options under common random numbers
(``sim.compare``: replication r of every scenario uses seed (seed, r), so differences are
paired) and prints, for each scenario,

* early help cost a year (``cost_early_help_gbp_per_year``: staff and per-case costs of the
  early help service, 2019/20 prices) with its 95% CI, against the scenario's envelope
  (``costs.budget_gbp_per_year``: GBP 17.59m in 2019/20, 14.64m in 2020/21, 12.69m in
  2021/22, WestSussex-IPEH-2019 para 6.3 table);
* the paired change against the baseline in social care demand (referrals to social care,
  step-ups from early help, entries to care, social care cost) and in early help activity
  (Level 2 and Level 3 plans started, waits), with 95% CIs, counts per year;
* what the redesign buys at the same GBP 12.69m: redesign_2021_22 minus
  cut_without_redesign_2021_22, paired.

Outputs under ``--out`` (default ``results/west_sussex/``): ``envelope.csv``,
``changes.csv``, ``redesign_vs_cut.csv``, ``differences.csv`` (every KPI), one
``summary_<scenario>.csv`` per scenario, ``manifest.json``, and each scenario's
checkpointed replications in ``<scenario>/`` (rerun the same command to resume or extend).

Limits to read the results with: universal and Level 1 provision (the non-case-holding
staff the redesign cuts) has no modelled effect on need, so cutting it costs nothing in the
model beyond the Level 2 capacity the options remove; the envelopes of later years are
compared in 2019/20 prices.

    python experiments/west_sussex.py --replications 20 --backend process --workers 2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

import sim
from sim.analysis import paired_differences
from sim.io import manifest, write_csv, write_json

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs" / "west_sussex"
BASELINE = CONFIGS / "baseline.yaml"
OPTIONS = (
    "redesign_2020_21",
    "redesign_2021_22",
    "cut_without_redesign_2021_22",
    "redesign_2021_22_partners_hold_level2",
)
REDESIGN, CUT = "ws_redesign_2021_22", "ws_cut_without_redesign_2021_22"

COST = "cost_early_help_gbp_per_year"
# (KPI, label, per year?) for the paired changes
CHANGES: tuple[tuple[str, str, bool], ...] = (
    ("to_social_care_total", "referrals to social care a year", True),
    ("step_ups_total", "step-ups from early help a year", True),
    ("step_ups_while_waiting", "  of which while waiting", True),
    ("care_entries", "entries to care a year", True),
    ("cost_social_care_gbp_per_year", "social care cost a year (GBP)", False),
    ("starts_level2", "Level 2 plans started a year", True),
    ("starts_level3", "Level 3 plans started a year", True),
    ("wait_level2_mean_days", "mean wait for Level 2 (days)", False),
    ("wait_level3_mean_days", "mean wait for a key worker (days)", False),
    ("withdrawn_total", "families withdrawing a year", True),
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replications", type=int, default=20, help="replications per scenario (default 20)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--backend", choices=("serial", "process", "dask"), default="serial")
    p.add_argument("--workers", type=int, default=None, help="processes or Dask workers (default: cores)")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "west_sussex", help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def load_scenarios() -> tuple[sim.Scenario, list[sim.Scenario]]:
    """The baseline and the options, validated."""
    base = sim.load_scenario(BASELINE)
    return base, [sim.load_scenario(CONFIGS / "options" / f"{name}.yaml") for name in OPTIONS]


def _ci(summary: pd.DataFrame, kpi: str) -> tuple[float, float, float]:
    row = summary.set_index("kpi").loc[kpi]
    return float(row["mean"]), float(row["ci_low"]), float(row["ci_high"])


def envelope_table(result: sim.CompareResult) -> pd.DataFrame:
    """Early help cost a year (mean, 95% CI) of every scenario against its envelope."""
    rows = []
    for name, batch in result.batches.items():
        mean, low, high = _ci(batch.summary, COST)
        budget = batch.scenario.costs.budget_gbp_per_year
        if budget is None:
            verdict = "no envelope"
        elif high <= budget:
            verdict = "under"
        elif low > budget:
            verdict = "OVER"
        else:
            verdict = "at (CI spans the envelope)"
        rows.append(
            {
                "scenario": name,
                "cost_early_help_gbp_per_year": mean,
                "ci_low": low,
                "ci_high": high,
                "envelope_gbp_per_year": budget,
                "margin_gbp_per_year": (budget - mean) if budget is not None else float("nan"),
                "verdict": verdict,
                "n": len(batch.replications),
            }
        )
    return pd.DataFrame(rows)


def change_table(diffs: pd.DataFrame, years: float) -> pd.DataFrame:
    """Selected paired differences (option - base) with CIs; counts converted to per year."""
    out = []
    for kpi, label, per_year in CHANGES:
        rows = diffs[diffs["kpi"] == kpi]
        for _, r in rows.iterrows():
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


def _m(x: float) -> str:
    return f"{x / 1e6:6.2f}"


def _num(x: float, money: bool) -> str:
    if pd.isna(x):
        return "n/a"
    return f"{x / 1e6:+.2f}m" if money else f"{x:+.1f}"


def print_report(env: pd.DataFrame, changes: pd.DataFrame, buys: pd.DataFrame, years: float, n: int) -> None:
    print(f"\nWest Sussex IPEH (WestSussex-IPEH-2019): {n} paired replications, {years:.1f} years measured each")
    print("\nEarly help cost a year (GBP m, 2019/20 prices) against the envelope (WestSussex-IPEH-2019 para 6.3)")
    print(f"  {'scenario':42s} {'mean':>6s}  {'95% CI':>15s}  {'envelope':>8s}  {'margin':>7s}  verdict")
    for _, r in env.iterrows():
        budget = r["envelope_gbp_per_year"]
        print(
            f"  {r['scenario']:42s} {_m(r[COST])}  [{_m(r['ci_low'])}, {_m(r['ci_high'])}]  "
            f"{_m(budget) if pd.notna(budget) else '   n/a':>8s}  {_m(r['margin_gbp_per_year']):>7s}  {r['verdict']}"
        )
    for title, table, col in (
        ("Paired change against the baseline (option - baseline), 95% CI", changes, "option"),
        (f"What the redesign buys at GBP 12.69m ({REDESIGN} - {CUT}), 95% CI", buys, "option"),
    ):
        print(f"\n{title}")
        for option, group in table.groupby(col, sort=False):
            print(f"  {option}")
            for _, r in group.iterrows():
                money = r["kpi"].startswith("cost_")
                flag = "" if r["distinguishable"] else "  (CI includes 0)"
                print(
                    f"    {r['label']:38s} {_num(r['change'], money):>9s}  "
                    f"[{_num(r['ci_low'], money)}, {_num(r['ci_high'], money)}]{flag}"
                )


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
    env = envelope_table(result)
    changes = change_table(result.differences, years)
    buys_diffs = paired_differences(result.batches[CUT].replications, result.batches[REDESIGN].replications)
    buys = change_table(buys_diffs.assign(option=f"{REDESIGN} - {CUT}"), years)
    out: Path = args.out
    write_csv(out / "envelope.csv", env)
    write_csv(out / "changes.csv", changes)
    write_csv(out / "redesign_vs_cut.csv", buys)
    write_csv(out / "differences.csv", result.differences)
    for name, batch in result.batches.items():
        write_csv(out / f"summary_{name}.csv", batch.summary)
    write_json(
        out / "manifest.json",
        manifest(
            experiment="west_sussex",
            command=" ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
            seed=args.seed,
            replications=args.replications,
            backend=args.backend,
            scenarios={name: b.scenario.name for name, b in result.batches.items()},
        ),
    )
    print_report(env, changes, buys, years, args.replications)
    print(f"\nWrote {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

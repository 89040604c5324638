"""The ``ehsim`` command (also ``python -m sim``). Thin: parses arguments, calls the library,
prints. Bad input exits with code 2 and one field-named message per problem."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import pandas as pd

from sim.config import Scenario, ScenarioError, load_scenario, scenario_to_yaml
from sim.experiment import run_replication
from sim.io import manifest, write_csv, write_json, write_parquet, write_text

EXIT_BAD_INPUT = 2

HEADLINE_KPIS = (
    ("referrals_total", "Referrals", "{:,.0f}"),
    ("wait_front_door_mean_days", "Mean wait for triage (days)", "{:.1f}"),
    ("wait_panel_mean_days", "Mean wait for panel (days)", "{:.1f}"),
    ("wait_level3_mean_days", "Mean wait for a key worker (days)", "{:.1f}"),
    ("wait_level3_p90_days", "90th percentile wait for a key worker (days)", "{:.1f}"),
    ("open_level3_at_end", "Open Level 3 plans at end", "{:,.0f}"),
    ("open_level2_at_end", "Open Level 2 (partner-led) plans at end", "{:,.0f}"),
    ("closed_outcomes_met", "Closed with outcomes met", "{:,.0f}"),
    ("step_ups_total", "Step-ups to social care (waiting + on plan)", "{:,.0f}"),
    ("withdrawn_total", "Withdrew while waiting", "{:,.0f}"),
    ("care_entries", "Entries to care", "{:,.0f}"),
    ("mst_waiting_mean", "MST waiting list (time-average)", "{:.1f}"),
    ("cost_total_gbp_per_year", "Total cost per year (GBP)", "£{:,.0f}"),
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep its usage line
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ehsim", description="Simulate children's early help services.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    v = sub.add_parser("validate", help="check a scenario file; exit 0 if valid, 2 with errors")
    v.add_argument("config", type=Path)
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    r = sub.add_parser("run", help="run a scenario and write its results")
    r.add_argument("config", type=Path)
    r.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    r.add_argument("--out", type=Path, default=None, help="output folder (default results/<scenario name>)")
    r.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key, e.g. --set teams.north.workers=12",
    )
    return p


def _load(config: Path, overrides: list[str]) -> Scenario:
    return load_scenario(config, overrides)


def _fmt(value: float, template: str) -> str:
    return "n/a" if pd.isna(value) else template.format(value)


def _cmd_validate(args: argparse.Namespace) -> int:
    sc = _load(args.config, args.overrides)
    print(f"{args.config}: valid scenario '{sc.name}'")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    sc = _load(args.config, args.overrides)
    if args.seed < 0:
        raise ScenarioError([f"--seed: must be >= 0, got {args.seed}"])
    out = args.out or Path("results") / sc.name
    res = run_replication(sc, rep=0, seed=args.seed)
    write_text(out / "config.resolved.yaml", scenario_to_yaml(sc))
    write_csv(out / "kpis.csv", pd.DataFrame({"kpi": list(res.kpis), "value": list(res.kpis.values())}))
    write_parquet(out / "events.parquet", res.events)
    write_csv(out / "series.csv", res.series)
    write_json(
        out / "manifest.json",
        manifest(
            scenario=sc.name,
            config=str(args.config),
            overrides=args.overrides,
            seed=args.seed,
            replications=1,
            command=" ".join(["ehsim", *sys.argv[1:]]),
        ),
    )
    days = sc.run.duration_days - sc.run.warmup_days
    print(f"Scenario '{sc.name}', seed {args.seed}: {days:,.0f} days after a {sc.run.warmup_days:,.0f}-day warm-up")
    width = max(len(label) for _, label, _ in HEADLINE_KPIS)
    for key, label, template in HEADLINE_KPIS:
        if key in res.kpis:
            print(f"  {label:<{width}}  {_fmt(res.kpis[key], template)}")
    print(f"Results written to {out}/")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"validate": _cmd_validate, "run": _cmd_run}[args.command](args)
    except ScenarioError as exc:
        print(f"error: {getattr(args, 'config', '')}: invalid scenario", file=sys.stderr)
        for line in exc.messages:
            print(f"  {line}", file=sys.stderr)
        return EXIT_BAD_INPUT

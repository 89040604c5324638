"""The ``ehsim`` command (also ``python -m sim``). Thin: parses arguments, calls the library,
prints. Bad input exits with code 2 and one field-named message per problem."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
import yaml
from tqdm import tqdm

from sim.analysis import replications_needed, suggest_warmup, summarise
from sim.backends import BACKENDS
from sim.calibrate import calibrate
from sim.config import Scenario, ScenarioError, load_scenario, scenario_to_yaml
from sim.errors import EhsimError
from sim.experiment import BatchResult, compare, run_batch, run_replication, scenario_fingerprint, sweep
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
PRECISION_KPIS = ("wait_level3_mean_days", "step_ups_total", "care_entries", "cost_total_gbp_per_year")
"""KPIs whose confidence-interval precision is checked after a batch."""
WARMUP_MEASURE = "open_level3"
ABSOLUTE_ENOUGH = 0.5
"""A CI half-width this small (in the KPI's unit) passes the precision check whatever the mean."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep its usage line
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _batch_options(p: argparse.ArgumentParser, default_reps: int) -> None:
    p.add_argument("--replications", type=_positive_int, default=default_reps, help=f"default {default_reps}")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--backend", choices=BACKENDS, default="serial", help="where replications run")
    p.add_argument("--workers", type=_positive_int, default=None, help="processes or Dask workers (default: cores)")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler (with --backend dask)")
    p.add_argument("--out", type=Path, default=None, help="output folder (resumable)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key, e.g. --set teams.north.workers=12",
    )
    p.add_argument(
        "--precision",
        type=float,
        default=0.05,
        help="relative CI half-width to aim for in the replication-count check (default 0.05)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--report", action="store_true", help="also write report.html and figures/ (as ehsim report does)")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ehsim", description="Simulate children's early help services.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    v = sub.add_parser("validate", help="check a scenario file; exit 0 if valid, 2 with errors")
    v.add_argument("config", type=Path)
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    r = sub.add_parser("run", help="run replications of a scenario and write their results")
    r.add_argument("config", type=Path)
    _batch_options(r, default_reps=1)
    r.add_argument("--events", action="store_true", help="also write replication 0's event log")
    c = sub.add_parser("compare", help="paired comparison of options against a baseline (common random numbers)")
    c.add_argument("config", type=Path, metavar="BASE")
    c.add_argument("options", type=Path, nargs="+", metavar="OPTION")
    _batch_options(c, default_reps=20)
    s = sub.add_parser("sweep", help="full-factorial parameter sweep")
    s.add_argument("config", type=Path)
    s.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        required=True,
        help="a dotted key and its values, e.g. --vary teams.north.workers=9,11,13 (repeatable)",
    )
    _batch_options(s, default_reps=10)
    cal = sub.add_parser("calibrate", help="fit scenario parameters to reported figures (scipy, common random numbers)")
    cal.add_argument(
        "config", type=Path, metavar="SPEC", help="calibration spec, e.g. configs/sunderland/calibration.yaml"
    )
    cal.add_argument("--replications", type=_positive_int, default=None, help="per evaluation (default: the spec's)")
    cal.add_argument("--max-evaluations", type=_positive_int, default=None, help="default: the spec's")
    cal.add_argument("--backend", choices=BACKENDS, default="serial")
    cal.add_argument("--workers", type=_positive_int, default=None)
    cal.add_argument("--out", type=Path, default=None, help="where to write the fitted scenario (default: the spec's)")
    cal.add_argument("--quiet", action="store_true", help="no line per evaluation")
    rp = sub.add_parser("report", help="write a self-contained HTML report (and figures) for a results folder")
    rp.add_argument("config", type=Path, metavar="RESULTS_DIR", help="folder written by ehsim run, compare or sweep")
    return p


def _fmt(value: Any, template: str) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    if value < 0:
        return "-" + template.format(-value)
    return template.format(value + 0.0)  # + 0.0 turns -0.0 into 0.0


class _Bar:
    """A tqdm progress bar on stderr (count, rate, time left), fed by ``progress(done, total)``."""

    def __init__(self, quiet: bool, unit: str = "rep"):
        self._bar: tqdm[Any] | None = None
        self._quiet = quiet
        self._unit = unit

    def __call__(self, done: int, total: int) -> None:
        if self._quiet:
            return
        if self._bar is None:
            self._bar = tqdm(total=total, unit=self._unit, file=sys.stderr, dynamic_ncols=True, initial=done)
        else:
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _with_bar(quiet: bool, fn: Callable[[_Bar], Any]) -> Any:
    bar = _Bar(quiet)
    try:
        return fn(bar)
    finally:
        bar.close()


def _default_out(kind: str, name: str, scenarios: Sequence[Scenario], seed: int) -> Path:
    tag = (
        scenario_fingerprint(scenarios[0])[:8]
        if len(scenarios) == 1
        else "-".join(scenario_fingerprint(s)[:4] for s in scenarios)
    )
    return Path("results") / f"{kind}{name}-{tag}-seed{seed}"


def _manifest(args: argparse.Namespace, scenarios: Sequence[Scenario], **extra: Any) -> dict[str, Any]:
    return manifest(
        command=" ".join(["ehsim", *sys.argv[1:]]) if sys.argv[0].endswith(("ehsim", "__main__.py")) else args.command,
        scenarios={s.name: scenario_fingerprint(s) for s in scenarios},
        seed=args.seed,
        replications=args.replications,
        backend=args.backend,
        workers=args.workers,
        overrides=args.overrides,
        cwd=str(Path.cwd()),
        **extra,
    )


def _cmd_validate(args: argparse.Namespace) -> int:
    sc = load_scenario(args.config, args.overrides)
    print(f"{args.config}: valid scenario '{sc.name}'")
    return 0


def _print_summary(batch: BatchResult) -> None:
    summ = batch.summary.set_index("kpi")
    width = max(len(label) for _, label, _ in HEADLINE_KPIS)
    n = len(batch.replications)
    print(f"  {'':<{width}}  {'mean':>14}" + (f"  {'95% CI':>27}" if n > 1 else ""))
    for key, label, template in HEADLINE_KPIS:
        if key not in summ.index:
            continue
        row = summ.loc[key]
        line = f"  {label:<{width}}  {_fmt(row['mean'], template):>14}"
        if n > 1:
            line += f"  {_fmt(row['ci_low'], template):>13} - {_fmt(row['ci_high'], template):<11}"
        print(line)


def _diagnostics(batch: BatchResult, precision: float) -> dict[str, Any]:
    """Replication-count check and warm-up suggestion; prints warnings to stderr."""
    sc = batch.scenario
    kpis = [k for k in PRECISION_KPIS if k in batch.replications.columns]
    need = replications_needed(batch.replications, kpis, rel_precision=precision)
    summ = batch.summary.set_index("kpi")
    # a KPI near zero (a wait of a few hours) cannot reach a relative precision; half a unit
    # (half a day, half a family, 50p) is precise enough for any decision
    need["sufficient"] = need["sufficient"] | (summ.loc[need["kpi"], "half_width"].to_numpy() <= ABSOLUTE_ENOUGH)
    for rec in need[~need["sufficient"] & need["n_needed"].notna()].to_dict(orient="records"):
        print(
            f"warning: {rec['kpi']}: {rec['n_now']} replication(s) give a 95% CI of +/-{rec['rel_half_width_now']:.1%} "
            f"of the mean; about {int(rec['n_needed'])} are needed for +/-{precision:.0%}",
            file=sys.stderr,
        )
    if len(batch.replications) < 2:
        print("warning: one replication gives no confidence interval; use --replications 10 or more", file=sys.stderr)
    warm = suggest_warmup(batch.series, WARMUP_MEASURE) if WARMUP_MEASURE in batch.series else {}
    if warm:
        print(
            f"Warm-up check (MSER-5 on monthly open Level 3 plans, mean of {len(batch.replications)} replication(s)): "
            f"suggests {warm['warmup_days']:.0f} days; the scenario uses {sc.run.warmup_days:.0f}."
        )
    return {
        "precision": precision,
        "replications_needed": need.to_dict(orient="records"),
        "warmup": warm,
        "warmup_days_configured": sc.run.warmup_days,
    }


def _write_batch(out: Path, batch: BatchResult) -> None:
    write_text(out / "config.resolved.yaml", scenario_to_yaml(batch.scenario))
    write_parquet(out / "replications.parquet", batch.replications)
    write_csv(out / "summary.csv", batch.summary)
    write_parquet(out / "series.parquet", batch.series)


def _cmd_run(args: argparse.Namespace) -> int:
    sc = load_scenario(args.config, args.overrides)
    out = args.out or _default_out("", sc.name, [sc], args.seed)
    batch = _with_bar(
        args.quiet,
        lambda bar: run_batch(
            sc,
            args.replications,
            args.seed,
            args.backend,
            args.workers,
            scheduler=args.scheduler,
            out=out,
            progress=bar,
        ),
    )
    _write_batch(out, batch)
    if args.events or args.replications == 1:
        write_parquet(out / "events.parquet", run_replication(sc, rep=0, seed=args.seed).events)
    diag = _diagnostics(batch, args.precision)
    write_json(out / "diagnostics.json", diag)
    write_json(
        out / "manifest.json",
        _manifest(
            args,
            [sc],
            config=str(args.config),
            scenario_files={sc.name: str(args.config.resolve())},
            resumed=batch.resumed,
        ),
    )
    days = sc.run.duration_days - sc.run.warmup_days
    print(
        f"Scenario '{sc.name}', seed {args.seed}, {args.replications} replication(s): "
        f"{days:,.0f} days after a {sc.run.warmup_days:,.0f}-day warm-up"
        + (f" ({batch.resumed} resumed from {out})" if batch.resumed else "")
    )
    _print_summary(batch)
    print(f"Results written to {out}/")
    _maybe_report(args, out)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    base = load_scenario(args.config, args.overrides)
    options = [load_scenario(path, args.overrides) for path in args.options]
    out = args.out or _default_out("compare-", base.name, [base, *options], args.seed)
    res = _with_bar(
        args.quiet,
        lambda bar: compare(
            base,
            options,
            args.replications,
            args.seed,
            args.backend,
            args.workers,
            scheduler=args.scheduler,
            out=out,
            progress=bar,
        ),
    )
    write_parquet(out / "replications.parquet", res.replications)
    summary = pd.concat([b.summary.assign(scenario=name) for name, b in res.batches.items()], ignore_index=True)
    write_csv(out / "summary.csv", summary[["scenario", *[c for c in summary.columns if c != "scenario"]]])
    write_parquet(
        out / "series.parquet",
        pd.concat([b.series.assign(scenario=name) for name, b in res.batches.items()], ignore_index=True),
    )
    write_csv(out / "differences.csv", res.differences)
    for name, b in res.batches.items():
        write_text(out / name / "config.resolved.yaml", scenario_to_yaml(b.scenario))
    write_json(
        out / "manifest.json",
        _manifest(
            args,
            [b.scenario for b in res.batches.values()],
            base=str(args.config),
            options=[str(p) for p in args.options],
            scenario_files={name: str(path.resolve()) for name, path in zip(res.batches, [args.config, *args.options])},
        ),
    )
    print(f"Paired differences (option - {res.base}), {args.replications} replications with common random numbers:")
    d = res.differences.set_index(["option", "kpi"])
    for option in res.differences["option"].unique():
        print(f"  {option}:")
        for key, label, template in HEADLINE_KPIS:
            if (option, key) not in d.index:
                continue
            row = d.loc[(option, key)]
            mark = "*" if row["distinguishable"] else " "
            print(
                f"   {mark} {label:<46} {_fmt(row['base_mean'], template):>12} -> "
                f"{_fmt(row['option_mean'], template):>12}"
                f"   diff {_fmt(row['diff_mean'], template)} (95% CI {_fmt(row['ci_low'], template)} to "
                f"{_fmt(row['ci_high'], template)})"
            )
    print("  * the 95% CI of the difference excludes 0")
    print(f"Results written to {out}/")
    _maybe_report(args, out)
    return 0


def _parse_vary(items: list[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise ScenarioError([f"--vary {item!r}: expected KEY=V1,V2,... e.g. teams.north.workers=9,11,13"])
        grid[key.strip()] = [yaml.safe_load(v) for v in values.split(",")]
    return grid


def _cmd_sweep(args: argparse.Namespace) -> int:
    sc = load_scenario(args.config, args.overrides)
    grid = _parse_vary(args.vary)
    out = args.out or _default_out("sweep-", sc.name, [sc], args.seed)
    table = _with_bar(
        args.quiet,
        lambda bar: sweep(
            sc,
            grid,
            args.replications,
            args.seed,
            args.backend,
            args.workers,
            scheduler=args.scheduler,
            out=out,
            progress=bar,
        ),
    )
    write_parquet(out / "replications.parquet", table)
    keys = list(grid)
    summary = pd.concat(
        [
            summarise(g).assign(**dict(zip(keys, combo if isinstance(combo, tuple) else (combo,))))
            for combo, g in table.groupby(keys, sort=False)
        ],
        ignore_index=True,
    )
    write_csv(out / "summary.csv", summary[[*keys, *[c for c in summary.columns if c not in keys]]])
    write_json(
        out / "manifest.json",
        _manifest(args, [sc], config=str(args.config), scenario_files={sc.name: str(args.config.resolve())}, grid=grid),
    )
    means = table.groupby(keys, sort=False)[[k for k, _, _ in HEADLINE_KPIS if k in table.columns]].mean()
    print(f"Sweep of {', '.join(keys)}: mean of {args.replications} replications per combination")
    print(means.to_string(float_format=lambda x: f"{x:,.1f}" if math.isfinite(x) else "n/a"))
    print(f"Results written to {out}/")
    _maybe_report(args, out)
    return 0


def _maybe_report(args: argparse.Namespace, out: Path) -> None:
    """``--report``: write the HTML report of the results just written."""
    if getattr(args, "report", False):
        from sim.report import make_report  # imports matplotlib: only when asked for

        print(f"Report written to {make_report(out)}")


def _cmd_report(args: argparse.Namespace) -> int:
    from sim.report import make_report  # imports matplotlib: only when asked for

    print(f"Report written to {make_report(args.config)}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    def say(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr)

    res = calibrate(
        args.config,
        replications=args.replications,
        max_evaluations=args.max_evaluations,
        backend=args.backend,
        workers=args.workers,
        output=args.out,
        report=say,
    )
    print(f"Calibration of {args.config}: {res.evaluations} evaluations, objective {res.objective:.5f}")
    print("Fitted parameters:")
    for name, value in res.parameters.items():
        print(f"  {name:<50} {value:,.6g}")
    print("Targets (model mean and 95% CI over the spec's replications):")
    for row in res.fit.to_dict(orient="records"):
        mark = "ok " if row["within"] else "OFF"
        print(
            f"  {mark} {row['target']:<28} reported {row['reported']:>10,.4g}  model {row['model_mean']:>10,.4g} "
            f"({row['ci_low']:,.4g} to {row['ci_high']:,.4g})  error {row['relative_error']:+.1%} "
            f"(tolerance {row['tolerance']:.0%})  {row['source']}"
        )
    print(f"Fitted scenario written to {res.output}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": _cmd_validate,
    "run": _cmd_run,
    "compare": _cmd_compare,
    "sweep": _cmd_sweep,
    "report": _cmd_report,
    "calibrate": _cmd_calibrate,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except EhsimError as exc:
        print(f"error: {getattr(args, 'config', '')}: cannot {args.command}", file=sys.stderr)
        for line in exc.messages:
            print(f"  {line}", file=sys.stderr)
        return EXIT_BAD_INPUT

"""The ``ehsim`` command (also ``python -m sim``). Thin: parses arguments, calls the library,
prints. Bad input exits with code 2 and one field-named message per problem."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
from tqdm import tqdm

from sim import __version__, errors
from sim import kpis as K
from sim import results as R
from sim.arguments import check_batch_args
from sim.backends import BACKENDS, ctrl_c_kept, raise_if_interrupted
from sim.calibrate import calibrate
from sim.config import Scenario, load_scenario, parse_override, scenario_warnings
from sim.errors import ArgumentError, EhsimError, FileError, OverrideError, ScenarioError, ScenarioErrors
from sim.experiment import (
    compare,
    compare_job,
    locality_hook,
    run_batch,
    run_job,
    sweep,
    sweep_job,
    sweep_variants,
    window_problems,
)
from sim.present import console
from sim.present.data import budget_of, in_scenarios, large_changes
from sim.present.format import fmt_kpi
from sim.present.robustness import INTERVAL_MEANS, design_text, statements
from sim.uncertainty import load_spec, run_uncertainty, uncertainty_job
from sim.uncertainty.analyse import few_points_warning, few_samples_warning
from sim.uncertainty.sample import METHODS, check_design_args

EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 141
"""Exit code when the reader of stdout went away: 128 + SIGPIPE, as a shell reports a command killed by it."""
RESUMABLE = frozenset({"run", "compare", "sweep", "uncertainty"})
"""Commands whose finished replications are checkpointed, so a rerun resumes them."""
FLAGS = {
    "replications": "--replications",
    "seed": "--seed",
    "backend": "--backend",
    "workers": "--workers",
    "scheduler": "--scheduler",
    "precision": "--precision",
    "grid": "--vary",
    "overrides": "--set",
    "options": "OPTION",
    "samples": "--samples",
    "method": "--method",
    "output": "--out",
}
"""Library argument name -> the flag a user typed, for error messages."""
SET_HELP = "override a scenario key, e.g. --set teams.washington.workers=7 (repeatable)"


class _Parser(argparse.ArgumentParser):
    commands: Mapping[str, argparse.ArgumentParser]
    """The top-level parser's subcommand name -> its parser (set by :func:`_parser`)."""

    def error(self, message: str) -> NoReturn:
        """One line naming the argument and one pointing to the command's help; exit 2 (as argparse)."""
        print(f"error: {message}\nsee {self.prog} --help", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _whole_int(text: str) -> int:
    """A whole number; its range is checked with the other arguments, so each bad one gets its line."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def _positive_int(text: str) -> int:
    value = _whole_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _batch_options(p: argparse.ArgumentParser, default_reps: int) -> None:
    p.add_argument("--replications", type=_whole_int, default=default_reps, help=f"default {default_reps}")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--backend", choices=BACKENDS, default="serial", help="where replications run")
    p.add_argument("--workers", type=_whole_int, default=None, help="processes or Dask workers (default: cores)")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler (with --backend dask)")
    p.add_argument("--out", type=Path, default=None, help="output folder (resumable)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP)
    p.add_argument(
        "--precision",
        type=float,
        default=0.05,
        help="relative CI half-width to aim for in the replication-count check (default 0.05)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--force", action="store_true", help="run even if the estimated work is beyond the limits")
    p.add_argument(
        "--by-locality", action="store_true", help="also KPIs per locality (waits, withdrawals, step-ups, care)"
    )
    p.add_argument("--report", action="store_true", help="also write report.html and figures/ (as ehsim report does)")


def script_args(
    argv: Sequence[str],
    doc: str | None,
    script: str,
    out: Path,
    default_reps: int = 20,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> argparse.Namespace:
    """Parse the command line of an experiment script that runs ``ehsim compare`` on scenarios
    of its own: ``--help`` shows the script's docstring and compare's options (which the
    script passes on); ``args.out`` is the folder the script is to give compare's ``--out``
    (``out`` unless the user gave one), so it reads back what compare wrote there.

    Parameters
    ----------
    argv
        The script's arguments (``sys.argv[1:]``).
    doc
        The script's docstring: its help text.
    script
        The script's ``__file__`` (its usage line names it).
    out
        The default results folder.
    default_reps
        The replications the script runs by default (shown in the help).
    parents
        Parsers holding the script's own options (``add_help=False``).
    """
    p = _Parser(
        prog=f"python experiments/{Path(script).name}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=list(parents),
    )
    _batch_options(p, default_reps)
    p.set_defaults(out=out)
    shown = out.relative_to(Path(script).resolve().parents[1]) if out.is_absolute() else out
    next(a for a in p._actions if a.dest == "out").help = f"results folder (default {shown})"
    return p.parse_args(argv)


def _parser() -> _Parser:
    p = _Parser(prog="ehsim", description="Simulate children's early help services.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    v = sub.add_parser("validate", help="check a scenario file; exit 0 if valid, 2 with errors")
    v.add_argument("config", type=Path, help="scenario file, e.g. configs/baseline.yaml")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP)
    kp = sub.add_parser("kpis", help="print the data dictionary: every KPI a scenario produces")
    kp.add_argument(
        "config",
        type=Path,
        nargs="?",
        default=Path("configs/baseline.yaml"),
        help="scenario file (default %(default)s)",
    )
    kp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP)
    kp.add_argument(
        "--format",
        choices=("table", "csv"),
        default="table",
        help="table to read, csv for a spreadsheet (default %(default)s)",
    )
    r = sub.add_parser("run", help="run replications of a scenario and write their results")
    r.add_argument("config", type=Path, help="scenario file, e.g. configs/baseline.yaml")
    _batch_options(r, default_reps=1)
    r.add_argument("--events", action="store_true", help="also write replication 0's event log")
    c = sub.add_parser("compare", help="paired comparison of options against a baseline (common random numbers)")
    c.add_argument("config", type=Path, metavar="BASE", help="the baseline scenario file")
    c.add_argument("options", type=Path, nargs="+", metavar="OPTION", help="option scenario files to compare with it")
    _batch_options(c, default_reps=20)
    c.add_argument("--events", action="store_true", help="also write replication 0's event log of each scenario")
    s = sub.add_parser("sweep", help="full-factorial parameter sweep")
    s.add_argument("config", type=Path, help="scenario file to vary")
    s.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        required=True,
        help="a dotted key and its values, e.g. --vary teams.washington.workers=5,6,7 (repeatable)",
    )
    _batch_options(s, default_reps=10)
    cal = sub.add_parser("calibrate", help="fit scenario parameters to reported figures (scipy, common random numbers)")
    cal.add_argument(
        "config", type=Path, metavar="SPEC", help="calibration spec, e.g. configs/sunderland/calibration.yaml"
    )
    cal.add_argument("--replications", type=_positive_int, default=None, help="per evaluation (default: the spec's)")
    cal.add_argument("--max-evaluations", type=_positive_int, default=None, help="default: the spec's")
    cal.add_argument("--backend", choices=BACKENDS, default="serial", help="where replications run")
    cal.add_argument("--workers", type=_positive_int, default=None, help="processes or Dask workers (default: cores)")
    cal.add_argument("--out", type=Path, default=None, help="where to write the fitted scenario (default: the spec's)")
    cal.add_argument("--quiet", action="store_true", help="no line per evaluation")
    cal.add_argument("--force", action="store_true", help="write over the output file if it exists (refused otherwise)")
    u = sub.add_parser(
        "uncertainty", help="probabilistic sensitivity analysis: sensitivity indices and robustness of a decision"
    )
    u.add_argument("config", type=Path, metavar="SPEC", help="uncertainty spec, e.g. configs/uncertainty/kirklees.yaml")
    u.add_argument(
        "--samples",
        type=_whole_int,  # its range is check_design_args' (one rule with the library's)
        default=10,
        help="Morris trajectories, Sobol base sample (a power of two) or LHS points (default 10)",
    )
    u.add_argument("--method", choices=METHODS, default="morris", help="design and indices (default morris)")
    u.add_argument("--replications", type=_whole_int, default=2, help="per sample and scenario (default 2)")
    u.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    u.add_argument("--backend", choices=BACKENDS, default="serial", help="where replications run")
    u.add_argument("--workers", type=_whole_int, default=None, help="processes or Dask workers (default: cores)")
    u.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler (with --backend dask)")
    u.add_argument("--out", type=Path, default=None, help="output folder (resumable)")
    u.add_argument("--quiet", action="store_true", help="no progress bar")
    u.add_argument("--force", action="store_true", help="run even if the estimated work is beyond the limits")
    u.add_argument("--report", action="store_true", help="also write report.html and figures/ (as ehsim report does)")
    rp = sub.add_parser("report", help="write a self-contained HTML report (and figures) for a results folder")
    rp.add_argument("config", type=Path, metavar="RESULTS_DIR", help=f"folder written by {R.WRITERS}")
    p.commands = sub.choices
    return p


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv``; an argument the command does not take is refused by that command's
    parser (so the hint names its help, not the top-level one)."""
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


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


def _out(args: argparse.Namespace, job: dict[str, Any]) -> Path:
    """``--out``, or ``results/<kind>-<scenario>-seed<S>`` (``-2``, ``-3``... when that
    folder holds another job, e.g. after the scenario file changed, or more replications of
    this one than asked: never mixed, nothing dropped)."""
    if args.out is not None:
        return Path(args.out)
    name = next(iter(job["scenarios"]))
    return R.default_folder(Path("results") / f"{job['kind']}-{name}-seed{args.seed}", job, args.replications)


def _batch(args: argparse.Namespace, bar: _Bar, out: Path, files: dict[str, Path]) -> dict[str, Any]:
    """The keyword arguments every batch command passes to the library."""
    return {
        "backend": args.backend,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "out": out,
        "progress": bar,
        "hook": locality_hook if args.by_locality else None,
        "force": args.force,
        "meta": _meta(args, files),
    }


def _meta(args: argparse.Namespace, files: dict[str, Path]) -> dict[str, Any]:
    return {
        "command": " ".join(["ehsim", *sys.argv[1:]])
        if sys.argv[0].endswith(("ehsim", "__main__.py"))
        else args.command,
        "overrides": args.overrides,
        "scenario_files": {name: str(path) for name, path in files.items()},
        "cwd": str(Path.cwd()),
    }


def _print_diagnostics(saved: R.Results, scenarios: Sequence[str], replications: int) -> None:
    """Print each scenario's checks (:func:`sim.present.console.diagnostics_lines`): warnings to
    stderr, the warm-up check to stdout."""
    for warning, line in console.diagnostics_lines(saved, scenarios, replications):
        print(line, file=sys.stderr if warning else sys.stdout)


def _cmd_validate(args: argparse.Namespace) -> int:
    sc = load_scenario(args.config, args.overrides)
    print(f"{args.config}: valid scenario '{sc.name}'")
    for line in scenario_warnings(sc):
        print(f"warning: {line}", file=sys.stderr)
    return 0


def _cmd_kpis(args: argparse.Namespace) -> int:
    sc = load_scenario(args.config, args.overrides)
    table = pd.DataFrame(K.dictionary_rows(K.catalogue(sc).values()))
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
        return 0
    print(f"KPIs of scenario '{sc.name}' ({len(table)}): the columns of replications.parquet after scenario, rep, seed")
    for row in table.to_dict(orient="records"):
        print(f"{row['name']}  [{row['unit']}]  {row['label']}\n    {row['definition']}")
    return 0


def _resumed(count: int, out: Path) -> str:
    """What a command's first line adds when it resumed: `` (3 resumed from results/x)``."""
    return f" ({count} resumed from {out})" if count else ""


def _cmd_run(args: argparse.Namespace) -> int:
    sc = load_scenario(args.config, args.overrides)
    check_batch_args(args.replications, args.seed, args.backend, args.workers, args.scheduler, args.precision)
    out = _out(args, run_job(sc, args.seed))
    batch = _with_bar(
        args.quiet,
        lambda bar: run_batch(
            sc,
            args.replications,
            args.seed,
            events=args.events or args.replications == 1,
            precision=args.precision,
            **_batch(args, bar, out, {sc.name: args.config}),
        ),
    )
    days = sc.run.duration_days - sc.run.warmup_days
    print(
        f"Scenario '{sc.name}', seed {args.seed}, {args.replications} replication(s): "
        f"{days:,.0f} days after a {sc.run.warmup_days:,.0f}-day warm-up" + _resumed(batch.resumed, out)
    )
    window = sc.run.duration_days - sc.run.warmup_days
    saved = R.read(out)  # once: the stages the scenario has, the locality tables and the checks
    headline = in_scenarios(saved, K.HEADLINE)  # no row for the wait at a panel the scenario does not have
    for line in console.summary_lines(batch.summary, headline, window, len(batch.replications)):
        print(line)
    if args.by_locality:
        print("By locality:")
        for line in console.locality_summary_lines(saved, K.BY_LOCALITY):
            print(line)
    _print_diagnostics(saved, [sc.name], args.replications)
    print(f"Results written to {out}/")
    _maybe_report(args, out)
    return 0


def _load_named(path: Path, overrides: list[str]) -> Scenario:
    """:func:`load_scenario`, its errors naming ``path`` (for commands reading several files).
    A problem an override brings is the override's (an :class:`OverrideError`), not the file's."""
    try:
        return load_scenario(path, overrides)
    except (OverrideError, FileError):
        raise
    except ScenarioError as exc:
        raise FileError([f"{path}: {line}" for line in exc.messages]) from None


def _load_every(config: Path, options: list[Path], overrides: list[str]) -> list[Scenario]:
    """:func:`_load_named` of the baseline ``config`` and each option, every file checked before
    any work: an error gives every file's problems, a line each, not the first bad file's alone.
    An override's problem with an option says which file it was applied to, and one it has with
    the baseline too is said once, for the baseline. The error is an :class:`OverrideError` or a
    :class:`FileError` as the problems are, or a :class:`ScenarioErrors` of both in file order."""
    loaded: list[Scenario] = []
    errors: list[OverrideError | FileError] = []
    baseline: list[tuple[tuple[str, ...], str]] = []  # the override's problems with the baseline
    for i, path in enumerate([config, *options]):
        try:
            loaded.append(_load_named(path, overrides))
        except OverrideError as exc:
            if i == 0:
                baseline = exc.problems
                errors.append(exc)
            elif own := [(s, f"{p} (applied to {path})") for s, p in exc.problems if (s, p) not in baseline]:
                errors.append(OverrideError(exc.argument, own))
        except FileError as exc:
            errors.append(exc)
    if not errors:
        return loaded
    if len(said := [e for e in errors if isinstance(e, OverrideError)]) == len(errors):
        raise OverrideError(said[0].argument, [pair for e in said for pair in e.problems])
    if not said:
        raise FileError([line for e in errors for line in e.messages])
    raise ScenarioErrors(errors)


def _cmd_compare(args: argparse.Namespace) -> int:
    base, *options = _load_every(args.config, args.options, args.overrides)
    if problems := window_problems(base, options):  # the option's file has the problem, not the baseline's
        raise FileError([f"{args.options[i]}: {problem}" for i, problem in problems.items()])
    check_batch_args(args.replications, args.seed, args.backend, args.workers, args.scheduler, args.precision)
    out = _out(args, compare_job([base, *options], args.seed))
    files = dict(zip([s.name for s in (base, *options)], [args.config, *args.options]))
    res = _with_bar(
        args.quiet,
        lambda bar: compare(
            base,
            options,
            args.replications,
            args.seed,
            precision=args.precision,
            events=args.events,
            **_batch(args, bar, out, files),
        ),
    )
    window = base.run.duration_days - base.run.warmup_days
    saved = R.read(out)  # once: what each option changes, the locality tables and the checks
    for line in console.change_lines(saved):
        print(line)
    resumed = _resumed(sum(b.resumed for b in res.batches.values()), out)
    reps = f"{args.replications} replications with common random numbers"
    print(f"Paired differences (option - {res.base}), {reps}{resumed}:")
    shown: list[str] = []
    for option in res.differences["option"].unique():
        print(f"  {option}:")
        headline = in_scenarios(saved, K.HEADLINE, [res.base, str(option)])  # a stage either has
        headline += large_changes(saved, str(option), [k.name for k in headline])  # as the report's summary
        shown += [k.name for k in headline]
        for line in console.difference_lines(res.differences, headline, window, option):
            print(line)
    if args.by_locality:
        for option in res.differences["option"].unique():
            print(f"By locality, {option} - {res.base}:")
            for line in console.locality_lines(saved, option, K.BY_LOCALITY):
                print(line)
    shown += console.locality_names(saved, K.BY_LOCALITY) if args.by_locality else []
    for line in console.clear_note(res.differences, shown, res.differences["option"].astype(str).unique()):
        print(line)
    if any(budget_of(saved, s) for s in saved.scenarios):  # the budget covers early help only
        print("Early help cost a year against each scenario's budget (its average over the results window):")
        for line in console.envelope_lines(saved):
            print(line)
    _print_diagnostics(saved, list(res.batches), args.replications)
    print(f"Results written to {out}/")
    _maybe_report(args, out)
    return 0


def _parse_vary(sc: Scenario, items: list[str]) -> dict[str, list[Any]]:
    """``--vary KEY=V1,V2,...`` as a grid. Every item and value is checked, and every problem
    raised together (one line each, naming its ``--vary``): a malformed item, a key given
    twice, a value that is not YAML, and what the values that parse bring to the scenario."""
    grid: dict[str, list[Any]] = {}
    problems: list[tuple[tuple[str, ...], str]] = []
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            problems.append(((repr(item),), "expected KEY=V1,V2,... e.g. teams.washington.workers=5,6,7"))
        elif key in grid:
            problems.append(((key,), "is given twice; give each key once with all its values"))
        else:
            grid[key] = []
            for v in values.split(","):
                try:
                    grid[key].append(parse_override(f"{key}={v}")[1])
                except OverrideError as exc:
                    problems += exc.problems
    if problems:  # else sweep() checks the values against the scenario, once
        problems += sweep_variants(sc, {k: v for k, v in grid.items() if v})[1]
        raise OverrideError("grid", problems)
    return grid


def _cmd_sweep(args: argparse.Namespace) -> int:
    sc = load_scenario(args.config, args.overrides)
    grid = _parse_vary(sc, args.vary)
    check_batch_args(args.replications, args.seed, args.backend, args.workers, args.scheduler, args.precision)
    out = _out(args, sweep_job(sc, grid, args.seed))
    res = _with_bar(
        args.quiet,
        lambda bar: sweep(sc, grid, args.replications, args.seed, **_batch(args, bar, out, {sc.name: args.config})),
    )
    window = sc.run.duration_days - sc.run.warmup_days
    shown = [res.kpis[k.name] for k in K.SWEEP if k.name in res.kpis]
    means = res.summary[res.summary["kpi"].isin([k.name for k in shown])]
    table = means.pivot_table(index=res.keys, columns="kpi", values="mean", sort=False)
    print(
        f"Sweep of {', '.join(res.keys)}: mean of {args.replications} replications per combination"
        + _resumed(res.resumed, out)
    )
    for k in shown:
        if k.name in table.columns:
            table[k.name] = [fmt_kpi(v, k, window) for v in table[k.name]]
    print(table.rename(columns={k.name: console.label(k) for k in shown}).to_string())
    if args.by_locality:
        print(
            f"By locality: each combination's KPIs per locality and deprivation group are rows of {out / R.SUMMARY} "
            f"({out / R.KPIS} names each one's place in its group column); the report's 'By locality' section "
            "tabulates them."
        )
    saved = R.read(out)
    _print_diagnostics(saved, list(saved.diagnostics), args.replications)  # quarantined checkpoints only
    print(f"Results written to {out}/")
    _maybe_report(args, out)
    return 0


def _maybe_report(args: argparse.Namespace, out: Path) -> None:
    """``--report``: write the HTML report of the results just written."""
    if getattr(args, "report", False):
        from sim.present.report import make_report  # imports matplotlib: only when asked for

        print(f"Report written to {make_report(out)}")


def _cmd_report(args: argparse.Namespace) -> int:
    from sim.present.report import make_report  # imports matplotlib: only when asked for

    print(f"Report written to {make_report(args.config)}")
    return 0


def _cmd_uncertainty(args: argparse.Namespace) -> int:
    loaded = load_spec(args.config)
    check_batch_args(args.replications, args.seed, args.backend, args.workers, args.scheduler)
    check_design_args(args.method, args.samples, len(loaded.parameters))
    few = few_points_warning(args.method, args.samples, len(loaded.parameters))
    if few:
        print(f"warning: {few}", file=sys.stderr)
    job = uncertainty_job(loaded, args.method, args.samples, args.seed)
    out = (
        Path(args.out)
        if args.out is not None
        else R.default_folder(
            Path("results") / f"uncertainty-{args.config.stem}-seed{args.seed}", job, args.replications
        )
    )
    meta = {
        "command": " ".join(["ehsim", *sys.argv[1:]])
        if sys.argv[0].endswith(("ehsim", "__main__.py"))
        else "uncertainty",
        "scenario_files": {name: str(path) for name, path in loaded.files().items()},
        "cwd": str(Path.cwd()),
    }
    res = _with_bar(
        args.quiet,
        lambda bar: run_uncertainty(
            loaded,
            args.samples,
            args.replications,
            args.method,
            args.seed,
            args.backend,
            args.workers,
            scheduler=args.scheduler,
            out=out,
            progress=bar,
            force=args.force,
            meta=meta,
        ),
    )
    base = loaded.base
    window = base.run.duration_days - base.run.warmup_days
    points = len(res.parameters)
    print(
        f"Uncertainty analysis of {args.config} ({args.method}): {points} "
        f"{design_text(args.method, args.samples, len(loaded.parameters))} x "
        f"{len(loaded.scenarios)} scenario(s) x {args.replications} replication(s) with common random numbers"
        + _resumed(res.resumed, out)
    )
    options = [o.name for o in loaded.options]
    kpis = list(loaded.spec.kpis)
    said = statements(
        res.robustness,
        res.sensitivity,
        args.method,
        base.name,
        options,
        kpis,
        res.kpis,
        window,
        replications=res.replications,
        samples=args.samples,
    )
    for line in said:
        print(f"  * {line}")
    if options:
        print(f"  {INTERVAL_MEANS}")
    degenerate = few_samples_warning(args.method, args.samples)  # beside the intervals it is about
    if degenerate:
        print(f"warning: {degenerate}", file=sys.stderr)
    _print_diagnostics(R.read(out), [sc.name for sc in loaded.scenarios], args.replications)
    print(f"Results written to {out}/")
    _maybe_report(args, out)
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
        force=args.force,
        report=say,
    )
    print(f"Calibration of {args.config}: {res.evaluations} evaluations, objective {res.objective:.5f}")
    print("Fitted parameters:")
    for name, value in res.parameters.items():
        print(f"  {name:<50} {value:,.6g}")
    print(
        f"Targets (model mean and 95% CI over {res.replications} replications):"
        if res.replications > 1
        else "Targets (model value from one replication: no interval):"
    )
    for row in res.fit.to_dict(orient="records"):
        mark = "ok " if row["within"] else "OFF"
        interval = f" ({row['ci_low']:,.4g} to {row['ci_high']:,.4g})" if row["n"] > 1 else ""
        print(
            f"  {mark} {row['target']:<28} reported {row['reported']:>10,.4g}  model {row['model_mean']:>10,.4g}"
            f"{interval}  error {row['relative_error']:+.1%} (tolerance {row['tolerance']:.0%})  {row['source']}"
        )
    print(f"Fitted scenario written to {res.output}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": _cmd_validate,
    "kpis": _cmd_kpis,
    "run": _cmd_run,
    "compare": _cmd_compare,
    "sweep": _cmd_sweep,
    "report": _cmd_report,
    "calibrate": _cmd_calibrate,
    "uncertainty": _cmd_uncertainty,
}


def _error_lines(exc: EhsimError, config: Path | None) -> list[str]:
    """``exc``'s lines as the CLI says them, each naming its field or argument: an override's
    problem after the flag typed, not the file's; a scenario's problem after ``config`` unless
    the line starts with its file already (:class:`FileError`); several kinds, each as its own."""
    if isinstance(exc, ScenarioErrors):
        return [line for error in exc.errors for line in _error_lines(error, config)]
    if isinstance(exc, OverrideError):
        return exc.lines(FLAGS.get(exc.argument, exc.argument))
    unnamed = isinstance(exc, ScenarioError) and not isinstance(exc, FileError)
    where = f"{config}: " if unnamed and config else ""
    return [f"{where}{line}" for line in exc.messages]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        with ctrl_c_kept():  # a Ctrl-C that Python swallowed still interrupts
            code = COMMANDS[args.command](args)
            sys.stdout.flush()  # here, so a closed pipe is caught below, not at interpreter exit
            raise_if_interrupted()
        return code
    except KeyboardInterrupt:  # Ctrl-C: no traceback; what was finished is kept
        again = " (the replications finished so far are kept: run the same command again to resume)"
        print(f"\ninterrupted{again if args.command in RESUMABLE else ''}", file=sys.stderr)
        return errors.EXIT_INTERRUPTED
    except BrokenPipeError:  # stdout closed early (`ehsim kpis | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail again
        return EXIT_BROKEN_PIPE
    except ArgumentError as exc:
        for argument, problem in exc.problems:  # one line per bad argument, named by its flag
            print(f"error: {FLAGS.get(argument, argument)}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except EhsimError as exc:
        for line in _error_lines(exc, getattr(args, "config", None)):  # one line per problem
            print(f"error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT

"""The planners' what-if report: one self-contained HTML file from a results folder.

:func:`make_report` reads what ``ehsim run | compare | sweep`` wrote (``replications.parquet``,
``summary.csv``, ``differences.csv``, ``series.parquet``, ``diagnostics.json``,
``manifest.json``, ``config.resolved.yaml``) and writes

* ``report.html``: a plain-English summary generated from the numbers, the scenario's
  assumptions and their sources (read from the comments of the original scenario files),
  the figures (embedded as base64 PNG), KPI tables with 95% confidence intervals, the
  replication-count and warm-up diagnostics and a reproducibility footer;
* ``figures/<name>.png`` and ``figures/<name>.svg`` for slides.

The page loads nothing: no scripts, no external style sheets, fonts or images, and a
Content-Security-Policy that forbids fetching anything but inline ``data:`` images.

Every number in the summary is printed by :func:`sim.plots.fmt_number` (the same helper as
the tables) inside ``<span class="num" data-source=... data-kpi=... data-field=...
data-scale=...>``, naming the CSV cell it came from and the factor applied (per year, or
percent), so a reader or a test can check the text against ``summary.csv`` and
``differences.csv``.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import math
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import yaml
from matplotlib.figure import Figure

from sim import plots
from sim.analysis import replications_needed, suggest_warmup, summarise
from sim.config import ScenarioError, load_raw, parse_override
from sim.io import atomic_write, write_text
from sim.plots import fmt_number, kpi_info

__all__ = [
    "REPORT_NAME",
    "Assumption",
    "FigureSpec",
    "Results",
    "build_figures",
    "load_results",
    "make_report",
    "read_assumptions",
    "summary_items",
]

REPORT_NAME = "report.html"
FIGURES_DIR = "figures"
PRECISION_KPIS = ("wait_level3_mean_days", "step_ups_total", "care_entries", "cost_total_gbp_per_year")
"""KPIs whose confidence-interval precision is checked (as ``ehsim run`` does)."""
ABSOLUTE_ENOUGH = 0.5
"""A CI half-width this small (stored units: half a day, half a family) is precise enough, as in ``ehsim run``."""
WARMUP_MEASURE = "open_level3"
HEADLINE_KPIS = (
    "referrals_total",
    "wait_front_door_mean_days",
    "wait_panel_mean_days",
    "wait_level3_mean_days",
    "wait_level3_p90_days",
    "wait_mst_mean_days",
    "starts_level3",
    "open_level3_mean",
    "closed_outcomes_met",
    "withdrawn_total",
    "step_ups_total",
    "care_entries",
    "cost_total_gbp_per_year",
)
"""KPIs in the headline tables, in order."""
COMPARE_KPIS = (
    "wait_level3_mean_days",
    "wait_panel_mean_days",
    "wait_front_door_mean_days",
    "wait_mst_mean_days",
    "step_ups_total",
    "care_entries",
    "withdrawn_total",
    "cost_total_gbp_per_year",
)
"""KPIs described in a comparison's summary and forest plot."""
SWEEP_KPIS = (
    "wait_level3_mean_days",
    "wait_panel_mean_days",
    "step_ups_total",
    "care_entries",
    "withdrawn_total",
    "cost_total_gbp_per_year",
)
"""KPIs plotted and described for a sweep."""

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


# --------------------------------------------------------------------------- loading
@dataclass
class Results:
    """The tables of one results folder.

    Attributes
    ----------
    folder
        The results folder.
    kind
        ``"run"``, ``"compare"`` or ``"sweep"``.
    scenarios
        Scenario names, the baseline first (a sweep: one per combination).
    summary
        ``summary.csv``; for a run a ``scenario`` column is added.
    series
        ``series.parquet`` (with a ``scenario`` column), or None (sweeps write none).
    configs
        Scenario name -> its resolved scenario mapping (empty if none could be read).
    sweep_keys
        The swept dotted keys (sweep only), in order.
    """

    folder: Path
    kind: str
    manifest: dict[str, Any]
    replications: pd.DataFrame
    summary: pd.DataFrame
    scenarios: list[str]
    differences: pd.DataFrame | None = None
    series: pd.DataFrame | None = None
    diagnostics: dict[str, Any] | None = None
    events: pd.DataFrame | None = None
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    sweep_keys: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        """The baseline scenario's name."""
        return self.scenarios[0]

    @property
    def options(self) -> list[str]:
        """The compared options (compare only), in order."""
        return self.scenarios[1:] if self.kind == "compare" else []

    def config(self, scenario: str | None = None) -> dict[str, Any]:
        """The resolved scenario mapping (the baseline's by default; ``{}`` when unknown)."""
        name = scenario or self.base
        return self.configs.get(name) or self.configs.get(self.base) or {}

    def setting(self, dotted: str, scenario: str | None = None) -> Any:
        """A dotted key of the resolved scenario, or None."""
        node: Any = self.config(scenario)
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def window_days(self, scenario: str | None = None) -> float:
        """Length of the results window (days), from ``summary.csv``."""
        rows = self.summary[self.summary["kpi"] == "window_days"]
        if "scenario" in rows.columns and scenario is not None and (rows["scenario"] == scenario).any():
            rows = rows[rows["scenario"] == scenario]
        return float(rows["mean"].iloc[0]) if len(rows) else float("nan")

    def budget(self, scenario: str | None = None) -> float | None:
        """``costs.budget_gbp_per_year`` of the scenario, if set."""
        value = self.setting("costs.budget_gbp_per_year", scenario)
        return float(value) if isinstance(value, (int, float)) and value > 0 else None


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def load_results(folder: str | Path) -> Results:
    """Read a results folder written by ``ehsim run``, ``compare`` or ``sweep``.

    Parameters
    ----------
    folder : str or pathlib.Path
        The folder (``--out``).

    Returns
    -------
    Results

    Raises
    ------
    ScenarioError
        If the folder does not exist or lacks ``manifest.json``, ``summary.csv`` or
        ``replications.parquet``, or a table cannot be read.
    """
    out = Path(folder)
    if not out.is_dir():
        raise ScenarioError([f"{out}: not a folder; give the results folder of ehsim run, compare or sweep"])
    missing = [n for n in ("manifest.json", "summary.csv", "replications.parquet") if not (out / n).is_file()]
    if missing:
        raise ScenarioError(
            [f"{out}: not an ehsim results folder (missing {', '.join(missing)}); run ehsim run/compare/sweep first"]
        )
    manifest = _read_json(out / "manifest.json")
    if manifest is None:
        raise ScenarioError([f"{out / 'manifest.json'}: not a readable JSON object"])
    try:
        reps = pd.read_parquet(out / "replications.parquet")
        summary = pd.read_csv(out / "summary.csv")
        differences = pd.read_csv(out / "differences.csv") if (out / "differences.csv").is_file() else None
        series = pd.read_parquet(out / "series.parquet") if (out / "series.parquet").is_file() else None
        events = pd.read_parquet(out / "events.parquet") if (out / "events.parquet").is_file() else None
    except (OSError, ValueError) as exc:
        raise ScenarioError([f"{out}: could not read the results tables: {exc}"]) from None
    if "kpi" not in summary.columns or "mean" not in summary.columns or "scenario" not in reps.columns:
        raise ScenarioError([f"{out}: summary.csv or replications.parquet lacks the expected columns"])
    names = [str(s) for s in pd.unique(reps["scenario"].astype(str))]
    if not names:
        raise ScenarioError([f"{out}: replications.parquet has no replications"])
    if differences is not None:
        kind = "compare"
        if "scenario" in summary.columns:
            names = [str(s) for s in pd.unique(summary["scenario"].astype(str))]
    elif "grid" in manifest or list(reps.columns[:1]) != ["scenario"]:
        kind = "sweep"
    else:
        kind = "run"
    if "scenario" not in summary.columns and kind == "run":
        summary.insert(0, "scenario", names[0])
    if series is not None and "scenario" not in series.columns:
        series = series.assign(scenario=names[0])
    res = Results(
        folder=out,
        kind=kind,
        manifest=manifest,
        replications=reps,
        summary=summary,
        scenarios=names,
        differences=differences,
        series=series,
        diagnostics=_read_json(out / "diagnostics.json"),
        events=events,
    )
    if kind == "sweep":
        res.sweep_keys = [str(c) for c in reps.columns[: list(reps.columns).index("scenario")]]
        # the swept scenario's own name (the replications name each combination)
        res.scenarios = [str(next(iter(manifest.get("scenarios") or {}), names[0]))]
    _load_configs(res)
    return res


def _load_configs(res: Results) -> None:
    if res.kind == "run" and (res.folder / "config.resolved.yaml").is_file():
        res.configs[res.base] = _read_yaml(res.folder / "config.resolved.yaml")
    elif res.kind == "compare":
        for name in res.scenarios:
            path = res.folder / name / "config.resolved.yaml"
            if path.is_file():
                res.configs[name] = _read_yaml(path)
    if res.base not in res.configs:  # a sweep, or an older folder: rebuild from the original file
        files = scenario_files(res)
        found = files.get(res.base) or next(iter(files.values()), None)
        if found is not None:
            with contextlib.suppress(ScenarioError):
                res.configs[res.base] = load_raw(found, list(res.manifest.get("overrides") or []))


# --------------------------------------------------------------------------- assumptions
@dataclass(frozen=True)
class Assumption:
    """One commented setting of a scenario file.

    Attributes
    ----------
    key
        Dotted key path (``teams.washington.workers``).
    value
        The value as written (a flow mapping shown as ``workers: 11, caseload_cap: 20``).
    source
        The comment: a source ("Sunderland-EH-2018 para 3.2: ...", a key of docs/sources.md) or ``ASSUMPTION ...``.
    file
        File name it came from.
    line
        Line number in that file.
    """

    key: str
    value: str
    source: str
    file: str
    line: int

    @property
    def is_assumption(self) -> bool:
        """True when the comment marks the number as an assumption rather than a source."""
        return "ASSUMPTION" in self.source.upper()


_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z0-9_.\-]+|\"[^\"]*\"|'[^']*')\s*:(?:\s+(?P<value>.*)|\s*)$")


def _split_comment(line: str) -> tuple[str, str]:
    """Split ``code  # comment`` at the first ``#`` that is outside quotes and after a space."""
    quote: str | None = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def _flat(value: Any, prefix: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out.extend(_flat(v, f"{prefix}.{k}"))
        return out
    return [(prefix, value)]


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_show(v)}" for k, v in value.items())
    return str(value)


def _parse_commented(path: Path) -> tuple[list[tuple[Assumption, str]], str | None, str]:
    """Commented settings of one file (leaf rows with their line's group), its ``extends``
    and its header comment."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rows: list[tuple[Assumption, str]] = []
    stack: list[tuple[int, str]] = []
    block: list[str] = []
    header: list[str] = []
    seen_key = False
    skip_deeper_than: int | None = None
    extends: str | None = None
    for lineno, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if skip_deeper_than is not None:
            if stripped and indent <= skip_deeper_than:
                skip_deeper_than = None
            else:
                continue
        if not stripped:
            block = []
            continue
        if stripped.startswith("#"):
            text = stripped.lstrip("#").strip()
            (block if seen_key else header).append(text)
            continue
        code, comment = _split_comment(raw)
        m = _KEY_LINE.match(code)
        if not m:
            block = []
            continue
        seen_key = True
        key = m.group("key").strip("\"'")
        value = (m.group("value") or "").strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        dotted = ".".join([k for _, k in stack] + [key])
        if not stack and key == "extends":
            extends = value.strip("\"'")
            block = []
            continue
        note = comment or " ".join(block)
        block = []
        if value in ("", "|", ">", "|-", ">-", "|+", ">+"):
            if value:
                skip_deeper_than = indent
            else:
                stack.append((indent, key))
                if comment:  # a commented section header: its source covers what follows
                    rows.append((Assumption(dotted, "", comment, path.name, lineno), f"{path}:{lineno}"))
            continue
        if not note or dotted in ("name", "description"):
            continue
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value
        group = f"{path}:{lineno}"
        for leaf, leaf_value in _flat(parsed, dotted) if isinstance(parsed, dict) else [(dotted, parsed)]:
            rows.append((Assumption(leaf, _show(leaf_value), note, path.name, lineno), group))
    return rows, extends, " ".join(header)


def read_assumptions(path: str | Path, overrides: Sequence[str] = ()) -> tuple[list[Assumption], list[tuple[str, str]]]:
    """Commented settings of a scenario file and the files it ``extends``, child over parent.

    Parameters
    ----------
    path : str or pathlib.Path
        The scenario file as given on the command line.
    overrides : sequence of str
        ``--set KEY=VALUE`` strings; each replaces the setting it names, with the source
        "command line".

    Returns
    -------
    assumptions : list of Assumption
        One row per source line (a flow mapping's surviving keys are joined again), in file
        order, parents first.
    headers : list of (str, str)
        Each file's name and its opening comment (which usually explains the sources).

    Raises
    ------
    OSError
        If a file in the chain cannot be read.
    """
    chain: list[Path] = []
    p = Path(path).resolve()
    while p not in chain:
        chain.append(p)
        _, parent, _ = _parse_commented(p)
        if parent is None:
            break
        p = (p.parent / parent).resolve()
        if not p.is_file():
            break
    leaves: dict[str, tuple[Assumption, str]] = {}
    headers: list[tuple[str, str]] = []
    for f in reversed(chain):  # parents first, children override
        rows, _, header = _parse_commented(f)
        headers.append((f.name, header))
        for row, group in rows:
            for old in [k for k in leaves if k.startswith(row.key + ".")] if row.value else []:
                del leaves[old]  # a scalar replacing a mapping
            leaves[row.key] = (row, group)
    for i, text in enumerate(overrides):
        try:
            key, value = parse_override(text)
        except ScenarioError:
            continue
        for old in [k for k in leaves if k == key or k.startswith(key + ".")]:
            del leaves[old]
        leaves[key] = (Assumption(key, _show(value), "command line: --set " + text, "(command line)", 0), f"set:{i}")
    # regroup leaves from the same source line
    groups: dict[str, list[Assumption]] = {}
    for row, group in leaves.values():
        groups.setdefault(group, []).append(row)
    out: list[Assumption] = []
    for members in groups.values():
        if len(members) == 1:
            out.append(members[0])
            continue
        parts = [r.key.split(".") for r in members]
        common: list[str] = []
        for segs in zip(*parts):
            if len(set(segs)) != 1:
                break
            common.append(segs[0])
        base = ".".join(common)
        value = ", ".join(f"{r.key[len(base) + 1 :]}: {r.value}" for r in members)
        out.append(Assumption(base, value, members[0].source, members[0].file, members[0].line))
    return out, headers


def scenario_files(res: Results) -> dict[str, Path]:
    """Scenario name -> original scenario file, where it can still be found."""
    man = res.manifest
    recorded: dict[str, Any] = dict(man.get("scenario_files") or {})
    if not recorded:
        if res.kind == "compare":
            paths = [man.get("base"), *(man.get("options") or [])]
            recorded = {n: p for n, p in zip(res.scenarios, paths) if p}
        elif man.get("config"):
            recorded = {res.base: man["config"]}
    out: dict[str, Path] = {}
    cwd = Path(str(man.get("cwd", ".")))
    for name, p in recorded.items():
        for cand in (Path(str(p)), cwd / str(p), Path.cwd() / str(p)):
            if cand.is_file():
                out[str(name)] = cand
                break
    return out


# --------------------------------------------------------------------------- numbers in text
def _csv_value(res: Results, source: str, kpi: str, fld: str, scenario: str | None, option: str | None) -> float:
    table = res.differences if source == "differences" else res.summary
    if table is None:
        return float("nan")
    rows = table[table["kpi"] == kpi]
    if option is not None and "option" in rows.columns:
        rows = rows[rows["option"].astype(str) == option]
    if scenario is not None and "scenario" in rows.columns:
        rows = rows[rows["scenario"].astype(str) == scenario]
    if not len(rows) or fld not in rows.columns:
        return float("nan")
    return float(rows[fld].iloc[0])


def _num(
    res: Results,
    kpi: str,
    fld: str,
    *,
    scenario: str | None = None,
    option: str | None = None,
    magnitude: bool = False,
    value: float | None = None,
    where: Mapping[str, Any] | None = None,
) -> str:
    """A number from ``summary.csv`` (or ``differences.csv`` with ``option``), formatted and
    tagged with where it came from."""
    source = "differences" if option is not None else "summary"
    raw = value if value is not None else _csv_value(res, source, kpi, fld, scenario, option)
    scale = plots.display_scale(kpi, res.window_days(scenario or option))
    if fld == "rel_half_width":
        scale, kind = 100.0, "share"
    else:
        kind = kpi_info(kpi).kind
    shown = raw * scale
    if magnitude:
        shown = abs(shown)
    attrs = {
        "source": source,
        "kpi": kpi,
        "field": fld,
        "scale": repr(float(scale)),
        "abs": "1" if magnitude else "0",
    }
    if scenario is not None:
        attrs["scenario"] = scenario
    if option is not None:
        attrs["option"] = option
    if where is not None:
        attrs["where"] = json.dumps(dict(where), default=str)
    data = " ".join(f'data-{k}="{html.escape(str(v))}"' for k, v in attrs.items())
    return f'<span class="num" {data}>{html.escape(fmt_number(shown, kind))}</span>'


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with string keys."""
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")]


def _float(x: Any) -> float:
    """``x`` as a float, NaN when it is not a number."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _write_bytes(path: Path, data: bytes) -> None:
    def write(p: Path) -> None:
        p.write_bytes(data)

    atomic_write(path, write)


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _mean(res: Results, kpi: str, scenario: str | None = None) -> float:
    return _csv_value(res, "summary", kpi, "mean", scenario or res.base, None)


def _ci_text(res: Results, kpi: str, scenario: str) -> str:
    n = _csv_value(res, "summary", kpi, "n", scenario, None)
    if not (n >= 2) or not _finite(_csv_value(res, "summary", kpi, "ci_low", scenario, None)):
        return ""
    lo = _num(res, kpi, "ci_low", scenario=scenario)
    hi = _num(res, kpi, "ci_high", scenario=scenario)
    return f" (95% CI {lo} to {hi})"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- summary: run
def _run_items(res: Results) -> list[str]:
    s = res.base
    n = len(res.replications)
    e = html.escape
    items: list[str] = []
    warm = res.setting("run.warmup_days", s)
    warm_text = f" after a {float(warm):,.0f}-day warm-up" if _finite(warm) else ""
    items.append(
        f"Scenario <b>{e(s)}</b>: {n} replication{'s' if n != 1 else ''}, results over the "
        f"{_num(res, 'window_days', 'mean', scenario=s)} days{warm_text}. Counts are per year; "
        + ("ranges are 95% confidence intervals across replications." if n > 1 else "one replication gives no ranges.")
    )
    if _finite(_mean(res, "referrals_total", s)):
        text = f"The service receives {_num(res, 'referrals_total', 'mean', scenario=s)} referrals a year"
        text += _ci_text(res, "referrals_total", s)
        if _finite(_mean(res, "starts_level3", s)):
            text += f"; {_num(res, 'starts_level3', 'mean', scenario=s)} families a year start a key-worker plan"
        items.append(text + ".")
    items.append(_wait_sentence(res, s))
    others = []
    for q in ("front_door", "panel", "mst"):
        kpi = f"wait_{q}_mean_days"
        if _finite(_mean(res, kpi, s)):
            others.append(f"{plots.QUEUE_PHRASES[q]} {_num(res, kpi, 'mean', scenario=s)} days")
    if others:
        items.append("Average waits elsewhere: " + "; ".join(others) + ".")
    items.append(_step_sentence(res, s))
    busiest = _busiest_team(res, s)
    if busiest:
        items.append(
            f"The busiest team is {e(busiest[1])}, with {_num(res, busiest[0], 'mean', scenario=s)} of its "
            "caseload slots in use on average."
        )
    items.append(_cost_sentence(res, s))
    items.extend(_precision_sentences(res))
    return [i for i in items if i]


def _wait_sentence(res: Results, s: str) -> str:
    served = _mean(res, "wait_level3_served", s)
    mean = _mean(res, "wait_level3_mean_days", s)
    if not _finite(mean) or served == 0:
        return "No family was allocated a key worker from a waiting list in the results window."
    if mean < 0.05:
        return (
            f"Families are allocated a key worker without a wait: the average wait is "
            f"{_num(res, 'wait_level3_mean_days', 'mean', scenario=s)} days."
        )
    text = f"The average wait for a key worker is {_num(res, 'wait_level3_mean_days', 'mean', scenario=s)} days"
    text += _ci_text(res, "wait_level3_mean_days", s)
    if _finite(_mean(res, "wait_level3_p90_days", s)):
        text += (
            f"; 1 family in 10 waits longer than {_num(res, 'wait_level3_p90_days', 'mean', scenario=s)} days "
            "(mean of the replications' 90th percentiles)"
        )
    return text + "."


def _step_sentence(res: Results, s: str) -> str:
    su, care = _mean(res, "step_ups_total", s), _mean(res, "care_entries", s)
    if not _finite(su) and not _finite(care):
        return ""
    if not su and not care:
        return "No family stepped up to social care or entered care in any replication."
    text = f"{_num(res, 'step_ups_total', 'mean', scenario=s)} families a year step up from early help to social care"
    text += _ci_text(res, "step_ups_total", s)
    if _finite(_mean(res, "step_ups_while_waiting", s)):
        text += (
            f", {_num(res, 'step_ups_while_waiting', 'mean', scenario=s)} of them while waiting and "
            f"{_num(res, 'step_ups_during_plan', 'mean', scenario=s)} during a plan"
        )
    if _finite(care):
        text += f"; {_num(res, 'care_entries', 'mean', scenario=s)} a year enter care"
        text += _ci_text(res, "care_entries", s)
    return _cap(text) + "."


def _busiest_team(res: Results, s: str) -> tuple[str, str] | None:
    rows = res.summary[(res.summary["kpi"].astype(str).str.startswith("utilisation_team_"))]
    if "scenario" in rows.columns:
        rows = rows[rows["scenario"].astype(str) == s]
    rows = rows[pd.to_numeric(rows["mean"], errors="coerce").notna()]
    if rows.empty:
        return None
    kpi = str(rows.sort_values("mean", ascending=False)["kpi"].iloc[0])
    name = kpi[len("utilisation_team_") :].replace("_", " ").title()
    return kpi, ("the pooled team" if name == "Pool" else name)


def _cost_sentence(res: Results, s: str) -> str:
    kpi = "cost_total_gbp_per_year"
    mean = _mean(res, kpi, s)
    if not _finite(mean):
        return ""
    if mean == 0:
        return "No costs are set in this scenario, so the modelled cost is zero."
    year = res.setting("costs.price_year", s)
    text = f"The modelled cost is {_num(res, kpi, 'mean', scenario=s)} a year"
    text += _ci_text(res, kpi, s)
    if _finite(year):
        text += f" in {int(year)} prices"
    budget = res.budget(s)
    if budget:
        gap = mean - budget
        text += (
            f", {html.escape(fmt_number(abs(gap), 'gbp'))} {'over' if gap > 0 else 'under'} the budget of "
            f"{html.escape(fmt_number(budget, 'gbp'))} a year"
        )
    return text + "."


def _diagnostic_records(res: Results, scenario: str) -> tuple[list[dict[str, Any]], float]:
    """Replication-count records for ``scenario``: from ``diagnostics.json`` for a run, else computed."""
    diag = res.diagnostics if res.kind == "run" else None
    if diag and isinstance(diag.get("replications_needed"), list):
        return list(diag["replications_needed"]), float(diag.get("precision", 0.05))
    names = res.replications["scenario"].astype(str)
    if res.kind == "sweep" and not (names == scenario).any():
        scenario = str(names.iloc[0])  # a sweep: check the first combination
    reps = res.replications[names == scenario]
    kpis = [k for k in PRECISION_KPIS if k in reps.columns]
    if not kpis or reps.empty:
        return [], 0.05
    need = replications_needed(reps, kpis, rel_precision=0.05)
    half = dict(zip(need["kpi"], summarise(reps, kpis)["half_width"]))
    records = _records(need)
    for rec in records:
        h = _float(half.get(rec["kpi"]))
        rec["sufficient"] = bool(rec["sufficient"]) or (math.isfinite(h) and h <= ABSOLUTE_ENOUGH)
    return records, 0.05


def _precision_sentences(res: Results) -> list[str]:
    s = res.base
    n = int((res.replications["scenario"].astype(str) == s).sum())
    if n < 2:
        return [
            '<span class="warn">One replication gives no confidence intervals: rerun with '
            "<code>--replications 10</code> or more before presenting these numbers.</span>"
        ]
    records, precision = _diagnostic_records(res, s)
    short = [r for r in records if not r.get("sufficient") and _finite(r.get("n_needed"))]
    if not records:
        return []
    if not short:
        return [
            f"With {n} replications, every key KPI's 95% CI is within ±{precision:.0%} of its mean (or half a unit)."
        ]
    out = []
    for r in short:
        kpi = str(r["kpi"])
        out.append(
            f'<span class="warn">With {n} replications the 95% CI of {html.escape(kpi_info(kpi).label)} is '
            f"±{_num(res, kpi, 'rel_half_width', scenario=s)} of the mean; about {int(r['n_needed']):,} replications "
            f"would give ±{precision:.0%}.</span>"
        )
    return out


# --------------------------------------------------------------------------- summary: compare
def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def config_changes(base: Mapping[str, Any], option: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """Settings that differ between two resolved scenarios: ``(dotted key, base value, option value)``.

    Parameters
    ----------
    base, option : mapping
        Resolved scenario mappings (``config.resolved.yaml``).

    Returns
    -------
    list of tuple
        In key order, leaving out ``name`` and ``description``; a key missing on one side
        has None there.
    """
    fb, fo = _flatten(base), _flatten(option)
    keys = [k for k in dict.fromkeys([*fb, *fo]) if k not in ("name", "description")]
    return [(k, fb.get(k), fo.get(k)) for k in keys if fb.get(k) != fo.get(k)]


def _changes_text(changes: Sequence[tuple[str, Any, Any]], limit: int = 4) -> str:
    """Changes grouped where only the second key segment differs (``teams.*.workers 11 → 13``)."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for key, old, new in changes:
        segs = key.split(".")
        if len(segs) >= 3:
            sig = (segs[0], ".".join(segs[2:]), _show(old), _show(new))
            groups.setdefault(sig, []).append(segs[1])
        else:
            groups.setdefault((key, "", _show(old), _show(new)), []).append("")
    parts = []
    for (head, tail, old, new), middles in groups.items():
        if tail and len(middles) > 1:
            key = f"{head}.*.{tail} ({', '.join(middles)})"
        elif tail:
            key = f"{head}.{middles[0]}.{tail}"
        else:
            key = head
        parts.append(f"<code>{html.escape(key)}</code> {html.escape(old)} → {html.escape(new)}")
    if len(parts) > limit:
        parts = [*parts[:limit], f"and {len(parts) - limit} more (see Assumptions)"]
    return "; ".join(parts)


_PHRASES = {
    "step_ups_total": "step up to social care",
    "care_entries": "enter care",
    "withdrawn_total": "withdraw while waiting",
}


def _verdict(row: Mapping[Any, Any]) -> str:
    """``none`` (the same in every replication), ``unknown`` (no CI: one replication), ``clear``
    (the paired CI excludes 0) or ``unclear``, for a row of ``differences.csv``."""
    base_v, opt_v, sd = _float(row["base_mean"]), _float(row["option_mean"]), _float(row["diff_sd"])
    if base_v == opt_v and (sd == 0 or not math.isfinite(sd)):
        return "none"
    if _float(row["n"]) < 2 or not _finite(row["ci_low"]):
        return "unknown"
    return "clear" if bool(row["distinguishable"]) else "unclear"


_VERDICT_WORDS = {
    "none": "no change",
    "unknown": "no verdict (1 replication)",
    "clear": "clear difference",
    "unclear": "no clear difference",
}


def _difference_clause(res: Results, option: str, kpi: str) -> tuple[str, str]:
    """One option's change in one KPI as a clause, and its verdict: ``clear``, ``unclear``,
    ``none`` (zero in both) or ``unknown`` (one replication)."""
    assert res.differences is not None
    rows = res.differences[(res.differences["option"].astype(str) == option) & (res.differences["kpi"] == kpi)]
    if rows.empty:
        return "", "missing"
    row = rows.iloc[0]
    info = kpi_info(kpi)
    base_v, opt_v, diff = float(row["base_mean"]), float(row["option_mean"]), float(row["diff_mean"])
    if not (_finite(base_v) or _finite(opt_v)):
        return "", "missing"
    b = _num(res, kpi, "base_mean", option=option)
    o = _num(res, kpi, "option_mean", option=option)
    d = _num(res, kpi, "diff_mean", option=option)
    label = info.label
    unit = "" if info.kind == "gbp" else f" {html.escape(info.unit)}"
    verdict = _verdict(row.to_dict())
    if verdict == "none":
        return f"no change in {html.escape(label)} ({b}{unit} in both)", "none"
    ci = f"95% CI {_num(res, kpi, 'ci_low', option=option)} to {_num(res, kpi, 'ci_high', option=option)}"
    if verdict == "unknown":
        return (
            f"{html.escape(label)}: {b} → {o}{unit} (change {d}; one replication, so no confidence interval "
            "and no verdict)",
            "unknown",
        )
    if verdict == "unclear":
        return (
            f"no clear difference in {html.escape(label)}: {b} vs {o}{unit} (change {d}, {ci}, which includes zero)",
            "unclear",
        )
    mag = _num(res, kpi, "diff_mean", option=option, magnitude=True)
    down = diff < 0
    if kpi in _PHRASES:
        text = f"{mag} {'fewer' if down else 'more'} families a year {_PHRASES[kpi]} ({b} → {o}; {ci})"
    elif info.kind == "days":
        text = f"the {html.escape(label)} {'falls' if down else 'rises'} from {b} to {o} days ({ci})"
    elif info.kind == "gbp":
        text = f"the {html.escape(label)} {'falls' if down else 'rises'} by {mag} a year, from {b} to {o} ({ci})"
    else:
        text = f"{html.escape(label)}: {'down' if down else 'up'} by {mag}{unit}, from {b} to {o} ({ci})"
    return text, "clear"


def _compare_items(res: Results) -> list[str]:
    assert res.differences is not None
    n = int((res.replications["scenario"].astype(str) == res.base).sum())
    e = html.escape
    items = [
        f"Each option is compared with <b>{e(res.base)}</b> over {n} paired replication{'s' if n != 1 else ''} "
        "(common random numbers: replication <i>r</i> of every scenario sees the same families). A difference is "
        "called clear when its 95% confidence interval excludes zero. Counts are per year."
    ]
    for option in res.options:
        changes = config_changes(res.config(res.base), res.config(option)) if res.configs else []
        what = f" ({_changes_text(changes)})" if changes else ""
        clauses: list[tuple[int, str]] = []
        verdicts: dict[str, list[str]] = {"clear": [], "unclear": [], "none": [], "unknown": []}
        for kpi in COMPARE_KPIS:
            text, verdict = _difference_clause(res, option, kpi)
            if not text:
                continue
            clauses.append((list(verdicts).index(verdict), f"<li>{_cap(text)}.</li>"))  # clear differences first
            verdicts[verdict].append(e(kpi_info(kpi).label))
        tally = []
        if verdicts["clear"]:
            tally.append("clear differences in " + ", ".join(verdicts["clear"]))
        if verdicts["unclear"]:
            tally.append("no clear difference in " + ", ".join(verdicts["unclear"]))
        if verdicts["unknown"]:
            tally.append("no verdict (one replication) on " + ", ".join(verdicts["unknown"]))
        head = f"With <b>{e(option)}</b>{what}: " + ("; ".join(tally) + "." if tally else "nothing to compare.")
        ordered = "".join(c for _, c in sorted(clauses, key=lambda c: c[0]))
        items.append(head + f'<ul class="clauses">{ordered}</ul>')
    if n < 2:
        items.append(
            '<span class="warn">One replication gives no confidence intervals: rerun with '
            "<code>--replications 10</code> or more before presenting these differences.</span>"
        )
    return items


# --------------------------------------------------------------------------- summary: sweep
def _sweep_items(res: Results) -> list[str]:
    keys = res.sweep_keys
    summ = res.summary
    combos = summ[keys].drop_duplicates() if keys and set(keys) <= set(summ.columns) else pd.DataFrame()
    n = int(res.replications.groupby(keys).size().max()) if keys else len(res.replications)
    items = [
        f"The sweep varies {', '.join(f'<code>{html.escape(k)}</code>' for k in keys)} over {len(combos)} "
        f"combinations, {n} replication{'s' if n != 1 else ''} each, with common random numbers. Counts are per year."
    ]
    for kpi in SWEEP_KPIS:
        rows = summ[summ["kpi"] == kpi]
        rows = rows[pd.to_numeric(rows["mean"], errors="coerce").notna()]
        if rows.empty:
            continue
        ordered = rows.sort_values("mean", kind="stable")
        lo_row, hi_row = ordered.iloc[0], ordered.iloc[-1]

        def at(row: pd.Series) -> tuple[str, dict[str, Any]]:
            where = {k: _py(row[k]) for k in keys}
            return ", ".join(f"{k.rsplit('.', 1)[-1]} = {v}" for k, v in where.items()), where

        lo_at, lo_where = at(lo_row)
        hi_at, hi_where = at(hi_row)
        info = kpi_info(kpi)
        unit = "" if info.kind == "gbp" else f" {html.escape(info.unit)}"
        lo_num = _num(res, kpi, "mean", value=float(lo_row["mean"]), where=lo_where)
        hi_num = _num(res, kpi, "mean", value=float(hi_row["mean"]), where=hi_where)
        if float(lo_row["mean"]) == float(hi_row["mean"]):
            items.append(f"{_cap(html.escape(info.label))} is {lo_num}{unit} in every combination.")
        else:
            items.append(
                f"{_cap(html.escape(info.label))} ranges from {lo_num}{unit} ({html.escape(lo_at)}) to "
                f"{hi_num}{unit} ({html.escape(hi_at)})."
            )
    return items


def _py(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def summary_items(res: Results) -> list[str]:
    """The plain-English summary, as HTML list items, generated from the numbers.

    Parameters
    ----------
    res : Results
        The loaded results folder.

    Returns
    -------
    list of str
        HTML fragments (already escaped); every number is a ``<span class="num">`` naming its
        source cell.
    """
    if res.kind == "compare":
        return _compare_items(res)
    if res.kind == "sweep":
        return _sweep_items(res)
    return _run_items(res)


# --------------------------------------------------------------------------- figures
@dataclass
class FigureSpec:
    """A figure of the report: file name stem, caption and the figure itself."""

    name: str
    caption: str
    figure: Figure


def build_figures(res: Results) -> list[FigureSpec]:
    """Every figure of the report, in order (the caller saves and closes them).

    Parameters
    ----------
    res : Results
        The loaded results folder.

    Returns
    -------
    list of FigureSpec
    """
    reps = res.replications
    warm = res.setting("run.warmup_days")
    warm_days = float(warm) if _finite(warm) else None
    specs: list[FigureSpec] = []

    def add(name: str, caption: str, fig: Figure) -> None:
        specs.append(FigureSpec(name, caption, fig))

    if res.kind == "sweep":
        add(
            "sweep",
            "Each panel: the mean of the replications at each swept value (line) and its 95% confidence interval "
            "(band); other swept settings are separate lines.",
            plots.sweep_lines(reps, res.sweep_keys, SWEEP_KPIS, res.budget()),
        )
        first = reps[reps["scenario"] == reps["scenario"].iloc[0]] if len(reps) else reps
        add(
            "precision",
            "Replication-count check for the first combination: running mean and 95% CI as replications are added.",
            plots.replication_precision(first, PRECISION_KPIS),
        )
        return specs
    if res.kind == "compare" and res.differences is not None:
        add(
            "differences",
            "Paired differences (option minus baseline) with 95% confidence intervals. Filled markers: the interval "
            "excludes zero (a clear difference); hollow markers: no clear difference.",
            plots.forest(res.differences, COMPARE_KPIS, res.window_days(res.base)),
        )
    add(
        "waits",
        "Each dot is one replication's mean (left) or 90th percentile (right) wait for families served in the "
        "results window; boxes show the spread across replications.",
        plots.wait_distributions(reps),
    )
    if res.events is not None and len(res.events):
        add(
            "waits_per_family",
            "Waits of individual families in replication 0 (the event log is kept for one replication only).",
            plots.wait_histogram(res.events, warm_days or 0.0),
        )
    if res.series is not None:
        add(
            "queues",
            "Families waiting at the start of each month: median across replications (line) and the middle 90% "
            "(band). The grey span is the warm-up, excluded from the KPIs.",
            plots.queues_over_time(res.series, warm_days),
        )
        add(
            "open_plans",
            "Open plans and social care cases at the start of each month: median across replications and middle 90%.",
            plots.open_plans_over_time(res.series, warm_days),
        )
    add(
        "utilisation",
        "Share of caseload slots (or front-door staff) in use, averaged over the results window; whiskers are 95% "
        "confidence intervals across replications.",
        plots.utilisation(reps),
    )
    for s in res.scenarios:
        add(
            "flows" if len(res.scenarios) == 1 else f"flows_{_slug(s)}",
            f"How families move between stages in {s}: mean counts a year across replications.",
            plots.family_flows(res.summary, s),
        )
    add(
        "step_ups",
        "Step-ups to social care and entries to care a year, with 95% confidence intervals.",
        plots.step_ups_and_care(reps),
    )
    year = res.setting("costs.price_year")
    add(
        "costs",
        "Costs a year by component and in total, with 95% confidence intervals"
        + ("; the dashed line is the budget." if res.budget() else "."),
        plots.costs(reps, res.budget(), int(year) if _finite(year) else None),
    )
    precision = _diagnostic_records(res, res.base)[1]
    add(
        "precision",
        f"Replication-count check ({res.base}): running mean and 95% CI as replications are added; the grey band is "
        f"±{precision:.0%} of the final mean.",
        plots.replication_precision(reps, PRECISION_KPIS, target=precision, absolute=ABSOLUTE_ENOUGH),
    )
    if res.series is not None:
        suggested, _ = _warmup(res)
        add(
            "warmup",
            "Warm-up check: mean open Level 3 plans across replications over time, with the MSER-5 truncation point "
            "and the scenario's warm-up.",
            plots.warmup(res.series, WARMUP_MEASURE, suggested, warm_days),
        )
    return specs


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "scenario"


def _warmup(res: Results) -> tuple[float | None, int]:
    """MSER-5 warm-up suggestion (days) for the baseline, and the number of monthly points."""
    diag = res.diagnostics if res.kind == "run" else None
    if diag and isinstance(diag.get("warmup"), dict) and _finite(diag["warmup"].get("warmup_days")):
        return float(diag["warmup"]["warmup_days"]), int(diag["warmup"].get("n_points", 0))
    if res.series is None or WARMUP_MEASURE not in res.series.columns:
        return None, 0
    part = res.series[res.series["scenario"].astype(str) == res.base]
    if part.empty:
        return None, 0
    warm = suggest_warmup(part, WARMUP_MEASURE)
    days = _float(warm.get("warmup_days"))
    return (days if math.isfinite(days) else None), int(warm.get("n_points") or 0)


def _render(fig: Figure) -> tuple[bytes, bytes]:
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=100, metadata={"Software": None})
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png.getvalue(), svg.getvalue()


# --------------------------------------------------------------------------- HTML
_STYLE = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #0072b2; --warn: #8a4b00; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.8rem; margin: 0 0 4px; }
h2 { font-size: 1.35rem; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 22px 0 8px; }
.lede { color: var(--muted); margin: 0 0 12px; }
nav { font-size: 0.92rem; margin: 10px 0 0; }
nav a { color: var(--accent); margin-right: 14px; }
.summary { background: var(--bg); border-left: 5px solid var(--accent); padding: 14px 18px 14px 36px; margin: 12px 0;
  font-size: 1.06rem; }
.summary li { margin: 6px 0; }
.clauses { font-size: 0.98rem; }
.num { font-weight: 600; white-space: nowrap; }
.warn { color: var(--warn); }
figure { margin: 22px 0; padding: 0; break-inside: avoid; }
figure img { width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 0.92rem; margin-top: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.92rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg); }
td:first-child { min-width: 15em; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.tag { display: inline-block; font-size: 0.78rem; padding: 0 6px; border-radius: 8px; border: 1px solid var(--line); }
.tag.a { background: #fff3cd; } .tag.s { background: #dff0d8; }
details { margin: 10px 0; } summary { cursor: pointer; font-weight: 600; }
pre { background: var(--bg); padding: 10px; overflow-x: auto; font-size: 0.82rem; }
code { font-size: 0.9em; }
footer { margin-top: 40px; padding-top: 10px; border-top: 2px solid var(--line); color: var(--muted);
  font-size: 0.88rem; }
@media print { nav { display: none; } details { display: block; } }
"""


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], caption: str = "", numeric: Sequence[int] = ()
) -> str:
    """An HTML table; cells are already-escaped HTML; ``numeric`` columns align right."""
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fmt_kpi(value: Any, kpi: str, window: float) -> str:
    try:
        x = float(value) * plots.display_scale(kpi, window)
    except (TypeError, ValueError):
        return "n/a"
    return html.escape(fmt_number(x, kpi_info(kpi).kind))


def _kpi_name(kpi: str) -> str:
    info = kpi_info(kpi)
    return f"{html.escape(_cap(info.label))} <small>({html.escape(info.unit)})</small>"


def _ci_cell(row: Mapping[str, Any], kpi: str, window: float) -> str:
    if not (_finite(row.get("ci_low")) and _finite(row.get("ci_high"))):
        return "n/a"
    return f"{_fmt_kpi(row['ci_low'], kpi, window)} to {_fmt_kpi(row['ci_high'], kpi, window)}"


def _kpi_tables(res: Results) -> str:
    parts = []
    summ = res.summary
    if res.kind == "sweep":
        keys = res.sweep_keys
        rows = []
        shown = [k for k in SWEEP_KPIS if k in set(summ["kpi"])]
        for combo, g in summ.groupby(keys, sort=False):
            vals = combo if isinstance(combo, tuple) else (combo,)
            window = float(g.loc[g["kpi"] == "window_days", "mean"].iloc[0]) if (g["kpi"] == "window_days").any() else 0
            by = {str(r["kpi"]): r for r in _records(g)}
            rows.append(
                [html.escape(str(v)) for v in vals]
                + [
                    _fmt_kpi(by[k]["mean"], k, window) + f"<br><small>{_ci_cell(by[k], k, window)}</small>"
                    for k in shown
                ]
            )
        headers = [*keys, *[_cap(kpi_info(k).label) + f" ({kpi_info(k).unit})" for k in shown]]
        parts.append(
            _table(headers, rows, "Mean per combination, with its 95% CI", numeric=range(len(keys), len(headers)))
        )
    else:
        rows = []
        windows = {s: res.window_days(s) for s in res.scenarios}
        by_kpi = {(str(r["scenario"]), str(r["kpi"])): r for r in _records(summ)}
        for kpi in HEADLINE_KPIS:
            if (res.base, kpi) not in by_kpi:
                continue
            row = [_kpi_name(kpi)]
            for s in res.scenarios:
                rec = by_kpi.get((s, kpi))
                if rec is None:
                    row.append("n/a")
                    continue
                ci = _ci_cell(rec, kpi, windows[s])
                row.append(_fmt_kpi(rec["mean"], kpi, windows[s]) + (f"<br><small>{ci}</small>" if ci != "n/a" else ""))
            rows.append(row)
        headers = ["KPI", *[f"{s}: mean (95% CI)" for s in res.scenarios]]
        parts.append(_table(headers, rows, "Headline KPIs (counts a year)", numeric=range(1, len(headers))))
        if res.kind == "compare" and res.differences is not None:
            drows = []
            d = res.differences
            for option in res.options:
                for kpi in COMPARE_KPIS:
                    sel = d[(d["option"].astype(str) == option) & (d["kpi"] == kpi)]
                    if sel.empty:
                        continue
                    rec = _records(sel)[0]
                    w = windows.get(option, windows[res.base])
                    verdict = _VERDICT_WORDS[_verdict(rec)]
                    drows.append(
                        [
                            html.escape(option),
                            _kpi_name(kpi),
                            _fmt_kpi(rec["base_mean"], kpi, w),
                            _fmt_kpi(rec["option_mean"], kpi, w),
                            _fmt_kpi(rec["diff_mean"], kpi, w),
                            _ci_cell(rec, kpi, w),
                            verdict,
                        ]
                    )
            parts.append(
                _table(
                    ["Option", "KPI", "Baseline", "Option", "Change", "95% CI of change", "Verdict"],
                    drows,
                    "Paired differences from the baseline (common random numbers)",
                    numeric=(2, 3, 4, 5),
                )
            )
    # every KPI, as stored (no per-year scaling), for checking against summary.csv
    cols = [c for c in summ.columns if c not in ("half_width", "rel_half_width")]
    rows_all = []
    for row_all in _records(summ):
        rows_all.append(
            [
                html.escape(str(row_all[c])) if c not in ("mean", "sd", "ci_low", "ci_high") else _raw(row_all[c])
                for c in cols
            ]
        )
    parts.append(
        "<details><summary>Every KPI as stored in summary.csv (counts in the results window, not per year)</summary>"
        + _table(
            cols, rows_all, numeric=[i for i, c in enumerate(cols) if c in ("mean", "sd", "ci_low", "ci_high", "n")]
        )
        + "</details>"
    )
    return "\n".join(parts)


def _raw(value: Any) -> str:
    return f"{float(value):,.4g}" if _finite(value) else "n/a"


def _assumptions_html(res: Results) -> str:
    e = html.escape
    files = scenario_files(res)
    overrides = [str(o) for o in res.manifest.get("overrides") or []]
    out: list[str] = []
    base_file = files.get(res.base)
    if base_file is None:
        named = res.manifest.get("config") or res.manifest.get("base") or "(not recorded)"
        out.append(
            f'<p class="warn">The scenario file <code>{e(str(named))}</code> named in manifest.json was not found, so '
            "the sources of its numbers cannot be shown. The resolved settings that were run are below.</p>"
        )
    else:
        try:
            rows, headers = read_assumptions(base_file, overrides)
        except (OSError, UnicodeDecodeError) as exc:
            rows, headers = [], []
            out.append(f'<p class="warn">Could not read {e(str(base_file))}: {e(str(exc))}</p>')
        n_assume = sum(r.is_assumption for r in rows)
        out.append(
            f"<p>The baseline <code>{e(base_file.name)}</code> has {len(rows)} commented settings: "
            f"{len(rows) - n_assume} cite a source and {n_assume} are marked ASSUMPTION. "
            + (f"The command line changed {len(overrides)} setting(s) with <code>--set</code>. " if overrides else "")
            + "Sources as given in the scenario files:</p>"
        )
        for name, header in headers:
            if header:
                out.append(f"<p><small><b>{e(name)}</b>: {e(header)}</small></p>")
        table = _table(
            ["Setting", "Value", "Source or assumption", "File"],
            [
                [
                    f"<code>{e(r.key)}</code>",
                    e(r.value) if r.value else "<i>(section)</i>",
                    (
                        '<span class="tag a">assumption</span> '
                        if r.is_assumption
                        else '<span class="tag s">source</span> '
                    )
                    + e(r.source),
                    e(f"{r.file}:{r.line}" if r.line else r.file),
                ]
                for r in rows
            ],
        )
        out.append(f"<details><summary>Assumptions and sources ({len(rows)} settings)</summary>{table}</details>")
    if res.kind == "compare":
        for option in res.options:
            changes = config_changes(res.config(res.base), res.config(option)) if res.configs else []
            src: dict[str, Assumption] = {}
            if option in files:
                try:
                    opt_rows, _ = read_assumptions(files[option], overrides)
                    src = {r.key: r for r in opt_rows}
                except (OSError, UnicodeDecodeError):
                    src = {}

            def source_of(key: str, src: Mapping[str, Assumption] = src) -> str:
                parts = key.split(".")
                for i in range(len(parts), 0, -1):
                    hit = src.get(".".join(parts[:i]))
                    if hit is not None:
                        return e(hit.source)
                return ""

            out.append(
                _table(
                    ["Setting", res.base, option, "Source or assumption"],
                    [[f"<code>{e(k)}</code>", e(_show(a)), e(_show(b)), source_of(k)] for k, a, b in changes],
                    f"What {option} changes",
                )
                if changes
                else f"<p>No settings of {e(option)} differ from the baseline's.</p>"
            )
    if res.kind == "sweep":
        grid = res.manifest.get("grid") or {}
        out.append(
            _table(
                ["Swept setting", "Values"],
                [[f"<code>{e(k)}</code>", e(", ".join(_show(v) for v in grid.get(k, [])))] for k in res.sweep_keys],
                "What the sweep varies",
            )
        )
    if res.configs.get(res.base):
        text = yaml.safe_dump(res.configs[res.base], sort_keys=False)
        out.append(f"<details><summary>The resolved baseline scenario, as run</summary><pre>{e(text)}</pre></details>")
    return "\n".join(out)


def _diagnostics_html(res: Results) -> str:
    e = html.escape
    out = []
    for s in res.scenarios if res.kind == "compare" else [res.base]:
        records, precision = _diagnostic_records(res, s)
        if not records:
            continue
        rows = []
        for r in records:
            kpi = str(r["kpi"])
            rel = r.get("rel_half_width_now")
            need = r.get("n_needed")
            rows.append(
                [
                    _kpi_name(kpi),
                    e(str(r.get("n_now", ""))),
                    f"±{_float(rel):.1%}" if _finite(rel) else "n/a",
                    f"{int(_float(need)):,}" if _finite(need) else "n/a",
                    "yes" if r.get("sufficient") else "<b>no</b>",
                ]
            )
        out.append(
            _table(
                ["KPI", "Replications", "95% CI half-width (% of mean)", f"Needed for ±{precision:.0%}", "Enough?"],
                rows,
                f"Replication count ({s}): confidence-interval method (Hoad, Robinson and Davies 2010); a half-width "
                f"under {ABSOLUTE_ENOUGH} of a unit is enough whatever the mean",
                numeric=(1, 2, 3),
            )
        )
    suggested, points = _warmup(res)
    configured = res.setting("run.warmup_days")
    if suggested is not None:
        verdict = (
            "long enough"
            if _finite(configured) and float(configured) >= suggested
            else "shorter than suggested: consider a longer run.warmup_days"
        )
        out.append(
            f"<p>Warm-up: MSER-5 on the mean monthly open Level 3 plans ({points} months, {e(res.base)}) suggests "
            f"discarding the first {suggested:,.0f} days; the scenario discards "
            f"{float(configured):,.0f} days ({verdict}).</p>"
            if _finite(configured)
            else f"<p>Warm-up: MSER-5 suggests discarding the first {suggested:,.0f} days.</p>"
        )
    else:
        out.append("<p>Warm-up: no monthly series in these results, so the warm-up was not checked.</p>")
    return "\n".join(out)


def _versions() -> dict[str, str]:
    out = {}
    for name in ("matplotlib", "seaborn"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _command(res: Results) -> str:
    man = res.manifest
    cmd = str(man.get("command") or "")
    if " " in cmd or not cmd:
        return cmd
    # called from Python (sim.cli.main): rebuild the equivalent command line
    parts = ["ehsim", cmd]
    if cmd == "compare":
        parts += [str(man.get("base", "")), *[str(o) for o in man.get("options") or []]]
    else:
        parts.append(str(man.get("config", "")))
    parts += ["--replications", str(man.get("replications", "")), "--seed", str(man.get("seed", ""))]
    for k, vals in (man.get("grid") or {}).items():
        parts += ["--vary", f"{k}={','.join(_show(v) for v in vals)}"]
    for o in man.get("overrides") or []:
        parts += ["--set", str(o)]
    return shlex.join(parts)


def _footer(res: Results) -> str:
    e = html.escape
    man = res.manifest
    packages = {**(man.get("packages") or {}), **_versions()}
    fingerprints = man.get("scenarios") or {}
    rows = [
        ("Command", f"<code>{e(_command(res))}</code>"),
        ("Report", f"<code>ehsim report {e(str(res.folder))}</code>"),
        ("Seed", e(str(man.get("seed", "n/a")))),
        ("Replications", e(str(man.get("replications", len(res.replications))))),
        ("Backend", e(f"{man.get('backend', 'n/a')} (workers: {man.get('workers') or 'default'})")),
        ("Scenarios", "; ".join(f"{e(str(k))} <code>{e(str(v)[:12])}</code>" for k, v in fingerprints.items())),
        ("Python and platform", e(f"Python {man.get('python', '?')} on {man.get('platform', '?')}")),
        ("Packages", e(", ".join(f"{k} {v}" for k, v in sorted(packages.items())))),
    ]
    body = "".join(f"<tr><th scope='row'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        "<footer><h2 id='reproduce'>Reproducibility</h2><table>"
        + body
        + "</table><p>Rerunning the command with the same seed gives the same tables on any backend and any number of "
        "workers. This page was generated from the files in the results folder; no numbers in it were typed by "
        "hand.</p></footer>"
    )


def _title(res: Results) -> tuple[str, str]:
    desc = str(res.config(res.base).get("description", "") or "").strip()
    if res.kind == "compare":
        return f"What-if comparison: {', '.join(res.options)} against {res.base}", desc
    if res.kind == "sweep":
        return f"What-if sweep of {res.base}: {', '.join(res.sweep_keys)}", desc
    return f"What-if report: {res.base}", desc


def _page(res: Results, figures: Sequence[tuple[FigureSpec, str]]) -> str:
    e = html.escape
    title, desc = _title(res)
    items = "".join(f"<li>{i}</li>" for i in summary_items(res))
    figs = []
    for spec, png64 in figures:
        suptitle = spec.figure.get_suptitle() or spec.name
        figs.append(
            f'<figure id="fig-{e(spec.name)}"><img src="data:image/png;base64,{png64}" alt="{e(suptitle)}">'
            f"<figcaption>{e(spec.caption)} <small>(figures/{e(spec.name)}.png, .svg)</small></figcaption></figure>"
        )
    nav = "".join(
        f'<a href="#{a}">{e(t)}</a>'
        for a, t in (
            ("summary", "Summary"),
            ("assumptions", "Assumptions"),
            ("figures", "Figures"),
            ("tables", "KPI tables"),
            ("diagnostics", "Diagnostics"),
            ("reproduce", "Reproducibility"),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ehsim report">
<title>{e(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>{e(title)}</h1>
<p class="lede">{e(desc)}</p>
<nav aria-label="Sections">{nav}</nav>
<h2 id="summary">Summary</h2>
<ul class="summary">{items}</ul>
<h2 id="assumptions">Assumptions and sources</h2>
{_assumptions_html(res)}
<h2 id="figures">Figures</h2>
{"".join(figs)}
<h2 id="tables">KPI tables</h2>
{_kpi_tables(res)}
<h2 id="diagnostics">Diagnostics</h2>
{_diagnostics_html(res)}
{_footer(res)}
</main>
</body>
</html>
"""


def make_report(folder: str | Path) -> Path:
    """Write ``report.html`` and ``figures/*.png|svg`` into a results folder.

    Parameters
    ----------
    folder : str or pathlib.Path
        A folder written by ``ehsim run``, ``compare`` or ``sweep``.

    Returns
    -------
    pathlib.Path
        The report's path (``<folder>/report.html``).

    Raises
    ------
    ScenarioError
        If ``folder`` is not a results folder.
    """
    res = load_results(folder)
    figdir = res.folder / FIGURES_DIR
    rendered: list[tuple[FigureSpec, str]] = []
    written: set[str] = set()
    specs = build_figures(res)
    try:
        for spec in specs:
            png, svg = _render(spec.figure)
            _write_bytes(figdir / f"{spec.name}.png", png)
            _write_bytes(figdir / f"{spec.name}.svg", svg)
            written.update({f"{spec.name}.png", f"{spec.name}.svg"})
            rendered.append((spec, base64.b64encode(png).decode("ascii")))
    finally:
        for spec in specs:
            plt.close(spec.figure)
    for stale in figdir.glob("*"):  # figures of an earlier report that this one no longer makes
        if stale.suffix in (".png", ".svg") and stale.name not in written:
            stale.unlink(missing_ok=True)
    path = res.folder / REPORT_NAME
    write_text(path, _page(res, rendered))
    return path

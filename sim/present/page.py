"""The report's HTML page: one self-contained file (figures embedded as base64 PNG; no
scripts, style sheets, fonts or images fetched: a Content-Security-Policy forbids it)."""

from __future__ import annotations

import html
import math
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import yaml

from sim import kpis as K
from sim.errors import ScenarioError
from sim.kpis import Kpi
from sim.present import localities
from sim.present import references as bib
from sim.present.assumptions import (
    Assumption,
    changes_anchor,
    config_changes,
    dated_changes,
    read_assumptions,
    scenario_files,
    setting_sources,
    show,
    shown_apart,
    unreached_warnings,
    value_on,
)
from sim.present.checks import rank, replication_records, said_by
from sim.present.data import (
    INTERVAL_TEXT,
    INTERVALS,
    NOBODY_SERVED,
    NOT_IN_SCENARIO,
    VERDICT_WORDS,
    cap,
    finite,
    has,
    in_scenarios,
    present,
    rows_of,
    unserved,
    verdict,
)
from sim.present.format import DIFF_ROW, MEAN_CI, fmt_number, fmt_row
from sim.present.narrative import summary_items
from sim.present.uncertainty_page import uncertain_parameters, uncertainty_diagnostics, uncertainty_tables
from sim.results import Kind, Results
from sim.warmup import at_cap, chance, diagnosed, queue_warning, unsteady

__all__ = ["Rendered", "page"]

e = html.escape
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
SECTIONS = (
    ("summary", "Summary"),
    ("assumptions", "Assumptions and sources"),
    ("figures", "Figures"),
    ("tables", "KPI tables"),
    (localities.ANCHOR, localities.TITLE),
    ("diagnostics", "Diagnostics"),
    ("references", "References"),
    ("reproduce", "Reproducibility"),
)
STYLE = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #0072b2; --warn: #8a4b00; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.8rem; margin: 0 0 4px; }
h2 { font-size: 1.35rem; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
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


@dataclass(frozen=True)
class Rendered:
    """A figure as it goes on the page: file stem, caption, title (alt text), PNG as base64."""

    name: str
    caption: str
    title: str
    png64: str


# --------------------------------------------------------------------------- tables
def table(headers: Sequence[str], rows: Iterable[Sequence[str]], caption: str = "", numeric: Iterable[int] = ()) -> str:
    """An HTML table; cells are already-escaped HTML; ``numeric`` columns align right."""
    right = set(numeric)
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if i in right else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    cap_html = f"<caption>{e(caption)}</caption>" if caption else ""
    return f"<table>{cap_html}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _name(kpi: Kpi) -> str:
    return f"{e(cap(kpi.label))} <small>({e(kpi.display_unit)})</small>"


def _mean_ci(rec: Mapping[str, Any], kpi: Kpi, window: float) -> str:
    mean, low, high = fmt_row(rec, kpi, window, MEAN_CI)
    text = e(mean)
    if finite(rec.get("ci_low")) and finite(rec.get("ci_high")):
        text += f"<br><small>{e(low)} to {e(high)}</small>"
    return text


def _records(res: Results, scenario: str) -> dict[str, dict[str, Any]]:
    return {str(r["kpi"]): {str(k): v for k, v in r.items()} for r in rows_of(res, scenario).to_dict(orient="records")}


def _headline(res: Results) -> str:
    recs = {s: _records(res, s) for s in res.scenarios}
    rows, nobody = [], False
    for kpi in in_scenarios(res, K.HEADLINE):  # no row for the panel's wait where no scenario has a panel
        if kpi.name not in recs[res.base]:
            continue
        cells = [_name(kpi)]
        for s in res.scenarios:
            rec = recs[s].get(kpi.name)
            if not has(res, kpi, s):
                cells.append(NOT_IN_SCENARIO)
            else:
                # each scenario's mean and interval to the precision they need (not another scenario's)
                cells.append(_mean_ci(rec, kpi, res.window_days(s)) if rec else "n/a")
                nobody |= unserved(rec, kpi)
        rows.append(cells)
    headers = ["KPI", *[f"{s}: mean (95% CI)" for s in res.scenarios]]
    caption = f"Headline KPIs (counts a year); {INTERVAL_TEXT}" + (f"; {NOBODY_SERVED}" if nobody else "")
    return table(headers, rows, caption, range(1, len(headers)))


def _differences(res: Results) -> str:
    d = res.differences
    if d is None:
        return ""
    rows = []
    for option in res.options:
        window = res.window_days(option)
        for kpi in present(res, K.COMPARE):
            sel = d[(d["option"].astype(str) == option) & (d["kpi"] == kpi.name)]
            if sel.empty:
                continue
            rec = {str(k): v for k, v in sel.iloc[0].items()}
            said = verdict(rec)
            if said == "missing":  # neither scenario measures it (no panel): no row of n/a
                continue
            # the option's row to the precision its numbers need (not another option's)
            base, opt, diff, low, high = (e(t) for t in fmt_row(rec, kpi, window, DIFF_ROW))
            points = " points" if kpi.kind == "share" else ""  # a change in a share is in percentage points
            ci = f"{low} to {high}{points}" if finite(rec["ci_low"]) else "n/a"
            rows.append(
                [
                    e(option),
                    _name(kpi),
                    base,
                    opt,
                    diff + points,
                    ci,
                    VERDICT_WORDS[said],
                ]
            )
    return table(
        ["Option", "KPI", "Baseline", "Option", "Change", "95% CI of change", "Verdict"],
        rows,
        "Paired differences from the baseline (common random numbers; a difference can be negative)",
        (2, 3, 4, 5),
    )


def _sweep_table(res: Results) -> str:
    keys, summ = res.sweep_keys, res.summary
    shown = [k for k in present(res, K.SWEEP) if k.name in set(summ["kpi"])]
    rows = []
    for combo, g in summ.groupby(keys, sort=False):
        values = combo if isinstance(combo, tuple) else (combo,)
        by = {str(r["kpi"]): {str(k): v for k, v in r.items()} for r in g.to_dict(orient="records")}
        window = float(by[K.WINDOW_DAYS.name]["mean"]) if K.WINDOW_DAYS.name in by else math.nan
        rows.append([e(str(v)) for v in values] + [_mean_ci(by[k.name], k, window) for k in shown if k.name in by])
    headers = [*keys, *[f"{cap(k.label)} ({k.display_unit})" for k in shown]]
    return table(headers, rows, f"Mean per combination, with its {INTERVAL_TEXT}", range(len(keys), len(headers)))


def _raw(value: Any) -> str:
    """A stored number in plain digits (never ``4.512e+08``): from 1,000 whole, with thousands
    separators (``451,234,567``); below, to four significant figures (``0.01234``, ``18.36``)."""
    if not finite(value):
        return "n/a"
    x = float(value)
    if x == 0 or abs(x) >= 1000:
        return fmt_number(x, "number", 0)
    text = fmt_number(x, "number", 3 - math.floor(math.log10(abs(x))))
    return text.rstrip("0").rstrip(".") if "." in text else text


def _stored(res: Results) -> str:
    summ = res.summary
    design = res.kind == Kind.UNCERTAINTY  # no interval: the parameter points are a design, not replications
    cols = [
        c for c in summ.columns if c not in ("half_width", "rel_half_width", *(("ci_low", "ci_high") if design else ()))
    ]
    numeric = {"mean", "sd", "ci_low", "ci_high"}
    rows = [[_raw(r[c]) if c in numeric else e(str(r[c])) for c in cols] for r in summ.to_dict(orient="records")]
    over = " over every parameter point and replication (no interval: see the robustness table)" if design else ""
    return (
        f"<details><summary>Every KPI as stored in summary.csv{over} "
        "(counts in the results window, not per year)</summary>"
        + table(cols, rows, numeric=[i for i, c in enumerate(cols) if c in numeric or c == "n"])
        + "</details>"
    )


def kpi_tables(res: Results) -> str:
    if res.kind == Kind.UNCERTAINTY:
        return "\n".join([uncertainty_tables(res), _stored(res)])
    parts = [_sweep_table(res)] if res.kind == Kind.SWEEP else [_headline(res), _differences(res)]
    return "\n".join([*parts, _stored(res)])


# --------------------------------------------------------------------------- assumptions
def _source_cell(row: Assumption) -> str:
    tag = '<span class="tag a">assumption</span> ' if row.is_assumption else '<span class="tag s">source</span> '
    return tag + e(row.source)


def _base_assumptions(res: Results, overrides: list[str], cited: list[str]) -> list[str]:
    files = scenario_files(res)
    path = files.get(res.base)
    if path is None:
        named = (res.manifest.get("scenario_files") or {}).get(res.base, "(not recorded)")
        return [
            f'<p class="warn">The scenario file <code>{e(str(named))}</code> named in manifest.json was not found, so '
            "the sources of its numbers cannot be shown. The resolved settings that were run are below.</p>"
        ]
    try:
        rows, headers = read_assumptions(path, overrides)
    except (OSError, UnicodeDecodeError, ScenarioError) as exc:
        return [f'<p class="warn">Could not read {e(str(path))}: {e(str(exc))}</p>']
    cited += [r.source for r in rows] + [header for _, header in headers]
    n_assume = sum(r.is_assumption for r in rows)
    shown = headers[-1][0] if headers else path.name
    out = [
        f"<p>The baseline <code>{e(shown)}</code> has {len(rows)} commented settings: {len(rows) - n_assume} cite "
        f"a source and {n_assume} are marked ASSUMPTION. "
        + (f"The command line changed {len(overrides)} setting(s) with <code>--set</code>. " if overrides else "")
        + "Each setting's source, as its comment in the scenario file gives it:</p>"
    ]
    out += [f"<p><small><b>{e(name)}</b>: {e(header)}</small></p>" for name, header in headers if header]
    body = table(
        ["Setting", "Value", "Source or assumption", "File"],
        [
            [
                f"<code>{e(r.key)}</code>",
                e(r.value) if r.value else "<i>(section)</i>",
                _source_cell(r),
                e(f"{r.file}:{r.line}" if r.line else r.file),
            ]
            for r in rows
        ],
    )
    out.append(f"<details><summary>Assumptions and sources ({len(rows)} settings)</summary>{body}</details>")
    return out


def _option_changes(res: Results, option: str, cited: list[str]) -> str:
    base, scenario = res.config(res.base), res.config(option)
    changes = config_changes(base, scenario) if res.configs else []
    differ = bool(res.configs) and base.get("changes") != scenario.get("changes")  # the dated changes
    dated = dated_changes(scenario) if differ else []
    if not changes and not differ:
        return f"<p>No settings of {e(option)} differ from the baseline's.</p>"
    src = setting_sources(res, option)

    def source_of(*keys: str) -> str:
        found = []
        for key in keys:
            parts = key.split(".")
            hits = (src.get(".".join(parts[:i])) for i in range(len(parts), 0, -1))
            hit = next((h for h in hits if h is not None), None)
            if hit is not None and hit.source not in found:
                found.append(hit.source)
        cited.extend(found)
        return e("; ".join(found))

    rows = [[f"<code>{e(k)}</code>", *map(e, shown_apart(a, b)), source_of(k)] for k, a, b in changes]
    if differ and not dated:
        n = len(base.get("changes") or [])
        rows.append(["<code>changes</code>", f"{n} dated change{'s' if n != 1 else ''}", "none", source_of("changes")])
    for ch in dated:
        at = f"changes.{ch.number}"
        head = f"<b>From {e(ch.when)}</b> (dated change {ch.number + 1} of {len(dated)})"
        rows.append([head + (f": {e(ch.why)}" if ch.why else ""), "", "", source_of(f"{at}.date", f"{at}.why")])
        for key, old, new in ch.settings:
            was, before, after = map(e, shown_apart(value_on(base, key, ch.date), old, new))
            rows.append(
                [
                    f"<code>{e(key)}</code> <small>from {e(ch.when)}</small>",
                    was,
                    f"{before} → {after}",
                    source_of(f"{at}.set.{key}"),
                ]
            )
    body = table(["Setting", res.base, option, "Source or assumption"], rows, f"What {option} changes")
    return f'<div id="{e(changes_anchor(option))}">{body}</div>'


def assumptions(res: Results, cited: list[str] | None = None) -> str:
    """The Assumptions and sources section; the source cells it shows (and the files' opening
    comments) are added to ``cited``, for the References section."""
    cited = [] if cited is None else cited
    overrides = [str(o) for o in res.manifest.get("overrides") or []]
    out = _base_assumptions(res, overrides, cited)
    if res.kind in (Kind.COMPARE, Kind.UNCERTAINTY):
        out += [_option_changes(res, option, cited) for option in res.options]
    if res.kind == Kind.UNCERTAINTY:
        out.append(uncertain_parameters(res))
    if res.kind == Kind.SWEEP:
        grid = res.manifest.get("grid") or {}
        rows = [[f"<code>{e(k)}</code>", e(", ".join(show(v) for v in grid.get(k, [])))] for k in res.sweep_keys]
        out.append(table(["Swept setting", "Values"], rows, "What the sweep varies"))
    if res.configs.get(res.base):
        text = yaml.safe_dump(res.configs[res.base], sort_keys=False, allow_unicode=True)
        out.append(f"<details><summary>The resolved baseline scenario, as run</summary><pre>{e(text)}</pre></details>")
    return "\n".join(out)


# --------------------------------------------------------------------------- diagnostics
def _number(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _count_table(res: Results, scenario: str) -> str:
    records, target = replication_records(res, scenario)
    rows = []
    for r in records:
        if r["kpi"] not in res.kpis:
            continue
        rel, need = _number(r.get("rel_half_width_now")), _number(r.get("n_needed"))
        rows.append(
            [
                _name(res.kpis[r["kpi"]]),
                e(str(r.get("n_now", ""))),
                f"±{rel:.1%}" if math.isfinite(rel) else "n/a",
                f"{int(need):,}" if math.isfinite(need) else "n/a",
                "yes" if r.get("sufficient") else "<b>no</b>",
            ]
        )
    if not rows:
        return ""
    return table(
        ["KPI", "Replications", "95% CI half-width (% of mean)", f"Needed for ±{target:.0%} or half a unit", "Enough?"],
        rows,
        f"Replication count ({scenario}): confidence-interval method (Hoad, Robinson and Davies 2010); a half-width "
        f"under {K.ABSOLUTE_ENOUGH} of a unit as shown (half a day, half a family a year) is enough whatever the "
        "mean, so the count needed is the first meeting either target",
        (1, 2, 3),
    )


MSER_PLAINLY = (
    "MSER-5 is a standard check of how long the model takes to settle from its starting state, and so how many "
    "days at the start of a run to leave out of the results."
)
"""What the Diagnostics section says MSER-5 is, for a reader who does not know it."""


UNCHECKED = "no monthly series in these results, so the warm-up was not checked"
"""What the Diagnostics section says of a scenario whose warm-up was not checked."""


def _warmup_said(diag: Mapping[str, Any]) -> list[tuple[int, str]]:
    """What the Diagnostics section says of one scenario's warm-up check (:func:`sim.warmup.diagnosed`),
    as HTML with each sentence's rank (:func:`sim.present.checks.rank`): the warm-up measure's verdict,
    then each queue flagged (:func:`sim.warmup.queue_warning`)."""
    warm, queues = diagnosed(diag)
    if warm is None:
        return [(rank(None), UNCHECKED)]
    verdict_text = "shorter than suggested: consider a longer run.warmup_days" if warm.settling else "long enough"
    months = (diag.get("warmup") or {}).get("n_points", "?")
    check = f"MSER-5 on the monthly {e(K.WARMUP_MEASURE.label)} ({months} months)"
    if warm.undecided:
        text = f"{check}: the scenario discards {warm.warmup_days:,.0f} days; {e(at_cap('the series', warm))}"
    elif warm.by_chance:
        text = f"{check}: {e(chance('the series', warm))}"
    elif warm.steady:
        text = (
            f"{check} suggests discarding the first {warm.discard_days:,} days; the scenario discards "
            f"{warm.warmup_days:,.0f} days ({verdict_text})"
        )
    else:
        text = f"{check}: {e(unsteady('the series', warm, 'the KPIs depend'))}"
    return [(rank(None), text), *((rank(s), e(cap(queue_warning(s, v)))) for s, v in queues.items() if v.flagged)]


def _warmup_text(res: Results) -> str:
    """The Diagnostics section's warm-up check of every scenario (the baseline's alone for a
    sweep), each sentence once with the scenarios it holds for (:func:`sim.present.checks.said_by`)."""
    said = said_by(res, _warmup_said)
    intro = "" if all(text == UNCHECKED for text, _ in said) else f"<p>{MSER_PLAINLY}</p>"
    return intro + "".join(f"<p>Warm-up ({who}): {text}.</p>" for text, who in said)


def diagnostics(res: Results) -> str:
    if res.kind == Kind.UNCERTAINTY:
        return uncertainty_diagnostics(res)
    names = res.scenarios if res.kind == Kind.COMPARE else [res.base]
    late = [
        f'<p class="warn">Dated changes of {e(s)}: {e(line)}.</p>'
        for s in names
        for line in unreached_warnings(res.config(s))
    ]
    return "\n".join([*late, *[_count_table(res, s) for s in names], _warmup_text(res)])


# --------------------------------------------------------------------------- footer and page
def _in_job_order(res: Results, mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping of ``manifest.json`` by scenario in the job's order, the baseline first (the
    file's keys are sorted), then any other keys as they come."""
    rest = dict(mapping)
    return {**{s: rest.pop(s) for s in res.scenarios if s in rest}, **rest}


def _command(res: Results) -> str:
    man = res.manifest
    cmd = str(man.get("command") or "")
    if " " in cmd or not cmd:
        return cmd
    files = list(_in_job_order(res, {str(k): str(v) for k, v in (man.get("scenario_files") or {}).items()}).values())
    parts = [
        "ehsim",
        cmd,
        *files,
        "--replications",
        str(man.get("replications", "")),
        "--seed",
        str(man.get("seed", "")),
    ]
    for k, vals in (man.get("grid") or {}).items():
        # as typed: str keeps 7700000 (show's 7,700,000 would split the list) and 0.5
        typed = (str(v) if isinstance(v, int | float) and not isinstance(v, bool) else show(v) for v in vals)
        parts += ["--vary", f"{k}={','.join(typed)}"]
    for o in man.get("overrides") or []:
        parts += ["--set", str(o)]
    return shlex.join(parts)


def _versions() -> dict[str, str]:
    out = {}
    for name in ("matplotlib",):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def footer(res: Results) -> str:
    man = res.manifest
    packages = {**(man.get("packages") or {}), **_versions()}
    fingerprints = _in_job_order(res, man.get("fingerprints") or {})
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
        f"<footer><h2 id='reproduce'>Reproducibility</h2><table>{body}</table><p>Rerunning the command with the same "
        "seed gives the same tables on any backend and any number of workers. This page was generated from the files "
        "in the results folder; no numbers in it were typed by hand.</p></footer>"
    )


# --------------------------------------------------------------------------- references
def _markdown(text: str) -> str:
    """A bibliography field as HTML: ``*title*`` in italics, ```code``` as code."""
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", e(text))
    out = re.sub(r"\*(.+?)\*", r"<i>\1</i>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def _reference(key: str, entry: bib.Reference | None, locators: Sequence[str] = ()) -> str:
    if entry is None:
        return f'<li id="ref-{e(key)}"><b>{e(key)}</b>: <span class="warn">not an entry of docs/sources.md</span></li>'
    fields = " ".join(f"{e(name)}: {_markdown(text.rstrip('.'))}." for name, text in entry.fields)
    if locators:
        fields += f" Cited in this report: {e(bib.locator_text(locators, dict(entry.fields).get('Locators', '')))}."
    return f'<li id="ref-{e(key)}"><b>{e(key)}</b>. {fields}</li>'


def references(text: str, sources: Iterable[str] = ()) -> str:
    """The References section: the bibliography entry (``docs/sources.md``) of every source
    key that ``text`` (the rest of the page) cites, in the order first cited, each with the
    locators (paragraphs, tables) that ``sources`` (the source comments the page shows) cite
    it with."""
    keys = bib.cited_keys(text)
    locators = bib.cited_locators(sources)
    if not keys:
        return "<p>This report cites no source of the bibliography.</p>"
    entries = bib.bibliography()
    if entries is None:
        return (
            f'<p class="warn">The bibliography (<code>docs/sources.md</code>) was not found at '
            f"<code>{e(bib.BIBLIOGRAPHY.as_posix())}</code> (the package is installed without its repository), so "
            f"the sources this report cites are listed by key only: {e(', '.join(keys))}.</p>"
        )
    items = "".join(_reference(k, entries.get(k), locators.get(k, ())) for k in keys)
    return (
        "<p>The sources cited above, as the project's bibliography (<code>docs/sources.md</code>) describes them; "
        "a citation gives the key, then the paragraph or table, then the figure.</p>"
        f"<ol>{items}</ol>"
    )


def heading(res: Results) -> tuple[str, str]:
    desc = str(res.config(res.base).get("description", "") or "").strip()
    if res.kind == Kind.COMPARE:
        return f"What-if comparison: {', '.join(res.options)} against {res.base}", desc
    if res.kind == Kind.SWEEP:
        return f"What-if sweep of {res.base}: {', '.join(res.sweep_keys)}", desc
    if res.kind == Kind.UNCERTAINTY:
        against = f"{', '.join(res.options)} against {res.base}" if res.options else res.base
        return f"How much to trust the answer: {against} under parameter uncertainty", desc
    return f"What-if report: {res.base}", desc


def _figures(figures: Sequence[Rendered]) -> str:
    return "".join(
        f'<figure id="fig-{e(f.name)}"><img src="data:image/png;base64,{f.png64}" alt="{e(f.title)}">'
        f"<figcaption>{e(f.caption)} <small>(figures/{e(f.name)}.png, .svg)</small></figcaption></figure>"
        for f in figures
    )


def page(res: Results, figures: Sequence[Rendered]) -> str:
    """The whole page."""
    title, desc = heading(res)
    items = "".join(f"<li>{i}</li>" for i in summary_items(res))
    by_place = localities.locality_section(res)  # "" without --by-locality
    cited: list[str] = []  # the source comments the page shows, for the References
    nav = "".join(f'<a href="#{a}">{e(t)}</a>' for a, t in SECTIONS if by_place or a != localities.ANCHOR)
    body = f"""<h2 id="summary">Summary</h2>
<ul class="summary">{items}</ul>
<h2 id="assumptions">Assumptions and sources</h2>
{assumptions(res, cited)}
<h2 id="figures">Figures</h2>
<p>{e(INTERVALS[res.kind])}</p>
{_figures(figures)}
<h2 id="tables">KPI tables</h2>
{kpi_tables(res)}
{by_place}
<h2 id="diagnostics">Diagnostics</h2>
{diagnostics(res)}"""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ehsim report">
<title>{e(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>{e(title)}</h1>
<p class="lede">{e(desc)}</p>
<nav aria-label="Sections">{nav}</nav>
{body}
<h2 id="references">References</h2>
{references(" ".join([title, desc, body]), cited)}
{footer(res)}
</main>
</body>
</html>
"""

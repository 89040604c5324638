"""The planners' report (:mod:`sim.present`): figures and one self-contained HTML page from a
results folder of any kind.

Small, fast runs (300 days, 1-2 replications) through ``sim.cli.main``. Checked: a report of
every kind exists, is small and loads nothing; an unknown kind exits 2; every number in the
summary matches ``summary.csv`` / ``differences.csv`` and every verdict ``distinguishable``;
every figure has a title, labelled axes with units and no overlapping labels; cost components
add up to the total; no interval of a quantity that cannot be negative goes below zero; the
flow diagram balances per node; one replication, zero step-ups and non-Latin names work; no
warning is printed; ``import sim`` loads no plotting library; and, in headless Chromium, every
image loads and the page fetches nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import math
import re
import shlex
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import kpis as K
from sim import results as R
from sim.analysis import t_interval
from sim.cli import main
from sim.config import load_raw, load_scenario
from sim.experiment import run_replication
from sim.present import fig_compare, fig_costs, fig_diagnostics, fig_flow, fig_services, fig_sweep, fig_waits
from sim.present import references as bib
from sim.present.assumptions import read_assumptions
from sim.present.data import large_changes
from sim.present.format import diff_interval, fmt_money_axis, fmt_number
from sim.present.narrative import changes_text
from sim.present.page import footer, page, references
from sim.present.report import build_figures, make_report
from sim.present.robustness import change_texts
from sim.present.theme import CATEGORY_AXIS_LABELS, colours, palette, safe_text
from sim.vocab import QUEUE_STAGES, SOCIAL_CARE, Exit, Stage, stage_info
from tests.conftest import CONFIGS, ROOT

pytestmark = pytest.mark.filterwarnings("error::UserWarning")  # no matplotlib warning may be printed

SHORT = ["--set", "run.duration_days=300", "--set", "run.warmup_days=30", "--quiet"]
BUSY = ["--set", "referrals.sources.police.annual_rate=2600"]  # queues for key workers, so options differ
MAX_BYTES = 5 * 1024 * 1024
SOURCES = ROOT / "docs" / "sources.md"
NAME = "Ynys-Môn_Şehir_北京"  # Welsh and Turkish letters (in DejaVu Sans) and Chinese ones (not)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    args = ["run", str(CONFIGS / "baseline.yaml"), "--replications", "2", "--out", str(out), "--report", *SHORT]
    assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "compare"
    options = [str(CONFIGS / "options" / n) for n in ("more_key_workers.yaml", "weekly_panel.yaml")]
    args = ["compare", str(CONFIGS / "baseline.yaml"), *options, "--replications", "2", "--out", str(out)]
    assert main([*args, "--report", *SHORT, *BUSY]) == 0
    return out


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "sweep"
    args = ["sweep", str(CONFIGS / "baseline.yaml"), "--vary", "teams.washington.workers=9,11"]
    assert main([*args, "--replications", "2", "--out", str(out), "--report", *SHORT]) == 0
    return out


@pytest.fixture(scope="module")
def single_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One replication, reported by ``ehsim report`` after the scenario file has 'gone'."""
    out = tmp_path_factory.mktemp("report") / "single"
    assert main(["run", str(CONFIGS / "baseline.yaml"), "--replications", "1", "--out", str(out), *SHORT]) == 0
    man = json.loads((out / "manifest.json").read_text())
    man["scenario_files"] = {"baseline": "no/such/scenario.yaml"}
    (out / "manifest.json").write_text(json.dumps(man))
    assert main(["report", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def mmc_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The M/M/c reduction: no front door, panel, MST, social care or step-ups."""
    out = tmp_path_factory.mktemp("report") / "mmc"
    args = ["run", str(CONFIGS / "validation" / "mmc.yaml"), "--replications", "2", "--out", str(out), "--report"]
    assert main([*args, "--set", "run.duration_days=400", "--set", "run.warmup_days=40", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def unicode_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "unicode"
    args = ["run", str(CONFIGS / "baseline.yaml"), "--replications", "2", "--out", str(out), "--report", *SHORT]
    assert main([*args, "--set", f"name={NAME}"]) == 0
    return out


@pytest.fixture(scope="module")
def uncertainty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small uncertainty job (Morris, 2 trajectories of 3 parameters, 1 replication) on a
    busy short M/M/c with staff costs and an option with one more worker."""
    folder = tmp_path_factory.mktemp("report")
    mmc = (CONFIGS / "validation" / "mmc.yaml").as_posix()
    staff = {"key_worker_per_year": {"gbp": 50000, "price_year": 2024}}
    base = {"extends": mmc, "run": {"duration_days": 200, "warmup_days": 20}, "costs": {"staff": staff}}
    (folder / "mmc.yaml").write_text(json.dumps(base))
    (folder / "more.yaml").write_text(
        json.dumps({"extends": "mmc.yaml", "name": "more", "teams": {"town": {"workers": 3}}})
    )
    uniform = {"dist": "uniform"}
    params = [
        {
            "name": "arrivals",
            "keys": ["referrals.sources.all.annual_rate"],
            "distribution": {**uniform, "low": 600, "high": 900},
            "source": "ASSUMPTION",
        },
        {
            "name": "plan_length",
            "keys": ["early_help.duration.mean"],
            "scale": True,
            "distribution": {"dist": "triangular", "low": 0.8, "mode": 1, "high": 1.2},
            "source": "ASSUMPTION",
        },
        {
            "name": "worker_cost",
            "keys": ["costs.staff.key_worker_per_year.gbp"],
            "distribution": {**uniform, "low": 40000, "high": 60000},
            "source": "ASSUMPTION",
        },
    ]
    spec = {
        "scenario": "mmc.yaml",
        "options": ["more.yaml"],
        "kpis": ["cost_total_gbp_per_year", "care_entries", "wait_level3_mean_days"],
        "parameters": params,
    }
    (folder / "spec.json").write_text(json.dumps(spec))
    out = folder / "uncertainty"
    args = ["uncertainty", str(folder / "spec.json"), "--samples", "2", "--replications", "1", "--out", str(out)]
    assert main([*args, "--report", "--quiet"]) == 0
    return out


ALL = ["run_dir", "compare_dir", "sweep_dir", "single_dir", "mmc_dir", "unicode_dir", "uncertainty_dir"]


# --------------------------------------------------------------------------- helpers
class _Page(HTMLParser):
    """Collects the summary's tagged numbers, the images and every src/href of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[tuple[dict[str, str], str]] = []
        self.images: list[dict[str, str]] = []
        self.links: list[str] = []
        self._open: dict[str, str] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.removeprefix("data-"): v or "" for k, v in attrs}
        self.links += [a[k] for k in ("src", "href") if k in a]
        if tag == "img":
            self.images.append(a)
        if tag == "span" and "num" in a.get("class", "").split():
            self._open, self._text = a, ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._open is not None:
            self.numbers.append((self._open, self._text))
            self._open = None


def _page(folder: Path) -> _Page:
    p = _Page()
    p.feed((folder / "report.html").read_text(encoding="utf-8"))
    return p


def _text(folder: Path) -> str:
    return html.unescape((folder / "report.html").read_text(encoding="utf-8"))


def _parse(text: str) -> tuple[float, float]:
    """A number as printed (``£1,234``, ``-0.8``, ``62%``, ``£46.8m``) and half its last digit."""
    t = text.replace("£", "").replace(",", "").replace("%", "").strip()
    unit = 1e6 if t.endswith("m") else 1.0  # money in millions (£46.8m)
    t = t.removesuffix("m")
    assert re.fullmatch(r"-?\d+(\.\d+)?", t), f"not a number: {text!r}"
    decimals = len(t.split(".")[1]) if "." in t else 0
    return float(t) * unit, 0.5 * 10.0**-decimals * unit


def _csv_row(folder: Path, attrs: dict[str, str]) -> pd.Series:
    table = pd.read_csv(folder / ("differences.csv" if attrs["source"] == "differences" else "summary.csv"))
    rows = table[table["kpi"] == attrs["kpi"]]
    if "option" in attrs:
        rows = rows[rows["option"] == attrs["option"]]
    if "scenario" in attrs and "scenario" in rows.columns:
        rows = rows[rows["scenario"] == attrs["scenario"]]
    for key, value in json.loads(attrs.get("where", "{}")).items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1, f"no single CSV row for {attrs}"
    return rows.iloc[0]


def _check_numbers(folder: Path) -> list[dict[str, str]]:
    """Every tagged number in the summary equals its CSV cell (to the printed precision); the
    interval of a difference bounded as its option's level is (``sim.present.format.diff_interval``:
    a wait's difference never below minus the baseline's wait)."""
    numbers = _page(folder).numbers
    assert numbers, "the summary has no numbers"
    kpis = R.read(folder).kpis
    for attrs, text in numbers:
        shown, tol = _parse(text)
        row = _csv_row(folder, attrs)
        scale = float(attrs["scale"])
        value = float(row[attrs["field"]]) * scale
        if attrs["source"] == "differences" and attrs["field"] in ("ci_low", "ci_high"):
            ends = (float(row[f]) * scale for f in ("base_mean", "ci_low", "ci_high"))
            value = dict(zip(("ci_low", "ci_high"), diff_interval(kpis[attrs["kpi"]], *ends, scale)))[attrs["field"]]
        want = abs(value) if attrs["abs"] == "1" else value
        assert math.isfinite(want), attrs
        assert abs(shown - want) <= tol * (1 + 1e-9) + 1e-9, f"{text!r} vs {want} for {attrs}"
    return [a for a, _ in numbers]


def _renderer(fig: Any) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _overlap(a: Any, b: Any, slack: float = 1.0) -> bool:
    return a.x0 < b.x1 - slack and b.x0 < a.x1 - slack and a.y0 < b.y1 - slack and b.y0 < a.y1 - slack


def _check_figure(fig: Any, name: str) -> None:
    """A title; every data axis labelled with a unit; no tick label overlapping another, and
    no axes' labels running into another axes."""
    assert fig.get_suptitle().strip(), f"{name}: no title"
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    if name.startswith("flows"):
        assert not axes, "the flow diagram has no data axes (its counts are written on it)"
        return
    assert axes, f"{name}: no axes"
    renderer = _renderer(fig)
    (sup,) = [t for t in fig.texts if t.get_text() == fig.get_suptitle()]
    top = sup.get_window_extent(renderer)
    assert top.x0 >= 0 and top.x1 <= fig.bbox.width and top.y1 <= fig.bbox.height, f"{name}: the title is cut off"
    for ax in axes:
        assert not _overlap(top, ax.get_tightbbox(renderer)), f"{name}: the title is drawn over {ax.get_title()!r}"
        for label in (ax.get_xlabel(), ax.get_ylabel()):
            assert label.strip(), f"{name}: an axis has no label ({ax.get_title()!r})"
            assert re.search(r"\([^)]+\)", label) or label in CATEGORY_AXIS_LABELS, f"{name}: {label!r} has no unit"
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    assert not _overlap(a, b), f"{name}: overlapping tick labels on {ax.get_title()!r}"
        for other in axes:
            if other is not ax:
                assert not _overlap(ax.get_tightbbox(renderer), other.get_window_extent(renderer), 2.0), (
                    f"{name}: the labels of {ax.get_title()!r} run into {other.get_title()!r}"
                )


# --------------------------------------------------------------------------- every kind
@pytest.mark.parametrize("which", ALL)
def test_report_written_with_figures(which: str, request: pytest.FixtureRequest) -> None:
    folder: Path = request.getfixturevalue(which)
    report = folder / "report.html"
    assert report.is_file()
    assert report.stat().st_size < MAX_BYTES
    page = _page(folder)
    assert page.images
    for img in page.images:
        assert img["src"].startswith("data:image/png;base64,"), "figures must be embedded"
        assert img.get("alt"), "every figure needs alt text"
    figures = sorted(p.name for p in (folder / "figures").iterdir())
    stems = {Path(f).stem for f in figures}
    assert len(stems) == len(page.images)
    assert all(f"{s}.png" in figures and f"{s}.svg" in figures for s in stems)
    text = report.read_text(encoding="utf-8")
    for section in ("Summary", "Assumptions and sources", "Figures", "KPI tables", "Diagnostics", "Reproducibility"):
        assert f">{section}</h2>" in text
    assert "Content-Security-Policy" in text
    from sim.present.data import INTERVALS  # what the page's intervals are, by its kind

    assert html.escape(INTERVALS[R.read(folder).kind]) in text


# run_dir and compare_dir re-render their report only under --runslow (about 25 s each): the fast
# run's ``report`` command on a run folder is test_report_prints_no_warning (exit 0, no warning)
# and single_dir's fixture, and the compare report itself is rendered by its fixture's --report.
@pytest.mark.parametrize(
    "which",
    [
        pytest.param("run_dir", marks=pytest.mark.slow),
        pytest.param("compare_dir", marks=pytest.mark.slow),
        "sweep_dir",
        "uncertainty_dir",
    ],
)
def test_report_command_on_each_kind_exits_0(which: str, request: pytest.FixtureRequest) -> None:
    folder: Path = request.getfixturevalue(which)
    assert main(["report", str(folder)]) == 0
    assert R.read(folder).kind == which.removesuffix("_dir")


def test_report_prints_no_warning(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    done = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-m", "sim", "report", str(copy)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", f"the report printed: {done.stderr[-500:]}"


@pytest.mark.parametrize(
    ("field", "value", "message"), [("kind", "calibration", "unknown kind"), ("schema", 99, "newer")]
)
def test_report_of_unknown_kind_or_newer_schema_exits_2(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: Any, message: str
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    man = json.loads((copy / "manifest.json").read_text())
    man[field] = value
    (copy / "manifest.json").write_text(json.dumps(man))
    assert main(["report", str(copy)]) == 2
    assert message in capsys.readouterr().err


def test_report_command_refuses_a_folder_that_is_not_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "not an ehsim results folder" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_no_external_references(run_dir: Path, compare_dir: Path) -> None:
    for folder in (run_dir, compare_dir):
        for link in _page(folder).links:
            assert link.startswith(("data:", "#")), f"external reference {link[:60]!r}"
        text = (folder / "report.html").read_text(encoding="utf-8")
        assert "<script" not in text and "<link" not in text and "@import" not in text and "url(" not in text


def test_import_sim_loads_no_plotting_library() -> None:
    code = (
        "import sys, sim, sim.cli, sim.present.report\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'seaborn'))\n"
        "print(','.join(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "", f"importing sim loaded {done.stdout.strip()}"


# --------------------------------------------------------------------------- numbers in the text
def test_run_summary_numbers_match_summary_csv(run_dir: Path) -> None:
    checked = _check_numbers(run_dir)
    kpis = {a["kpi"] for a in checked}
    assert {"referrals_total", "step_ups_total", "care_entries", "cost_total_gbp_per_year"} <= kpis


def test_compare_summary_numbers_match_differences_csv(compare_dir: Path) -> None:
    checked = _check_numbers(compare_dir)
    said = {(a["option"], a["kpi"]) for a in checked if a["source"] == "differences"}
    assert ("more_key_workers", "wait_level3_mean_days") in said
    assert ("weekly_panel", "cost_total_gbp_per_year") in said


def test_the_compare_page_says_its_difference_intervals_are_cut_and_the_csv_keeps_them(compare_dir: Path) -> None:
    """The Sunderland review's case: "Mean wait for a key worker 7.75 -> 0.73, diff -7.02 (95% CI
    -7.75 to -1.96)" while differences.csv holds ci_low -12.08, and the page said only that
    differences "can be negative". It now says where the shown interval is cut and that the csv
    keeps the paired t interval."""
    wait = K.wait(Stage.LEVEL3, "mean")
    assert diff_interval(wait, 7.75, -12.08, -1.96) == (-7.75, -1.96)  # what the page shows; the csv keeps -12.08
    text = _text(compare_dir)
    said = (
        "The interval shown for a change in a quantity that cannot be negative is cut at minus the baseline's "
        "level, so that no option's level is below zero (and for a share, so that none is above 100%); "
        "differences.csv keeps the paired t interval, uncut."
    )
    assert said in text


def test_compare_verdicts_come_from_distinguishable(compare_dir: Path) -> None:
    diffs = pd.read_csv(compare_dir / "differences.csv")
    res = R.read(compare_dir)
    text = _text(compare_dir)
    summary = text[text.index('id="summary"') : text.index('id="assumptions"')]
    tables = text[text.index('id="tables"') : text.index('id="diagnostics"')]
    for option in res.options:
        head = re.search(rf"With {option}[^:]*\): (.*?)\.(?!\d)", re.sub(r"<[^>]+>", "", summary))
        assert head, option
        clear_said = re.search(r"(?<!but negligible )clear differences in (.*?)(;|$)", head.group(1))
        said = set(clear_said.group(1).split(", ")) if clear_said else set()
        # a clear difference too small to show at its KPI's precision is listed apart, as such
        small = re.search(r"clear but negligible differences in (.*?)(;|$)", head.group(1))
        said |= {k.split(" (rounds to ")[0] for k in small.group(1).split(", ")} if small else set()
        rows = diffs[(diffs["option"] == option) & diffs["kpi"].isin([k.name for k in K.COMPARE])]
        clear = {res.kpis[k].label for k, d in zip(rows["kpi"], rows["distinguishable"]) if d}
        # and each large clear change in a service's wait or list beside the summary's list
        clear |= {k.label for k in large_changes(res, option, [k.name for k in K.COMPARE])}
        assert said == clear, option
        for kpi, dist in zip(rows["kpi"], rows["distinguishable"]):
            label = res.kpis[kpi].label
            name = re.escape(label[:1].upper() + label[1:])
            cell = re.search(rf"<td>{re.escape(option)}</td><td>{name} <small>.*?</tr>", tables)
            assert cell, (option, kpi)
            assert ("<td>clear difference</td>" in cell.group(0)) == bool(dist), (option, kpi)


def test_compare_summary_points_to_the_diagnostics_warnings(compare_dir: Path) -> None:
    """The compare summary (which does not repeat the Diagnostics section's tables) says near
    its top, in plain words, which answers are less precise than the target and how many runs
    would be needed for each (the most any scenario needs for it), and points there; the
    Diagnostics tables have a "no" cell for each."""
    diag = json.loads((compare_dir / "diagnostics.json").read_text())
    res = R.read(compare_dir)
    rows = [r for d in diag.values() for r in d["replications_needed"] if not r["sufficient"]]
    assert [r for r in diag["baseline"]["replications_needed"] if not r["sufficient"]], (
        "the busy baseline must be short"
    )
    text = _text(compare_dir)
    summary = re.sub(r"<[^>]+>", "", text[text.index('id="summary"') : text.index('id="assumptions"')])
    needed: dict[str, int] = {}
    for r in rows:
        label = res.kpis[r["kpi"]].label
        needed[label] = max(needed.get(label, 0), int(r["n_needed"]))
    (first, most), *rest = needed.items()
    named = [f"{first} (about {most:,} runs would be needed)", *(f"{k} (about {n:,})" for k, n in rest)]
    assert rest, "several answers must be short"
    line = f"Checks: {', '.join(named[:-1])} and {named[-1]} are measured"
    line += " less precisely than ±5% or half a unit with 2 runs"
    assert line in html.unescape(summary), summary
    assert "precision warning" not in summary and "95% CI" not in summary[: summary.index("With more_key_workers")]
    assert summary.index(line) < summary.index("With more_key_workers")
    tables = text[text.index('id="diagnostics"') : text.index("<footer")]
    assert tables.count("<td><b>no</b></td>") == len(rows)


def test_summary_points_to_a_short_warmup(run_dir: Path) -> None:
    from sim.present.narrative import summary_items

    res = R.read(run_dir)
    assert not any("Checks:" in i for i in summary_items(res))  # MSER-5 suggests no more than the 30 days used
    warm = {**res.diagnostics["baseline"], "warmup": {**res.diagnostics["baseline"]["warmup"], "warmup_days": 456}}
    short = dataclasses.replace(res, diagnostics={"baseline": warm})
    (line,) = [i for i in summary_items(short) if "Checks:" in i]
    said = "the number of open Level 3 key-worker plans is still settling after the warm-up, so every answer depends"
    assert said in line and "MSER-5" not in line and 'href="#diagnostics"' in line


def test_summary_says_what_a_year_is_and_the_prices(run_dir: Path) -> None:
    """A planner read "£1.2m a year" as the saving once a phased cut is in force; it is the
    average over the results window. The summary gives the window's dates (SHORT: day 30 to day
    300 of the default's run) and the price year."""
    from sim.present.narrative import summary_items

    res = R.read(run_dir)
    sc = load_scenario(CONFIGS / "baseline.yaml", ["run.duration_days=300", "run.warmup_days=30"])
    assert sc.run.start_date == dt.date(2017, 4, 1)  # days 30 to 299 are 1 May 2017 to 25 January 2018
    want = (
        "Counts and costs are a year: averages over the results window, 1 May 2017 to 25 January 2018; "
        f"money is in {sc.costs.price_year} prices."
    )
    assert want in summary_items(res)[0], summary_items(res)[0]


def test_step_up_sentence_shows_no_parts_that_fail_to_add_up(run_dir: Path) -> None:
    """Step-ups while waiting and during a plan add up to the total in every replication, so in
    their means; rounded separately they need not (4.6 + 61.8 = 66.4 was shown "5 ... and 62"
    beside "66"). Every step-up figure the sentence shows must add up to the total it shows."""
    from sim.present.narrative import summary_items

    res = R.read(run_dir)
    scale = K.STEP_UPS_TOTAL.scale(res.window_days("baseline"))
    means = {K.STEP_UPS_WHILE_WAITING.name: 4.6, K.STEP_UPS_DURING_PLAN.name: 61.8, K.STEP_UPS_TOTAL.name: 66.4}
    summary = res.summary.copy()
    for kpi, per_year in means.items():
        summary.loc[summary["kpi"] == kpi, ["mean", "ci_low", "ci_high"]] = per_year / scale
    (line,) = [i for i in summary_items(dataclasses.replace(res, summary=summary)) if "step up" in i]
    shown = {
        kpi: float(value)
        for kpi, value in re.findall(r'data-kpi="(step_ups_\w+)" data-field="mean"[^>]*>([\d.]+)<', line)
    }
    assert shown[K.STEP_UPS_TOTAL.name] == 66 and shown[K.STEP_UPS_WHILE_WAITING.name] == 5
    parts = [shown[k] for k in (K.STEP_UPS_WHILE_WAITING.name, K.STEP_UPS_DURING_PLAN.name) if k in shown]
    assert len(parts) == 1 or sum(parts) == shown[K.STEP_UPS_TOTAL.name], line
    assert "the rest during a plan" in line


def test_rounding_noise_is_no_change_and_an_unmeasured_kpi_no_row() -> None:
    """MST at 100% utilisation in both scenarios differed by 5.6e-17 (the order of a sum) in one
    option and by 0.0 in another: both are "no change", and the console marks neither clear even
    if the interval of the noise excludes zero. A KPI neither scenario measures (the panel's
    wait where there is no panel) has no verdict, not "one replication"."""
    from sim.present.console import CLEAR_MARK, difference_lines
    from sim.present.data import verdict

    kpi = K.utilisation(Stage.MST, "")
    noise = {"kpi": kpi.name, "option": "opt", "base_mean": 1.0, "option_mean": 1.0 + 2**-52, "n": 4}
    noise |= {"diff_mean": 2**-52, "diff_sd": 1e-17, "ci_low": 1e-16, "ci_high": 3e-16, "distinguishable": True}
    assert verdict(noise) == "none"
    (line,) = difference_lines(pd.DataFrame([noise]), [kpi], 365.0, "opt")
    assert not line.lstrip().startswith(CLEAR_MARK), line
    nothing = {**noise, "base_mean": math.nan, "option_mean": math.nan, "diff_mean": math.nan, "n": 0}
    nothing |= {"diff_sd": math.nan, "ci_low": math.nan, "ci_high": math.nan, "distinguishable": False}
    assert verdict(nothing) == "missing"


@pytest.fixture(scope="module")
def budget_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default with an early help budget of £5m a year (its total cost, social care
    included, is ~£47m a year)."""
    out = tmp_path_factory.mktemp("report") / "budget"
    args = ["run", str(CONFIGS / "baseline.yaml"), "--replications", "2", "--out", str(out), "--report", *SHORT]
    assert main([*args, "--set", "costs.budget_gbp_per_year=5000000"]) == 0
    return out


def test_budget_is_set_against_early_help_cost_never_the_total(budget_dir: Path) -> None:
    """The budget covers early help only. The report said the default was "£42m over the budget"
    (total cost less the early help budget) and drew the budget beside the total: the summary
    and the cost figure must set it against early help cost. The sentence shows the cost and
    the budget in one unit and precision, and says "within" exactly when the upper end of the
    95% CI of early help cost is at or under the budget (from summary.csv, worked out here)."""
    from sim.present.narrative import summary_items

    res = R.read(budget_dir)
    summ = res.summary.set_index("kpi")
    early = summ.loc[K.per_year(K.COST_EARLY_HELP).name]
    assert summ.loc[K.BUDGET.name, "mean"] == pytest.approx(5_000_000.0)
    want = "within" if early["ci_high"] <= 5_000_000.0 else "over" if early["ci_low"] > 5_000_000.0 else "not"
    (line,) = [i for i in summary_items(res) if "budget" in i]
    plain = html.unescape(re.sub(r"<[^>]+>", "", line))
    found = re.search(r"Early help costs (£[\d.,]+m?) a year .*against a budget of (£[\d.,]+m?) a year", plain)
    assert found, plain
    cost, budget = found.groups()
    assert cost.endswith("m") == budget.endswith("m") and len(cost.split(".")[-1]) == len(budget.split(".")[-1])
    assert _parse(budget)[0] == pytest.approx(5_000_000.0)
    assert abs(_parse(cost)[0] - early["mean"]) <= _parse(cost)[1] * (1 + 1e-9)
    assert f"{want} its budget" in plain or (want == "not" and "not distinguishable from its budget" in plain)
    assert "social care" in plain and " over the budget of" not in plain
    fig = fig_costs.costs(res)
    (cost_title,) = [t.get_text() for t in fig.texts if t.get_text().startswith("Total cost")]
    assert "Early help cost" in cost_title and "budget" in cost_title and " over the " not in cost_title
    assert fig.axes[1].get_xlabel().startswith("Early help cost"), fig.axes[1].get_xlabel()


def test_per_year_numbers_are_scaled_by_365_over_the_results_window(run_dir: Path) -> None:
    """Known answer for the report's per-year factor, not read from the code under test: SHORT
    runs 300 days with a 30-day warm-up, so a count or cost stored as a total over the window
    is shown x 365 / 270; a share x 100; anything else (days, a cost already a year) x 1. The
    page's tagged numbers carry the factor they used, so a wrong factor fails here although
    the numbers still equal factor x CSV (``_check_numbers``)."""
    per_year = 365.0 / (300.0 - 30.0)
    assert K.COST_TOTAL.scale(270.0) == pytest.approx(per_year, rel=1e-12)
    assert K.per_year(K.COST_TOTAL).scale(270.0) == 1.0  # stored a year already
    res = R.read(run_dir)
    scaled = set()
    for attrs, _ in _page(run_dir).numbers:
        kpi = res.kpis[attrs["kpi"]]
        share = attrs["field"] == "rel_half_width" or kpi.kind == "share"
        want = 100.0 if share else per_year if kpi.per_year else 1.0
        assert float(attrs["scale"]) == pytest.approx(want, rel=1e-12), f"{attrs}"
        if want == per_year:
            scaled.add(attrs["kpi"])
    assert {"referrals_total", "step_ups_total", "care_entries"} <= scaled


def test_verdict_comes_from_the_paired_interval_not_the_unpaired_one() -> None:
    """Hand-built rows of ``differences.csv`` where the paired and the unpaired (Welch) intervals
    disagree: the report's verdict (and the console's ``*``) follows ``distinguishable``, the
    paired one, whichever way they disagree."""
    from sim.present.console import CLEAR_MARK, difference_lines
    from sim.present.data import verdict

    kpi = K.per_year(K.COST_TOTAL)
    common = {"kpi": kpi.name, "option": "opt", "base_mean": 10.0, "option_mean": 12.0, "diff_mean": 2.0}
    paired_only = {**common, "diff_sd": 0.5, "n": 5, "ci_low": 1.4, "ci_high": 2.6, "distinguishable": True}
    paired_only |= {"unpaired_ci_low": -3.0, "unpaired_ci_high": 7.0}
    unpaired_only = {**common, "diff_sd": 5.0, "n": 5, "ci_low": -4.2, "ci_high": 8.2, "distinguishable": False}
    unpaired_only |= {"unpaired_ci_low": 0.5, "unpaired_ci_high": 3.5}
    assert verdict(paired_only) == "clear"
    assert verdict(unpaired_only) == "unclear"
    for row, clear in ((paired_only, True), (unpaired_only, False)):
        (line,) = difference_lines(pd.DataFrame([row]), [kpi], 365.0, "opt")
        assert line.lstrip().startswith(CLEAR_MARK) == clear, line


def test_sweep_summary_numbers_match_summary_csv(sweep_dir: Path) -> None:
    checked = _check_numbers(sweep_dir)
    assert all("where" in a for a in checked)


# --------------------------------------------------------------------------- figures
# single_dir (run_dir's scenario with one replication) and unicode_dir (run_dir's with a non-Latin
# name, whose rendering test_non_latin_names_render checks) rebuild every figure only under
# --runslow (about 30 s and 20 s); the fast run checks the five other folders.
@pytest.mark.parametrize(
    "which",
    [pytest.param(w, marks=pytest.mark.slow) if w in ("single_dir", "unicode_dir") else w for w in ALL],
)
def test_every_figure_has_title_axis_units_and_no_overlaps(which: str, request: pytest.FixtureRequest) -> None:
    specs = build_figures(R.read(request.getfixturevalue(which)))
    assert specs
    for spec in specs:
        _check_figure(spec.figure, spec.name)


def test_a_long_title_wraps_to_the_width_and_clears_the_panels() -> None:
    """A tall figure's two-line title was drawn over its first panels' titles (the
    Sunderland forest plot): the title's height is reserved whatever its lines, and a line
    wider than the figure is wrapped again."""
    from sim.present.theme import finish, new_figure, title

    for width, height, rows in ((12.0, 25.0, 9), (6.0, 4.0, 1)):
        fig, axes = new_figure(width, height, rows, 2)
        for i, ax in enumerate(axes):
            ax.set_title(f"Mean wait for a key worker {i}")
            ax.set_xlabel("Change (days)")
            ax.set_ylabel("Option")
        parts = [f"{o}: {n} of 18" for o, n in (("fgc_in_early_help", 3), ("more_partner_led_plans", 11))]
        parts += ["pooled_allocation: 2 of 18", "weekly_panel: 2 of 18", "WWWWWWWWWWWW_WWWWWWWWWWWWW: 0 of 18"]
        title(fig, "Clear differences from the baseline (paired 95% CI excludes 0) - " + "; ".join(parts))
        _check_figure(finish(fig), f"long title, {width} x {height} in")


def test_titles_state_findings_from_the_data(run_dir: Path) -> None:
    res = R.read(run_dir)
    title = fig_services.step_ups(res).get_suptitle()
    summ = res.summary.set_index("kpi")["mean"]
    per_year = K.DAYS_PER_YEAR / summ["window_days"]
    assert fmt_number(summ["step_ups_total"] * per_year, "count") in title
    assert fmt_number(summ["care_entries"] * per_year, "count") in title


def test_compare_titles_claim_a_change_only_where_the_paired_ci_excludes_zero(compare_dir: Path) -> None:
    """The waits figure names a clear change only if some queue's mean wait has a paired CI that
    excludes zero, and then that queue's; otherwise its title says there is no clear change."""
    res = R.read(compare_dir)
    assert res.differences is not None
    d = res.differences.set_index(["kpi", "option"])
    waits = fig_waits.waits(res).get_suptitle().replace("\n", " ")
    clear = [
        (abs(float(d.loc[(K.wait(q, "mean").name, o), "diff_mean"])), q, o)
        for q in QUEUE_STAGES
        for o in res.options
        if (K.wait(q, "mean").name, o) in d.index and bool(d.loc[(K.wait(q, "mean").name, o), "distinguishable"])
    ]
    if clear:
        _, q, o = max(clear)
        assert waits.startswith(f"Biggest clear change: the mean wait for {stage_info(q).phrase} "), waits
        assert f"with {o}" in waits
    else:
        assert waits.startswith("No clear change in mean waits with 2 replications"), waits
        assert "falls" not in waits and "rises" not in waits


def test_forest_axes_of_shares_are_in_points_and_never_zero_width(compare_dir: Path) -> None:
    """A change in a share (utilisation) is in percentage points, as the tables say ("Change (%)"
    read as a percent change); a KPI whose differences are all exactly zero and whose kind has no
    minimum span drew an axis of zero width (matplotlib's "identical low and high xlims"
    warning, an error in these tests)."""
    res = R.read(compare_dir)
    d = res.differences
    assert d is not None
    d = d.copy()
    zero = d["kpi"] == K.SW_CASELOAD.name  # kind "number": no minimum span
    assert zero.any()
    d.loc[zero, ["base_mean", "option_mean"]] = 1.0
    d.loc[zero, ["diff_mean", "diff_sd", "ci_low", "ci_high"]] = 0.0
    fig = fig_compare.forest(dataclasses.replace(res, differences=d))
    _renderer(fig)
    labels = {ax.get_title(): ax.get_xlabel() for ax in fig.axes if ax.get_visible()}
    shares = [label for title, label in labels.items() if "utilisation" in title.lower()]
    assert shares and all(label == "Change (percentage points)" for label in shares), labels


def test_money_axes_show_the_minus_sign(compare_dir: Path) -> None:
    assert fmt_money_axis(-350_000) == "−£350k" and fmt_money_axis(-1.25e6) == "−£1.2m"
    res = R.read(compare_dir)
    d = res.differences
    assert d is not None
    d = d.copy()
    d.loc[d["kpi"] == "cost_total_gbp_per_year", "diff_mean"] = -50_000.0  # a saving, to put ticks below zero
    fig = fig_compare.forest(dataclasses.replace(res, differences=d))
    _renderer(fig)
    money = [ax for ax in fig.axes if ax.get_visible() and "£" in ax.get_xlabel()]
    assert money
    negative = [t.get_text() for ax in money for t in ax.get_xticklabels() if t.get_position()[0] < 0]
    assert negative and all(t.startswith("−£") for t in negative), negative


def test_cost_components_add_up_to_the_total(run_dir: Path, compare_dir: Path) -> None:
    for folder in (run_dir, compare_dir):
        res = R.read(folder)
        summ = res.summary
        for s in res.scenarios:
            rows = summ[summ["scenario"] == s].set_index("kpi")["mean"]
            parts = sum(rows[k.name] for k in K.COST_COMPONENTS)
            assert parts == pytest.approx(rows["cost_total_gbp"], rel=1e-9, abs=0.01)
            years = rows["window_days"] / K.DAYS_PER_YEAR
            assert parts / years == pytest.approx(rows["cost_total_gbp_per_year"], rel=1e-9, abs=0.01)
        drawn = [k.name for k in fig_costs.components(res)]
        assert K.COST_ASSESSMENT.name in drawn  # it was missing from "By component"
        zero = [k.name for k in K.COST_COMPONENTS if (summ.loc[summ["kpi"] == k.name, "mean"] == 0).all()]
        assert zero and not set(zero) & set(drawn)  # per-case costs are zero in these scenarios: left out
        fig = fig_costs.costs(res)
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert "Assessment cost" in labels and "Per-case cost" not in labels
        assert any("add up to the total" in t.get_text() for t in fig.texts)


def test_no_interval_below_zero_for_a_nonnegative_kpi(run_dir: Path, compare_dir: Path, sweep_dir: Path) -> None:
    for folder in (run_dir, compare_dir, sweep_dir):
        res = R.read(folder)
        summ = res.summary
        nonneg = summ["kpi"].map({name: k.nonnegative for name, k in res.kpis.items()})
        assert (summ.loc[nonneg, "ci_low"].dropna() >= 0).all()
        for attrs, text in _page(folder).numbers:
            if attrs["source"] == "summary" and attrs["field"] == "ci_low" and res.kpis[attrs["kpi"]].nonnegative:
                assert _parse(text)[0] >= 0, attrs
        tables = _text(folder)
        tables = tables[tables.index('id="tables"') : tables.index('id="diagnostics"')]
        diff_table = tables.split("Paired differences")[0]  # differences may be negative; levels may not
        assert not re.search(r"<small>-", diff_table), "a printed interval of a level goes below zero"
    # the figures: a t interval of 2 replications of entries to care goes below zero; drawn, it does not
    res = R.read(run_dir)
    care = res.replications["care_entries"].to_numpy(dtype=float)
    assert t_interval(care)[1] < 0
    run = fig_diagnostics.running_interval(care, res.kpis["care_entries"])
    assert (run["low"].dropna() >= 0).all()
    fig = fig_diagnostics.precision(res)
    for ax in fig.axes:
        for band in ax.collections:
            ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
            assert (ys >= -1e-9).all(), f"an interval band goes below zero on {ax.get_title()!r}"
    for draw in (fig_services.step_ups, fig_services.utilisation, fig_costs.costs):
        for ax in draw(res).axes:
            for coll in ax.collections:  # errorbar whiskers
                for seg in getattr(coll, "get_segments", list)():
                    assert (np.asarray(seg)[:, 0] >= -1e-9).all(), ax.get_title()
    sweep = R.read(sweep_dir)
    for kpi in (sweep.kpis[k.name] for k in K.SWEEP):
        assert (fig_sweep.sweep_table(sweep, kpi)["low"].dropna() >= 0).all()


def test_forest_says_one_replication_only_when_there_is_one(compare_dir: Path) -> None:
    res = R.read(compare_dir)
    d = res.differences
    assert d is not None
    nan = d.copy()
    nan.loc[
        (nan["option"] == "weekly_panel") & (nan["kpi"] == "wait_mst_mean_days"), ["diff_mean", "ci_low", "ci_high"]
    ] = math.nan
    assert "One replication" not in fig_compare.forest(dataclasses.replace(res, differences=nan)).get_suptitle()
    one = dataclasses.replace(res, replications=res.replications[res.replications["rep"] == 0])
    assert "One replication" in fig_compare.forest(one).get_suptitle()


def test_queues_over_time_are_monthly_averages(run_dir: Path) -> None:
    res = R.read(run_dir)
    for spec in build_figures(res):
        if spec.name in ("queues", "open_cases"):
            assert all("monthly average" in ax.get_ylabel() for ax in spec.figure.axes if ax.get_visible())
            assert any("average over its month" in t.get_text() for t in spec.figure.texts)


def test_colour_blind_palette() -> None:
    assert list(colours(["a", "b", "c"]).values()) == list(palette()[:3])
    assert palette()[0] == "#0173b2"  # seaborn's colorblind palette


# --------------------------------------------------------------------------- the flow diagram
def _balanced(table: list[fig_flow.Flow]) -> None:
    for node, (inflow, outflow) in fig_flow.balance(table).items():
        assert inflow == pytest.approx(outflow, rel=1e-9, abs=1e-9), f"{node}: in {inflow} != out {outflow}"


def test_flow_table_balances_per_node(run_dir: Path, compare_dir: Path) -> None:
    for folder in (run_dir, compare_dir):
        res = R.read(folder)
        for s in res.scenarios:
            table = fig_flow.flow_table(res, s)
            assert {f.kpi for f in table} == {k.name for k in K.flow_kpis()}
            _balanced(table)


def _whole_and_balanced(means: list[fig_flow.Flow], shown: list[fig_flow.Flow]) -> None:
    """``shown`` is ``means`` with every value its floor or ceiling, and every node balances
    exactly in whole families."""
    assert [(f.source, f.target, f.what, f.kpi) for f in shown] == [(f.source, f.target, f.what, f.kpi) for f in means]
    for mean, f in zip(means, shown, strict=True):
        assert f.value in (math.floor(mean.value), math.ceil(mean.value)), (mean, f)
    for node, (inflow, outflow) in fig_flow.balance(shown).items():
        assert inflow == outflow, f"{node}: in {inflow:,.0f} != out {outflow:,.0f}"


_NODES = ["", "a", "b", "c", "d", "e"]  # "" is outside


@given(
    cycles=st.lists(
        st.tuples(
            st.lists(st.sampled_from(_NODES), min_size=2, max_size=6, unique=True),
            st.integers(1, 40_000),
            st.sampled_from([1, 2, 3, 4, 7, 10, 1000]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_flows_in_whole_families_keep_every_nodes_balance(cycles: list[tuple[list[str], int, int]]) -> None:
    # a random circulation (outside a node like any other: a sum of cycles, each carrying a
    # mean of some replications), some flows between the same two nodes kept apart
    values: dict[tuple[str, str, int], float] = {}
    for nodes, total, reps in cycles:
        for i, source in enumerate(nodes):
            key = (source, nodes[(i + 1) % len(nodes)], total % 2)
            values[key] = values.get(key, 0.0) + total / reps
    means = [fig_flow.Flow(a, b, v, "move", f"k{n}") for n, ((a, b, _), v) in enumerate(values.items())]
    shown = fig_flow.whole_families(means)
    _whole_and_balanced(means, shown)
    assert fig_flow.whole_families(means) == shown  # the same table, the same rounding


def test_flows_in_whole_families_of_a_table_that_does_not_balance_stay_floor_or_ceiling() -> None:
    # an older results folder may lack a flow: no cycle to push around, a path instead
    means = [fig_flow.Flow("", "a", 2.5, "referrals", "k1"), fig_flow.Flow("a", "", 1.25, "closed", "k2")]
    shown = fig_flow.whole_families(means)
    assert [f.value for f in shown] in ([2.0, 1.0], [3.0, 2.0], [2.0, 2.0], [3.0, 1.0])


# the Level 3 box of a table like a user's: every half rounded the same way to the nearest
# even number (in 1,288.5 -> 1,288 and 5,318.5 -> 5,318; out 4,807.5 -> 4,808 and 393.5 ->
# 394): drawn one by one it read in 6,606 and out 6,608
_HALVES = {
    K.flow_at_start(Stage.LEVEL3): 1288.5,
    K.flow_referred(Stage.LEVEL3): 5318.5,
    K.flow_exit(Stage.LEVEL3, Exit.OUTCOMES_MET): 4807.5,
    K.flow_exit(Stage.LEVEL3, Exit.DISENGAGED): 393.5,
    K.flow_at_end(Stage.LEVEL3): 1406.0,
}


def test_the_flow_diagram_draws_boxes_that_balance_in_whole_families() -> None:
    means = {k.name: _HALVES.get(k, 0.0) for k in K.flow_kpis()}
    summary = pd.DataFrame({"scenario": "s", "kpi": list(means), "mean": list(means.values())})
    res = R.Results(
        R.Kind.RUN,
        ["s"],
        pd.DataFrame(),
        summary,
        {k.name: k for k in K.flow_kpis()},
        configs={"s": {"run": {"duration_days": 400, "warmup_days": 35}}},
    )
    texts = [t.get_text() for ax in fig_flow.flows(res).axes for t in ax.texts]

    def drawn(pattern: str) -> list[int]:
        return [int(n.replace(",", "")) for t in texts for n in re.findall(pattern, t)]

    (start,), (end,) = drawn(r"at the start ([\d,]+)"), drawn(r"still there at the end ([\d,]+)")
    (referred,) = drawn(r"referrals ([\d,]+)")
    out = drawn(r"(?:outcomes met|disengaged) ([\d,]+)")
    assert len(out) == 2
    assert start + referred == sum(out) + end, f"in {start:,} + {referred:,}, out {out} + {end:,}"
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", n) for t in texts for n in re.findall(r"\d[\d,.]*\d|\d", t))


def test_flow_diagram_numbers_of_a_compare_balance_in_whole_families(compare_dir: Path) -> None:
    res = R.read(compare_dir)
    for s in res.scenarios:
        means = fig_flow.merged(fig_flow.flow_table(res, s))
        shown = fig_flow.shown_flows(res, s)
        _whole_and_balanced(means, shown)
        texts = [t.get_text() for ax in fig_flow.flows(res, s).axes for t in ax.texts]
        box = next(t for t in texts if t.startswith(stage_info(Stage.LEVEL3).label + "\n"))
        start = next(f.value for f in shown if f.target == Stage.LEVEL3 and f.what == "at the start")
        end = next(f.value for f in shown if f.source == Stage.LEVEL3 and f.what == "still there at the end")
        assert f"at the start {start:,.0f}\nstill there at the end {end:,.0f}" in box


def test_each_referral_count_says_what_it_counts(run_dir: Path) -> None:
    """The flow figure's title counts new referrals and re-referrals over the window into early
    help and straight into social care (its parts add up to its total); the KPI
    ``referrals_total`` counts early help episodes a year, step-downs included, and its label
    says so; neither is called plain "referrals"."""
    res = R.read(run_dir)
    referred = {f.target: f.value for f in fig_flow.shown_flows(res) if f.what == "referrals"}  # as drawn
    eh = round(sum(v for n, v in referred.items() if n != SOCIAL_CARE))
    sc = round(referred[SOCIAL_CARE])
    assert eh > 0 and sc > 0
    title = fig_flow.flows(res).get_suptitle().replace("\n", " ")
    parts = (fmt_number(eh + sc, "count"), fmt_number(eh, "count"), fmt_number(sc, "count"))
    assert (
        ": {} referrals to early help and social care ({} to early help, {} straight to social care);".format(*parts)
        in title
    ), title
    label = res.kpis[K.REFERRALS_TOTAL.name].label
    assert label == "referrals and step-downs into early help"
    text = _text(run_dir)
    tables = text[text.index('id="tables"') : text.index('id="diagnostics"')]
    assert "Referrals and step-downs into early help" in tables
    summary = re.sub(r"<[^>]+>", "", text[text.index('id="summary"') : text.index('id="assumptions"')])
    assert re.search(r"Early help receives [\d,]+ referrals a year, step-downs from social care included", summary)


@pytest.mark.parametrize(
    ("config", "busy"),
    [("baseline.yaml", BUSY[1:]), ("kirklees/options/fgc_at_first_contact.yaml", []), ("validation/mmc.yaml", [])],
)
def test_flow_kpis_balance_in_every_replication_and_agree_with_the_other_kpis(config: str, busy: list[str]) -> None:
    sc = load_scenario(CONFIGS / config, ["run.duration_days=500", "run.warmup_days=100", *busy])
    k = run_replication(sc, rep=1, seed=3).kpis
    summary = pd.DataFrame({"scenario": sc.name, "kpi": list(k), "mean": list(k.values())})
    res = R.Results(R.Kind.RUN, [sc.name], pd.DataFrame(), summary, K.catalogue(sc))
    _balanced(fig_flow.flow_table(res))
    assert k[K.flow_moved(Stage.FRONT_DOOR, Stage.PANEL).name] == k[K.routed(Stage.FRONT_DOOR, "panel").name]
    assert k[K.flow_moved(Stage.PANEL, Stage.LEVEL3).name] == k[K.routed(Stage.PANEL, "level3").name]
    assert k[K.flow_exit(Stage.LEVEL3, Exit.STEP_UP_DURING_PLAN).name] == k[K.STEP_UPS_DURING_PLAN.name]
    assert sum(k[K.flow_exit(n, Exit.WITHDRAWN).name] for n in K.FLOW_EXITS) == k[K.WITHDRAWN_TOTAL.name]
    eh = (Stage.FRONT_DOOR, Stage.PANEL, Stage.LEVEL2, Stage.LEVEL3)
    assert sum(k[K.flow_at_end(n).name] for n in eh) == k[K.IN_EARLY_HELP_AT_END.name]
    assert k[K.flow_moved(K.SOCIAL_CARE, Stage.LEVEL3).name] == k["referrals_source_social_care_step_down"]


def test_flow_diagram_draws_every_move_once(run_dir: Path) -> None:
    res = R.read(run_dir)
    fig = fig_flow.flows(res)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(t.endswith("stepped up\nto Level 3") for t in texts)
    assert any(t.endswith("stepped down\nto Level 2") for t in texts)
    assert sum("stepped down\nfrom social care" in t for t in texts) == 1
    assert any(t.startswith("MST: ") for t in texts), "the scenario has MST: it is shown"
    numbers = [n for t in texts for n in re.findall(r"\d[\d,]*(?:\.\d+)?", t)]
    assert numbers and all("." not in n for n in numbers), "counts are whole families"
    boxes = [t for t in texts if "at the start" in t]
    assert len(boxes) == len(fig_flow.shown_nodes(fig_flow.shown_flows(res)))


@pytest.mark.parametrize("which", ["run_dir", "mmc_dir"])
def test_flow_diagram_has_no_floating_box(which: str, request: pytest.FixtureRequest) -> None:
    table = fig_flow.shown_flows(R.read(request.getfixturevalue(which)))
    moving = {"at the start", "still there at the end"}
    for node in fig_flow.shown_nodes(table):
        through = sum(f.value for f in table if node in (f.source, f.target) and f.what not in moving)
        assert through >= 1, f"{node} is drawn but no family moves through it (a floating box)"


def test_flow_diagram_shows_the_edge_of_care_services_a_scenario_has(tmp_path: Path) -> None:
    out = tmp_path / "k"
    config = CONFIGS / "kirklees" / "options" / "fgc_at_first_contact.yaml"
    assert main(["run", str(config), "--replications", "1", "--out", str(out), *SHORT]) == 0
    res = R.read(out)
    texts = [t.get_text() for ax in fig_flow.flows(res).axes for t in ax.texts]
    for service in ("MST", "FGC", "Family mental health"):
        assert any(re.search(rf"^{service}: [\d,]+ started", t, re.M) for t in texts), service


# --------------------------------------------------------------------------- edge cases end to end
def test_single_replication_report(single_dir: Path) -> None:
    text = _text(single_dir)
    assert "One replication gives no confidence intervals" in text
    assert (single_dir / "figures" / "waits_per_family.png").is_file()  # events.parquet is used when present
    assert "was not found" in text  # the scenario file named in the manifest is gone
    _check_numbers(single_dir)


def test_zero_step_ups_report(mmc_dir: Path) -> None:
    reps = pd.read_parquet(mmc_dir / "replications.parquet")
    assert (reps["step_ups_total"] == 0).all()
    assert "No family stepped up to social care or entered care" in _text(mmc_dir)
    _check_numbers(mmc_dir)
    fig = fig_services.step_ups(R.read(mmc_dir))
    assert "No step-ups" in fig.get_suptitle()


def test_degenerate_inputs_give_figures_with_notes(run_dir: Path) -> None:
    res = R.read(run_dir)
    one = dataclasses.replace(res, replications=res.replications[res.replications["rep"] == 0])
    empty = dataclasses.replace(res, series=None, events=None, differences=None)
    figures = {
        "waits_one": fig_waits.waits(one),
        "precision_one": fig_diagnostics.precision(one),
        "warmup_empty": fig_diagnostics.warmup(empty),
        "forest_empty": fig_compare.forest(empty),
        "waits_per_family_empty": fig_waits.waits_per_family(empty),
        "sweep_empty": fig_sweep.sweep(empty),
    }
    for name, fig in figures.items():
        _check_figure(fig, name)
    assert "One replication" in figures["precision_one"].get_suptitle()


def test_non_latin_names_render(unicode_dir: Path) -> None:
    assert safe_text("Ynys-Môn_Şehir") == "Ynys-Môn_Şehir"  # DejaVu Sans has these letters
    assert safe_text("北京") == "??"  # no installed font has these: replaced, not drawn as boxes
    res = R.read(unicode_dir)
    assert res.base == NAME
    assert NAME in _text(unicode_dir)  # the page keeps the name as it is
    assert (unicode_dir / "figures" / "flows.png").is_file()


def test_report_command_rewrites_the_report(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "figures" / "old_figure.png").write_bytes(b"stale")
    (copy / "report.html").unlink()
    assert make_report(copy) == copy / "report.html"
    assert not (copy / "figures" / "old_figure.png").exists()
    # figures are deterministic: the same results give the same images
    assert [i["src"] for i in _page(copy).images] == [i["src"] for i in _page(run_dir).images]


def test_the_command_of_a_script_lists_the_baseline_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Sunderland review's case: an experiment script's report rebuilt its command from
    manifest.json's scenario files, whose keys are sorted, so "ehsim compare" got an option
    (fgc_in_early_help) as its baseline. The files now come in the job's order, as do the
    scenarios' fingerprints."""
    out = tmp_path / "c"
    base, option = CONFIGS / "options" / "weekly_panel.yaml", CONFIGS / "options" / "more_key_workers.yaml"
    monkeypatch.setattr(sys, "argv", ["experiments/a_council.py"])  # not ehsim: the command is rebuilt
    args = ["compare", str(base), str(option), "--replications", "2", "--out", str(out)]
    assert main([*args, "--set", "run.duration_days=40", "--set", "run.warmup_days=0", "--quiet"]) == 0
    res = R.read(out)
    assert res.scenarios == ["weekly_panel", "more_key_workers"]
    assert list(res.manifest["scenario_files"]) == ["more_key_workers", "weekly_panel"]  # as manifest.json holds it
    (command,) = re.findall(r"<th scope='row'>Command</th><td><code>(.*?)</code>", footer(res))
    words = shlex.split(html.unescape(command))
    assert words[:4] == ["ehsim", "compare", str(base), str(option)], words
    (scenarios,) = re.findall(r"<th scope='row'>Scenarios</th><td>(.*?)</td>", footer(res))
    assert scenarios.startswith("weekly_panel <code>"), scenarios  # the fingerprints, in the same order


# --------------------------------------------------------------------------- assumptions
def _comment(path: Path, key: str) -> str:
    """The comment on the line of ``path`` that sets ``key`` (as written in the file)."""
    line = next(x for x in path.read_text(encoding="utf-8").splitlines() if re.match(rf"\s*{key}\s*:", x))
    return line.split("#", 1)[1].strip()


def test_assumptions_follow_extends_and_keep_sources() -> None:
    rows, headers = read_assumptions(CONFIGS / "options" / "more_key_workers.yaml", ["panel.interval_days=10"])
    by_key = {r.key: r for r in rows}
    workers = by_key["teams.washington.workers"]
    assert workers.value == "7" and workers.is_assumption and workers.file == "configs/options/more_key_workers.yaml"
    assert workers.source == _comment(CONFIGS / "options" / "more_key_workers.yaml", "washington")
    rest = by_key["teams.washington"]  # the parent's line, minus the overridden key
    assert "caseload_cap: 22" in rest.value and not rest.value.startswith("workers")  # workers overridden
    assert rest.source == _comment(CONFIGS / "baseline.yaml", "washington: {workers")
    assert rest.file == "configs/baseline.yaml"
    assert by_key["panel.interval_days"].value == "10" and "command line" in by_key["panel.interval_days"].source
    assert by_key["run.start_date"].source == _comment(CONFIGS / "baseline.yaml", "start_date")
    assert [h[0] for h in headers] == ["configs/baseline.yaml", "configs/options/more_key_workers.yaml"]


SUNDERLAND_TEAMS = ("washington", "east_west", "coalfields")


def test_assumptions_drop_what_replace_true_removed() -> None:
    """Kirklees extends the Sunderland-shaped baseline and replaces its localities and teams:
    the table lists the Kirklees teams only, each from the file that set it (path from the
    repository root), as the loader merges the chain."""
    rows, headers = read_assumptions(CONFIGS / "kirklees" / "calibrated.yaml")
    keys = [r.key for r in rows]
    stale = [k for k in keys if any(t in k.split(".") for t in SUNDERLAND_TEAMS)]
    assert not stale, f"settings that replace: true removed: {stale}"
    by_key = {r.key: r for r in rows}
    for team in ("north", "south", "dewsbury", "huddersfield"):
        assert by_key[f"teams.{team}"].file == "configs/kirklees/baseline.yaml"
        assert by_key[f"localities.{team}.referral_share"].value == "0.25"
        assert f"initial_state.teams.{team}" in by_key
    assert by_key["run.warmup_days"].file == "configs/kirklees/baseline.yaml"
    assert by_key["panel.interval_days"].file == "configs/baseline.yaml"  # merged, not replaced
    assert [h[0] for h in headers] == [
        "configs/baseline.yaml",
        "configs/kirklees/baseline.yaml",
        "configs/kirklees/calibrated.yaml",
    ]
    raw = load_raw(CONFIGS / "kirklees" / "calibrated.yaml")
    for key in keys:  # every row names a setting of the scenario that was run
        node: Any = raw
        for part in key.split("."):
            if isinstance(node, list):
                break
            assert isinstance(node, dict) and part in node, f"{key} is not in the merged scenario"
            node = node[part]


def test_assumptions_follow_the_loaders_replace_rule(tmp_path: Path) -> None:
    """A section replaced whole drops the parent's settings and the parent's section source;
    a section merged keeps them; files outside the repository show relative to their folder."""
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "parent.yaml").write_text(
        "teams:                  # Sunderland-EH-2018 para 3.2\n"
        "  a: {workers: 5}       # ASSUMPTION: a\n"
        "  b: {workers: 6}       # ASSUMPTION: b\n"
        "panel:                  # Sunderland-EH-2018 para 3.7\n"
        "  interval_days: 14     # ASSUMPTION: fortnightly\n"
        "  capacity_per_meeting: 15   # ASSUMPTION: per meeting\n"
    )
    (tmp_path / "child.yaml").write_text(
        "extends: base/parent.yaml\n"
        "teams:\n"
        "  replace: true\n"
        "  c: {workers: 7}       # ASSUMPTION: c\n"
        "panel:\n"
        "  interval_days: 7      # option tested\n"
    )
    rows, headers = read_assumptions(tmp_path / "child.yaml")
    by_key = {r.key: r for r in rows}
    assert set(by_key) == {"teams.c.workers", "panel", "panel.interval_days", "panel.capacity_per_meeting"}
    assert by_key["teams.c.workers"].file == "child.yaml" and by_key["panel"].file == "base/parent.yaml"
    assert [h[0] for h in headers] == ["base/parent.yaml", "child.yaml"]
    merged = load_raw(tmp_path / "child.yaml")
    assert merged["teams"] == {"c": {"workers": 7}}  # what the loader runs, the table follows


@pytest.mark.parametrize("child", ["extends: base/parent.yaml\n", "extends: base/parent.yaml\nrun: {}\n"])
def test_an_empty_child_keeps_its_parents_assumptions(tmp_path: Path, child: str) -> None:
    """A file that only extends (a control option) or sets a section to ``{}`` changes
    nothing the loader runs, so the table keeps every parent setting (the empty mapping
    crashed the reader, or dropped the section's rows)."""
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "parent.yaml").write_text(
        "run:\n  duration_days: 730    # ASSUMPTION: two years\n  warmup_days: 90       # ASSUMPTION: a quarter\n"
    )
    (tmp_path / "child.yaml").write_text(child)
    rows, _ = read_assumptions(tmp_path / "child.yaml")
    assert {r.key: r.file for r in rows} == {
        "run.duration_days": "base/parent.yaml",
        "run.warmup_days": "base/parent.yaml",
    }
    assert load_raw(tmp_path / "child.yaml")["run"] == {"duration_days": 730, "warmup_days": 90}


def _assumption_rows(text: str) -> list[str]:
    """The first cells (settings) of the report's assumptions table."""
    table = text[text.index("<summary>Assumptions and sources (") :]
    table = table[: table.index("</details>")]
    return re.findall(r"<tr><td><code>(.*?)</code>", table)


@pytest.fixture(scope="module")
def kirklees_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The page of a Kirklees compare report (a month, two replications; no figures: they cite
    nothing)."""
    out = tmp_path_factory.mktemp("report") / "kirklees"
    base, option = CONFIGS / "kirklees" / "calibrated.yaml", CONFIGS / "kirklees" / "options" / "second_mst_team.yaml"
    days = ["--set", "run.duration_days=30", "--set", "run.warmup_days=0", "--quiet"]
    assert main(["compare", str(base), str(option), "--replications", "2", "--out", str(out), *days]) == 0
    return page(R.read(out), [])


def test_kirklees_report_lists_only_the_settings_run(kirklees_page: str) -> None:
    text = html.unescape(kirklees_page)
    rows = _assumption_rows(text)
    assert rows and not [r for r in rows if any(t in r for t in SUNDERLAND_TEAMS)]
    assert "teams.huddersfield" in rows
    count = int(re.search(r"has (\d+) commented settings", text).group(1))  # type: ignore[union-attr]
    assert count == len(rows) == int(re.search(r"Assumptions and sources \((\d+) settings\)", text).group(1))  # type: ignore[union-attr]
    assert "configs/kirklees/baseline.yaml:" in text and "<td>baseline.yaml:" not in text


def _first_line(key: str) -> str:
    """The first line of the entry's title (or source) in docs/sources.md, without markup."""
    entry = SOURCES.read_text(encoding="utf-8").split(f"\n### {key}\n", 1)[1]
    field = re.search(r"^\* \*\*(?:Title|Source):\*\* (.*)$", entry, re.M)
    assert field is not None, key
    return field.group(1).replace("*", "").strip()


def _references(text: str) -> tuple[str, dict[str, str]]:
    """The page without its References section, and key -> that section's entry as text."""
    start, end = text.index('<h2 id="references">'), text.index("<footer>")
    items = re.findall(r'<li id="ref-([^"]+)">(.*?)</li>', text[start:end], re.S)
    entries = {key: html.unescape(re.sub(r"<[^>]+>", "", item)) for key, item in items}
    return text[:start] + text[end:], entries


@pytest.mark.parametrize("which", ["kirklees_page", "compare_dir"])
def test_every_cited_source_is_in_the_references(which: str, request: pytest.FixtureRequest) -> None:
    found = request.getfixturevalue(which)
    text = found if isinstance(found, str) else (found / "report.html").read_text(encoding="utf-8")
    rest, entries = _references(text)
    cited = set(bib.cited_keys(rest))
    assert {"Sunderland-EH-2018", "DfE-CIN-2025"} <= cited
    assert cited == set(entries), f"cited but not listed: {cited - set(entries)}; listed: {set(entries) - cited}"
    for key in cited:
        assert _first_line(key) in entries[key], key


def test_references_say_when_the_bibliography_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bib, "BIBLIOGRAPHY", tmp_path / "docs" / "sources.md")
    text = references("as DfE-CIN-2025 C2 gives it")
    assert "was not found" in text and "DfE-CIN-2025" in text and "<li" not in text


def test_report_lists_assumptions_and_option_changes(run_dir: Path, compare_dir: Path) -> None:
    text = _text(run_dir)
    assert "teams.washington" in text and _comment(CONFIGS / "baseline.yaml", "washington: {workers") in text
    assert "ASSUMPTION" in text
    ctext = _text(compare_dir)
    option = CONFIGS / "options" / "more_key_workers.yaml"
    assert "What more_key_workers changes" in ctext and _comment(option, "washington") in ctext


# --------------------------------------------------------------------------- headless Chromium
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


_PROBE = """<script>
window.__blocked = [];
document.addEventListener("securitypolicyviolation",
  e => window.__blocked.push(e.violatedDirective + " " + e.blockedURI));
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const out = document.createElement("pre");
  out.id = "ehsim-probe";
  out.textContent = JSON.stringify({
    images: imgs.length,
    loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    fetched: performance.getEntriesByType("resource").map(e => e.name),
    blocked: window.__blocked,
  });
  document.body.appendChild(out);
});
</script>"""


def _browser(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([exe, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


def _png_colours(path: Path) -> int:
    """Distinct colours in a (downscaled) PNG screenshot, read with matplotlib (no Pillow needed)."""
    import matplotlib.image as mpimg

    pixels = mpimg.imread(path)[::10, ::10, :3]
    return len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0))


@pytest.mark.parametrize("which", ["run_dir", "compare_dir", "uncertainty_dir"])
def test_report_in_headless_chromium(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    folder: Path = request.getfixturevalue(which)
    report = folder / "report.html"
    shot = tmp_path / "report-screenshot.png"
    _browser(exe, tmp_path / "profile1", f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    assert shot.is_file() and shot.stat().st_size > 20_000
    assert _png_colours(shot) > 50, "the screenshot looks blank"

    # the same page with a probe (and a policy that lets the probe run): every image decodes and
    # the page requests no resource at all (data: images are not requests)
    text = report.read_text(encoding="utf-8")
    probed = text.replace("style-src 'unsafe-inline';", "style-src 'unsafe-inline'; script-src 'unsafe-inline';", 1)
    probed = probed.replace("<title>", _PROBE + "<title>", 1)
    page = tmp_path / "probed.html"
    page.write_text(probed, encoding="utf-8")
    done = _browser(exe, tmp_path / "profile2", "--virtual-time-budget=10000", "--dump-dom", page.as_uri())
    match = re.search(r'<pre id="ehsim-probe">(.*?)</pre>', done.stdout, re.S)
    assert match, f"probe did not run: {done.stderr[-500:]}"
    probe: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    assert probe["images"] == len(_page(folder).images) > (2 if which == "uncertainty_dir" else 5)
    assert probe["loaded"] == probe["images"], "an image did not load"
    assert probe["fetched"] == [], f"the page fetched {probe['fetched']}"
    assert probe["blocked"] == [], f"the page tried to fetch {probe['blocked']}"


def test_uncertainty_report_numbers_come_from_robustness_csv(uncertainty_dir: Path) -> None:
    """Every tagged number of the uncertainty summary is its robustness.csv cell, formatted
    (a mean change with its interval at one precision);
    the page names every uncertain parameter with its source; the three figures are there."""
    page = _page(uncertainty_dir)
    rob = pd.read_csv(uncertainty_dir / "robustness.csv")
    res = R.read(uncertainty_dir)
    window = res.window_days()
    checked = 0
    sens = pd.read_csv(uncertainty_dir / "sensitivity.csv")
    for attrs, text in page.numbers:
        if attrs.get("source") == "sensitivity":
            sel = sens[
                (sens["parameter"] == attrs["parameter"])
                & (sens["kpi"] == attrs["kpi"])
                & (sens["scenario"] == attrs["scenario"])
                & (sens["index"] == attrs["index"])
            ]
            kpi = res.kpis[attrs["kpi"]]
            value = float(sel[attrs["field"]].iloc[0])
            assert text == fmt_number(value * kpi.scale(window), kpi.kind), (attrs, text)
            checked += 1
            continue
        assert attrs.get("source") == "robustness", attrs
        row = rob[(rob["option"] == attrs["option"]) & (rob["kpi"] == attrs["kpi"])].iloc[0]
        value = float(row[attrs["field"]])
        kpi = res.kpis[attrs["kpi"]]
        # the mean change and its interval share one precision (robustness.change_texts)
        share = attrs["field"].startswith("p_")  # p_better, p_lower_beyond_noise
        want = f"{value:.0%}" if share else change_texts(row, kpi, window)[attrs["field"]]
        assert text == want, (attrs, text, want)
        checked += 1
    assert checked >= 6
    text = (uncertainty_dir / "report.html").read_text(encoding="utf-8")
    for name in ("arrivals", "plan_length", "worker_cost"):
        assert f"<code>{name}</code>" in text
    assert "plausible worlds" in text and "ASSUMPTION" in text
    names = {f.stem for f in (uncertainty_dir / "figures").glob("*.png")}
    assert names == {"sensitivity", "cost_effectiveness", "robustness"}


def test_flows_into_social_care_without_an_arrow_read_as_extra_to_its_referrals() -> None:
    # social care's stub in lists its referrals, then the families from a box with no arrow to
    # it (the panel): "and 64 from panel", not "64 from panel" read as a part of the referrals
    table = [
        fig_flow.Flow("", SOCIAL_CARE, 2260.0, "referrals", "k1"),
        fig_flow.Flow(Stage.PANEL, SOCIAL_CARE, 64.0, "to social care", "k2"),
    ]
    ins, outs = fig_flow._stub_lines(table, drawn=set())
    assert ins[SOCIAL_CARE] == ["referrals 2,260", "and 64 from panel"]
    assert outs[Stage.PANEL] == ["to social care 64"]
    ins, _ = fig_flow._stub_lines(table[1:], drawn=set())
    assert ins[SOCIAL_CARE] == ["64 from panel"]


def test_the_warmup_figures_axis_label_fits_its_axis(run_dir: Path) -> None:
    # the measure's label with its unit is longer than the 4.2-inch axis is tall: wrapped, it
    # stays within the axis' height and inside the figure (it ran off both ends unwrapped)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = fig_diagnostics.warmup(R.read(run_dir))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    ax = fig.axes[0]
    box = ax.yaxis.label.get_window_extent(canvas.get_renderer())
    area = ax.get_window_extent(canvas.get_renderer())
    assert box.height <= area.height and box.x0 >= 0, (box, area)


@pytest.mark.parametrize("make", [fig_services.utilisation, fig_services.step_ups])
def test_a_bar_figures_legend_sits_beside_its_bars(compare_dir: Path, make: Any) -> None:
    # the scenarios' legend is outside the axes, to their right, inside the figure: it cannot
    # cover a bar or a whisker (in the lower right it covered the MST bars of utilisation)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = make(R.read(compare_dir))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    legend, area = ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer)
    assert legend.x0 >= area.x1 and legend.x1 <= fig.bbox.x1, (legend, area)


# --------------------------------------------------------------------------- dated changes and locators
DATED = """extends: {base}
name: dated_cut
changes:
  - date: 2017-06-01         # ASSUMPTION: first step of the test cut
    why: one key worker fewer in washington and east_west
    set:
      teams.washington.workers: 4    # ASSUMPTION: washington cut
      teams.east_west.workers: 4     # Sunderland-EH-2018 para 4.2: east_west cut
  - date: 2017-09-01         # Sunderland-EH-2018 para 3.6 and its table: second step
    why: washington down to 3
    set: {{teams.washington.workers: 3}}   # ASSUMPTION: second washington cut
"""


@pytest.fixture(scope="module")
def dated_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The page of a compare report whose option has two dated changes inside a short run (no
    figures)."""
    folder = tmp_path_factory.mktemp("report")
    (folder / "dated.yaml").write_text(DATED.format(base=(CONFIGS / "baseline.yaml").as_posix()), encoding="utf-8")
    out = folder / "out"
    args = ["compare", str(CONFIGS / "baseline.yaml"), str(folder / "dated.yaml"), "--replications", "2"]
    assert main([*args, "--out", str(out), *SHORT]) == 0
    return page(R.read(out), [])


def test_assumptions_key_each_dated_change_by_its_number() -> None:
    rows, _ = read_assumptions(CONFIGS / "worcestershire" / "options" / "budget_cut.yaml")
    source = {r.key: r.source for r in rows}
    assert source["changes.0.date"].startswith("ASSUMPTION: first of three equal steps")
    assert source["changes.1.set.teams.malvern_hills.workers"] == "derived: baseline 7 x 0.610 = 4.3, rounded"
    assert source["changes.2.set.costs.budget_gbp_per_year"].startswith("derived: Worcestershire-EH-2015 para 9")


def test_dated_changes_read_as_a_short_phrase_in_the_summary(dated_page: str) -> None:
    summary = dated_page[dated_page.index('<ul class="summary">') : dated_page.index('<h2 id="assumptions">')]
    head = html.unescape(re.sub(r"<[^>]+>", "", re.search(r"With <b>dated_cut</b>.*?\): ", summary).group(0)))  # type: ignore[union-attr]
    assert "2 dated changes from 1 June 2017 to 1 September 2017" in head
    # washington ends at 3 (its first step alone, 5 -> 4, read as the option's end state)
    assert "teams.washington.workers 5 → 3 in two steps and 1 more" in head and "What dated_cut changes" in head
    assert "date:" not in head and "set:" not in head and "[" not in head and len(head) < 300
    assert 'href="#changes-dated_cut"' in summary and 'id="changes-dated_cut"' in dated_page


def test_a_stepped_cut_reads_from_its_start_to_its_end() -> None:
    """Worcestershire's budget cut, three steps to 3 key workers, read "(teams.*.workers
    (redditch, ...) 8 -> 6 and 20 more...)": its first step only. Each setting now reads from
    its value before the first change to that after the last, with its number of steps."""
    base = load_scenario(CONFIGS / "worcestershire" / "baseline.yaml", [])
    cut = load_scenario(CONFIGS / "worcestershire" / "options" / "budget_cut.yaml", [])
    dump = {sc.name: sc.model_dump(mode="json", by_alias=True, exclude_none=True) for sc in (base, cut)}
    res = R.Results(R.Kind.COMPARE, [base.name, cut.name], pd.DataFrame(), pd.DataFrame(), {}, configs=dump)
    plain = changes_text(res, cut.name, plain=True)
    assert plain == (
        "3 dated changes from 1 April 2015 to 1 April 2017 (teams.*.workers (redditch, wyre_forest, worcester, "
        "bromsgrove) 8 -> 3 in three steps and 6 more)"
    )
    html_text = changes_text(res, cut.name)
    assert "</code> 8 → 3 in three steps and 6 more; see <a" in html_text
    # a setting moved once, or over part of the span, says when
    two = {
        **dump[cut.name],
        "changes": [*dump[cut.name]["changes"][:2], {"date": "2017-04-01", "set": {"teams.wychavon.workers": 4}}],
    }
    res = dataclasses.replace(res, configs={**dump, cut.name: two})
    assert changes_text(res, cut.name, plain=True).endswith(
        "8 -> 5 in two steps, 1 April 2015 to 1 April 2016 and 6 more)"
    )


def _table_rows(text: str, caption: str) -> list[list[str]]:
    """The cells of the table with ``caption``, as text."""
    start = text.index(f"<caption>{caption}</caption>")
    body = text[start : text.index("</table>", start)]
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body)[1:]
    ]


def test_each_dated_change_is_its_own_rows_with_its_sources(dated_page: str) -> None:
    rows = _table_rows(dated_page, "What dated_cut changes")
    assert rows[0] == [
        "From 1 June 2017 (dated change 1 of 2): one key worker fewer in washington and east_west",
        "",
        "",
        "ASSUMPTION: first step of the test cut",
    ]
    assert rows[1] == ["teams.washington.workers from 1 June 2017", "5", "5 → 4", "ASSUMPTION: washington cut"]
    assert rows[2] == [
        "teams.east_west.workers from 1 June 2017",
        "5",
        "5 → 4",
        "Sunderland-EH-2018 para 4.2: east_west cut",
    ]
    assert rows[3][0].startswith("From 1 September 2017 (dated change 2 of 2): washington down to 3")
    assert rows[4] == [
        "teams.washington.workers from 1 September 2017",
        "5",
        "4 → 3",
        "ASSUMPTION: second washington cut",
    ]
    assert len(rows) == 5 and all(row[3] for row in rows)  # nothing else differs; every row has its source


def test_references_give_the_locators_the_page_cites(dated_page: str) -> None:
    _, entries = _references(dated_page)
    cited = re.search(r"Cited in this report: (.*?)\.$", entries["Sunderland-EH-2018"])
    assert cited is not None
    # from the baseline's comments (paras 2.1, 3.2, ...) and the option's dated changes (4.2; 3.6 and its table)
    paras = re.search(r"paras ([\d., ]+)", cited.group(1)).group(1).split(", ")  # type: ignore[union-attr]
    assert {"2.1", "3.2", "3.6", "4.2"} <= set(paras) and paras == sorted(paras, key=lambda p: float(p))
    assert "the table in para 3.6" in cited.group(1)
    assert "cited para 9" not in entries.get("Worcestershire-EH-2015", "")


@pytest.mark.parametrize(
    ("comment", "key", "want"),
    [
        ("WestSussex-IPEH-2019 para 6.3 table: revised budget", "WestSussex-IPEH-2019", ["para 6.3", "para 6.3 table"]),
        ("(WestSussex-IPEH-2019 Summary and para 6.2)", "WestSussex-IPEH-2019", ["Summary", "para 6.2"]),
        ("Sunderland-EH-2018 paras 4.2, 3.2 shape", "Sunderland-EH-2018", ["para 3.2", "para 4.2"]),
        (
            "x (WestSussex-IPEH-2019 para 1.3 and the table in para 4.1)",
            "WestSussex-IPEH-2019",
            ["para 1.3", "para 4.1 table"],
        ),
        ("ASSUMPTION (Kirklees-ESP-2019 s.2 MST gives only the target of 5)", "Kirklees-ESP-2019", ["s.2 MST"]),
        ("29% of 6,000 (DfE-CIN-2020 C5); total ASSUMPTION", "DfE-CIN-2020", ["C5"]),
        ("derived: Worcestershire-EH-2015 para 9, GBP 7.7m less", "Worcestershire-EH-2015", ["para 9"]),
    ],
)
def test_cited_locators_read_each_citation_form(comment: str, key: str, want: list[str]) -> None:
    assert bib.cited_locators([comment]) == {key: want}


def test_the_bibliographys_locator_lines_describe_the_document_not_one_citation() -> None:
    for key, entry in bib.parse_bibliography(SOURCES.read_text(encoding="utf-8")).items():
        assert not re.search(r"\(cited `[^`]*`\)", dict(entry.fields).get("Locators", "")), key


def test_a_setting_that_comes_back_reads_as_its_move_and_its_return() -> None:
    """A vacancy crisis and recovery (8 -> 5 on 1 April 2015, back to 8 on 1 April 2016) read
    "8 -> 8 in two steps": the phrase now gives the move and the return."""
    base = load_scenario(CONFIGS / "worcestershire" / "baseline.yaml", [])
    dump = base.model_dump(mode="json", by_alias=True, exclude_none=True)
    crisis = {
        **dump,
        "name": "crisis",
        "changes": [
            {"date": "2015-04-01", "set": {"teams.redditch.workers": 5}},
            {"date": "2016-04-01", "set": {"teams.redditch.workers": 8}},
        ],
    }
    res = R.Results(
        R.Kind.COMPARE,
        [base.name, "crisis"],
        pd.DataFrame(),
        pd.DataFrame(),
        {},
        configs={base.name: dump, "crisis": crisis},
    )
    plain = changes_text(res, "crisis", plain=True)
    assert "8 -> 8" not in plain
    assert plain.endswith("(teams.redditch.workers 8 -> 5, back to 8 on 1 April 2016)"), plain


@pytest.mark.parametrize("which", ["compare_dir", "sweep_dir", "uncertainty_dir"])
def test_the_page_says_what_its_intervals_are_by_the_folders_kind(which: str, request: pytest.FixtureRequest) -> None:
    """The statement over the figures is the one of the folder's kind (data.INTERVALS): an
    uncertainty page's intervals are percentiles across plausible worlds and bootstrap
    intervals of the indices, not t intervals or paired differences between options."""
    import html

    from sim.present.data import INTERVALS

    folder: Path = request.getfixturevalue(which)
    kind = R.read(folder).kind
    text = (folder / "report.html").read_text(encoding="utf-8")
    said = text.split('<h2 id="figures">Figures</h2>')[1].split("</p>")[0].removeprefix("\n<p>")
    assert html.unescape(said) == INTERVALS[kind]
    assert ("t interval" in said.replace("not t intervals", "")) == (kind != R.Kind.UNCERTAINTY)
    assert ("paired" in said) == (kind == R.Kind.COMPARE)
    if kind == R.Kind.UNCERTAINTY:
        assert "percentile" in said and "bootstrap" in said

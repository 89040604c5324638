"""The planners' report: figures from the results tables and one self-contained HTML page.

Small, fast runs (300 days, 2-4 replications) through ``sim.cli.main``. Checked: the report
exists and is small; every number in the summary matches ``summary.csv`` / ``differences.csv``;
every figure has a title and labelled axes with units; one replication, zero step-ups and an
empty table still give a report or figure; and, in headless Chromium, every image loads and
the page fetches nothing.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim import plots
from sim.cli import main
from sim.report import build_figures, load_results, make_report, read_assumptions
from tests.conftest import CONFIGS

SHORT = ["--set", "run.duration_days=300", "--set", "run.warmup_days=30", "--quiet"]
BUSY = ["--set", "referrals.sources.police.annual_rate=2600"]  # queues for key workers, so options differ
MAX_BYTES = 5 * 1024 * 1024


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    args = ["run", str(CONFIGS / "baseline.yaml"), "--replications", "4", "--out", str(out), "--report", *SHORT]
    assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "compare"
    options = [str(CONFIGS / "options" / n) for n in ("more_key_workers.yaml", "weekly_panel.yaml")]
    args = ["compare", str(CONFIGS / "baseline.yaml"), *options, "--replications", "3", "--out", str(out)]
    assert main([*args, "--report", *SHORT, *BUSY]) == 0
    return out


@pytest.fixture(scope="module")
def single_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One replication, reported by ``ehsim report`` after the scenario file has 'gone'."""
    out = tmp_path_factory.mktemp("report") / "single"
    assert main(["run", str(CONFIGS / "baseline.yaml"), "--replications", "1", "--out", str(out), *SHORT]) == 0
    man = json.loads((out / "manifest.json").read_text())
    man["config"] = "no/such/scenario.yaml"
    man.pop("scenario_files", None)
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
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "sweep"
    args = ["sweep", str(CONFIGS / "baseline.yaml"), "--vary", "teams.washington.workers=9,11"]
    assert main([*args, "--replications", "2", "--out", str(out), "--report", *SHORT]) == 0
    return out


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


def _parse(text: str) -> tuple[float, float]:
    """A number as printed (``£1,234``, ``-0.8``, ``62%``) and half its last digit."""
    t = text.replace("£", "").replace(",", "").replace("%", "").strip()
    assert re.fullmatch(r"-?\d+(\.\d+)?", t), f"not a number: {text!r}"
    decimals = len(t.split(".")[1]) if "." in t else 0
    return float(t), 0.5 * 10.0**-decimals


def _expected(folder: Path, attrs: dict[str, str]) -> float:
    table = pd.read_csv(folder / ("differences.csv" if attrs["source"] == "differences" else "summary.csv"))
    rows = table[table["kpi"] == attrs["kpi"]]
    if "option" in attrs:
        rows = rows[rows["option"] == attrs["option"]]
    if "scenario" in attrs and "scenario" in rows.columns:
        rows = rows[rows["scenario"] == attrs["scenario"]]
    for key, value in json.loads(attrs.get("where", "{}")).items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1, f"no single CSV row for {attrs}"
    value = float(rows[attrs["field"]].iloc[0]) * float(attrs["scale"])
    return abs(value) if attrs["abs"] == "1" else value


def _check_numbers(folder: Path) -> list[dict[str, str]]:
    """Every tagged number in the summary equals its CSV cell (to the printed precision)."""
    numbers = _page(folder).numbers
    assert numbers, "the summary has no numbers"
    for attrs, text in numbers:
        shown, tol = _parse(text)
        want = _expected(folder, attrs)
        assert math.isfinite(want), attrs
        assert abs(shown - want) <= tol * (1 + 1e-9) + 1e-9, f"{text!r} vs {want} for {attrs}"
    return [a for a, _ in numbers]


def _check_figure(fig: Figure, name: str) -> None:
    assert fig.get_suptitle().strip(), f"{name}: no title"
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    if name.startswith("flows"):
        assert not axes, "the flow diagram has no data axes (its counts are written on it)"
        return
    assert axes, f"{name}: no axes"
    for ax in axes:
        for label in (ax.get_xlabel(), ax.get_ylabel()):
            assert label.strip(), f"{name}: an axis has no label ({ax.get_title()!r})"
            assert re.search(r"\([^)]+\)", label) or label in plots.CATEGORY_AXIS_LABELS, (
                f"{name}: axis label {label!r} has no unit"
            )


# --------------------------------------------------------------------------- reports exist and are small
@pytest.mark.parametrize("which", ["run_dir", "compare_dir", "single_dir", "mmc_dir", "sweep_dir"])
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


def test_no_external_references(run_dir: Path, compare_dir: Path) -> None:
    for folder in (run_dir, compare_dir):
        page = _page(folder)
        for link in page.links:
            assert link.startswith(("data:", "#")), f"external reference {link[:60]!r}"
        text = (folder / "report.html").read_text(encoding="utf-8")
        assert "<script" not in text and "<link" not in text and "@import" not in text and "url(" not in text


# --------------------------------------------------------------------------- numbers in the text
def test_run_summary_numbers_match_summary_csv(run_dir: Path) -> None:
    checked = _check_numbers(run_dir)
    kpis = {a["kpi"] for a in checked}
    assert {"referrals_total", "step_ups_total", "care_entries", "cost_total_gbp_per_year"} <= kpis
    assert "wait_level3_mean_days" in kpis


def test_compare_summary_numbers_match_differences_csv(compare_dir: Path) -> None:
    checked = _check_numbers(compare_dir)
    diffs = pd.read_csv(compare_dir / "differences.csv")
    said = {(a["option"], a["kpi"]) for a in checked if a["source"] == "differences"}
    assert ("more_key_workers", "wait_level3_mean_days") in said
    assert ("weekly_panel", "cost_total_gbp_per_year") in said
    text = html.unescape((compare_dir / "report.html").read_text(encoding="utf-8"))
    summary = text[text.index('id="summary"') : text.index('id="assumptions"')]
    # every option's verdicts follow differences.csv: clear where the CI excludes 0, else not
    assert "no clear difference" in summary
    row = diffs[(diffs["option"] == "more_key_workers") & (diffs["kpi"] == "wait_level3_mean_days")].iloc[0]
    assert bool(row["distinguishable"]) and row["diff_mean"] < 0
    assert "the mean wait for a key worker falls from" in summary.lower()


def test_sweep_summary_numbers_match_summary_csv(sweep_dir: Path) -> None:
    checked = _check_numbers(sweep_dir)
    assert all("where" in a for a in checked)


# --------------------------------------------------------------------------- figures
@pytest.mark.parametrize("which", ["run_dir", "compare_dir", "single_dir", "mmc_dir", "sweep_dir"])
def test_every_figure_has_title_and_axis_units(which: str, request: pytest.FixtureRequest) -> None:
    specs = build_figures(load_results(request.getfixturevalue(which)))
    try:
        assert specs
        for spec in specs:
            _check_figure(spec.figure, spec.name)
    finally:
        for spec in specs:
            plt.close(spec.figure)


def test_titles_state_findings_from_the_data(run_dir: Path) -> None:
    res = load_results(run_dir)
    summ = res.summary.set_index("kpi")["mean"]
    per_year = plots.DAYS_PER_YEAR / summ["window_days"]
    fig = plots.step_ups_and_care(res.replications)
    try:
        title = fig.get_suptitle()
        assert plots.fmt_number(summ["step_ups_total"] * per_year, "count") in title
        assert plots.fmt_number(summ["care_entries"] * per_year, "count") in title
    finally:
        plt.close(fig)


def _empty_reps() -> pd.DataFrame:
    return pd.DataFrame({"scenario": pd.Series(dtype=str), "rep": pd.Series(dtype="int64")})


def test_empty_and_degenerate_inputs_give_figures_with_notes(run_dir: Path) -> None:
    res = load_results(run_dir)
    one = res.replications.iloc[:1]
    zero = res.replications.copy()
    for col in [c for c in zero.columns if c.startswith(("step_ups", "care_entries"))]:
        zero[col] = 0.0
    nan_waits = res.replications.copy()
    for col in [c for c in nan_waits.columns if c.startswith("wait_") and c.endswith("_days")]:
        nan_waits[col] = float("nan")
    empty_diff = pd.DataFrame(columns=["option", "kpi", "diff_mean", "ci_low", "ci_high", "distinguishable"])
    figures = {
        "waits_empty": plots.wait_distributions(_empty_reps()),
        "waits_nan": plots.wait_distributions(nan_waits),
        "waits_one": plots.wait_distributions(one),
        "histogram_empty": plots.wait_histogram(pd.DataFrame()),
        "queues_empty": plots.queues_over_time(pd.DataFrame()),
        "open_one_rep": plots.open_plans_over_time(res.series[res.series["rep"] == 0], 30),
        "utilisation_empty": plots.utilisation(_empty_reps()),
        "flows_empty": plots.family_flows(pd.DataFrame({"kpi": [], "mean": []})),
        "steps_zero": plots.step_ups_and_care(zero),
        "steps_empty": plots.step_ups_and_care(_empty_reps()),
        "costs_empty": plots.costs(_empty_reps(), 1e6),
        "forest_empty": plots.forest(empty_diff, ["wait_level3_mean_days"], 270.0),
        "sweep_empty": plots.sweep_lines(_empty_reps(), [], []),
        "precision_one": plots.replication_precision(one, ["step_ups_total", "cost_total_gbp_per_year"]),
        "precision_none": plots.replication_precision(_empty_reps(), ["step_ups_total"]),
        "warmup_empty": plots.warmup(pd.DataFrame(), "open_level3", None, None),
    }
    try:
        for name, fig in figures.items():
            _check_figure(fig, name)
            fig.canvas.draw()  # drawing must not fail either
        assert "No step-ups" in figures["steps_zero"].get_suptitle()
        notes = [t.get_text() for ax in figures["steps_zero"].axes for t in ax.texts]
        assert any("No family stepped up" in n for n in notes)
    finally:
        for fig in figures.values():
            plt.close(fig)


def test_colour_blind_palette() -> None:
    import seaborn as sns

    colours = plots.scenario_colours(["a", "b", "c"])
    assert list(colours.values()) == [tuple(c) for c in sns.color_palette("colorblind", 3)]


# --------------------------------------------------------------------------- edge cases end to end
def test_single_replication_report(single_dir: Path) -> None:
    text = html.unescape((single_dir / "report.html").read_text(encoding="utf-8"))
    assert "One replication gives no confidence intervals" in text
    assert (single_dir / "figures" / "waits_per_family.png").is_file()  # events.parquet is used when present
    # the scenario file named in the manifest is gone: the report says so instead of failing
    assert "was not found" in text
    _check_numbers(single_dir)


def test_zero_step_ups_report(mmc_dir: Path) -> None:
    reps = pd.read_parquet(mmc_dir / "replications.parquet")
    assert (reps["step_ups_total"] == 0).all()
    text = (mmc_dir / "report.html").read_text(encoding="utf-8")
    assert "No family stepped up to social care or entered care" in text
    _check_numbers(mmc_dir)


def test_report_command_refuses_a_folder_that_is_not_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "not an ehsim results folder" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_report_command_rewrites_the_report(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "figures" / "old_figure.png").write_bytes(b"stale")
    (copy / "report.html").unlink()
    assert make_report(copy) == copy / "report.html"
    assert not (copy / "figures" / "old_figure.png").exists()
    # figures are deterministic: the same results give the same images
    assert [i["src"] for i in _page(copy).images] == [i["src"] for i in _page(run_dir).images]


# --------------------------------------------------------------------------- assumptions
def test_assumptions_follow_extends_and_keep_sources() -> None:
    rows, headers = read_assumptions(CONFIGS / "options" / "more_key_workers.yaml", ["panel.interval_days=10"])
    by_key = {r.key: r for r in rows}
    workers = by_key["teams.washington.workers"]
    assert workers.value == "13" and workers.is_assumption and workers.file == "more_key_workers.yaml"
    rest = by_key["teams.washington"]  # the parent's line, minus the overridden key
    assert "caseload_cap: 20" in rest.value and "workers" not in rest.value
    assert "Sunderland-EH-2018 para 4.2" in rest.source and rest.file == "baseline.yaml"
    assert by_key["panel.interval_days"].value == "10" and "command line" in by_key["panel.interval_days"].source
    assert by_key["run.start_date"].source.startswith("Sunderland-EH-2018 para 2.1")
    assert [h[0] for h in headers] == ["baseline.yaml", "more_key_workers.yaml"]


def test_run_report_lists_assumptions_and_option_changes(run_dir: Path, compare_dir: Path) -> None:
    text = html.unescape((run_dir / "report.html").read_text(encoding="utf-8"))
    assert "teams.washington" in text and "Sunderland-EH-2018 para 3.2" in text and "ASSUMPTION" in text
    ctext = html.unescape((compare_dir / "report.html").read_text(encoding="utf-8"))
    assert "What more_key_workers changes" in ctext and "ASSUMPTION: the option tested (+2 FTE)" in ctext


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


@pytest.mark.parametrize("which", ["run_dir", "compare_dir"])
def test_report_in_headless_chromium(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    folder: Path = request.getfixturevalue(which)
    report = folder / "report.html"
    shot = folder / "report-screenshot.png"
    _browser(exe, tmp_path / "profile1", f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    assert shot.is_file() and shot.stat().st_size > 20_000
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (1280, 2000)
        colours = im.convert("RGB").resize((128, 200)).getcolors(maxcolors=100_000)
        assert colours is not None and len(colours) > 50, "the screenshot looks blank"

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
    assert probe["images"] == len(_page(folder).images) > 5
    assert probe["loaded"] == probe["images"], "an image did not load"
    assert probe["fetched"] == [], f"the page fetched {probe['fetched']}"
    assert probe["blocked"] == [], f"the page tried to fetch {probe['blocked']}"

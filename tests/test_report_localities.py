"""``--by-locality`` in the report and on the console (:mod:`sim.present.localities`).

Small, fast runs (300 days, 2 replications) of the default scenario with one locality flagged
deprived (so the deprivation groups exist too), through ``sim.cli.main``; the page is rendered
without figures (:func:`sim.present.page.page`). Checked: the report has a "By locality" section,
linked from the contents, whose every number equals its cell of ``differences.csv`` or
``summary.csv`` (per year, to the printed precision), one row per place and by-locality KPI,
labelled from the registry, its verdicts from ``distinguishable``; its sentence names the place
with the largest clear change in the key-worker wait; no section without ``--by-locality``;
``run --by-locality`` prints each place's means and ``sweep --by-locality`` says where they are.
"""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pandas as pd
import pytest

from sim import kpis as K
from sim import results as R
from sim.cli import main
from sim.config import load_scenario
from sim.present.data import axis_label, cap
from sim.present.format import DIFF_ROW, MEAN_CI, fmt_row
from sim.present.page import page
from sim.vocab import Stage
from tests.conftest import CONFIGS
from tests.test_report import BUSY, SHORT, _check_numbers

BASE = CONFIGS / "baseline.yaml"
DEPRIVED = ["--set", "localities.washington.deprived=true"]  # the deprivation groups exist
WINDOW = 270.0  # SHORT's results window
KEY_WAIT = K.wait(Stage.LEVEL3, "mean")  # the wait the section's sentence is about


def _render(folder: Path) -> str:
    """The page of a results folder (no figures), written as its report.html; unescaped."""
    text = page(R.read(folder), [])
    (folder / R.REPORT).write_text(text, encoding="utf-8")
    return html.unescape(text)


def _section(text: str) -> str:
    return text[text.index('<h2 id="localities">') : text.index('<h2 id="diagnostics">')]


def _places() -> list[str]:
    return [*load_scenario(BASE).localities, "most_deprived_40pct", "other_60pct"]


@pytest.fixture(scope="module")
def locality_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("localities") / "compare"
    argv = ["compare", str(BASE), str(CONFIGS / "options" / "more_key_workers.yaml"), "--replications", "2"]
    assert main([*argv, "--by-locality", "--out", str(out), *SHORT, *BUSY, *DEPRIVED]) == 0
    return out


def test_compare_report_has_a_by_locality_section_read_back_against_differences_csv(locality_dir: Path) -> None:
    text = _render(locality_dir)
    assert '<a href="#localities">By locality</a>' in text
    section = _section(text)
    checked = _check_numbers(locality_dir)  # every tagged number on the page equals its CSV cell
    diffs = pd.read_csv(locality_dir / "differences.csv")
    option = "more_key_workers"
    rows = re.findall(r"<tr>(.*?)</tr>", section)
    for place in _places():
        for base in K.BY_LOCALITY:
            kpi = K.in_locality(base, place)
            said = {a["field"] for a in checked if a["kpi"] == kpi.name and a.get("option") == option}
            assert set(DIFF_ROW) <= said, (place, base.name)
            rec = diffs[(diffs["kpi"] == kpi.name) & (diffs["option"] == option)].iloc[0]
            row = next(
                r for r in rows if r.startswith(f"<td>{cap(K.place_label(place))}</td><td>{axis_label(base)}</td>")
            )
            cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            assert cells[2:5] == fmt_row(rec.to_dict(), base, WINDOW, DIFF_ROW)[:3], (place, base.name)
            assert (cells[-1] == "clear difference") == bool(rec["distinguishable"]), (place, base.name)
    plain = re.sub(r"<[^>]+>", "", section)
    assert _named(diffs, option) in plain  # the sentence, as the CSV says it should read


def _named(diffs: pd.DataFrame, option: str) -> str:
    """What the section's sentence says about the key worker's wait, from ``differences.csv``."""
    wait = diffs[diffs["kpi"].isin([K.in_locality(KEY_WAIT, p).name for p in _places()]) & (diffs["option"] == option)]
    clear = wait[wait["distinguishable"].astype(bool)]
    if clear.empty:
        return "no place shows a clear change in the mean wait for a key worker"
    top = clear.loc[clear["diff_mean"].abs().idxmax(), "kpi"]
    place = next(p for p in _places() if K.in_locality(KEY_WAIT, p).name == top)
    return f"the largest clear change in the mean wait for a key worker is in {K.place_label(place)}:"


@pytest.mark.parametrize("clear", [True, False])
def test_the_sentence_names_the_place_with_the_largest_clear_change_in_the_wait(
    locality_dir: Path, clear: bool
) -> None:
    """Only a clear change (the paired CI excludes zero) is named; the largest of them."""
    from sim.present.localities import locality_section

    res = R.read(locality_dir)
    assert res.differences is not None
    d = res.differences
    d["distinguishable"] = False
    if clear:  # two places' waits clear: the larger change is named, not the first
        smaller = d["kpi"] == K.in_locality(KEY_WAIT, "washington").name
        larger = d["kpi"] == K.in_locality(KEY_WAIT, "coalfields").name
        d.loc[smaller, "diff_mean"], d.loc[larger, "diff_mean"] = -3.0, 7.0
        d.loc[smaller | larger, "distinguishable"] = True
    plain = re.sub(r"<[^>]+>", "", html.unescape(locality_section(res)))
    assert _named(d, "more_key_workers") in plain
    assert ("Coalfields" in _named(d, "more_key_workers")) == clear
    assert ("largest clear change" in plain) == clear


def test_run_by_locality_prints_and_reports_each_places_means(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["run", str(BASE), "--replications", "2", "--by-locality", "--out", str(out), *SHORT, *DEPRIVED]) == 0
    printed = capsys.readouterr().out.splitlines()
    summ = pd.read_csv(out / "summary.csv").set_index("kpi")
    for place in _places():
        heading = printed.index(f"  {cap(K.place_label(place))}")
        line = next(x for x in printed[heading + 1 :] if x.lstrip().startswith(axis_label(KEY_WAIT)))
        mean, low, high = fmt_row(summ.loc[K.in_locality(KEY_WAIT, place).name].to_dict(), KEY_WAIT, WINDOW, MEAN_CI)
        assert re.search(rf"\s{re.escape(mean)}\s+{re.escape(low)} - {re.escape(high)}\s*$", line), (place, line)
    section = _section(_render(out))
    checked = _check_numbers(out)
    for place in _places():
        for base in K.BY_LOCALITY:
            said = {a["field"] for a in checked if a["kpi"] == K.in_locality(base, place).name}
            assert set(MEAN_CI) <= said, (place, base.name)
            assert f"<td>{cap(K.place_label(place))}</td><td>{axis_label(base)}</td>" in section


def test_no_by_locality_section_without_the_flag(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", str(BASE), "--replications", "2", "--out", str(out), *SHORT, *DEPRIVED]) == 0
    text = _render(out)
    assert 'id="localities"' not in text and "#localities" not in text


def test_sweep_by_locality_says_where_its_places_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    argv = ["sweep", str(BASE), "--vary", "teams.washington.workers=4,6", "--replications", "2", "--by-locality"]
    assert main([*argv, "--out", str(out), *SHORT, *DEPRIVED]) == 0
    printed = capsys.readouterr().out
    assert f"By locality: each combination's KPIs per locality and deprivation group are rows of {out}" in printed
    section = _section(_render(out))
    checked = _check_numbers(out)  # each combination's cells, found by its swept values
    wait = {a["where"] for a in checked if a["kpi"] == K.in_locality(KEY_WAIT, "washington").name}
    assert len(wait) == 2
    assert "workers = 4" in section and "workers = 6" in section


def test_a_place_measured_in_neither_scenario_has_no_row(locality_dir: Path) -> None:
    """A locality that no family reached in the window has no wait in either scenario (n = 0):
    the section raised KeyError on its verdict ("missing"); the row is left out, as in the
    differences table, and the rest of the section stands."""
    from sim.present.localities import locality_section

    res = R.read(locality_dir)
    d = res.differences
    assert d is not None
    d = d.copy()
    gone = d["kpi"] == K.in_locality(KEY_WAIT, "coalfields").name
    assert gone.any()
    d.loc[gone, ["base_mean", "option_mean", "diff_mean", "diff_sd", "ci_low", "ci_high"]] = float("nan")
    d.loc[gone, "n"] = 0
    section = html.unescape(locality_section(dataclasses.replace(res, differences=d)))
    assert "Coalfields" in section  # its other KPIs stay
    rows = re.findall(r"<tr>(.*?)</tr>", section, flags=re.S)
    assert not [r for r in rows if "Coalfields" in r and axis_label(KEY_WAIT) in r], "a row of n/a for coalfields"

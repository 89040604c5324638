"""The Sunderland and Kirklees scenarios against what their reports say.

Backtests use the calibrated scenarios as committed (configs/<council>/calibrated.yaml,
written by ``ehsim calibrate``); a change to the model that moves them away from the
reported figures fails here.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import sim
from sim.analysis import t_interval
from sim.calibrate import calibrate
from sim.cli import main
from sim.config import timeline
from sim.experiment import compare, run_batch
from tests.conftest import CONFIGS, ROOT, mmc_dict

SUNDERLAND_DEC_2017 = {"run.duration_days": 275, "run.warmup_days": 0}  # 1 April - 31 December 2017


@pytest.mark.slow
def test_sunderland_backtest_december_2017() -> None:
    """100 replications of April-December 2017 (Sunderland-EH-2018 para 4.1). The reported figure must
    lie inside the central 95% of the replications (the spread one would see in a single
    year): 646 open plans (475 + 171) and 171 closed with outcomes met. The step-up share
    (Sunderland-EH-2018 para 4.3, "about 7%") is a rounded figure: its mean must be within 30%."""
    sc = sim.load_scenario(CONFIGS / "sunderland" / "calibrated.yaml", SUNDERLAND_DEC_2017)
    t = run_batch(sc, 100, seed=12345, backend="process", workers=2).replications
    for values, reported in (
        (t["open_level3_at_end"] + t["open_level2_at_end"], 646),
        (t["open_level3_at_end"], 475),
        (t["open_level2_at_end"], 171),
        (t["closed_outcomes_met"], 171),
    ):
        lo, hi = np.percentile(values, [2.5, 97.5])
        assert lo <= reported <= hi, (reported, lo, hi)
    share = (t["step_ups_total"] / t["starts_level3"]).mean()
    assert abs(share - 0.07) / 0.07 <= 0.30


def _launch_period() -> dict[str, object]:
    """The overrides the Kirklees calibration ran with: 6 February to 22 March 2019."""
    import yaml

    spec = yaml.safe_load((CONFIGS / "kirklees" / "calibration.yaml").read_text())
    return dict(spec["overrides"])


@pytest.mark.slow
def test_sunderland_caseload_per_early_help_worker_about_20_in_december_2017() -> None:
    """Sunderland-EH-2018 para 4.2: "an Early Help Worker carries an average caseload of 20
    families" (December 2017). The caps are maxima (22, seniors 10); the model's average
    open plans per (non-senior) key worker in post over December 2017, with plans spread over
    the workers in proportion to their caps, must be within 15% of 20 (the issue's tolerance)
    on the mean of 20 replications (its standard error is about 0.2, a tenth of the band's
    half-width), and the open plans and closures of the backtest stay as they were (the caps
    do not bind before December 2017)."""
    sc = sim.load_scenario(
        CONFIGS / "sunderland" / "calibrated.yaml", {"run.duration_days": 275, "run.warmup_days": 245}
    )
    t = run_batch(sc, 20, seed=12345, backend="process", workers=2).replications
    per_worker = t[[f"caseload_team_{name}_key_worker" for name in sc.teams]].mean(axis=1).mean()
    assert abs(per_worker - 20) / 20 <= 0.15, per_worker
    assert t["wait_level3_mean_days"].mean() < 1.0


def test_sunderland_caseload_comment_agrees_with_the_readme() -> None:
    """configs/sunderland/baseline.yaml said the average caseload per early help worker was
    "about 18.5 in December 2017" while the README, from calibrated.yaml's December 2017 run
    (the test above), says 19.0 (8.7 per senior, 14.3 over all): the comment gives the
    README's numbers."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"calibrated Sunderland gives (\d+\.\d) per\s+early help worker \((\d+\.\d) per senior, (\d+\.\d) over all",
        readme,
    )
    assert found is not None
    worker, senior, every = found.groups()
    lines = (CONFIGS / "sunderland" / "baseline.yaml").read_text(encoding="utf-8").splitlines()
    comment = " ".join(line.strip().lstrip("# ") for line in lines if line.strip().startswith("#"))
    assert "calibrated.yaml" in comment and "December 2017" in comment
    assert f"{worker} per early help worker ({senior} per senior, {every} over all)" in comment, comment


@pytest.mark.slow
def test_kirklees_mst_waiting_list_about_20_at_the_report() -> None:
    """Kirklees-ESP-2019 s.2 MST: "a waiting list of around 20 cases currently" in the report signed off
    on 22 March 2019, while therapists built up their caseloads. On seeds the calibration never
    saw, the mean list on that day over 20 replications must be within 25% of 20 (the issue's
    tolerance), and its 95% CI must overlap that band."""
    sc = sim.load_scenario(CONFIGS / "kirklees" / "calibrated.yaml", _launch_period())
    assert timeline(sc)[-1][1].mst.slots == 8  # type: ignore[union-attr]  # 4 therapists x 2 families on 22 March
    t = run_batch(sc, 20, seed=777, backend="process", workers=2).replications
    mean, lo, hi, _ = t_interval(t["waiting_mst_at_end"].to_numpy())
    assert 15 <= mean <= 25 and hi >= 15 and lo <= 25, (mean, lo, hi)


def test_kirklees_mst_families_per_therapist_year_in_the_steady_state() -> None:
    """After the build-up the MST list never empties (the launch rate of referrals is about
    four times what 4 therapists x 5 families can take), so MST families started a year per
    therapist is the saturated throughput: caseload 5 x 365 / mean duration 120 days = 15.2.
    Essex's MST teams saw about 10 families per therapist-year (MST-Essex-2019): the seed's
    caseload of 5 with 3-5 month episodes implies half as many again. Tolerance: starts over
    two measured years are Poisson-like with sd about 4% of the mean per replication; with 3
    replications 12% is over 5 standard errors."""
    sc = sim.load_scenario(CONFIGS / "kirklees" / "calibrated.yaml", {"run.duration_days": 365 * 3})
    assert sc.mst is not None and timeline(sc)[-1][1].mst.caseload_cap == 5  # type: ignore[union-attr]
    t = run_batch(sc, 3, seed=31, backend="process", workers=2).replications
    years = t["window_days"].iloc[0] / 365.25
    per_therapist = float(t["starts_mst"].mean()) / years / sc.mst.therapists
    assert per_therapist == pytest.approx(5 * 365 / 120, rel=0.12), per_therapist
    assert (t["utilisation_mst"] > 0.97).all()  # the list never empties


@pytest.mark.slow
def test_calibrate_recovers_a_known_arrival_rate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On the M/M/c reduction the utilisation is lambda x mean / c, so a target utilisation of
    0.6 with c = 4 and mean 1.2 days has the known answer lambda = 2 a day (730 a year).
    Utilisation over 20 replications of ~7,000 arrivals has a standard error well under 1%,
    so the fitted rate must be within 3% of 730."""
    import yaml

    base = mmc_dict(rate_per_day=1.2, workers=2, cap=2, mean=1.2, days=4000, warmup=400)
    (tmp_path / "mmc.yaml").write_text(yaml.safe_dump(base))
    spec = {
        "scenario": "mmc.yaml",
        "output": "fitted.yaml",
        "replications": 4,
        "seed": 1,
        "max_evaluations": 30,
        "parameters": {"referrals.sources.all.annual_rate": {"bounds": [100, 1300]}},
        "targets": {"utilisation_team_town": {"value": 0.6, "tolerance": 0.02}},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    res = calibrate(tmp_path / "spec.yaml")
    assert abs(res.parameters["referrals.sources.all.annual_rate"] - 730) / 730 < 0.03
    assert bool(res.fit["within"].all())
    fitted = sim.load_scenario(res.output)
    assert fitted.referrals.sources["all"].annual_rate == pytest.approx(
        res.parameters["referrals.sources.all.annual_rate"], rel=1e-5
    )
    assert "derived: calibrated" in res.output.read_text()
    # the same through the command line, writing elsewhere
    assert main(["calibrate", str(tmp_path / "spec.yaml"), "--quiet", "--out", str(tmp_path / "cli.yaml")]) == 0
    assert sim.load_scenario(tmp_path / "cli.yaml").referrals.sources["all"].annual_rate == pytest.approx(
        res.parameters["referrals.sources.all.annual_rate"], rel=1e-5
    )


def _short(path: str) -> sim.Scenario:
    return sim.load_scenario(CONFIGS / path, {"run.duration_days": 730, "run.warmup_days": 180})


def _diff(base: str, option: str, reps: int = 4) -> dict[str, dict[str, float]]:
    d = compare(_short(base), [_short(option)], reps, seed=5).differences
    return d.set_index("kpi").to_dict(orient="index")


@pytest.mark.slow  # over 5 s: the fast run keeps the mechanism's known-answer tests
def test_sunderland_options_move_the_way_the_seed_expects() -> None:
    base = "sunderland/calibrated.yaml"
    weekly = _diff(base, "sunderland/options/weekly_panel.yaml")
    assert weekly["wait_panel_mean_days"]["ci_high"] < 0  # a shorter cycle, a shorter wait
    partner = _diff(base, "sunderland/options/more_partner_led_plans.yaml")
    assert partner["open_level3_at_end"]["ci_high"] < 0 < partner["open_level2_at_end"]["ci_low"]


@pytest.mark.slow
def test_kirklees_options_move_the_way_the_seed_expects() -> None:
    base = "kirklees/calibrated.yaml"
    mst = _diff(base, "kirklees/options/second_mst_team.yaml", reps=3)
    assert mst["queue_mst_mean"]["ci_high"] < 0  # twice the therapists clear the list
    without = _diff(base, "kirklees/options/without_edge_of_care.yaml", reps=3)
    # the programmes' staff (Kirklees-ESP-2019 para 3.5: £1,166,283 a year in 2019 prices) are saved exactly
    assert without["cost_early_help_gbp_per_year"]["diff_mean"] == pytest.approx(-1_166_283 * 1.03**5, rel=1e-6)


@pytest.mark.slow
def test_kirklees_fgc_conferences_in_the_seeds_range_and_care_near_steady_state() -> None:
    """Kirklees-ESP-2019 s.2 FGC: 10 coordinators "allow for between 240 to 320 FGCs ... in each 12
    month period" (issue 10 must-show 4). Calibrated Kirklees, three years with one of
    warm-up, 6 replications on seeds the tuning never saw: conferences started a year within
    240-320 in every replication and their mean within 25 of the middle, 280 (replications
    spread by about +-10 a year, Poisson-like); looked-after children per 10,000 at the end
    within 15% of the start on the replication mean (must-show 3; single replications swing
    by about 8%: the stock is ~700 children with stays of years)."""
    sc = sim.load_scenario(CONFIGS / "kirklees" / "calibrated.yaml")
    t = run_batch(sc, 6, seed=4242, backend="process", workers=2).replications
    per_year = t["starts_fgc"] / (t["window_days"] / 365.0)
    assert per_year.between(240, 320).all(), per_year.tolist()
    assert abs(per_year.mean() - 280) < 25, per_year.tolist()
    drift = t["lac_per_10k_at_end"].mean() / t["lac_per_10k_at_start"].mean() - 1
    assert abs(drift) < 0.15, drift

"""Probabilistic sensitivity analysis (:mod:`sim.uncertainty`): spec validation, known-answer
tests of the sensitivity indices, identical results on every backend and after resuming.

Known answers:

* **M/M/c**: the mean wait for a key worker depends on the arrival rate and the number of
  workers and cannot depend on a staff unit cost. Under common random numbers a parameter
  that cannot move the output gives elementary effects of exactly zero, so Morris mu* and
  the total Sobol index of the inert cost are 0 with a zero-width interval (the test accepts
  any interval containing 0), and both methods must rank the two queueing parameters above it.
* **Linear cost**: ``Y = a X1 + b X2`` with independent inputs has first-order (and total)
  Sobol indices ``a^2 Var X1 / (a^2 Var X1 + b^2 Var X2)``; the estimates' 95% bootstrap
  intervals must contain them. Checked on a function and through the simulator, whose total
  cost is exactly linear in the two staff unit costs of a scenario with fixed staff.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import results as R
from sim.cli import main
from sim.errors import ArgumentError, ResultsError, ScenarioError
from sim.uncertainty import design, load_spec, run_uncertainty
from sim.uncertainty.analyse import LHS_MIN_POINTS, SENSITIVITY_COLUMNS, indices
from sim.uncertainty.spec import Parameter
from tests.conftest import CONFIGS, ROOT

MMC = (CONFIGS / "validation" / "mmc.yaml").as_posix()
WAIT = "wait_level3_mean_days"
COST = "cost_total_gbp_per_year"


def _write(folder: Path, name: str, data: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _mmc_files(folder: Path, days: float = 200) -> None:
    """A short M/M/c scenario with staff costs, and an option with one more worker."""
    _write(
        folder,
        "mmc.yaml",
        {
            "extends": MMC,
            "run": {"duration_days": days, "warmup_days": 60},
            "teams": {"town": {"workers": 2, "caseload_cap": 2, "other_fte": 1.5}},
            "costs": {
                "staff": {
                    "key_worker_per_year": {"gbp": 50000, "price_year": 2024},
                    "other_team_staff_per_year": {"gbp": 40000, "price_year": 2024},
                }
            },
        },
    )
    _write(folder, "more.yaml", {"extends": "mmc.yaml", "name": "mmc_more", "teams": {"town": {"workers": 3}}})


PARAMS: list[dict[str, Any]] = [
    {
        "name": "arrivals",
        "keys": ["referrals.sources.all.annual_rate"],
        "distribution": {"dist": "uniform", "low": 500, "high": 800},
        "source": "ASSUMPTION",
    },
    {
        "name": "workers",
        "keys": ["teams.town.workers"],
        "distribution": {"dist": "choice", "values": [2, 3]},
        "source": "ASSUMPTION",
    },
    {
        "name": "worker_cost",
        "keys": ["costs.staff.key_worker_per_year.gbp"],
        "distribution": {"dist": "truncnormal", "mean": 50000, "sd": 5000, "low": 40000, "high": 60000},
        "source": "ASSUMPTION",
    },
]


SMALL = [PARAMS[0], PARAMS[2]]
"""Two parameters for the run, backend and resume tests (3 points per Morris trajectory)."""


def _spec(folder: Path, options: bool = False, params: list[dict[str, Any]] = PARAMS, **changes: Any) -> Path:
    _mmc_files(folder)
    data: dict[str, Any] = {
        "scenario": "mmc.yaml",
        "options": ["more.yaml"] if options else [],
        "kpis": [WAIT, COST],
        "parameters": params,
    }
    data.update(changes)
    return _write(folder, "spec.yaml", data)


# --------------------------------------------------------------------------- bad input
def _bad_param(**change: Any) -> list[dict[str, Any]]:
    return [{**PARAMS[0], **change}, *PARAMS[1:]]


BAD_SPECS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown top-level key", {"foo": 1}, "foo"),
    ("unknown parameter field", {"parameters": _bad_param(bogus=1)}, "parameters.0.bogus"),
    (
        "inverted range",
        {"parameters": _bad_param(distribution={"dist": "uniform", "low": 800, "high": 500})},
        "parameters.0.distribution",
    ),
    (
        "empty range",
        {"parameters": _bad_param(distribution={"dist": "uniform", "low": 5, "high": 5})},
        "parameters.0.distribution",
    ),
    (
        "mode outside the range",
        {"parameters": _bad_param(distribution={"dist": "triangular", "low": 1, "mode": 3, "high": 2})},
        "parameters.0.distribution",
    ),
    (
        "unknown distribution",
        {"parameters": _bad_param(distribution={"dist": "cauchy", "loc": 1})},
        "parameters.0.distribution",
    ),
    ("no source", {"parameters": _bad_param(source="")}, "parameters.0.source"),
    ("key that does not exist", {"parameters": _bad_param(keys=["teams.town.nurses"])}, "parameters.0.keys.0"),
    ("key that is not a number", {"parameters": _bad_param(keys=["early_help.allocation"])}, "parameters.0.keys.0"),
    ("key that is a mapping", {"parameters": _bad_param(keys=["teams.town"])}, "parameters.0.keys.0"),
    ("duplicate parameter names", {"parameters": [PARAMS[0], PARAMS[0]]}, "each name once"),
    (
        "a key set by two parameters",
        {"parameters": [PARAMS[0], {**PARAMS[2], "keys": PARAMS[0]["keys"]}]},
        "referrals.sources.all.annual_rate is set by both arrivals and worker_cost",
    ),
    ("no parameters", {"parameters": []}, "parameters"),
    ("unknown KPI", {"kpis": ["no_such_kpi"]}, "kpis.0"),
    (
        "negative scale factor",
        {"parameters": _bad_param(scale=True, distribution={"dist": "uniform", "low": -1, "high": 1})},
        "parameters.0.distribution",
    ),
    (
        "samples make an invalid scenario",
        {
            "parameters": _bad_param(
                keys=["waiting.withdrawal_per_day"], distribution={"dist": "uniform", "low": -1, "high": -0.5}
            )
        },
        "withdrawal_per_day",
    ),
    ("missing scenario file", {"scenario": "nope.yaml"}, "scenario"),
]


@pytest.mark.parametrize(("what", "changes", "field"), BAD_SPECS, ids=[b[0] for b in BAD_SPECS])
def test_bad_spec_exits_2_naming_the_field_before_any_work(
    what: str, changes: dict[str, Any], field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path, **changes)
    out = tmp_path / "out"
    assert main(["uncertainty", str(spec), "--samples", "2", "--replications", "1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and all(ln.startswith("error: ") for ln in lines), err
    assert field in err, f"{what}: {err}"
    assert "Traceback" not in err
    assert not out.exists(), "nothing may be written before the spec is valid"


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--samples", "0"], "--samples"),
        (["--samples", "6", "--method", "sobol"], "--samples"),
        (["--method", "fast"], "--method"),
        (["--replications", "0"], "--replications"),
        (["--seed", "-1"], "--seed"),
        (["--scheduler", "tcp://x:1"], "--scheduler"),
        (["--backend", "gpu"], "--backend"),
    ],
)
def test_bad_arguments_exit_2_naming_the_flag(
    args: list[str], flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) if args[1] in ("gpu", "fast") else _nothing():
        code = main(["uncertainty", str(spec), "--out", str(out), "--quiet", *args])
        assert code == 2
    assert flag in capsys.readouterr().err
    assert not out.exists()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize("samples", ["0", "1"])
def test_too_few_samples_get_the_same_one_rule(
    samples: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--samples 0 and 1 are refused by the one rule of check_design_args (not a parse-time
    ">= 1" for 0 and ">= 2" for 1)."""
    spec = _spec(tmp_path)
    assert main(["uncertainty", str(spec), "--samples", samples, "--quiet", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"error: --samples: must be a whole number >= 2, got {samples}\n"


def test_too_large_a_design_is_refused_naming_samples_before_building_its_scenarios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """20,000 LHS points x 2 scenarios x 2 replications of ten years is beyond the total
    limit: refused from the design's size and the baseline's expected referrals, before a
    scenario is built for any point, naming --samples with advice about samples."""
    _spec(tmp_path, options=True)
    _mmc_files(tmp_path, days=3650)
    spec = tmp_path / "spec.yaml"

    def built(*args: Any, **kw: Any) -> Any:
        raise AssertionError("the sampled scenarios were built before the workload check")

    monkeypatch.setattr("sim.uncertainty.run.sample_scenarios", built)
    args = ["uncertainty", str(spec), "--method", "lhs", "--samples", "20000", "--replications", "2", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --samples: 20,000 parameter points x 2 scenarios x 2 replication(s) give about"), err
    assert "use fewer samples" in err and "--force" in err and "--replications:" not in err
    assert not (tmp_path / "out").exists()


def test_library_refuses_a_bad_design_before_any_work(tmp_path: Path) -> None:
    loaded = load_spec(_spec(tmp_path))
    with pytest.raises(ArgumentError, match="power of two"):
        run_uncertainty(loaded, 3, 1, "sobol", out=tmp_path / "out")
    with pytest.raises(ArgumentError, match="method"):
        run_uncertainty(loaded, 3, 1, "fast", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- sampling
def test_designs_follow_each_distribution() -> None:
    """Each column is the parameter's inverse CDF of the design's uniforms: Latin hypercube
    columns hit every one of n equal-probability strata once, and values stay in range."""
    params = [
        Parameter.model_validate({"name": "t", "keys": ["x"], "source": "A", "distribution": d})
        for d in (
            {"dist": "triangular", "low": 1, "mode": 2, "high": 4},
            {"dist": "truncnormal", "mean": 0, "sd": 1, "low": -1, "high": 2},
            {"dist": "lognormal", "median": 3, "sigma": 0.5},
            {"dist": "beta", "a": 2, "b": 5, "low": 10, "high": 20},
            {"dist": "choice", "values": [1, 5, 9]},
        )
    ]
    des = design(params, "lhs", 50, seed=3)
    for j, p in enumerate(params):
        cdf = p.distribution.frozen().cdf(des.values[:, j]) if p.distribution.dist != "choice" else None
        if cdf is not None:
            np.testing.assert_allclose(cdf, des.unit[:, j], atol=1e-9)
            assert sorted(np.floor(des.unit[:, j] * 50).astype(int)) == list(range(50))
    assert set(des.values[:, 4]) <= {1, 5, 9}
    morris = design(params, "morris", 3, seed=3)
    assert np.all(np.isfinite(morris.values)), "Morris levels never map to an infinite tail"
    assert set(np.round(morris.unit.ravel(), 6)) <= {0.125, 0.375, 0.625, 0.875}


# --------------------------------------------------------------------------- known answers
def test_sobol_indices_of_a_linear_function_match_the_analytic_shares() -> None:
    """Y = 3 X1 + 0.5 X2 + 0 X3 with X1 ~ U(0, 1), X2 ~ truncated N(0, 1) on [-2, 2], X3 inert:
    S1 = ST = a_i^2 Var X_i / sum_j a_j^2 Var X_j. N = 1024 (6,144 evaluations, milliseconds)."""
    dists = [
        {"dist": "uniform", "low": 0, "high": 1},
        {"dist": "truncnormal", "mean": 0, "sd": 1, "low": -2, "high": 2},
        {"dist": "beta", "a": 2, "b": 2},
    ]
    params = [
        Parameter.model_validate({"name": f"x{i + 1}", "keys": ["k"], "source": "A", "distribution": d})
        for i, d in enumerate(dists)
    ]
    coef = np.array([3.0, 0.5, 0.0])  # shares about 0.79 and 0.21: a swapped column would fail
    var = np.array([p.distribution.frozen().var() for p in params])
    share = coef**2 * var / np.sum(coef**2 * var)
    des = design(params, "sobol", 1024, seed=11)
    rows = {(p, i): (v, lo, hi) for p, i, v, lo, hi in indices(des, des.values @ coef, seed=11)}
    for j, p in enumerate(params):
        for idx in ("S1", "ST"):
            v, lo, hi = rows[(p.name, idx)]
            assert lo <= share[j] <= hi, f"{p.name} {idx}: {v:.3f} ({lo:.3f} to {hi:.3f}), analytic {share[j]:.3f}"


@pytest.mark.slow  # 64 short runs
def test_simulator_cost_is_linear_in_unit_costs_and_sobol_recovers_the_shares(tmp_path: Path) -> None:
    """Total staff cost = 2 x key worker cost + 1.5 x other staff cost (per year, fixed staff,
    no uprating), so the Sobol shares are (2^2 Var C1) / (2^2 Var C1 + 1.5^2 Var C2); the
    simulator's cost KPI must be that linear function exactly, and the indices' CIs must
    contain the shares. N = 16 (64 short runs, about 20 s)."""
    _mmc_files(tmp_path)
    lo1, hi1, lo2, hi2 = 40000.0, 60000.0, 30000.0, 50000.0
    params = [
        {
            "name": "c1",
            "keys": ["costs.staff.key_worker_per_year.gbp"],
            "distribution": {"dist": "uniform", "low": lo1, "high": hi1},
            "source": "ASSUMPTION",
        },
        {
            "name": "c2",
            "keys": ["costs.staff.other_team_staff_per_year.gbp"],
            "distribution": {"dist": "uniform", "low": lo2, "high": hi2},
            "source": "ASSUMPTION",
        },
    ]
    spec = _write(tmp_path, "lin.yaml", {"scenario": "mmc.yaml", "kpis": [COST], "parameters": params})
    res = run_uncertainty(load_spec(spec), 16, 1, "sobol", seed=2)
    cost = res.replications[COST].to_numpy(float)
    x = res.parameters[["c1", "c2"]].to_numpy(float)
    fit, *_ = np.linalg.lstsq(np.column_stack([x, np.ones(len(x))]), cost, rcond=None)
    np.testing.assert_allclose(fit[:2], [2.0, 1.5], rtol=1e-9)
    v1, v2 = 4 * (hi1 - lo1) ** 2 / 12, 2.25 * (hi2 - lo2) ** 2 / 12
    share = {"c1": v1 / (v1 + v2), "c2": v2 / (v1 + v2)}
    s = res.sensitivity
    for (name, idx), g in s[s["index"].isin(["S1", "ST"])].groupby(["parameter", "index"]):
        row = g.iloc[0]
        assert row["ci_low"] <= share[str(name)] <= row["ci_high"], f"{name} {idx}: {row.to_dict()}"


@pytest.fixture(scope="module")
def mmc_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _spec(tmp_path_factory.mktemp("mmc"))


def _rank_check(method: str, samples: int, index: str, spec: Path) -> None:
    res = run_uncertainty(load_spec(spec), samples, 1, method, seed=4)
    s = res.sensitivity
    wait = s[(s["kpi"] == WAIT) & (s["index"] == index)].set_index("parameter")
    assert wait.loc["arrivals", "value"] > wait.loc["worker_cost", "value"]
    assert wait.loc["workers", "value"] > wait.loc["worker_cost", "value"]
    inert = wait.loc["worker_cost"]
    assert inert["ci_low"] <= 0 <= inert["ci_high"], inert.to_dict()
    # and the cost does not depend on the queue: only the unit cost (and workers) move it
    cost = s[(s["kpi"] == COST) & (s["index"] == index)].set_index("parameter")
    assert cost.loc["arrivals", "value"] == 0
    assert cost.loc["worker_cost", "value"] > 0


def test_mmc_morris_ranks_queueing_parameters_above_an_inert_cost(mmc_spec: Path) -> None:
    """Morris, 3 trajectories (12 short runs)."""
    _rank_check("morris", 3, "mu_star", mmc_spec)


@pytest.mark.slow  # 20 short runs
def test_mmc_sobol_ranks_queueing_parameters_above_an_inert_cost(mmc_spec: Path) -> None:
    """Sobol, N = 4 (20 short runs): the inert cost's total index is exactly 0 (its CI
    contains 0); the queueing parameters' total indices are positive."""
    _rank_check("sobol", 4, "ST", mmc_spec)


# --------------------------------------------------------------------------- runs and results
@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("small")
    spec = _spec(folder, options=True, params=SMALL)
    out = folder / "serial"
    args = ["uncertainty", str(spec), "--samples", "2", "--replications", "2", "--seed", "3", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    return spec, out


def test_results_folder_has_every_table(small: tuple[Path, Path]) -> None:
    _, out = small
    res = R.read(out)
    assert res.kind == R.Kind.UNCERTAINTY
    assert res.scenarios == ["mmc", "mmc_more"] and res.options == ["mmc_more"]
    assert res.parameters is not None
    assert list(res.parameters.columns) == ["sample", "arrivals", "worker_cost"]
    points = len(res.parameters)
    assert points == 2 * (2 + 1)
    reps = res.replications
    assert list(reps.columns[:4]) == ["sample", "scenario", "rep", "seed"]
    assert len(reps) == points * 2 * 2
    assert not reps.duplicated(["sample", "scenario", "rep"]).any()
    assert res.sensitivity is not None and set(res.sensitivity["index"]) == {"mu_star", "sigma", "mu"}
    assert set(res.sensitivity["quantity"]) == {"level", "difference"}
    rob = res.robustness
    assert rob is not None and set(rob["kpi"]) == {WAIT, COST}
    # robustness is computed from per-sample means: recompute one cell by hand
    means = reps.groupby(["sample", "scenario"])[COST].mean().unstack()
    diff = means["mmc_more"] - means["mmc"]
    row = rob[rob["kpi"] == COST].iloc[0]
    assert row["diff_mean"] == pytest.approx(diff.mean())
    assert row["p_better"] == pytest.approx(float(np.mean(diff < 0)))
    assert row["diff_low"] == pytest.approx(np.percentile(diff, 2.5))


def test_common_random_numbers_within_and_across_samples(small: tuple[Path, Path]) -> None:
    """Replication r has the same seed in every sample and scenario; the inert cost leaves
    the wait of a sample exactly unchanged (same families, same fates)."""
    reps = R.read(small[1]).replications
    assert reps.groupby("rep")["seed"].nunique().eq(1).all()
    params = R.read(small[1]).parameters
    assert params is not None
    base = reps[reps["scenario"] == "mmc"].merge(params, on="sample")
    same_queue = base.groupby(["arrivals", "rep"])[WAIT].nunique()
    assert len(same_queue) < len(base), "the design must repeat an arrival rate with another cost"
    assert (same_queue == 1).all()


def test_process_backend_gives_identical_tables(small: tuple[Path, Path], tmp_path: Path) -> None:
    spec, serial = small
    out = tmp_path / "process"
    args = ["uncertainty", str(spec), "--samples", "2", "--replications", "2", "--seed", "3", "--quiet"]
    assert main([*args, "--out", str(out), "--backend", "process", "--workers", "2"]) == 0
    for name in ("replications.parquet", "parameters.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(serial / name), pd.read_parquet(out / name))
    for name in ("sensitivity.csv", "robustness.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(serial / name), pd.read_csv(out / name))


@pytest.mark.slow  # starts a Dask LocalCluster (about 10 s)
def test_dask_backend_gives_identical_tables(small: tuple[Path, Path], tmp_path: Path) -> None:
    spec, serial = small
    out = tmp_path / "dask"
    args = ["uncertainty", str(spec), "--samples", "2", "--replications", "2", "--seed", "3", "--quiet"]
    assert main([*args, "--out", str(out), "--backend", "dask", "--workers", "2"]) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(serial / "replications.parquet"), pd.read_parquet(out / "replications.parquet")
    )
    pd.testing.assert_frame_equal(pd.read_csv(serial / "sensitivity.csv"), pd.read_csv(out / "sensitivity.csv"))


def test_resume_reads_checkpoints_back_and_refuses_another_job(
    small: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Remove some checkpoints and corrupt one: the rerun recomputes exactly those and gives
    the same tables; a different design on the same folder is refused."""
    import shutil

    spec, serial = small
    out = tmp_path / "resume"
    shutil.copytree(serial, out)
    for f in ("manifest.json", "replications.parquet", "sensitivity.csv"):
        (out / f).unlink()
    cps = sorted((out / "reps").glob("*/rep-*.parquet"))
    for cp in cps[:3]:
        cp.unlink()
    cps[5].write_bytes(b"not parquet")
    args = ["uncertainty", str(spec), "--samples", "2", "--replications", "2", "--seed", "3", "--quiet"]
    capsys.readouterr()
    assert main([*args, "--out", str(out)]) == 0
    assert f"({len(cps) - 4} resumed" in capsys.readouterr().out
    pd.testing.assert_frame_equal(
        pd.read_parquet(serial / "replications.parquet"), pd.read_parquet(out / "replications.parquet")
    )
    pd.testing.assert_frame_equal(pd.read_csv(serial / "sensitivity.csv"), pd.read_csv(out / "sensitivity.csv"))
    assert list((out / "quarantine").glob("*/*.parquet"))
    with pytest.raises(ResultsError, match="refusing to mix"):
        run_uncertainty(load_spec(spec), 3, 2, "morris", seed=3, out=out)


def test_a_corrupt_checkpoint_is_reported_as_a_run_reports_it(
    small: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console warns of the quarantined checkpoint (one line naming it, why, and where it
    went) and diagnostics.json records it under the scenario's "quarantined", as for ehsim run."""
    import json
    import shutil

    spec, serial = small
    out = tmp_path / "corrupt"
    shutil.copytree(serial, out)
    bad = out / "reps" / "mmc_more[sample=1]" / "rep-000001.parquet"
    bad.write_bytes(b"not parquet")
    args = ["uncertainty", str(spec), "--samples", "2", "--replications", "2", "--seed", "3", "--quiet"]
    capsys.readouterr()
    assert main([*args, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    line = (
        "reps/mmc_more[sample=1]/rep-000001.parquet: unreadable (truncated, corrupt or not a checkpoint); "
        "moved to quarantine/mmc_more[sample=1]/rep-000001.parquet"
    )
    assert f"warning (mmc_more): {line}\n" in err, err
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag == {"mmc": {"quarantined": [], "warnings": []}, "mmc_more": {"quarantined": [line], "warnings": []}}


@pytest.mark.parametrize(
    ("change", "differs"),
    [
        (["--samples", "3"], "samples 2 there, 3 here"),
        (["--method", "lhs", "--samples", "4"], "method morris there, lhs here; samples 2 there, 4 here"),
        (["--seed", "4"], "seed 3 there, 4 here"),
    ],
)
def test_reusing_a_folder_for_another_design_names_what_differs(
    change: list[str], differs: str, small: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    spec, out = small
    args = ["uncertainty", str(spec), "--samples", "2", "--replications", "2", "--seed", "3", "--quiet", *change]
    capsys.readouterr()
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "refusing to mix this uncertainty analysis with the results there" in err, err
    assert "this one holds an uncertainty analysis of mmc, mmc_more with seed 3." in err, err
    assert f"(what differs: {differs})" in err, err


def test_reusing_a_folder_with_other_parameters_says_the_parameters_changed(
    small: tuple[Path, Path], tmp_path: Path
) -> None:
    _, out = small
    other = _spec(tmp_path, options=True, params=[SMALL[0], PARAMS[1]])
    with pytest.raises(ResultsError, match=r"what differs: uncertain parameters \(the spec's parameters changed\)\)"):
        run_uncertainty(load_spec(other), 2, 2, "morris", seed=3, out=out)


@pytest.mark.parametrize(("command", "config"), [("run", "mmc.yaml"), ("uncertainty", "spec.yaml")])
def test_a_command_refused_for_an_unreachable_scheduler_leaves_the_folder_free(
    command: str, config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused (exit 2) before any replication: no claim is left, so a correct run with
    another seed can use the folder."""
    monkeypatch.setattr("sim.backends.CONNECT_TIMEOUT", "1s")  # nothing listens on port 1: no need to wait 10 s
    _spec(tmp_path, params=SMALL)
    out = tmp_path / "out"
    args = [command, str(tmp_path / config), "--replications", "1", "--quiet", "--out", str(out)]
    if command == "uncertainty":
        args += ["--samples", "2"]
    assert main([*args, "--backend", "dask", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "cannot reach Dask scheduler" in capsys.readouterr().err
    assert not (out / R.JOB).exists()
    assert main([*args, "--seed", "5"]) == 0, capsys.readouterr().err


def test_ctrl_c_while_checkpoints_are_read_leaves_the_folder_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the checkpoints are read, before any replication runs: no claim is left,
    so the command with another seed can use the folder."""
    out = tmp_path / "out"
    spec = load_spec(_spec(tmp_path, params=SMALL))

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("sim.checkpoints.Checkpoints.load", interrupted)
        with pytest.raises(KeyboardInterrupt):
            run_uncertainty(spec, 2, 1, "lhs", seed=1, out=out)
    assert not (out / R.JOB).exists()
    run_uncertainty(spec, 2, 1, "lhs", seed=2, out=out)
    assert R.read(out).manifest["seed"] == 2


@pytest.mark.slow  # about 15 s: starts a Dask LocalCluster in a subprocess and interrupts it
def test_ctrl_c_on_dask_prints_the_one_interrupted_line(tmp_path: Path) -> None:
    """Ctrl-C as a terminal sends it (SIGINT to the command's whole process group, the Dask
    workers included) mid-run on --backend dask: exit 130 and the one 'interrupted' line, as
    the process backend, not 70-100 lines of worker tracebacks and cancelled-task warnings."""
    _spec(tmp_path, options=True, params=SMALL)
    _mmc_files(tmp_path, days=3650)  # replications of a second or so: the interrupt lands mid-run
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "uncertainty", str(tmp_path / "spec.yaml"), "--samples", "10"]
    cmd += ["--replications", "2", "--backend", "dask", "--workers", "2", "--quiet", "--out", str(out)]

    def terminal() -> None:  # Ctrl-C's default action (pytest-xdist workers ignore it), own group
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.setpgid(0, 0)

    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=terminal
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "reps").glob("*/rep-*.parquet")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines == ["interrupted (the replications finished so far are kept: run the same command again to resume)"], (
        err
    )


@pytest.mark.slow  # about 30 s: a subprocess killed mid-run, rerun, and an uninterrupted run
def test_sigkill_mid_run_then_rerun_gives_the_uninterrupted_tables(tmp_path: Path) -> None:
    spec = _spec(tmp_path, options=True, params=SMALL)
    cmd = [sys.executable, "-m", "sim", "uncertainty", str(spec), "--samples", "3", "--replications", "2", "--quiet"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [*cmd, "--out", str(killed)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((killed / "reps").glob("*/rep-*.parquet"))) < 5:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(list((killed / "reps").glob("*/rep-*.parquet")))
    total = 3 * 3 * 2 * 2
    assert 5 <= before < total, "the kill must land mid-run"
    assert not (killed / "replications.parquet").exists()
    rerun = subprocess.run([*cmd, "--out", str(killed)], cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{before} resumed" in rerun.stdout
    clean = subprocess.run([*cmd, "--out", str(tmp_path / "clean")], cwd=ROOT, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    a = pd.read_parquet(killed / "replications.parquet")
    b = pd.read_parquet(tmp_path / "clean" / "replications.parquet")
    assert len(a) == total and not a.duplicated(["sample", "scenario", "rep"]).any()
    pd.testing.assert_frame_equal(a, b)
    for name in ("sensitivity.csv", "robustness.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(killed / name), pd.read_csv(tmp_path / "clean" / name))


@pytest.mark.parametrize("name", ["worcestershire", "worcestershire_needs", "west_sussex", "sunderland", "kirklees"])
def test_bundled_specs_are_valid(name: str) -> None:
    loaded = load_spec(CONFIGS / "uncertainty" / f"{name}.yaml")
    assert loaded.options, "each bundled spec compares options with the baseline"
    assert all(p.source.strip() for p in loaded.parameters)
    from sim.uncertainty.run import sample_scenarios

    # the extremes of every range make valid scenarios
    lo = np.array([p.bounds()[0] for p in loaded.parameters])
    hi = np.array([p.bounds()[1] for p in loaded.parameters])
    assert len(sample_scenarios(loaded, np.vstack([lo, hi]))) == 2


def test_bad_spec_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not found"):
        load_spec(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="mapping"):
        load_spec(tmp_path / "list.yaml")


def test_lhs_indices_rank_a_linear_function_and_need_enough_points() -> None:
    """RBD-FAST on 200 Latin hypercube points of Y = 3 X1 + X2 (uniform inputs): S1 of X1
    (analytic 0.9) above X2 (0.1) above the inert X3 (0), each analytic share within its
    interval widened by 0.1 (RBD-FAST is biased for small samples); under 20 points, none."""
    params = [
        Parameter.model_validate(
            {"name": f"x{i}", "keys": ["k"], "source": "A", "distribution": {"dist": "uniform", "low": 0, "high": 1}}
        )
        for i in range(3)
    ]
    des = design(params, "lhs", 200, seed=5)
    rows = {p: (v, lo, hi) for p, _, v, lo, hi in indices(des, des.values @ np.array([3.0, 1.0, 0.0]), seed=5)}
    assert rows["x0"][0] > rows["x1"][0] > rows["x2"][0]
    for name, share in (("x0", 0.9), ("x1", 0.1), ("x2", 0.0)):
        assert rows[name][1] - 0.1 <= share <= rows[name][2] + 0.1, (name, rows[name])
    small = design(params, "lhs", 10, seed=5)
    assert indices(small, small.values @ np.array([3.0, 1.0, 0.0]), seed=5) == []


# --------------------------------------------------------------------------- too few samples for indices
def test_gap_tells_constant_from_too_few_and_unmeasured() -> None:
    """An outcome has no indices for one stated reason; only one that does not vary is constant."""
    from sim.uncertainty.analyse import CONSTANT, TOO_FEW, UNMEASURED, gap

    varied = np.linspace(1.0, 2.0, 8)
    assert gap("lhs", varied) == TOO_FEW
    assert gap("lhs", np.full(8, 3.0)) == CONSTANT
    assert gap("lhs", np.append(varied, np.nan)) == UNMEASURED
    assert gap("lhs", np.linspace(1.0, 2.0, LHS_MIN_POINTS)) is None
    assert gap("morris", varied) is None and gap("sobol", varied) is None


def test_sensitivity_csv_says_why_an_outcome_has_no_indices(tmp_path: Path) -> None:
    """A tiny Morris run (2 trajectories, 1 replication, 200 days; well under a second) where
    the M/M/c scenario never sends a family to care: entries to care do not vary, so
    sensitivity.csv holds one row per such outcome with no index and ``why_missing`` =
    'constant', while the wait, which varies, has indices and a blank ``why_missing``. The
    console's sentence reads the reason from there."""
    import contextlib
    import io

    care = "care_entries"
    spec = _spec(tmp_path, options=True, params=SMALL, kpis=[care, WAIT, COST])
    args = ["uncertainty", str(spec), "--method", "morris", "--samples", "2", "--replications", "1", "--seed", "1"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main([*args, "--quiet", "--out", str(tmp_path / "out")]) == 0
    sens = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    assert list(sens.columns) == list(SENSITIVITY_COLUMNS)
    gaps = sens[sens["kpi"] == care]
    assert sorted(gaps["scenario"]) == ["mmc", "mmc_more"], "one row per outcome with no indices"
    assert (gaps["why_missing"] == "constant").all(), gaps
    assert gaps[["parameter", "index", "value"]].isna().all().all()
    wait = sens[sens["kpi"] == WAIT]
    assert not wait.empty and wait["why_missing"].isna().all() and wait["value"].notna().all()
    assert "No parameter moves its change in entries to care (it is the same in every plausible world)" in (
        out.getvalue()
    )


def _old_layout(folder: Path) -> None:
    """Rewrite ``sensitivity.csv`` as a job wrote it before ``why_missing``: no such column and
    no row for an outcome without indices."""
    sens = pd.read_csv(folder / "sensitivity.csv")
    sens[sens["why_missing"].isna()].drop(columns="why_missing").to_csv(folder / "sensitivity.csv", index=False)


def test_a_folder_written_before_why_missing_reads_as_a_new_one(tmp_path: Path) -> None:
    """The tiny Morris run above, its sensitivity.csv in the layout of before ``why_missing``:
    the report still says the change in entries to care is the same in every plausible world
    (derived from the replications, as the job would say now), not the generic sentence."""
    import contextlib
    import io

    spec = _spec(tmp_path, options=True, params=SMALL, kpis=["care_entries", WAIT, COST])
    args = ["uncertainty", str(spec), "--method", "morris", "--samples", "2", "--replications", "1", "--seed", "1"]
    folder = tmp_path / "out"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main([*args, "--quiet", "--out", str(folder)]) == 0
        _old_layout(folder)
        assert main(["report", str(folder)]) == 0
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "No parameter moves its change in entries to care (it is the same in every plausible world)" in page
    assert "No sensitivity indices for its change in entries to care." not in page


def test_an_old_sensitivity_table_gives_the_reason_derived_or_says_it_predates_it() -> None:
    """Too few LHS samples for a change that varies is said as now (and a baseline level that
    does not vary, constant); where the replications
    give no reason (a Morris change that varies, yet without indices), the sentence says the
    folder predates the reason rather than the generic one."""
    from sim import kpis as K
    from sim.present.robustness import statements
    from sim.uncertainty.analyse import CONSTANT, PREDATES, TOO_FEW, missing

    catalogue = {COST: K.per_year(K.COST_TOTAL)}
    old = pd.DataFrame(columns=[c for c in SENSITIVITY_COLUMNS if c != "why_missing"])
    reps, rob = _one_option_tables(np.linspace(4e5, 6e5, 8))
    assert missing(old, reps, "lhs", "base", ["opt"], [COST]) == {("base", COST): CONSTANT, ("opt", COST): TOO_FEW}
    (text,) = statements(rob, old, "lhs", "base", ["opt"], [COST], catalogue, 365.0, replications=reps, samples=8)
    assert "this run has 8 samples" in text and f"at least {LHS_MIN_POINTS}" in text
    assert missing(old, reps, "morris", "base", ["opt"], [COST])[("opt", COST)] == PREDATES
    (text,) = statements(rob, old, "morris", "base", ["opt"], [COST], catalogue, 365.0, replications=reps, samples=10)
    assert "this results folder predates ehsim recording why an outcome has none" in text


def _one_option_tables(diff: np.ndarray, replications: int = 2, noise: Any = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A replications table whose option differs from the base by ``diff`` in every
    replication of each sample, plus ``noise`` (one value per replication, or one for all:
    the replications' shared noise under common random numbers), and its robustness table."""
    from sim import kpis as K
    from sim.uncertainty.analyse import robustness

    n = len(diff)
    shared = np.broadcast_to(np.asarray(noise, dtype=float), (replications,))
    frames = []
    for r in range(replications):
        base = pd.DataFrame({"sample": range(n), "scenario": "base", "rep": r, "seed": r, COST: 1e6})
        frames += [base, base.assign(scenario="opt", **{COST: 1e6 + diff + shared[r]})]
    reps = pd.concat(frames, ignore_index=True)
    catalogue = {COST: K.per_year(K.COST_TOTAL)}
    rob = robustness(reps, "base", ["opt"], [COST], catalogue)
    return reps, rob


def test_statement_says_too_few_samples_not_constant_when_the_change_varies() -> None:
    """8 LHS samples give no indices; a change that varies is not called constant, and the
    sentence says how many samples ran and how many the method needs. A change that does not
    vary is still called constant."""
    from sim import kpis as K
    from sim.present.robustness import statements
    from sim.uncertainty.analyse import CONSTANT, TOO_FEW

    catalogue = {COST: K.per_year(K.COST_TOTAL)}

    def why(reason: str) -> pd.DataFrame:  # sensitivity.csv of an outcome with no indices
        row = {"method": "lhs", "kpi": COST, "scenario": "opt", "quantity": "difference", "why_missing": reason}
        return pd.DataFrame([row], columns=list(SENSITIVITY_COLUMNS))

    reps, rob = _one_option_tables(np.linspace(4e5, 6e5, 8))
    (text,) = statements(
        rob, why(TOO_FEW), "lhs", "base", ["opt"], [COST], catalogue, 365.0, replications=reps, samples=8
    )
    assert "same in every plausible world" not in text
    assert "8 samples" in text and f"at least {LHS_MIN_POINTS}" in text and "--samples" in text
    reps, rob = _one_option_tables(np.full(8, 5e5))
    (text,) = statements(
        rob, why(CONSTANT), "lhs", "base", ["opt"], [COST], catalogue, 365.0, replications=reps, samples=8
    )
    assert "No parameter moves its change in total cost (it is the same in every plausible world)" in text


@pytest.fixture(scope="module")
def few_lhs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """An LHS job with fewer samples than its indices need, one replication, three KPIs, a report."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("few_lhs")
    spec = _spec(folder, options=True, params=SMALL, kpis=[WAIT, COST, "care_entries"])  # three narrow panels
    out, err = io.StringIO(), io.StringIO()
    args = ["uncertainty", str(spec), "--method", "lhs", "--samples", "4", "--replications", "1", "--seed", "1"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main([*args, "--quiet", "--report", "--out", str(folder / "out")]) == 0
    return folder / "out", out.getvalue(), err.getvalue()


def test_few_lhs_samples_warn_and_say_why_there_are_no_indices(few_lhs: tuple[Path, str, str]) -> None:
    """The run warns (naming --samples) but goes on; the console and the report say the
    indices need more samples, never that a varying change is the same in every world."""
    folder, out, err = few_lhs
    assert "warning: --samples 4 is too few" in err and f"at least {LHS_MIN_POINTS}" in err
    rob = pd.read_csv(folder / "robustness.csv")
    wait = rob[rob["kpi"] == WAIT].iloc[0]
    assert wait["diff_low"] < wait["diff_high"], "the change in the wait varies across the samples"
    said = "No sensitivity indices for its change in mean wait for a key worker: this run has 4 samples"
    constant = (
        "never changes mean wait",
        "No parameter moves its change in mean wait",
    )  # said of the same in every world
    assert said in out and not any(c in out for c in constant)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert said in page and not any(c in page for c in constant)


def test_few_lhs_figures_say_why_and_keep_their_text_inside(few_lhs: tuple[Path, str, str]) -> None:
    """The index figure's title and notes say the samples are too few (not that nothing
    varies), and no note covers an axis label."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.present import fig_uncertainty

    res = R.read(few_lhs[0])
    fig = fig_uncertainty.indices(res)
    assert "no parameter moves them" not in fig.get_suptitle()
    assert "4 samples are too few" in fig.get_suptitle()
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    notes = [(ax, t) for ax in fig.axes for t in ax.texts]
    assert any("this run has 4 samples" in t.get_text().replace("\n", " ") for _, t in notes)
    for ax, t in notes:
        box = t.get_bbox_patch().get_window_extent(renderer)
        label = ax.yaxis.label.get_window_extent(renderer)
        assert box.x0 > label.x1, (t.get_text(), box, label)


def test_robustness_title_names_no_option_robust_when_none_is_ever_better(few_lhs: tuple[Path, str, str]) -> None:
    """With every share at 0% the title says no option is better in any world, not that
    one is 'most robust'."""
    import dataclasses

    from sim.present import fig_uncertainty

    res = R.read(few_lhs[0])
    assert res.robustness is not None
    never = dataclasses.replace(res, robustness=res.robustness.assign(p_better=0.0))
    text = fig_uncertainty.probabilities(never).get_suptitle().replace("\n", " ")
    assert "Most robust" not in text
    assert "No option is better than mmc on any KPI in any of the 4 plausible worlds" in text
    rob = pd.read_csv(few_lhs[0] / "robustness.csv")
    assert (rob.loc[rob["kpi"] == COST, "p_better"] == 0).all(), "one more worker never saves money"
    plane = fig_uncertainty.plane(res).get_suptitle().replace("\n", " ")
    assert plane == "No option saves money in any of the 4 plausible worlds"


def test_one_replication_summary_does_not_claim_the_shares_are_free_of_noise(few_lhs: tuple[Path, str, str]) -> None:
    from sim.present.uncertainty_page import uncertainty_diagnostics, uncertainty_items

    res = R.read(few_lhs[0])
    head = uncertainty_items(res)[0]
    assert "not of simulation noise" not in head
    assert "one replication" in head and "chance" in head
    assert "cannot be measured" in uncertainty_diagnostics(res)


def test_diagnostics_judge_the_noise_by_its_margin_in_the_interval(few_lhs: tuple[Path, str, str]) -> None:
    """The Diagnostics sentence on simulation noise compares the noise margin (the shared noise
    of the replications, which does not average out across worlds) with the uncertainty
    interval, not the SD within a world with the SD between worlds. Here the worlds' levels
    differ by millions (SD between worlds ~1.2m) and a world's replications by ~21k on average
    (the old rule: small beside it), but every world shares a replication draw of +/-30k in
    the change, while the worlds' changes span 10k: the margin is most of the interval, and
    the sentence says so. Without the shared draw the margin is 0 and the noise is small. With
    too few worlds no interval is shown, and no sentence quotes one."""
    import dataclasses

    from sim.present.uncertainty_page import uncertainty_diagnostics
    from sim.uncertainty.analyse import MIN_WORLDS, robustness

    res = R.read(few_lhs[0])
    kpis = [str(k) for k in res.manifest["analysed_kpis"]]
    assert kpis[0] == WAIT

    def diagnostics(shared: tuple[float, float], n: int = 40) -> str:
        frames = []
        for r, noise in enumerate(shared):
            level = pd.Series(np.linspace(1e6, 5e6, n))
            base = pd.DataFrame({"sample": range(n), "scenario": res.base, "rep": r, "seed": r})
            base = base.assign(**{k: level for k in kpis})
            change = -1e5 + np.linspace(0, 1e4, n) + noise
            frames += [base, *(base.assign(scenario=o, **{k: level + change for k in kpis}) for o in res.options)]
        reps = pd.concat(frames, ignore_index=True)
        rob = robustness(reps, res.base, res.options, kpis, res.kpis)
        return uncertainty_diagnostics(dataclasses.replace(res, replications=reps, robustness=rob))

    noisy, quiet = diagnostics((-3e4, 3e4)), diagnostics((0.0, 0.0))
    assert "simulation noise is not small beside the parameter uncertainty; use more replications" in noisy, noisy
    assert "simulation noise is small beside the parameter uncertainty." in quiet, quiet
    assert "takes 0% of its uncertainty interval" in quiet and "noise's margin in" in noisy
    assert "mean SD within a world" not in noisy + quiet
    assert "simulation noise" not in diagnostics((-3e4, 3e4), n=MIN_WORLDS - 1)


def test_a_long_title_is_wrapped_to_the_figure_width() -> None:
    """A 110-character title on an 8-inch figure stays inside it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.present.theme import finish, new_figure, style, title

    with style():
        fig, axes = new_figure(8, 6)
        axes[0].set_xlabel("x (days)")
        title(fig, "second_mst_team saves money in 0%; without_edge_of_care saves money in 0% of plausible worlds ok")
        finish(fig)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        box = fig._suptitle.get_window_extent(canvas.get_renderer())  # type: ignore[union-attr]
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1, box


def test_averaged_replications_say_their_noise_is_shared_by_every_world(small: tuple[Path, Path]) -> None:
    """With two replications a world the summary says the replications are averaged, but never
    that the shares are free of simulation noise: every world reuses the replication seeds, so
    their noise is one draw shared by all worlds, and the summary says what the interval is."""
    from sim.present.robustness import INTERVAL_MEANS
    from sim.present.uncertainty_page import uncertainty_items

    res = R.read(small[1])
    items = uncertainty_items(res)
    assert "averaged" in items[0] and "shared by all worlds" in items[0], items[0]
    assert "not of simulation noise" not in items[0]
    assert INTERVAL_MEANS in items


def test_the_summary_truncates_shares_at_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The uncertainty folder's summary truncates the intervals of shares bounded by one (a
    list's utilisation here) as a run's and a comparison's do, with the bound of every
    sample's scenarios (K.merged), and its kpis.csv says so."""
    import sim.uncertainty.run as U
    from sim.analysis import summarise

    calls: list[list[str]] = []

    def spy(*args: Any, **kw: Any) -> Any:
        calls.append(list(kw.get("at_most_one") or []))
        return summarise(*args, **kw)

    monkeypatch.setattr(U, "summarise", spy)
    spec = _spec(tmp_path, options=True, params=SMALL)
    out = tmp_path / "u"
    assert main(["uncertainty", str(spec), "--samples", "2", "--replications", "1", "--quiet", "--out", str(out)]) == 0
    res = R.read(out)
    bounded = [n for n, k in res.kpis.items() if k.at_most_one]
    assert any(n.startswith("utilisation_") for n in bounded), bounded
    assert calls and all(sorted(c) == sorted(bounded) for c in calls)
    rows = res.summary[res.summary["kpi"].isin(bounded)]
    assert (rows["ci_high"].dropna() <= 1.0).all()


# --------------------------------------------------------------------------- honest intervals and precision
def test_a_consistent_small_change_never_reads_zero_in_the_statement_or_the_table(
    few_lhs: tuple[Path, str, str],
) -> None:
    """One more entry to care over a 730-day window in every plausible world (+0.5 families a
    year) reads '0.5 ... 0.5 to 0.5', one precision for the mean and its interval, in the
    console's sentence and the report's robustness table; never 'mean change 0 ... 0 to 0'."""
    import dataclasses

    from sim import kpis as K
    from sim.present.data import cap
    from sim.present.robustness import statements
    from sim.present.uncertainty_page import uncertainty_tables
    from sim.uncertainty.analyse import MIN_WORLDS, robustness

    care = K.CARE_ENTRIES.name
    base = pd.DataFrame({"sample": range(MIN_WORLDS), "scenario": "base", "seed": 0, care: 10.0})
    base = pd.concat([base.assign(rep=0), base.assign(rep=1)], ignore_index=True)
    reps = pd.concat([base, base.assign(scenario="opt", **{care: 11.0})], ignore_index=True)
    catalogue = {care: K.CARE_ENTRIES}
    rob = robustness(reps, "base", ["opt"], [care], catalogue)
    assert rob[["diff_mean", "diff_low", "diff_high"]].iloc[0].tolist() == [1.0, 1.0, 1.0]
    (text,) = statements(
        rob, None, "lhs", "base", ["opt"], [care], catalogue, 730.0, replications=reps, samples=MIN_WORLDS
    )
    assert "mean change 0.5, 95% uncertainty interval 0.5 to 0.5 families a year" in text, text
    assert "mean change 0," not in text

    res = R.read(few_lhs[0])
    assert res.robustness is not None
    one = 0.5 * res.window_days(res.base) / 365  # +0.5 families a year in every world
    same = res.robustness.assign(
        diff_mean=one, diff_low=one, diff_high=one, p_same=0.0, samples=MIN_WORLDS, replications=2
    )  # a change in every world
    page = uncertainty_tables(dataclasses.replace(res, robustness=same))
    row = page.split(f"{cap(K.CARE_ENTRIES.label)} <small>")[1].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("<", 1)[0] for c in row.split('class="num"')[1:4]]
    assert cells == ["0.5", "0.5", "0.5"], cells


def test_an_outcome_the_same_in_every_world_never_changes_in_the_statement_or_the_table(
    few_lhs: tuple[Path, str, str],
) -> None:
    """An option that leaves an outcome exactly as the baseline's in every replication of every
    plausible world, with 2 or more replications (p_same 1), 'never changes' it, in the
    console's sentence and the report's verdict column: not 'reduces ... in 0% of plausible
    worlds (... 0 to 0)', nor 'robust'."""
    import dataclasses

    from sim import kpis as K
    from sim.present.data import cap
    from sim.present.robustness import statements
    from sim.present.uncertainty_page import uncertainty_tables
    from sim.uncertainty.analyse import robustness

    care = K.CARE_ENTRIES.name
    base = pd.DataFrame({"sample": range(20), "scenario": "base", "seed": 0, care: 10.0})
    base = pd.concat([base.assign(rep=0), base.assign(rep=1)], ignore_index=True)
    reps = pd.concat([base, base.assign(scenario="opt")], ignore_index=True)
    catalogue = {care: K.CARE_ENTRIES}
    rob = robustness(reps, "base", ["opt"], [care], catalogue)
    assert rob["p_same"].iloc[0] == 1.0
    (text,) = statements(rob, None, "lhs", "base", ["opt"], [care], catalogue, 730.0, replications=reps, samples=20)
    said = f"opt against base: never changes {K.CARE_ENTRIES.label} (the same in every replication of every plausible"
    assert said in text, text
    assert "0%" not in text and "0 to 0" not in text and "robust" not in text, text

    res = R.read(few_lhs[0])
    assert res.robustness is not None
    same = res.robustness.assign(
        diff_mean=0.0, diff_low=0.0, diff_high=0.0, p_lower=0.0, p_better=0.0, p_same=1.0, replications=2
    )
    page = uncertainty_tables(dataclasses.replace(res, robustness=same))
    row = page.split(f"{cap(K.CARE_ENTRIES.label)} <small>")[1].split("</tr>")[0]
    assert "never changes it (the same in every replication of every plausible world)" in row, row
    assert "0 to 0" not in row and ">robust<" not in row, row


def test_never_changes_needs_every_replication_of_every_world_the_same_and_two_replications() -> None:
    """Under common random numbers one replication per world is one draw repeated in every
    world: an option the same as the baseline in it may differ in another replication
    (``ehsim compare`` of Kirklees' second MST team, replication 2: 261 -> 262 care entries).
    So 'never changes' needs 2 or more replications, each the same in every world; a world
    whose replications differ (+1 and -1: a mean change of 0) is no such claim either."""
    from sim import kpis as K
    from sim.present.robustness import statements, verdict
    from sim.uncertainty.analyse import ONE_REPLICATION, SAME, robustness

    care = K.CARE_ENTRIES.name
    catalogue = {care: K.CARE_ENTRIES}

    def judged(changes: list[float]) -> tuple[pd.Series, str]:
        frames = []
        for r, change in enumerate(changes):
            base = pd.DataFrame({"sample": range(40), "scenario": "base", "rep": r, "seed": r, care: 261.0})
            frames += [base, base.assign(scenario="opt", **{care: 261.0 + change})]
        reps = pd.concat(frames, ignore_index=True)
        rob = robustness(reps, "base", ["opt"], [care], catalogue)
        (text,) = statements(rob, None, "lhs", "base", ["opt"], [care], catalogue, 730.0, replications=reps, samples=40)
        return rob.iloc[0], text

    row, text = judged([0.0])  # one replication: the same in it, in every world
    assert row["verdict"] == ONE_REPLICATION and verdict(row.to_dict()) == ONE_REPLICATION
    assert "never" not in text and "the same in every" not in text, text
    assert "one replication per world cannot tell the simulation's noise from the uncertainty" in text
    row, text = judged([0.0, 1.0, 0.0])  # replication 1 goes 261 -> 262 in every world
    assert row["p_same"] == 0.0 and row["verdict"] != SAME and "never" not in text, text
    row, text = judged([1.0, -1.0])  # a mean change of 0 in every world, from replications that differ
    assert row["diff_mean"] == 0.0 and row["verdict"] != SAME and "never" not in text, text
    row, text = judged([0.0, 0.0])
    assert row["verdict"] == SAME and "never changes" in text


def test_index_intervals_stay_within_what_the_index_can_take() -> None:
    """Morris mu* (a mean of absolute effects) has no interval below zero; a first-order or
    total index (a share of variance) none outside 0 to 1; the point estimate is kept as it is."""
    params = [
        Parameter.model_validate(
            {"name": f"x{i}", "keys": ["k"], "source": "A", "distribution": {"dist": "uniform", "low": 0, "high": 1}}
        )
        for i in range(3)
    ]
    rng = np.random.default_rng(3)
    for how, n in (("lhs", 20), ("morris", 2), ("sobol", 8)):
        des = design(params, how, n, seed=5)
        y = des.values @ np.array([3.0, 1.0, 0.0]) + rng.normal(0, 1.0, len(des.values))
        for _, idx, _value, lo, hi in indices(des, y, seed=5):
            if idx in ("mu_star", "S1", "ST"):
                assert 0.0 <= lo <= hi, (how, idx, lo, hi)
            if idx in ("S1", "ST"):
                assert hi <= 1.0, (how, idx, lo, hi)

    from sim.uncertainty.analyse import interval

    assert interval("mu_star", 2.25, 3.055) == (0.0, pytest.approx(5.305))
    assert interval("S1", -0.56, 1.3) == (0.0, pytest.approx(0.74))
    assert interval("S1", 0.43, 1.31) == (0.0, 1.0)
    assert interval("ST", 0.9, 0.3) == (pytest.approx(0.6), 1.0)


def test_index_figure_names_a_driver_only_where_its_interval_excludes_zero(few_lhs: tuple[Path, str, str]) -> None:
    """The RBD-FAST figure's title names a parameter as mattering most only where
    robustness.drivers() does (the console's rule: its interval lies above zero), and says
    that no index is distinguishable from zero elsewhere; the bars stay within 0-1 (an index
    estimated below zero is drawn at zero with a marker named in the legend), and the legend
    sits beside the panels, on no bar."""
    import dataclasses

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.present import fig_uncertainty

    res = R.read(few_lhs[0])
    opt = res.options[0]
    rows = []
    for kpi, (a, a_lo, a_hi) in ((WAIT, (0.43, 0.0, 1.0)), (COST, (0.6, 0.2, 1.0)), ("care_entries", (0.3, 0, 0.9))):
        for param, value, lo, hi in (("a", a, a_lo, a_hi), ("b", -0.56, 0.0, 0.74)):
            rows.append(
                ("lhs", param, kpi, opt, "difference", "S1", value, lo, hi, None, "share of variance (no unit)")
            )
    sens = pd.DataFrame(rows, columns=list(SENSITIVITY_COLUMNS))
    fig = fig_uncertainty.indices(dataclasses.replace(res, sensitivity=sens))
    text = fig.get_suptitle().replace("\n", " ")
    cost, wait, care = (res.kpis[n].label for n in (COST, WAIT, "care_entries"))
    assert f"a matters most for {cost}" in text, text
    assert f"no parameter's index for {wait}, {care} is distinguishable from zero" in text, text
    assert f"most for {wait}" not in text and "b matters" not in text
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    panels = [ax for ax in fig.axes if ax.patches]
    assert len(panels) == 3
    for ax in panels:
        assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] <= 1.05
        assert "0-1 (95% CI truncated)" in ax.get_xlabel()
        for bar in ax.patches:
            assert 0 <= bar.get_width() <= 1
        for seg in (s for c in ax.collections for s in getattr(c, "get_segments", list)()):
            assert all(0 <= x <= 1 for x, _ in seg), seg
    from sim.present.fig_uncertainty import NEGATIVE

    legends = [ax.get_legend() for ax in panels if ax.get_legend() is not None]
    assert len(legends) == 1
    labels = [t.get_text() for t in legends[0].get_texts()]
    assert NEGATIVE in labels, labels
    box = legends[0].get_window_extent(renderer)
    for ax in panels:
        assert not box.overlaps(ax.get_window_extent(renderer)), "the legend covers a panel"


def test_morris_samples_are_named_as_trajectories_and_few_give_a_warning() -> None:
    """``--samples`` of a Morris design counts trajectories of k + 1 points; fewer than
    MORRIS_MIN_TRAJECTORIES draw a warning that their bootstrap intervals are degenerate."""
    from sim.present.robustness import design_text
    from sim.uncertainty.analyse import MORRIS_MIN_TRAJECTORIES, few_samples_warning

    assert design_text("morris", 2, 9) == "design points of 2 Morris trajectories of 10 points each"
    assert design_text("lhs", 20, 9) == "parameter samples of a Latin hypercube"
    few = few_samples_warning("morris", 2)
    assert few is not None and "2 Morris trajectories" in few and "degenerate" in few
    assert f"--samples {MORRIS_MIN_TRAJECTORIES}" in few
    assert few_samples_warning("morris", MORRIS_MIN_TRAJECTORIES) is None
    assert few_samples_warning("lhs", 2) is None


@pytest.mark.slow
def test_a_morris_smoke_run_says_trajectories_and_warns_its_intervals_are_degenerate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--samples 2`` of Morris over two parameters is 2 trajectories of 3 points: the
    console says '6 design points of 2 Morris trajectories of 3 points each', not '6
    parameter samples', and warns (console and report) that bootstrap intervals from 2
    trajectories are degenerate."""
    spec = _spec(tmp_path, options=True, params=SMALL)
    out = tmp_path / "m"
    args = ["uncertainty", str(spec), "--samples", "2", "--replications", "1", "--quiet", "--report"]
    assert main([*args, "--out", str(out)]) == 0
    said = capsys.readouterr()
    head = said.out.splitlines()[0]
    assert "(morris): 6 design points of 2 Morris trajectories of 3 points each x 2 scenario(s)" in head, head
    assert "parameter samples" not in head
    assert "warning: --samples 2 gives 2 Morris trajectories" in said.err and "degenerate" in said.err, said.err
    page = " ".join((out / "report.html").read_text(encoding="utf-8").split())
    assert "6 plausible worlds (design points of 2 Morris trajectories of 3 points each, over 2" in page
    assert page.count("--samples 2 gives 2 Morris trajectories") >= 2, "in the diagnostics and by the table"


def test_the_uncertainty_summary_gives_no_interval_over_the_design(few_lhs: tuple[Path, str, str]) -> None:
    """summary.csv of an uncertainty folder pooled every parameter point and replication into
    one t interval (n = points x replications), as if the design's points were replications of
    one world: an interval of nothing (a Morris grid is not even random). It keeps the mean and
    spread, with no interval, and the report's stored table says so."""
    from sim.present.page import kpi_tables

    res = R.read(few_lhs[0])
    summ = res.summary
    assert summ["mean"].notna().any() and (summ["n"] <= 4).all() and (summ["n"] == 4).any()  # 4 points x 1
    assert summ[["ci_low", "ci_high", "half_width", "rel_half_width"]].isna().all().all()
    html = kpi_tables(res)
    assert "over every parameter point and replication (no interval" in html


def test_the_morris_table_names_the_unit_of_mu_star(small: tuple[Path, Path]) -> None:
    """Morris mu* is a mean absolute elementary effect in the outcome's own unit: the table's
    KPI cell names it (a wait's mu* read "0.7" with no unit, beside cost rows in £)."""
    import re

    from sim.present.uncertainty_page import uncertainty_tables

    res = R.read(small[1])
    html = uncertainty_tables(res)
    sens = html[html.index("Sensitivity (morris)") :]
    cells = re.findall(r"<td>([^<]*wait for a key worker[^<]*)</td>", sens)
    assert cells and all(c.endswith("(days)") for c in cells), cells


# --------------------------------------------------------------------------- too few worlds for a verdict
def test_too_few_worlds_give_no_verdict_and_no_interval(few_lhs: tuple[Path, str, str]) -> None:
    """Two plausible worlds that agree are not a robust conclusion, nor is a percentile of two
    points a 95% interval: below MIN_WORLDS (the binomial: unanimity must be able to put the
    share's exact 95% interval above 90%) the console, the report's table, the figure and the
    verdict column of robustness.csv say 'too few worlds to tell' and show no interval; the csv
    keeps the percentiles. From MIN_WORLDS up a unanimous share is robust."""
    import dataclasses

    from sim import kpis as K
    from sim.present import fig_uncertainty
    from sim.present.robustness import statements
    from sim.present.uncertainty_page import uncertainty_tables
    from sim.uncertainty.analyse import MIN_WORLDS, ONE_REPLICATION, ROBUST, TOO_FEW_WORLDS

    assert 0.025 ** (1 / MIN_WORLDS) > 0.9 >= 0.025 ** (1 / (MIN_WORLDS - 1))
    catalogue = {COST: K.per_year(K.COST_TOTAL)}
    reps, rob = _one_option_tables(np.array([-9e5, -7e5]))
    assert rob["verdict"].tolist() == [TOO_FEW_WORLDS]
    assert rob["diff_low"].notna().all() and rob["diff_high"].notna().all(), "the csv keeps the raw percentiles"
    (text,) = statements(rob, None, "lhs", "base", ["opt"], [COST], catalogue, 365.0, replications=reps, samples=2)
    assert "uncertainty interval" in text and "95% uncertainty interval" not in text, text
    assert "The conclusion is robust" not in text
    assert (
        f"Too few worlds to tell whether the conclusion is robust: 2 plausible worlds, and at least {MIN_WORLDS}"
        in text
    )

    reps, rob = _one_option_tables(np.linspace(-9e5, -7e5, MIN_WORLDS))
    assert rob["verdict"].tolist() == [ROBUST]
    (text,) = statements(
        rob, None, "lhs", "base", ["opt"], [COST], catalogue, 365.0, replications=reps, samples=MIN_WORLDS
    )
    assert "95% uncertainty interval" in text and "The conclusion is robust" in text

    res = R.read(few_lhs[0])  # 4 worlds
    page = uncertainty_tables(res)
    table = page.split("Robustness:")[1].split("</table>")[0]
    assert ">robust<" not in table and ">not robust<" not in table
    # one replication per world is checked first: no verdict and no interval either
    assert table.count(ONE_REPLICATION) >= 1 and 'data-field="diff_low"' not in table
    assert (pd.read_csv(few_lhs[0] / "robustness.csv")["verdict"] != ROBUST).all()
    better = dataclasses.replace(res, robustness=res.robustness.assign(p_better=1.0))  # type: ignore[union-attr]
    title = fig_uncertainty.probabilities(better).get_suptitle().replace("\n", " ")
    assert "too few worlds to tell" in title and str(MIN_WORLDS) in title


def test_too_few_worlds_is_one_rule_for_the_verdict_and_the_figure(few_lhs: tuple[Path, str, str]) -> None:
    """A row with no sample count (NaN: not measured in every world, or a missing field) has
    too few worlds, as one below MIN_WORLDS does: the verdict (settled) and the probability
    figure's title (which said nothing for NaN, since NaN < MIN_WORLDS is false) agree."""
    import dataclasses

    from sim.present import fig_uncertainty
    from sim.uncertainty.analyse import MIN_WORLDS, TOO_FEW_WORLDS, settled, too_few_worlds

    row = {"replications": 2, "p_same": 0.0, "p_lower_beyond_noise": 1.0, "p_higher_beyond_noise": 0.0}
    for samples in (np.nan, "", None, MIN_WORLDS - 1):
        assert too_few_worlds({**row, "samples": samples}) and settled({**row, "samples": samples}) == TOO_FEW_WORLDS
    assert too_few_worlds(row)  # no samples field at all
    enough = {**row, "samples": MIN_WORLDS}
    assert not too_few_worlds(enough) and settled(enough) != TOO_FEW_WORLDS

    res = R.read(few_lhs[0])
    assert res.robustness is not None
    nan = res.robustness.assign(p_better=1.0, samples=np.nan, replications=2)
    title = fig_uncertainty.probabilities(dataclasses.replace(res, robustness=nan)).get_suptitle().replace("\n", " ")
    assert "too few worlds to tell" in title and str(MIN_WORLDS) in title, title


def test_a_world_missing_a_replication_is_left_out_of_every_column() -> None:
    """A world missing one replication of the option (say a quarantined checkpoint) has no
    paired change in it, so it is left out; the baseline's and the option's means are over
    the same kept worlds as the change (they were over every world, so option_mean -
    base_mean was not diff_mean), and each KPI keeps its own worlds."""
    from sim import kpis as K
    from sim.uncertainty.analyse import robustness
    from sim.vocab import Stage

    wait = K.wait(Stage.LEVEL3, "mean").name
    catalogue = {COST: K.per_year(K.COST_TOTAL), wait: K.wait(Stage.LEVEL3, "mean")}
    frames = []
    for r in range(2):
        base = pd.DataFrame(
            {"sample": range(3), "scenario": "base", "rep": r, "seed": r, COST: [1e6, 5e6, 2e6], wait: 10.0 + r}
        )
        frames += [base, base.assign(scenario="opt", **{COST: base[COST] - 1e5 * (r + 1), wait: 8.0 + r})]
    reps = pd.concat(frames, ignore_index=True)
    reps = reps[~((reps["sample"] == 1) & (reps["scenario"] == "opt") & (reps["rep"] == 1))]  # world 1 misses one
    rob = robustness(reps, "base", ["opt"], [COST, wait], catalogue).set_index("kpi")
    cost = rob.loc[COST]
    assert cost["samples"] == 2 and cost["replications"] == 2
    assert cost["base_mean"] == pytest.approx(1.5e6) and cost["option_mean"] == pytest.approx(1.35e6)
    assert cost["diff_mean"] == pytest.approx(-1.5e5) == cost["option_mean"] - cost["base_mean"]
    assert rob.loc[wait, "samples"] == 2 and rob.loc[wait, "base_mean"] == pytest.approx(10.5)
    assert list(rob.index) == [COST, wait]  # rows in the order of options, then KPIs


def test_too_few_morris_trajectories_name_no_driver(small: tuple[Path, Path]) -> None:
    """With fewer than MORRIS_MIN_TRAJECTORIES trajectories the bootstrap intervals of mu* are
    degenerate, so (as with too few LHS points) no parameter is named as a driver, in the
    console's sentence, the report's summary or the index figure's title, and each says why;
    from MORRIS_MIN_TRAJECTORIES up the same indices name one."""
    from sim import kpis as K
    from sim.present import fig_uncertainty
    from sim.present.robustness import statements
    from sim.present.uncertainty_page import uncertainty_items
    from sim.uncertainty.analyse import MORRIS_MIN_TRAJECTORIES

    catalogue = {COST: K.per_year(K.COST_TOTAL)}
    reps, rob = _one_option_tables(np.linspace(4e5, 6e5, 6))
    row = ("morris", "arrivals", COST, "opt", "difference", "mu_star", 5e4, 4e4, 6e4, None, "£ a year")
    sens = pd.DataFrame([row], columns=list(SENSITIVITY_COLUMNS))
    args = (rob, sens, "morris", "base", ["opt"], [COST], catalogue, 365.0)
    (text,) = statements(*args, replications=reps, samples=2)
    assert "has the largest effect" not in text and "arrivals" not in text, text
    assert "No parameter is named as driving its change in total cost: 2 Morris trajectories are too few" in text
    assert f"--samples {MORRIS_MIN_TRAJECTORIES}" in text
    (text,) = statements(*args, replications=reps, samples=MORRIS_MIN_TRAJECTORIES)
    assert "arrivals has the largest effect on its change in total cost" in text, text

    res = R.read(small[1])  # Morris, 2 trajectories
    summary = " ".join(uncertainty_items(res))
    assert "has the largest effect" not in summary and "2 Morris trajectories are too few" in summary
    title = fig_uncertainty.indices(res).get_suptitle().replace("\n", " ")
    assert "matters most" not in title and "no driver named, 2 Morris trajectories are too few" in title, title


def test_robustness_and_sensitivity_csv_say_the_unit_and_basis_of_their_numbers(
    few_lhs: tuple[Path, str, str], small: tuple[Path, Path]
) -> None:
    """robustness.csv and sensitivity.csv hold counts over the results window (as summary.csv
    and differences.csv do) where the console and report show them a year: each row's
    ``unit`` says so, from the registry's per_year flag (Kpi.stored_unit); a share of variance
    has no unit."""
    from sim import kpis as K
    from sim.uncertainty.analyse import VARIANCE_SHARE, outcomes, sample_means, sensitivity

    care = K.CARE_ENTRIES
    assert care.per_year and care.stored_unit == "families over the results window"
    rob = pd.read_csv(few_lhs[0] / "robustness.csv").set_index("kpi")
    assert rob.loc[care.name, "unit"] == "families over the results window"
    assert rob.loc[COST, "unit"] == "£ a year" and rob.loc[WAIT, "unit"] == "days"
    sens = pd.read_csv(small[1] / "sensitivity.csv")
    morris = sens[sens["index"].isin(["mu_star", "sigma", "mu"])]
    assert not morris.empty
    res = R.read(small[1])
    assert (morris["unit"] == morris["kpi"].map(lambda k: res.kpis[k].stored_unit)).all()

    params = [
        Parameter.model_validate(
            {"name": f"x{i}", "keys": ["k"], "source": "A", "distribution": {"dist": "uniform", "low": 0, "high": 1}}
        )
        for i in range(2)
    ]
    des = design(params, "lhs", 20, seed=5)
    y = des.values @ np.array([3.0, 1.0])
    table = pd.DataFrame({"sample": range(20), "scenario": "base", care.name: y})
    frame = sensitivity(des, outcomes(sample_means(table, [care.name]), "base", []), [care.name], 5, {care.name: care})
    assert set(frame["index"]) == {"S1"} and (frame["unit"] == VARIANCE_SHARE).all()


def test_a_robust_verdict_says_which_way() -> None:
    """'reduces entries to care: 0% | robust' left the reader to work out that the robust
    conclusion is that the option raises them: the verdict and the console's sentence say
    the direction."""
    from sim import kpis as K
    from sim.present.robustness import statements, verdict
    from sim.uncertainty.analyse import MIN_WORLDS

    catalogue = {COST: K.per_year(K.COST_TOTAL)}
    for diff, way in ((1e5, "worse (higher)"), (-1e5, "better (lower)")):
        reps, rob = _one_option_tables(np.linspace(diff, 2 * diff, MIN_WORLDS))
        row = {str(k): v for k, v in rob.iloc[0].items()}
        assert verdict(row) == f"robust: {way}"
        (text,) = statements(rob, None, "lhs", "base", ["opt"], [COST], catalogue, 365.0, replications=reps, samples=40)
        assert f"in at least 90% of plausible worlds opt is {way} than base on total cost" in text, text


# --------------------------------------------------------------------------- the replications' shared noise
def test_the_interval_and_the_verdict_carry_the_replications_shared_noise() -> None:
    """Every world reuses the same replication seeds, so the noise of the R replications is one
    draw shared by all worlds: the worlds' mean changes all move with it, and the spread across
    worlds leaves it out. 40 worlds whose mean changes are all below zero (-1.0e5 to -1.2e5),
    replication 0 and 1 apart by 6e5 in every world (+3e5 and -3e5, shared): the share of
    worlds below zero is 100% (the old verdict, robust), but the noise margin covers zero.

    Known answer: the within-world SD pooled over worlds is s = sqrt(2 x 3e5^2) = 4.24e5; all
    of it shared, so Satterthwaite's df is R - 1 = 1, and the margin t(0.975, 1) x s / sqrt(2) =
    12.71 x 3e5. Noise of the same size that is not shared (alternating sign across worlds, so
    the replications' shared effect is exactly zero) gives the residual's df, (N - 1)(R - 1) = 39.
    With +/-1e3 of shared noise the same worlds stay robust (margin 1.27e4, every change beyond
    it)."""
    from scipy import stats

    from sim.present.robustness import statements
    from sim.uncertainty.analyse import NOT_ROBUST, ONE_REPLICATION, ROBUST, noise_margin

    worlds = np.linspace(-1.0e5, -1.2e5, 40)
    reps, rob = _one_option_tables(worlds, noise=[3e5, -3e5])
    row = rob.iloc[0]
    assert row["p_better"] == 1.0, "every world's mean change is below zero"
    assert row["noise_sd"] == pytest.approx(np.sqrt(2) * 3e5) and row["noise_df"] == pytest.approx(1.0)
    assert row["noise_margin"] == pytest.approx(stats.t.ppf(0.975, 1) * 3e5)
    assert row["diff_low"] == pytest.approx(np.percentile(worlds, 2.5) - row["noise_margin"])
    assert row["diff_high"] == pytest.approx(np.percentile(worlds, 97.5) + row["noise_margin"])
    assert row["diff_high"] > 0 and row["p_lower_beyond_noise"] == 0.0
    assert row["verdict"] == NOT_ROBUST
    catalogue = {COST: _cost()}
    (text,) = statements(rob, None, "lhs", "base", ["opt"], [COST], catalogue, 365.0, replications=reps, samples=40)
    assert "is not robust: fewer than 90% of plausible worlds agree either way by more than the simulation" in text
    assert "The conclusion is robust" not in text

    alternating = np.where(np.arange(40) % 2 == 0, 1.0, -1.0) * 3e5  # the same size, not shared
    s, df, margin = noise_margin(np.column_stack([worlds + alternating, worlds - alternating]))
    assert s == pytest.approx(np.sqrt(2) * 3e5) and df == pytest.approx(39.0)
    assert margin == pytest.approx(stats.t.ppf(0.975, 39) * 3e5)

    reps, rob = _one_option_tables(worlds, noise=[1e3, -1e3])
    row = rob.iloc[0]
    assert row["noise_margin"] == pytest.approx(stats.t.ppf(0.975, 1) * 1e3)
    assert row["p_lower_beyond_noise"] == 1.0 and row["verdict"] == ROBUST
    (text,) = statements(rob, None, "lhs", "base", ["opt"], [COST], catalogue, 365.0, replications=reps, samples=40)
    assert "The conclusion is robust: in at least 90% of plausible worlds opt is better (lower)" in text, text

    new = ["replications", "noise_sd", "noise_df", "noise_margin", "p_lower_beyond_noise", "p_higher_beyond_noise"]
    old = rob.drop(columns=new)  # a robustness.csv written before the margin
    (text,) = statements(old, None, "lhs", "base", ["opt"], [COST], catalogue, 365.0, replications=reps, samples=40)
    assert "No verdict: this results folder predates the simulation noise's margin" in text, text
    assert "The conclusion is robust" not in text

    reps, rob = _one_option_tables(worlds, replications=1)
    assert rob["verdict"].tolist() == [ONE_REPLICATION] and np.isnan(rob["noise_margin"].iloc[0])
    (text,) = statements(rob, None, "lhs", "base", ["opt"], [COST], catalogue, 365.0, replications=reps, samples=40)
    assert "No verdict: one replication per world cannot tell the simulation's noise from the uncertainty" in text
    assert "uncertainty interval" not in text.replace("so no uncertainty interval", ""), text


def _cost() -> Any:
    from sim import kpis as K

    return K.per_year(K.COST_TOTAL)


def _sobol_case() -> tuple[Any, np.ndarray]:
    params = [
        Parameter.model_validate(
            {"name": f"x{i}", "keys": ["k"], "source": "A", "distribution": {"dist": "uniform", "low": 0, "high": 1}}
        )
        for i in range(3)
    ]
    des = design(params, "sobol", 8, seed=0)
    y = des.values @ np.array([3.0, 1.0, 0.0]) + np.random.default_rng(3).normal(0, 1.0, len(des.values))
    return des, y


def test_sobol_intervals_with_seed_0_are_the_same_run_to_run() -> None:
    """SALib's Sobol analysis treats a seed of 0 as none (``if seed:``): --seed 0 gave bootstrap
    intervals that differed run to run. Two analyses of the same table with seed 0 agree."""
    des, y = _sobol_case()
    first, second = indices(des, y, seed=0), indices(des, y, seed=0)
    assert first == second


def test_salib_seed_is_deterministic_and_never_zero() -> None:
    from sim.uncertainty.analyse import salib_seed

    seeds = [salib_seed(s) for s in (0, 1, 2**32 - 2, 2**32 - 1, 2**40, 123)]
    assert all(1 <= s < 2**32 for s in seeds) and seeds == [
        salib_seed(s) for s in (0, 1, 2**32 - 2, 2**32 - 1, 2**40, 123)
    ]
    assert salib_seed(0) != salib_seed(1)


def test_no_driver_is_named_from_a_meaningless_sobol_index() -> None:
    """``--method sobol --samples 2`` named a driver from a total index of 2.06 whose interval,
    value +/- conf truncated to 0-1, read "1.0 to 1.0". No driver is named from an index of a
    share of variance outside 0-1 or outside its own interval, nor from fewer than
    SOBOL_MIN_BASE base samples (their bootstrap resamples a handful of rows); from
    SOBOL_MIN_BASE up an index inside 0-1 and its interval names one."""
    from sim.present.robustness import drivers, statements
    from sim.uncertainty.analyse import SOBOL_MIN_BASE, few_samples_warning, too_few_for_drivers

    catalogue = {COST: _cost()}
    reps, rob = _one_option_tables(np.linspace(4e5, 6e5, 8))

    def sens(value: float, low: float, high: float) -> pd.DataFrame:
        row = ("sobol", "withdrawal_rate", COST, "opt", "difference", "ST", value, low, high, None, "share")
        return pd.DataFrame([row], columns=list(SENSITIVITY_COLUMNS))

    args = ("sobol", "base", ["opt"], [COST], catalogue, 365.0)
    for bad in (sens(2.06, 1.0, 1.0), sens(1.68, 0.9, 1.0), sens(0.5, 0.6, 0.9)):
        assert drivers(bad, "sobol", COST, "opt").empty
        (text,) = statements(rob, bad, *args, replications=reps, samples=SOBOL_MIN_BASE)
        assert "withdrawal_rate" not in text, text
    good = sens(0.6, 0.2, 1.0)
    (text,) = statements(rob, good, *args, replications=reps, samples=SOBOL_MIN_BASE)
    assert "withdrawal_rate explains most of the uncertainty in its change in total cost" in text, text
    (text,) = statements(rob, good, *args, replications=reps, samples=2)
    assert "withdrawal_rate" not in text and "2 Sobol base samples are too few (at least 16 needed)" in text, text
    assert too_few_for_drivers("sobol", SOBOL_MIN_BASE // 2) and not too_few_for_drivers("sobol", SOBOL_MIN_BASE)
    few = few_samples_warning("sobol", 2)
    assert few is not None and "2 Sobol base samples" in few and f"--samples {SOBOL_MIN_BASE}" in few

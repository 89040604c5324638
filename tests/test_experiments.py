"""Monte Carlo layer: identical results on every backend, resumable batches (including after
SIGKILL), Dask worker loss, common random numbers, sweeps and bad inputs."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim import kpis as K
from sim.backends import LOCAL_CLUSTER
from sim.cli import main
from sim.experiment import compare, run_batch, sweep, variant
from sim.vocab import Stage
from tests.conftest import CONFIGS, ROOT

SMALL = {"run.duration_days": 300, "run.warmup_days": 30}


def _small(**extra: object) -> sim.Scenario:
    return sim.load_scenario(CONFIGS / "baseline.yaml", {**SMALL, **extra})


def _busy(workers: int = 5, days: float = 500) -> sim.Scenario:
    """Baseline with 60% more demand and short runs, so that allocation queues form."""
    over = {"run.duration_days": days, "run.warmup_days": 60}
    sc = sim.load_scenario(CONFIGS / "baseline.yaml", over)
    rates = {f"referrals.sources.{k}.annual_rate": v.annual_rate * 1.6 for k, v in sc.referrals.sources.items()}
    teams = {f"teams.{t}.workers": workers for t in sc.teams}
    return variant(sc, {**rates, **teams}, name=f"busy_w{workers}")


# --------------------------------------------------------------------------- backends
@pytest.fixture(scope="module")
def serial_table() -> pd.DataFrame:
    return run_batch(_small(), 6, seed=7).replications


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_process_backend_matches_serial(serial_table: pd.DataFrame, workers: int) -> None:
    table = run_batch(_small(), 6, seed=7, backend="process", workers=workers).replications
    pd.testing.assert_frame_equal(table, serial_table)


def test_dask_local_cluster_matches_serial(serial_table: pd.DataFrame) -> None:
    table = run_batch(_small(), 6, seed=7, backend="dask", workers=2).replications
    pd.testing.assert_frame_equal(table, serial_table)


def test_replications_parquet_identical_across_backends(tmp_path: Path) -> None:
    """Through the CLI: the written replications.parquet has the same content on each backend."""
    tables = []
    for backend, workers in (("serial", []), ("process", ["--workers", "2"])):
        out = tmp_path / backend
        rc = main(
            [
                "run",
                str(CONFIGS / "baseline.yaml"),
                "--replications",
                "4",
                "--seed",
                "3",
                "--quiet",
                "--backend",
                backend,
                *workers,
                "--out",
                str(out),
                "--set",
                "run.duration_days=300",
                "--set",
                "run.warmup_days=30",
            ]
        )
        assert rc == 0
        tables.append(pd.read_parquet(out / "replications.parquet"))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert list(tables[0]["rep"]) == [0, 1, 2, 3] and (tables[0]["seed"] == 3).all()


def test_batch_summary_is_a_t_interval(serial_table: pd.DataFrame) -> None:
    batch = run_batch(_small(), 6, seed=7)
    row = batch.summary.set_index("kpi").loc["referrals_total"]
    x = serial_table["referrals_total"].to_numpy()
    half = stats.t.ppf(0.975, 5) * x.std(ddof=1) / math.sqrt(6)
    assert row["mean"] == pytest.approx(x.mean()) and row["n"] == 6
    assert row["ci_low"] == pytest.approx(x.mean() - half) and row["ci_high"] == pytest.approx(x.mean() + half)


# --------------------------------------------------------------------------- resume
def test_rerun_on_same_folder_resumes_without_rerunning(tmp_path: Path) -> None:
    first = run_batch(_small(), 3, seed=1, out=tmp_path)
    assert first.resumed == 0
    more = run_batch(_small(), 5, seed=1, out=tmp_path)  # extends: 3 read back, 2 run
    assert more.resumed == 3
    fresh = run_batch(_small(), 5, seed=1)
    pd.testing.assert_frame_equal(more.replications, fresh.replications)
    pd.testing.assert_frame_equal(more.series, fresh.series)


@pytest.mark.parametrize(
    ("scenario_change", "seed"),
    [({"teams.washington.workers": 12}, 1), ({}, 2)],
    ids=["other-scenario", "other-seed"],
)
def test_folder_of_another_batch_is_refused(tmp_path: Path, scenario_change: dict, seed: int) -> None:
    run_batch(_small(), 2, seed=1, out=tmp_path)
    with pytest.raises(sim.ResultsError, match="refusing to mix"):
        run_batch(_small(**scenario_change), 2, seed=seed, out=tmp_path)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sim", *args]


@pytest.mark.slow  # about a minute of CPU: runs with --runslow (CI)
def test_sigkill_mid_batch_then_rerun_gives_the_uninterrupted_table(tmp_path: Path) -> None:
    """SIGKILL the running CLI after a few replications have been written; rerunning the same
    command completes the batch with a table identical to an uninterrupted run."""
    cmd = [
        "run",
        str(CONFIGS / "baseline.yaml"),
        "--replications",
        "12",
        "--seed",
        "5",
        "--quiet",
        "--set",
        "run.duration_days=500",
        "--set",
        "run.warmup_days=30",
    ]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        _cli(*cmd, "--out", str(killed)), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((killed / "reps").glob("*/rep-*.parquet"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list((killed / "reps").glob("*/rep-*.parquet")))
    assert 3 <= done_before < 12, "the kill must land mid-batch"
    assert not (killed / "replications.parquet").exists()

    rerun = subprocess.run(_cli(*cmd, "--out", str(killed)), cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{done_before} resumed" in rerun.stdout
    clean = subprocess.run(_cli(*cmd, "--out", str(tmp_path / "clean")), cwd=ROOT, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr

    a = pd.read_parquet(killed / "replications.parquet")
    b = pd.read_parquet(tmp_path / "clean" / "replications.parquet")
    assert list(a["rep"]) == list(range(12))  # none lost, none duplicated
    pd.testing.assert_frame_equal(a, b)
    assert not list((killed / "reps").glob("*/.*.tmp"))  # no half-written file was left behind


# --------------------------------------------------------------------------- dask worker loss
@pytest.mark.slow  # about a minute of CPU: runs with --runslow (CI)
def test_dask_batch_survives_a_killed_worker() -> None:
    from dask.distributed import Client, LocalCluster

    sc = _small(**{"run.duration_days": 500})
    expected = run_batch(sc, 8, seed=9).replications
    with LocalCluster(n_workers=2, **LOCAL_CLUSTER) as cluster:
        with Client(cluster) as client:
            victim = next(iter(client.run(os.getpid).items()))
        killed = threading.Event()

        def kill_after_first(done: int, total: int) -> None:
            if done >= 1 and not killed.is_set():
                killed.set()
                os.kill(victim[1], signal.SIGKILL)

        table = run_batch(
            sc, 8, seed=9, backend="dask", scheduler=cluster.scheduler_address, progress=kill_after_first
        ).replications
    assert killed.is_set()
    pd.testing.assert_frame_equal(table, expected)


# --------------------------------------------------------------------------- common random numbers
@pytest.mark.slow  # about a minute of CPU: runs with --runslow (CI)
def test_crn_paired_interval_is_narrower_and_has_the_right_sign() -> None:
    """One more key worker per team shortens the wait for allocation. Under common random
    numbers the paired CI of the difference is narrower than the CI from independent seeds;
    the ratio of their variances is the variance reduction CRN buys (about 5x here; printed
    with -s). A near-zero option wait (many more workers) would leave little to correlate."""
    reps = 10
    res = compare(_busy(5), [_busy(6)], reps, seed=11)
    row = res.differences.set_index("kpi").loc["wait_level3_mean_days"]
    assert row["diff_mean"] < 0 and row["ci_high"] < 0 and bool(row["distinguishable"])

    independent = run_batch(_busy(6), reps, seed=12).replications["wait_level3_mean_days"].to_numpy()
    base = res.batches["busy_w5"].replications["wait_level3_mean_days"].to_numpy()
    se_independent = math.sqrt(base.var(ddof=1) / reps + independent.var(ddof=1) / reps)
    dof = reps - 1  # conservative Welch degrees of freedom
    width_independent = 2 * stats.t.ppf(0.975, dof) * se_independent
    width_paired = row["ci_high"] - row["ci_low"]
    assert width_paired < width_independent
    ratio = (se_independent / (row["diff_sd"] / math.sqrt(reps))) ** 2
    print(f"CRN variance reduction on wait_level3_mean_days: {ratio:.1f}x")
    assert ratio > 1


def test_crn_same_families_in_every_scenario_of_a_compare() -> None:
    res = compare(_busy(5), [_busy(6)], 3, seed=4)
    a, b = (res.batches[n].replications for n in ("busy_w5", "busy_w6"))
    assert (a["referrals_source_police"].to_numpy() == b["referrals_source_police"].to_numpy()).all()


# --------------------------------------------------------------------------- sweeps
def test_sweep_full_factorial_tidy_table() -> None:
    grid = {"teams.washington.workers": [9, 12], "panel.interval_days": [7, 14]}
    res = sweep(_small(), grid, 2, seed=3)
    table = res.replications
    assert len(table) == 2 * 2 * 2
    assert len(res.summary[res.summary["kpi"] == "wait_panel_mean_days"]) == 4
    assert set(map(tuple, table[list(grid)].drop_duplicates().to_numpy())) == {(9, 7), (9, 14), (12, 7), (12, 14)}
    assert {"scenario", "rep", "seed", "wait_panel_mean_days"} <= set(table.columns)
    weekly = table[table["panel.interval_days"] == 7]["wait_panel_mean_days"].mean()
    fortnightly = table[table["panel.interval_days"] == 14]["wait_panel_mean_days"].mean()
    assert weekly < fortnightly


def test_sweep_cli_writes_tidy_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "sweep",
            str(CONFIGS / "baseline.yaml"),
            "--vary",
            "panel.interval_days=7,14",
            "--replications",
            "2",
            "--quiet",
            "--out",
            str(tmp_path),
            "--set",
            "run.duration_days=300",
            "--set",
            "run.warmup_days=30",
        ]
    )
    assert rc == 0
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(summary["panel.interval_days"]) == {7, 14}
    assert "Sweep of panel.interval_days" in capsys.readouterr().out


def test_compare_cli_writes_differences(tmp_path: Path) -> None:
    rc = main(
        [
            "compare",
            str(CONFIGS / "baseline.yaml"),
            str(CONFIGS / "options" / "weekly_panel.yaml"),
            "--replications",
            "3",
            "--quiet",
            "--out",
            str(tmp_path),
            "--set",
            "run.duration_days=300",
            "--set",
            "run.warmup_days=30",
        ]
    )
    assert rc == 0
    diff = pd.read_csv(tmp_path / "differences.csv")
    assert set(diff["option"]) == {"weekly_panel"}
    row = diff.set_index("kpi").loc["wait_panel_mean_days"]
    assert row["diff_mean"] < 0 and row["n"] == 3
    reps = pd.read_parquet(tmp_path / "replications.parquet")
    assert sorted(reps["scenario"].unique()) == ["baseline", "weekly_panel"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seed"] == 0 and set(manifest["scenarios"]) == {"baseline", "weekly_panel"}


def test_run_cli_writes_diagnostics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "run",
            str(CONFIGS / "baseline.yaml"),
            "--replications",
            "3",
            "--out",
            str(tmp_path),
            "--quiet",
            "--set",
            "run.duration_days=400",
            "--set",
            "run.warmup_days=30",
        ]
    )
    assert rc == 0
    diag = json.loads((tmp_path / "diagnostics.json").read_text())["baseline"]
    assert diag["warmup"]["warmup_days"] >= 0 and diag["replications_needed"]
    out, err = capsys.readouterr()
    assert "Warm-up check" in out and "replication(s) it is known only to within" in err


# --------------------------------------------------------------------------- bad inputs
@pytest.fixture()
def other_batch(tmp_path: Path) -> Path:
    run_batch(_small(), 1, seed=0, out=tmp_path / "taken")
    return tmp_path / "taken"


BASE = str(CONFIGS / "baseline.yaml")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", BASE, "--replications", "0"], "--replications: must be a whole number >= 1"),
        (["run", BASE, "--replications", "ten"], "--replications: must be a whole number"),
        (["run", BASE, "--backend", "gpu"], "--backend: invalid choice"),
        (["run", BASE, "--workers", "0"], "--workers: must be a whole number >= 1"),
        (["run", BASE, "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9"], "cannot reach Dask scheduler"),
        (["run", BASE, "--scheduler", "tcp://127.0.0.1:9"], "--scheduler: only used with the dask backend"),
        (["run", BASE, "--seed", "-1"], "--seed: must be a whole number from 0 to 2**63 - 1"),
        (["sweep", BASE, "--vary", "teams.washington.wrkers=1,2"], "teams.washington.wrkers: unknown key"),
        (["sweep", BASE, "--vary", "panel.interval_days"], "expected KEY=V1,V2"),
        (["sweep", BASE, "--vary", "panel.interval_days=7,-1"], "panel.interval_days: must be > 0"),
        (["compare", BASE, str(CONFIGS / "no_such_option.yaml")], "file not found"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_experiment_inputs_exit_2(
    argv: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sim.backends.CONNECT_TIMEOUT", "1s")  # nothing listens on port 9: no need to wait 10 s
    if "--out" not in argv:
        argv = [*argv, "--out", str(tmp_path / "out"), "--quiet"]
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(argv))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_resume_into_another_scenarios_folder_exits_2(other_batch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "run",
            BASE,
            "--out",
            str(other_batch),
            "--quiet",
            "--set",
            "teams.washington.workers=12",
            "--set",
            "run.duration_days=300",
            "--set",
            "run.warmup_days=30",
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert "refusing to mix" in err and "baseline" in err


def test_values_of_a_replication_do_not_depend_on_batch_size() -> None:
    """Replication r is the same whether the batch has 2 or 5 replications."""
    a = run_batch(_small(), 2, seed=8).replications
    b = run_batch(_small(), 5, seed=8).replications.iloc[:2]
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(
        b["referrals_total"].to_numpy()[:1], run_batch(_small(), 1, seed=9).replications["referrals_total"].to_numpy()
    )


def test_compare_by_locality_prints_each_place_with_the_tables_differences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.config import load_scenario
    from sim.present.format import fmt_row

    base = CONFIGS / "baseline.yaml"
    argv = ["compare", str(base), str(CONFIGS / "options" / "more_key_workers.yaml"), "--replications", "2"]
    argv += ["--quiet", "--by-locality", "--out", str(tmp_path), "--set", "run.duration_days=300"]
    assert main([*argv, "--set", "run.warmup_days=30"]) == 0
    printed = capsys.readouterr().out.splitlines()
    diff = pd.read_csv(tmp_path / "differences.csv").set_index("kpi")
    wait = K.wait(Stage.LEVEL3, "mean")
    for loc in load_scenario(base).localities:
        heading = printed.index(f"  {K.place_label(loc)}")
        line = next(x for x in printed[heading + 1 :] if "Mean wait for a key worker (days)" in x)
        row = diff.loc[K.in_locality(wait, loc).name]
        (shown,) = fmt_row(row.to_dict(), wait, 270.0, ("diff_mean",))
        assert f"diff {shown} " in line, (loc, line)


def _interruptible(cmd: list[str]) -> subprocess.Popen[str]:
    """The CLI as a terminal starts it: with Ctrl-C's default action (a test runner's worker,
    such as pytest-xdist's, may ignore SIGINT, and a child inherits that, so Python would never
    raise KeyboardInterrupt in it)."""
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.parametrize("backend", ["serial", "process"])
def test_ctrl_c_mid_batch_stops_without_a_traceback_and_says_how_to_resume(tmp_path: Path, backend: str) -> None:
    """SIGINT (Ctrl-C) after the first replication is written: exit 130 and one line saying the
    finished replications are kept and a rerun resumes, not a 44-line KeyboardInterrupt
    traceback (from the coordinator or, on the process pool, from every worker)."""
    out = tmp_path / "interrupted"
    cmd = ["run", str(CONFIGS / "baseline.yaml"), "--replications", "12", "--quiet", "--backend", backend]
    cmd += ["--set", "run.duration_days=500", "--set", "run.warmup_days=30", "--out", str(out)]
    proc = _interruptible(_cli(*cmd))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "reps").glob("*/rep-*.parquet")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "interrupted" in err and "run the same command again to resume" in err, err


@pytest.mark.slow  # about 6 s
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the pool's workers in /proc (Linux)")
def test_ctrl_c_on_the_process_pool_stops_the_running_replications_at_once(tmp_path: Path) -> None:
    """Workers leave Ctrl-C to the coordinator; the coordinator then waited for every running
    replication to end (a council-sized one: minutes) and threw its result away. Now it stops
    them: with replications of ~15 s each, SIGINT 2 s after the workers start ends the command
    in well under one replication's time, with no checkpoint written."""
    out = tmp_path / "long"
    cmd = ["run", str(CONFIGS / "baseline.yaml"), "--replications", "4", "--backend", "process", "--workers", "2"]
    cmd += ["--set", "run.duration_days=15000", "--quiet", "--out", str(out)]
    proc = _interruptible(_cli(*cmd))
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 120  # the pool's two workers started, however loaded the machine
    while time.monotonic() < deadline and len(children.read_text().split()) < 2:
        time.sleep(0.05)
    time.sleep(2.0)  # and their replications under way
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert time.monotonic() - sent < 5.0, "the coordinator waited for the running replications"
    assert not list((out / "reps").glob("*/rep-*.parquet"))


def test_a_sweep_reports_the_checkpoints_it_quarantines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sweep resumed over a corrupt checkpoint quarantines it as a run does, and says so: a
    warning line naming the file, why and where it went, and diagnostics.json records it under
    its combination (a sweep's diagnostics.json was always empty, so the file went unmentioned)."""
    import json

    args = ["sweep", str(CONFIGS / "baseline.yaml"), "--vary", "panel.interval_days=7,14", "--replications", "2"]
    args += ["--quiet", "--out", str(tmp_path), "--set", "run.duration_days=200", "--set", "run.warmup_days=30"]
    assert main(args) == 0
    folders = sorted(p for p in (tmp_path / "reps").iterdir() if p.is_dir())
    bad = folders[1] / "rep-000001.parquet"
    bad.write_bytes(b"not parquet")
    capsys.readouterr()
    assert main(args) == 0
    err = capsys.readouterr().err
    rel = f"reps/{folders[1].name}/rep-000001.parquet"
    warned = [line for line in err.splitlines() if rel in line]
    assert len(warned) == 1 and "unreadable" in warned[0] and "moved to quarantine/" in warned[0], err
    diag = json.loads((tmp_path / "diagnostics.json").read_text())
    assert len(diag) == 1, diag  # the one combination that quarantined a checkpoint
    (entry,) = diag.values()
    assert entry["warnings"] == [] and len(entry["quarantined"]) == 1 and rel in entry["quarantined"][0], diag

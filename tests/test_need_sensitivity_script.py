"""experiments/worcestershire_need_sensitivity.py: it runs end to end on a tiny horizon and
writes its table, and bad arguments exit 2 before any simulation (the plumbing, not the
findings: the measured table is in the README)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "experiments" / "worcestershire_need_sensitivity.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.slow
def test_sensitivity_script_writes_one_row_per_setting(tmp_path: Path) -> None:
    """One parameter, 2 replications, 200 days: rows for the defaults and the parameter's
    low and high ends, each with the value set and a paired CI around the net cost. (Slow:
    six short Worcestershire compares take about 15-60 s depending on the machine's load.)"""
    proc = _run(
        "--params", "leave", "--replications", "2", "--set", "run.duration_days=200",
        "--set", "run.warmup_days=30", "--out", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    assert list(table["parameter"]) == ["default", "leave", "leave"]
    assert list(table["end"]) == ["-", "low", "high"]
    assert table["value"].iloc[1:].tolist() == [0.05, 0.15]
    assert (table["net_cost_ci_low"] <= table["net_cost_diff_mean"]).all()
    assert (table["net_cost_diff_mean"] <= table["net_cost_ci_high"]).all()
    report = subprocess.run(
        [sys.executable, "-m", "sim", "report", str(tmp_path / "leave_low")], capture_output=True, text=True
    )
    assert report.returncode == 0, report.stderr[-3000:]


@pytest.mark.parametrize(
    "args",
    [
        ("--params", "no_such_parameter"),
        ("--params",),
        ("--replications", "0"),
        ("--set", "needs.leave_per_year=-1"),
    ],
    ids=["unknown-parameter", "params-without-value", "zero-replications", "bad-override"],
)
def test_sensitivity_script_bad_arguments_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    proc = _run(*args, "--out", str(tmp_path))
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "sensitivity.csv").exists()

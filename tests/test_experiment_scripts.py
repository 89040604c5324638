"""Every experiment script writes results folders that ``ehsim report`` turns into a page
(2 replications and a short horizon each, so this checks the plumbing, not the findings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sim.results as R
from tests.conftest import ROOT

SCRIPTS = sorted((ROOT / "experiments").glob("*.py"))
OWN_TEST = {"worcestershire_need_sensitivity"}
"""Scripts with an end-to-end test of their own (tests/test_need_sensitivity_script.py runs the
sensitivity script on one parameter and reports a folder: all 29 settings would take minutes)."""
SHORT = ["--replications", "2", "--quiet", "--set", "run.duration_days=400", "--set", "run.warmup_days=30"]


@pytest.mark.slow
@pytest.mark.parametrize("script", [s for s in SCRIPTS if s.stem not in OWN_TEST], ids=lambda p: p.stem)
def test_experiment_output_makes_a_report(script: Path, tmp_path: Path) -> None:
    out = tmp_path / script.stem
    proc = subprocess.run(
        [sys.executable, str(script), *SHORT, "--out", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    folders = [p.parent for p in out.rglob(R.MANIFEST)]
    assert folders, "the script wrote no results folder"
    for folder in folders:
        assert R.read(folder).kind == R.Kind.COMPARE
        rep = subprocess.run([sys.executable, "-m", "sim", "report", str(folder)], capture_output=True, text=True)
        assert rep.returncode == 0, rep.stderr[-3000:]
        assert (folder / R.REPORT).is_file()


def test_experiment_scripts_are_thin() -> None:
    """Each script is a few calls over the library (issue: at most about 60 lines)."""
    for script in SCRIPTS:
        assert len(script.read_text().splitlines()) <= 70, script.name

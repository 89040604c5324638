"""Every experiment script writes results folders that ``ehsim report`` turns into a page
(2 replications and a short horizon each, so this checks the plumbing, not the findings)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

import sim.results as R
from sim.cli import _parse
from sim.present.console import CLEAR_NOTE
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


def _load(script: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"experiment_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Read(Exception):
    """Raised by the stand-in for ``R.read``: the script reached its read-back."""


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_script_reads_back_the_folder_compare_wrote(
    script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--out=DIR`` (one token): compare is told to write under DIR and the script reads back
    what compare wrote, not the default results/<council> (an older run, or a traceback when it
    does not exist). ``compare`` and ``R.read`` are stand-ins: no simulation."""
    module = _load(script)
    written: list[Path] = []

    def compare_stub(argv: list[str]) -> int:
        written.append(Path(_parse(argv).out))  # the folder ehsim compare would write
        return 0

    def read_stub(folder: Path) -> None:
        raise _Read(folder)

    monkeypatch.setattr(module, "main", compare_stub)
    monkeypatch.setattr(R, "read", read_stub)
    try:
        module.run(["--replications", "2", f"--out={tmp_path}"])
        read = None
    except _Read as exc:
        read = Path(exc.args[0])
    assert written and all(w == tmp_path or tmp_path in w.parents for w in written), written
    if read is not None:
        assert read == written[0]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_script_help_describes_the_script_and_its_flags(script: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The usage line names the script (not ``ehsim compare ... BASE OPTION``), the whole
    docstring is the description and the flags passed on to compare are listed."""
    module = _load(script)
    with pytest.raises(SystemExit) as exc:
        module.run(["--help"])
    assert exc.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: python experiments/{script.name}"), shown[:200]
    assert "BASE" not in shown and "ehsim compare [" not in shown
    assert " ".join(module.__doc__.split()) in " ".join(shown.split())
    for flag in ("--replications", "--seed", "--backend", "--workers", "--out", "--set", "--report"):
        assert flag in shown, flag


@pytest.mark.slow
def test_one_replication_prints_no_clear_difference_note(tmp_path: Path) -> None:
    """With one replication no difference has an interval, so nothing is starred and the note
    explaining the star is not printed; the script reads back the folder given as --out=DIR."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "kirklees.py"), *SHORT, "--replications", "1",
         f"--out={tmp_path / 'k'}"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "excludes 0" not in proc.stdout
    assert R.read(tmp_path / "k").kind == R.Kind.COMPARE


def test_clear_note_only_when_a_shown_row_is_clear() -> None:
    from sim.present.console import clear_note  # here: the other tests run on code without it

    row = {"option": "cut", "base_mean": 1.0, "option_mean": 2.0, "diff_sd": 0.1, "ci_low": 0.9, "ci_high": 1.1}
    one = pd.DataFrame([row | {"kpi": "care_entries", "n": 1, "distinguishable": False}])
    clear = pd.DataFrame([row | {"kpi": "care_entries", "n": 4, "distinguishable": True}])
    assert clear_note(one, ["care_entries"], ["cut"]) == []
    assert clear_note(clear, ["care_entries"], ["cut"]) == [CLEAR_NOTE]
    assert clear_note(clear, ["starts_level3"], ["cut"]) == []  # the clear row is not shown

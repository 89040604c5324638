"""``ehsim calibrate`` writes its fitted scenario only where asked: an existing file (another
job's results, the bundled ``configs/<council>/calibrated.yaml``) is refused before any
fitting unless ``--force``; errors about the path name ``--out`` when the user gave it and
the spec's ``output`` field otherwise; the file's header and the console say how many
replications were used, and one replication shows no "(nan to nan)" interval."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim.calibrate
from sim.cli import main
from tests.conftest import CONFIGS

BASE = CONFIGS / "baseline.yaml"


def _spec(folder: Path) -> Path:
    """A spec on the baseline over a short horizon: 3 replications by default, 2 evaluations."""
    spec = folder / "cal.yaml"
    spec.write_text(
        f"scenario: {BASE}\noutput: fitted.yaml\nreplications: 3\nseed: 7\nmax_evaluations: 2\n"
        "overrides: {run.duration_days: 200, run.warmup_days: 30}\n"
        "parameters:\n  panel.interval_days: {bounds: [7, 28]}\n"
        "targets:\n  open_level3_at_end: {value: 475}\n"
    )
    return spec


@pytest.fixture
def no_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any simulation fails the test: a refusal must come before the first evaluation."""

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("calibrate ran a simulation before refusing")

    monkeypatch.setattr(sim.calibrate, "run_batch", fail)


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err
    return err.strip()


@pytest.mark.usefixtures("no_fitting")
def test_an_existing_out_file_is_refused_before_fitting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "summary.csv"
    results.write_text("another job's results\n")
    err = _refused(["calibrate", str(_spec(tmp_path)), "--quiet", "--out", str(results)], capsys)
    assert err.startswith(f"error: --out: {results} exists") and "--force" in err
    assert results.read_text() == "another job's results\n"


@pytest.mark.usefixtures("no_fitting")
def test_the_specs_existing_output_is_refused_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path)
    (tmp_path / "fitted.yaml").write_text("# the shipped fit\n")
    err = _refused(["calibrate", str(spec), "--quiet"], capsys)
    assert err.startswith(f"error: {spec}: output: {tmp_path / 'fitted.yaml'} exists")
    assert "--force" in err and "--out" in err
    assert (tmp_path / "fitted.yaml").read_text() == "# the shipped fit\n"


@pytest.mark.usefixtures("no_fitting")
def test_the_bundled_kirklees_fit_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    bundled = CONFIGS / "kirklees" / "calibrated.yaml"
    before = bundled.read_bytes()
    err = _refused(["calibrate", str(CONFIGS / "kirklees" / "calibration.yaml"), "--quiet"], capsys)
    assert "output:" in err and "calibrated.yaml exists" in err
    assert bundled.read_bytes() == before


@pytest.mark.usefixtures("no_fitting")
def test_a_missing_out_folder_names_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no_such_folder" / "fitted.yaml"
    err = _refused(["calibrate", str(_spec(tmp_path)), "--quiet", "--out", str(missing)], capsys)
    assert err == f"error: --out: folder {missing.parent} does not exist"


def test_force_writes_over_and_records_the_replications_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One replication (the spec says 3): the header says 1 and the console shows the model's
    value with no interval (two short evaluations and a final run: about 2 s)."""
    out = tmp_path / "old.yaml"
    out.write_text("old\n")
    argv = ["calibrate", str(_spec(tmp_path)), "--quiet", "--replications", "1", "--out", str(out), "--force"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "1 replication(s), seed 7;" in out.read_text()
    assert "nan" not in printed
    assert "from one replication: no interval" in printed and "spec's replications" not in printed
    assert not list(tmp_path.glob("*.tmp*")), "the temporary file of the atomic write was left behind"


def test_a_count_targets_interval_does_not_go_below_zero(tmp_path: Path) -> None:
    """Kirklees's MST list (about 20 families) over 2 replications: the t interval reaches
    below zero (-47.5 to 79.5 before the fix); a list cannot, so it is truncated at 0 (~2 s)."""
    spec = CONFIGS / "kirklees" / "calibration.yaml"
    res = sim.calibrate.calibrate(spec, replications=2, max_evaluations=2, output=tmp_path / "fit.yaml")
    assert (res.fit["ci_low"] >= 0).all(), res.fit[["target", "ci_low", "ci_high"]]
    assert (res.fit["ci_low"] <= res.fit["model_mean"]).all()
    assert res.replications == 2

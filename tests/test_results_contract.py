"""The results-folder contract (sim.results) and the KPI data dictionary (sim.kpis):
every kind written and read back by one piece of code, folders never mixed or
overwritten, checkpoints verified, and a dictionary entry for exactly the KPI columns."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

import sim
import sim.results as R
from sim import kpis as K
from sim.cli import main
from sim.config import scenario_from_dict
from sim.experiment import compare, run_batch, sweep, variant
from tests.conftest import CONFIGS, mmc_dict


def _tiny(name: str = "tiny", **changes: object) -> sim.Scenario:
    d = mmc_dict(rate_per_day=2.0, workers=2, cap=2, mean=1.2, days=200, warmup=20)
    d["name"] = name
    return variant(scenario_from_dict(d), dict(changes)) if changes else scenario_from_dict(d)


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------- the data dictionary
@pytest.mark.parametrize(
    "config",
    [
        "baseline.yaml",
        "kirklees/calibrated.yaml",
        "west_sussex/baseline.yaml",
        "validation/mmc.yaml",
        "options/agency_cover.yaml",  # workforce dynamics: the workforce KPIs of every team
        "options/pooled_allocation.yaml",
    ],
)
def test_catalogue_is_exactly_the_kpi_columns(config: str) -> None:
    """Both ways: no KPI without a dictionary entry, no entry the scenario does not produce."""
    sc = sim.load_scenario(CONFIGS / config)
    sc = variant(sc, {"run.duration_days": sc.run.warmup_days + 400})
    produced = sim.run_replication(sc, seed=1).kpis
    assert list(produced) == list(K.catalogue(sc))


def test_every_dictionary_entry_is_described() -> None:
    sc = sim.load_scenario(CONFIGS / "worcestershire" / "baseline.yaml")  # has a budget: every family
    cat = K.catalogue(sc)
    assert K.BUDGET.name in cat and K.OVER_BUDGET.name in cat
    for k in cat.values():
        assert (
            k.label
            and k.unit
            and k.definition.endswith(".")
            and k.kind in ("days", "count", "level", "share", "gbp", "number")
        )
    assert len({k.name for k in cat.values()}) == len(cat)
    assert [k.name for k in K.COST_COMPONENTS] == [k for k in cat if cat[k].family == "cost"]


def test_role_caseload_definitions_read_as_english() -> None:
    """A role's plural is its own word, not the singular with an "s" glued on: "key worker (not
    senior)s" and "(not senior)s' share" read as typos in the data dictionary."""
    sc = sim.load_scenario(CONFIGS / "sunderland" / "calibrated.yaml")  # senior posts in every team
    roles = [k for k in K.catalogue(sc).values() if k.family == "role_caseload"]
    assert roles
    for k in roles:
        assert ")s" not in k.label + k.definition and "s'" not in k.definition, k.definition
        assert "key workers" in k.definition


def test_kpis_command_lists_every_replications_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpis", str(CONFIGS / "baseline.yaml"), "--format", "csv"]) == 0
    from io import StringIO

    table = pd.read_csv(StringIO(capsys.readouterr().out), keep_default_na=False)
    assert list(table.columns) == list(K.DICTIONARY_COLUMNS)
    sc = sim.load_scenario(CONFIGS / "baseline.yaml")
    batch = run_batch(sc, 1, out=tmp_path / "r")
    columns = [
        c for c in pd.read_parquet(tmp_path / "r" / R.REPLICATIONS).columns if c not in ("scenario", "rep", "seed")
    ]
    assert list(table["name"]) == columns
    assert (table["label"] != "").all() and (table["unit"] != "").all() and (table["definition"] != "").all()
    assert set(batch.kpis) == set(columns)


# --------------------------------------------------------------------------- every kind, one reader
def test_each_kind_is_written_and_read_back(tmp_path: Path) -> None:
    run_batch(_tiny(), 2, seed=1, out=tmp_path / "run", events=True)
    compare(_tiny(), [_tiny("more", **{"teams.town.workers": 3})], 2, seed=1, out=tmp_path / "cmp")
    sweep(_tiny(), {"teams.town.workers": [2, 3]}, 2, seed=1, out=tmp_path / "swp")
    run = R.read(tmp_path / "run")
    assert run.kind == R.Kind.RUN and run.scenarios == ["tiny"] and run.events is not None
    assert set(run.kpis) == set(run.replications.columns) - {"scenario", "rep", "seed"}
    cmp = R.read(tmp_path / "cmp")
    assert cmp.kind == R.Kind.COMPARE and cmp.options == ["more"] and cmp.differences is not None
    assert set(cmp.summary["scenario"]) == {"tiny", "more"} and set(cmp.configs) == {"tiny", "more"}
    swp = R.read(tmp_path / "swp")
    assert swp.kind == R.Kind.SWEEP and swp.sweep_keys == ["teams.town.workers"]
    assert set(swp.summary["teams.town.workers"]) == {2, 3}
    for res in (run, cmp, swp):
        assert res.window_days() == 180
        manifest = json.loads((res.folder / R.MANIFEST).read_text())  # type: ignore[operator]
        assert manifest["schema"] == R.SCHEMA_VERSION and manifest["seed"] == 1


def test_summary_intervals_never_below_zero_for_nonnegative_kpis(tmp_path: Path) -> None:
    """With 2 replications a t interval of a small count routinely crosses zero; the stored
    interval of a quantity that cannot be negative is truncated at zero."""
    run_batch(_tiny(), 2, seed=3, out=tmp_path / "r")
    res = R.read(tmp_path / "r")
    summ = res.summary.set_index("kpi")
    nonneg = [n for n, k in res.kpis.items() if k.nonnegative]
    assert (summ.loc[nonneg, "ci_low"].dropna() >= 0).all()
    crossing = summ.loc[nonneg][summ.loc[nonneg, "ci_low"] == 0]
    assert len(crossing) > 0  # the rule was exercised, not vacuous


def test_series_dates_read_back_are_whole_days(tmp_path: Path) -> None:
    """Each month of ``series.parquet`` is dated by the day it starts on: midnight of the run's
    start date plus the whole days before its first instant (day 30.42 is on day 30), as the
    model dates a time (:mod:`sim.model.arrivals`). A date computed as start + fractional days
    reads 2022-01-31 10:00 (month 1), and float noise such as 19:59:59.999999997."""
    run_batch(_tiny(**{"run.start_date": "2022-01-01", "run.duration_days": 400}), 1, out=tmp_path / "r")
    series = pd.read_parquet(tmp_path / "r" / R.SERIES)
    dates = pd.to_datetime(series["date"])
    assert len(dates) == 14 and (dates == dates.dt.normalize()).all()  # every date at midnight
    expected = [pd.Timestamp("2022-01-01") + pd.Timedelta(days=math.floor(d + 1e-9)) for d in series["day"]]
    assert dates.tolist() == expected
    assert expected[1] == pd.Timestamp("2022-01-31") and expected[12] == pd.Timestamp("2023-01-01")  # by hand
    assert series["day"].iloc[1] == pytest.approx(365 / 12, rel=1e-12)  # the months are unchanged


@pytest.mark.parametrize(
    ("manifest", "needle"),
    [({"kind": "mystery", "schema": 2}, "unknown kind 'mystery'"), ({"kind": "run", "schema": 99}, "newer")],
)
def test_unknown_kind_or_newer_schema_is_refused(tmp_path: Path, manifest: dict, needle: str) -> None:
    run_batch(_tiny(), 1, out=tmp_path / "r")
    (tmp_path / "r" / R.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(sim.ResultsError, match=needle):
        R.read(tmp_path / "r")


def test_unfinished_job_and_damaged_tables_are_named(tmp_path: Path) -> None:
    run_batch(_tiny(), 1, out=tmp_path / "r")
    shutil.copytree(tmp_path / "r", tmp_path / "header_only")
    summary = pd.read_csv(tmp_path / "r" / R.SUMMARY)
    summary.iloc[:0].to_csv(tmp_path / "header_only" / R.SUMMARY, index=False)
    with pytest.raises(sim.ResultsError, match="holds no replications"):
        R.read(tmp_path / "header_only")
    (tmp_path / "r" / R.SCENARIOS / "tiny.yaml").write_text("run: [unclosed")
    with pytest.raises(sim.ResultsError, match="not readable YAML"):
        R.read(tmp_path / "r")
    (tmp_path / "r" / R.MANIFEST).unlink()
    with pytest.raises(sim.ResultsError, match="has not finished"):
        R.read(tmp_path / "r")


# --------------------------------------------------------------------------- never mixed or overwritten
def test_another_job_never_writes_into_a_results_folder(tmp_path: Path) -> None:
    run_batch(_tiny(), 2, out=tmp_path / "r")
    before = _digests(tmp_path / "r")
    with pytest.raises(sim.ResultsError, match="holds a run"):
        compare(_tiny(), [_tiny("other")], 2, out=tmp_path / "r")
    with pytest.raises(sim.ResultsError, match="holds a run"):
        sweep(_tiny(), {"teams.town.workers": [2, 3]}, 2, out=tmp_path / "r")
    with pytest.raises(sim.ResultsError, match="refusing to mix"):
        run_batch(_tiny(**{"teams.town.workers": 3}), 2, out=tmp_path / "r")
    with pytest.raises(sim.ResultsError, match="refusing to mix"):
        run_batch(_tiny(), 2, seed=9, out=tmp_path / "r")
    assert _digests(tmp_path / "r") == before


def test_fewer_replications_than_a_folder_holds_are_refused(tmp_path: Path) -> None:
    """Rerunning a finished folder with fewer replications would shrink its tables: refused,
    naming the argument, with nothing changed; as many or more reuse (and extend) them."""
    run_batch(_tiny(), 3, out=tmp_path / "r")
    before = _digests(tmp_path / "r")
    with pytest.raises(sim.ArgumentError, match="already holds 3 replications") as info:
        run_batch(_tiny(), 2, out=tmp_path / "r")
    assert info.value.argument == "replications"
    assert _digests(tmp_path / "r") == before
    assert run_batch(_tiny(), 3, out=tmp_path / "r").resumed == 3
    assert len(R.read(tmp_path / "r").replications) == 3


def test_rewritten_tables_never_sit_beside_an_old_report(tmp_path: Path) -> None:
    """A report and figures describe the tables they were made from: when the tables are
    rewritten (here extended from 2 to 3 replications), the old ones are removed."""
    out = tmp_path / "r"
    run_batch(_tiny(), 2, out=out)
    (out / R.REPORT).write_text("<p>2 replications</p>")
    (out / R.FIGURES).mkdir()
    (out / R.FIGURES / "waits.png").write_bytes(b"old")
    run_batch(_tiny(), 3, out=out)
    assert not (out / R.REPORT).exists() and not (out / R.FIGURES).exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "nothing left behind"
    assert len(R.read(out).replications) == 3


def test_a_users_own_folder_or_file_is_refused(tmp_path: Path) -> None:
    own = tmp_path / "mine"
    own.mkdir()
    (own / "summary.csv").write_text("my own work\n")
    with pytest.raises(sim.ResultsError, match="not an ehsim results folder"):
        run_batch(_tiny(), 1, out=own)
    assert (own / "summary.csv").read_text() == "my own work\n" and sorted(p.name for p in own.iterdir()) == [
        "summary.csv"
    ]
    (tmp_path / "afile").write_text("x")
    with pytest.raises(sim.ResultsError, match="is a file"):
        run_batch(_tiny(), 1, out=tmp_path / "afile")


def test_default_folder_moves_aside_for_another_job(tmp_path: Path) -> None:
    base = tmp_path / "run-tiny-seed0"
    job = sim.experiment.run_job(_tiny(), 0)
    assert R.default_folder(base, job) == base
    run_batch(_tiny(), 1, out=base)
    assert R.default_folder(base, job) == base  # the same job: resume there
    other = sim.experiment.run_job(_tiny(**{"teams.town.workers": 3}), 0)
    assert R.default_folder(base, other) == tmp_path / "run-tiny-seed0-2"


# --------------------------------------------------------------------------- verified checkpoints
def _damage_duplicate(reps: Path, foreign: Path) -> str:
    shutil.copy(reps / "rep-000000.parquet", reps / "rep-000002.parquet")
    return "rep-000002.parquet"


def _damage_foreign(reps: Path, foreign: Path) -> str:
    shutil.copy(foreign, reps / "rep-000001.parquet")
    return "rep-000001.parquet"


def _damage_truncated(reps: Path, foreign: Path) -> str:
    data = (reps / "rep-000003.parquet").read_bytes()
    (reps / "rep-000003.parquet").write_bytes(data[: len(data) // 2])
    return "rep-000003.parquet"


def _damage_random(reps: Path, foreign: Path) -> str:
    (reps / "rep-000001.parquet").write_bytes(bytes(range(256)) * 7)
    return "rep-000001.parquet"


def _damage_zero_bytes(reps: Path, foreign: Path) -> str:
    (reps / "rep-000002.parquet").write_bytes(b"")
    return "rep-000002.parquet"


def _damage_edited_row(reps: Path, foreign: Path) -> str:
    """A checkpoint whose content no longer matches its digest (a value changed)."""
    import pyarrow.parquet as pq

    path = reps / "rep-000003.parquet"
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    data = json.loads(meta[b"ehsim.checkpoint"])
    data["row"]["referrals_total"] += 1
    meta[b"ehsim.checkpoint"] = json.dumps(data).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
    return "rep-000003.parquet"


@pytest.mark.parametrize(
    "damage",
    [_damage_duplicate, _damage_foreign, _damage_truncated, _damage_random, _damage_zero_bytes, _damage_edited_row],
    ids=lambda f: f.__name__.removeprefix("_damage_"),
)
def test_bad_checkpoint_is_quarantined_and_recomputed(tmp_path: Path, damage: object) -> None:
    clean = run_batch(_tiny(), 4, seed=2, out=tmp_path / "clean").replications
    run_batch(_tiny("stranger", **{"teams.town.workers": 3}), 2, seed=2, out=tmp_path / "stranger")
    foreign = tmp_path / "stranger" / R.CHECKPOINTS / "stranger" / "rep-000001.parquet"
    run_batch(_tiny(), 4, seed=2, out=tmp_path / "hurt")
    reps = tmp_path / "hurt" / R.CHECKPOINTS / "tiny"
    bad = damage(reps, foreign)  # type: ignore[operator]
    resumed = run_batch(_tiny(), 4, seed=2, out=tmp_path / "hurt")
    pd.testing.assert_frame_equal(resumed.replications, clean)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "hurt" / R.REPLICATIONS), clean)
    moved = list((tmp_path / "hurt" / R.QUARANTINE / "tiny").glob(bad.replace(".parquet", "*.parquet")))
    assert moved, "the bad checkpoint is set aside, not deleted"
    assert resumed.resumed == 3 and len(resumed.quarantined) == 1
    assert json.loads((tmp_path / "hurt" / R.DIAGNOSTICS).read_text())["tiny"]["quarantined"]


def test_corrupt_claim_is_rebuilt_from_good_checkpoints(tmp_path: Path) -> None:
    clean = run_batch(_tiny(), 3, seed=4, out=tmp_path / "a").replications
    (tmp_path / "a" / R.JOB).write_text("{not json")
    again = run_batch(_tiny(), 3, seed=4, out=tmp_path / "a")
    assert again.resumed == 3
    pd.testing.assert_frame_equal(again.replications, clean)


def test_corrupt_claim_beside_another_scenarios_checkpoints_is_refused(tmp_path: Path) -> None:
    run_batch(_tiny(), 2, seed=4, out=tmp_path / "a")
    (tmp_path / "a" / R.JOB).write_text("{not json")
    with pytest.raises(sim.ResultsError, match="belongs to another scenario"):
        run_batch(_tiny("other"), 2, seed=4, out=tmp_path / "a")


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError])
@pytest.mark.parametrize("job", ["run", "compare", "sweep"])
def test_a_job_stopped_while_reading_its_checkpoints_leaves_the_folder_free(
    job: str, stop: type[BaseException], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or an error) while the checkpoints are read, before any replication runs: the
    claim is released, so the corrected command (here another seed) is accepted, not refused
    as a folder of another job."""
    out = tmp_path / "a"

    def start(seed: int) -> object:
        if job == "run":
            return run_batch(_tiny(), 1, seed=seed, out=out)
        if job == "compare":
            return compare(_tiny(), [_tiny("other")], 1, seed=seed, out=out)
        return sweep(_tiny(), {"teams.town.workers": [2, 3]}, 1, seed=seed, out=out)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise stop()

    with monkeypatch.context() as patch:
        patch.setattr("sim.checkpoints.Checkpoints.load", interrupted)
        with pytest.raises(stop):
            start(seed=1)
    assert not (out / R.JOB).exists(), "no claim left behind"
    start(seed=2)
    assert R.read(out).manifest["seed"] == 2


def test_a_by_locality_batch_read_back_from_checkpoints_keeps_every_column(tmp_path: Path) -> None:
    """Nothing lost on resume: a --by-locality compare rerun on its finished folder (every
    replication read back from checkpoints, no task run) writes the same tables, per-locality
    and per-deprivation-group columns included (found missing before: their definitions came
    only from tasks run in the process)."""
    base = sim.load_scenario(
        CONFIGS / "worcestershire" / "baseline.yaml", {"run.duration_days": 400, "run.warmup_days": 30}
    )
    opt = variant(base, {"name": "more", "teams.redditch.workers": 10})
    out = tmp_path / "loc"
    from sim.experiment import locality_hook

    first = compare(base, [opt], 2, seed=5, out=out, hook=locality_hook)
    cols = list(first.batches[base.name].replications.columns)
    assert [k.name for k in K.locality_kpis(base)] == [c for c in cols if "_in_" in c]
    assert "wait_level3_mean_days_in_most_deprived_40pct" in cols
    again = compare(base, [opt], 2, seed=5, out=out, hook=locality_hook)
    assert again.batches[base.name].resumed == 2
    pd.testing.assert_frame_equal(again.batches[base.name].replications, first.batches[base.name].replications)
    pd.testing.assert_frame_equal(again.differences, first.differences)


def test_the_manifest_records_the_versions_of_salib_and_dask() -> None:
    """A sensitivity analysis's designs and indices come from SALib and a cluster's scheduling
    from Dask: a manifest that reproduces a run names their versions too."""
    from importlib import metadata

    from sim.results import versions

    packages = versions()["packages"]
    for name in ("salib", "dask", "distributed", "simpy", "numpy"):
        assert packages[name] == metadata.version(name), name


def test_a_comparison_with_another_baseline_is_another_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``compare A B --out F`` then ``compare B A --out F`` (B the baseline now) were taken as
    one job, job.json storing the scenarios sorted, and the second resumed into the first's
    folder: job.json keeps the order (the baseline first), and the second is refused saying
    the baseline differs; rerunning the first still resumes."""
    mmc = CONFIGS / "validation" / "mmc.yaml"
    (tmp_path / "a.yaml").write_text(f"extends: {mmc.as_posix()}\nname: zeta\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: alpha\nteams: {town: {workers: 3}}\n", encoding="utf-8")
    a, b, out = str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), tmp_path / "F"
    short = ["--set", "run.duration_days=200", "--set", "run.warmup_days=20", "--replications", "1", "--quiet"]
    assert main(["compare", a, b, *short, "--out", str(out)]) == 0
    assert list(json.loads((out / R.JOB).read_text())["scenarios"]) == ["zeta", "alpha"]
    before = _digests(out)
    capsys.readouterr()
    assert main(["compare", b, a, *short, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "refusing to mix this comparison with the results there (what differs: baseline zeta there, alpha here)" in (
        err
    ), err
    assert _digests(out) == before
    assert main(["compare", a, b, *short, "--out", str(out)]) == 0

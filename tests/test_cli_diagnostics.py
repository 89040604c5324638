"""What ``ehsim run`` and ``ehsim compare`` print from the results folder's
``diagnostics.json``: every precision warning and the warm-up check, the same way for both
(one function), a comparison's naming the scenario each belongs to."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from sim import kpis as K
from sim import results as R
from sim.cli import main
from sim.present.console import WARMUP_ADVICE
from tests.conftest import CONFIGS

SHORT = ["--set", "run.duration_days=300", "--set", "run.warmup_days=30", "--quiet"]
BUSY = ["--set", "referrals.sources.police.annual_rate=2600"]  # queues for key workers: imprecise waits


def _diagnostics(out: Path) -> dict:
    return json.loads((out / "diagnostics.json").read_text())


def test_compare_prints_each_scenarios_warnings_and_warmup_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "c"
    option = str(CONFIGS / "options" / "more_key_workers.yaml")
    assert (
        main(
            ["compare", str(CONFIGS / "baseline.yaml"), option, "--replications", "2", "--out", str(out), *SHORT, *BUSY]
        )
        == 0
    )
    printed = capsys.readouterr()
    diag = _diagnostics(out)
    assert set(diag) == {"baseline", "more_key_workers"}
    assert diag["baseline"]["warnings"], "the busy baseline must have a precision warning to print"
    for name, d in diag.items():
        for warning in d["warnings"]:
            assert f"warning ({name}): {warning}" in printed.err.splitlines()
        assert d["warmup"], name
        days = math.ceil(d["warmup"]["warmup_days"])  # whole days to discard, rounded up
        assert (
            f"Warm-up check of {name} (MSER-5 on monthly {K.WARMUP_MEASURE.label}, mean of 2 replication(s)): "
            f"suggests {days} days; the scenario uses 30."
        ) in printed.out.splitlines()
        advice = f"  {WARMUP_ADVICE.format(days=days)}"
        assert (advice in printed.out.splitlines()) == (d["warmup"]["warmup_days"] > 30), name
    assert printed.out.index("Warm-up check") < printed.out.index("Results written")


def test_run_prints_its_warnings_and_warmup_check_unnamed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r"
    assert main(["run", str(CONFIGS / "baseline.yaml"), "--replications", "2", "--out", str(out), *SHORT, *BUSY]) == 0
    printed = capsys.readouterr()
    d = _diagnostics(out)["baseline"]
    assert d["warnings"]
    assert [line for line in printed.err.splitlines() if line.startswith("warning")] == [
        f"warning: {w}" for w in d["warnings"]
    ]
    # a precision warning in plain words ("95% CI of +/-..." read as jargon), its numbers as recorded
    kpis = R.read(out).kpis
    short = [r for r in d["replications_needed"] if not r["sufficient"]]
    assert short, "the busy baseline must be short of the target precision somewhere"
    for r in short:
        said = (
            f"{kpis[r['kpi']].label}: with 2 replication(s) it is known only to within "
            f"+/-{r['rel_half_width_now']:.1%} of its value (95% confidence); about {int(r['n_needed'])} "
            f"replications would narrow that to +/-5% of its value or {K.enough_words(kpis[r['kpi']])}"
        )
        assert f"warning: {said}" in printed.err.splitlines(), printed.err
    assert (
        f"Warm-up check (MSER-5 on monthly {K.WARMUP_MEASURE.label}, mean of 2 replication(s)): "
        f"suggests {math.ceil(d['warmup']['warmup_days'])} days; the scenario uses 30."
    ) in printed.out.splitlines()


def test_compare_checks_the_replications_for_the_precision_asked(tmp_path: Path) -> None:
    # --precision reaches compare's replication-count check as it does run's: the folder records
    # it, and a looser aim needs fewer replications for every KPI (fails if compare ignores it)
    option = str(CONFIGS / "options" / "more_key_workers.yaml")
    needed = {}
    for precision in ("0.05", "0.5"):
        out = tmp_path / precision
        argv = ["compare", str(CONFIGS / "baseline.yaml"), option, "--replications", "2", "--out", str(out)]
        assert main([*argv, "--precision", precision, *SHORT, *BUSY]) == 0
        diag = _diagnostics(out)["baseline"]
        assert diag["precision"] == float(precision)
        needed[precision] = {
            r["kpi"]: r["n_needed"] for r in diag["replications_needed"] if r["n_needed"] == r["n_needed"]
        }
    assert needed["0.5"].keys() == needed["0.05"].keys() and needed["0.05"]
    assert all(needed["0.5"][k] <= needed["0.05"][k] for k in needed["0.05"])
    assert any(needed["0.5"][k] < needed["0.05"][k] for k in needed["0.05"])


FILL_UP = [
    "--set",
    "early_help.duration.mean=60",
    "--set",
    "teams.town.workers=10",
    "--set",
    "teams.town.caseload_cap=300",
]
"""The M/M/c with no queue and plans of 60 days: open plans fill up over a few months, then settle."""


def test_a_warmup_shorter_than_the_check_suggests_gets_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # open plans fill up over a few months: with a 30-day warm-up of a 4-year run the check
    # suggests more (well below its cap of 20 months), and the console says what to do about it
    out = tmp_path / "r"
    argv = ["run", str(CONFIGS / "validation" / "mmc.yaml"), "--replications", "2", "--out", str(out), "--quiet"]
    assert main([*argv, *FILL_UP, "--set", "run.duration_days=1460", "--set", "run.warmup_days=30"]) == 0
    d = _diagnostics(out)["mmc"]
    assert d["warmup"]["warmup_days"] > 30 and not d["warmup"]["at_cap"]
    lines = capsys.readouterr().out.splitlines()
    check = next(i for i, line in enumerate(lines) if line.startswith("Warm-up check"))
    days = math.ceil(d["warmup"]["warmup_days"])
    assert lines[check + 1] == f"  {WARMUP_ADVICE.format(days=days)}"
    assert f"--set run.warmup_days={days}" in lines[check + 1]


def test_a_suggestion_at_the_cap_advises_a_longer_run_not_that_warmup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default's open plans fill up for longer than MSER-5 looks in a two-year run (it cuts
    at most 5 of its 24 months): its point is that cap, 153 days. The console advised a warm-up
    of 153 days, and following it moved the cap on (Kirklees's MST list: 457 days in a 3-year
    run, then "still growing"). It now says the point is a lower bound and to run longer."""
    out = tmp_path / "r"
    argv = ["run", str(CONFIGS / "baseline.yaml"), "--replications", "2", "--out", str(out), "--quiet"]
    assert main([*argv, "--set", "run.duration_days=730", "--set", "run.warmup_days=30"]) == 0
    d = _diagnostics(out)["baseline"]
    assert d["warmup"]["truncation_index"] == 5 and d["warmup"]["at_cap"] is True
    assert all(isinstance(v, bool) for v in d["queue_at_cap"].values())
    printed = capsys.readouterr().out
    check = next(line for line in printed.splitlines() if line.startswith("Warm-up check"))
    assert check.endswith(
        "the scenario uses 30 days; MSER-5 suggests discarding at least 153 days, the most it can suggest in a run "
        "this long: the series may still be changing at the end of the run; run longer (a warm-up of 153 days or "
        "more and the same results window after it) to tell."
    )
    assert "run.warmup_days" not in printed and "Longer than the scenario's warm-up" not in printed


@pytest.mark.parametrize(("plan_days", "settling"), [(3.0, True), (1.2, False)])
def test_a_queue_still_growing_after_the_warm_up_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan_days: float, settling: bool
) -> None:
    """The warm-up check on open Level 3 plans said nothing of an MST list still growing through
    the whole window (its mean wait then depends on the run's length). The M/M/c at rho 1.5
    with no withdrawal: the key-worker list grows without end, and the check of that queue says
    so; at rho 0.6 it settles at once and nothing is said."""
    out = tmp_path / "q"
    over = ["--set", "referrals.sources.all.annual_rate=7300", "--set", "teams.town.workers=10"]
    over += ["--set", "teams.town.caseload_cap=4", "--set", f"early_help.duration.mean={plan_days}"]
    over += ["--set", "run.duration_days=730", "--set", "run.warmup_days=10"]  # 24 months: 4 batches of 5
    args = ["run", str(CONFIGS / "validation" / "mmc.yaml"), "--replications", "2", "--out", str(out), "--quiet"]
    assert main([*args, *over]) == 0
    err = capsys.readouterr().err
    said = [w for w in _diagnostics(out)["mmc"]["warnings"] if "the list for" in w]
    assert bool(said) == settling, said
    if settling:  # it grows without end: no warm-up settles it (the old warning spoke of "settling")
        assert said[0].startswith("the list for a key worker is still growing at the end of the run")
        assert f"warning: {said[0]}" in err

"""Property-based fuzz of the ``ehsim`` argument lists: whatever flags and values are given,
the command either succeeds (exit 0) or refuses with exit 2 and one-line messages; never a
traceback, and never a file outside the chosen output folder.

The scenario is the M/M/c reduction cut to 60 days, so a valid combination runs in a
fraction of a second; replication counts are drawn small (or invalid) for the same reason.
Examples: 40 by default, 300 with ``--runslow``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from tests.conftest import CONFIGS

SCENARIO = str(CONFIGS / "validation" / "mmc.yaml")
SHORT = ["--set", "run.duration_days=60", "--set", "run.warmup_days=10"]

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_numbers = st.one_of(
    st.integers(-5, 4).map(str),
    st.sampled_from(["0", "-1", "1e9", "nan", "inf", "2**65", "36893488147419103232", "0.5", "1.5", "", "ten"]),
    _text,
)
_FLAGS = st.one_of(
    st.tuples(st.just("--replications"), _numbers),
    st.tuples(st.just("--seed"), _numbers),
    st.tuples(st.just("--workers"), _numbers),
    st.tuples(st.just("--precision"), _numbers),
    st.tuples(st.just("--backend"), st.sampled_from(["serial", "gpu", "", "process "])),
    st.tuples(st.just("--scheduler"), st.sampled_from(["tcp://127.0.0.1:9", "", "nonsense"])),
    st.tuples(
        st.just("--set"),
        st.one_of(
            st.sampled_from(
                [
                    "teams.town.workers=3",
                    "teams.nowhere.workers=3",
                    "run.duration_days=-5",
                    "name=../../escaped",
                    "panel.interval_days=7",
                    "=",
                    "teams.town.workers=[1,2]",
                    "early_help.duration.mean=1e300",
                ]
            ),
            _text,
        ),
    ),
    st.tuples(st.just("--vary"), st.sampled_from(["teams.town.workers=2,3", "teams.town.workers=2,2", "x", "=1"])),
    st.tuples(st.sampled_from(["--quiet", "--events", "--by-locality", "--bogus"])),
)


EXAMPLES, EXAMPLES_SLOW = 40, 300


def _case(command: str, flags: list[tuple[str, ...]], work: Path) -> None:
    out = work / "out"
    argv = [command, SCENARIO, *([SCENARIO] if command == "compare" else []), *SHORT, "--out", str(out)]
    if command != "run" and not any(f[0] == "--replications" for f in flags):
        argv += ["--replications", "2"]
    for flag in flags:
        argv += list(flag)
    before = set(work.parent.iterdir())
    cwd = os.getcwd()
    os.chdir(work)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refuses unknown flags and bad choices with exit 2
        code = exc.code
    finally:
        os.chdir(cwd)
    assert code in (0, 2), argv
    assert set(work.parent.iterdir()) == before, "nothing is written outside the fuzz case's folder"
    written = {p.relative_to(work).parts[0] for p in work.rglob("*")}
    assert written <= {"out"}, (argv, written)


def test_any_argument_list_succeeds_or_exits_2(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    examples = EXAMPLES_SLOW if request.config.getoption("--runslow") else EXAMPLES

    @settings(
        max_examples=examples,
        deadline=20_000,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(command=st.sampled_from(["run", "sweep", "compare"]), flags=st.lists(_FLAGS, max_size=5))
    def case(command: str, flags: list[tuple[str, ...]]) -> None:
        _case(command, flags, tmp_path_factory.mktemp("fuzz"))

    case()

"""Shared fixtures. Slow statistical tests run only with ``--runslow`` (CI passes it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import settings

# Property tests draw the same examples on every run and machine (fixed seeds, as every test
# here), whatever a local example database holds: a failure in CI is one anyone can replay.
settings.register_profile("ehsim", derandomize=True, database=None)
settings.load_profile("ehsim")


ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow statistical test: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n`` and xdist's default ``--dist load``, send each test file to one worker
    (LoadScope): a file's module fixtures (a report's results folders, a council's batch) are
    then built once, not once per worker (fast run 2m30s instead of 2m44s-3m43s on 2 cores).
    An explicit other ``--dist`` is left alone; without xdist this hook is never called."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    return LoadScopeScheduling(config, log)


def raw_config(name: str) -> dict[str, Any]:
    """A shipped scenario file as a plain mapping (for building variants in tests)."""
    data = yaml.safe_load((CONFIGS / name).read_text())
    assert isinstance(data, dict)
    return data


def mmc_dict(*, rate_per_day: float, workers: int, cap: int, mean: float, days: float, warmup: float) -> dict[str, Any]:
    """The M/M/c reduction with the given parameters."""
    d = raw_config("validation/mmc.yaml")
    d["referrals"]["sources"]["all"]["annual_rate"] = rate_per_day * 365
    d["teams"]["town"] = {"workers": workers, "caseload_cap": cap}
    d["early_help"]["duration"] = {"dist": "exponential", "mean": mean}
    d["run"]["duration_days"] = days
    d["run"]["warmup_days"] = warmup
    return d

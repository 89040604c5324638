"""The arguments every batch takes (replications, seed, backend, workers, scheduler,
precision), checked together before any work: one problem per bad argument, each named."""

from __future__ import annotations

from typing import Any

from sim.backends import BACKENDS
from sim.errors import ArgumentError

__all__ = ["MAX_REPLICATIONS", "MAX_SEED", "check_batch_args", "check_seed"]

MAX_SEED = 2**63 - 1
"""Seeds are stored as 64-bit integers."""


def _seed_problem(seed: Any) -> str | None:
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        return f"must be a whole number from 0 to 2**63 - 1, got {seed!r}"
    return None


def check_seed(seed: Any) -> None:
    problem = _seed_problem(seed)
    if problem:
        raise ArgumentError("seed", problem)


def check_batch_args(
    replications: Any, seed: Any, backend: str, workers: int | None, scheduler: str | None, precision: float = 0.05
) -> None:
    """Every argument of a batch, checked before any work is done; one problem per bad argument."""
    problems: list[tuple[str, str]] = []
    if not isinstance(replications, int) or isinstance(replications, bool) or replications < 1:
        problems.append(("replications", f"must be a whole number >= 1, got {replications!r}"))
    elif replications > MAX_REPLICATIONS:
        problems.append(("replications", f"must be <= {MAX_REPLICATIONS:,}, got {replications:,}"))
    seed_problem = _seed_problem(seed)
    if seed_problem:
        problems.append(("seed", seed_problem))
    if backend not in BACKENDS:
        problems.append(("backend", f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}"))
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        problems.append(("workers", f"must be a whole number >= 1, got {workers!r}"))
    elif workers is not None and backend == "serial":
        problems.append(("workers", "only used with the process or dask backend, got backend 'serial'"))
    if scheduler is not None and backend != "dask":
        problems.append(("scheduler", f"only used with the dask backend, got backend {backend!r}"))
    if not (isinstance(precision, (int, float)) and 0 < precision < 1):
        problems.append(("precision", f"must be a fraction between 0 and 1 (e.g. 0.05), got {precision!r}"))
    if problems:
        raise ArgumentError(*problems[0], *problems[1:])


MAX_REPLICATIONS = 100_000
"""More replications than this per scenario is almost certainly a typo."""

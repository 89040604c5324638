"""Golden regression tables (issue 14, point 3): change detectors, not proof of correctness.

Each bundled scenario family is run for one short year (365 days, 90 of them warm-up), two
replications at a fixed seed, and a handful of KPIs (the headline list plus a few cost and
flow KPIs) are compared *exactly* with the pinned tables in ``tests/golden/*.csv``.

These tables say only that the numbers have not moved. They were produced by the model
itself, so they cannot show the numbers are right: the known-answer tests
(``test_mechanisms_*.py``), the CRN tests and the Erlang C validation do that. What they
catch is a change that moves any bundled scenario's numbers without anyone meaning it
(a refactor that changes the order of random draws, a KPI window off by one, a config
default that changed). Exact comparison is deliberate; a new NumPy/SciPy version or
platform may also move the last digits, which is worth knowing too.

A change that is meant to move the numbers regenerates them with
``.venv/bin/python -m tests.golden.regenerate`` and says so in its commit message (which
tables moved and why). The spec (scenarios, seed, horizon, KPIs) is in
``tests/golden/regenerate.py``.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from tests.golden.regenerate import KPIS, REGENERATE, REPLICATIONS, SCENARIOS, compute, path


def _advice(name: str) -> str:
    return (
        f"\nThe golden table tests/golden/{name}.csv no longer matches the model. If this change is "
        f"meant to move the numbers, regenerate the tables with\n    {REGENERATE}\n"
        "and say in the commit message that the golden tables moved, which ones and why. "
        "If it is not meant to, this is a regression: find what changed the numbers."
    )


def _read(name: str) -> list[list[str]]:
    """The pinned table as text; ``float(repr(x)) == x`` for every float, so parsing the
    cells with ``float`` gives back exactly the numbers that were written."""
    with path(name).open(newline="") as f:
        return list(csv.reader(f))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_golden_table_is_unchanged(name: str) -> None:
    header, *rows = _read(name)
    assert header == ["kpi", *(f"rep_{r}" for r in range(REPLICATIONS))], "replication columns" + _advice(name)
    assert [row[0] for row in rows] == list(KPIS), "the pinned KPI list changed" + _advice(name)
    want = np.array([[float(v) for v in row[1:]] for row in rows])
    fresh = compute(name)
    got = np.array([fresh[k] for k in KPIS], dtype=float)
    diffs = [
        f"  {kpi} rep {r}: pinned {float(want[i, r])!r}, now {float(got[i, r])!r}"
        for i, kpi in enumerate(KPIS)
        for r in range(REPLICATIONS)
        if not _same(got[i, r], want[i, r])
    ]
    assert not diffs, "KPIs that moved:\n" + "\n".join(diffs) + _advice(name)
    np.testing.assert_array_equal(got, want, err_msg=_advice(name))

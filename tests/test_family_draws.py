"""Families drawn a block at a time (FamilyMaker, numpy) are the families Family.draw gives one
at a time from the same uniforms: same attributes, same position in the family's stream."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

import sim
from sim.model.family import AttributeTables, Family, FamilyMaker
from sim.random import _EXTEND, ARRIVING_FAMILIES, BLOCK, UNIFORMS_PER_FAMILY, FamilyStreams

_CONFIGS = {
    "mmc": ("configs/validation/mmc.yaml", {}),
    "baseline": ("configs/baseline.yaml", {}),
    # localities with their own need mix (growth switched off: with growth the maker draws
    # one at a time, which this test would not exercise)
    "worcestershire": (
        "configs/worcestershire/baseline.yaml",
        {f"localities.{name}.annual_growth": 0.0 for name in ("redditch", "worcester", "wyre_forest")},
    ),
    # many children: some rows use up their uniforms before the need is drawn (a mean of 40,
    # above what a scenario may ask for, family.children_mean <= 10: the table is set below)
    "large_families": ("configs/validation/mmc.yaml", {}),
}
_LARGE_CHILDREN_CUM = tuple(stats.poisson.cdf(np.arange(120), 39.0).tolist())
"""1 + Poisson(39) children: some rows have more children than their row of uniforms holds."""


def _attrs(fam: Family) -> tuple[object, ...]:
    # the next uniform checks the stream's position, not only the values drawn
    # (the risk: computed for the block in one vectorised call, or for one family when asked)
    return (fam.id, fam.locality, fam.ages, fam.need, fam._risk_beta, fam._u_risk, fam.risk, fam.initial, fam.rng.u())


@pytest.mark.parametrize("name", sorted(_CONFIGS))
def test_block_draws_equal_one_at_a_time(name: str) -> None:
    path, overrides = _CONFIGS[name]
    tables = AttributeTables.build(sim.load_scenario(path, overrides=overrides))
    if name == "large_families":
        tables = dataclasses.replace(tables, children_cum=_LARGE_CHILDREN_CUM)
    assert not tables.locality_growth
    if name == "worcestershire":
        assert tables.need_cum_by_locality
    n = 2 * BLOCK + 7  # across block boundaries
    one = FamilyStreams(7, 3)
    maker = FamilyMaker(FamilyStreams(7, 3), tables)
    drawn = [_attrs(Family.draw(i, one.family(i), tables)) for i in range(n)]
    made = [_attrs(maker.make(i, i)) for i in range(n)]
    assert made == drawn
    if name == "large_families":  # the fallback was taken for some rows
        u = FamilyStreams(7, 3).block(0)[0]
        assert min(tables.draw_block(u)[5]) == -1


def test_risk_scores_left_to_each_family_are_the_block_scores() -> None:
    # a maker that leaves the risk scores out (a run that never asks for them) makes the same
    # families, and each computes on demand the score the block would have given (exactly)
    tables = AttributeTables.build(sim.load_scenario("configs/baseline.yaml"))
    n = BLOCK + 9
    eager, lazy = FamilyMaker(FamilyStreams(7, 3), tables), FamilyMaker(FamilyStreams(7, 3), tables, False)
    made = [eager.make(i, i) for i in range(n)]
    left = [lazy.make(i, i) for i in range(n)]
    assert all(f._risk is not None for f in made) and all(f._risk is None for f in left)
    assert [_attrs(f) for f in left] == [_attrs(f) for f in made]


def test_ages_at_band_edges() -> None:
    tables = AttributeTables.build(sim.load_scenario("configs/baseline.yaml"))
    bands = ((0, 0), (1, 4), (5, 9), (10, 15), (16, 17))  # the second has no share
    tables = dataclasses.replace(tables, age_cum=(0.0, 0.25, 0.25, 0.75, 1.0), age_bands=bands)
    # uniforms exactly at the cumulative shares, just below them, 0 and just below 1
    u = np.array([0.0, 0.25, np.nextafter(0.25, 0), 0.75, np.nextafter(0.75, 0), 0.5, np.nextafter(1.0, 0)])
    assert tables._ages(u).tolist() == [tables.age(float(x)) for x in u]


def test_stream_runs_on_into_its_extensions() -> None:
    # a family's uniforms: the rest of its row of the block from `pos`, then extension 1,
    # 2, ... (spawn_key=(rep, kind, _EXTEND, index, n)), 48 each; after release, the next
    # extension (the buffer is gone)
    seed, rep, index, pos = 7, 3, BLOCK + 5, 6

    def gen(*key: int) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))

    row = gen(rep, ARRIVING_FAMILIES, 1).random((BLOCK, UNIFORMS_PER_FAMILY))[5]
    ext = [gen(rep, ARRIVING_FAMILIES, _EXTEND, index, n).random(UNIFORMS_PER_FAMILY) for n in (1, 2, 3)]
    expected = [*row[pos:], *ext[0], *ext[1]]
    rng = FamilyStreams(seed, rep).family(index, pos)
    assert [rng.u() for _ in expected] == [float(x) for x in expected]
    rng.release()
    assert rng.u() == ext[2][0]

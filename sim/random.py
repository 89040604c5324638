"""Random streams for one replication.

No global state: every generator is built from ``SeedSequence(seed, spawn_key=(rep, ...))``,
so replication ``rep`` gets the same numbers whichever process or backend runs it.

Two kinds of stream:

* the **arrival stream** (``spawn_key=(rep, ARRIVALS)``) draws referral times and sources;
  it does not depend on anything the model does, so scenarios that share an arrival
  configuration see identical referrals;
* **family streams**: family ``i`` owns a private sequence of uniforms, drawn in blocks
  (``spawn_key=(rep, kind, i // BLOCK)``, a row per family) and extended, if a long
  history uses them up, from ``spawn_key=(rep, kind, EXTEND, i, n)``. Attributes and every
  decision about that family (durations, hazards, outcomes) read from it, so two scenarios
  run with the same seed see the same families with the same fates until their paths
  diverge: common random numbers.
"""

from __future__ import annotations

from array import array

import numpy as np

__all__ = ["ARRIVALS", "FamilyRandom", "FamilyStreams", "arrival_generator", "sc_arrival_generator"]

ARRIVALS = 0
ARRIVING_FAMILIES = 1
INITIAL_FAMILIES = 2
SC_ARRIVALS = 3
SC_FAMILIES = 4
SC_INITIAL_FAMILIES = 5
_EXTEND = 99

_RELEASED = array("d")
"""The buffer of every released stream (one shared empty array, never written to)."""

BLOCK = 256
"""Families per generated block of uniforms."""
UNIFORMS_PER_FAMILY = 48
"""Uniforms in a family's first block; a family that needs more gets an extension."""


def _generator(seed: int, key: tuple[int, ...]) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def arrival_generator(seed: int, rep: int) -> np.random.Generator:
    """The generator for referral times and sources of replication ``rep``."""
    return _generator(seed, (rep, ARRIVALS))


def sc_arrival_generator(seed: int, rep: int) -> np.random.Generator:
    """The generator for referral times and sources straight to social care (its own stream,
    so that adding social care inflow leaves early help referrals unchanged)."""
    return _generator(seed, (rep, SC_ARRIVALS))


class FamilyRandom:
    """A family's own sequence of uniforms in ``[0, 1)``; :meth:`u` returns the next one."""

    __slots__ = ("_base", "_buf", "_extensions", "_index", "_pos", "_seed")

    def __init__(self, buf: array[float], seed: int, base: tuple[int, ...], index: int, pos: int = 0):
        self._buf = buf
        self._pos = pos
        self._seed = seed
        self._base = base  # (rep, kind, EXTEND), shared by the stream's families
        self._index = index
        self._extensions = 0

    def release(self) -> None:
        """Free the buffer (the family's history is over); a later draw would extend the stream."""
        self._buf = _RELEASED
        self._pos = 0

    def u(self) -> float:
        pos = self._pos
        try:  # (no len() call: a try costs nothing until the buffer runs out)
            x = self._buf[pos]
        except IndexError:  # pos == len(buffer): the next block of the family's stream
            self._extensions += 1
            gen = _generator(self._seed, (*self._base, self._index, self._extensions))
            self._buf = array("d", gen.random(UNIFORMS_PER_FAMILY).tobytes())
            pos = 0
            x = self._buf[0]
        self._pos = pos + 1
        return x


class FamilyStreams:
    """Hands out :class:`FamilyRandom` objects keyed by ``(kind, index)``."""

    def __init__(self, seed: int, rep: int, kind: int = ARRIVING_FAMILIES):
        self._seed = seed
        self._rep = rep
        self._kind = kind
        self._base = (rep, kind, _EXTEND)
        self._block_no = -1
        self._block: np.ndarray = np.empty((0, UNIFORMS_PER_FAMILY))
        self._uniforms = array("d")
        """The current block as one typed array (a family's row is a slice of it)."""

    def block(self, index: int) -> tuple[np.ndarray, int]:
        """The block of uniforms holding family ``index``'s first ones (a row per family),
        and its row."""
        block_no, row = divmod(index, BLOCK)
        if block_no != self._block_no:
            gen = _generator(self._seed, (self._rep, self._kind, block_no))
            self._block = gen.random((BLOCK, UNIFORMS_PER_FAMILY))
            self._uniforms = array("d")
            self._uniforms.frombytes(memoryview(self._block).cast("B"))  # type: ignore[arg-type]  # one copy
            self._block_no = block_no
        return self._block, row

    def family(self, index: int, pos: int = 0) -> FamilyRandom:
        """Family ``index``'s stream; ``pos`` uniforms of it already used (drawn from
        :meth:`block` by whoever created the family)."""
        _, row = self.block(index)
        return self.in_block(index, row, pos)

    def in_block(self, index: int, row: int, pos: int = 0) -> FamilyRandom:
        """:meth:`family` for a family whose block is the current one, at ``row`` of it."""
        # a typed array (a slice of the block's: one C call): 8 bytes a uniform, not a boxed
        # float and a list slot (~4x smaller for the families alive at once), and indexing it
        # gives the same Python float
        start = row * UNIFORMS_PER_FAMILY
        return FamilyRandom(self._uniforms[start : start + UNIFORMS_PER_FAMILY], self._seed, self._base, index, pos)

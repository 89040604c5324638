"""A family's level of need between episodes: a small continuous-time Markov chain.

Why this form
-------------
The evidence on what happens after a case closes is a handful of cumulative shares over
time (re-referred within 12 months, at least once within about 5 years, care entries two
years after joining a programme), with a hazard that falls with time since closure: 25%
within one year but only about 55% within five, where a constant hazard would give 76%.
A chain of the four levels of need the model already uses, with an absorbing "left" state,
gives that fall without a separate frailty distribution: families still in high need are
re-referred early, those whose need eased or who left are not. Its closed form
(``expm(Q t)``) is what calibration and the tests use, and it has few, readable parameters:

* ``worsen_per_year`` / ``improve_per_year``: the rate of moving one level up or down (need
  that worsens without help, or eases by itself);
* ``rereferral_per_year``: the hazard of a new referral at each level;
* ``leave_per_year``: children grown up, families moved away (absorbing, no more referrals);
* ``exits``: how the last episode ended moves the level at closure (help that met its
  outcomes lowers need by a level) and scales the re-referral hazard until the next referral.

States ``0..3`` are levels 1-4, :data:`LEFT` and :data:`REFERRED` are absorbing. The path
is drawn by the Gillespie method from the family's own stream (two uniforms per jump, in a
fixed order), so common random numbers between options hold.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sim.config.social_care import Needs
from sim.vocab import NEED_LEVELS

__all__ = ["LEFT", "REFERRED", "Chain", "path", "rate_matrix", "referred_by", "start_level", "worsen_matrix"]

LEVELS = len(NEED_LEVELS)
LEFT = LEVELS
"""State index: the family has left (no more referrals)."""
REFERRED = LEVELS + 1
"""State index: the family has been referred again."""


def rate_matrix(needs: Needs, exit_kind: str) -> np.ndarray:
    """The generator ``Q`` (per day) of the chain after an exit of kind ``exit_kind``.

    Parameters
    ----------
    needs : Needs
        The scenario's need dynamics.
    exit_kind : str
        A key of ``needs.exits`` (:data:`sim.vocab.NEED_EXITS`).

    Returns
    -------
    numpy.ndarray
        ``(6, 6)`` rate matrix: rows sum to zero; the last two states are absorbing.
    """
    q = np.zeros((LEVELS + 2, LEVELS + 2))
    mult = needs.exits[exit_kind].rereferral_multiplier
    for i, level in enumerate(NEED_LEVELS):
        if i < LEVELS - 1:
            q[i, i + 1] = needs.worsen_per_year[level]
        if i > 0:
            q[i, i - 1] = needs.improve_per_year[level]
        q[i, LEFT] = needs.leave_per_year
        q[i, REFERRED] = needs.rereferral_per_year[level] * mult
    q /= 365.0
    np.fill_diagonal(q, -q.sum(axis=1))
    return q


def worsen_matrix(needs: Needs) -> np.ndarray:
    """The generator (per day) of the chain's upward moves alone: need worsening without help,
    as while a family waits (``needs.worsen_while_waiting``). States ``0..3`` are levels 1-4;
    level 4 is absorbing. ``expm(Q t)`` gives the level after ``t`` days of waiting."""
    q = np.zeros((LEVELS, LEVELS))
    for i, level in enumerate(NEED_LEVELS[:-1]):
        q[i, i + 1] = needs.worsen_per_year[level] / 365.0
    np.fill_diagonal(q, -q.sum(axis=1))
    return q


def start_level(needs: Needs, exit_kind: str, need: int) -> int:
    """The level (1-4) a family with level ``need`` is at when an episode ends this way."""
    return min(LEVELS, max(1, need + needs.exits[exit_kind].level_change))


class Chain:
    """A generator matrix ``Q`` as the plain floats :func:`path` walks: for each state, its
    total rate of leaving and its moves (destination, rate) in column order. ``path`` runs
    once per closed episode (and per wait with worsening need), and indexing a numpy matrix
    element by element costs several times the same arithmetic on Python floats; the values
    are the matrix's own, so every path is the same.

    Parameters
    ----------
    q : numpy.ndarray
        Generator (per day), as :func:`rate_matrix` or :func:`worsen_matrix` give it.
    """

    __slots__ = ("moves", "q", "rates")

    def __init__(self, q: np.ndarray):
        self.q = q
        n = q.shape[0]
        rows = q.tolist()  # the same doubles, as Python floats
        self.rates: list[float] = [-rows[i][i] for i in range(n)]
        self.moves: list[list[tuple[int, float]]] = [[(j, rows[i][j]) for j in range(n) if j != i] for i in range(n)]


def path(q: np.ndarray | Chain, state: int, u: Callable[[], float], horizon: float) -> list[tuple[float, int]]:
    """A path of the chain from ``state`` until it is absorbed or ``horizon`` days pass.

    Parameters
    ----------
    q : numpy.ndarray or Chain
        Generator from :func:`rate_matrix` (per day), or its :class:`Chain` (built once by
        the caller that draws many paths).
    state : int
        Starting state (0-based level).
    u : callable
        The family's uniform stream; each jump reads two uniforms (holding time, then
        destination), so the order is fixed.
    horizon : float
        Days to follow the chain.

    Returns
    -------
    list of (float, int)
        ``(time, state)`` pairs: the start ``(0, state)`` and every jump up to ``horizon``.
    """
    chain = q if isinstance(q, Chain) else Chain(q)
    rates, moves = chain.rates, chain.moves
    out = [(0.0, state)]
    t = 0.0
    while True:
        rate = rates[state]
        if rate <= 0:
            return out
        t += -math.log1p(-u()) / rate
        if t >= horizon:
            return out
        x, acc = u() * rate, 0.0
        nxt = state
        for j, q_j in moves[state]:
            acc += q_j
            nxt = j
            if x < acc:
                break
        state = nxt
        out.append((t, state))


def referred_by(q: np.ndarray, state: int, days: float | np.ndarray) -> np.ndarray:
    """Closed form: probability of a new referral within ``days`` from ``state``
    (the ``REFERRED`` entry of ``expm(Q t)``)."""
    from scipy import linalg  # here: a replication never calls this, and scipy.linalg is ~6 MiB

    days = np.atleast_1d(np.asarray(days, dtype=float))
    return np.array([linalg.expm(q * d)[state, REFERRED] for d in days])

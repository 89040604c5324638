"""Caseload pools: finite capacity in caseload units, shared by the families on a list.

A :class:`CaseloadPool` holds ``capacity`` units (workers in post x their maximum weighted
caseload); a family takes ``units`` (its complexity weight, 1 by default) for the length of
its plan. Requests wait first in, first out, or highest risk first; the head of the list
waits until enough units are free (no overtaking, as on a real allocation list). The
capacity can change while the model runs (vacancies, new starters, dated policy changes);
a fall below the units held takes nothing away from families already allocated, it only
stops new allocations until enough plans close.

With one unit per family and a fixed capacity this is exactly ``simpy.Resource`` (or
``PriorityResource``): the same grants at the same instants, in the same order of events
(a release frees its units at once and serves the list when its release event is
processed, as SimPy's does), so the
M/M/c validation holds unchanged. Cancelling a request (a family that withdraws or
escalates) marks it and costs O(1): cancelled requests are dropped when they reach the head.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from typing import TYPE_CHECKING, Any

import simpy

if TYPE_CHECKING:
    from sim.model.family import Family

__all__ = ["CaseloadPool", "CaseloadService", "PoolRequest"]


class PoolRequest(simpy.Event):
    """A family's place on a pool's list; succeeds when its units are allocated."""

    __slots__ = ("cancelled", "units")

    def __init__(self, env: simpy.Environment, units: float):
        super().__init__(env)
        self.units = units
        self.cancelled = False

    def cancel(self) -> None:
        """Leave the list (no effect once allocated: release the units instead)."""
        if not self.triggered:
            self.cancelled = True


class CaseloadPool:
    """A list of families waiting for caseload units; FIFO or highest risk first."""

    __slots__ = ("_fifo", "_heap", "_seq", "by_risk", "capacity", "env", "held", "name")

    def __init__(self, env: simpy.Environment, name: str, capacity: float, by_risk: bool = False):
        self.env = env
        self.name = name
        self.capacity = float(capacity)
        self.by_risk = by_risk
        self.held = 0.0
        self._fifo: deque[PoolRequest] = deque()
        self._heap: list[tuple[float, int, PoolRequest]] = []
        self._seq = itertools.count()

    def request(self, units: float = 1.0, risk: float = 0.0, polled: bool = False) -> PoolRequest:
        """Join the list for ``units``; allocated at once if the list is empty and units are free.

        ``polled``: the caller reads ``triggered`` right away and never yields a request
        allocated at once, so such a request is marked processed without scheduling its
        event (nothing would wait for it: one scheduler step less, the same order of every
        other event)."""
        req = PoolRequest(self.env, units)
        if polled and self._head() is None and self.held + units <= self.capacity + 1e-9:
            self.held += units
            req._ok = True
            req._value = None
            req.callbacks = None  # type: ignore[assignment]
            return req
        if self.by_risk:
            heapq.heappush(self._heap, (-risk, next(self._seq), req))
        else:
            self._fifo.append(req)
        self._dispatch()
        return req

    def hold(self, units: float) -> PoolRequest:
        """Units allocated at once, whatever the capacity (a case already open at day 0); the
        list is not served until enough units are free."""
        req = PoolRequest(self.env, units)
        self.held += units
        req.succeed()
        return req

    def release(self, req: PoolRequest) -> None:
        """Free the units of an allocated request. As in SimPy, the units are free at once
        (a request made in the same instant finds them), and the list is served when the
        release event is processed. With nobody on the list no event is needed: a request
        made later finds the units itself, so the release event is skipped (one scheduler
        step less; the order of every other event is unchanged)."""
        self.held -= req.units
        if self._head() is None:
            return
        done = simpy.Event(self.env)  # triggered at once: succeed() without its checks
        done.callbacks.append(self._dispatch_cb)
        done._ok = True
        done._value = None
        self.env.schedule(done)

    def set_capacity(self, capacity: float) -> None:
        """A new capacity from now on (families already allocated keep their units)."""
        self.capacity = float(capacity)
        self._dispatch()

    @property
    def waiting(self) -> int:
        """Families on the list (cancelled places not yet dropped are not counted)."""
        queue: Any = self._heap if self.by_risk else self._fifo
        return sum(1 for item in queue if not (item[2] if self.by_risk else item).cancelled)

    def _dispatch_cb(self, _event: simpy.Event) -> None:
        self._dispatch()

    def _head(self) -> PoolRequest | None:
        if self.by_risk:
            while self._heap and self._heap[0][2].cancelled:
                heapq.heappop(self._heap)
            return self._heap[0][2] if self._heap else None
        while self._fifo and self._fifo[0].cancelled:
            self._fifo.popleft()
        return self._fifo[0] if self._fifo else None

    def _dispatch(self) -> None:
        while (head := self._head()) is not None and self.held + head.units <= self.capacity + 1e-9:
            if self.by_risk:
                heapq.heappop(self._heap)
            else:
                self._fifo.popleft()
            self.held += head.units
            head.succeed()


class CaseloadService:
    """A caseload list (a :class:`CaseloadPool`); each family takes one unit."""

    __slots__ = ("by_risk", "name", "pool")

    def __init__(self, env: simpy.Environment, name: str, slots: float, by_risk: bool):
        self.name = name
        self.by_risk = by_risk
        self.pool = CaseloadPool(env, name, slots, by_risk)

    def request(self, fam: Family, units: float = 1.0, polled: bool = False) -> PoolRequest:
        """See :meth:`CaseloadPool.request` (``polled``: the caller checks ``triggered``)."""
        return self.pool.request(units, fam.risk if self.by_risk else 0.0, polled)

    def release(self, req: PoolRequest) -> None:
        self.pool.release(req)

"""Caseload pools: finite capacity in caseload units, shared by the families on a list.

A :class:`CaseloadPool` holds ``capacity`` units (workers in post x their maximum weighted
caseload); a family takes ``units`` (its complexity weight, 1 by default) for the length of
its plan. Requests wait first in, first out, or highest risk first; the head of the list
waits until enough units are free (no overtaking, as on a real allocation list). The
capacity can change while the model runs (vacancies, new starters, dated policy changes);
a fall below the units held takes nothing away from families already allocated, it only
stops new allocations until enough plans close.

With one unit per family and a fixed capacity this gives the grants of ``simpy.Resource`` (or
``PriorityResource``): the same families served at the same instants, in the same order, so the
M/M/c validation holds unchanged. Two steps less than SimPy's: a release frees its units,
serves the list and resumes the families it serves at once, in the releasing family's step
(SimPy serves the list when a Release event of its own is processed, and each family served
when its request's event is, a step later); only the order of events at the same instant can
differ from SimPy's. Cancelling a request (a family that withdraws or escalates) marks it and costs O(1):
cancelled requests are dropped when they reach the head.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from typing import TYPE_CHECKING, Any

import simpy
from simpy.events import PENDING

from sim.model.common import Place

if TYPE_CHECKING:
    from sim.model.family import Family

__all__ = ["CaseloadPool", "CaseloadService", "PoolRequest"]


class PoolRequest(Place):
    """A family's place on a pool's list; succeeds when its units are allocated."""

    __slots__ = ("units",)

    def __init__(self, env: simpy.Environment, units: float):
        # Place.__init__'s fields set here (one Python call less a request)
        self.env = env
        self.callbacks = []
        self._value = PENDING
        self.cancelled = False
        self.joined = env._now
        self.units = units


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
        if self.by_risk:
            head = self._head()
        else:  # _head() inline: the hot path of every stage
            fifo = self._fifo
            while fifo and fifo[0].cancelled:
                fifo.popleft()
            head = fifo[0] if fifo else None
        if polled and head is None and self.held + units <= self.capacity + 1e-9:
            self.held += units
            req._ok = True
            req._value = None
            req.callbacks = None  # type: ignore[assignment]
            return req
        if self.by_risk:
            heapq.heappush(self._heap, (-risk, next(self._seq), req))
            self._dispatch()
        else:
            self._fifo.append(req)
            # behind a head that does not fit, serving the list would serve no one
            if head is None or self.held + head.units <= self.capacity + 1e-9:
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
        """Free the units of an allocated request and serve the list at once: the families
        it now admits are triggered in this step (no Release event in between)."""
        self.held -= req.units
        self._dispatch()

    def set_capacity(self, capacity: float) -> None:
        """A new capacity from now on (families already allocated keep their units)."""
        self.capacity = float(capacity)
        self._dispatch()

    def discard(self) -> list[PoolRequest]:
        """Empty the list (the run is over) and return the requests that were on it."""
        places = [item[2] for item in self._heap] + list(self._fifo)
        self._heap.clear()
        self._fifo.clear()
        return places

    @property
    def waiting(self) -> int:
        """Families on the list (cancelled places not yet dropped are not counted)."""
        queue: Any = self._heap if self.by_risk else self._fifo
        return sum(1 for item in queue if not (item[2] if self.by_risk else item).cancelled)

    def _head(self) -> PoolRequest | None:
        if self.by_risk:
            while self._heap and self._heap[0][2].cancelled:
                heapq.heappop(self._heap)
            return self._heap[0][2] if self._heap else None
        while self._fifo and self._fifo[0].cancelled:
            self._fifo.popleft()
        return self._fifo[0] if self._fifo else None

    def _dispatch(self) -> None:
        """Serve the list from its head while the head's units are free (cancelled places are
        dropped on the way), then resume the families served, in list order, here and now:
        each place is triggered and processed in this step (as :class:`Deadlines` wakes a
        family at its deadline), not scheduled for a step of its own."""
        fifo = self._fifo
        if not fifo and not self._heap:
            return  # nobody on the list (the usual case with room): nothing to do
        cap = self.capacity + 1e-9
        served: list[PoolRequest] = []
        if self.by_risk:
            while (head := self._head()) is not None and self.held + head.units <= cap:
                heapq.heappop(self._heap)
                self.held += head.units
                served.append(head)
        else:
            held = self.held
            while fifo:
                head = fifo[0]
                if head.cancelled:
                    fifo.popleft()
                elif held + head.units <= cap:
                    fifo.popleft()
                    held += head.units
                    served.append(head)
                else:
                    break
            self.held = held
        # the list is consistent before anyone resumes (a family resumed here may request or
        # release on this pool: a dispatch of its own, complete before the next family resumes)
        for head in served:
            head._ok = True
            head._value = None
            callbacks, head.callbacks = head.callbacks, None  # type: ignore[assignment]
            for callback in callbacks:
                callback(head)


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

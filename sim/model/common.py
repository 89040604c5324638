"""Small definitions the model's modules share: a process, a handler's step, where a step
leads besides another stage (and where each plan leads), the one way a uniform picks a
category, the Poisson inverse CDF, the deadlines of waiting families and a process started at once."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Generator
from heapq import heappush
from typing import TYPE_CHECKING, Any, Protocol

import simpy
from simpy.events import NORMAL, PENDING, URGENT

from sim.vocab import SOCIAL_CARE, Exit, Stage

if TYPE_CHECKING:
    from sim.model.family import Family
    from sim.records import EventLog

__all__ = [
    "CLOSED",
    "DONE",
    "LEVEL2_NEXT",
    "LEVEL3_NEXT",
    "Deadlines",
    "KindLogger",
    "Place",
    "Proc",
    "RowLogger",
    "StartedProcess",
    "Step",
    "arrivals",
    "choose",
    "hold",
    "poisson_ppf",
    "row_loggers",
]

Step = tuple[str, str]  # (next stage, or CLOSED / SOCIAL_CARE with an Exit, or DONE)
CLOSED, DONE = str(Stage.CLOSED), "done"
"""Where a handler's step leads besides another stage: the episode closes (with an
:class:`~sim.vocab.Exit`), escalates to social care (with the Exit saying how), or the
family's history ends."""
Proc = Generator[simpy.Event, Any, Any]


def choose(u: float, probs: dict[str, float], keys: tuple[str, ...]) -> str:
    """The category a uniform falls in, walking ``keys`` in a fixed order (not the YAML's)."""
    acc = 0.0
    for key in keys:
        acc += probs[key]
        if u < acc:
            return key
    return keys[-1]  # rounding: the probabilities sum to 1 within 1e-6


LEVEL2_NEXT: dict[str, Step] = {
    "completed": (CLOSED, Exit.OUTCOMES_MET),
    "step_up": ("level3", ""),
    "step_down": (CLOSED, Exit.STEPPED_DOWN),
    "disengage": (CLOSED, Exit.DISENGAGED),
}
"""Where a Level 2 (partner) plan leads, by how it ended."""
LEVEL3_NEXT: dict[str, Step] = {
    "completed": (CLOSED, Exit.OUTCOMES_MET),
    "step_up": (SOCIAL_CARE, Exit.STEP_UP_DURING_PLAN),
    "step_down": ("level2", ""),
    "disengage": (CLOSED, Exit.DISENGAGED),
}
"""Where a Level 3 (key worker) plan leads, by how it ended."""


if TYPE_CHECKING:
    _Event = simpy.Event
    _Process = simpy.Process
else:  # at run time slotted classes of their own (SimPy's events keep a __dict__ each)
    _Event = _Process = object


class Place(_Event):
    """A family's place in a queue (a caseload request, a panel ticket): triggered when the
    family is served; cancelling it (the family leaves) only marks it, and the queue drops it
    when it comes to it.

    An event to SimPy's scheduler and processes (``callbacks``, ``_ok``, ``_value``, as
    :class:`simpy.Event`) in one slotted object: no ``__dict__`` beside it (thousands wait on
    an overloaded list, each read again when served); ``joined``: when it was made (the
    family joined the queue)."""

    __slots__ = ("__weakref__", "_ok", "_value", "callbacks", "cancelled", "env", "joined")

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.callbacks = []
        self._value = PENDING
        self.cancelled = False
        self.joined = env._now

    @property
    def triggered(self) -> bool:
        """Served (or, after a deadline, cancelled and woken)."""
        return self._value is not PENDING

    def succeed(self, value: Any = None) -> Place:
        """Trigger the place now (as :meth:`simpy.Event.succeed`)."""
        if self._value is not PENDING:
            raise RuntimeError(f"{self} has already been triggered")
        self._ok = True
        self._value = value
        self.env.schedule(self)
        return self

    def cancel(self) -> None:
        """Leave the queue (no effect once served)."""
        if self._value is PENDING:
            self.cancelled = True


class _Alarm(simpy.Event):
    """The event :class:`Deadlines` schedules at its earliest deadline: triggered, with ``ring``
    its one callback (simpy.Event's set-up and succeed() in one)."""

    def __init__(self, env: simpy.Environment, ring: Callable[[simpy.Event], None]):
        self.env = env
        self.callbacks = [ring]
        self._ok = True
        self._value = None


_COMPACT_AT = 256
"""The smallest heap :class:`Deadlines` compacts."""


class Deadlines:
    """The deadlines of the families waiting with a hazard of leaving, behind one alarm.

    A family waits on its place alone (a caseload request, a panel ticket): served, it resumes
    when the place is processed (a caseload list's in the step of the release that served it,
    :meth:`~sim.model.pools.CaseloadPool.release`). Its deadline waits in a heap of its own
    (by time, then by when it was set) and the scheduler holds one alarm,
    at the earliest: no timeout per family (which would stay in the scheduler's queue until its
    time even when the family is served long before, as most are) and no condition or second
    event per family. When a deadline comes with the family still waiting, the alarm cancels
    its place and wakes it there and then, in the alarm's step: the family finds its place
    ``cancelled`` and leaves. A deadline whose family was served is dropped when it reaches
    the top, or when the heap is compacted; one at or after ``end`` (the run's horizon, as
    given to ``env.run(until=...)``) is never kept: it would not come.

    The heap holds the deadlines' times alone (floats: compared several times faster than
    ``(time, order, place)`` tuples, and a long list's heap compares a dozen entries a
    deadline); each time's place (or places, in the order they were set, so that one time
    twice keeps the order of time, then when set) is found in a dict.
    """

    __slots__ = ("_alarm", "_alarm_at", "_due", "_end", "_env", "_limit", "_times")

    def __init__(self, env: simpy.Environment, end: float = math.inf):
        self._env = env
        self._end = end
        self._times: list[float] = []
        self._due: dict[float, Place | list[Place]] = {}
        self._alarm: simpy.Event | None = None
        self._alarm_at = math.inf
        self._limit = _COMPACT_AT

    def add(self, place: Place, delay: float) -> None:
        """Cancel ``place`` and wake its family after ``delay`` unless it is triggered first
        (the family then yields ``place`` and checks ``place.cancelled``)."""
        at = self._env._now + delay  # the time simpy.Environment.schedule gives a timeout
        if at >= self._end:
            return  # it would come after the run (env.run(until=end) processes nothing at end)
        due = self._due
        other = due.setdefault(at, place)  # (one hash of ``at``)
        if other is not place:  # another deadline at the same time
            if isinstance(other, list):
                other.append(place)
            else:
                due[at] = [other, place]
        times = self._times
        heappush(times, at)
        if len(times) > self._limit:
            self._compact()
        if at < self._alarm_at:
            self._arm(at)

    def discard(self) -> None:
        """Forget every deadline and the alarm (the run is over)."""
        self._times.clear()
        self._due.clear()
        self._alarm, self._alarm_at = None, math.inf

    def _take(self, at: float) -> Place:
        """The first place due at ``at`` (its time just popped from the heap), forgotten."""
        due = self._due
        place = due.pop(at)
        if isinstance(place, list):
            first = place.pop(0)
            due[at] = place if len(place) > 1 else place[0]
            return first
        return place

    def _first(self, at: float) -> Place:
        """The first place due at ``at`` (the heap's top), kept."""
        place = self._due[at]
        return place[0] if isinstance(place, list) else place

    def _compact(self) -> None:
        """Drop the deadlines of families already served (a served family's deadline is
        otherwise kept until it reaches the top: with a low hazard, hundreds of days of
        served families). The order is total (time, then when set), so the live deadlines
        come due in the same order; the alarm is left as it is (if its deadline was dropped,
        it rings, finds nothing due and re-arms, as it did over the dead entry). Compacting
        when the heap has doubled since the last time costs O(1) a deadline."""
        due: dict[float, Place | list[Place]] = {}
        times: list[float] = []
        for at, place in self._due.items():
            if isinstance(place, list):
                live = [p for p in place if p._value is PENDING]
                if live:
                    due[at] = live if len(live) > 1 else live[0]
                    times += [at] * len(live)
            elif place._value is PENDING:
                due[at] = place
                times.append(at)
        heapq.heapify(times)
        self._due, self._times = due, times
        self._limit = max(2 * len(times), _COMPACT_AT)

    def _arm(self, at: float) -> None:
        """The alarm, at time ``at`` exactly (an earlier alarm is left to ring unheard)."""
        env = self._env
        alarm = _Alarm(env, self._ring)
        # at the absolute time, as the timeout was (now + (at - now) need not equal ``at``)
        heappush(env._queue, (at, NORMAL, next(env._eid), alarm))
        self._alarm, self._alarm_at = alarm, at

    def _ring(self, alarm: simpy.Event) -> None:
        if alarm is not self._alarm:
            return
        now = self._env._now
        # a woken family may set a new deadline (the heap can be compacted, so read it anew)
        while (times := self._times) and times[0] <= now:
            place = self._take(heapq.heappop(times))
            if place._value is not PENDING:
                continue  # served in time
            place.cancelled = True  # (cancel(): it is pending)
            place._ok = True  # processed here: succeed() and SimPy's step without the scheduler
            place._value = None
            callbacks, place.callbacks = place.callbacks, None  # type: ignore[assignment]
            for callback in callbacks:
                callback(place)
        times = self._times
        while times and self._first(times[0])._value is not PENDING:
            self._take(heapq.heappop(times))
        if times:
            self._arm(times[0])
        else:
            self._alarm, self._alarm_at = None, math.inf


class _Go:
    """The value a process's generator is started with (what SimPy's Initialize event carries)."""

    _ok = True
    _value = None


class StartedProcess(_Process):
    """``env.process(generator)`` with the generator run to its first yield at once, in the
    creator's step, instead of in an Initialize event of its own (one scheduler step less).

    The same order of events as ``env.process`` when the creator schedules nothing more in
    its step after this call and no urgent event (another process's start) is due now: the
    Initialize event would then be the very next event processed, so the generator's first
    part runs with the same events scheduled before and after it.

    When the generator returns and nothing waits for the process, the process's own event is
    not scheduled either (a step that would call nothing): for processes nobody yields, such
    as a family's history. A generator that raises fails the process as in SimPy.

    One slotted object (no ``__dict__``), and itself the callback of the event it waits on
    (calling it resumes it): no bound method made at each wait.
    """

    __slots__ = ("__weakref__", "_generator", "_ok", "_target", "_value", "callbacks", "env")

    def __init__(self, env: simpy.Environment, generator: Proc):
        # the fields simpy.Process.__init__ sets, without its Initialize event
        self.env = env
        self.callbacks = []
        self._value = PENDING
        self._generator = generator
        self._target = None  # type: ignore[assignment]
        self._resume(_Go)  # type: ignore[arg-type]

    @property
    def is_alive(self) -> bool:
        """The generator has not finished."""
        return self._value is PENDING

    @property
    def value(self) -> Any:
        """What the generator returned (once it has)."""
        if self._value is PENDING:
            raise AttributeError(f"Value of {self} is not yet available")
        return self._value

    def _resume(self, event: simpy.Event) -> None:
        """:meth:`simpy.Process._resume` for events that succeed (a failed event goes to
        SimPy's own), ending without scheduling the process when nobody waits for it."""
        env = self.env
        env._active_proc = self
        send = self._generator.send
        while True:
            if not event._ok:
                simpy.Process._resume(self, event)  # throws into the generator, SimPy's way
                return
            try:
                event = send(event._value)
            except StopIteration as stop:
                self._ok = True
                self._value = stop.value
                if self.callbacks:
                    env.schedule(self)
                self._target = None  # type: ignore[assignment]
                break
            except BaseException as exc:  # the process fails, as in SimPy
                self._ok = False
                self._value = exc
                env.schedule(self)
                self._target = None  # type: ignore[assignment]
                break
            if event.callbacks is not None:  # pending: resume when it is processed
                event.callbacks.append(self)
                self._target = event
                break
        env._active_proc = None

    __call__ = _resume


class RowLogger(Protocol):
    """``log(fam, event, stage, service="", detail="", time=None)``: one event log row for
    ``fam`` at ``time`` (default: now)."""

    def __call__(
        self, fam: Family, event: str, stage: str, service: str = "", detail: str = "", time: float | None = None
    ) -> None: ...


class KindLogger(Protocol):
    """``log_kind(fam, kind)``: one event log row for ``fam`` now, of a ``kind`` registered
    beforehand (:meth:`sim.records.EventLog.register_kind`)."""

    def __call__(self, fam: Family, kind: int) -> None: ...


def poisson_ppf(u: float, lam: float) -> int:
    """Smallest k with P(Poisson(lam) <= k) > u (inverse CDF by summing the pmf)."""
    k, pmf = 0, math.exp(-lam)
    cum = pmf
    while u >= cum and k < 1000:
        k += 1
        pmf *= lam / k
        cum += pmf
    return k


class Hold:
    """The event :func:`hold` schedules: a timeout reduced to what SimPy's scheduler
    (:meth:`simpy.Environment.step`) and a waiting process read of it -- its callbacks, and that
    it succeeded with no value (class attributes, shared). Slotted (its callbacks, and a weak
    reference for tests that see it freed): no ``__dict__`` and one attribute set a wait, where
    a :class:`simpy.Timeout` has a dict and five."""

    __slots__ = ("__weakref__", "callbacks")
    _ok = True
    _value = None
    callbacks: list[Callable[[Any], None]] | None


def _schedule(env: simpy.Environment, delay: float, priority: int = NORMAL) -> Hold:
    """A :class:`Hold` scheduled ``delay`` from now at ``priority`` (no callbacks yet)."""
    timeout = Hold()
    timeout.callbacks = []
    heappush(env._queue, (env._now + delay, priority, next(env._eid), timeout))  # type: ignore[misc]
    return timeout


def hold(env: simpy.Environment, delay: float) -> simpy.Event:
    """``env.timeout(delay)`` for a process to yield: an event scheduled at the same time and
    place in the queue, processed alike (its callbacks called, the process resumed with
    ``None``), made without SimPy's two Python calls (``Timeout.__init__`` and
    ``Environment.schedule``) and as a slotted :class:`Hold`, for the journey's hot path."""
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    # _schedule's body inline: the journey's hot path, one Python call less a timeout (~40 ns)
    timeout = Hold()
    timeout.callbacks = []
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), timeout))  # type: ignore[misc]
    return timeout  # type: ignore[return-value]  # (an Event to the scheduler and a process)


class _Arrivals:
    """The callback of each arrival's :class:`Hold` (:func:`arrivals`): slotted, and in no
    reference cycle (a closure scheduling itself would be one), so the chain and what ``arrive``
    holds (the world, its families) are freed by reference counts once the last arrival is made,
    not left to the garbage collector."""

    __slots__ = ("arrive", "at", "env", "next")

    def __init__(self, env: simpy.Environment, at: list[float], arrive: Callable[[int], None]):
        self.env, self.at, self.arrive, self.next = env, at, arrive, 0

    def start(self, _: object) -> None:
        """The first arrival's timeout, scheduled in the urgent event that stands for the
        process's Initialize."""
        _schedule(self.env, max(self.at[0] - self.env._now, 0.0)).callbacks.append(self)  # type: ignore[union-attr]

    def __call__(self, _: object) -> None:
        i = self.next
        self.next = i + 1
        at = self.at
        if i + 1 < len(at):  # the next arrival first: a family may start in this step
            _schedule(self.env, max(at[i + 1] - self.env._now, 0.0)).callbacks.append(self)  # type: ignore[union-attr]
        self.arrive(i)


def arrivals(env: simpy.Environment, at: list[float], arrive: Callable[[int], None]) -> None:
    """Call ``arrive(i)`` at time ``at[i]``, for each ``i`` in order (``at`` sorted), each in a
    scheduler step of its own: the steps, times and places in the queue of the process

    ``for i: yield env.timeout(max(at[i] - env.now, 0)); arrive(i)``

    started by ``env.process`` here (its Initialize event, urgent, now; each arrival's timeout
    scheduled before ``arrive`` runs for the one before, so that a family can start in its
    arrival's step, see :class:`StartedProcess`), without the process: a callback a step
    (:class:`_Arrivals`) instead of a generator resumed through SimPy's
    :meth:`simpy.Process._resume` (which makes a bound method at every wait). ``arrive`` must
    not yield or wait: it starts what waits."""
    if at:
        _schedule(env, 0.0, URGENT).callbacks.append(_Arrivals(env, at, arrive).start)  # type: ignore[union-attr]


def row_loggers(log: EventLog, env: simpy.Environment) -> tuple[RowLogger, KindLogger]:
    """The world's row loggers, closures over the log's column appends: ``log(fam, event,
    stage, service, detail, time)`` (:class:`RowLogger`, which looks the row's kind up) and
    ``log_kind(fam, kind)`` (:class:`KindLogger`, for a kind registered beforehand, the hot
    path: two appends and the family's :attr:`~sim.model.family.Family.key`)."""
    t_append, code_append = log.appenders()
    kinds, register_kind = log.kinds()
    new_party = log.new_party

    def key_of(fam: Family) -> int:
        """Register the family's constant columns (at its first row): its key."""
        return fam.register(new_party(fam.id, fam.locality, len(fam.ages)))

    def log_kind(fam: Family, kind: int) -> None:
        t_append(env._now)
        key = fam.key
        if key < 0:  # the family's first row
            key = key_of(fam)
        code_append(key | kind)

    def row(
        fam: Family, event: str, stage: str, service: str = "", detail: str = "", time: float | None = None
    ) -> None:
        kind = kinds.get((event, stage, service, detail))
        if kind is None:
            kind = register_kind(event, stage, service, detail)
        t_append(env._now if time is None else time)  # (log_kind's body: one call less a row)
        key = fam.key
        if key < 0:
            key = key_of(fam)
        code_append(key | kind)

    return row, log_kind

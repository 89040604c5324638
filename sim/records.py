"""The event log: one row per family per stage transition, held in columns.

Schema (:data:`EVENT_COLUMNS`):

============ ========= ==============================================================
column       dtype     meaning
============ ========= ==============================================================
time         float64   days since ``run.start_date`` (negative for initial-state history)
family_id    int64     the family (stable across episodes and re-referrals)
episode      int32     0 for the first referral, +1 for each re-referral or step-down
event        category  see :data:`EVENTS`
stage        category  see :data:`STAGES`
service      category  the queue or caseload (``team_north``, ``partner``, ``mst``...), or ""
detail       category  source of a referral, reason for a leave / end / exit, placement...
locality     category  the family's locality
children     int16     the family's children (social care counts and costs children)
============ ========= ==============================================================
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.vocab import Event, Stage

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EVENTS", "EVENT_COLUMNS", "STAGES", "EventLog"]

EVENTS = tuple(Event)
"""See :class:`sim.vocab.Event`."""
STAGES = tuple(Stage)
"""See :class:`sim.vocab.Stage`."""
EVENT_COLUMNS = ("time", "family_id", "episode", "event", "stage", "service", "detail", "locality", "children")


class EventLog:
    """Append-only columnar log. ``add`` is on the simulation's hot path, so it only appends."""

    __slots__ = ("children", "detail", "episode", "event", "family_id", "locality", "service", "stage", "time")

    def __init__(self) -> None:
        # numbers in typed arrays (8 bytes a value, not a boxed Python object); the category
        # columns hold references to a few interned strings
        self.time = array("d")
        self.family_id = array("q")
        self.episode = array("i")
        self.event: list[str] = []
        self.stage: list[str] = []
        self.service: list[str] = []
        self.detail: list[str] = []
        self.locality: list[str] = []
        self.children = array("h")

    def add(
        self,
        time: float,
        family_id: int,
        episode: int,
        event: str,
        stage: str,
        service: str = "",
        detail: str = "",
        locality: str = "",
        children: int = 1,
    ) -> None:
        self.time.append(time)
        self.family_id.append(family_id)
        self.episode.append(episode)
        self.event.append(event)
        self.stage.append(stage)
        self.service.append(service)
        self.detail.append(detail)
        self.locality.append(locality)
        self.children.append(children)

    def appenders(self) -> tuple[Callable[[Any], None], ...]:
        """The ``append`` of each column in :data:`EVENT_COLUMNS` order, bound once: a hot
        caller appends a row through them without a call to :meth:`add` and nine attribute
        lookups per row."""
        return (
            self.time.append,
            self.family_id.append,
            self.episode.append,
            self.event.append,
            self.stage.append,
            self.service.append,
            self.detail.append,
            self.locality.append,
            self.children.append,
        )

    def __len__(self) -> int:
        return len(self.time)

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame with the fixed schema (stable dtypes, even when empty)."""
        import pandas as pd  # here, not at the top: a replication's KPIs need no pandas

        return pd.DataFrame(
            {
                "time": np.frombuffer(self.time, dtype=np.float64).copy(),
                "family_id": np.frombuffer(self.family_id, dtype=np.int64).copy(),
                "episode": np.frombuffer(self.episode, dtype=np.int32).copy(),
                "event": _categorical(self.event, EVENTS),
                "stage": _categorical(self.stage, STAGES),
                "service": _categorical(self.service),
                "detail": _categorical(self.detail),
                "locality": _categorical(self.locality),
                "children": np.frombuffer(self.children, dtype=np.int16).copy(),
            }
        )


def _categorical(values: list[str], categories: tuple[str, ...] | None = None) -> pd.Categorical[str]:
    """A categorical from a list of strings, coded through a dict (several times faster than
    ``pd.Categorical(values)`` on the few distinct strings an event log holds)."""
    import pandas as pd

    cats = list(categories) if categories is not None else sorted(set(values))
    index = {c: i for i, c in enumerate(cats)}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int16, count=len(values))
    return pd.Categorical.from_codes(codes, categories=pd.Index(cats))

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

Storage: the simulation appends two numbers a row, the time and a *code* packing the row's
party, episode and kind (:func:`row_code`). A *party* is a family or worker post with its
constant columns (``family_id``, ``locality``, ``children``), registered once; a *kind* is
one combination of the four category columns (``event``, ``stage``, ``service``,
``detail``), of which a run has a few hundred at most. A family holds the code of its party
and episode (:attr:`sim.model.family.Family.key`), so a row is ``key | kind``.
:meth:`EventLog.columns` expands them into full columns (numpy arrays; the category columns
as codes and their labels) and :meth:`EventLog.to_frame` into the DataFrame.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.vocab import Event, Stage

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CATEGORY_COLUMNS", "EVENTS", "EVENT_COLUMNS", "MAX_EPISODE", "MAX_KIND", "STAGES", "EventLog", "row_code"]

EVENTS = tuple(Event)
"""See :class:`sim.vocab.Event`."""
STAGES = tuple(Stage)
"""See :class:`sim.vocab.Stage`."""
EVENT_COLUMNS = ("time", "family_id", "episode", "event", "stage", "service", "detail", "locality", "children")
CATEGORY_COLUMNS = ("event", "stage", "service", "detail", "locality")
"""The columns :meth:`EventLog.columns` gives as ``(codes, labels)``."""

Coded = tuple[np.ndarray, list[str]]
"""A category column: int16 codes into its labels."""

_EPISODE_SHIFT, _PARTY_SHIFT = 16, 32
MAX_KIND = (1 << _EPISODE_SHIFT) - 1
"""The most kinds a log holds (the low 16 bits of a row's code)."""
MAX_EPISODE = (1 << (_PARTY_SHIFT - _EPISODE_SHIFT)) - 1
"""The highest episode a row can carry (the next 16 bits)."""


def row_code(party: int, episode: int, kind: int = 0) -> int:
    """A row's code: ``party`` in the high 32 bits, ``episode`` in the next 16, ``kind`` in
    the low 16 (``row_code(party, episode) | kind`` is ``row_code(party, episode, kind)``)."""
    if not 0 <= episode <= MAX_EPISODE:
        raise ValueError(f"episode {episode} is outside 0..{MAX_EPISODE}")
    return (party << _PARTY_SHIFT) | (episode << _EPISODE_SHIFT) | kind


class EventLog:
    """Append-only columnar log. Rows are appended on the simulation's hot path, so a row is
    two typed-array appends (see the module docstring); nothing is decoded until asked for."""

    __slots__ = (
        "_kind_index",
        "_kinds",
        "_party_children",
        "_party_ids",
        "_party_index",
        "_party_localities",
        "code",
        "time",
    )

    def __init__(self) -> None:
        self.time = array("d")
        self.code = array("q")
        """Each row's :func:`row_code`: its party (an index into the parties: family_id,
        locality, children), episode and kind (an index into the kinds: event, stage,
        service, detail)."""
        # the parties in three columns (not a tuple each: one container object less a family
        # for the end-of-run garbage collection to scan)
        self._party_ids = array("q")
        self._party_localities: list[str] = []
        self._party_children = array("h")
        self._party_index: dict[tuple[int, str, int], int] = {}
        self._kinds: list[tuple[str, str, str, str]] = []
        self._kind_index: dict[tuple[str, str, str, str], int] = {}

    def register_party(self, family_id: int, locality: str, children: int) -> int:
        """The party index of ``(family_id, locality, children)``, registered on first use."""
        key = (family_id, locality, children)
        index = self._party_index.get(key)
        if index is None:
            index = self._party_index[key] = self.new_party(family_id, locality, children)
        return index

    def new_party(self, family_id: int, locality: str, children: int) -> int:
        """A new party's index, for a caller that registers each of its parties once (the
        world, for each family at its first row): no lookup among the parties before it."""
        self._party_ids.append(family_id)
        self._party_localities.append(locality)
        self._party_children.append(children)
        return len(self._party_localities) - 1

    def party_of(self, index: int) -> tuple[int, str, int]:
        """Party ``index`` as ``(family_id, locality, children)``."""
        return self._party_ids[index], self._party_localities[index], self._party_children[index]

    def kinds(self) -> tuple[dict[tuple[str, str, str, str], int], Callable[[str, str, str, str], int]]:
        """The kind index (``(event, stage, service, detail) -> kind``) for a hot caller to
        read directly, and :meth:`register_kind` for a combination not yet in it."""
        return self._kind_index, self.register_kind

    def register_kind(self, event: str, stage: str, service: str = "", detail: str = "") -> int:
        """The kind index of a combination of the category columns, registered on first use."""
        key = (event, stage, service, detail)
        index = self._kind_index.get(key)
        if index is None:
            index = len(self._kinds)
            if index > MAX_KIND:
                raise ValueError(f"more than {MAX_KIND + 1} kinds of row")
            self._kind_index[key] = index
            self._kinds.append(key)
        return index

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
        """Append one row given every column."""
        self.time.append(time)
        party = self.register_party(family_id, locality, children)
        self.code.append(row_code(party, episode, self.register_kind(event, stage, service, detail)))

    def appenders(self) -> tuple[Callable[[float], None], Callable[[int], None]]:
        """The ``append`` of the stored columns (time, code), bound once: a hot caller appends
        a row through them without a call to :meth:`add`."""
        return (self.time.append, self.code.append)

    @property
    def party(self) -> np.ndarray:
        """Each row's party (int32; a view of the codes, no copy)."""
        return self._fields()[2]

    @property
    def episode(self) -> np.ndarray:
        """Each row's episode (uint16; a view of the codes, no copy)."""
        return self._fields()[1]

    @property
    def kind(self) -> np.ndarray:
        """Each row's kind (uint16; a view of the codes, no copy)."""
        return self._fields()[0]

    def _fields(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each row's (kind, episode, party): views of the codes' 16-, 16- and 32-bit fields
        (a log's decoding allocates no array of the rows' size but its output columns)."""
        code = np.frombuffer(self.code, dtype=np.int64)
        if sys.byteorder != "little":  # the fields by arithmetic (copies)
            kind = (code & MAX_KIND).astype(np.uint16)
            return (
                kind,
                ((code >> _EPISODE_SHIFT) & MAX_EPISODE).astype(np.uint16),
                (code >> _PARTY_SHIFT).astype(np.int32),
            )
        low = code.view(np.uint16)  # four 16-bit words a row, the lowest first
        return low[0::4], low[1::4], code.view(np.int32)[1::2]

    def __len__(self) -> int:
        return len(self.time)

    def columns(self) -> dict[str, np.ndarray | Coded]:
        """Every column of :data:`EVENT_COLUMNS`: numpy arrays of the schema's dtypes, and the
        :data:`CATEGORY_COLUMNS` as ``(codes, labels)``: ``event`` and ``stage`` with every
        :data:`EVENTS` / :data:`STAGES` as labels, the others with the sorted distinct values
        the log holds (no pandas needed)."""
        kind, episode, party = self._fields()
        kinds = self._kinds or [("", "", "", "")]
        ids = np.array(self._party_ids or array("q", [0]), dtype=np.int64)
        children = np.array(self._party_children or array("h", [0]), dtype=np.int16)
        localities = self._party_localities or [""]
        # only the parties and kinds the rows use give labels (as a category column of the
        # rows' values would); a party or kind registered but never logged adds none
        used_kinds = [kinds[i] for i in _used(kind, len(kinds))]
        out: dict[str, np.ndarray | Coded] = {
            "time": np.frombuffer(self.time, dtype=np.float64).copy(),
            "family_id": ids[party],
            "episode": episode.astype(np.int32),
        }
        for j, name in enumerate(("event", "stage", "service", "detail")):
            fixed = EVENTS if name == "event" else STAGES if name == "stage" else None
            out[name] = _coded(kind, [k[j] for k in kinds], fixed or {k[j] for k in used_kinds})
        out["locality"] = _coded(party, localities, {localities[i] for i in _used(party, len(localities))})
        out["children"] = children[party]
        return out

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame with the fixed schema (stable dtypes, even when empty)."""
        import pandas as pd

        cols = self.columns()
        data: dict[str, Any] = {}
        for name in EVENT_COLUMNS:
            col = cols[name]
            if isinstance(col, tuple):
                codes, labels = col
                data[name] = pd.Categorical.from_codes(codes, categories=pd.Index(labels))
            else:
                data[name] = col
        return pd.DataFrame(data)


def _used(index: np.ndarray, n: int) -> list[int]:
    """The distinct values of ``index`` (whole numbers below ``n``), in increasing order:
    ``np.unique`` by counting (linear: the values are dense codes)."""
    return np.flatnonzero(np.bincount(index, minlength=n)).tolist()


def _coded(index: np.ndarray, values: list[str], labels: Any) -> Coded:
    """Codes of each row's value (``values[index]``) among ``labels``: the fixed tuple given,
    else the sorted set of values the rows use."""
    cats = list(labels) if isinstance(labels, tuple) else sorted(labels)
    position = {c: i for i, c in enumerate(cats)}
    table = np.fromiter(map(position.get, values, repeat(-1)), dtype=np.int16, count=len(values))
    return table[index], cats

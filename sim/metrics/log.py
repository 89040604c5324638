"""The event log as the KPIs read it: one numpy array per column, categories as integer codes
with their labels (:class:`Log`).

A finished simulation's :class:`~sim.records.EventLog` becomes a :class:`Log` without pandas
(:meth:`Log.from_event_log`), so a batch replication computes its KPIs and monthly series
without building a DataFrame (or importing pandas and pyarrow); an events DataFrame (the
schema of :mod:`sim.records`) becomes one through :meth:`Log.from_frame`, so every KPI is
computed by the same code whichever the caller holds. :meth:`Log.to_frame` gives the
DataFrame of :meth:`sim.records.EventLog.to_frame`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.records import CATEGORY_COLUMNS, EventLog

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CATEGORY_COLUMNS", "Codes", "Log", "as_log"]

_NUMBERS: dict[str, type[np.generic]] = {
    "time": np.float64,
    "family_id": np.int64,
    "episode": np.int32,
    "children": np.int16,
}


@dataclass(frozen=True)
class Codes:
    """A categorical column: row ``i`` holds ``labels[codes[i]]`` (code -1: no value).

    Attributes
    ----------
    codes
        One integer per row.
    labels
        The categories, in their order (the order of ``pandas.Categorical`` categories).
    """

    codes: np.ndarray
    labels: tuple[str, ...]

    def isin(self, values: Iterable[str]) -> np.ndarray:
        """Boolean mask of the rows holding one of ``values`` (never the rows with no value)."""
        table = np.zeros(len(self.labels) + 1, dtype=bool)  # the last slot answers code -1
        index = _index(self.labels)
        for value in values:
            if value in index:
                table[index[value]] = True
        return table[self.codes]

    def eq(self, value: str) -> np.ndarray:
        """Boolean mask of the rows holding ``value``."""
        code = _index(self.labels).get(value)
        return self.codes == code if code is not None else np.zeros(len(self.codes), dtype=bool)

    def counts(self) -> dict[str, int]:
        """Rows per label (labels with no row left out): ``value_counts``."""
        n = np.bincount(self.codes[self.codes >= 0], minlength=len(self.labels))
        return {label: int(c) for label, c in zip(self.labels, n) if c}

    def strings(self, rows: Any = slice(None)) -> np.ndarray:
        """The values at ``rows`` (a mask, positions or a slice) as an object array."""
        return np.asarray(self.labels, dtype=object)[self.codes[rows]] if self.labels else np.empty(0, dtype=object)

    def take(self, rows: Any) -> Codes:
        return Codes(self.codes[rows], self.labels)


@lru_cache(maxsize=256)
def _index(labels: tuple[str, ...]) -> dict[str, int]:
    """Label -> code of a tuple of labels (the few label tuples of a log, built once each:
    the KPIs ask ~160 masks of one replication's log). Read only."""
    return {label: i for i, label in enumerate(labels)}


def _coded(values: Sequence[str]) -> Codes:
    """Codes of a sequence of strings against their sorted distinct values, through a dict,
    in the smallest integer type that holds them."""
    labels = tuple(sorted(set(values)))
    index = {c: i for i, c in enumerate(labels)}
    dtype = np.int8 if len(labels) < 128 else np.int16
    codes = np.fromiter(map(index.__getitem__, values), dtype=dtype, count=len(values))
    return Codes(codes, labels)


@dataclass(frozen=True)
class Log:
    """The event log in columns (the schema of :mod:`sim.records`): numbers as numpy arrays,
    categories as :class:`Codes`. Rows are in log order; :meth:`take` keeps that order."""

    time: np.ndarray
    family_id: np.ndarray
    episode: np.ndarray
    children: np.ndarray
    event: Codes
    stage: Codes
    service: Codes
    detail: Codes
    locality: Codes

    def __len__(self) -> int:
        return len(self.time)

    def take(self, rows: Any) -> Log:
        """The rows at ``rows`` (a boolean mask or positions), in that order."""
        if isinstance(rows, np.ndarray) and rows.dtype == bool:
            rows = np.flatnonzero(rows)  # once, not once a column (nine boolean indexings)
        return Log(
            self.time[rows],
            self.family_id[rows],
            self.episode[rows],
            self.children[rows],
            *(getattr(self, c).take(rows) for c in CATEGORY_COLUMNS),
        )

    @classmethod
    def concat(cls, parts: Sequence[Log]) -> Log:
        """The rows of ``parts`` one after another (parts of one log: the same labels)."""
        first = parts[0]
        for part in parts[1:]:
            for c in CATEGORY_COLUMNS:
                if getattr(part, c).labels != getattr(first, c).labels:
                    raise ValueError(f"Log.concat: the {c} labels differ (parts of different logs)")
        numbers = [np.concatenate([getattr(p, c) for p in parts]) for c in _NUMBERS]
        codes = [
            Codes(np.concatenate([getattr(p, c).codes for p in parts]), getattr(first, c).labels)
            for c in CATEGORY_COLUMNS
        ]
        return cls._of(numbers, codes)

    @classmethod
    def _of(cls, numbers: list[np.ndarray], codes: list[Codes]) -> Log:
        """A log from its number columns and its category columns, each in schema order."""
        columns: dict[str, Any] = {**dict(zip(_NUMBERS, numbers)), **dict(zip(CATEGORY_COLUMNS, codes))}
        return cls(**columns)

    @classmethod
    def from_event_log(cls, log: EventLog) -> Log:
        """The log of a finished simulation (:class:`sim.records.EventLog`), with the labels of
        its DataFrame (:meth:`~sim.records.EventLog.to_frame`), through its ``columns()``."""
        cols = log.columns()
        numbers = [np.asarray(cols[c], dtype=t) for c, t in _NUMBERS.items()]
        return cls._of(numbers, [Codes(cols[c][0], tuple(cols[c][1])) for c in CATEGORY_COLUMNS])

    @classmethod
    def from_frame(cls, events: pd.DataFrame) -> Log:
        """An events DataFrame (categorical columns keep their categories and codes; string
        columns are coded against their sorted values)."""
        import pandas as pd

        numbers = [events[c].to_numpy(dtype=t) for c, t in _NUMBERS.items()]
        codes = []
        for c in CATEGORY_COLUMNS:
            column = events[c]
            if isinstance(column.dtype, pd.CategoricalDtype):
                labels = tuple(str(x) for x in column.cat.categories)
                codes.append(Codes(column.cat.codes.to_numpy().astype(np.int16), labels))
            else:
                codes.append(_coded([str(x) for x in column.tolist()]))
        return cls._of(numbers, codes)

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame with the fixed schema of :mod:`sim.records`."""
        import pandas as pd

        columns: dict[str, Any] = {c: getattr(self, c).astype(t, copy=True) for c, t in _NUMBERS.items()}
        for c in CATEGORY_COLUMNS:
            codes: Codes = getattr(self, c)
            columns[c] = pd.Categorical.from_codes(codes.codes, categories=pd.Index(list(codes.labels)))
        order = ("time", "family_id", "episode", "event", "stage", "service", "detail", "locality", "children")
        return pd.DataFrame({c: columns[c] for c in order})


def as_log(events: Log | pd.DataFrame) -> Log:
    """``events`` as a :class:`Log` (a DataFrame is converted; a Log is returned as it is)."""
    return events if isinstance(events, Log) else Log.from_frame(events)

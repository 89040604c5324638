"""Verified per-replication checkpoints of a results folder (``reps/<scenario>/``): each
finished replication's KPI row, monthly series and (replication 0) event log, with the
scenario fingerprint, seed, replication and a digest of its content in the file's metadata,
so a resumed job trusts only what it verifies and sets anything else aside in ``quarantine/``
(:mod:`sim.results` holds the folder's other files)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.results import CHECKPOINTS, QUARANTINE, SCHEMA_VERSION, atomic_write, write_parquet, write_text

__all__ = ["Checkpoint", "Checkpoints", "read_meta"]

_META_KEY = b"ehsim.checkpoint"


def _digest(row: Mapping[str, Any], series: pd.DataFrame) -> str:
    h = hashlib.sha256(json.dumps(dict(row), sort_keys=True, default=repr).encode())
    h.update(pd.util.hash_pandas_object(series, index=False).to_numpy().tobytes())
    h.update(",".join(map(str, series.columns)).encode())
    return h.hexdigest()


def read_meta(path: Path) -> dict[str, Any] | None:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        data = json.loads(meta[_META_KEY])
    except Exception:  # any unreadable file is simply not a valid checkpoint
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class Checkpoint:
    """One finished replication: its KPI row, its monthly series and (rep 0) its events."""

    rep: int
    row: dict[str, Any]
    series: pd.DataFrame
    events: pd.DataFrame | None = None


class Checkpoints:
    """Verified per-replication checkpoints of one scenario in ``folder/reps/<name>/``.

    Each file records the scenario fingerprint, seed, replication index and a digest of its
    content. :meth:`load` returns only checkpoints that match; any other file (another
    scenario or seed, a copy of another replication, a truncated or corrupt file) is moved
    to ``quarantine/`` with a note of why, and its replication is run again.
    """

    def __init__(self, folder: Path, name: str, fingerprint: str, seed: int):
        self.root = folder
        self.dir = folder / CHECKPOINTS / name
        self.name = name
        self.fingerprint = fingerprint
        self.seed = seed
        self.quarantined: list[str] = []

    def _paths(self, rep: int) -> tuple[Path, Path]:
        return self.dir / f"rep-{rep:06d}.parquet", self.dir / f"events-{rep:06d}.parquet"

    def save(self, cp: Checkpoint) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path, events_path = self._paths(cp.rep)
        if cp.events is not None:
            write_parquet(events_path, cp.events)
        meta = {
            "schema": SCHEMA_VERSION,
            "scenario": self.name,
            "fingerprint": self.fingerprint,
            "seed": self.seed,
            "rep": cp.rep,
            "row": cp.row,
            "digest": _digest(cp.row, cp.series),
            "events": cp.events is not None,
        }
        table = pa.Table.from_pandas(cp.series, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _META_KEY: json.dumps(meta, default=repr).encode()}
        )
        atomic_write(path, lambda p: pq.write_table(table, p))

    def load(self, reps: Sequence[int], need_events: bool = False) -> dict[int, Checkpoint]:
        """The valid checkpoints among ``reps``; every other file in the folder is quarantined."""
        found: dict[int, Checkpoint] = {}
        wanted = set(reps)
        if not self.dir.is_dir():
            return found
        for path in sorted(self.dir.glob("rep-*.parquet")):
            cp, why = self._verify(path, wanted, need_events)
            if cp is None:
                if why:
                    self._quarantine(path, why)
                continue
            if cp.rep in found:
                self._quarantine(path, f"a second checkpoint of replication {cp.rep}")
                continue
            found[cp.rep] = cp
        return found

    def _verify(self, path: Path, wanted: set[int], need_events: bool) -> tuple[Checkpoint | None, str]:
        meta = read_meta(path)
        if meta is None:
            return None, "unreadable (truncated, corrupt or not a checkpoint)"
        rep = meta.get("rep")
        if meta.get("fingerprint") != self.fingerprint or meta.get("scenario") != self.name:
            return (
                None,
                f"belongs to scenario {meta.get('scenario')!r} (fingerprint {str(meta.get('fingerprint'))[:12]})",
            )
        if meta.get("seed") != self.seed:
            return None, f"made with seed {meta.get('seed')!r}, not {self.seed}"
        if not isinstance(rep, int) or path.name != f"rep-{rep:06d}.parquet":
            return None, f"holds replication {rep!r}, not the one its name says"
        if rep not in wanted:
            return None, ""  # a later replication of a longer batch: keep it, unused
        row = meta.get("row")
        try:
            series = pd.read_parquet(path)
        except Exception:
            return None, "unreadable (truncated or corrupt)"
        if not isinstance(row, dict) or meta.get("digest") != _digest(row, series):
            return None, "content does not match its digest"
        if row.get("rep") != rep or row.get("seed") != self.seed:
            return None, "its table row names another replication"
        events = None
        if need_events:
            events_path = self._paths(rep)[1]
            try:
                events = pd.read_parquet(events_path) if meta.get("events") else None
            except Exception:
                self._quarantine(events_path, "unreadable event log")
                return None, "its event log is unreadable"
            if events is None:
                return None, ""  # events now wanted: run it again, keep nothing to set aside
        return Checkpoint(rep, row, series, events), ""

    def _quarantine(self, path: Path, why: str) -> None:
        dest_dir = self.root / QUARANTINE / self.name
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / path.name
        k = 1
        while dest.exists():
            dest, k = dest_dir / f"{path.stem}.{k}{path.suffix}", k + 1
        shutil.move(str(path), dest)
        write_text(dest.with_suffix(dest.suffix + ".why.txt"), why + "\n")
        self.quarantined.append(f"{path.relative_to(self.root)}: {why}; moved to {dest.relative_to(self.root)}")

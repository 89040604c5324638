"""The results-folder contract: one writer and one reader for every kind of job.

A results folder holds one job (a ``run``, ``compare``, ``sweep`` or ``uncertainty``). Its files:

==========================  ==============================================================
``job.json``                the claim, written first: kind, schema, seed, scenario
                            fingerprints (and the grid of a sweep). A folder is only ever
                            reused by the same job, which then resumes.
``reps/<scenario>/``        one verified checkpoint per finished replication (:mod:`sim.checkpoints`)
``quarantine/``             checkpoints that failed verification, set aside (never deleted)
``replications.parquet``    one row per scenario x replication: ``scenario``, ``rep``,
                            ``seed``, the swept keys (sweep), then every KPI
``summary.csv``             per scenario (and swept values) and KPI: mean, sd, 95% CI...
``differences.csv``         compare: paired differences option - baseline
``series.parquet``          monthly open cases and queue lengths per scenario x replication
``events.parquet``          the event log of replication 0 of each scenario (when asked)
``kpis.csv``                the data dictionary of every KPI column (:mod:`sim.kpis`)
``diagnostics.json``        run, compare: replication-count and warm-up checks per scenario;
                            sweep, uncertainty: quarantined checkpoints and dated-change warnings
``parameters.parquet``      uncertainty: one row per parameter sample (``sample`` and values)
``sensitivity.csv``         uncertainty: sensitivity indices per parameter and KPI, or why an outcome has none
``robustness.csv``          uncertainty: per option and KPI, the difference across samples
``scenarios/<name>.yaml``   each scenario as run (after ``extends:`` and overrides)
``manifest.json``           written last: kind, schema version, seed, replications,
                            scenarios with fingerprints and files, command, versions
==========================  ==============================================================

Every file is written atomically (a temporary file renamed into place), so an interrupted
job never leaves a half file; ``manifest.json`` is written last, so a folder with a
manifest is complete. :func:`read` reads any kind and refuses a folder of unknown kind or
newer schema with :class:`~sim.errors.ResultsError`.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.errors import MAX_MESSAGE_CHARS, ArgumentError, ResultsError
from sim.kpis import Kpi, dictionary_rows, from_row

__all__ = [
    "SCHEMA_VERSION",
    "Kind",
    "Results",
    "ResultsError",
    "atomic_write",
    "claim",
    "claimed",
    "default_folder",
    "read",
    "write",
]

SCHEMA_VERSION = 2
"""Bumped whenever a file's layout changes; a reader refuses a newer one."""


class Kind(StrEnum):
    RUN = "run"
    COMPARE = "compare"
    SWEEP = "sweep"
    UNCERTAINTY = "uncertainty"


JOB = "job.json"
MANIFEST = "manifest.json"
REPLICATIONS = "replications.parquet"
SUMMARY = "summary.csv"
DIFFERENCES = "differences.csv"
SERIES = "series.parquet"
EVENTS = "events.parquet"
KPIS = "kpis.csv"
DIAGNOSTICS = "diagnostics.json"
PARAMETERS = "parameters.parquet"
SENSITIVITY = "sensitivity.csv"
ROBUSTNESS = "robustness.csv"
SCENARIOS = "scenarios"
CHECKPOINTS = "reps"
QUARANTINE = "quarantine"
REPORT = "report.html"
FIGURES = "figures"
OWN_FILES = (
    JOB,
    MANIFEST,
    REPLICATIONS,
    SUMMARY,
    DIFFERENCES,
    SERIES,
    EVENTS,
    KPIS,
    DIAGNOSTICS,
    PARAMETERS,
    SENSITIVITY,
    ROBUSTNESS,
)
OWN_DIRS = (SCENARIOS, CHECKPOINTS, QUARANTINE, FIGURES)
WRITERS = "ehsim run, compare, sweep or uncertainty"
"""The commands that write a results folder (for help texts and errors)."""
_PACKAGES = (
    "ehsim",
    "simpy",
    "numpy",
    "scipy",
    "pandas",
    "pydantic",
    "pyyaml",
    "pyarrow",
    "salib",
    "dask",
    "distributed",
)
"""The packages whose versions the manifest records: the model's, the tables', the sensitivity
designs and indices (SALib) and the cluster (Dask)."""


# --------------------------------------------------------------------------- atomic files
def atomic_write(path: Path, write_to: Callable[[Path], object]) -> None:
    """Call ``write_to(tmp)`` on a temporary file beside ``path``, then rename it into
    place, so a reader (or a resumed job) never sees a half-written file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ResultsError([f"{path.parent}: cannot write there: {exc.strerror or exc}"]) from None
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes files private; results are ordinary files
    try:
        write_to(Path(tmp))
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ResultsError([f"{path}: cannot write it: {exc.strerror or exc}"]) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda p: frame.to_csv(p, index=False))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda p: frame.to_parquet(p, index=False))


def versions() -> dict[str, Any]:
    """Python, platform and package versions, for the manifest."""

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {name: version(name) for name in _PACKAGES},
    }


# --------------------------------------------------------------------------- claiming a folder
_JOB_NAMES: dict[str, str] = {
    Kind.RUN: "run",
    Kind.COMPARE: "comparison",
    Kind.SWEEP: "sweep",
    Kind.UNCERTAINTY: "uncertainty analysis",
}
_JOB_FIELDS = {
    "schema": "results format",
    "kind": "command",
    "seed": "seed",
    "grid": "swept values",
    "method": "method",
    "samples": "samples",
    "parameters": "uncertain parameters (the spec's parameters changed)",
}
"""What a difference in each field of a claim (``job.json``) is called, in the order named."""


SHOWN_NAMES = 3
"""Most scenario names a refusal to mix two jobs lists in one place; the rest are counted."""


def _names(names: Sequence[str], most: int = SHOWN_NAMES) -> str:
    """``a, b, c and 2 more``: at most ``most`` names, whole, then how many more (never "and 1
    more": the one is named)."""
    if len(names) == most + 1:
        most += 1
    shown = ", ".join(names[:most])
    more = len(names) - most
    return f"{shown} and {more} more" if more > 0 else shown or "none"


def _job_name(job: Mapping[str, Any]) -> str:
    """What a job is called: ``comparison``, ``uncertainty analysis``..."""
    kind = str(job.get("kind", "?"))
    return _JOB_NAMES.get(kind, kind)


def _describe(job: Mapping[str, Any], most: int | None = SHOWN_NAMES) -> str:
    """``a comparison of a, b, c and 2 more with seed 1`` (at most ``most`` names,
    :func:`_names`), or with ``most`` None ``a comparison of 5 scenarios with seed 1``."""
    what = _job_name(job)
    names = list(job.get("scenarios") or {})
    article = "an" if what[:1] in "aeiou" else "a"
    if not names:
        of = "unknown scenarios"
    elif most is None:
        of = f"{len(names)} scenario{'s' if len(names) > 1 else ''}"
    else:
        of = _names(names, most)
    return f"{article} {what} of {of} with seed {job.get('seed')!r}"


def _differences(found: Mapping[str, Any], stamp: Mapping[str, Any], most: int = SHOWN_NAMES) -> str:
    """What differs between two claims, e.g. ``samples 10 there, 20 here; method morris
    there, lhs here``; scenarios in one claim only, and those whose settings changed, are
    named (at most ``most`` in a list, :func:`_names`)."""
    out: list[str] = []
    for key in [*_JOB_FIELDS, *(k for k in {*found, *stamp} if k not in _JOB_FIELDS and k != "scenarios")]:
        there, here = found.get(key), stamp.get(key)
        if there == here:
            continue
        label = _JOB_FIELDS.get(key, key)
        short = key in ("parameters",) or not all(isinstance(v, (str, int, float, type(None))) for v in (there, here))
        out.append(label if short else f"{label} {there if there is not None else 'none'} there, {here} here")
    was, now = found.get("scenarios") or {}, stamp.get("scenarios") or {}
    if set(was) == set(now) and list(was) != list(now):  # the same scenarios in another order (job.json keeps it)
        if list(was)[:1] != list(now)[:1]:
            out.append(f"baseline {_names(list(was)[:1])} there, {_names(list(now)[:1])} here")
        else:
            out.append("the options' order")
    there_only, here_only = [n for n in was if n not in now], [n for n in now if n not in was]
    if there_only:
        out.append(f"scenario{'s' if len(there_only) > 1 else ''} {_names(there_only, most)} there only")
    if here_only:
        out.append(f"scenario{'s' if len(here_only) > 1 else ''} {_names(here_only, most)} here only")
    changed = [n for n in now if n in was and was[n] != now[n]]  # by its fingerprint
    if changed:
        out.append(f"scenario{'s' if len(changed) > 1 else ''} {_names(changed, most)} changed")
    return "; ".join(out)


CHOOSE = "Choose another output folder"


def _refusal(folder: Path, found: Mapping[str, Any], stamp: Mapping[str, Any]) -> str:
    """The line refusing to mix ``stamp``'s job into ``folder``, which holds ``found``'s: what
    differs, the remedy, then what the folder holds, shortened until the line fits in a
    message line (:data:`~sim.errors.MAX_MESSAGE_CHARS`): what the folder holds told by its
    number of scenarios, then every list with fewer names (and how many more). If it never
    fits, the line's cut loses the end of what the folder holds, not what differs."""
    head = f"{folder}: refusing to mix this {_job_name(stamp)} with the results there (what differs: "
    tries = [(most, held) for most in range(SHOWN_NAMES, 0, -1) for held in (True, False)]
    for most, held in tries:
        line = f"{head}{_differences(found, stamp, most)}). {CHOOSE}; this one holds "
        line += f"{_describe(found, most if held else None)}."
        if len(line) <= MAX_MESSAGE_CHARS:
            return line
    return line


def claim(folder: Path, job: Mapping[str, Any], replications: int | None = None) -> bool:
    """Make ``folder`` this job's, or check that it already is. Returns True when the
    folder already held this job (it will resume).

    ``job`` holds ``kind``, ``seed``, ``scenarios`` (name -> fingerprint) and, for a sweep,
    ``grid``. A folder of another job, a non-empty folder that is not an ehsim results
    folder, or a path that is a file is refused with :class:`ResultsError`; nothing in it is
    changed.

    Raises
    ------
    ArgumentError
        The folder holds this job finished with more than ``replications`` replications:
        rewriting its tables with fewer would drop results (ask for as many or more to reuse
        or extend them).
    """
    stamp = _job_stamp(job)
    if folder.exists() and not folder.is_dir():
        raise ResultsError([f"{folder}: is a file, not a folder; choose another output folder"])
    marker = folder / JOB
    if marker.is_file():
        try:
            found = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            found = None
        if isinstance(found, dict) and _same_job(found, stamp):
            _check_not_fewer(folder, replications)
            return True
        if isinstance(found, dict):
            raise ResultsError([_refusal(folder, found, stamp)])
        # an unreadable claim: rewrite it if every checkpoint there belongs to this job
        _check_checkpoints_belong(folder, stamp)
        _write_claim(marker, stamp)
        return True
    if folder.is_dir() and any(folder.iterdir()):
        raise ResultsError(
            [
                f"{folder}: exists and is not an ehsim results folder (no {JOB}); refusing to write into it. "
                "Choose a new or empty output folder."
            ]
        )
    _write_claim(marker, stamp)
    return False


@contextmanager
def claimed(out: str | Path | None, job: Mapping[str, Any], replications: int | None = None) -> Iterator[Path | None]:
    """The results folder ``out`` claimed for ``job`` (:func:`claim`) while the block runs, or
    None (no claim) without ``out``.

    However the block ends (finished, an error, Ctrl-C while checkpoints are read or
    replications run), a claim that kept nothing is released (:func:`_release`): the folder
    is left free for another job rather than claimed by one that did nothing. A refused
    claim takes nothing and releases nothing.
    """
    if out is None:
        yield None
        return
    folder = Path(out)
    claim(folder, job, replications)
    try:
        yield folder
    finally:
        _release(folder)


def _release(folder: Path) -> None:
    """Remove the claim of a folder that holds nothing but it (no checkpoint, no table): a job
    that fails before any replication finishes (an unreachable Dask scheduler, Ctrl-C at
    once) leaves the folder free for another job rather than claimed by one that did nothing.
    Empty folders inside it are removed too; the folder itself is left (it may be the user's)."""
    if not (folder / JOB).is_file() or any(p.is_file() for p in folder.rglob("*") if p.name != JOB):
        return
    (folder / JOB).unlink()
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        sub.rmdir()


def _held(folder: Path) -> int | None:
    """The replications a finished folder holds (its manifest's), or None."""
    try:
        held = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("replications")
    except (OSError, ValueError, AttributeError):
        return None  # no manifest (unfinished), or a damaged one (rewritten by the job)
    return held if isinstance(held, int) and not isinstance(held, bool) else None


def _holds_more(folder: Path, replications: int | None) -> bool:
    held = _held(folder)
    return replications is not None and held is not None and held > replications


def _check_not_fewer(folder: Path, replications: int | None) -> None:
    """Refuse to rewrite a finished folder's tables with fewer replications than it holds."""
    if _holds_more(folder, replications):
        held = _held(folder)
        raise ArgumentError(
            "replications",
            f"{folder} already holds {held} replications of this job; asking for {replications} would "
            f"drop results: give --replications {held} or more to reuse (or extend) them, or another --out",
        )


def _job_stamp(job: Mapping[str, Any]) -> dict[str, Any]:
    return {"schema": SCHEMA_VERSION, **json.loads(json.dumps(dict(job), default=str))}


def _same_job(found: Mapping[str, Any], stamp: Mapping[str, Any]) -> bool:
    """Whether two claims (``job.json``) are of one job: equal, with their scenarios in the
    same order, since the first is the baseline (``compare A B`` and ``compare B A`` are two
    jobs)."""
    order = list(found.get("scenarios") or {}) == list(stamp.get("scenarios") or {})
    return dict(found) == dict(stamp) and order


def _write_claim(marker: Path, stamp: Mapping[str, Any]) -> None:
    """Write ``job.json`` with its keys in the job's order (not sorted as :func:`write_json`
    does): the scenarios' order says which is the baseline."""
    write_text(marker, json.dumps(stamp, indent=2, default=str) + "\n")


def default_folder(base: Path, job: Mapping[str, Any], replications: int | None = None) -> Path:
    """``base``, or ``base-2``, ``base-3``...: the first that is free or already holds
    ``job`` (finished with no more than ``replications``, so a quick rerun with fewer is
    given a folder of its own rather than refused, :func:`claim`), so a default folder is
    never one of another job."""
    stamp = _job_stamp(job)
    k = 1
    while True:
        folder = base if k == 1 else base.with_name(f"{base.name}-{k}")
        marker = folder / JOB
        if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
            return folder
        try:
            found = json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else None
        except (OSError, ValueError):
            found = None
        if isinstance(found, dict) and _same_job(found, stamp) and not _holds_more(folder, replications):
            return folder
        k += 1


def _check_checkpoints_belong(folder: Path, stamp: Mapping[str, Any]) -> None:
    from sim.checkpoints import read_meta  # (the checkpoints module imports this one)

    if stamp.get("kind") in (Kind.SWEEP, Kind.UNCERTAINTY):
        return  # checkpoints of variants (of a sweep or parameter samples); each is verified when read
    fingerprints = set((stamp.get("scenarios") or {}).values())
    for path in sorted((folder / CHECKPOINTS).glob("*/rep-*.parquet")):
        meta = read_meta(path)
        if meta is not None and meta.get("fingerprint") not in fingerprints:
            raise ResultsError(
                [
                    f"{folder / JOB}: is unreadable and {path.relative_to(folder)} belongs to another scenario; "
                    "choose another output folder"
                ]
            )


# --------------------------------------------------------------------------- the folder
@dataclass
class Results:
    """One results folder in memory: what :func:`write` writes and :func:`read` returns.

    Attributes
    ----------
    kind
        What job made it (:class:`Kind`).
    scenarios
        Scenario names, the baseline first (a sweep: the swept scenario).
    replications
        One row per scenario x replication (:data:`REPLICATIONS`).
    summary
        Per scenario (and swept values) and KPI.
    kpis
        KPI name -> :class:`~sim.kpis.Kpi` for every KPI column.
    configs
        Scenario name -> the resolved scenario as a mapping.
    """

    kind: Kind
    scenarios: list[str]
    replications: pd.DataFrame
    summary: pd.DataFrame
    kpis: dict[str, Kpi]
    manifest: dict[str, Any] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    differences: pd.DataFrame | None = None
    series: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    sweep_keys: list[str] = field(default_factory=list)
    parameters: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    robustness: pd.DataFrame | None = None
    folder: Path | None = None

    @property
    def base(self) -> str:
        """The baseline scenario's name."""
        return self.scenarios[0]

    @property
    def options(self) -> list[str]:
        """The compared options (compare and uncertainty), in order."""
        return self.scenarios[1:] if self.kind in (Kind.COMPARE, Kind.UNCERTAINTY) else []

    def kpi(self, name: str) -> Kpi:
        return self.kpis[name]

    def config(self, scenario: str | None = None) -> dict[str, Any]:
        """The resolved scenario mapping (the baseline's by default; ``{}`` when unknown)."""
        return self.configs.get(scenario or self.base) or self.configs.get(self.base) or {}

    def setting(self, dotted: str, scenario: str | None = None) -> Any:
        """A dotted key of the resolved scenario, or None."""
        node: Any = self.config(scenario)
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def window_days(self, scenario: str | None = None) -> float:
        """Length of the results window (days)."""
        run = self.setting("run", scenario) or {}
        try:
            return float(run["duration_days"]) - float(run["warmup_days"])
        except (KeyError, TypeError, ValueError):
            return math.nan


def _remove_derived(folder: Path) -> None:
    """Take away the manifest, then ``report.html`` and ``figures/`` (built from the tables
    about to be rewritten): each is moved aside in one rename, then deleted, so no report of
    old tables ever sits beside new ones, nor a manifest beside half-rewritten tables."""
    (folder / MANIFEST).unlink(missing_ok=True)
    stale = [folder / REPORT, folder / FIGURES]
    if not any(p.exists() for p in stale):
        return
    trash = Path(tempfile.mkdtemp(dir=folder, prefix=".stale-report."))
    try:
        for path in stale:
            if path.exists():
                os.replace(path, trash / path.name)
    except OSError as exc:
        raise ResultsError([f"{folder}: cannot remove the old report: {exc.strerror or exc}"]) from None
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def write(folder: Path, res: Results) -> None:
    """Write every table of ``res`` into ``folder`` (already claimed), the manifest last.

    A manifest, ``report.html`` and ``figures/`` already there are removed first: they were
    made from the tables being replaced (``ehsim report`` or ``--report`` builds them again).
    """
    _remove_derived(folder)
    write_parquet(folder / REPLICATIONS, res.replications)
    write_csv(folder / SUMMARY, res.summary)
    if res.differences is not None:
        write_csv(folder / DIFFERENCES, res.differences)
    if res.series is not None:
        write_parquet(folder / SERIES, res.series)
    if res.events is not None:
        write_parquet(folder / EVENTS, res.events)
    if res.parameters is not None:
        write_parquet(folder / PARAMETERS, res.parameters)
    if res.sensitivity is not None:
        write_csv(folder / SENSITIVITY, res.sensitivity)
    if res.robustness is not None:
        write_csv(folder / ROBUSTNESS, res.robustness)
    write_csv(folder / KPIS, pd.DataFrame(dictionary_rows(res.kpis.values())))
    write_json(folder / DIAGNOSTICS, res.diagnostics)
    for name, data in res.configs.items():
        write_text(folder / SCENARIOS / f"{name}.yaml", yaml.safe_dump(data, sort_keys=False))
    manifest = {
        **res.manifest,
        "kind": str(res.kind),
        "schema": SCHEMA_VERSION,
        "scenarios": res.scenarios,
        "sweep_keys": res.sweep_keys,
        **versions(),
    }
    write_json(folder / MANIFEST, manifest)


def _read_table(path: Path, reader: Callable[[Path], pd.DataFrame]) -> pd.DataFrame:
    try:
        return reader(path)
    except Exception as exc:  # pyarrow and pandas raise many kinds for a corrupt file
        raise ResultsError([f"{path}: cannot be read ({type(exc).__name__}); the results folder is damaged"]) from None


def _read_json_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ResultsError([f"{path}: not a readable JSON file; the results folder is damaged"]) from None
    if not isinstance(data, dict):
        raise ResultsError([f"{path}: not a JSON object; the results folder is damaged"])
    return data


def read(folder: str | Path) -> Results:
    """Read a results folder of any kind.

    Raises
    ------
    ResultsError
        Not a folder; no manifest (not a results folder, or a job that has not finished);
        an unknown kind or a newer schema; a missing or unreadable table.
    """
    out = Path(folder)
    if not out.is_dir():
        raise ResultsError([f"{out}: not a folder; give a results folder written by {WRITERS}"])
    if not (out / MANIFEST).is_file():
        hint = (
            "its job has not finished (rerun it to resume)" if (out / JOB).is_file() else "not an ehsim results folder"
        )
        raise ResultsError([f"{out}: no {MANIFEST}: {hint}"])
    manifest = _read_json_file(out / MANIFEST)
    kind, schema = manifest.get("kind"), manifest.get("schema")
    if kind not in set(Kind):
        raise ResultsError([f"{out}: results of unknown kind {kind!r}; this version reads {', '.join(Kind)}"])
    if not isinstance(schema, int) or schema > SCHEMA_VERSION:
        raise ResultsError(
            [f"{out}: results schema {schema!r} is newer than this version reads ({SCHEMA_VERSION}); upgrade ehsim"]
        )
    missing = [n for n in (REPLICATIONS, SUMMARY, KPIS) if not (out / n).is_file()]
    if missing:
        raise ResultsError([f"{out}: missing {', '.join(missing)}; the results folder is damaged"])
    reps = _read_table(out / REPLICATIONS, pd.read_parquet)
    summary = _read_table(out / SUMMARY, pd.read_csv)
    dictionary = _read_table(out / KPIS, lambda p: pd.read_csv(p, keep_default_na=False))
    scenarios = [str(s) for s in manifest.get("scenarios") or []]
    if reps.empty or summary.empty or not scenarios:
        raise ResultsError([f"{out}: holds no replications; the results folder is damaged"])
    configs = {}
    for name in scenarios:
        path = out / SCENARIOS / f"{name}.yaml"
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError):
                raise ResultsError([f"{path}: not readable YAML; the results folder is damaged"]) from None
            if not isinstance(data, dict):
                raise ResultsError([f"{path}: not a scenario mapping; the results folder is damaged"])
            configs[name] = data
    optional = {
        name: _read_table(out / name, reader) if (out / name).is_file() else None
        for name, reader in (
            (DIFFERENCES, pd.read_csv),
            (SERIES, pd.read_parquet),
            (EVENTS, pd.read_parquet),
            (PARAMETERS, pd.read_parquet),
            (SENSITIVITY, pd.read_csv),
            (ROBUSTNESS, pd.read_csv),
        )
    }
    return Results(
        kind=Kind(kind),
        scenarios=scenarios,
        replications=reps,
        summary=summary,
        kpis={str(r["name"]): from_row(r) for r in dictionary.to_dict(orient="records")},
        manifest=manifest,
        configs=configs,
        differences=optional[DIFFERENCES],
        series=optional[SERIES],
        events=optional[EVENTS],
        diagnostics=_read_json_file(out / DIAGNOSTICS) if (out / DIAGNOSTICS).is_file() else {},
        sweep_keys=[str(k) for k in manifest.get("sweep_keys") or []],
        parameters=optional[PARAMETERS],
        sensitivity=optional[SENSITIVITY],
        robustness=optional[ROBUSTNESS],
        folder=out,
    )

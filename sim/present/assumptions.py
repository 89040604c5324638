"""The assumptions behind a scenario: each setting with the comment beside it in the scenario
file (a citation of the bibliography, e.g. ``Sunderland-EH-2018 para 4.1``, or
``ASSUMPTION ...``), following ``extends:`` (child over parent, with the loader's own merge, so
a section a child marks ``replace: true`` drops what its parents set there) and ``--set``
overrides.

Scenario files are the ones recorded in the manifest (``scenario_files``, as typed, relative
to the manifest's ``cwd``). Nothing here runs or validates a scenario.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.config import change_warnings, long_date, merge_extends, parse_override, safe_yaml_load, unreached
from sim.errors import ScenarioError
from sim.present.references import display_path
from sim.results import Results

__all__ = [
    "Assumption",
    "DatedChange",
    "changes_anchor",
    "config_changes",
    "dated_changes",
    "read_assumptions",
    "scenario_files",
    "setting_sources",
    "show",
    "shown_apart",
    "unreached_changes",
    "unreached_warnings",
    "value_on",
]


@dataclass(frozen=True)
class Assumption:
    """One commented setting: ``key`` (dotted), ``value`` as written, ``source`` (the
    comment), and the ``file`` and ``line`` it came from."""

    key: str
    value: str
    source: str
    file: str
    """The file's path relative to the repository (``configs/kirklees/baseline.yaml``), or
    ``(command line)``."""
    line: int

    @property
    def is_assumption(self) -> bool:
        """True when the comment marks the number as an assumption rather than a source."""
        return "ASSUMPTION" in self.source.upper()


_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z0-9_.\-]+|\"[^\"]*\"|'[^']*')\s*:(?:\s+(?P<value>.*)|\s*)$")
_BLOCK_SCALARS = ("|", ">", "|-", ">-", "|+", ">+")


GROUP_FROM = 10_000
"""A setting's number is shown with thousands separators from this size (``7,700,000``; a year
such as ``2024`` or a 1825-day run keeps its plain digits)."""


def show(value: Any) -> str:
    """A setting's value as a planner reads it: a whole number without ``.0`` (``7.0`` is
    ``7``), one from :data:`GROUP_FROM` with thousands separators (``7,700,000``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float) and math.isfinite(value):
        whole = float(value).is_integer()
        number: int | float = int(value) if whole else value
        return f"{number:,}" if abs(number) >= GROUP_FROM else str(number)
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {show(v)}" for k, v in value.items())
    return str(value)


SETTING_DIGITS = 4
"""Significant figures of a setting's value where an option's change shows it
(:func:`shown_apart`): ``0.16769375804122127`` reads ``0.1677``."""
_MOST_DIGITS = 17
"""Enough significant figures to tell any two floats apart."""


def _rounded(value: Any, digits: int) -> Any:
    """``value`` with every float in it rounded to ``digits`` significant figures (a whole
    number, and anything not a number, as it is)."""
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        return float(f"{value:.{digits}g}")
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    return value


NOT_SET = "not set"
"""How a change shows a setting a side has not got, or has as null (``costs.budget_gbp_per_year
not set -> 6,000,000``)."""


def shown_apart(*values: Any) -> list[str]:
    """Settings shown side by side (a baseline's value and an option's old and new), each as
    :func:`show` gives it with its numbers to :data:`SETTING_DIGITS` significant figures (a
    whole number whole), or more where that would make two different values read the same
    (``0.26770001 -> 0.2677`` reads ``0.2677 -> 0.26770001``): a config value is never
    rounded to look like another. A missing value (None) reads :data:`NOT_SET`."""

    def shown(v: Any, digits: int) -> str:
        return NOT_SET if v is None else show(_rounded(v, digits))

    for digits in range(SETTING_DIGITS, _MOST_DIGITS + 1):
        out = [shown(v, digits) for v in values]
        if all(out[i] != out[j] for i in range(len(values)) for j in range(i) if values[i] != values[j]):
            return out
    return [shown(v, _MOST_DIGITS) for v in values]


def _split_comment(line: str) -> tuple[str, str]:
    """Split ``code  # comment`` at the first ``#`` outside quotes and after a space."""
    quote: str | None = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def _flat(value: Any, prefix: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in _flat(v, f"{prefix}.{k}")]
    return [(prefix, value)]


@dataclass
class _Parse:
    """State while reading one file, line by line."""

    path: Path
    name: str
    rows: list[tuple[Assumption, str]] = field(default_factory=list)
    stack: list[tuple[int, str]] = field(default_factory=list)
    block: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    seen_key: bool = False
    skip_deeper_than: int | None = None
    extends: str | None = None
    items: dict[str, int] = field(default_factory=dict)
    """Dotted path of a list -> the number of items seen in it."""

    def comment(self, text: str) -> None:
        (self.block if self.seen_key else self.header).append(text)

    def setting(self, lineno: int, indent: int, key: str, value: str, comment: str) -> None:
        self.seen_key = True
        while self.stack and self.stack[-1][0] >= indent:
            self.stack.pop()
        dotted = ".".join([k for _, k in self.stack] + [key])
        note = comment or " ".join(self.block)
        self.block = []
        if not self.stack and key == "extends":
            self.extends = value.strip("\"'")
        elif value in ("", *_BLOCK_SCALARS):
            self._section(lineno, indent, key, dotted, value, comment)
        elif note and dotted not in ("name", "description"):
            self._leaves(lineno, dotted, value, note)

    def item(self, indent: int) -> int:
        """A list item (``- ...`` at ``indent``): what follows is keyed by the item's number in
        its list (``changes.0.set.teams.north.workers``). Returns the indent of its keys."""
        self.seen_key = True
        while self.stack and self.stack[-1][0] > indent:
            self.stack.pop()
        parent = ".".join(k for _, k in self.stack)
        number = self.items.get(parent, 0)
        self.items[parent] = number + 1
        self.stack.append((indent + 1, str(number)))  # deeper than the list, shallower than its keys
        self.block = []
        return indent + 2

    def _section(self, lineno: int, indent: int, key: str, dotted: str, value: str, comment: str) -> None:
        if value:  # a block scalar: its lines are text, not settings
            self.skip_deeper_than = indent
            return
        self.stack.append((indent, key))
        if comment:  # a commented section header: its source covers what follows
            self.rows.append((Assumption(dotted, "", comment, self.name, lineno), f"{self.path}:{lineno}"))

    def _leaves(self, lineno: int, dotted: str, value: str, note: str) -> None:
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value
        group = f"{self.path}:{lineno}"
        leaves = _flat(parsed, dotted) if isinstance(parsed, dict) else [(dotted, parsed)]
        for leaf, leaf_value in leaves:
            self.rows.append((Assumption(leaf, show(leaf_value), note, self.name, lineno), group))


def _parse_commented(path: Path, name: str = "") -> _Parse:
    """Commented settings of one file (each with the source line it shares), its
    ``extends`` and its header comment; ``name`` is the file as the rows show it."""
    state = _Parse(path, name or path.name)
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if state.skip_deeper_than is not None:
            if stripped and indent <= state.skip_deeper_than:
                state.skip_deeper_than = None
            else:
                continue
        if not stripped:
            state.block = []
        elif stripped.startswith("#"):
            state.comment(stripped.lstrip("#").strip())
        else:
            code, comment = _split_comment(raw)
            if code.lstrip() == "-" or code.lstrip().startswith("- "):
                indent = state.item(indent)
                code = " " * indent + code.lstrip()[1:].lstrip()
            m = _KEY_LINE.match(code)
            if m:
                state.setting(lineno, indent, m.group("key").strip("\"'"), (m.group("value") or "").strip(), comment)
            else:
                state.block = []
    return state


def _chain(path: Path) -> list[Path]:
    """``path`` and the files it ``extends``, the file itself first."""
    chain: list[Path] = []
    p = path.resolve()
    while p not in chain and p.is_file():
        chain.append(p)
        parent = _parse_commented(p).extends
        if parent is None:
            break
        p = (p.parent / parent).resolve()
    return chain


def _regroup(leaves: Mapping[str, tuple[Assumption, str]]) -> list[Assumption]:
    """Leaves from the same source line joined again (``teams.washington``: ``workers: 11, ...``)."""
    groups: dict[str, list[Assumption]] = {}
    for row, group in leaves.values():
        groups.setdefault(group, []).append(row)
    out: list[Assumption] = []
    for members in groups.values():
        if len(members) == 1:
            out.append(members[0])
            continue
        common: list[str] = []
        for segs in zip(*[r.key.split(".") for r in members]):
            if len(set(segs)) != 1:
                break
            common.append(segs[0])
        base = ".".join(common)
        value = ", ".join(f"{r.key[len(base) + 1 :]}: {r.value}" for r in members)
        out.append(Assumption(base, value, members[0].source, members[0].file, members[0].line))
    return out


@dataclass(frozen=True)
class _From:
    """A leaf of the merged scenario, standing for the value that file number ``file`` of
    the chain (parents first) set there."""

    file: int


_REPLACED = object()
"""Key under which a mapping marked ``replace: true`` records the file that set it."""


def _tagged(data: Any, file: int) -> Any:
    """``data`` with each value that is not a mapping replaced by ``_From(file)``, keeping
    ``replace: true`` (and recording, under ``_REPLACED``, the file that replaces). An empty
    mapping stays one: merged, it keeps what the parents set, as the loader's merge does."""
    if not isinstance(data, dict):
        return _From(file)
    out: dict[Any, Any] = {str(k): _tagged(v, file) for k, v in data.items() if k != "replace"}
    if "replace" in data:
        out["replace"] = data["replace"] if data["replace"] is True else _From(file)
        if data["replace"] is True:
            out[_REPLACED] = file
    return out


def _in_force(merged: Mapping[Any, Any], key: str, file: int) -> bool:
    """Whether the setting ``key`` of file number ``file`` is the one the merged scenario
    holds: a value that file set (or a value inside a list it set), or a section that no later
    file replaced whole."""
    node: Any = merged
    segments = key.split(".")
    while segments:
        if isinstance(node, _From):  # inside a list or a value set whole
            return node.file == file
        if not isinstance(node, dict):
            return False
        # a key may itself hold dots (``set: {mst.caseload_cap: 2}``): take the longest that exists
        n = next((n for n in range(len(segments), 0, -1) if ".".join(segments[:n]) in node), 0)
        if n == 0:
            return False
        node, segments = node[".".join(segments[:n])], segments[n:]
    if isinstance(node, _From):
        return node.file == file
    return isinstance(node, dict) and node.get(_REPLACED, file) <= file


def read_assumptions(path: str | Path, overrides: Sequence[str] = ()) -> tuple[list[Assumption], list[tuple[str, str]]]:
    """Commented settings of a scenario file and the files it ``extends`` (child over
    parent, merged by :func:`sim.config.merge_extends` as the loader merges them, so only the
    settings the run used are listed; each ``--set KEY=VALUE`` replaces what it names, with the
    source "command line"), and each file's path (as :func:`display_path` shows it) with its
    opening comment.

    Raises
    ------
    OSError
        If a file in the chain cannot be read.
    ScenarioError
        If a file in the chain is not valid YAML.
    """
    chain = list(reversed(_chain(Path(path))))  # parents first, children override
    root = Path(os.path.commonpath([f.parent for f in chain])) if chain else None
    leaves: dict[str, tuple[Assumption, str]] = {}
    origin: dict[str, int] = {}  # leaf key -> the number of the file that set it
    headers: list[tuple[str, str]] = []
    merged: dict[Any, Any] = {}
    for i, f in enumerate(chain):
        name = display_path(f, root)
        state = _parse_commented(f, name)
        headers.append((name, " ".join(state.header)))
        data = safe_yaml_load(f.read_text(encoding="utf-8"), str(f)) or {}
        if isinstance(data, dict):
            data.pop("extends", None)
            merged = merge_extends(merged, _tagged(data, i))
        for row, group in state.rows:
            for old in [k for k in leaves if k.startswith(row.key + ".")] if row.value else []:
                del leaves[old]  # a scalar replacing a mapping
            leaves[row.key], origin[row.key] = (row, group), i
    leaves = {key: leaf for key, leaf in leaves.items() if _in_force(merged, key, origin[key])}
    for i, text in enumerate(overrides):
        try:
            key, value = parse_override(text)
        except ScenarioError:
            continue
        for old in [k for k in leaves if k == key or k.startswith(key + ".")]:
            del leaves[old]
        leaves[key] = (Assumption(key, show(value), f"command line: --set {text}", "(command line)", 0), f"set:{i}")
    return _regroup(leaves), headers


def scenario_files(res: Results) -> dict[str, Path]:
    """Scenario name -> its original scenario file (``manifest["scenario_files"]``, as typed,
    relative to ``manifest["cwd"]``), for the files that can still be found."""
    man = res.manifest
    cwd = Path(str(man.get("cwd") or "."))
    out: dict[str, Path] = {}
    for name, typed in dict(man.get("scenario_files") or {}).items():
        path = Path(str(typed))
        for candidate in (path, cwd / path) if path.is_absolute() else (cwd / path, Path.cwd() / path):
            if candidate.is_file():
                out[str(name)] = candidate
                break
    return out


def setting_sources(res: Results, scenario: str) -> dict[str, Assumption]:
    """Each commented setting of scenario ``scenario``'s file (:func:`read_assumptions`, with
    the run's ``--set`` overrides from the manifest), by its dotted key; empty when the file
    cannot be found or read."""
    path = scenario_files(res).get(scenario)
    if path is None:
        return {}
    overrides = [str(o) for o in res.manifest.get("overrides") or []]
    try:
        return {r.key: r for r in read_assumptions(path, overrides)[0]}
    except (OSError, UnicodeDecodeError, ScenarioError):
        return {}


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_changes(base: Mapping[str, Any], option: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """Settings that differ between two resolved scenarios, ``(dotted key, base value, option
    value)``, leaving out ``name``, ``description`` and the dated ``changes`` (see
    :func:`dated_changes`; None where a side lacks the key)."""
    fb, fo = _flatten(base), _flatten(option)
    keys = [k for k in dict.fromkeys([*fb, *fo]) if k not in ("name", "description", "changes")]
    return [(k, fb.get(k), fo.get(k)) for k in keys if fb.get(k) != fo.get(k)]


@dataclass(frozen=True)
class DatedChange:
    """One dated change of a resolved scenario: its ``number`` in ``changes``, ``date``
    (ISO), ``why``, and each setting as ``(dotted key, value before the date, value from it)``."""

    number: int
    date: str
    why: str
    settings: tuple[tuple[str, Any, Any], ...]

    @property
    def when(self) -> str:
        """The date as a planner writes it (``1 April 2015``)."""
        try:
            return long_date(dt.date.fromisoformat(self.date))
        except ValueError:
            return self.date


def dated_changes(scenario: Mapping[str, Any]) -> list[DatedChange]:
    """The dated changes of a resolved scenario, in order, each setting with the value in
    force just before its date (the scenario's own, or an earlier change's)."""
    now = _flatten({k: v for k, v in scenario.items() if k != "changes"})
    out: list[DatedChange] = []
    for i, change in enumerate(scenario.get("changes") or []):
        settings = []
        for key, new in dict(change.get("set") or {}).items():
            settings.append((str(key), now.get(str(key)), new))
            now[str(key)] = new
        out.append(DatedChange(i, str(change.get("date", "")), str(change.get("why") or ""), tuple(settings)))
    return out


def _run_dates(scenario: Mapping[str, Any]) -> tuple[dt.date, float, list[dt.date]] | None:
    """A resolved scenario's start date, duration and the dates of its dated changes (None
    where the mapping does not hold them as a validated scenario does)."""
    run = scenario.get("run") or {}
    try:
        start, duration = dt.date.fromisoformat(str(run["start_date"])), float(run["duration_days"])
        return start, duration, [dt.date.fromisoformat(ch.date) for ch in dated_changes(scenario)]
    except (KeyError, TypeError, ValueError):
        return None


def unreached_changes(scenario: Mapping[str, Any]) -> list[DatedChange]:
    """The dated changes of a resolved scenario that never take effect: dated on or after
    its run's end (:func:`sim.config.unreached`)."""
    dates = _run_dates(scenario)
    changes = dated_changes(scenario)
    return [changes[i] for i in unreached(*dates)] if dates is not None else []


def unreached_warnings(scenario: Mapping[str, Any]) -> list[str]:
    """The warnings :func:`sim.config.change_warnings` gives a resolved scenario (the same
    lines ``ehsim validate`` and the console print)."""
    dates = _run_dates(scenario)
    return change_warnings(*dates) if dates is not None else []


def changes_anchor(option: str) -> str:
    """The id of the report's "What ``option`` changes" table."""
    return f"changes-{option}"


def value_on(scenario: Mapping[str, Any], key: str, date: str) -> Any:
    """The value of setting ``key`` in force on ``date`` (ISO) in a resolved scenario: its
    own, or that of its last dated change on or before the date (None where it has none)."""
    value = _flatten({k: v for k, v in scenario.items() if k != "changes"}).get(key)
    for change in dated_changes(scenario):
        if change.date <= date:
            value = next((new for k, _, new in change.settings if k == key), value)
    return value

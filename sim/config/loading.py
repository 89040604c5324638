"""Loading scenarios: YAML with limits, ``extends:``, dotted overrides, field-named errors."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from sim.config.limits import MAX_YAML_BYTES, _one_line, _one_line_errors
from sim.config.schema import Scenario, check_name, model_at
from sim.config.yaml_limits import _data_children, _parse_yaml, _shape_problem, safe_yaml_load
from sim.distributions import DIST_KEY, DIST_TAGS, Distribution
from sim.errors import FileError, OverrideError, ScenarioError

# ---------------------------------------------------------------------- loading
_MESSAGES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "finite_number": "must be a finite number",
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "too_short": "must have at least {min_length} item(s)",
    "literal_error": "must be one of {expected}",
}


# A validator's message may start with the field it is about, relative to the model
# ("need_probs: probabilities must sum to 1"); it is joined to the model's location.
_FIELD_PREFIX = re.compile(r"([A-Za-z_]\w*(?:\.\w+)*): (.*)", re.DOTALL)


def _path(loc: tuple[str | int, ...]) -> list[str]:
    """A pydantic error location as the dotted path a user writes (no distribution tags)."""
    return [_one_line(str(p)) for p in loc if str(p) not in DIST_TAGS and str(p) != "[key]"]


def _format_error(err: dict[str, Any], prefix: tuple[str | int, ...] = ()) -> str:
    """One line per problem (a model validator may report several, one per line)."""
    loc = _path((*prefix, *err["loc"]))
    # pydantic reports errors raised in a model validator at the model's own location
    where = ".".join(loc) or "scenario"
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "value_error":
        lines = []
        for msg in str(ctx.get("error", err["msg"])).split("\n"):
            m = _FIELD_PREFIX.fullmatch(msg)
            if m and loc:
                lines.append(f"{where}.{m[1]}: {m[2]}")
            elif m:
                lines.append(msg)
            else:
                lines.append(f"{where}: {msg}")
        return "\n".join(lines)
    if kind == "union_tag_invalid":
        return f"{where}.dist: unknown distribution {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"{where}.dist: required key is missing (the distribution's name)"
    template = _MESSAGES.get(kind)
    msg = template.format(**ctx) if template else err["msg"][0].lower() + err["msg"][1:]
    if kind in ("missing", "extra_forbidden"):
        return f"{where}: {msg}"
    return f"{where}: {msg}, got {err.get('input')!r}"


Problem = tuple[tuple[str, ...], str]
"""A problem of a scenario: the dotted path of the part it was found in (``()`` for the
whole scenario) and its one-line message."""


def _validated(data: Any) -> tuple[Scenario | None, list[Problem]]:
    """``data`` as a :class:`Scenario` and no problems, or None and its problems."""
    if not isinstance(data, dict):
        return None, [((), f"scenario: must be a mapping of keys, got {type(data).__name__}")]
    problem = _shape_problem(data, _data_children)
    if problem:
        return None, [((), f"scenario: {problem}")]
    try:
        return Scenario.model_validate(data), []
    except ValidationError as exc:
        return None, [
            (tuple(_path(e["loc"])), _one_line(line))
            for e in exc.errors()
            for line in _format_error(dict(e)).split("\n")
        ]


@_one_line_errors
def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    """Validate a plain mapping into a :class:`Scenario`, raising :class:`ScenarioError`."""
    scenario, problems = _validated(data)
    if scenario is None:
        raise ScenarioError([line for _, line in problems])
    return scenario


@_one_line_errors
def scenario_with_overrides(
    data: dict[str, Any], overrides: dict[str, Any] | list[str] | None, name: str | None = None
) -> Scenario:
    """Validate ``data`` with ``overrides`` applied (and ``name`` given, if not None), saying
    whose each problem is.

    A problem ``data`` has by itself is its own: a :class:`ScenarioError`, as from
    :func:`scenario_from_dict`. Otherwise a problem the overrides bring is raised as an
    :class:`OverrideError` naming the overrides whose part of the scenario it was found at, in
    or above (an override's part is its key, or the mapping it created: ``mst.therapists=3``
    where there is no ``mst`` makes ``mst`` its own); for a problem of no one override's part
    (a check across the scenario, such as open plans against a team's slots), the overrides
    without any one of which it goes away, else every override. A key an override cannot be
    set through names that override alone; a problem of ``name`` is a :class:`ScenarioError`.
    An override through an optional block the scenario has not got (``panel.interval_days=7``
    with no ``panel``) is one problem saying so, with the block's required keys, instead of one
    "required key is missing" per key.
    """
    pairs = _override_pairs(overrides)
    settings = _settings(overrides, pairs)
    parts: dict[str, tuple[str, ...]] = {}
    merged = data
    for key, value in pairs.items():
        parts[key] = _part_set(merged, key)
        try:
            merged = apply_overrides(merged, {key: value})
        except ScenarioError as exc:
            raise OverrideError("overrides", [((settings[key],), m) for m in exc.messages]) from None
    if name is not None:
        merged = {**merged, "name": name}
    scenario, problems = _validated(merged)
    if scenario is not None:
        return scenario
    _, own = _validated(data)
    if own:
        raise ScenarioError([line for _, line in own])
    if name is not None and (named := [line for where, line in problems if where[:1] == ("name",)]):
        raise ScenarioError(named)
    problems, absent = absent_blocks(parts, merged, problems)
    blamed = [
        (
            [settings[k] for k in pairs if k == dotted or k.startswith(f"{dotted}.")],  # every one into it
            no_block(
                part,
                required,
                f"to add one, set the whole block (required keys: {', '.join(required)}): {dotted}={{...}}",
            ),
        )
        for part, required in absent
        for dotted in [".".join(part)]
    ]
    without: dict[str, set[str]] = {}  # override -> the problems left when it alone is not applied
    for where, line in problems:
        found = [settings[key] for key, part in parts.items() if where and _related(where, part)]
        if not found and len(pairs) > 1:  # a whole-scenario check: the overrides it goes away without
            for key in pairs:
                if key not in without:
                    rest = apply_overrides(data, {k: v for k, v in pairs.items() if k != key})
                    without[key] = {m for _, m in _validated(rest if name is None else {**rest, "name": name})[1]}
            found = [settings[key] for key in pairs if line not in without[key]]
        blamed.append((found or list(settings.values()), line))
    raise OverrideError("overrides", blamed)


def absent_blocks(
    parts: dict[str, tuple[str, ...]], merged: dict[str, Any], problems: list[Problem]
) -> tuple[list[Problem], list[tuple[tuple[str, ...], list[str]]]]:
    """The optional blocks of the schema that settings go through but the scenario has not got
    (``panel.interval_days`` with no ``panel``), and ``problems`` without their "required key is
    missing" lines (one per key the settings did not give): a caller says the block is absent
    once instead (:func:`no_block`).

    Parameters
    ----------
    parts
        Each setting's dotted key -> the part of the scenario it sets (:func:`_part_set`: the
        mapping it creates, else the key itself).
    merged
        The scenario's data with the settings applied.
    problems
        The problems of ``merged`` (:func:`_validated`).

    Returns
    -------
    problems, absent
        The problems left; each absent block (its path) with its required keys, in the
        settings' order.
    """
    absent: dict[tuple[str, ...], list[str]] = {}
    for key, part in parts.items():
        required = _absent_block(part) if part != tuple(key.split(".")) else []
        missing = [k for k in required if k not in _node(merged, part)]
        if missing and part not in absent:
            absent[part] = required
            problems = [(where, line) for where, line in problems if where not in [(*part, m) for m in missing]]
    return problems, list(absent.items())


def no_block(part: tuple[str, ...], required: list[str], remedy: str) -> str:
    """The one line saying the scenario has not got the optional block at ``part``
    (:func:`absent_blocks`), then ``remedy``: how to give it one."""
    dotted = ".".join(part)
    return f"{dotted}: the scenario has no {dotted} block; {remedy}"


def _absent_block(part: tuple[str, ...]) -> list[str]:
    """The required keys of the block at ``part`` when it is an optional block of the schema
    (a scenario may have no ``panel``, ``mst``...); else none."""
    hits = model_at(part, entries=False)
    model, field = hits[0] if len(hits) == 1 else (None, None)
    fields = getattr(model, "model_fields", None)
    if not fields or field is None or field.is_required():
        return []
    return [f.alias or n for n, f in fields.items() if f.is_required()]


def _node(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """The mapping at ``path`` in ``data`` (empty where there is none)."""
    node: Any = data
    for name in path:
        node = node.get(name) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _part_set(data: dict[str, Any], key: str) -> tuple[str, ...]:
    """The part of ``data`` an override of ``key`` sets: the first mapping on its path that it
    creates, else the key itself."""
    path = tuple(key.split("."))
    node: Any = data
    for i, part in enumerate(path[:-1]):
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return path[: i + 1]
    return path


def _related(where: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """Whether a problem found at ``where`` may come from setting ``part``: one is at or in the other."""
    n = min(len(where), len(part))
    return where[:n] == part[:n]


def _settings(overrides: Any, pairs: dict[str, Any]) -> dict[str, str]:
    """Each override key -> the override as ``KEY=VALUE`` for a message: as typed when given as
    text, else with its value in YAML flow style."""
    if isinstance(overrides, (list, tuple)):
        typed = {text.partition("=")[0].strip(): text.strip() for text in overrides}
        return {key: _clip(_one_line(typed[key])) for key in pairs}
    return {key: _clip(_one_line(f"{key}={_shown(value)}")) for key, value in pairs.items()}


def _shown(value: Any) -> str:
    try:
        text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    except yaml.YAMLError:
        return repr(value)
    return text.removesuffix("...").strip()


@_one_line_errors
def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` (value as YAML) from the command line."""
    if not isinstance(text, str):
        raise OverrideError(
            "overrides", [([_clip(repr(text))], f"expected a KEY=VALUE string, got {type(text).__name__}")]
        )
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise OverrideError("overrides", [([_clip(repr(text))], "expected KEY=VALUE, e.g. teams.washington.workers=7")])
    if "" in key.strip().split("."):
        raise OverrideError(
            "overrides", [([_clip(repr(text))], f"empty key in dotted path {_clip(repr(key.strip()))}")]
        )
    parsed, problem = _parse_yaml(value, "value is not valid YAML") if value.strip() else (None, None)
    if problem is not None:
        raise OverrideError("overrides", [([_clip(key.strip())], problem)])
    return key.strip(), parsed


def _clip(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (a subject echoed back must leave room for the problem)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


NAMED_ENTRIES: dict[tuple[str, ...], tuple[str, str, tuple[str, ...]]] = {
    ("localities",): ("locality", "localities", ("localities",)),
    ("referrals", "sources"): ("referral source", "sources", ("referrals", "sources")),
    ("teams",): ("team", "teams", ("teams",)),
    ("initial_state", "teams"): ("team", "teams", ("teams",)),
    ("social_care", "statutory", "inflow", "sources"): (
        "social care referral source",
        "sources",
        ("social_care", "statutory", "inflow", "sources"),
    ),
    ("needs", "exits"): ("kind of exit", "exits", ("needs", "exits")),
}
"""The mappings of named entries, by dotted path: (what an entry is, what the list of them is
called, the path of the mapping whose names may be used). An override *through* an entry
that does not exist (``teams.nonexistent.workers=3``) is refused with the names that do;
otherwise it would create half an entry and fail on a missing key. An ``initial_state.teams``
entry may be added for any team in ``teams``; a new team is added by setting the whole entry
(``teams.new={workers: 5, caseload_cap: 20}``)."""


def _names_at(data: dict[str, Any], path: tuple[str, ...]) -> list[str]:
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return [str(k) for k in node] if isinstance(node, dict) else []


def no_entry(at: tuple[str, ...], known: list[str], where: str, hint: str) -> str:
    """The one line saying the entry at ``at`` of a mapping of named entries (:data:`NAMED_ENTRIES`)
    does not exist: the entries that do, the one its name is close to (a typo), then ``hint``.

    Parameters
    ----------
    at
        The entry's path (``("teams", "washingtn")``).
    known
        The names that exist.
    where
        Where it does not exist, with a leading space (" in the scenario it extends"), or "".
    hint
        How to add one, with a leading "; ", or "".
    """
    noun, plural, _ = NAMED_ENTRIES[at[:-1]]
    listed = ", ".join(known) if known else "none"
    near = difflib.get_close_matches(at[-1], known, n=1)
    guess = f"; did you mean {near[0]!r}?" if near else ""
    return _one_line(f"{'.'.join(at)}: {noun} {at[-1]!r} does not exist{where} ({plural}: {listed}{guess}){hint}")


def _partial_new_entries(base: dict[str, Any], child: dict[str, Any]) -> list[str]:
    """The entries a file extending ``base`` adds to a mapping of named entries that may be added
    to (:data:`NAMED_ENTRIES`: ``teams``, ``localities``...) without a key every entry needs,
    each as the one line of :func:`no_entry`: a new entry must be given whole, so a name not in
    ``base`` with keys missing is taken for a typo of one that is (``teams: {washingtn:
    {workers: 7}}``), not as half a new entry ("teams.washingtn.caseload_cap: required key is
    missing"). A mapping the file replaces (``replace: true``) adds nothing."""
    out = []
    for path, (noun, _, known_at) in NAMED_ENTRIES.items():
        if known_at != path:  # initial_state.teams: an entry for a team of teams, never a new one
            continue
        node: Any = child
        for part in path:  # a mapping replaced on the way adds its entries whole
            node = node.get(part) if isinstance(node, dict) and node.get("replace") is not True else None
        if not isinstance(node, dict) or node.get("replace") is True:
            continue
        known = _names_at(base, path)
        required = _entry_required(path)
        for name, entry in node.items():
            if name not in known and isinstance(entry, dict) and [k for k in required if k not in entry]:
                hint = f"; to add a {noun}, give it every required key ({', '.join(required)})"
                out.append(no_entry((*path, str(name)), known, " in the scenario it extends", hint))
    return out


def _entry_required(path: tuple[str, ...]) -> list[str]:
    """The required keys of an entry of the mapping of named entries at ``path`` (a team's)."""
    hits = model_at((*path, "*")) if model_at(path, entries=False) else []  # an entry of that mapping
    fields = getattr(hits[0][0] if len(hits) == 1 else None, "model_fields", None) or {}
    return [f.alias or n for n, f in fields.items() if f.is_required()]


@_one_line_errors
def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``data`` with dotted keys set, creating mappings as needed.

    Raises :class:`ScenarioError` for a key that is not a dotted path, a key through a value
    that is not a mapping, and a key through a named entry that does not exist
    (:data:`NAMED_ENTRIES`)."""
    out = _deep_copy(data)
    for dotted, value in _override_pairs(overrides).items():
        parts = dotted.split(".")
        node = out
        for i, part in enumerate(parts[:-1]):
            named = NAMED_ENTRIES.get(tuple(parts[:i]))
            if named is not None and part not in node:
                noun, _, known_at = named
                known = _names_at(out, known_at)
                if part not in known:
                    here = ".".join(parts[: i + 1])
                    hint = (
                        f"; to add a {noun}, set the whole entry: {here}={{...}}"
                        if known_at == tuple(parts[:i])
                        else ""
                    )
                    raise ScenarioError([no_entry(tuple(parts[: i + 1]), known, "", hint)])
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            if not isinstance(nxt, dict):
                raise ScenarioError(
                    [_one_line(f"{'.'.join(parts[: i + 1])}: cannot set {dotted}, this key is not a mapping")]
                )
            node = nxt
        node[parts[-1]] = value
    return out


_OVERRIDES_FORM = "a mapping {'teams.washington.workers': 12} or a list of 'KEY=VALUE' strings"


def _override_pairs(overrides: Any) -> dict[str, Any]:
    """``overrides`` as ``{dotted key: value}``, from a mapping or a list of ``KEY=VALUE``."""
    if overrides is None:
        return {}
    if isinstance(overrides, str):
        raise ScenarioError(
            [f"overrides: must be {_OVERRIDES_FORM}, got the string {overrides[:60]!r} (put it in a list)"]
        )
    if isinstance(overrides, (list, tuple)):
        return dict(parse_override(o) for o in overrides)
    if not isinstance(overrides, dict):
        raise ScenarioError([f"overrides: must be {_OVERRIDES_FORM}, got {type(overrides).__name__}"])
    for key in overrides:
        if not isinstance(key, str) or not key.strip() or "" in key.split("."):
            raise ScenarioError([f"overrides: {key!r} is not a dotted key like 'teams.washington.workers'"])
    return overrides


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def _given_whole(value: Any) -> bool:
    """Whether a mapping of a file that extends another replaces the extended file's mapping
    instead of merging into it: one marked ``replace: true``, or a distribution (it names its
    ``dist``): ``{dist: uniform, low: 90, high: 180}`` over a lognormal's median and sigma is
    the whole new distribution, not a uniform with a median."""
    return isinstance(value, dict) and (value.get("replace") is True or DIST_KEY in value)


def merge_extends(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``child`` over ``base``. A mapping with ``replace: true``, or a distribution
    given with its ``dist`` (:func:`_given_whole`), replaces instead."""
    out = _deep_copy(base)
    for key, value in child.items():
        if _given_whole(value):
            out[key] = {k: v for k, v in value.items() if k != "replace"}
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_extends(out[key], value)
        else:
            out[key] = _deep_copy(value)
    return out


MAX_EXTENDS_CHAIN = 16
"""Most files in one ``extends:`` chain (bundled chains have two)."""


def read_yaml_file(path: Path, where: str = "scenario", kind: str = "a scenario file") -> Any:
    """The YAML value of the file at ``path`` (:func:`safe_yaml_load`): UTF-8 text of at most
    :data:`MAX_YAML_BYTES` (``kind``, ``a scenario file``, says what may be at most that). Raises
    :class:`FileError` for a problem of the file, else (not found, unreadable) a
    :class:`ScenarioError` whose line starts with ``where``."""
    try:
        if not path.is_file():
            raise ScenarioError([f"{where}: file not found: {path}"])
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise FileError([f"{path}: the file is {size:,} bytes; {kind} may be at most {MAX_YAML_BYTES:,} bytes"])
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FileError([f"{path}: not a text file (could not decode as UTF-8)"]) from None
    except OSError as exc:
        raise ScenarioError([f"{where}: cannot read {path}: {exc.strerror or exc}"]) from None
    return safe_yaml_load(text, str(path))


def _read_yaml(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError([f"extends: cycle in scenario files: {cycle}"])
    if len(chain) >= MAX_EXTENDS_CHAIN:
        raise ScenarioError([f"extends: more than {MAX_EXTENDS_CHAIN} files in a chain (at {path})"])
    data = read_yaml_file(path, f"extends (in {chain[-1]})" if chain else "scenario")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FileError([f"{path}: the top level must be a mapping of keys, got {type(data).__name__}"])
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError([f"extends: must be a file path, got {parent!r}"])
    base = _read_yaml((path.parent / parent).resolve(), (*chain, path))
    if added := _partial_new_entries(base, data):
        raise ScenarioError(added)
    merged = merge_extends(base, data)
    if mixed := _mixed_distributions(base, data, merged, (), parent):
        raise ScenarioError(mixed)
    if "name" not in data and "name" in base and _is_name(path.stem):
        merged["name"] = path.stem  # fifth_mst.yaml is "fifth_mst", not a second "baseline"
    return merged


def _is_name(text: str) -> bool:
    """Whether ``text`` may be a scenario's name (:data:`NAME_RULE`)."""
    try:
        check_name(text)
    except ValueError:
        return False
    return True


_DISTRIBUTION: TypeAdapter[Any] = TypeAdapter(Distribution)


def _mixed_distributions(base: Any, child: Any, merged: Any, at: tuple[str, ...], parent: str) -> list[str]:
    """The distributions a file extending ``parent`` changes without naming their ``dist`` (so
    merged into the extended file's, :func:`merge_extends`) into ones that are not valid: keys
    it adds beside keys it did not write (``{mean: 150, sd: 60}`` over a lognormal's median and
    sigma), each as one line saying which keys come from the extended file and how to give the
    distribution whole."""
    if not (isinstance(base, dict) and isinstance(child, dict) and isinstance(merged, dict)):
        return []
    if DIST_KEY in base and not _given_whole(child):
        added = [str(k) for k in child if k not in base]
        inherited = [str(k) for k in base if k not in child and k != DIST_KEY]
        if not added or not inherited:
            return []
        try:
            _DISTRIBUTION.validate_python(merged)
        except ValidationError as exc:
            where = ".".join(at)
            problem = "; ".join(_format_error(dict(e), at).removeprefix(f"{where}: ") for e in exc.errors())
            example = ", ".join(f"{k}: ..." for k in added)
            return [
                f"{where}: {', '.join(inherited)} come from the file it extends ({parent}), merged with "
                f"{', '.join(added)} given here ({problem}); to give a new distribution instead, write it "
                f"whole with its {DIST_KEY} ({where}: {{{DIST_KEY}: {base[DIST_KEY]}, {example}}}) "
                "or add replace: true"
            ]
        return []
    return [
        line
        for key, value in child.items()
        if not _given_whole(value)
        for line in _mixed_distributions(base.get(key), value, merged.get(key), (*at, str(key)), parent)
    ]


@_one_line_errors
def load_raw(path: str | Path, overrides: dict[str, Any] | list[str] | None = None) -> dict[str, Any]:
    """The merged, overridden mapping behind a scenario file (before validation)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ScenarioError([f"path: must be a scenario file path (str or Path), got {type(path).__name__}"])
    pairs = _override_pairs(overrides)  # a bad overrides argument is refused before reading
    try:
        resolved = Path(path).resolve()
    except (OSError, TypeError, ValueError) as exc:
        raise ScenarioError([f"scenario: not a usable file path: {path!r} ({exc})"]) from None
    data = _read_yaml(resolved, ())
    if pairs:
        data = apply_overrides(data, pairs)
    return data


@_one_line_errors
def load_scenario(path: str | Path, overrides: dict[str, Any] | list[str] | None = None) -> Scenario:
    """Load, merge (``extends:``), override and validate a scenario file.

    Parameters
    ----------
    path
        YAML scenario file (at most :data:`MAX_YAML_BYTES`, nested at most
        :data:`MAX_YAML_DEPTH` deep, at most :data:`MAX_YAML_NODES` values with aliases
        expanded).
    overrides
        ``{"teams.washington.workers": 12}`` or ``["teams.washington.workers=12"]`` (not a bare string).

    Raises
    ------
    ScenarioError
        With one field-named message per problem of the file.
    OverrideError
        With one message per problem the overrides bring to a file that is valid without them,
        naming the override(s) it comes from.
    """
    pairs = _override_pairs(overrides)  # a bad overrides argument is refused before reading
    data = load_raw(path)
    return scenario_with_overrides(data, overrides) if pairs else scenario_from_dict(data)


def scenario_to_yaml(scenario: Scenario) -> str:
    """The resolved scenario as YAML (what ``config.resolved.yaml`` holds)."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False)

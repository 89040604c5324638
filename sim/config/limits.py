"""Limits on what a scenario may ask for, and the pieces every schema model shares."""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from sim.distributions import check_probabilities
from sim.errors import OverrideError, ScenarioError

_T = TypeVar("_T")
_P = ParamSpec("_P")

# --------------------------------------------------------------------------- limits
# Bounds on what a scenario file may ask for. Each is far outside any real service (the
# bundled scenarios are quoted for scale) and exists so that a typo or a hostile file is
# refused at validation, with the field named, instead of hanging or exhausting memory.
# The work a valid scenario implies (referrals x replications) is bounded separately, in
# :mod:`sim.workload`.

MAX_YAML_BYTES = 1024 * 1024
"""Largest scenario file read, in bytes (1 MiB). The largest bundled scenario is 14 kB."""
MAX_YAML_NODES = 100_000
"""Most YAML nodes (mappings, sequences, scalars, keys included) a document may hold once its
aliases (``*name``) are expanded. The largest bundled scenario has 453. An alias "bomb" of a
few hundred bytes expands to billions of nodes; it is refused after a count that takes time
linear in the file, before anything is built from it."""
MAX_YAML_DEPTH = 50
"""Deepest nesting of mappings and sequences (aliases expanded). Scenarios nest 5 deep; the
limit keeps the loader and the validator far from Python's recursion limit."""

MAX_NAME_CHARS = 100
"""Longest scenario ``name``. Names become folder names (``results/<name>-...``)."""
MAX_VARIANT_NAME_CHARS = 1000
"""Longest name of a derived variant (``<name>[key=value,...]``, as :func:`sim.sweep` makes)."""
_NAME = re.compile(r"\w[\w.-]*")  # \w: letters and digits of any script (Ynys_Môn), and '_'
_VARIANT_SUFFIX = re.compile(r"\[[^/\\\x00-\x1f\x7f]*\]")
NAME_RULE = (
    f"letters (any alphabet), digits, '_', '-' and '.', starting with a letter, digit or '_', no '..', "
    f"at most {MAX_NAME_CHARS} characters (a name, not a path)"
)

MIN_INTERVAL_DAYS = 1.0
"""Shortest cycle of a panel (``panel.interval_days``) or of parenting groups
(``parenting_groups.interval_days``): one meeting or one new group a day. A shorter cycle is
a typo (``1e-7`` makes a run of billions of empty meetings that never ends)."""
MIN_RESULTS_WINDOW_DAYS = 30.0
"""Shortest results window, ``run.duration_days - run.warmup_days``: KPIs are reported per
year, and a window under a month is extrapolated from too few events to mean anything."""
MAX_DURATION_DAYS = 36_525.0
"""Longest horizon, ``run.duration_days``: 100 years (the longest bundled run is 20,000 days)."""
MAX_ANNUAL_RATE = 10_000_000.0
"""Largest ``annual_rate`` of one referral source: ten million referrals a year, far beyond any
local authority (the largest bundled source has 1,740)."""
MAX_CHILDREN_MEAN = 10.0
"""Largest ``family.children_mean``. Families in England average about two children (the
bundled councils use 2.25, Sunderland-EH-2018 para 4.2); a mean of ten is far above any
caseload, and a larger one is a typo (``225`` for ``2.25``)."""
MAX_STAFF = 100_000
"""Most staff in one post type (``teams.*.workers``, ``teams.*.other_fte``, ``front_door.staff``,
``mst.therapists``, ``fgc.coordinators``, ``family_mental_health.consultants``): far beyond any
local authority (bundled teams have tens)."""
MAX_COUNT = 1_000_000
"""Most of any other count: caseload caps, capacities per meeting or group, concurrent plans,
families open or waiting in ``initial_state`` (the largest bundled count is 1,100)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(32), 127)} | {0x85: "\\x85", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _one_line(text: str) -> str:
    """``text`` with control characters and line breaks escaped: a key or name read from a
    file never splits a message line (one line per problem) or garbles a terminal."""
    return text.translate(_CONTROL)


def _one_line_errors(fn: Callable[_P, _T]) -> Callable[_P, _T]:
    """Decorate a public loader: its :class:`ScenarioError` messages keep to one line each,
    whatever keys, names or paths they quote."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return fn(*args, **kwargs)
        except ScenarioError as exc:
            lines = [_one_line(m) for m in exc.messages]
            if lines == exc.messages:
                raise
            if isinstance(exc, OverrideError):  # still the overrides' problems
                problems = [([_one_line(s) for s in settings], _one_line(p)) for settings, p in exc.problems]
                raise OverrideError(exc.argument, problems) from None
            raise type(exc)(lines) from None  # a FileError still names its file

    return wrapper


def _prob(**kw: Any) -> Any:
    return Field(ge=0, le=1, **kw)


def _at_least_a_day(value: float) -> float:
    if value < MIN_INTERVAL_DAYS:
        raise ValueError(
            f"must be >= {MIN_INTERVAL_DAYS:g} day (at most one a day; a shorter cycle never lets the run end), "
            f"got {value:g}"
        )
    return value


Interval = Annotated[float, AfterValidator(_at_least_a_day)]
"""Days between meetings or groups: > 0 (checked first, by the field) and at least a day."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """``YYYY-MM-DD``, as a YAML date or a string; anything else is refused by name."""
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    if isinstance(value, _dt.datetime):
        shown = f"a date and time ({value.isoformat(sep=' ')})"
    else:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    raise ValueError(f"must be a valid date written YYYY-MM-DD (e.g. 2017-04-01), got {shown}")


IsoDate = Annotated[_dt.date, BeforeValidator(_iso_date)]
"""A calendar date written ``YYYY-MM-DD`` (:func:`_iso_date`): every date field of a scenario."""


SEASONALITY_MEAN_RANGE = (0.5, 2.0)
"""Range the mean of 12 monthly seasonality multipliers must fall in. The multipliers scale
the annual rate month by month, unnormalised, so their mean scales the whole year's demand:
a profile around 1 keeps the rate annual; one written as percentages (``[100, 95, ...]``)
would multiply demand by about 100."""


def _check_seasonality(values: list[float]) -> None:
    if len(values) != 12:
        raise ValueError(f"seasonality: needs 12 monthly multipliers, got {len(values)}")
    if any(v < 0 for v in values):
        raise ValueError(f"seasonality: multipliers must be >= 0, got {values}")
    low, high = SEASONALITY_MEAN_RANGE
    mean = sum(values) / 12
    if not low <= mean <= high:
        hint = "; they look like percentages: divide them by 100" if mean >= 20 else ""
        raise ValueError(
            f"seasonality: the 12 multipliers average {mean:.3g}, must average between {low:g} and {high:g}; "
            "they multiply the annual rate month by month (not normalised), so write them around 1, "
            f"e.g. 1.05 for a month 5% above the average, 0.82 for one 18% below{hint}"
        )


def _complete(d: dict[str, Any], keys: tuple[str, ...], name: str) -> None:
    for k in d:
        if k not in keys:
            raise ValueError(f"{name}.{_one_line(str(k))}: unknown key; must be one of {', '.join(keys)}")
    missing = [k for k in keys if k not in d]
    if missing:
        raise ValueError(f"{name}: missing {', '.join(missing)}")


def _check_probs(d: dict[str, float], keys: tuple[str, ...], name: str) -> None:
    _complete(d, keys, name)
    try:
        check_probabilities(d)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None

"""Numbers as people read them: the one formatter for the CLI, the report's text and tables.

A KPI's stored value is shown after :meth:`sim.kpis.Kpi.scale` (counts per year, shares in
percent), in the style of its ``kind``. Each group of numbers shown together takes the precision
its own numbers need (:func:`group_decimals`): a scenario's mean and its interval, an option's
two levels with their difference and its interval (:func:`row_decimals`), never another
option's or scenario's (a narrow interval in one option once gave a wait of 153.723 days
beside an interval ±9 days wide in another).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sim.kpis import Kpi

__all__ = [
    "ADD_UP_DECIMALS",
    "DIFF_ROW",
    "LEVELS_BESIDE_POUNDS",
    "MAX_DECIMALS",
    "MEAN_CI",
    "MILLION",
    "MONEY_DECIMALS",
    "ZERO_DECIMALS",
    "adds_up",
    "base_decimals",
    "change_unit",
    "clip_interval",
    "diff_interval",
    "excludes_zero",
    "field_kind",
    "fmt_kpi",
    "fmt_money_axis",
    "fmt_number",
    "fmt_row",
    "group_decimals",
    "in_millions",
    "money_change",
    "negligible",
    "row_decimals",
    "row_shown",
    "rows_decimals",
    "shown",
    "shown_in_millions",
]

MILLION = 1e6
"""Money of this many pounds or more is shown in millions in the report's text (:func:`row_shown`)."""
MAX_DECIMALS = 8
"""The most decimals a group of numbers is ever given (:func:`group_decimals`)."""
MONEY_DECIMALS = {"gbp": 0, "gbp_m": 6}
"""The most decimals money is ever given: whole pounds, and in millions to the pound."""
ZERO_DECIMALS = 2
"""The most decimals an end of an interval that includes zero takes beyond its group's so that
it does not read as zero when it is not (:func:`_off_zero`: ``-0.02 to 0.2``, not ``0.0 to 0.2``)."""
LEVELS_BESIDE_POUNDS = 0.01
"""The least half-width, in millions, at which a change's interval asks decimals of levels in
millions beside the change shown in pounds (:func:`money_change`); a narrower one asks none:
£4.34m to £4.69m beside "rises by £346,201 (95% CI £345,800 to £346,600)", not £4.3429m to
£4.6891m."""
_CHANGE = ("diff_mean", "ci_low", "ci_high")
"""The fields of a row of ``differences.csv`` that are a change: the difference and its interval."""
ADD_UP_DECIMALS = 1
"""The most decimals :func:`group_decimals` adds so that two levels subtract to their difference
as shown; past it each is shown rounded on its own (:func:`row_shown`): one more decimal makes
``129.375 -> 116.625`` add up (``129.4 -> 116.6, -12.8``), while more only add digits to means of
three replications (``330.667 -> 158.333, -172.334`` for -172.333)."""
_LEVELS = ("base_mean", "option_mean")
"""The two levels of a row of ``differences.csv`` (the difference's fields are the others)."""
MEAN_CI = ("mean", "ci_low", "ci_high")
"""A row of ``summary.csv`` as shown: a mean and its interval."""
DIFF_ROW = (*_LEVELS, "diff_mean", "ci_low", "ci_high")
"""A row of ``differences.csv`` as shown: two levels, their difference and its interval."""


def base_decimals(kind: str, values: Iterable[float] = ()) -> int:
    """The decimals a kind is shown with: ``days`` one; ``count``, ``gbp`` and ``share`` none;
    ``level`` none, one when every value is under 10; ``points`` (a difference of two shares,
    in percentage points) none; ``gbp_m`` (millions of pounds) one; otherwise two."""
    if kind == "days":
        return 1
    if kind in ("count", "gbp", "share", "points"):
        return 0
    if kind == "gbp_m":
        return 1
    if kind == "level":
        return 1 if all(abs(v) < 10 for v in values if math.isfinite(v)) else 0
    return 2


def _reads(x: float, d: int) -> str:
    return f"{abs(x):.{d}f}"


def _units(x: float, d: int) -> int:
    """``x`` rounded as shown to ``d`` decimals, in units of its last digit (exact, no float)."""
    return int(f"{x:.{d}f}".replace(".", ""))


def adds_up(base: float, option: float, diff: float, decimals: int) -> bool:
    """Whether ``option`` less ``base``, each shown to ``decimals``, is ``diff`` as shown
    (non-finite numbers are not checked)."""
    if not all(math.isfinite(x) for x in (base, option, diff)):
        return True
    return _units(option, decimals) - _units(base, decimals) == _units(diff, decimals)


def group_decimals(
    kind: str,
    values: Iterable[float],
    low: float = math.nan,
    high: float = math.nan,
    apart: Sequence[tuple[float, float]] = (),
    adds: Sequence[tuple[float, float, float]] = (),
    at_least: int = 0,
) -> int:
    """The decimals for a group of (already scaled) numbers shown together: a value and its
    interval ``low`` to ``high``, or two levels, their difference and its interval.

    One precision serves the whole group, so the value reads inside its interval (rounding
    to the same decimals keeps the order) and two levels subtract to their difference as
    shown where they can. It is the kind's (:func:`base_decimals`) or ``at_least`` if more,
    raised until

    * the interval's half-width shows at least one significant figure (its ends are then at
      least two units of the last digit apart, so ``0 to 0`` never hides ``-0.22 to 0.02``);
    * an interval that excludes zero has no end that reads as zero;
    * each pair in ``apart`` (two levels with a clear difference) reads as two numbers;

    then by at most :data:`ADD_UP_DECIMALS` more where each ``(base, option, diff)`` in
    ``adds`` adds up there as shown (:func:`adds_up`: ``129.4 -> 116.6, -12.8``, not
    ``129 -> 117, -13``); see :func:`_add_up_decimals` for when none does. Non-finite numbers
    are ignored; at most :data:`MAX_DECIMALS`.
    """
    vals = [float(v) for v in values]
    readable = _readable(vals, low, high, apart)
    return _add_up_decimals(_first_readable(kind, vals, low, high, readable, at_least), readable, adds, kind)


def _readable(
    values: Sequence[float], low: float, high: float, apart: Sequence[tuple[float, float]]
) -> Callable[[int], bool]:
    """Whether a group reads at a precision (:func:`group_decimals`'s three rules)."""
    bounded = math.isfinite(low) and math.isfinite(high)
    half = (high - low) / 2 if bounded else 0.0
    clear = bounded and excludes_zero(low, high)
    pairs = [(a, b) for a, b in apart if math.isfinite(a) and math.isfinite(b) and a != b]

    def readable(d: int) -> bool:
        wide = half <= 0 or 10.0**-d <= half * (1 + 1e-9)
        off_zero = not clear or all(float(_reads(x, d)) != 0 for x in (low, high))
        distinct = all(f"{a:.{d}f}" != f"{b:.{d}f}" for a, b in pairs)
        return wide and off_zero and distinct

    return readable


def _first_readable(
    kind: str, values: Sequence[float], low: float, high: float, readable: Callable[[int], bool], at_least: int
) -> int:
    """The fewest decimals, from the kind's or ``at_least``, at which a group reads; money at
    most :data:`MONEY_DECIMALS` (whole pounds: no pence beside £81,769,464)."""
    most = MONEY_DECIMALS.get(kind, MAX_DECIMALS)
    d = min(max(base_decimals(kind, [*values, low, high]), at_least), most)
    while d < most and not readable(d):
        d += 1
    return d


def _add_up_decimals(
    d: int, readable: Callable[[int], bool], adds: Sequence[tuple[float, float, float]], kind: str = ""
) -> int:
    """From ``d`` decimals (at which the numbers read), the fewest, at most
    :data:`ADD_UP_DECIMALS` more (none for pounds, ``kind`` ``gbp``: never pence beside
    £81,769,464), at which the most ``(base, option, diff)`` of ``adds`` add up as shown
    (:func:`adds_up`).

    When none does (the means of three replications are thirds, and ``330.667 -> 158.333`` is
    never ``-172.333``: more decimals only add digits), each number is shown rounded on its
    own (:func:`row_shown`), so the difference is the true one to its last digit and the
    levels subtract to it within one unit of that digit; its interval is not moved, so a
    clear one never reads zero. The precision is then the fewest at which the levels, as
    shown, move the way the difference does (``1,491.8 -> 1,492.4, 0.7`` rather than
    ``1,492 -> 1,492, 1``), else ``d``: extra decimals would not make them add up.
    """
    extra = 0 if kind == "gbp" else ADD_UP_DECIMALS
    tried = [p for p in range(d, min(d + extra, MONEY_DECIMALS.get(kind, MAX_DECIMALS)) + 1) if readable(p)]
    added = [sum(adds_up(*t, p) for t in adds) for p in tried]
    if added and max(added) > 0:
        return tried[added.index(max(added))]
    return next((p for p in tried if all(_same_way(*t, p) for t in adds)), d)


def _same_way(base: float, option: float, diff: float, decimals: int) -> bool:
    """Whether ``option`` less ``base`` as shown has the sign of ``diff`` as shown (zero with zero)."""
    if not all(math.isfinite(x) for x in (base, option, diff)):
        return True
    levels = _units(option, decimals) - _units(base, decimals)
    shown_diff = _units(diff, decimals)
    return (levels > 0) - (levels < 0) == (shown_diff > 0) - (shown_diff < 0)


def fmt_number(value: Any, kind: str, decimals: int | None = None) -> str:
    """Format an already-scaled value.

    ``days`` ``1.5``; ``count`` and ``level`` with thousands separators (a count is a whole
    number of families, so a mean count is shown rounded); ``gbp`` with ``£`` and a minus sign
    before it (``gbp_m``: millions, ``£46.8m``); ``share`` with ``%``; ``points`` (a difference
    of shares) a bare number (the caller names the unit, :func:`change_unit`); otherwise
    ``1.23``. ``decimals`` defaults to the kind's (:func:`base_decimals`); a number shown with
    others (a mean and its interval) takes the group's (:func:`group_decimals`). ``n/a`` for None or NaN; never ``-0``.
    """
    if value is None:
        return "n/a"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "n/a"
    d = base_decimals(kind, (x,)) if decimals is None else decimals
    digits = f"{abs(x):,.{d}f}"
    body = {"gbp": f"£{digits}", "gbp_m": f"£{digits}m", "share": f"{digits}%"}.get(kind, digits)
    zero = float(digits.replace(",", "")) == 0
    return ("-" if x < 0 and not zero else "") + body


def shown(value: Any, kpi: Kpi, window_days: float) -> float:
    """The stored value scaled for display (per year, percent)."""
    try:
        return float(value) * kpi.scale(window_days)
    except (TypeError, ValueError):
        return math.nan


def fmt_kpi(value: Any, kpi: Kpi, window_days: float, decimals: int | None = None) -> str:
    """A stored KPI value, scaled and formatted (``decimals``: see :func:`fmt_number`)."""
    return fmt_number(shown(value, kpi, window_days), kpi.kind, decimals)


def excludes_zero(low: Any, high: Any) -> bool:
    """Whether an interval lies wholly on one side of zero."""
    try:
        return float(low) > 0 or float(high) < 0
    except (TypeError, ValueError):
        return False


def field_kind(kpi: Kpi, field: str, row: Mapping[str, Any]) -> str:
    """How ``field`` of a row of ``summary.csv`` or ``differences.csv`` is formatted: as the
    KPI's kind, but a difference of two shares (its mean and interval) in percentage points."""
    if kpi.kind == "share" and "diff_mean" in row and field not in _LEVELS:
        return "points"
    return kpi.kind


def change_unit(kpi: Kpi) -> str:
    """The unit of a difference in ``kpi``: percentage points for a share, else its unit."""
    return "percentage points" if kpi.kind == "share" else kpi.display_unit


def negligible(
    row: Mapping[str, Any],
    kpi: Kpi,
    window_days: float,
    decimals: int | None = None,
    millions: bool | None = None,
    at_least: int = 0,
) -> str:
    """The difference of a row of ``differences.csv`` as the report's text shows it, with its
    unit (``"0.00 children"``, ``"0 percentage points"``, ``"£0"``), when it rounds to zero
    there; ``""`` when it does not. It is shown as :func:`row_shown` shows it in the text
    (``short``): to the row's own precision from ``at_least``, or to ``decimals`` if given, and
    in millions as ``millions`` says, so give it what the sentence that states the difference
    is given: a difference listed as negligible ("rounds to 0.0 days") is then never given at a
    finer precision in the same paragraph ("rises by 0.037 days")."""
    value, kind, places = row_shown(row, kpi, window_days, "diff_mean", True, at_least, decimals, millions)
    if not math.isfinite(value) or _units(value, places) != 0:
        return ""
    unit = "" if kind in ("gbp", "gbp_m", "share") else f" {change_unit(kpi)}"
    return fmt_number(0.0, kind, places) + unit


def _row_values(row: Mapping[str, Any], kpi: Kpi, window_days: float) -> dict[str, float]:
    """The numbers of a row as shown (scaled), a difference's interval bounded (:func:`diff_interval`)."""
    fields = (*_LEVELS, "diff_mean") if "diff_mean" in row else ("mean",)
    value = {f: shown(row.get(f), kpi, window_days) for f in (*fields, "ci_low", "ci_high")}
    if "diff_mean" in row:
        bounded = diff_interval(kpi, value["base_mean"], value["ci_low"], value["ci_high"], kpi.scale(window_days))
        value["ci_low"], value["ci_high"] = bounded
    return value


def diff_interval(kpi: Kpi, base: float, low: float, high: float, scale: float = 1.0) -> tuple[float, float]:
    """The interval ``low`` to ``high`` of a difference from the level ``base``, bounded as the
    option's level is (:func:`clip_interval`).

    The option's level is the baseline's plus the difference, so for a KPI that cannot be
    negative the difference cannot be below minus the baseline's level: an interval reading
    "from 330.7 to 158.3 (95% CI -330.8 to -13.9)" would say the option may have fewer than no
    children waiting. Its lower end is raised to minus the baseline mean (and, for a part of
    its whole, its upper end lowered to the whole less it), as the t interval of a level is
    truncated at zero; the truncated interval holds the true difference whenever the t
    interval does if the baseline mean is its true level, and the baseline mean is the best
    estimate of it we show."""
    if not math.isfinite(base):
        return low, high
    lo, hi = clip_interval(kpi, base + low, base + high, scale)
    # only a bound that moved is recomputed, so an interval within bounds keeps its exact ends
    return (lo - base if lo != base + low else low), (hi - base if hi != base + high else high)


def clip_interval(kpi: Kpi, low: float, high: float, scale: float = 1.0) -> tuple[float, float]:
    """An interval I compute myself (stored values times ``scale``), truncated at zero when
    the KPI cannot be negative, at one (times ``scale``) when it cannot exceed its whole and
    at its ``at_most`` (times ``scale``) (as ``summary.csv`` does)."""
    if kpi.nonnegative and math.isfinite(low) and low < 0:
        low = 0.0
    if kpi.at_most_one and math.isfinite(high) and high > scale:
        high = scale
    if math.isfinite(high) and high > kpi.at_most * scale:
        high = kpi.at_most * scale
    return low, high


def in_millions(kpi: Kpi, values: Iterable[float]) -> bool:
    """Whether money is shown short, in millions of pounds (``£46.8m``): some value is £1m or more."""
    return kpi.kind == "gbp" and any(math.isfinite(v) and abs(v) >= MILLION for v in values)


def shown_in_millions(rows: Iterable[tuple[Mapping[str, Any], Kpi, float]], short: bool = True) -> bool:
    """Whether the money of rows shown together, each with its KPI and window in days, is shown
    in millions: in the report's text (``short``) when some value of some row is £1m or more
    (:func:`in_millions`). One unit for them all, so one sentence, or one KPI in every option's
    block, never reads ``£980,000`` beside ``£1.03m``; give it to :func:`fmt_row` or
    :func:`row_shown` as ``millions``."""
    return short and any(in_millions(kpi, _row_values(row, kpi, window).values()) for row, kpi, window in rows)


def _row_group(
    row: Mapping[str, Any], kpi: Kpi, window_days: float, millions: bool
) -> tuple[str, list[float], float, float, list[tuple[float, float]], list[tuple[float, float, float]]]:
    """A row as :func:`group_decimals` takes it: kind, values, interval (none where the change
    has a unit of its own, :func:`money_change`), levels to read apart (when the interval
    excludes zero) and levels with their difference to add up."""
    value = _row_values(row, kpi, window_days)
    diff = "diff_mean" in row
    # a change shown in pounds beside levels in millions (money_change): its interval asks the
    # levels for the precision it would in millions only when it is LEVELS_BESIDE_POUNDS wide or
    # more (not £4.3429m for an interval £800 wide: the change is given to the pound beside them)
    own_unit = diff and millions and not money_change(value["diff_mean"], value["ci_low"], value["ci_high"])[0]
    clear = excludes_zero(value["ci_low"], value["ci_high"])
    if millions:
        value = {f: v / MILLION for f, v in value.items()}
    low, high = value.pop("ci_low"), value.pop("ci_high")
    if own_unit:  # an interval about zero of that half-width, or none: it asks only for decimals
        half = (high - low) / 2
        low, high = (-half, half) if half >= LEVELS_BESIDE_POUNDS else (math.nan, math.nan)
    apart = [(value["base_mean"], value["option_mean"])] if diff and clear else []
    adds = [(value["base_mean"], value["option_mean"], value["diff_mean"])] if diff else []
    return "gbp_m" if millions else kpi.kind, list(value.values()), low, high, apart, adds


def row_decimals(
    row: Mapping[str, Any], kpi: Kpi, window_days: float, millions: bool = False, at_least: int = 0
) -> int:
    """The decimals of one row of ``summary.csv`` (``mean``, ``ci_low``, ``ci_high``) or of
    ``differences.csv`` (``base_mean``, ``option_mean``, ``diff_mean`` and its ``ci_low`` to
    ``ci_high``; the two levels must read apart when the interval excludes zero, and subtract
    to the difference as shown), shown together (:func:`group_decimals`); ``millions``: of the
    values in millions of pounds; ``at_least``: the fewest decimals (rows shown side by side,
    :func:`rows_decimals`)."""
    kind, values, low, high, apart, adds = _row_group(row, kpi, window_days, millions)
    return group_decimals(kind, values, low, high, apart, adds, at_least)


def _row_precision(
    row: Mapping[str, Any],
    kpi: Kpi,
    window_days: float,
    short: bool,
    at_least: int = 0,
    decimals: int | None = None,
    millions: bool | None = None,
) -> tuple[bool, int]:
    """Whether the row's money is shown in millions (``millions`` if given, the unit of the rows
    it is shown with, :func:`shown_in_millions`; else the row's own), and its decimals (once
    per row): ``decimals`` if given, else its own from ``at_least``.
    Money in pounds beside money in millions keeps its own precision: ``at_least`` (decimals of
    millions, :func:`rows_decimals`) would show £812,345.300."""
    if millions is None:
        millions = shown_in_millions([(row, kpi, window_days)], short)
    millions = short and millions
    pounds = short and kpi.kind == "gbp" and not millions
    if decimals is not None and not pounds:
        return millions, decimals
    return millions, row_decimals(row, kpi, window_days, millions, 0 if pounds else at_least)


def rows_decimals(
    rows: Iterable[tuple[Mapping[str, Any], Kpi, float]], short: bool = False, millions: bool | None = None
) -> int:
    """The fewest decimals of rows shown side by side, each with its KPI and window in days (the
    costs that add up to the total; a cost and its budget): the most any of them needs
    (:func:`row_decimals`, in millions where ``short`` shows them so: in the unit ``millions``
    if given, :func:`shown_in_millions`, else each row's own), so that none reads coarser than
    the others; give it to :func:`fmt_row` or :func:`row_shown` as ``at_least`` (a row may
    take a decimal more to add up)."""
    return max((_row_precision(row, kpi, window, short, millions=millions)[1] for row, kpi, window in rows), default=0)


def money_change(diff: float, low: float, high: float) -> tuple[bool, int]:
    """Whether a change in money (pounds, scaled) and its interval ``low`` to ``high`` are shown
    in millions in the report's text, and their decimals: the one rule for a change's unit,
    apart from its levels' (:func:`shown_in_millions`).

    Pounds when the change and both ends are under £1m in size, whole pounds (``rises by
    £346,201 a year``, not ``£0.35m``; ``change £1,414``, not ``£0.00m``); else millions, to the
    precision at which the group reads (:func:`group_decimals`) and raised until the two ends
    read apart when they are a pound or more apart, never beyond
    :data:`MONEY_DECIMALS` (millions to the pound)."""
    ends = [v for v in (diff, low, high) if math.isfinite(v)]
    if not any(abs(v) >= MILLION for v in ends):
        return False, MONEY_DECIMALS["gbp"]
    most = MONEY_DECIMALS["gbp_m"]
    m_diff, m_low, m_high = (v / MILLION for v in (diff, low, high))
    d = group_decimals("gbp_m", [m_diff], m_low, m_high)
    apart = math.isfinite(low) and math.isfinite(high) and high - low >= 1
    while apart and d < most and f"{m_low:.{d}f}" == f"{m_high:.{d}f}":
        d += 1
    return True, d


def _off_zero(x: float, low: float, high: float, d: int, kind: str) -> int:
    """The decimals of ``x``, an end of the interval ``low`` to ``high`` that includes zero,
    shown to ``d``: up to :data:`ZERO_DECIMALS` more (within :data:`MONEY_DECIMALS`) where it
    would read as zero but is not (``-0.02 to 0.2``, not ``0.0 to 0.2`` for -0.016), so an
    interval reads as starting at zero only where it does; ``d`` otherwise."""
    if not (math.isfinite(low) and math.isfinite(high) and low <= 0 <= high) or x == 0 or _units(x, d) != 0:
        return d
    most = min(d + ZERO_DECIMALS, MONEY_DECIMALS.get(kind, MAX_DECIMALS))
    return next((p for p in range(d + 1, most + 1) if _units(x, p) != 0), d)


def _row_shown(
    row: Mapping[str, Any],
    kpi: Kpi,
    window_days: float,
    fields: Sequence[str],
    short: bool,
    at_least: int = 0,
    decimals: int | None = None,
    millions: bool | None = None,
) -> list[tuple[float, str, int]]:
    millions, places = _row_precision(row, kpi, window_days, short, at_least, decimals, millions)  # one for the row
    value = _row_values(row, kpi, window_days)
    value |= {f: shown(row.get(f), kpi, window_days) for f in fields if f not in value}
    level_kind = "gbp_m" if millions else kpi.kind
    diff_row = "diff_mean" in row
    change = (millions, places)
    if diff_row and short and kpi.kind == "gbp":  # a change in money takes its own unit (money_change)
        change = money_change(value["diff_mean"], value["ci_low"], value["ci_high"])
        if change[0] == millions:  # in the levels' unit: at least their precision, so they can add up
            change = (millions, min(max(places, change[1]), MONEY_DECIMALS[level_kind]))
    out = []
    for f in fields:
        m, d = change if diff_row and f in _CHANGE else (millions, places)
        unit = 1 / MILLION if m else 1.0
        x = value[f] * unit
        kind = "gbp_m" if m else field_kind(kpi, f, row)
        if f in ("ci_low", "ci_high"):
            d = _off_zero(x, value["ci_low"] * unit, value["ci_high"] * unit, d, kind)
        out.append((x, kind, d))
    return out


def row_shown(
    row: Mapping[str, Any],
    kpi: Kpi,
    window_days: float,
    field: str,
    short: bool = False,
    at_least: int = 0,
    decimals: int | None = None,
    millions: bool | None = None,
) -> tuple[float, str, int]:
    """How ``field`` of a row of ``summary.csv`` or ``differences.csv`` is shown: the number
    (scaled; in millions of pounds when ``short``, the report's text, and some money of the row,
    or of the rows it is shown with (``millions``), is £1m or more: ``£46.8m (£41.6m to
    £52.0m)``; tables keep pounds), the kind for :func:`fmt_number`
    (:func:`field_kind`) and the row's decimals (:func:`row_decimals`). Each number is the
    true one rounded to them, a difference's interval bounded as its option's level is
    (:func:`diff_interval`): the levels subtract to the difference as shown wherever up to
    :data:`ADD_UP_DECIMALS` more decimals make them (:func:`adds_up`), else within one unit of
    its last digit. ``at_least``, ``decimals``, ``millions``: see :func:`fmt_row`."""
    ((value, kind, places),) = _row_shown(row, kpi, window_days, (field,), short, at_least, decimals, millions)
    return value, kind, places


def fmt_row(
    row: Mapping[str, Any],
    kpi: Kpi,
    window_days: float,
    fields: Sequence[str],
    short: bool = False,
    at_least: int = 0,
    decimals: int | None = None,
    millions: bool | None = None,
) -> list[str]:
    """``fields`` of one row of ``summary.csv`` or ``differences.csv``, scaled and formatted
    to the row's one precision (:func:`row_shown`), starting from ``at_least`` decimals if more
    (rows shown side by side, :func:`rows_decimals`): the levels subtract to the difference as
    shown where they can (a row may take a decimal more than ``at_least`` for that); ``decimals``,
    if given, is the precision; ``millions``, if given, whether money is in millions (``short``:
    the unit of the rows shown together, :func:`shown_in_millions`), else the row's own; a
    difference of shares (its mean and interval) in percentage points (:func:`change_unit`)."""
    shown_as = _row_shown(row, kpi, window_days, fields, short, at_least, decimals, millions)
    return [fmt_number(*number) for number in shown_as]


def fmt_money_axis(x: float, _pos: object = None) -> str:
    """Short money for axis ticks: ``£1.2m``, ``-£350k``, ``£80`` (minus sign always shown)."""
    a = abs(x)
    sign = "\u2212" if x < 0 else ""
    if a >= 1e6:
        return f"{sign}£{a / 1e6:.1f}m"
    if a >= 1e3:
        return f"{sign}£{a / 1e3:.0f}k"
    return f"{sign}£{a:.0f}"

"""Numbers as people read them: the one formatter for the CLI, the report's text and tables.

A KPI's stored value is shown after :meth:`sim.kpis.Kpi.scale` (counts per year, shares in
percent), in the style of its ``kind``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sim.kpis import Kpi

__all__ = [
    "ADD_UP_DECIMALS",
    "DIFF_ROW",
    "MAX_DECIMALS",
    "MEAN_CI",
    "adds_up",
    "base_decimals",
    "change_unit",
    "excludes_zero",
    "field_kind",
    "fmt_kpi",
    "fmt_money",
    "fmt_money_axis",
    "fmt_number",
    "fmt_row",
    "group_decimals",
    "in_millions",
    "row_decimals",
    "row_shown",
    "rows_decimals",
    "shown",
]

MILLION = 1e6
"""Money of this many pounds or more is shown in millions in the report's text (:func:`row_shown`)."""
MAX_DECIMALS = 8
"""The most decimals a group of numbers is ever given (:func:`group_decimals`)."""
ADD_UP_DECIMALS = 3
"""The most decimals :func:`group_decimals` adds so that two levels subtract to their difference
as shown; past it the difference is shown as that of the levels shown (:func:`row_shown`)."""
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
    shown. It is the kind's (:func:`base_decimals`) or ``at_least`` if more, raised until

    * the interval's half-width shows at least one significant figure (its ends are then at
      least two units of the last digit apart, so ``0 to 0`` never hides ``-0.22 to 0.02``);
    * an interval that excludes zero has no end that reads as zero;
    * each pair in ``apart`` (two levels with a clear difference) reads as two numbers;

    then by up to :data:`ADD_UP_DECIMALS` more until each ``(base, option, diff)`` in ``adds``
    adds up as shown (:func:`adds_up`: ``129.4 -> 116.6, -12.8``, not ``129 -> 117, -13``); if
    none does, the one of those at which the difference moves least to the levels' (less than
    one unit of its last digit: :func:`row_shown`). Non-finite numbers are ignored; at most :data:`MAX_DECIMALS`.
    """
    vals = [float(v) for v in values]
    d = max(base_decimals(kind, [*vals, low, high]), min(at_least, MAX_DECIMALS))
    bounded = math.isfinite(low) and math.isfinite(high)
    half = (high - low) / 2 if bounded else 0.0
    clear = bounded and excludes_zero(low, high)
    pairs = [(a, b) for a, b in apart if math.isfinite(a) and math.isfinite(b) and a != b]

    def readable(d: int) -> bool:
        wide = half <= 0 or 10.0**-d <= half * (1 + 1e-9)
        off_zero = not clear or all(float(_reads(x, d)) != 0 for x in (low, high))
        distinct = all(f"{a:.{d}f}" != f"{b:.{d}f}" for a, b in pairs)
        return wide and off_zero and distinct

    while d < MAX_DECIMALS and not readable(d):
        d += 1
    tried = [more for more in range(d, min(d + ADD_UP_DECIMALS, MAX_DECIMALS) + 1) if readable(more)]
    for more in tried:
        if all(adds_up(*t, more) for t in adds):
            return more
    # none adds up: the precision at which the difference moves least, in units of its last
    # digit, to the difference of the levels shown (1,491.77 -> 1,492.44, 0.67 for 0.676,
    # rather than 1,492 -> 1,492, 0 for it); an interval that excludes zero must not read as
    # zero once moved with it
    def moved_off_zero(p: int) -> bool:
        if not clear:
            return True
        shift = [(_units(o, p) - _units(b, p)) * 10.0**-p - x for b, o, x in adds if _finite(b, o, x)]
        return all(float(_reads(end + m, p)) != 0 for m in shift for end in (low, high))

    keep = [p for p in tried if moved_off_zero(p)] or tried[-1:]
    return min(keep, key=lambda p: max((_move(*t, p) for t in adds), default=0.0), default=d)


def _finite(*xs: float) -> bool:
    return all(math.isfinite(x) for x in xs)


def _move(base: float, option: float, diff: float, decimals: int) -> float:
    """How far, in units of the last digit, ``diff`` is from ``option`` less ``base`` as shown."""
    if not all(math.isfinite(x) for x in (base, option, diff)):
        return 0.0
    return abs((_units(option, decimals) - _units(base, decimals)) - diff * 10.0**decimals)


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


def _row_values(row: Mapping[str, Any], kpi: Kpi, window_days: float) -> dict[str, float]:
    fields = (*_LEVELS, "diff_mean") if "diff_mean" in row else ("mean",)
    return {f: shown(row.get(f), kpi, window_days) for f in (*fields, "ci_low", "ci_high")}


def in_millions(kpi: Kpi, values: Iterable[float]) -> bool:
    """Whether money is shown short, in millions of pounds (``£46.8m``): some value is £1m or more."""
    return kpi.kind == "gbp" and any(math.isfinite(v) and abs(v) >= MILLION for v in values)


def row_decimals(
    row: Mapping[str, Any], kpi: Kpi, window_days: float, millions: bool = False, at_least: int = 0
) -> int:
    """The decimals of one row of ``summary.csv`` (``mean``, ``ci_low``, ``ci_high``) or of
    ``differences.csv`` (``base_mean``, ``option_mean``, ``diff_mean`` and its ``ci_low`` to
    ``ci_high``; the two levels must read apart when the interval excludes zero, and subtract
    to the difference as shown), shown together (:func:`group_decimals`); ``millions``: of the
    values in millions of pounds; ``at_least``: the fewest decimals (rows shown side by side,
    :func:`rows_decimals`)."""
    value = _row_values(row, kpi, window_days)
    if millions:
        value = {f: v / MILLION for f, v in value.items()}
    low, high = value.pop("ci_low"), value.pop("ci_high")
    diff = "diff_mean" in row
    apart = [(value["base_mean"], value["option_mean"])] if diff and excludes_zero(low, high) else []
    adds = [(value["base_mean"], value["option_mean"], value["diff_mean"])] if diff else []
    kind = "gbp_m" if millions else kpi.kind
    return group_decimals(kind, list(value.values()), low, high, apart, adds, at_least)


def _row_precision(
    row: Mapping[str, Any], kpi: Kpi, window_days: float, short: bool, at_least: int = 0
) -> tuple[bool, int]:
    """Whether the row's money is shown in millions, and its decimals (once per row). Money
    in pounds beside money in millions keeps its own precision: ``at_least`` (decimals of
    millions, :func:`rows_decimals`) would show £812,345.300."""
    millions = short and in_millions(kpi, _row_values(row, kpi, window_days).values())
    pounds = short and kpi.kind == "gbp" and not millions
    return millions, row_decimals(row, kpi, window_days, millions, 0 if pounds else at_least)


def rows_decimals(rows: Iterable[tuple[Mapping[str, Any], Kpi, float]], short: bool = False) -> int:
    """The one precision of rows shown side by side, each with its KPI and window in days (a
    table's scenarios and the differences between them; the costs that add up to the total):
    the most any of them needs (:func:`row_decimals`, in millions where ``short`` shows them
    so), so that a level reads the same in each (not ``123`` in one table and ``122.8`` in the
    next); give it to :func:`fmt_row` or :func:`row_shown` as ``at_least``."""
    return max((_row_precision(row, kpi, window, short)[1] for row, kpi, window in rows), default=0)


def _row_shown(
    row: Mapping[str, Any], kpi: Kpi, window_days: float, fields: Sequence[str], short: bool, at_least: int = 0
) -> list[tuple[float, str, int]]:
    millions, decimals = _row_precision(row, kpi, window_days, short, at_least)  # one precision for the row
    factor = 1 / MILLION if millions else 1.0
    value = {f: shown(row.get(f), kpi, window_days) * factor for f in {*fields, *_row_values(row, kpi, window_days)}}
    if "diff_mean" in row and not adds_up(value["base_mean"], value["option_mean"], value["diff_mean"], decimals):
        # past ADD_UP_DECIMALS: the difference of the levels shown (within a unit of the last
        # digit), its interval moved with it, so the difference still reads inside it
        units = _units(value["option_mean"], decimals) - _units(value["base_mean"], decimals)
        moved = units * 10.0**-decimals - value["diff_mean"]
        value |= {f: value[f] + moved for f in ("diff_mean", "ci_low", "ci_high")}
    return [(value[f], "gbp_m" if millions else field_kind(kpi, f, row), decimals) for f in fields]


def row_shown(
    row: Mapping[str, Any], kpi: Kpi, window_days: float, field: str, short: bool = False, at_least: int = 0
) -> tuple[float, str, int]:
    """How ``field`` of a row of ``summary.csv`` or ``differences.csv`` is shown: the number
    (scaled; in millions of pounds when ``short``, the report's text, and some money is £1m or
    more: ``£46.8m (£41.6m to £52.0m)``; tables keep pounds), the kind for :func:`fmt_number`
    (:func:`field_kind`) and the row's decimals (:func:`row_decimals`). A difference is shown
    as the option's level less the baseline's, each as shown (:func:`adds_up`); where more
    decimals cannot make them agree (:data:`ADD_UP_DECIMALS`), it and its interval are moved by
    at most one unit of the last digit so that they do. ``at_least``: see :func:`fmt_row`."""
    ((value, kind, decimals),) = _row_shown(row, kpi, window_days, (field,), short, at_least)
    return value, kind, decimals


def fmt_row(
    row: Mapping[str, Any],
    kpi: Kpi,
    window_days: float,
    fields: Sequence[str],
    short: bool = False,
    at_least: int = 0,
) -> list[str]:
    """``fields`` of one row of ``summary.csv`` or ``differences.csv``, scaled and formatted
    to the row's one precision (:func:`row_shown`), starting from ``at_least`` decimals if more
    (rows shown side by side, :func:`rows_decimals`): the levels subtract to the difference as
    shown (a row may take a decimal or more than ``at_least`` for that); a difference of shares
    (its mean and interval) in percentage points (:func:`change_unit`)."""
    return [fmt_number(*shown_as) for shown_as in _row_shown(row, kpi, window_days, fields, short, at_least)]


def fmt_money(x: float) -> str:
    """Money on its own in the report's text: in millions from £1m (``£1.8m``), else pounds."""
    return fmt_number(x / MILLION, "gbp_m") if abs(x) >= MILLION else fmt_number(x, "gbp")


def fmt_money_axis(x: float, _pos: object = None) -> str:
    """Short money for axis ticks: ``£1.2m``, ``-£350k``, ``£80`` (minus sign always shown)."""
    a = abs(x)
    sign = "\u2212" if x < 0 else ""
    if a >= 1e6:
        return f"{sign}£{a / 1e6:.1f}m"
    if a >= 1e3:
        return f"{sign}£{a / 1e3:.0f}k"
    return f"{sign}£{a:.0f}"

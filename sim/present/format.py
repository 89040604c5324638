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
    "MAX_DECIMALS",
    "base_decimals",
    "change_unit",
    "excludes_zero",
    "field_kind",
    "fmt_kpi",
    "fmt_money_axis",
    "fmt_number",
    "fmt_row",
    "group_decimals",
    "row_decimals",
    "shown",
]

MAX_DECIMALS = 8
"""The most decimals a group of numbers is ever given (:func:`group_decimals`)."""
_LEVELS = ("base_mean", "option_mean")
"""The two levels of a row of ``differences.csv`` (the difference's fields are the others)."""


def base_decimals(kind: str, values: Iterable[float] = ()) -> int:
    """The decimals a kind is shown with: ``days`` one; ``count``, ``gbp`` and ``share`` none;
    ``level`` none, one when every value is under 10; ``points`` (a difference of two shares,
    in percentage points) none; otherwise two."""
    if kind == "days":
        return 1
    if kind in ("count", "gbp", "share", "points"):
        return 0
    if kind == "level":
        return 1 if all(abs(v) < 10 for v in values if math.isfinite(v)) else 0
    return 2


def _reads(x: float, d: int) -> str:
    return f"{abs(x):.{d}f}"


def group_decimals(
    kind: str,
    values: Iterable[float],
    low: float = math.nan,
    high: float = math.nan,
    apart: Sequence[tuple[float, float]] = (),
) -> int:
    """The decimals for a group of (already scaled) numbers shown together: a value and its
    interval ``low`` to ``high``, or two levels, their difference and its interval.

    One precision serves the whole group, so the value reads inside its interval (rounding
    to the same decimals keeps the order) and two levels subtract to their difference as
    shown (within rounding). It is the kind's (:func:`base_decimals`), raised until

    * the interval's half-width shows at least one significant figure (its ends are then at
      least two units of the last digit apart, so ``0 to 0`` never hides ``-0.22 to 0.02``);
    * an interval that excludes zero has no end that reads as zero;
    * each pair in ``apart`` (two levels with a clear difference) reads as two numbers.

    Non-finite numbers are ignored; at most :data:`MAX_DECIMALS`.
    """
    vals = [float(v) for v in values]
    d = base_decimals(kind, [*vals, low, high])
    bounded = math.isfinite(low) and math.isfinite(high)
    half = (high - low) / 2 if bounded else 0.0
    clear = bounded and excludes_zero(low, high)
    pairs = [(a, b) for a, b in apart if math.isfinite(a) and math.isfinite(b) and a != b]
    while d < MAX_DECIMALS:
        wide = half <= 0 or 10.0**-d <= half * (1 + 1e-9)
        off_zero = not clear or all(float(_reads(x, d)) != 0 for x in (low, high))
        distinct = all(f"{a:.{d}f}" != f"{b:.{d}f}" for a, b in pairs)
        if wide and off_zero and distinct:
            break
        d += 1
    return d


def fmt_number(value: Any, kind: str, decimals: int | None = None) -> str:
    """Format an already-scaled value.

    ``days`` ``1.5``; ``count`` and ``level`` with thousands separators (a count is a whole
    number of families, so a mean count is shown rounded); ``gbp`` with ``£`` and a minus sign
    before it; ``share`` with ``%``; ``points`` (a difference of shares) a bare number (the
    caller names the unit, :func:`change_unit`); otherwise ``1.23``. ``decimals`` defaults to
    the kind's (:func:`base_decimals`); a number shown with others (a mean and its interval)
    takes the group's (:func:`group_decimals`). ``n/a`` for None or NaN; never ``-0``.
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
    body = f"£{digits}" if kind == "gbp" else f"{digits}%" if kind == "share" else digits
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


def row_decimals(row: Mapping[str, Any], kpi: Kpi, window_days: float) -> int:
    """The decimals of one row of ``summary.csv`` (``mean``, ``ci_low``, ``ci_high``) or of
    ``differences.csv`` (``base_mean``, ``option_mean``, ``diff_mean`` and its ``ci_low`` to
    ``ci_high``; the two levels must read apart when the interval excludes zero), shown
    together (:func:`group_decimals`)."""
    fields = [*_LEVELS, "diff_mean"] if "diff_mean" in row else ["mean"]
    value = {f: shown(row.get(f), kpi, window_days) for f in (*fields, "ci_low", "ci_high")}
    low, high = value["ci_low"], value["ci_high"]
    apart = [(value["base_mean"], value["option_mean"])] if "diff_mean" in row and excludes_zero(low, high) else []
    return group_decimals(kpi.kind, [value[f] for f in fields], low, high, apart)


def fmt_row(row: Mapping[str, Any], kpi: Kpi, window_days: float, fields: Sequence[str]) -> list[str]:
    """``fields`` of one row of ``summary.csv`` or ``differences.csv``, scaled and formatted
    to the row's one precision (:func:`row_decimals`); a difference of shares (its mean and
    interval) in percentage points (:func:`change_unit`)."""
    d = row_decimals(row, kpi, window_days)
    return [fmt_number(shown(row.get(f), kpi, window_days), field_kind(kpi, f, row), d) for f in fields]


def fmt_money_axis(x: float, _pos: object = None) -> str:
    """Short money for axis ticks: ``£1.2m``, ``-£350k``, ``£80`` (minus sign always shown)."""
    a = abs(x)
    sign = "\u2212" if x < 0 else ""
    if a >= 1e6:
        return f"{sign}£{a / 1e6:.1f}m"
    if a >= 1e3:
        return f"{sign}£{a / 1e3:.0f}k"
    return f"{sign}£{a:.0f}"

"""Numbers as people read them: the one formatter for the CLI, the report's text and tables.

A KPI's stored value is shown after :meth:`sim.kpis.Kpi.scale` (counts per year, shares in
percent), in the style of its ``kind``.
"""

from __future__ import annotations

import math
from typing import Any

from sim.kpis import Kpi

__all__ = ["excludes_zero", "fmt_ci", "fmt_diff", "fmt_kpi", "fmt_money_axis", "fmt_number", "precise", "shown"]


def fmt_number(value: Any, kind: str, bound: bool = False) -> str:
    """Format an already-scaled value.

    ``days`` one decimal; ``count`` whole numbers with thousands separators (a count is a
    whole number of families, so a mean count is shown rounded); ``level`` (a time-average
    of cases) whole numbers, one decimal under 10; ``gbp`` whole pounds with ``£`` and a
    minus sign before it; ``share`` whole percent; otherwise two decimals. ``n/a`` for None
    or NaN; never ``-0``.

    ``bound=True`` is for a number of an interval that excludes zero (its ends, and the mean
    difference it belongs to): a non-zero value that would round to zero is shown to two
    significant figures instead (``0.31``, ``-0.004``), so a clear difference never reads as
    if it touched zero.
    """
    if value is None:
        return "n/a"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "n/a"
    a = abs(x)
    if kind == "days":
        body = f"{a:,.1f}"
    elif kind == "count":
        body = f"{a:,.0f}"
    elif kind == "level":
        body = f"{a:,.1f}" if a < 10 else f"{a:,.0f}"
    elif kind == "gbp":
        body = f"£{a:,.0f}"
    elif kind == "share":
        body = f"{a:.0f}%"
    else:
        body = f"{a:,.2f}"
    zero = float(body.strip("£%").replace(",", "")) == 0
    if zero and bound and x != 0:
        digits = f"{a:.2g}" if a >= 1e-4 else f"{a:.1e}"
        body = f"£{digits}" if kind == "gbp" else f"{digits}%" if kind == "share" else digits
        zero = False
    return ("-" if x < 0 and not zero else "") + body


def shown(value: Any, kpi: Kpi, window_days: float) -> float:
    """The stored value scaled for display (per year, percent)."""
    try:
        return float(value) * kpi.scale(window_days)
    except (TypeError, ValueError):
        return math.nan


def fmt_kpi(value: Any, kpi: Kpi, window_days: float, bound: bool = False) -> str:
    """A stored KPI value, scaled and formatted (``bound``: the end of an interval, see
    :func:`fmt_number`)."""
    return fmt_number(shown(value, kpi, window_days), kpi.kind, bound)


def excludes_zero(low: Any, high: Any) -> bool:
    """Whether an interval lies wholly on one side of zero."""
    try:
        return float(low) > 0 or float(high) < 0
    except (TypeError, ValueError):
        return False


def precise(low: Any, high: Any, kind: str, scale: float = 1.0) -> bool:
    """Whether an interval (stored values, ``scale`` to display) and the mean it belongs to
    are shown with :func:`fmt_number`'s ``bound``: when the interval excludes zero, or when its
    ends differ but would print as the same number (``0 to 0`` would read as certainly no
    change when the interval is, say, -0.22 to 0.02)."""
    if excludes_zero(low, high):
        return True
    try:
        lo, hi = float(low) * scale, float(high) * scale
    except (TypeError, ValueError):
        return False
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo == hi:
        return False
    return fmt_number(lo, kind) == fmt_number(hi, kind)


def fmt_diff(mean: Any, low: Any, high: Any, kpi: Kpi, window_days: float) -> str:
    """A stored mean difference, formatted as precisely as its interval (:func:`precise`)."""
    return fmt_kpi(mean, kpi, window_days, precise(low, high, kpi.kind, kpi.scale(window_days)))


def fmt_ci(low: Any, high: Any, kpi: Kpi, window_days: float, sep: str = " to ") -> str:
    """A stored confidence interval, scaled and formatted; when it excludes zero (or would
    print as one number, see :func:`precise`) its ends never round to zero."""
    bound = precise(low, high, kpi.kind, kpi.scale(window_days))
    return f"{fmt_kpi(low, kpi, window_days, bound)}{sep}{fmt_kpi(high, kpi, window_days, bound)}"


def fmt_money_axis(x: float, _pos: object = None) -> str:
    """Short money for axis ticks: ``£1.2m``, ``-£350k``, ``£80`` (minus sign always shown)."""
    a = abs(x)
    sign = "\u2212" if x < 0 else ""
    if a >= 1e6:
        return f"{sign}£{a / 1e6:.1f}m"
    if a >= 1e3:
        return f"{sign}£{a / 1e3:.0f}k"
    return f"{sign}£{a:.0f}"

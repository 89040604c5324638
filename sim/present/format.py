"""Numbers as people read them: the one formatter for the CLI, the report's text and tables.

A KPI's stored value is shown after :meth:`sim.kpis.Kpi.scale` (counts per year, shares in
percent), in the style of its ``kind``.
"""

from __future__ import annotations

import math
from typing import Any

from sim.kpis import Kpi

__all__ = ["fmt_kpi", "fmt_money_axis", "fmt_number", "shown"]


def fmt_number(value: Any, kind: str) -> str:
    """Format an already-scaled value.

    ``days`` one decimal; ``count`` whole numbers with thousands separators (a count is a
    whole number of families, so a mean count is shown rounded); ``level`` (a time-average
    of cases) whole numbers, one decimal under 10; ``gbp`` whole pounds with ``£`` and a
    minus sign before it; ``share`` whole percent; otherwise two decimals. ``n/a`` for None
    or NaN; never ``-0``.
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
    return ("-" if x < 0 and not zero else "") + body


def shown(value: Any, kpi: Kpi, window_days: float) -> float:
    """The stored value scaled for display (per year, percent)."""
    try:
        return float(value) * kpi.scale(window_days)
    except (TypeError, ValueError):
        return math.nan


def fmt_kpi(value: Any, kpi: Kpi, window_days: float) -> str:
    """A stored KPI value, scaled and formatted."""
    return fmt_number(shown(value, kpi, window_days), kpi.kind)


def fmt_money_axis(x: float, _pos: object = None) -> str:
    """Short money for axis ticks: ``£1.2m``, ``-£350k``, ``£80`` (minus sign always shown)."""
    a = abs(x)
    sign = "\u2212" if x < 0 else ""
    if a >= 1e6:
        return f"{sign}£{a / 1e6:.1f}m"
    if a >= 1e3:
        return f"{sign}£{a / 1e3:.0f}k"
    return f"{sign}£{a:.0f}"

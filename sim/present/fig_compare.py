"""A comparison's forest plot: each option's paired difference from the baseline per KPI,
with its 95% confidence interval (from ``differences``, common random numbers)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim import kpis as K
from sim.kpis import Kpi
from sim.present import findings
from sim.present.data import cap, n_reps, present, verdict
from sim.present.format import change_unit, diff_interval
from sim.present.theme import colours, finish, money_axis, new_figure, note, style, title
from sim.results import Results

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["compared_kpis", "forest"]


def compared_kpis(res: Results) -> list[Kpi]:
    """KPIs of :data:`sim.kpis.COMPARE` with a difference for at least one option."""
    d = res.differences
    if d is None or d.empty:
        return []
    have = set(d.loc[pd.to_numeric(d["diff_mean"], errors="coerce").notna(), "kpi"].astype(str))
    return [k for k in present(res, K.COMPARE) if k.name in have]


def _row(d: pd.DataFrame, option: str, kpi: str) -> dict[str, Any] | None:
    rows = d[(d["option"].astype(str) == option) & (d["kpi"] == kpi)]
    return {str(k): v for k, v in rows.iloc[0].items()} if len(rows) else None


MIN_HALF_SPAN = {"days": 0.5, "count": 1.0, "level": 1.0, "gbp": 1000.0, "share": 1.0}
"""Smallest half-width of a panel's axis around zero, in display units: a change smaller than
the precision the page prints is drawn at zero, not blown up to fill the panel."""


def _limits(ax: Axes, kpi: Kpi, xs: list[float]) -> None:
    from matplotlib.ticker import MaxNLocator

    finite = [x for x in xs if math.isfinite(x)]
    lo, hi = min([0.0, *finite]), max([0.0, *finite])
    pad = 0.08 * (hi - lo)
    half = MIN_HALF_SPAN.get(kpi.kind, 0.0) or (1.0 if hi == lo else 0.0)  # never a zero-width axis
    ax.set_xlim(min(lo - pad, -half), max(hi + pad, half))
    if kpi.kind == "gbp":
        money_axis(ax.xaxis, 4)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))


def _panel(ax: Axes, res: Results, kpi: Kpi, cols: dict[str, str]) -> list[str]:
    """Draw one KPI's differences; returns the options that differ clearly."""
    assert res.differences is not None
    clear = []
    xs: list[float] = []
    for i, opt in enumerate(res.options):
        row = _row(res.differences, opt, kpi.name)
        scale = kpi.scale(res.window_days(opt))
        d = float(row["diff_mean"]) * scale if row else math.nan
        if not math.isfinite(d):
            ax.text(0, i, "  no value (not measured)", va="center", fontsize=8, color="0.35")
            continue
        # bounded as the text's: a non-negative option's level never below zero (diff_interval)
        base, low, high = (float(row[f]) * scale for f in ("base_mean", "ci_low", "ci_high"))  # type: ignore[index]
        lo, hi = diff_interval(kpi, base, low, high, scale)
        dist = row is not None and verdict(row) == "clear"  # the one rule (rounding noise is no change)
        xs += [d, lo, hi]
        if dist:
            clear.append(opt)
        if math.isfinite(lo) and math.isfinite(hi):
            ax.plot([lo, hi], [i, i], color=cols[opt], linewidth=2.2, solid_capstyle="butt")
            ax.plot([lo, hi], [i, i], "|", color=cols[opt], markersize=9)
        ax.plot([d], [i], "o", markersize=8, color=cols[opt], markerfacecolor=cols[opt] if dist else "white", mew=2)
    ax.axvline(0, color="0.2", linewidth=1)
    ax.set_yticks(range(len(res.options)), res.options)
    ax.set_ylim(len(res.options) - 0.5, -0.5)
    ax.set_title(cap(kpi.label))
    ax.set_xlabel(f"Change ({change_unit(kpi)})")  # a change in a share is in percentage points
    ax.set_ylabel("Option")
    _limits(ax, kpi, xs)
    return clear


def forest(res: Results) -> Figure:
    """One panel per KPI; filled markers where the paired 95% CI excludes zero."""
    kpis = compared_kpis(res)
    options = res.options
    cols = colours(["(baseline)", *options])
    with style():
        ncols = 2 if len(kpis) > 1 else 1
        nrows = max(math.ceil(len(kpis) / ncols), 1)
        fig, axes = new_figure(12, 1.0 + nrows * (0.9 + 0.42 * max(len(options), 1)) + 0.6, nrows, ncols)
        if not kpis or not options:
            axes[0].set_xlabel("Difference from the baseline (KPI units)")
            axes[0].set_ylabel("Option")
            note(axes[0], "No paired differences to show.")
            title(fig, "No options to compare")
            return finish(fig)
        clear = dict.fromkeys(options, 0)
        for ax, kpi in zip(axes, kpis):
            for opt in _panel(ax, res, kpi, cols):
                clear[opt] += 1
        for ax in axes[len(kpis) :]:
            ax.set_visible(False)
        _legend(fig)
        title(fig, findings.forest(clear, len(kpis), n_reps(res) < 2))
        return finish(fig, bottom=0.45)


def _legend(fig: Figure) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", color="0.3", markerfacecolor="0.3", label="clear difference"),
        Line2D(
            [], [], marker="o", color="0.3", markerfacecolor="white", label="no clear difference (95% CI includes 0)"
        ),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=9)

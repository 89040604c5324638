"""Horizontal bars with 95% interval whiskers: the building block of several figures."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from sim.present.theme import HATCHES

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["grouped_hbars", "hbars_by_scenario"]


def _whisker(mean: float, low: float, high: float) -> tuple[float, float]:
    if math.isfinite(low) and math.isfinite(high):
        return max(mean - low, 0.0), max(high - mean, 0.0)
    return 0.0, 0.0


def grouped_hbars(ax: Axes, table: pd.DataFrame, colours: Mapping[str, str], items: Sequence[str]) -> None:
    """One bar per scenario within each item (``table``: ``scenario, item, mean, low, high``),
    bars told apart by colour and hatch, whiskers the 95% interval."""
    scen = [s for s in colours if s in set(table["scenario"])]
    height = 0.8 / max(len(scen), 1)
    for j, s in enumerate(scen):
        recs = {str(r["item"]): r for r in table[table["scenario"] == s].to_dict(orient="records")}
        ys, means, lo_err, hi_err = [], [], [], []
        for i, item in enumerate(items):
            row = recs.get(item)
            if row is None or not math.isfinite(float(row["mean"])):
                continue
            m = float(row["mean"])
            ys.append(i - 0.4 + height * (j + 0.5))
            means.append(m)
            lo, hi = _whisker(m, float(row["low"]), float(row["high"]))
            lo_err.append(lo)
            hi_err.append(hi)
        if not ys:
            continue
        ax.barh(
            ys,
            means,
            height=height * 0.92,
            color=colours[s],
            hatch=HATCHES[j % len(HATCHES)],
            edgecolor="white",
            label=s,
        )
        ax.errorbar(means, ys, xerr=[lo_err, hi_err], fmt="none", ecolor="0.15", elinewidth=1.2, capsize=3)
    ax.set_yticks(range(len(items)), list(items))
    ax.set_ylim(len(items) - 0.5, -0.5)


def hbars_by_scenario(ax: Axes, table: pd.DataFrame, colours: Mapping[str, str]) -> None:
    """One bar per scenario (``table``: ``scenario, mean, low, high``), coloured by scenario."""
    names = [str(s) for s in table["scenario"]]
    for i, row in enumerate(table.to_dict(orient="records")):
        m = float(row["mean"])
        if not math.isfinite(m):
            continue
        ax.barh([i], [m], height=0.6, color=colours.get(names[i], "0.5"), edgecolor="white")
        lo, hi = _whisker(m, float(row["low"]), float(row["high"]))
        ax.errorbar([m], [i], xerr=[[lo], [hi]], fmt="none", ecolor="0.15", capsize=3)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)

"""A sweep: each KPI against the first swept setting, a line per value of the others, with
the 95% interval of the mean as a band (from ``summary``). A KPI zero in every combination
(a service the scenario does not have) is left out and named in a footnote, as the
comparison's figures do (:func:`sim.present.data.zero_throughout`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import kpis as K
from sim.kpis import Kpi
from sim.present import findings
from sim.present.data import cap, not_drawn, present, sweep_label, zero_throughout
from sim.present.theme import LINE_STYLES, colours, finish, footnote, money_axis, new_figure, note, style, title
from sim.results import Results

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["sweep", "sweep_table"]


def sweep_table(res: Results, kpi: Kpi) -> pd.DataFrame:
    """One row per combination: the swept values, ``group`` (the other settings, as text),
    ``mean``, ``low``, ``high`` in display units (each combination's own window)."""
    keys = res.sweep_keys
    summ = res.summary
    rows = summ[summ["kpi"] == kpi.name]
    windows = summ[summ["kpi"] == K.WINDOW_DAYS.name].set_index(keys)["mean"] if keys else None
    out = []
    for rec in rows.to_dict(orient="records"):
        values = tuple(rec[k] for k in keys)
        window = float(windows.loc[values if len(keys) > 1 else values[0]]) if windows is not None else math.nan
        scale = kpi.scale(window)
        group = ", ".join(sweep_label(k, rec[k]) for k in keys[1:])
        out.append(
            {
                **{k: rec[k] for k in keys},
                "group": group,
                "mean": float(rec["mean"]) * scale,
                "low": float(rec["ci_low"]) * scale,
                "high": float(rec["ci_high"]) * scale,
            }
        )
    return pd.DataFrame(out)


def _x(values: pd.Series) -> tuple[list[Any], bool]:
    numeric = pd.api.types.is_numeric_dtype(values)
    order = sorted(pd.unique(values)) if numeric else list(pd.unique(values.astype(str)))
    return order, numeric


def _panel(ax: Axes, res: Results, kpi: Kpi, table: pd.DataFrame) -> tuple[Any, float, Any, float] | None:
    """Draw one KPI (its :func:`sweep_table`); returns its mean at the first and last value of
    the first swept setting (averaged over the values of the other swept settings), or None
    when it was not measured."""
    if table.empty:
        note(ax, "Not measured in this sweep.")
        return None
    key = res.sweep_keys[0]
    order, numeric = _x(table[key])
    groups = list(dict.fromkeys(table["group"]))
    cols = colours(groups)
    for j, g in enumerate(groups):
        part = table[table["group"] == g].copy()
        part["x"] = part[key].astype(float) if numeric else part[key].astype(str).map(order.index).astype(float)
        part = part.sort_values("x")
        low = part["low"].where(np.isfinite(part["low"]), part["mean"])
        high = part["high"].where(np.isfinite(part["high"]), part["mean"])
        ax.plot(part["x"], part["mean"], marker="o", color=cols[g], linestyle=LINE_STYLES[j % 4], label=g or None)
        ax.fill_between(part["x"], low, high, color=cols[g], alpha=0.2, linewidth=0)
    if kpi.kind == "gbp":
        money_axis(ax.yaxis, 4)
    if not numeric:
        ax.set_xticks(range(len(order)), [str(x) for x in order])
    elif len(order) <= 12:
        ax.set_xticks([float(x) for x in order])
    ax.set_title(cap(kpi.label))
    ax.set_xlabel(f"{key} (setting)")
    ax.set_ylabel(f"Mean ({kpi.display_unit})")
    if len(groups) > 1 or ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    means = table.groupby(key)["mean"].mean()
    return (means.index[0], float(means.iloc[0]), means.index[-1], float(means.iloc[-1]))


def sweep(res: Results) -> Figure:
    """One panel per KPI of :data:`sim.kpis.SWEEP` that is not zero in every combination."""
    keys = res.sweep_keys
    tables = {kpi: sweep_table(res, kpi) for kpi in present(res, K.SWEEP)} if keys else {}
    empty = [cap(kpi.label) for kpi, t in tables.items() if not t.empty and zero_throughout(t["mean"])]
    kpis = [kpi for kpi, t in tables.items() if t.empty or not zero_throughout(t["mean"])]
    with style():
        if not kpis or not keys:
            fig, axes = new_figure(12, 4)
            axes[0].set_xlabel("Swept setting (value)")
            axes[0].set_ylabel("KPI (units)")
            note(axes[0], "No swept settings or KPIs to show." + not_drawn(empty))
            title(fig, "Nothing to show for this sweep")
            return finish(fig)
        ncols = 2 if len(kpis) > 1 else 1
        nrows = max(math.ceil(len(kpis) / ncols), 1)
        room = 0.35 if empty else 0.0  # inches for the footnote
        fig, axes = new_figure(12, 1.3 + 3.3 * nrows + room, nrows, ncols)
        found = []
        for ax, kpi in zip(axes, kpis):
            ends = _panel(ax, res, kpi, tables[kpi])
            if ends is not None and math.isfinite(ends[1]) and math.isfinite(ends[3]):
                change = abs(ends[3] - ends[1]) / max(abs(ends[1]), abs(ends[3]), 1e-9)
                found.append((change, kpi, ends))
        for ax in axes[len(kpis) :]:
            ax.set_visible(False)
        if found:
            _, kpi, (x0, y0, x1, y1) = max(found, key=lambda f: f[0])
            title(fig, findings.sweep(kpi, keys[0], (x0, y0), (x1, y1), keys[1:]))
        else:
            title(fig, f"KPIs against {keys[0]}; bands: 95% confidence interval of the mean")
        if empty:
            footnote(fig, not_drawn(empty).strip())
        return finish(fig, bottom=room)

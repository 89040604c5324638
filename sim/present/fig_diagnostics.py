"""Diagnostics: the running mean and 95% interval as replications accumulate (is the count
enough?) and the warm-up check on the monthly series."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import kpis as K
from sim.analysis import t_interval
from sim.kpis import Kpi
from sim.present import findings
from sim.present.checks import replication_records
from sim.present.data import cap, clip_interval, present, reps_of, series_column, sweep_label
from sim.present.theme import finish, money_axis, new_figure, note, style, title
from sim.results import Kind, Results
from sim.warmup import diagnosed

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["precision", "running_interval", "warmup"]


def running_interval(values: np.ndarray, kpi: Kpi, scale: float = 1.0) -> pd.DataFrame:
    """Mean and 95% t interval of the first 1, 2, ... replications (display units: stored
    values times ``scale``), the interval truncated as ``summary.csv``'s
    (:func:`~sim.present.data.clip_interval`): ``n, mean, low, high``."""
    rows = []
    for n in range(1, len(values) + 1):
        m, lo, hi, _ = t_interval(values[:n])
        lo, hi = clip_interval(kpi, lo, hi, scale)
        rows.append({"n": n, "mean": m, "low": lo, "high": hi})
    return pd.DataFrame(rows, columns=["n", "mean", "low", "high"])


def _panel(ax: Axes, part: pd.DataFrame, kpi: Kpi, scale: float, target: float) -> None:
    ax.set_title(cap(kpi.label))
    ax.set_xlabel("Replications (count)")
    ax.set_ylabel(f"{cap(kpi.label)} ({kpi.display_unit})")
    if kpi.kind == "gbp":
        money_axis(ax.yaxis, 4)
    x = pd.to_numeric(part[kpi.name], errors="coerce").to_numpy(dtype=float) * scale
    x = x[np.isfinite(x)]
    if len(x) == 0:
        note(ax, "No values: nothing was measured in any replication.")
        return
    run = running_interval(x, kpi, scale)
    ax.plot(run["n"], run["mean"], color="C0", marker="o", markersize=3, label="running mean")
    ax.fill_between(run["n"], run["low"], run["high"], color="C0", alpha=0.2, linewidth=0, label="95% CI")
    final = float(run["mean"].iloc[-1])
    if math.isfinite(final) and final != 0:
        ax.axhspan(
            final * (1 - target), final * (1 + target), color="0.88", zorder=0, label=f"±{target:.0%} of the mean"
        )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(run) >= 4:  # the first intervals (n = 2, 3) are very wide: keep the later ones readable
        lows = [*run["low"].iloc[2:].dropna(), *run["mean"]]
        highs = [*run["high"].iloc[2:].dropna(), *run["mean"]]
        pad = 0.1 * (max(highs) - min(lows)) or 1.0
        ax.set_ylim(max(min(lows) - pad, 0.0) if kpi.nonnegative else min(lows) - pad, max(highs) + pad)
    lo_y, hi_y = ax.get_ylim()
    half = K.ABSOLUTE_ENOUGH  # never zoom in below the precision that is enough (in the unit shown)
    if hi_y - lo_y < 2 * half:
        mid = (lo_y + hi_y) / 2
        ax.set_ylim(max(mid - half, 0.0) if kpi.nonnegative else mid - half, max(mid + half, 2 * half))
    if len(run) < 2:
        note(ax, "One replication: no confidence interval.", 0.5, 0.2)
    ax.legend(loc="best", fontsize=7)


def precision(res: Results) -> Figure:
    """Running mean and 95% CI of :data:`sim.kpis.PRECISION` in the baseline (a sweep: its
    first combination, named by its swept values), with a band of ± the target precision
    around the final mean."""
    part = reps_of(res)
    name = str(part["scenario"].iloc[0]) if len(part) else res.base
    records, target = replication_records(res, res.base)
    kpis = [k for k in present(res, K.PRECISION) if k.name in part.columns]
    within = sum(bool(r.get("sufficient")) for r in records if r["kpi"] in {k.name for k in kpis})
    with style():
        ncols = 2 if len(kpis) > 1 else 1
        nrows = max(math.ceil(len(kpis) / ncols), 1)
        fig, axes = new_figure(12, 1.2 + 2.9 * nrows, nrows, ncols)
        for ax, k in zip(axes, kpis):
            _panel(ax, part, k, k.scale(res.window_days()), target)
        if not kpis:
            axes[0].set_xlabel("Replications (count)")
            axes[0].set_ylabel("KPI (units)")
            note(axes[0], "None of the precision KPIs is in the results.")
        for ax in axes[max(len(kpis), 1) :]:
            ax.set_visible(False)
        if res.kind == Kind.SWEEP and len(part):  # its combination by its swept values, not its internal name
            name = ", ".join(sweep_label(k, part[k].iloc[0]) for k in res.sweep_keys)
        where = f" ({name})" if len(res.scenarios) > 1 or res.kind == Kind.SWEEP else ""
        title(fig, findings.precision(len(part), within, len(kpis), target, where))
        return finish(fig)


def warmup(res: Results) -> Figure:
    """Mean across replications of the warm-up measure (monthly averages), with each
    replication in grey, the MSER-5 suggestion and the scenario's warm-up marked."""
    kpi = K.WARMUP_MEASURE
    column = series_column("open", kpi.subject)
    series = res.series if res.series is not None else pd.DataFrame()
    part = series[series["scenario"].astype(str) == res.base] if len(series) else series
    warm, _ = diagnosed(res.diagnostics.get(res.base) or {})
    configured = res.setting("run.warmup_days")
    label = f"monthly {kpi.label}"
    with style():
        fig, axes = new_figure(12, 4.2)
        ax = axes[0]
        ax.set_xlabel("Time since the start of the run (days)")
        # wrapped: on one line it is longer than the axis is tall
        ax.set_ylabel(textwrap.fill(f"{cap(kpi.label)} ({kpi.unit}, monthly average)", 36))
        if part.empty or column not in part.columns:
            note(ax, "No monthly series saved, so the warm-up cannot be checked.")
            title(fig, "Warm-up: no series to check")
            return finish(fig)
        for _rep, g in part.groupby("rep"):
            ax.plot(g["day"], g[column], color="0.75", linewidth=0.6, zorder=1)
        ens = pd.to_numeric(part[column], errors="coerce").groupby(part["day"]).mean().sort_index()
        ax.plot(ens.index, ens.to_numpy(), color="C0", linewidth=2.2, label="mean across replications", zorder=3)
        if configured is not None:
            ax.axvline(
                float(configured),
                color="C1",
                linestyle="--",
                linewidth=1.8,
                label=f"scenario warm-up: {float(configured):,.0f} days",
            )
        if warm is not None and warm.steady:  # no steady state: the capped point means nothing
            least = "at least " if warm.at_cap and not warm.by_chance else ""
            ax.axvline(
                warm.suggested_days,
                color="C2",
                linestyle=":",
                linewidth=2.2,
                label=f"MSER-5 suggestion: {least}{warm.discard_days:,} days"
                + (" (its cap, by chance: no transient)" if warm.by_chance else ""),
            )
        ax.set_ylim(bottom=0)
        ax.legend(loc="lower right")
        ax.set_title("Grey: each replication")
        where = f" ({res.base})" if len(res.scenarios) > 1 else ""
        title(fig, findings.warmup(warm, label, where))
        return finish(fig)

"""Queues and open cases over time, from the monthly series: each point is the time-average
over its month (not a snapshot), so a queue a fortnightly panel empties shows as its
average level instead of a sampling sawtooth."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from sim import kpis as K
from sim.kpis import Kpi
from sim.present import findings
from sim.present.data import cap, n_reps, not_drawn, series_column, shown_stat, verdict_of, zero_throughout
from sim.present.theme import LINE_STYLES, colours, finish, footnote, new_figure, note, style, title
from sim.results import Results
from sim.vocab import PLAN_STAGES, QUEUE_STAGES, stage_info

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["open_cases", "queues"]


def queues(res: Results) -> Figure:
    """Families waiting in each queue, monthly averages: median across replications and the
    middle 90%."""
    columns = {series_column("waiting", s): stage_info(s).label for s in QUEUE_STAGES}
    kpis = {series_column("waiting", s): K.queue_mean(s) for s in QUEUE_STAGES}
    return _over_time(res, columns, kpis, "Families waiting (families, monthly average)", "Queues")


def open_cases(res: Results) -> Figure:
    """Open plans and social care cases, monthly averages."""
    columns = {series_column("open", s): cap(stage_info(s).open_label) for s in PLAN_STAGES}
    kpis = {series_column("open", s): K.open_mean(s) for s in PLAN_STAGES}
    return _over_time(res, columns, kpis, "Open cases (families, monthly average)", "Open plans and cases")


def _bands(series: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    g = pd.to_numeric(series[column], errors="coerce").astype(float).groupby(series["date"])
    return g.median(), g.quantile(0.05), g.quantile(0.95)


def _panel(ax: Axes, series: pd.DataFrame, column: str, scenarios: Sequence[str], many: bool) -> dict[str, tuple]:
    cols = colours(scenarios)
    found = {}
    for j, s in enumerate(scenarios):
        part = series[series["scenario"].astype(str) == s]
        if part.empty:
            continue
        med, lo, hi = _bands(part, column)
        ax.plot(med.index, med.to_numpy(), color=cols[s], linewidth=2, linestyle=LINE_STYLES[j % 4], label=s)
        if many:
            ax.fill_between(med.index, lo.to_numpy(), hi.to_numpy(), color=cols[s], alpha=0.15, linewidth=0)
        found[s] = (float(med.iloc[0]), float(med.iloc[-1]), float(med.mean()))
    return found


def _warmup_span(ax: Axes, series: pd.DataFrame, warmup: float | None) -> None:
    if not warmup:
        return
    import matplotlib.dates as mdates

    start = pd.Timestamp(pd.to_datetime(series["date"]).min())
    end = start + pd.Timedelta(days=float(warmup))
    ax.axvspan(float(mdates.date2num(start)), float(mdates.date2num(end)), color="0.88", zorder=0, label="warm-up")


def _dates(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _over_time(res: Results, columns: dict[str, str], kpis: dict[str, Kpi], ylabel: str, what: str) -> Figure:
    """The panels of ``columns`` (series column -> label); ``kpis`` names each column's
    time-average over the results window, whose paired differences decide a comparison's title."""
    series = res.series if res.series is not None else pd.DataFrame()
    present = {c: lab for c, lab in columns.items() if c in series.columns}
    shown = {c: lab for c, lab in present.items() if not zero_throughout(series[c])}
    empty = [lab for c, lab in present.items() if c not in shown]
    scenarios = [s for s in res.scenarios if not series.empty and (series["scenario"].astype(str) == s).any()]
    many = n_reps(res) > 1
    with style():
        ncols = 3 if len(shown) > 2 else max(len(shown), 1)
        nrows = max(math.ceil(len(shown) / ncols), 1)
        fig, axes = new_figure(12, 3.1 * nrows + 1.1, nrows, ncols)
        for ax in axes:
            ax.set_xlabel("Month (date)")
            ax.set_ylabel(ylabel)
        if not shown or not scenarios:
            note(axes[0], f"Nothing to show: {what.lower()} were zero throughout." if present else "No monthly series.")
            title(fig, f"{what}: none in any month")
            return finish(fig)
        stats = {}
        for ax, (col, label) in zip(axes, shown.items()):
            stats[label] = _panel(ax, series, col, scenarios, many)
            _warmup_span(ax, series, res.setting("run.warmup_days"))
            ax.set_title(label)
            _dates(ax)
            ax.set_ylim(bottom=0)
        for ax in axes[len(shown) :]:
            ax.set_visible(False)
        axes[0].legend(loc="best")
        text = f"Each point is the average over its month. Line: median across {n_reps(res)} replication(s)" + (
            "; band: 5th to 95th percentile of the replications." if many else " (one replication: no band)."
        )
        text += not_drawn(empty)
        footnote(fig, text)
        kept = {col: res.kpis[kpis[col].name] for col in shown if kpis[col].name in res.kpis}
        averages = {(shown[c], s): shown_stat(res, k, "mean", s) for c, k in kept.items() for s in scenarios}
        verdicts = {(shown[c], s): verdict_of(res, k.name, s) for c, k in kept.items() for s in scenarios[1:]}
        title(fig, findings.over_time(what, stats, scenarios, averages, verdicts))
        return finish(fig, bottom=0.35)

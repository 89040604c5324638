"""Waits: the spread across replications of each queue's mean and 90th percentile wait, and
the waits of single families in replication 0 (from its event log)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import kpis as K
from sim.kpis import Stat
from sim.present import findings
from sim.present.data import n_reps, reps_of, shown_stat, verdict_of
from sim.present.theme import colours, finish, new_figure, note, style, title
from sim.results import Results
from sim.vocab import QUEUE_STAGES, Event, Stage, stage_info

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["family_waits", "wait_table", "waits", "waits_per_family"]

STATS: tuple[tuple[Stat, str], ...] = (("mean", "Mean wait"), ("p90", "90th percentile wait"))


def wait_table(res: Results) -> pd.DataFrame:
    """Each replication's mean and 90th percentile wait per queue: ``scenario, stage, stat, days``."""
    rows = []
    for s in res.scenarios:
        part = reps_of(res, s)
        for stage in QUEUE_STAGES:
            for stat, _ in STATS:
                name = K.wait(stage, stat).name
                if name not in res.kpis or name not in part.columns:
                    continue
                for v in pd.to_numeric(part[name], errors="coerce").dropna():
                    rows.append({"scenario": s, "stage": str(stage), "stat": stat, "days": float(v)})
    return pd.DataFrame(rows, columns=["scenario", "stage", "stat", "days"])


def _boxes(ax: Axes, part: pd.DataFrame, queues: list[str], scenarios: list[str]) -> None:
    cols = colours(scenarios)
    width = 0.8 / max(len(scenarios), 1)
    rng = np.random.default_rng(0)  # the jitter is the same every time
    for j, s in enumerate(scenarios):
        for i, q in enumerate(queues):
            vals = part[(part["scenario"] == s) & (part["stage"] == q)]["days"].to_numpy(dtype=float)
            if len(vals) == 0:
                continue
            y = i - 0.4 + width * (j + 0.5)
            box = ax.boxplot(
                [vals],
                positions=[y],
                widths=width * 0.8,
                orientation="horizontal",
                showfliers=False,
                patch_artist=True,
                manage_ticks=False,
            )
            for patch in box["boxes"]:
                patch.set(facecolor=cols[s], alpha=0.45, edgecolor="0.3")
            jitter = rng.uniform(-width * 0.3, width * 0.3, len(vals))
            ax.scatter(vals, y + jitter, s=12, color=cols[s], edgecolor="0.2", linewidth=0.4, zorder=3)
    ax.set_yticks(range(len(queues)), [stage_info(Stage(q)).label for q in queues])
    ax.set_ylim(len(queues) - 0.5, -0.5)


def waits(res: Results) -> Figure:
    """Per queue, each replication's mean (left) and 90th percentile (right) wait, as dots
    over a box; one colour per scenario."""
    table = wait_table(res)
    queues = [str(q) for q in QUEUE_STAGES if str(q) in set(table["stage"])]
    scenarios = [s for s in res.scenarios if s in set(table["scenario"])]
    with style():
        fig, axes = new_figure(12, 1.6 + 0.55 * max(len(queues), 3) * max(1, len(scenarios)) ** 0.5, 1, 2)
        for ax, (stat, word) in zip(axes, STATS):
            ax.set_title(f"{word} per replication")
            ax.set_xlabel(f"{word} (days)")
            ax.set_ylabel("Queue")
            part = table[table["stat"] == stat]
            if part.empty:
                note(ax, "No family was served from any queue in the results window, so there are no waits to show.")
                continue
            _boxes(ax, part, queues, scenarios)
            ax.set_xlim(left=0)
        if len(scenarios) > 1:
            from matplotlib.patches import Patch

            cols = colours(scenarios)
            axes[1].legend([Patch(color=cols[s], alpha=0.6) for s in scenarios], scenarios, title="Scenario")
        if n_reps(res) <= 1 and not table.empty:
            note(axes[1], "One replication: each box is a single value, not a distribution.", 0.6, 0.1)
        means = {(q, s): shown_stat(res, K.wait(Stage(q), "mean"), "mean", s) for q in queues for s in scenarios}
        p90 = {q: shown_stat(res, K.wait(Stage(q), "p90"), "mean", res.base) for q in queues}
        verdicts = {(q, s): verdict_of(res, K.wait(Stage(q), "mean").name, s) for q in queues for s in scenarios[1:]}
        title(fig, findings.waits(means, p90, scenarios, verdicts, n_reps(res)))
        return finish(fig)


def family_waits(events: pd.DataFrame, warmup_days: float) -> pd.DataFrame:
    """Join -> start pairs per family, episode and queue in one event log: ``stage, wait``
    (families who joined at or after ``warmup_days``)."""
    need = {"time", "family_id", "episode", "event", "stage"}
    if events is None or events.empty or not need.issubset(events.columns):
        return pd.DataFrame({"stage": pd.Series(dtype=str), "wait": pd.Series(dtype=float)})
    ev = events[events["stage"].astype(str).isin([str(q) for q in QUEUE_STAGES])]
    ev = ev[ev["event"].astype(str).isin([Event.JOIN, Event.START])].copy()
    ev["stage"], ev["event"] = ev["stage"].astype(str), ev["event"].astype(str)
    keys = ["family_id", "episode", "stage"]
    ev["k"] = ev.groupby([*keys, "event"], observed=True).cumcount()
    joins = ev[ev["event"] == Event.JOIN][[*keys, "k", "time"]]
    starts = ev[ev["event"] == Event.START][[*keys, "k", "time"]]
    pairs = joins.merge(starts, on=[*keys, "k"], suffixes=("_join", "_start"))
    pairs = pairs[pairs["time_join"] >= warmup_days]
    return pd.DataFrame(
        {"stage": pairs["stage"].to_numpy(), "wait": (pairs["time_start"] - pairs["time_join"]).to_numpy()}
    )


def _histogram(ax: Axes, w: np.ndarray, colour: str) -> None:
    median = float(np.median(w))
    if np.ptp(w) < 0.05:  # everyone waited (about) the same: one bar would hide it
        ax.set_xlim(0, max(1.0, 2 * float(w.max())))
        ax.set_ylim(0, len(w) * 1.1)
        note(ax, f"All {len(w):,} families waited {float(w.mean()):.1f} days.")
        return
    ax.hist(w, bins=min(30, max(5, len(w) // 5)), color=colour, edgecolor="white")
    ax.axvline(median, color="0.1", linestyle="--", linewidth=1.2, label="median")
    ax.legend()


def waits_per_family(res: Results) -> Figure:
    """Waits of single families in replication 0 of the baseline, one histogram per queue."""
    events = res.events
    if events is not None and "scenario" in events.columns:
        events = events[events["scenario"].astype(str) == res.base]
    warm = res.setting("run.warmup_days")
    table = family_waits(events if events is not None else pd.DataFrame(), float(warm or 0.0))
    queues = [str(q) for q in QUEUE_STAGES if str(q) in set(table["stage"])]
    with style():
        ncols = max(min(len(queues), 3), 1)
        nrows = max(math.ceil(len(queues) / ncols), 1)
        fig, axes = new_figure(12, 3.2 * nrows + 0.8, nrows, ncols)
        for ax in axes:
            ax.set_xlabel("Wait (days)")
            ax.set_ylabel("Families (count)")
        if not queues:
            note(axes[0], "No family joined and left a queue in the results window of replication 0.")
            title(fig, "No per-family waits to show")
            return finish(fig)
        cols = colours(queues)
        for ax, q in zip(axes, queues):
            w = table.loc[table["stage"] == q, "wait"].to_numpy(dtype=float)
            ax.set_title(f"{stage_info(Stage(q)).label}\n{len(w):,} families, median {np.median(w):.1f} days")
            _histogram(ax, w, cols[q])
        for ax in axes[len(queues) :]:
            ax.set_visible(False)
        p90 = {q: float(table.loc[table["stage"] == q, "wait"].quantile(0.9)) for q in queues}
        title(fig, findings.family_waits(p90))
        return finish(fig)

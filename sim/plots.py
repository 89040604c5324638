"""Figures for the planners' report, drawn from the tidy results tables (never from the model).

Every function takes pandas tables as written by ``ehsim run | compare | sweep``
(``replications.parquet``, ``summary.csv``, ``differences.csv``, ``series.parquet``,
``events.parquet``) and returns a :class:`matplotlib.figure.Figure`; nothing here runs the
model, reads or writes files. The caller saves and closes the figures.

Conventions
-----------
* Colours come from seaborn's ``"colorblind"`` palette; the same scenario always has the same
  colour, and where colour carries meaning a marker shape or line style carries it too.
* Every axis is labelled with its unit in parentheses, e.g. ``"Wait (days)"``; a category axis
  has a label from :data:`CATEGORY_AXIS_LABELS` instead.
* Each figure's title (``suptitle``) states the finding, computed from the numbers.
* Counts of events in the results window (referrals, step-ups, entries to care, costs of a
  component) are shown per year: ``value x 365 / window_days``. Utilisation is shown in percent.
* Empty inputs (one replication, no step-ups, no MST, no queue) give a figure with a note saying
  why there is nothing to draw, never an exception.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.analysis import t_interval

__all__ = [
    "CATEGORY_AXIS_LABELS",
    "DAYS_PER_YEAR",
    "OPEN_STAGES",
    "QUEUES",
    "KpiInfo",
    "costs",
    "display_scale",
    "family_flows",
    "fmt_number",
    "forest",
    "kpi_info",
    "open_plans_over_time",
    "queues_over_time",
    "replication_precision",
    "scaled_replications",
    "scenario_colours",
    "step_ups_and_care",
    "sweep_lines",
    "utilisation",
    "wait_distributions",
    "wait_histogram",
    "warmup",
]

DAYS_PER_YEAR = 365.0
"""Counts in a window of ``window_days`` are shown per year as ``count x DAYS_PER_YEAR / window_days``."""

QUEUES: dict[str, str] = {
    "front_door": "Front door triage",
    "panel": "Panel",
    "level2": "Level 2 partner plan",
    "level3": "Key worker (Level 3)",
    "mst": "MST",
}
"""Queue name -> label (the ``<q>`` of ``wait_<q>_mean_days`` and ``waiting_<q>``)."""

QUEUE_PHRASES: dict[str, str] = {
    "front_door": "triage at the front door",
    "panel": "the panel",
    "level2": "a partner-led plan",
    "level3": "a key worker",
    "mst": "MST",
}
"""Queue name -> phrase after "wait for"."""

OPEN_STAGES: dict[str, str] = {
    "level2": "Level 2 partner plans",
    "level3": "Level 3 key-worker plans",
    "mst": "MST",
    "cin": "Child in need",
    "cp": "Child protection",
    "lac": "In care",
}
"""Stage -> label (the ``<s>`` of ``open_<s>``)."""

CATEGORY_AXIS_LABELS = frozenset({"Queue", "Team or service", "Scenario", "Option", "Route", "Cost component"})
"""Axis labels of category axes, which have no unit (every other axis label names its unit in parentheses)."""

_LINE_STYLES = ("-", "--", ":", "-.")
_NOTE_STYLE: dict[str, Any] = {
    "ha": "center",
    "va": "center",
    "fontsize": 10,
    "color": "0.25",
    "wrap": True,
    "bbox": {"boxstyle": "round,pad=0.6", "facecolor": "#fff8e1", "edgecolor": "0.6"},
}


# --------------------------------------------------------------------------- KPI labels and units
@dataclass(frozen=True)
class KpiInfo:
    """How a KPI is described, scaled and formatted.

    Attributes
    ----------
    label
        Plain-English name, starting lower case ("mean wait for a key worker").
    unit
        Unit after scaling, as written in axis labels and tables ("days", "families a year").
    kind
        ``"days"``, ``"count"`` (events in the window; shown per year), ``"level"`` (families
        at a time), ``"gbp"`` (money), ``"share"`` (a fraction, shown in percent) or ``"number"``.
    per_year
        Whether the value is a count in the results window, scaled to a year for display.
    """

    label: str
    unit: str
    kind: str
    per_year: bool = False


_KNOWN: dict[str, KpiInfo] = {
    "window_days": KpiInfo("length of the results window", "days", "days"),
    "referrals_total": KpiInfo("referrals", "families a year", "count", True),
    "families_referred": KpiInfo("families referred", "families a year", "count", True),
    "rereferrals_within_12m": KpiInfo("re-referrals within 12 months", "families a year", "count", True),
    "step_ups_total": KpiInfo("step-ups to social care", "families a year", "count", True),
    "step_ups_while_waiting": KpiInfo("step-ups to social care while waiting", "families a year", "count", True),
    "step_ups_during_plan": KpiInfo("step-ups to social care during a plan", "families a year", "count", True),
    "to_social_care_total": KpiInfo("families going to social care", "families a year", "count", True),
    "care_entries": KpiInfo("entries to care", "families a year", "count", True),
    "care_entries_foster": KpiInfo("entries to foster care", "families a year", "count", True),
    "care_entries_residential": KpiInfo("entries to residential care", "families a year", "count", True),
    "withdrawn_total": KpiInfo("families withdrawing while waiting", "families a year", "count", True),
    "closed_outcomes_met": KpiInfo("plans closed with outcomes met", "families a year", "count", True),
    "closed_disengaged": KpiInfo("plans ended by disengagement", "families a year", "count", True),
    "closed_stepped_down": KpiInfo("plans stepped down to Level 2", "families a year", "count", True),
    "closed_advice": KpiInfo("requests closed with advice", "families a year", "count", True),
    "closed_no_plan": KpiInfo("panel cases closed with no plan", "families a year", "count", True),
    "mst_starts": KpiInfo("MST starts", "families a year", "count", True),
    "starts_level3": KpiInfo("key-worker (Level 3) plans started", "families a year", "count", True),
    "starts_level2": KpiInfo("partner-led (Level 2) plans started", "families a year", "count", True),
    "assessments": KpiInfo("social care assessments", "families a year", "count", True),
    "in_early_help_at_end": KpiInfo("families in early help at the end", "families", "level"),
    "mst_waiting_mean": KpiInfo("MST waiting list (time-average)", "families", "level"),
    "mst_waiting_at_end": KpiInfo("MST waiting list at the end", "families", "level"),
    "cost_total_gbp_per_year": KpiInfo("total cost", "£ a year", "gbp"),
    "cost_total_gbp": KpiInfo("total cost", "£ a year", "gbp", True),
    "cost_per_family_gbp": KpiInfo("cost per family referred", "£ per family", "gbp"),
    "cost_staff_gbp": KpiInfo("staff cost", "£ a year", "gbp", True),
    "cost_cases_gbp": KpiInfo("per-case costs", "£ a year", "gbp", True),
    "cost_cin_gbp": KpiInfo("child in need cost", "£ a year", "gbp", True),
    "cost_cp_gbp": KpiInfo("child protection cost", "£ a year", "gbp", True),
    "cost_care_foster_gbp": KpiInfo("foster care cost", "£ a year", "gbp", True),
    "cost_care_residential_gbp": KpiInfo("residential care cost", "£ a year", "gbp", True),
}

_STAT_WORDS = {"mean": "mean wait", "median": "median wait", "p90": "90th percentile wait"}
_COUNT_PREFIXES = (
    "referrals_source_",
    "routed_",
    "starts_",
    "closed_",
    "withdrawn_",
    "escalated_",
    "to_social_care_",
    "step_ups_",
    "care_entries",
)


def _pretty(name: str) -> str:
    return name.replace("_", " ")


def kpi_info(kpi: str) -> KpiInfo:
    """Label, unit and kind of a KPI, from the README's naming scheme.

    Parameters
    ----------
    kpi : str
        KPI column name, e.g. ``"wait_level3_mean_days"``.

    Returns
    -------
    KpiInfo
        Known KPIs have hand-written labels; others are described from their name's parts
        (``_days`` -> days, ``utilisation_`` -> share, counts of events -> families a year).
    """
    if kpi in _KNOWN:
        return _KNOWN[kpi]
    if kpi.startswith("wait_") and kpi.endswith("_days"):
        body = kpi[len("wait_") : -len("_days")]
        queue, _, stat = body.rpartition("_")
        if queue in QUEUE_PHRASES and stat in _STAT_WORDS:
            return KpiInfo(f"{_STAT_WORDS[stat]} for {QUEUE_PHRASES[queue]}", "days", "days")
    if kpi.startswith("wait_") and kpi.endswith("_served"):
        queue = kpi[len("wait_") : -len("_served")]
        return KpiInfo(f"families served from the {_pretty(queue)} queue", "families a year", "count", True)
    if kpi.startswith("utilisation_"):
        who = kpi[len("utilisation_") :]
        name = f"{_pretty(who[len('team_') :]).title()} team" if who.startswith("team_") else _pretty(who)
        return KpiInfo(f"utilisation of {name}", "% of slots in use", "share")
    if kpi.startswith("open_"):
        stage = kpi[len("open_") :].rpartition("_")[0]
        if kpi.endswith("_at_end"):
            stage = kpi[len("open_") : -len("_at_end")]
            return KpiInfo(f"open {OPEN_STAGES.get(stage, _pretty(stage))} at the end", "families", "level")
        return KpiInfo(f"open {OPEN_STAGES.get(stage, _pretty(stage))} (time-average)", "families", "level")
    if kpi.startswith("queue_") and kpi.endswith("_mean"):
        queue = kpi[len("queue_") : -len("_mean")]
        return KpiInfo(f"queue for {QUEUE_PHRASES.get(queue, _pretty(queue))} (time-average)", "families", "level")
    if kpi.startswith("waiting_") and kpi.endswith("_at_end_mean_days"):
        queue = kpi[len("waiting_") : -len("_at_end_mean_days")]
        return KpiInfo(f"time already waited by those still waiting for {_pretty(queue)}", "days", "days")
    if kpi.startswith("waiting_") and kpi.endswith("_at_end"):
        queue = kpi[len("waiting_") : -len("_at_end")]
        return KpiInfo(f"families still waiting for {_pretty(queue)} at the end", "families", "level")
    if kpi.endswith("_days"):
        return KpiInfo(_pretty(kpi[: -len("_days")]), "days", "days")
    if kpi.endswith("_gbp_per_year"):
        return KpiInfo(_pretty(kpi[: -len("_gbp_per_year")]), "£ a year", "gbp")
    if kpi.startswith("cost_") and kpi.endswith("_gbp"):
        return KpiInfo(_pretty(kpi[len("cost_") : -len("_gbp")]) + " cost", "£ a year", "gbp", True)
    if kpi.startswith(_COUNT_PREFIXES):
        return KpiInfo(_pretty(kpi), "families a year", "count", True)
    return KpiInfo(_pretty(kpi), "value", "number")


def display_scale(kpi: str, window_days: float) -> float:
    """Factor from a KPI's stored value to its displayed value.

    Parameters
    ----------
    kpi : str
        KPI name.
    window_days : float
        Length of the results window (days).

    Returns
    -------
    float
        ``365 / window_days`` for counts in the window, 100 for shares (percent), else 1.
    """
    info = kpi_info(kpi)
    if info.per_year:
        return DAYS_PER_YEAR / window_days if window_days and math.isfinite(window_days) else float("nan")
    if info.kind == "share":
        return 100.0
    return 1.0


def fmt_number(value: Any, kind: str) -> str:
    """Format an already-scaled value the one way the report prints it (text and tables).

    Parameters
    ----------
    value : float or None
        The number, after :func:`display_scale`.
    kind : str
        :attr:`KpiInfo.kind`: ``"days"`` one decimal; ``"count"`` and ``"level"`` whole numbers
        with thousands separators (one decimal under 10); ``"gbp"`` whole pounds with a ``£``;
        ``"share"`` whole percent with ``%``; otherwise two decimals.

    Returns
    -------
    str
        ``"n/a"`` for None or NaN; a minus sign ``-`` before the ``£`` for negative money.
    """
    if value is None:
        return "n/a"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "n/a"
    sign = "-" if x < 0 else ""
    a = abs(x)
    if kind == "days":
        body = f"{a:,.1f}"
    elif kind in ("count", "level"):
        body = f"{a:,.1f}" if a < 10 else f"{a:,.0f}"
    elif kind == "gbp":
        body = f"£{a:,.0f}"
    elif kind == "share":
        body = f"{a:.0f}%"
    else:
        body = f"{a:,.2f}"
    if float(body.strip("£%").replace(",", "")) == 0:
        sign = ""  # no "-0.0"
    return sign + body


def _money(x: float, _pos: object = None) -> str:
    a = abs(x)
    sign = "-" if x < 0 else ""
    if a >= 1e6:
        return f"{sign}£{a / 1e6:.1f}m"
    if a >= 1e3:
        return f"{sign}£{a / 1e3:.0f}k"
    return f"{sign}£{a:.0f}"


# --------------------------------------------------------------------------- tables
def scaled_replications(reps: pd.DataFrame) -> pd.DataFrame:
    """The replications table with every KPI in display units (see :func:`display_scale`).

    Parameters
    ----------
    reps : pandas.DataFrame
        Replications table with ``window_days`` (rows without it are left unscaled).

    Returns
    -------
    pandas.DataFrame
        A copy; counts per year, shares in percent.
    """
    out = reps.copy()
    if "window_days" in out.columns:
        per_year = DAYS_PER_YEAR / pd.to_numeric(out["window_days"], errors="coerce").astype(float)
    else:
        per_year = pd.Series(1.0, index=out.index)
    for col in out.columns:
        if col in ("scenario", "rep", "seed", "window_days") or not pd.api.types.is_numeric_dtype(out[col]):
            continue
        info = kpi_info(str(col))
        if info.per_year:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float) * per_year
        elif info.kind == "share":
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float) * 100.0
    return out


def _scenario_list(table: pd.DataFrame) -> list[str]:
    if "scenario" not in table.columns or table.empty:
        return []
    return [str(s) for s in pd.unique(table["scenario"].astype(str))]


def scenario_colours(names: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """A colour-blind-safe colour per scenario, in order (seaborn ``"colorblind"``)."""
    pal = sns.color_palette("colorblind", max(len(names), 1))
    return {n: (float(pal[i][0]), float(pal[i][1]), float(pal[i][2])) for i, n in enumerate(names)}


def _ci(values: Any) -> tuple[float, float, float, int]:
    arr = pd.to_numeric(pd.Series(values), errors="coerce").astype(float).to_numpy()
    arr = arr[np.isfinite(arr)]
    if len(arr) == 0:
        return float("nan"), float("nan"), float("nan"), 0
    return t_interval(arr)


def _ci_long(reps: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """Mean and 95% t interval per scenario and column: ``scenario, item, mean, low, high, n``."""
    rows = []
    scen = _scenario_list(reps) or [""]
    for s in scen:
        part = reps[reps["scenario"].astype(str) == s] if s else reps
        for col, label in columns.items():
            if col not in part.columns:
                continue
            m, lo, hi, n = _ci(part[col])
            rows.append({"scenario": s, "item": label, "kpi": col, "mean": m, "low": lo, "high": hi, "n": n})
    return pd.DataFrame(rows, columns=["scenario", "item", "kpi", "mean", "low", "high", "n"])


# --------------------------------------------------------------------------- drawing helpers
@contextmanager
def _theme() -> Iterator[None]:
    with (
        sns.axes_style("whitegrid"),
        sns.plotting_context("notebook", font_scale=0.9),
        matplotlib.rc_context(
            {
                "figure.dpi": 100,
                "savefig.dpi": 100,
                "axes.titleweight": "bold",
                "axes.titlesize": 11,
                "figure.titlesize": 13,
                "figure.titleweight": "bold",
                "svg.hashsalt": "ehsim",
                "svg.fonttype": "none",
                "font.family": "DejaVu Sans",
            }
        ),
    ):
        yield


def _figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[Figure, list[Axes]]:
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, **kw)
    return fig, [ax for row in axes for ax in row]


def _title(fig: Figure, text: str) -> None:
    fig.suptitle(textwrap.fill(text, 95), x=0.01, ha="left")


def _note(ax: Axes, text: str, x: float = 0.5, y: float = 0.5) -> None:
    ax.text(x, y, textwrap.fill(text, 60), transform=ax.transAxes, **_NOTE_STYLE)


def _finish(fig: Figure, top: float | None = None) -> Figure:
    fig.tight_layout()
    if top is not None:
        fig.subplots_adjust(top=top)
    return fig


def _hbars(ax: Axes, table: pd.DataFrame, colours: Mapping[str, Any], items: Sequence[str]) -> None:
    """Horizontal bars (mean) with 95% CI whiskers, one bar per scenario within each item."""
    scen = [s for s in colours if s in set(table["scenario"])] or [""]
    k = len(scen)
    height = 0.8 / k
    hatches = ["", "//", "..", "xx", "\\\\", "++"]
    for j, s in enumerate(scen):
        recs = {str(r["item"]): r for r in table[table["scenario"] == s].to_dict(orient="records")}
        ys, means, errs = [], [], []
        for i, item in enumerate(items):
            if item not in recs:
                continue
            row = recs[item]
            m = float(row["mean"])
            if not math.isfinite(m):
                continue
            y = i - 0.4 + height * (j + 0.5)
            ys.append(y)
            means.append(m)
            lo, hi = float(row["low"]), float(row["high"])
            errs.append((m - lo, hi - m) if math.isfinite(lo) and math.isfinite(hi) else (0.0, 0.0))
        if not ys:
            continue
        colour = colours.get(s, "C0")
        ax.barh(
            ys,
            means,
            height=height * 0.92,
            color=colour,
            hatch=hatches[j % len(hatches)],
            edgecolor="white",
            label=s or None,
        )
        err = np.array(errs).T
        ax.errorbar(means, ys, xerr=err, fmt="none", ecolor="0.15", elinewidth=1.2, capsize=3)
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels(list(items))
    ax.set_ylim(len(items) - 0.5, -0.5)


# --------------------------------------------------------------------------- waits
def wait_distributions(reps: pd.DataFrame) -> Figure:
    """Distribution across replications of the mean and the 90th percentile wait, per queue.

    Parameters
    ----------
    reps : pandas.DataFrame
        Replications table (``scenario`` and ``wait_<q>_mean_days`` / ``wait_<q>_p90_days``).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels (mean, 90th percentile); a box per queue and scenario with every
        replication as a dot.
    """
    scen = _scenario_list(reps)
    colours = scenario_colours(scen)
    rows = []
    for q, label in QUEUES.items():
        for stat, word in (("mean", "Mean wait"), ("p90", "90th percentile wait")):
            col = f"wait_{q}_{stat}_days"
            if col not in reps.columns:
                continue
            vals = pd.to_numeric(reps[col], errors="coerce").astype(float)
            for s, v in zip(reps["scenario"].astype(str), vals):
                if math.isfinite(v):
                    rows.append({"scenario": s, "queue": label, "q": q, "stat": word, "days": v})
    long = pd.DataFrame(rows, columns=["scenario", "queue", "q", "stat", "days"])
    with _theme():
        fig, axes = _figure(12, 5.2, 1, 2)
        order = [lab for q, lab in QUEUES.items() if lab in set(long["queue"])]
        for ax, word in zip(axes, ("Mean wait", "90th percentile wait")):
            part = long[long["stat"] == word]
            ax.set_title(f"{word} per replication")
            ax.set_xlabel(f"{word} (days)")
            ax.set_ylabel("Queue")
            if part.empty:
                _note(ax, "No family was served from any queue in the results window, so there are no waits to show.")
                continue
            hue = "scenario" if len(scen) > 1 else None
            with warnings.catch_warnings():
                # seaborn 0.13 passes matplotlib's deprecated ``vert`` to ``bxp`` (matplotlib >= 3.11)
                warnings.simplefilter("ignore", category=matplotlib.MatplotlibDeprecationWarning)
                sns.boxplot(
                    data=part,
                    x="days",
                    y="queue",
                    hue=hue,
                    order=order,
                    hue_order=scen if hue else None,
                    palette=colours if hue else None,
                    color=None if hue else colours.get(scen[0] if scen else "", "C0"),
                    ax=ax,
                    fliersize=0,
                    width=0.7,
                    boxprops={"alpha": 0.55},
                    legend=False,
                )
            # seaborn jitters with the global NumPy generator: seed it here, and put the caller's state back
            saved = np.random.get_state()
            np.random.seed(0)
            try:
                sns.stripplot(
                    data=part,
                    x="days",
                    y="queue",
                    hue=hue,
                    order=order,
                    hue_order=scen if hue else None,
                    palette=colours if hue else None,
                    color=None if hue else "0.2",
                    dodge=bool(hue),
                    size=3.5,
                    ax=ax,
                    legend=bool(hue),
                    alpha=0.8,
                )
            finally:
                np.random.set_state(saved)
            ax.set_xlabel(f"{word} (days)")
            ax.set_ylabel("Queue")
            ax.set_xlim(left=0)
            if hue and ax.get_legend() is not None:
                ax.legend(title="Scenario", fontsize=8, loc="lower right")
        n = int(reps.groupby("scenario").size().max()) if "scenario" in reps.columns and len(reps) else 0
        if n <= 1 and not long.empty:
            _note(axes[1], "One replication: each box is a single value, not a distribution.", 0.6, 0.1)
        _title(fig, _wait_finding(long, scen))
        return _finish(fig)


def _wait_finding(long: pd.DataFrame, scen: Sequence[str]) -> str:
    means = long[long["stat"] == "Mean wait"]
    if means.empty:
        return "No family waited in any queue in the results window"
    table: dict[tuple[str, str], float] = {
        (str(r["q"]), str(r["scenario"])): float(r["days"])
        for r in means.groupby(["q", "scenario"], as_index=False).agg(days=("days", "mean")).to_dict(orient="records")
    }
    if len(scen) > 1:
        base = scen[0]
        best: tuple[float, str, str] | None = None
        for (q, s), v in table.items():
            if s == base or (q, base) not in table:
                continue
            change = v - table[(q, base)]
            if best is None or abs(change) > abs(best[0]):
                best = (change, str(q), str(s))
        if best is not None and abs(best[0]) >= 0.05:
            change, q, s = best
            verb = "falls" if change < 0 else "rises"
            return (
                f"Biggest change: mean wait for {QUEUE_PHRASES[q]} {verb} by {fmt_number(abs(change), 'days')} days "
                f"with {s} ({fmt_number(table[(q, base)], 'days')} → {fmt_number(table[(q, s)], 'days')} days)"
            )
        return "Mean waits barely differ between the options (under 0.1 day)"
    first = scen[0] if scen else next(iter(table))[1]
    base_table = {q: v for (q, s), v in table.items() if s == first}
    q = max(base_table, key=lambda k: base_table[k])
    p90 = long[(long["stat"] == "90th percentile wait") & (long["q"] == q)]["days"].mean()
    text = f"Families wait longest for {QUEUE_PHRASES[q]}: {fmt_number(base_table[q], 'days')} days on average"
    if math.isfinite(p90):
        text += f", 90% within {fmt_number(p90, 'days')} days"
    return text


def wait_histogram(events: pd.DataFrame, warmup_days: float = 0.0) -> Figure:
    """Per-family waits of one replication (from its event log), one histogram per queue.

    Parameters
    ----------
    events : pandas.DataFrame
        Event log (``time, family_id, episode, event, stage``) of one replication.
    warmup_days : float, default 0
        Only families who joined a queue at or after this time (days) are counted.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per queue with served families; waits in days.
    """
    waits = _family_waits(events, warmup_days)
    queues = [q for q in QUEUES if q in set(waits["stage"])]
    with _theme():
        ncols = max(min(len(queues), 3), 1)
        nrows = max(math.ceil(len(queues) / ncols), 1)
        fig, axes = _figure(12, 3.2 * nrows + 0.8, nrows, ncols)
        if not queues:
            ax = axes[0]
            ax.set_xlabel("Wait (days)")
            ax.set_ylabel("Families (count)")
            ax.set_title("Per-family waits")
            _note(ax, "No family joined and left a queue in the results window of replication 0.")
            _title(fig, "No per-family waits to show")
            return _finish(fig)
        pal = sns.color_palette("colorblind")
        for i, (ax, q) in enumerate(zip(axes, queues)):
            w = waits.loc[waits["stage"] == q, "wait"].to_numpy(dtype=float)
            median = float(np.median(w))
            ax.set_title(f"{QUEUES[q]}\n{len(w):,} families, median {fmt_number(median, 'days')} days", fontsize=10)
            ax.set_xlabel("Wait (days)")
            ax.set_ylabel("Families (count)")
            if np.ptp(w) < 0.05:  # everyone waited (about) the same: a histogram would be one bar
                ax.set_xlim(0, max(1.0, 2 * float(w.max())))
                ax.set_ylim(0, len(w) * 1.1)
                _note(ax, f"All {len(w):,} families waited {fmt_number(float(w.mean()), 'days')} days.")
                continue
            sns.histplot(x=w, bins=min(30, max(5, len(w) // 5)), color=pal[i % len(pal)], ax=ax)
            ax.axvline(median, color="0.1", linestyle="--", linewidth=1.2, label="median")
            ax.legend(fontsize=8)
        for ax in axes[len(queues) :]:
            ax.set_visible(False)
        longest = max(queues, key=lambda q: float(waits.loc[waits["stage"] == q, "wait"].quantile(0.9)))
        p90 = float(waits.loc[waits["stage"] == longest, "wait"].quantile(0.9))
        _title(
            fig,
            f"In replication 0, 1 family in 10 waits over {fmt_number(p90, 'days')} days for {QUEUE_PHRASES[longest]}",
        )
        return _finish(fig)


def _family_waits(events: pd.DataFrame, warmup_days: float) -> pd.DataFrame:
    """Join -> start pairs per family, episode and queue stage: ``stage, wait``."""
    need = {"time", "family_id", "episode", "event", "stage"}
    if not need.issubset(events.columns) or events.empty:
        return pd.DataFrame({"stage": pd.Series(dtype=str), "wait": pd.Series(dtype=float)})
    ev = events[events["stage"].astype(str).isin(list(QUEUES))]
    ev = ev[ev["event"].astype(str).isin(["join", "start"])].copy()
    ev["stage"] = ev["stage"].astype(str)
    ev["event"] = ev["event"].astype(str)
    keys = ["family_id", "episode", "stage"]
    ev["k"] = ev.groupby([*keys, "event"], observed=True).cumcount()
    joins = ev[ev["event"] == "join"][[*keys, "k", "time"]]
    starts = ev[ev["event"] == "start"][[*keys, "k", "time"]]
    pairs = joins.merge(starts, on=[*keys, "k"], suffixes=("_join", "_start"))
    pairs = pairs[pairs["time_join"] >= warmup_days]
    return pd.DataFrame(
        {"stage": pairs["stage"].to_numpy(), "wait": (pairs["time_start"] - pairs["time_join"]).to_numpy()}
    )


# --------------------------------------------------------------------------- time series
def _n_reps(table: pd.DataFrame) -> int:
    """Replications per scenario (the largest), 0 for an empty table."""
    if "rep" not in table.columns or table.empty:
        return 0 if table.empty else 1
    if "scenario" in table.columns:
        return int(table.groupby("scenario")["rep"].nunique().max())
    return int(table["rep"].nunique())


def _over_time(
    series: pd.DataFrame,
    columns: Mapping[str, str],
    ylabel: str,
    what: str,
    warmup_days: float | None,
) -> Figure:
    scen = _scenario_list(series) or [""]
    colours = scenario_colours(scen)
    present = {c: lab for c, lab in columns.items() if c in series.columns}
    values = {c: pd.to_numeric(series[c], errors="coerce").astype(float) for c in present}
    shown = {c: lab for c, lab in present.items() if values[c].abs().sum() > 0}
    empty = [lab for c, lab in present.items() if c not in shown]
    with _theme():
        ncols = 3 if len(shown) > 2 else max(len(shown), 1)
        nrows = max(math.ceil(len(shown) / ncols), 1)
        fig, axes = _figure(12, 3.1 * nrows + 1.0, nrows, ncols)
        if series.empty or not shown:
            ax = axes[0]
            ax.set_xlabel("Date (month)")
            ax.set_ylabel(ylabel)
            ax.set_title(what)
            _note(
                ax, f"Nothing to show: {what.lower()} were zero throughout" if present else "No monthly series saved."
            )
            _title(fig, f"{what}: none in any month")
            return _finish(fig)
        x_col = "date" if "date" in series.columns else "day"
        n_reps = _n_reps(series)
        findings: dict[str, dict[str, tuple[float, float, float, float]]] = {}
        for ax, (col, label) in zip(axes, shown.items()):
            for s in scen:
                part = series[series["scenario"].astype(str) == s] if s else series
                g = pd.to_numeric(part[col], errors="coerce").astype(float).groupby(part[x_col])
                med = g.median()
                lo, hi = g.quantile(0.05), g.quantile(0.95)
                style = _LINE_STYLES[scen.index(s) % len(_LINE_STYLES)]
                ax.plot(med.index, med.to_numpy(), color=colours[s], linewidth=2, linestyle=style, label=s or "median")
                if n_reps > 1:
                    ax.fill_between(med.index, lo.to_numpy(), hi.to_numpy(), color=colours[s], alpha=0.15, linewidth=0)
                findings.setdefault(label, {})[s] = (
                    float(med.iloc[0]),
                    float(med.iloc[-1]),
                    float(med.mean()),
                    float(med.max()),
                )
            if warmup_days and "date" in series.columns and x_col == "date":
                start = pd.Timestamp(pd.to_datetime(series["date"]).min())
                end = start + pd.Timedelta(days=float(warmup_days))
                ax.axvspan(
                    float(mdates.date2num(start)), float(mdates.date2num(end)), color="0.85", zorder=0, label="warm-up"
                )
            elif warmup_days:
                ax.axvspan(0, float(warmup_days), color="0.85", zorder=0, label="warm-up")
            ax.set_title(label)
            if x_col == "date":
                locator = mdates.AutoDateLocator(maxticks=7)
                ax.xaxis.set_major_locator(locator)
                ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            ax.set_xlabel("Date (month)" if x_col == "date" else "Time (days)")
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
            ax.tick_params(axis="x", labelsize=8)
        for ax in axes[len(shown) :]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        if n_reps > 1:
            handles.append(Patch(color=colours[scen[0]], alpha=0.15))
            labels.append("90% of replications")
        axes[0].legend(handles, labels, fontsize=8, loc="best")
        note = f"Median across {n_reps} replication(s)" + (
            "; shaded band: 5th to 95th percentile" if n_reps > 1 else " (one replication: no band across replications)"
        )
        if empty:
            note += f". Always zero, not drawn: {', '.join(empty)}"
        fig.text(0.01, 0.005, textwrap.fill(note, 160), fontsize=8, color="0.3")
        _title(fig, _series_finding(findings, scen, what))
        fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))  # room for the note
        return fig


def _series_finding(
    findings: Mapping[str, Mapping[str, tuple[float, float, float, float]]], scen: Sequence[str], what: str
) -> str:
    """Title of a time-series figure. ``findings[label][scenario]`` holds the median's
    (first, last, mean over months, peak)."""
    base = scen[0]
    if len(scen) > 1:
        best: tuple[float, str, str] | None = None
        for label, by in findings.items():
            for s in scen[1:]:
                if s in by and base in by:
                    d = by[s][2] - by[base][2]
                    if best is None or abs(d) > abs(best[0]):
                        best = (d, label, s)
        if best is not None:
            d, label, s = best
            before, after = findings[label][base][2], findings[label][s][2]
            if abs(d) >= max(1.0, 0.05 * abs(before)):
                return (
                    f"{what}, monthly average of the medians: {label} {fmt_number(before, 'level')} in {base} → "
                    f"{fmt_number(after, 'level')} with {s}"
                )
        return f"{what}: the options stay within 5% (or one family) of {base} every month on average"
    label = max(findings, key=lambda lab: findings[lab][base][2])
    first, last, _avg, peak = findings[label][base]
    if what == "Queues":
        return f"Longest queue: {label}, peaking at {fmt_number(peak, 'level')} families waiting (median)"
    return (
        f"{what}: most are {label}, {fmt_number(first, 'level')} at the start and {fmt_number(last, 'level')} at the "
        "end (median)"
    )


def queues_over_time(series: pd.DataFrame, warmup_days: float | None = None) -> Figure:
    """Families waiting in each queue at the start of each month: median and 90% band.

    Parameters
    ----------
    series : pandas.DataFrame
        ``series.parquet`` (``date`` or ``day``, ``waiting_<q>``, ``rep``; ``scenario`` for
        a comparison).
    warmup_days : float, optional
        Warm-up length (days), shaded.

    Returns
    -------
    matplotlib.figure.Figure
    """
    cols = {f"waiting_{q}": lab for q, lab in QUEUES.items()}
    return _over_time(series, cols, "Families waiting (count)", "Queues", warmup_days)


def open_plans_over_time(series: pd.DataFrame, warmup_days: float | None = None) -> Figure:
    """Open plans and cases at the start of each month: median and 90% band across replications.

    Parameters
    ----------
    series : pandas.DataFrame
        ``series.parquet`` (``date`` or ``day``, ``open_<s>``, ``rep``; ``scenario`` for a
        comparison).
    warmup_days : float, optional
        Warm-up length (days), shaded.

    Returns
    -------
    matplotlib.figure.Figure
    """
    cols = {f"open_{s}": lab for s, lab in OPEN_STAGES.items()}
    return _over_time(series, cols, "Open cases (families)", "Open plans and cases", warmup_days)


# --------------------------------------------------------------------------- utilisation
def _service_label(col: str) -> str:
    who = col[len("utilisation_") :]
    if who.startswith("team_"):
        return f"{_pretty(who[len('team_') :]).title()} team"
    return {"front_door": "Front door", "mst": "MST", "partner": "Partners (Level 2)"}.get(who, _pretty(who))


def utilisation(reps: pd.DataFrame) -> Figure:
    """Mean caseload utilisation (busy slots / slots) by team and service, with 95% CIs.

    Parameters
    ----------
    reps : pandas.DataFrame
        Replications table with ``utilisation_*`` columns (fractions).

    Returns
    -------
    matplotlib.figure.Figure
    """
    cols = [c for c in reps.columns if str(c).startswith("utilisation_")]
    # teams first, then the other services
    cols = sorted(cols, key=lambda c: (not str(c).startswith("utilisation_team_"), str(c)))
    scaled = scaled_replications(reps)
    table = _ci_long(scaled, {c: _service_label(c) for c in cols})
    table = table[np.isfinite(table["mean"].astype(float))] if not table.empty else table
    scen = _scenario_list(reps) or [""]
    colours = scenario_colours(scen)
    items = list(dict.fromkeys(table["item"])) if not table.empty else []
    with _theme():
        fig, axes = _figure(10, 1.0 + 0.45 * max(len(items), 3) * max(1, min(len(scen), 3)) ** 0.5)
        ax = axes[0]
        ax.set_xlabel("Utilisation (% of slots in use, time-average)")
        ax.set_ylabel("Team or service")
        ax.set_title("Mean across replications; whiskers: 95% confidence interval")
        if not items:
            _note(ax, "No service with a finite capacity was used in the results window.")
            _title(fig, "No utilisation to show")
            return _finish(fig)
        _hbars(ax, table, colours, items)
        ax.axvline(100, color="0.3", linestyle=":", linewidth=1)
        ax.set_xlim(0, max(105.0, float(np.nanmax(table["high"].fillna(table["mean"]))) * 1.05))
        if len(scen) > 1:
            ax.legend(title="Scenario", fontsize=8, loc="lower right")
        _title(fig, _utilisation_finding(table, scen))
        return _finish(fig)


def _utilisation_finding(table: pd.DataFrame, scen: Sequence[str]) -> str:
    base = table[table["scenario"] == scen[0]]
    teams = base[base["item"].str.endswith(" team")]
    pool = teams if not teams.empty else base
    top = pool.sort_values("mean", ascending=False).iloc[0]
    text = f"Busiest: {top['item']}, {fmt_number(top['mean'], 'share')} of slots in use on average"
    if len(scen) > 1:
        alts = table[(table["item"] == top["item"]) & (table["scenario"] != scen[0])]
        parts = [f"{fmt_number(r['mean'], 'share')} with {r['scenario']}" for _, r in alts.iterrows()]
        if parts:
            text += f" in {scen[0]}; " + ", ".join(parts[:3])
    return text


# --------------------------------------------------------------------------- flows
_STRUCTURAL = float("nan")
"""Edge "count" for a connection drawn without a count (plans end: not split by plan level)."""


def _tint(colour: str, amount: float = 0.4) -> tuple[float, float, float]:
    """``colour`` mixed with white (``amount`` of the colour), opaque so arrows pass behind it."""
    r, g, b = to_rgb(colour)
    return (1 - amount + amount * r, 1 - amount + amount * g, 1 - amount + amount * b)


@dataclass(frozen=True)
class _Node:
    x: float
    y: float
    text: str
    colour: str


def family_flows(summary: pd.DataFrame, scenario: str | None = None) -> Figure:
    """Flow diagram of families between stages, with mean counts a year on nodes and arrows.

    referral -> front door triage -> panel -> early help plans (Level 2, Level 3) -> plan ends,
    with step-ups to social care, step-down from social care and entries to care.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``summary.csv`` (``kpi``, ``mean``; with a ``scenario`` column for a comparison).
    scenario : str, optional
        Which scenario to draw (default the first).

    Returns
    -------
    matplotlib.figure.Figure
        A diagram without data axes (the counts are written on it), titled with the finding.
    """
    if "scenario" in summary.columns and len(summary):
        names = [str(s) for s in pd.unique(summary["scenario"].astype(str))]
        scenario = scenario if scenario is not None else names[0]
        summary = summary[summary["scenario"].astype(str) == scenario]
    means = (
        pd.to_numeric(summary.set_index("kpi")["mean"], errors="coerce").astype(float)
        if len(summary)
        else pd.Series(dtype=float)
    )
    window = float(means.get("window_days", float("nan")))
    scale = DAYS_PER_YEAR / window if math.isfinite(window) and window > 0 else float("nan")

    def v(*keys: str) -> float:
        total = 0.0
        for k in keys:
            x = float(means.get(k, 0.0))
            total += x if math.isfinite(x) else 0.0
        return total * scale if math.isfinite(scale) else float("nan")

    def c(x: float) -> str:
        return fmt_number(x, "count")

    fd_routes = ("advice", "level2", "level3", "social_care", "panel")
    fd_total = v(*(f"routed_front_door_{d}" for d in fd_routes))
    fd_left = v("withdrawn_front_door", "escalated_front_door")
    refs = v("referrals_total")
    # referrals that skip the front door, less the modelled step-downs drawn from social care
    sd = v("referrals_source_social_care_step_down")
    direct = max(refs - fd_total - fd_left - sd, 0.0) if math.isfinite(refs) else float("nan")
    pal = sns.color_palette("colorblind").as_hex()
    ew, sc_col, out_col = pal[0], pal[3], pal[2]
    nodes = {
        "ref": _Node(0.06, 0.55, f"Referrals\n{c(refs)}", "#bbbbbb"),
        "fd": _Node(0.27, 0.55, f"Front door\ntriage\n{c(fd_total)}", "#bbbbbb"),
        "panel": _Node(
            0.47,
            0.88,
            f"Panel\n{c(v('routed_front_door_panel'))} sent;\n{c(v('routed_panel_no_plan'))} no plan",
            "#bbbbbb",
        ),
        "advice": _Node(0.47, 0.30, f"Advice and\nclose\n{c(v('routed_front_door_advice'))}", out_col),
        "l2": _Node(0.67, 0.74, f"Level 2\npartner plan\n{c(v('starts_level2'))} start", ew),
        "l3": _Node(0.67, 0.46, f"Level 3\nkey worker\n{c(v('starts_level3'))} start", ew),
        "end": _Node(
            0.89,
            0.72,
            f"Plans end\noutcomes met {c(v('closed_outcomes_met'))}\ndisengaged {c(v('closed_disengaged'))}",
            out_col,
        ),
        "left": _Node(
            0.89,
            0.45,
            f"Left while waiting\nwithdrew {c(v('withdrawn_total'))}\nstepped up {c(v('step_ups_while_waiting'))}",
            "#dddddd",
        ),
        "sc": _Node(0.67, 0.12, f"Social care\n{c(v('to_social_care_total'))} families", sc_col),
        "care": _Node(0.89, 0.12, f"Entered care\n{c(v('care_entries'))}", sc_col),
    }
    # (from, to, families a year, label, arc curvature, where along the arc to put the label)
    edges: list[tuple[str, str, float, str, float, float]] = [
        ("ref", "fd", fd_total, "", 0.0, 0.5),
        ("ref", "l3", direct, "direct\n(step-down)", -0.3, 0.25),
        ("fd", "panel", v("routed_front_door_panel"), "", 0.0, 0.5),
        ("fd", "advice", v("routed_front_door_advice"), "", 0.0, 0.5),
        ("fd", "l2", v("routed_front_door_level2"), "", 0.0, 0.6),
        ("fd", "l3", v("routed_front_door_level3"), "", 0.0, 0.5),
        ("fd", "sc", v("routed_front_door_social_care"), "", 0.3, 0.5),
        ("panel", "l2", v("routed_panel_level2"), "", 0.0, 0.5),
        ("panel", "l3", v("routed_panel_level3"), "", 0.0, 0.5),
        ("panel", "sc", v("routed_panel_social_care"), "", 0.0, 0.65),
        ("l3", "l2", v("closed_stepped_down"), "step-down", 0.3, 0.5),
        ("l2", "end", _STRUCTURAL, "", 0.0, 0.5),
        ("l3", "end", _STRUCTURAL, "", 0.0, 0.5),
        ("l3", "sc", v("step_ups_during_plan"), "step-up", -0.6, 0.5),
        ("sc", "l3", v("referrals_source_social_care_step_down"), "step-down", -0.6, 0.5),
        ("sc", "care", v("care_entries"), "", 0.0, 0.5),
    ]
    finite = [e[2] for e in edges if math.isfinite(e[2])]
    biggest = max(finite) if finite and max(finite) > 0 else 1.0
    width_in, height_in, axes_box = 12.0, 6.6, (0.01, 0.06, 0.98, 0.8)
    aspect = (width_in * axes_box[2]) / (height_in * axes_box[3])  # display units per data unit, x over y
    with _theme():
        fig = plt.figure(figsize=(width_in, height_in))
        ax = fig.add_axes(axes_box)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
        boxes: dict[str, Text] = {}
        for key, nd in nodes.items():
            boxes[key] = ax.text(
                nd.x,
                nd.y,
                nd.text,
                ha="center",
                va="center",
                fontsize=9,
                zorder=3,
                bbox={"boxstyle": "round,pad=0.5", "facecolor": _tint(nd.colour), "edgecolor": "0.3"},
            )
        for src, dst, count, label, rad, at in edges:
            structural = not math.isfinite(count)
            if not structural and count <= 0:
                continue
            width = 0.8 if structural else 0.8 + 7.0 * count / biggest
            (x0, y0), (x1, y1) = (nodes[src].x, nodes[src].y), (nodes[dst].x, nodes[dst].y)
            ax.add_patch(
                FancyArrowPatch(
                    posA=(x0, y0),
                    posB=(x1, y1),
                    patchA=boxes[src].get_bbox_patch(),
                    patchB=boxes[dst].get_bbox_patch(),
                    arrowstyle="-|>,head_length=0.8,head_width=0.45",
                    connectionstyle=f"arc3,rad={rad}",
                    linewidth=width,
                    color="0.6" if structural else "0.4",
                    mutation_scale=12 + 1.5 * width,
                    zorder=3.5,  # after the boxes, whose outlines (patchA/B) are placed when they are drawn
                    linestyle="--" if structural else "-",
                    shrinkA=2,
                    shrinkB=2,
                )
            )
            if structural:
                continue
            # arc3's control point, worked out in display proportions and mapped back to data units
            dx, dy = x1 - x0, y1 - y0
            cx, cy = (x0 + x1) / 2 + rad * dy / aspect, (y0 + y1) / 2 - rad * dx * aspect
            lx = (1 - at) ** 2 * x0 + 2 * (1 - at) * at * cx + at**2 * x1
            ly = (1 - at) ** 2 * y0 + 2 * (1 - at) * at * cy + at**2 * y1
            ax.text(
                lx,
                ly,
                c(count) + (f"\n{label}" if label else ""),
                ha="center",
                va="center",
                fontsize=8.5,
                zorder=4,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.9},
            )
        name = f" ({scenario})" if scenario else ""
        fig.text(
            0.01,
            0.01,
            f"Families a year{name}, means across replications; arrow width is proportional to the "
            "count. 'Left while waiting' counts withdrawals and step-ups from any queue.",
            fontsize=8,
            color="0.3",
        )
        if math.isfinite(refs) and refs > 0:
            title = (
                f"Of {c(refs)} referrals a year{name}, {c(v('starts_level3'))} start a key-worker plan and "
                f"{c(v('step_ups_total'))} step up to social care; {c(v('care_entries'))} enter care"
            )
        else:
            title = f"No referrals in the results window{name}"
            _note(ax, "No referrals were recorded, so there are no flows to draw.", 0.5, 0.5)
        _title(fig, title)
        return fig


# --------------------------------------------------------------------------- step-ups and care
_STEP_ITEMS = {
    "step_ups_while_waiting": "Step-ups while waiting",
    "step_ups_during_plan": "Step-ups during a plan",
    "care_entries_foster": "Entries to foster care",
    "care_entries_residential": "Entries to residential care",
}


def step_ups_and_care(reps: pd.DataFrame) -> Figure:
    """Step-ups to social care (while waiting, during a plan) and entries to care, a year, with CIs.

    Parameters
    ----------
    reps : pandas.DataFrame
        Replications table (``step_ups_*``, ``care_entries_*``, ``window_days``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    scaled = scaled_replications(reps)
    table = _ci_long(scaled, _STEP_ITEMS)
    scen = _scenario_list(reps) or [""]
    colours = scenario_colours(scen)
    items = [lab for lab in _STEP_ITEMS.values() if lab in set(table["item"])]
    with _theme():
        fig, axes = _figure(10, 1.3 + 0.6 * max(len(items), 3) * max(1, min(len(scen), 3)) ** 0.5)
        ax = axes[0]
        ax.set_xlabel("Families a year (count)")
        ax.set_ylabel("Route")
        ax.set_title("Mean across replications; whiskers: 95% confidence interval")
        if not items:
            _note(ax, "The results have no step-up or entry-to-care counts.")
            _title(fig, "No step-ups or entries to care recorded")
            return _finish(fig)
        _hbars(ax, table, colours, items)
        total = float(np.nansum(np.abs(table["mean"].astype(float))))
        if total == 0:
            ax.set_xlim(0, 1)
            _note(ax, "No family stepped up to social care or entered care in any replication.", 0.55, 0.5)
        else:
            ax.set_xlim(left=0)
        if len(scen) > 1:
            ax.legend(title="Scenario", fontsize=8, loc="lower right")
        _title(fig, _step_finding(scaled, scen))
        return _finish(fig)


def _step_finding(scaled: pd.DataFrame, scen: Sequence[str]) -> str:
    def mean(col: str, s: str) -> float:
        if col not in scaled.columns:
            return float("nan")
        part = scaled[scaled["scenario"].astype(str) == s] if s else scaled
        return float(pd.to_numeric(part[col], errors="coerce").mean())

    base = scen[0]
    su, care = mean("step_ups_total", base), mean("care_entries", base)
    if len(scen) > 1:
        parts = [f"{fmt_number(mean('step_ups_total', s), 'count')} with {s}" for s in scen[1:]]
        return f"Step-ups to social care a year: {fmt_number(su, 'count')} in {base}; " + ", ".join(parts[:3])
    if not (su > 0) and not (care > 0):
        return "No step-ups to social care and no entries to care"
    return f"{fmt_number(su, 'count')} families a year step up to social care; {fmt_number(care, 'count')} enter care"


# --------------------------------------------------------------------------- costs
_COST_ITEMS = {
    "cost_staff_gbp": "Staff",
    "cost_cases_gbp": "Per-case costs",
    "cost_cin_gbp": "Child in need",
    "cost_cp_gbp": "Child protection",
    "cost_care_foster_gbp": "Foster care",
    "cost_care_residential_gbp": "Residential care",
}


def costs(reps: pd.DataFrame, budget_gbp_per_year: float | None = None, price_year: int | None = None) -> Figure:
    """Costs a year by component, and the total a year against a budget line when one is set.

    Parameters
    ----------
    reps : pandas.DataFrame
        Replications table (``cost_*_gbp``, ``cost_total_gbp_per_year``, ``window_days``).
    budget_gbp_per_year : float, optional
        Budget envelope (£ a year); drawn as a vertical line on the total.
    price_year : int, optional
        Price year of the costs, for the axis labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    scaled = scaled_replications(reps)
    comp = _ci_long(scaled, _COST_ITEMS)
    total = _ci_long(scaled, {"cost_total_gbp_per_year": "Total"})
    scen = _scenario_list(reps) or [""]
    colours = scenario_colours(scen)
    prices = f", {price_year} prices" if price_year else ""
    items = [lab for lab in _COST_ITEMS.values() if lab in set(comp["item"])]
    with _theme():
        fig, axes = _figure(
            12,
            1.6 + 0.5 * max(len(items), 3) * max(1, min(len(scen), 3)) ** 0.5,
            1,
            2,
            gridspec_kw={"width_ratios": [1.4, 1]},
        )
        ax, ax2 = axes
        ax.set_xlabel(f"Cost (£ a year{prices})")
        ax.set_ylabel("Cost component")
        ax.set_title("By component")
        ax2.set_xlabel(f"Total cost (£ a year{prices})")
        ax2.set_ylabel("Scenario")
        ax2.set_title("Total" + (" against the budget" if budget_gbp_per_year else ""))
        for a in axes:
            a.xaxis.set_major_formatter(FuncFormatter(_money))
        if not items or total.empty or not np.isfinite(total["mean"].astype(float)).any():
            for a in axes:
                _note(a, "No costs in the results (no cost_* columns).")
            _title(fig, "No costs to show")
            return _finish(fig)
        _hbars(ax, comp, colours, items)
        ax.set_xlim(left=0)
        if len(scen) > 1:
            ax.legend(title="Scenario", fontsize=8, loc="lower right")
        tot = total.copy()
        tot["item"] = tot["scenario"].replace("", "Total")
        one = {s: colours[s] for s in scen}
        tot2 = tot.assign(scenario=tot["scenario"])
        _hbars_single(ax2, tot2, one)
        hi = float(np.nanmax(tot["high"].fillna(tot["mean"])))
        if budget_gbp_per_year:
            ax2.axvline(
                budget_gbp_per_year,
                color="0.1",
                linestyle="--",
                linewidth=1.6,
                label=f"Budget {_money(budget_gbp_per_year)}",
            )
            ax2.legend(fontsize=8, loc="lower right")
            hi = max(hi, budget_gbp_per_year)
        ax2.set_xlim(0, hi * 1.1 if hi > 0 else 1)
        _title(fig, _cost_finding(tot, scen, budget_gbp_per_year))
        return _finish(fig)


def _hbars_single(ax: Axes, table: pd.DataFrame, colours: Mapping[str, Any]) -> None:
    """One bar per row (``item`` = scenario), coloured by scenario, with CI whiskers."""
    items = list(table["item"])
    for i, (_, row) in enumerate(table.iterrows()):
        m = float(row["mean"])
        if not math.isfinite(m):
            continue
        ax.barh([i], [m], height=0.6, color=colours.get(str(row["scenario"]), "C0"), edgecolor="white")
        lo, hi = float(row["low"]), float(row["high"])
        if math.isfinite(lo) and math.isfinite(hi):
            ax.errorbar([m], [i], xerr=[[m - lo], [hi - m]], fmt="none", ecolor="0.15", capsize=3)
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels(items)
    ax.set_ylim(len(items) - 0.5, -0.5)


def _cost_finding(tot: pd.DataFrame, scen: Sequence[str], budget: float | None) -> str:
    by = dict(zip(tot["scenario"], tot["mean"].astype(float)))
    base = scen[0]
    m = by.get(base, float("nan"))
    where = f" in {base}" if len(scen) > 1 else ""
    text = f"Total cost {fmt_number(m, 'gbp')} a year{where}"
    if budget:
        gap = m - budget
        text += (
            f", {fmt_number(abs(gap), 'gbp')} {'over' if gap > 0 else 'under'} the {fmt_number(budget, 'gbp')} budget"
        )
    if len(scen) > 1:
        parts = []
        for s in scen[1:]:
            d = by.get(s, float("nan")) - m
            parts.append(f"{s} {'+' if d >= 0 else '-'}{fmt_number(abs(d), 'gbp')}")
        text += "; " + ", ".join(parts[:3])
    return text


# --------------------------------------------------------------------------- comparison
def forest(differences: pd.DataFrame, kpis: Sequence[str], window_days: float) -> Figure:
    """Forest plot: each option's paired difference from the baseline per KPI, with its 95% CI.

    Parameters
    ----------
    differences : pandas.DataFrame
        ``differences.csv`` (``option, kpi, diff_mean, ci_low, ci_high, distinguishable``).
    kpis : sequence of str
        KPIs to show, one panel each (each in its own unit).
    window_days : float
        Results window (days), to show counts per year.

    Returns
    -------
    matplotlib.figure.Figure
        Filled markers: the CI excludes zero (a clear difference); hollow: no clear difference.
    """
    kpis = [k for k in kpis if k in set(differences["kpi"])] if len(differences) else []
    options = [str(o) for o in pd.unique(differences["option"].astype(str))] if len(differences) else []
    colours = scenario_colours(["(baseline)", *options])
    with _theme():
        ncols = 2 if len(kpis) > 1 else 1
        nrows = max(math.ceil(len(kpis) / ncols), 1)
        fig, axes = _figure(12, 0.8 + nrows * (0.7 + 0.42 * max(len(options), 1)) + 0.6, nrows, ncols)
        if not kpis or not options:
            ax = axes[0]
            ax.set_xlabel("Difference from baseline (KPI units)")
            ax.set_ylabel("Option")
            _note(ax, "No paired differences to show.")
            _title(fig, "No options to compare")
            return _finish(fig)
        clear: dict[str, int] = dict.fromkeys(options, 0)
        no_ci = False
        for ax, kpi in zip(axes, kpis):
            info = kpi_info(kpi)
            scale = display_scale(kpi, window_days)
            recs = {str(r["option"]): r for r in differences[differences["kpi"] == kpi].to_dict(orient="records")}
            for i, opt in enumerate(options):
                if opt not in recs:
                    continue
                row = recs[opt]
                d = float(row["diff_mean"]) * scale
                lo, hi = float(row["ci_low"]) * scale, float(row["ci_high"]) * scale
                dist = bool(row["distinguishable"])
                clear[opt] += int(dist)
                col = colours[opt]
                if math.isfinite(lo) and math.isfinite(hi):
                    ax.plot([lo, hi], [i, i], color=col, linewidth=2.2, solid_capstyle="butt")
                    ax.plot([lo, hi], [i, i], "|", color=col, markersize=9)
                else:
                    no_ci = True
                ax.plot(
                    [d], [i], "o", markersize=8, color=col, markerfacecolor=col if dist else "white", markeredgewidth=2
                )
            ax.axvline(0, color="0.2", linewidth=1)
            ax.set_yticks(range(len(options)))
            ax.set_yticklabels(options)
            ax.set_ylim(len(options) - 0.5, -0.5)
            ax.set_title(info.label[0].upper() + info.label[1:], fontsize=10)
            ax.set_xlabel(f"Change ({info.unit})")
            ax.set_ylabel("Option")
            if info.kind == "gbp":
                ax.xaxis.set_major_formatter(FuncFormatter(_money))
            lo_x, hi_x = ax.get_xlim()
            span = max(abs(lo_x), abs(hi_x), 1e-9)
            ax.set_xlim(min(lo_x, -0.05 * span), max(hi_x, 0.05 * span))
        for ax in axes[len(kpis) :]:
            ax.set_visible(False)
        handles = [
            Line2D([], [], marker="o", color="0.3", markerfacecolor="0.3", linestyle="-", label="clear difference"),
            Line2D(
                [],
                [],
                marker="o",
                color="0.3",
                markerfacecolor="white",
                linestyle="-",
                label="no clear difference (95% CI includes 0)",
            ),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=9, frameon=False)
        parts = [f"{opt}: {clear[opt]} of {len(kpis)}" for opt in options]
        title = "Clear differences from the baseline (95% CI excludes 0) - " + "; ".join(parts)
        if no_ci:
            title += " (one replication: no confidence intervals)"
        _title(fig, title)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        return fig


# --------------------------------------------------------------------------- sweep
def _setting_unit(key: str) -> str:
    last = key.rsplit(".", 1)[-1]
    if last.endswith("_days"):
        return "days"
    if last in ("workers", "staff", "therapists", "other_fte"):
        return "FTE"
    if last.endswith("_prob") or last.endswith("_probs"):
        return "probability"
    if last == "caseload_cap":
        return "families per worker"
    if last == "annual_rate":
        return "referrals a year"
    if last == "capacity_per_meeting":
        return "cases per meeting"
    if "gbp" in last:
        return "£"
    if last.endswith("_per_day"):
        return "per day"
    return "setting"


def sweep_lines(
    reps: pd.DataFrame,
    keys: Sequence[str],
    kpis: Sequence[str],
    budget_gbp_per_year: float | None = None,
) -> Figure:
    """Each KPI against the first swept setting: mean and 95% CI band, a line per other setting.

    Parameters
    ----------
    reps : pandas.DataFrame
        Sweep replications table (swept dotted keys as columns, then ``scenario, rep, seed``, KPIs).
    keys : sequence of str
        The swept keys, in order (the first goes on the x axis).
    kpis : sequence of str
        KPIs to plot, one panel each.
    budget_gbp_per_year : float, optional
        Drawn on the ``cost_total_gbp_per_year`` panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    kpis = [k for k in kpis if k in reps.columns]
    keys = [k for k in keys if k in reps.columns]
    scaled = scaled_replications(reps)
    with _theme():
        ncols = 2 if len(kpis) > 1 else 1
        nrows = max(math.ceil(len(kpis) / ncols), 1)
        fig, axes = _figure(12, 1.2 + 3.3 * nrows, nrows, ncols)
        if not kpis or not keys or reps.empty:
            ax = axes[0]
            ax.set_xlabel("Swept setting (value)")
            ax.set_ylabel("KPI (units)")
            _note(ax, "No swept settings or KPIs to show.")
            _title(fig, "Nothing to show for this sweep")
            return _finish(fig)
        x_key, others = keys[0], keys[1:]
        numeric = pd.api.types.is_numeric_dtype(scaled[x_key])
        x_values = sorted(pd.unique(scaled[x_key])) if numeric else list(pd.unique(scaled[x_key].astype(str)))
        group = scaled[others].astype(str).agg(", ".join, axis=1) if others else pd.Series("", index=scaled.index)
        labels = list(dict.fromkeys(group))
        colours = scenario_colours(labels)
        styles = ["-", "--", ":", "-."]
        findings = []
        for ax, kpi in zip(axes, kpis):
            info = kpi_info(kpi)
            for j, lab in enumerate(labels):
                part = scaled[group == lab]
                xs, ms, los, his = [], [], [], []
                for i, xv in enumerate(x_values):
                    sel = part[part[x_key] == xv] if numeric else part[part[x_key].astype(str) == xv]
                    m, lo, hi, n = _ci(sel[kpi])
                    if n == 0:
                        continue
                    xs.append(float(xv) if numeric else float(i))
                    ms.append(m)
                    los.append(lo if math.isfinite(lo) else m)
                    his.append(hi if math.isfinite(hi) else m)
                if not xs:
                    continue
                name = (
                    ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in zip(others, lab.split(", ")))
                    if others
                    else None
                )
                ax.plot(xs, ms, marker="o", color=colours[lab], linestyle=styles[j % len(styles)], label=name)
                ax.fill_between(xs, los, his, color=colours[lab], alpha=0.2, linewidth=0)
            if kpi == "cost_total_gbp_per_year" and budget_gbp_per_year:
                ax.axhline(budget_gbp_per_year, color="0.1", linestyle="--", linewidth=1.4, label="budget")
            if info.kind == "gbp":
                ax.yaxis.set_major_formatter(FuncFormatter(_money))
            if not numeric:
                ax.set_xticks(range(len(x_values)))
                ax.set_xticklabels([str(x) for x in x_values])
            elif len(x_values) <= 12:
                ax.set_xticks([float(x) for x in x_values])
            ax.set_title(info.label[0].upper() + info.label[1:], fontsize=10)
            ax.set_xlabel(f"{x_key} ({_setting_unit(x_key)})")
            ax.set_ylabel(f"{info.label[0].upper() + info.label[1:]} ({info.unit})")
            if others or (kpi == "cost_total_gbp_per_year" and budget_gbp_per_year):
                ax.legend(fontsize=7)
            means = scaled.groupby(x_key)[kpi].mean()
            if len(means) > 1 and np.isfinite(means.to_numpy(dtype=float)).any():
                findings.append((kpi, means))
        for ax in axes[len(kpis) :]:
            ax.set_visible(False)
        title = f"KPIs against {x_key}; bands: 95% confidence interval of the mean"
        if findings:
            # the KPI that changes most across the sweep, relative to its size
            kpi, means = max(findings, key=lambda f: float(np.ptp(f[1])) / max(float(np.nanmax(np.abs(f[1]))), 1e-9))
            info = kpi_info(kpi)
            unit = " a year" if info.unit == "£ a year" else "" if info.kind == "gbp" else f" {info.unit}"
            first, last = means.iloc[0], means.iloc[-1]
            title = (
                f"{info.label[0].upper() + info.label[1:]} goes from {fmt_number(first, info.kind)} to "
                f"{fmt_number(last, info.kind)}{unit} as {x_key} goes from {means.index[0]} to "
                f"{means.index[-1]}"
            )
        _title(fig, title)
        return _finish(fig)


# --------------------------------------------------------------------------- diagnostics
def replication_precision(
    reps: pd.DataFrame, kpis: Sequence[str], target: float = 0.05, absolute: float = 0.5
) -> Figure:
    """Running mean and 95% CI as replications accumulate, per KPI (the first scenario only).

    Parameters
    ----------
    reps : pandas.DataFrame
        Replications table.
    kpis : sequence of str
        KPIs to show, one panel each.
    target : float, default 0.05
        Relative half-width aimed for, drawn as a band of +/- ``target`` around the final mean.
    absolute : float, default 0.5
        A half-width this small, in the KPI's stored units (half a day, half a family), is
        precise enough whatever the mean (as in ``ehsim run``'s check).

    Returns
    -------
    matplotlib.figure.Figure
    """
    scen = _scenario_list(reps)
    part = reps[reps["scenario"].astype(str) == scen[0]] if scen else reps
    part = part.sort_values("rep") if "rep" in part.columns else part
    scaled = scaled_replications(part)
    kpis = [k for k in kpis if k in scaled.columns]
    with _theme():
        ncols = 2 if len(kpis) > 1 else 1
        nrows = max(math.ceil(len(kpis) / ncols), 1)
        fig, axes = _figure(12, 1.2 + 2.9 * nrows, nrows, ncols)
        within = 0
        for ax, kpi in zip(axes, kpis):
            info = kpi_info(kpi)
            x = pd.to_numeric(scaled[kpi], errors="coerce").astype(float).to_numpy()
            raw = pd.to_numeric(part[kpi], errors="coerce").astype(float).to_numpy()
            ok = np.isfinite(x)
            x, raw = x[ok], raw[ok]
            if len(raw) > 1:
                m_raw, _, hi_raw, _ = t_interval(raw)
                half = hi_raw - m_raw
                within += int(half <= absolute or half <= target * abs(m_raw))
            ns, ms, los, his = [], [], [], []
            for n in range(1, len(x) + 1):
                m, lo, hi, _ = t_interval(x[:n])
                ns.append(n)
                ms.append(m)
                los.append(lo)
                his.append(hi)
            label = info.label[0].upper() + info.label[1:]
            ax.set_title(label, fontsize=10)
            ax.set_xlabel("Replications (count)")
            ax.set_ylabel(f"{label} ({info.unit})")
            if info.kind == "gbp":
                ax.yaxis.set_major_formatter(FuncFormatter(_money))
            if not ns:
                _note(ax, "No values: nothing was measured in any replication.")
                continue
            ax.plot(ns, ms, color="C0", marker="o", markersize=3, label="running mean")
            ax.fill_between(ns, los, his, color="C0", alpha=0.2, linewidth=0, label="95% CI")
            final = ms[-1]
            if math.isfinite(final) and final != 0:
                ax.axhspan(
                    final * (1 - target),
                    final * (1 + target),
                    color="0.85",
                    zorder=0,
                    label=f"±{target:.0%} of the mean",
                )
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if len(ns) >= 4:  # the first intervals (n = 2, 3) are very wide: keep the later ones readable
                lows = [v for v in los[2:] if math.isfinite(v)] + ms
                highs = [v for v in his[2:] if math.isfinite(v)] + ms
                pad = 0.1 * (max(highs) - min(lows)) or 1.0
                ax.set_ylim(min(lows) - pad, max(highs) + pad)
            if len(ns) < 2:
                _note(ax, "One replication: no confidence interval.", 0.5, 0.2)
            ax.legend(fontsize=7, loc="best")
        if not kpis:
            axes[0].set_xlabel("Replications (count)")
            axes[0].set_ylabel("KPI (units)")
            _note(axes[0], "None of the precision KPIs is in the results.")
        for ax in axes[max(len(kpis), 1) :]:
            ax.set_visible(False)
        n = len(part)
        where = f" ({scen[0]})" if len(scen) > 1 else ""
        if n < 2:
            title = f"One replication{where}: no confidence intervals; run 10 or more to judge precision"
        else:
            title = (
                f"After {n} replications{where}, the 95% CI is within ±{target:.0%} of the mean (or ±{absolute:g}) "
                f"for {within} of {len(kpis)} key KPIs"
            )
        _title(fig, title)
        return _finish(fig)


def warmup(
    series: pd.DataFrame,
    column: str,
    suggested_days: float | None,
    configured_days: float | None,
) -> Figure:
    """Ensemble mean (across replications) of a monthly measure, with the MSER-5 suggestion
    and the configured warm-up marked.

    Parameters
    ----------
    series : pandas.DataFrame
        ``series.parquet`` (``day``, ``rep``, ``column``; the first scenario is used).
    column : str
        The measure (e.g. ``"open_level3"``).
    suggested_days, configured_days : float, optional
        Warm-up suggested by MSER-5 and used by the scenario (days).

    Returns
    -------
    matplotlib.figure.Figure
    """
    scen = _scenario_list(series)
    part = series[series["scenario"].astype(str) == scen[0]] if scen else series
    stage = column[len("open_") :] if column.startswith("open_") else column
    label = OPEN_STAGES.get(stage, _pretty(column))
    with _theme():
        fig, axes = _figure(12, 4.2)
        ax = axes[0]
        ax.set_xlabel("Time since the start of the run (days)")
        ax.set_ylabel(f"Open {label} (families)")
        if part.empty or column not in part.columns or "day" not in part.columns:
            _note(ax, "No monthly series saved, so the warm-up cannot be checked.")
            _title(fig, "Warm-up: no series to check")
            return _finish(fig)
        vals = pd.to_numeric(part[column], errors="coerce").astype(float)
        ens = vals.groupby(part["day"]).mean().sort_index()
        for _rep, g in part.groupby("rep") if "rep" in part.columns else []:
            ax.plot(g["day"], g[column], color="0.75", linewidth=0.6, zorder=1)
        ax.plot(ens.index, ens.to_numpy(), color="C0", linewidth=2.2, label="mean across replications", zorder=3)
        if configured_days is not None and math.isfinite(configured_days):
            ax.axvline(
                configured_days,
                color="C1",
                linestyle="--",
                linewidth=1.8,
                label=f"scenario warm-up: {configured_days:,.0f} days",
            )
        if suggested_days is not None and math.isfinite(suggested_days):
            ax.axvline(
                suggested_days,
                color="C2",
                linestyle=":",
                linewidth=2.2,
                label=f"MSER-5 suggestion: {suggested_days:,.0f} days",
            )
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8, loc="lower right")
        ax.set_title("Grey: each replication")
        where = f" ({scen[0]})" if len(scen) > 1 else ""
        if suggested_days is not None and math.isfinite(suggested_days) and configured_days is not None:
            verdict = "enough" if configured_days >= suggested_days else "shorter than suggested"
            title = (
                f"Warm-up{where}: MSER-5 suggests {suggested_days:,.0f} days; the scenario uses "
                f"{configured_days:,.0f} ({verdict})"
            )
        else:
            title = f"Warm-up{where}: open {label} over time"
        _title(fig, title)
        return _finish(fig)

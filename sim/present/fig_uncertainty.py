"""The figures of an uncertainty job: sensitivity indices (Morris mu*/sigma, or Sobol /
RBD-FAST indices with their CIs), the cost-effectiveness plane (one dot per parameter
sample) and the probability that each option is better than the baseline."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import kpis as K
from sim.kpis import Kpi
from sim.present.data import cap
from sim.present.robustness import drivers, missing_indices, no_driver
from sim.present.theme import (
    LINE_STYLES,
    colours,
    finish,
    legend_beside,
    money_axis,
    new_figure,
    note,
    style,
    title,
)
from sim.results import Results
from sim.uncertainty.analyse import (
    CONSTANT,
    MIN_WORLDS,
    ONE_REPLICATION,
    TOO_FEW,
    computed,
    min_points,
    missing,
    settled,
    too_few_for_drivers,
    too_few_worlds,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["analysed", "indices", "plane", "probabilities"]

MARKERS = ("o", "s", "^", "D", "v", "P")
LABELLED = 4
"""Parameters named on a Morris panel: the largest mu* (the rest crowd the origin; every
value is in sensitivity.csv and the report's table)."""


def analysed(res: Results) -> list[Kpi]:
    """The KPIs the job analysed, as the results describe them."""
    names = [str(n) for n in res.manifest.get("analysed_kpis") or []]
    return [res.kpis[n] for n in names if n in res.kpis]


def method(res: Results) -> str:
    return str(res.manifest.get("method", "morris"))


def _outcome(res: Results) -> tuple[str, str]:
    """Which outcome the index figure shows: the first option's difference, else the
    baseline's level."""
    if res.options:
        return res.options[0], f"change under {res.options[0]}"
    return res.base, f"{res.base}"


def _morris_panel(ax: Axes, sens: pd.DataFrame, kpi: Kpi, scenario: str, window: float) -> bool:
    sel = sens[(sens["kpi"] == kpi.name) & (sens["scenario"].astype(str) == scenario)]
    wide = sel.pivot_table(index="parameter", columns="index", values="value", sort=False)
    if wide.empty or "mu_star" not in wide or "sigma" not in wide:
        return False
    scale = kpi.scale(window)
    x, y = wide["mu_star"].to_numpy(float) * scale, wide["sigma"].to_numpy(float) * scale
    ax.scatter(x, y, s=40, color=colours(["x"])["x"], zorder=3)
    order = np.argsort(-x, kind="stable")
    for rank, i in enumerate(order):
        if rank < LABELLED and x[i] > 0:
            ax.annotate(str(wide.index[i]), (x[i], y[i]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    top = float(max(x.max(), y.max(), 0)) * 1.15 or 1.0
    ax.plot([0, top], [0, top], linestyle=":", color="0.5", linewidth=1)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    unit = kpi.display_unit
    ax.set_xlabel(f"Morris mu*, mean absolute effect ({unit})")
    ax.set_ylabel(f"Morris sigma, spread of effects ({unit})")
    if kpi.kind == "gbp":
        money_axis(ax.xaxis, 4)
        money_axis(ax.yaxis, 4)
    return True


NEGATIVE = "estimate below 0 (noise), drawn at 0"
"""The legend entry of a share-of-variance index estimated below zero: the estimator's noise
on few points (the estimate is kept in sensitivity.csv); its bar is drawn at zero."""


def _bars_panel(ax: Axes, sens: pd.DataFrame, kpi: Kpi, scenario: str, how: str, mark: bool) -> bool:
    """Sobol / RBD-FAST indices of one outcome as bars with their 95% CIs (truncated to 0-1
    in sensitivity.csv); an index estimated below zero is drawn at zero with a marker, which
    is in the legend on every panel when ``mark``."""
    sel = sens[(sens["kpi"] == kpi.name) & (sens["scenario"].astype(str) == scenario)]
    if sel.empty:
        return False
    names = list(dict.fromkeys(sel["parameter"].astype(str)))
    kinds = ["S1", "ST"] if how == "sobol" else ["S1"]
    cols = colours(kinds)
    height = 0.8 / len(kinds)
    hatches = ("", "//")
    below: list[float] = []
    for j, idx in enumerate(kinds):
        part = sel[sel["index"] == idx].set_index("parameter").reindex(names)
        v = part["value"].to_numpy(float)
        drawn = np.clip(v, 0.0, 1.0)
        lo, hi = part["ci_low"].to_numpy(float), part["ci_high"].to_numpy(float)
        ys = np.arange(len(names)) + (j - (len(kinds) - 1) / 2) * height
        err = np.vstack([np.clip(drawn - lo, 0, None), np.clip(hi - drawn, 0, None)])
        label = {"S1": "first order (S1)", "ST": "total (ST)"}[idx]
        ax.barh(ys, drawn, height=height, color=cols[idx], hatch=hatches[j], edgecolor="0.2", label=label)
        ax.errorbar(drawn, ys, xerr=err, fmt="none", ecolor="0.1", capsize=3, linewidth=1)
        below += [float(y) for y, x in zip(ys, v) if x < 0]
    if mark:
        ax.scatter(np.zeros(len(below)), below, marker="x", s=40, color="0.1", zorder=4, clip_on=False, label=NEGATIVE)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(0, 1.02)
    ax.axvline(0, color="0.2", linewidth=1)
    ax.set_xlabel("Share of variance, 0-1 (95% CI truncated)")
    ax.set_ylabel("Parameter")
    return True


def _below_zero(sens: pd.DataFrame, how: str) -> bool:
    """Whether some share-of-variance index (Sobol, RBD-FAST) is estimated below zero."""
    return how != "morris" and not sens.empty and bool((pd.to_numeric(sens["value"], errors="coerce") < 0).any())


def indices(res: Results) -> Figure:
    """One panel per analysed KPI: Morris mu* against sigma, or Sobol / RBD-FAST indices
    with their 95% CIs, for the first option's change (the baseline's level with no option).
    The title names a parameter as mattering most only where :func:`drivers` does (its
    interval excludes zero) and the design has enough Morris trajectories or Sobol base samples for intervals
    (:func:`~sim.uncertainty.analyse.too_few_for_drivers`), as the console and the report's
    summary do."""
    how = method(res)
    kpis = analysed(res)
    sens = computed(res.sensitivity)
    scenario, what = _outcome(res)
    window = res.window_days(res.base)
    whys = missing(res.sensitivity, res.replications, how, res.base, res.options, [k.name for k in kpis])
    points = _points(res)
    mark = _below_zero(sens, how)
    with style():
        ncols = min(max(len(kpis), 1), 3)
        fig, axes = new_figure(max(12.0, 4.4 * ncols), 4.8, 1, ncols)
        tops: list[tuple[str, str]] = []
        unclear: list[str] = []
        bars: Axes | None = None
        for ax, kpi in zip(axes, kpis):
            drawn = (
                _morris_panel(ax, sens, kpi, scenario, window)
                if how == "morris"
                else _bars_panel(ax, sens, kpi, scenario, how, mark)
            )
            ax.set_title(cap(kpi.label), fontsize=10)
            if not drawn:
                ax.set_xlabel("Sensitivity index (no unit)")
                ax.set_ylabel("Parameter")
                outcome = f"the change in {kpi.label}" if res.options else f"the {kpi.label}"
                note(ax, missing_indices(whys.get((scenario, kpi.name)), outcome, how, points))
                continue
            bars = ax if how != "morris" else bars
            top = drivers(sens, how, kpi.name, scenario, n=1)
            if top.empty:
                unclear.append(kpi.label)
            else:
                tops.append((str(top["parameter"].iloc[0]), kpi.label))
        if bars is not None:
            legend_beside(bars, "Index (95% CI)")
        if not kpis:
            axes[0].set_xlabel("Sensitivity index (no unit)")
            axes[0].set_ylabel("Parameter")
            note(axes[0], "No KPI analysed.")
        label = {"morris": "Morris screening", "sobol": "Sobol indices", "lhs": "RBD-FAST indices"}[how]
        leads = {p: [k for q, k in tops if q == p] for p, _ in tops}
        said = [f"{p} matters most for {', '.join(ks)}" for p, ks in leads.items()]
        samples = int(res.manifest.get("samples") or 0)
        if (tops or unclear) and too_few_for_drivers(how, samples):  # indices drawn, on degenerate intervals
            said, unclear = [f"no driver named, {no_driver(how, samples)}"], []
        if unclear:
            said.append(
                f"no parameter's index for {', '.join(unclear)} is distinguishable from zero (every interval "
                "includes it)"
            )
        text = "; ".join(said) or _none_shown(set(whys.values()), how, points)
        title(fig, f"{label} of the {what}: {text}")
        return finish(fig)


def _points(res: Results) -> int:
    """The number of parameter samples (plausible worlds) that were run."""
    return int(res.replications["sample"].nunique())


def _none_shown(whys: set[str], how: str, points: int) -> str:
    """Why the index figure shows no parameter, for its title (``whys`` from
    :func:`sim.uncertainty.analyse.missing`)."""
    if TOO_FEW in whys:
        return f"none computed, {points} samples are too few (at least {min_points(how)} needed)"
    if whys == {CONSTANT}:
        return "no parameter moves them (they are the same in every sample)"
    return "no index to show"


def _sample_means(res: Results, names: list[str]) -> pd.DataFrame:
    return res.replications.groupby(["sample", "scenario"], sort=True)[names].mean()


def plane(res: Results) -> Figure:
    """The cost-effectiveness plane: per parameter sample, each option's change in entries
    to care a year (x) against its change in total cost a year (y)."""
    cost, care = res.kpis.get(K.per_year(K.COST_TOTAL).name), res.kpis.get(K.CARE_ENTRIES.name)
    window = res.window_days(res.base)
    with style():
        fig, axes = new_figure(8, 6)
        ax = axes[0]
        care_text = f"{care.label} ({care.display_unit})" if care else "entries to care (families a year)"
        cost_text = f"{cost.label} ({cost.display_unit})" if cost else "total cost (£ a year)"
        ax.set_xlabel(f"Change in {care_text}")
        ax.set_ylabel(f"Change in {cost_text}")
        if cost is None or care is None or not res.options:
            note(ax, "Needs options and the cost and entries-to-care KPIs.")
            title(fig, "No cost-effectiveness plane: nothing to compare")
            return finish(fig)
        means = _sample_means(res, [cost.name, care.name])
        base = pd.DataFrame(means.xs(res.base, level="scenario"))
        cols = colours(["(baseline)", *res.options])
        parts: list[str] = []
        shares: list[float] = []
        for i, opt in enumerate(res.options):
            d = pd.DataFrame(means.xs(opt, level="scenario")) - base
            x = d[care.name].to_numpy(float) * care.scale(window)
            y = d[cost.name].to_numpy(float) * cost.scale(window)
            ax.scatter(
                x, y, s=28, alpha=0.75, color=cols[opt], marker=MARKERS[i % len(MARKERS)], label=opt, edgecolor="0.2"
            )
            ok = np.isfinite(y)
            if ok.any():
                shares.append(float(np.mean(y[ok] < 0)))
                parts.append(f"{opt} saves money in {shares[-1]:.0%}")
        ax.axhline(0, color="0.2", linewidth=1, linestyle=LINE_STYLES[0])
        ax.axvline(0, color="0.2", linewidth=1, linestyle=LINE_STYLES[0])
        money_axis(ax.yaxis, 5)
        ax.text(0.02, 0.02, "cheaper, fewer in care", transform=ax.transAxes, fontsize=8, color="0.3")
        ax.text(
            0.98, 0.98, "dearer, more in care", transform=ax.transAxes, fontsize=8, color="0.3", ha="right", va="top"
        )
        ax.legend(fontsize=9, title="Option (one dot per sample)", title_fontsize=9, loc="upper left")
        if not parts:
            text = "No finite cost differences"
        elif max(shares) == 0:
            text = f"No option saves money in any of the {_points(res)} plausible worlds"
        else:
            text = "; ".join(parts) + f" of the {_points(res)} plausible worlds"
        title(fig, text)
        return finish(fig)


def probabilities(res: Results) -> Figure:
    """Per option and analysed KPI, the share of parameter samples in which the option is
    better than the baseline (``p_better`` of ``robustness.csv``)."""
    rob = res.robustness if res.robustness is not None else pd.DataFrame(columns=["option", "kpi", "p_better"])
    kpis = analysed(res)
    options = res.options
    with style():
        fig, axes = new_figure(9, 1.4 + 0.5 * max(len(options) * max(len(kpis), 1), 1))
        ax = axes[0]
        ax.set_xlabel("Plausible worlds where the option is better than the baseline (%)")
        ax.set_ylabel("Option")
        if rob.empty or not options:
            note(ax, "No options: no probabilities to show.")
            title(fig, "No options compared with the baseline")
            return finish(fig)
        cols = colours([k.name for k in kpis])
        hatches = ("", "//", "..", "xx")
        height = 0.8 / max(len(kpis), 1)
        best: tuple[float, str, str] = (-1.0, "", "")
        points = _points(res)
        for j, kpi in enumerate(kpis):
            ps = []
            for opt in options:
                sel = rob[(rob["option"].astype(str) == opt) & (rob["kpi"] == kpi.name)]
                p = float(sel["p_better"].iloc[0]) if len(sel) else math.nan
                ps.append(p * 100)
                if math.isfinite(p) and p > best[0]:
                    best = (p, opt, str(sel["better_means"].iloc[0]))
            ys = np.arange(len(options)) + (j - (len(kpis) - 1) / 2) * height
            ax.barh(
                ys,
                ps,
                height=height,
                color=cols[kpi.name],
                hatch=hatches[j % len(hatches)],
                edgecolor="0.2",
                label=f"{kpi.label}",
            )
            for y, p in zip(ys, ps):
                if math.isfinite(p):
                    inside = p > 88
                    ax.text(
                        p - 1 if inside else p + 1,
                        y,
                        f"{p:.0f}%",
                        va="center",
                        ha="right" if inside else "left",
                        fontsize=8,
                        color="white" if inside else "0.2",
                    )
        for share in (10, 50, 90):
            ax.axvline(share, color="0.4", linewidth=0.8, linestyle=":")
        ax.set_xlim(0, 100)
        ax.set_yticks(range(len(options)), options)
        ax.set_ylim(len(options) - 0.5, -0.5)
        ax.legend(fontsize=8, loc="lower right", title="KPI (better = lower)", title_fontsize=8)
        said = set(rob.apply(lambda r: settled({str(k): v for k, v in r.items()}), axis=1))
        few = bool(rob.apply(lambda r: too_few_worlds({str(k): v for k, v in r.items()}), axis=1).any())
        if not best[1]:
            text = "No option's share of plausible worlds could be measured"
        elif best[0] == 0:
            text = f"No option is better than {res.base} on any KPI in any of the {points} plausible worlds"
        else:
            text = f"Most often better: {best[1]} {best[2]} in {best[0]:.0%} of the {points} plausible worlds"
        if few:
            text += f" (too few worlds to tell whether any conclusion is robust: at least {MIN_WORLDS} needed)"
        if ONE_REPLICATION in said:
            text += f" ({ONE_REPLICATION}: no verdict, the simulation's noise cannot be told from the uncertainty)"
        title(fig, text)
        return finish(fig)

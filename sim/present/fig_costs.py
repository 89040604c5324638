"""Costs a year: each component (they add up to the total), and the total or, where a budget is
set, early help cost against each scenario's budget."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim import kpis as K
from sim.kpis import Kpi
from sim.present import findings
from sim.present.bars import grouped_hbars, hbars_by_scenario
from sim.present.data import budget_of, budget_verdict, kpi_rows, present, stat, verdict_of
from sim.present.format import fmt_number
from sim.present.theme import colours, finish, footnote, money_axis, new_figure, note, style, title, title_width
from sim.results import Results

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["components", "costs"]


def components(res: Results) -> list[Kpi]:
    """The cost components of :data:`sim.kpis.COST_COMPONENTS` the results hold, leaving out
    any that is zero in every scenario (the rest still add up to the total)."""
    out = []
    for k in present(res, K.COST_COMPONENTS):
        means = [stat(res, k.name, "mean", s) for s in res.scenarios]
        if any(math.isfinite(m) and m != 0 for m in means):
            out.append(k)
    return out


def _total(res: Results) -> Kpi | None:
    name = K.per_year(K.COST_TOTAL).name
    return res.kpis.get(name)


def _totals_panel(ax: Axes, res: Results, total: Kpi, prices: str) -> None:
    """Each scenario's total cost a year; with a budget in any scenario, its early help cost
    instead, each bar beside its own scenario's budget (the budget covers early help only,
    and an option's dated budget differs from the baseline's)."""
    budgets = {s: budget_of(res, s) for s in res.scenarios}
    early = res.kpis.get(K.per_year(K.COST_EARLY_HELP).name)
    against = early is not None and any(budgets.values())
    table = kpi_rows(res, [early if against and early is not None else total], res.scenarios)
    hbars_by_scenario(ax, table, colours(res.scenarios))
    high = float(table["high"].fillna(table["mean"]).max())
    if against:
        for i, s in enumerate(res.scenarios):
            b = budgets[s]
            if b is None:
                continue
            ax.plot([b, b], [i - 0.42, i + 0.42], color="0.1", linestyle="--", linewidth=1.8)
            high = max(high, b)
    ax.set_xlim(0, high * 1.12 if high > 0 else 1)
    money_axis(ax.xaxis, 4)
    ax.set_xlabel(f"{'Early help' if against else 'Total'} cost (£ a year{prices})")
    ax.set_ylabel("Scenario")
    ax.set_title("Early help against its budget (dashed)" if against else "Total")


def costs(res: Results) -> Figure:
    """Costs a year by component (left) and in total per scenario (right), with 95% intervals."""
    parts = components(res)
    total = _total(res)
    year = res.setting("costs.price_year")
    prices = f", {year} prices" if year else ""
    comp = kpi_rows(res, parts, res.scenarios)
    items = [str(i) for i in dict.fromkeys(comp["item"])]
    with style():
        height = 1.9 + 0.5 * max(len(items), 3) * max(1, min(len(res.scenarios), 3)) ** 0.5
        fig, (ax, ax2) = new_figure(12, height, 1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
        ax.set_xlabel(f"Cost (£ a year{prices})")
        ax.set_ylabel("Cost component")
        ax.set_title("By component; whiskers: 95% confidence interval", fontsize=9)
        ax2.set_xlabel(f"Total cost (£ a year{prices})")
        ax2.set_ylabel("Scenario")
        if total is None or not items:
            for a in (ax, ax2):
                note(a, "No costs in these results.")
            title(fig, "No costs to show")
            return finish(fig)
        grouped_hbars(ax, comp, colours(res.scenarios), items)
        longest = float(comp["high"].fillna(comp["mean"]).max())
        # room on the right for the legend, so it never covers a bar or a whisker
        ax.set_xlim(0, longest * (1.45 if len(res.scenarios) > 1 else 1.08) if longest > 0 else 1)
        money_axis(ax.xaxis, 4)
        if len(res.scenarios) > 1:
            ax.legend(title="Scenario", loc="best")
        base_sum = float(comp[comp["scenario"] == res.base]["mean"].sum())
        footnote(
            fig,
            f"The components add up to the total: {fmt_number(base_sum, 'gbp')} a year in {res.base}. "
            "Components that are zero in every scenario are not drawn.",
        )
        _totals_panel(ax2, res, total, prices)
        totals = kpi_rows(res, [total], res.scenarios)
        by = dict(zip(totals["scenario"].astype(str), totals["mean"].astype(float)))
        verdicts = {s: verdict_of(res, total.name, s) for s in res.scenarios[1:]}
        budgets = {s: said for s in res.scenarios if (said := budget_verdict(res, s)) is not None}
        title(fig, findings.costs(by, res.scenarios, verdicts, budgets, title_width(fig)))
        return finish(fig, bottom=0.3)

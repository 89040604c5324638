"""Caseload utilisation by team and service, and step-ups to social care and entries to care:
means across replications with their 95% intervals (from ``summary``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim import kpis as K
from sim.present import findings
from sim.present.bars import grouped_hbars
from sim.present.data import family, kpi_rows, present, shown_stat, verdict_of
from sim.present.theme import colours, finish, legend_beside, new_figure, note, style, title, title_width
from sim.results import Results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["step_ups", "utilisation"]

STEP_ITEMS = (K.STEP_UPS_WHILE_WAITING, K.STEP_UPS_DURING_PLAN, K.CARE_ENTRIES_FOSTER, K.CARE_ENTRIES_RESIDENTIAL)
"""The routes into social care and care shown, in order."""


def _height(items: int, scenarios: int) -> float:
    return 1.5 + 0.5 * max(items, 3) * max(1, min(scenarios, 3)) ** 0.5


def utilisation(res: Results) -> Figure:
    """Busy slots / slots of each team and service, time-averaged over the results window."""
    kpis = family(res, "utilisation")
    table = kpi_rows(res, kpis, res.scenarios)
    table = table[table["mean"].apply(math.isfinite)]
    items = list(dict.fromkeys(table["item"]))
    with style():
        fig, axes = new_figure(10, _height(len(items), len(res.scenarios)))
        ax = axes[0]
        ax.set_xlabel("Utilisation (% of slots in use, time-average)")
        ax.set_ylabel("Team or service")
        ax.set_title("Mean across replications; whiskers: 95% confidence interval", fontsize=9)
        if not items:
            note(ax, "No service with a finite capacity was used in the results window.")
            title(fig, "No utilisation to show")
            return finish(fig)
        grouped_hbars(ax, table, colours(res.scenarios), items)
        ax.axvline(100, color="0.3", linestyle=":", linewidth=1)
        ax.set_xlim(0, max(105.0, float(table["high"].fillna(table["mean"]).max()) * 1.05))
        if len(res.scenarios) > 1:
            legend_beside(ax, "Scenario")
        found = [
            (str(r["scenario"]), res.kpis[r["kpi"]].label, float(r["mean"])) for r in table.to_dict(orient="records")
        ]
        verdicts = {(res.kpis[k].label, s): verdict_of(res, k, s) for k in set(table["kpi"]) for s in res.scenarios[1:]}
        title(fig, findings.utilisation(found, res.scenarios, verdicts, title_width(fig)))
        return finish(fig)


def step_ups(res: Results) -> Figure:
    """Step-ups to social care (while waiting, during a plan) and entries to care, a year."""
    kpis = present(res, STEP_ITEMS)
    table = kpi_rows(res, kpis, res.scenarios)
    items = [str(i) for i in dict.fromkeys(table["item"])]
    with style():
        fig, axes = new_figure(10, _height(len(items), len(res.scenarios)))
        ax = axes[0]
        ax.set_xlabel("Families a year (count)")
        ax.set_ylabel("Route")
        ax.set_title("Mean across replications; whiskers: 95% confidence interval", fontsize=9)
        if not items:
            note(ax, "The results have no step-up or entry-to-care counts.")
            title(fig, "No step-ups or entries to care recorded")
            return finish(fig)
        grouped_hbars(ax, table, colours(res.scenarios), items)
        if not (table["mean"].abs() > 0).any():
            ax.set_xlim(0, 1)
            note(ax, "No family stepped up to social care or entered care in any replication.", 0.55, 0.5)
        else:
            ax.set_xlim(left=0)
        if len(res.scenarios) > 1:
            legend_beside(ax, "Scenario")
        su = {
            s: shown_stat(res, res.kpis.get(K.STEP_UPS_TOTAL.name, K.STEP_UPS_TOTAL), "mean", s) for s in res.scenarios
        }
        care = {s: shown_stat(res, res.kpis.get(K.CARE_ENTRIES.name, K.CARE_ENTRIES), "mean", s) for s in res.scenarios}
        verdicts = {s: verdict_of(res, K.STEP_UPS_TOTAL.name, s) for s in res.scenarios[1:]}
        title(fig, findings.step_ups(su, care, res.scenarios, verdicts, title_width(fig)))
        return finish(fig)

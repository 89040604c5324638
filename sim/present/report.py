"""The planners' what-if report: :func:`make_report` turns any results folder into
``report.html`` (summary, assumptions, figures, tables, diagnostics, reproducibility) and
``figures/<name>.png`` and ``.svg`` for slides.

The folder is read only through :func:`sim.results.read`; a folder of unknown kind or newer
schema raises :class:`~sim.errors.ResultsError` (the CLI exits 2).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sim import results as R
from sim.present import (
    fig_compare,
    fig_costs,
    fig_diagnostics,
    fig_flow,
    fig_services,
    fig_sweep,
    fig_time,
    fig_uncertainty,
    fig_waits,
)
from sim.present.data import INTERVAL_TEXT, TRUNCATION_TEXT
from sim.present.page import Rendered, page
from sim.present.theme import render
from sim.results import Kind, Results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FigureSpec", "build_figures", "make_report"]


@dataclass(frozen=True)
class FigureSpec:
    """A figure of the report: file name stem, caption and the figure."""

    name: str
    caption: str
    figure: Figure


Draw = Callable[[Results], "Figure"]
CI = f"whiskers: {INTERVAL_TEXT}"
RUN_FIGURES: tuple[tuple[str, str, Draw], ...] = (
    (
        "waits",
        "Each dot is one replication's mean (left) or 90th percentile (right) wait of the families served in the "
        "results window; boxes show the spread across replications.",
        fig_waits.waits,
    ),
    (
        "queues",
        "Families waiting in each queue, each month's time-average: median across replications (line) and the middle "
        "90% (band). The grey span is the warm-up, excluded from the KPIs.",
        fig_time.queues,
    ),
    (
        "open_cases",
        "Open plans and social care cases, each month's time-average: median across replications and the middle 90%.",
        fig_time.open_cases,
    ),
    (
        "utilisation",
        f"Share of caseload slots (or front-door staff) in use, averaged over the results window; {CI}.",
        fig_services.utilisation,
    ),
    ("step_ups", f"Step-ups to social care and entries to care a year; {CI}.", fig_services.step_ups),
    (
        "costs",
        f"Costs a year by component and in total; {CI}. The components add up to the total; a component that is zero "
        "in every scenario is left out. Where a scenario sets a budget (for early help only), the right-hand panel "
        "shows early help cost against each scenario's own budget, averaged over the results window (dashed).",
        fig_costs.costs,
    ),
    (
        "precision",
        f"Replication-count check: running mean and 95% CI ({TRUNCATION_TEXT}) "
        "as replications are added; the grey band is ± the target precision of the final mean.",
        fig_diagnostics.precision,
    ),
    (
        "warmup",
        "Warm-up check: monthly open Level 3 plans (time-averages), each replication in grey and their mean in blue, "
        "with the MSER-5 truncation point (only where the series has a steady state within the run) and the "
        "scenario's warm-up.",
        fig_diagnostics.warmup,
    ),
)
"""The figures of a run and of a comparison (after the comparison's own), in order."""
FLOW_CAPTION = (
    "How families move between stages in {s} over the results window: means across replications, each rounded up "
    "or down to a whole family so that every box balances exactly: those there at the start plus those arriving "
    "equal those leaving plus those still there at the end."
)


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "scenario"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def _flows(res: Results) -> list[tuple[str, str, Draw]]:
    if len(res.scenarios) == 1:
        return [("flows", FLOW_CAPTION.format(s=res.base), fig_flow.flows)]
    taken: set[str] = set()
    return [
        (f"flows_{_slug(s, taken)}", FLOW_CAPTION.format(s=s), partial(fig_flow.flows, scenario=s))
        for s in res.scenarios
    ]


UNCERTAINTY_FIGURES: tuple[tuple[str, str, Draw], ...] = (
    (
        "sensitivity",
        "Which uncertain parameters drive each analysed KPI (the first option's change from the baseline, or the "
        "baseline's level when there is no option), each sample's replications averaged first. Morris: mu* is the "
        "mean absolute effect of moving a parameter across its range, sigma the spread of that effect (interactions or "
        "curvature; above the dotted line, sigma > mu*); the four largest are named. Sobol: first-order (S1) and "
        "total (ST) shares of the variance "
        "with 95% bootstrap CIs (whiskers). RBD-FAST: first-order shares with 95% bootstrap CIs.",
        fig_uncertainty.indices,
    ),
    (
        "cost_effectiveness",
        "Cost-effectiveness plane: one dot per parameter sample and option, the option's change in entries to care a "
        "year (x) against its change in total cost a year (y), each the mean over the sample's replications (common "
        "random numbers). Below the horizontal line the option saves money; left of the vertical line fewer families "
        "enter care.",
        fig_uncertainty.plane,
    ),
    (
        "robustness",
        "Share of parameter samples (plausible worlds) in which each option is better (lower) than the baseline, per "
        "analysed KPI; dotted lines at 10%, 50% and 90% (a conclusion is called robust beyond 90% either way).",
        fig_uncertainty.probabilities,
    ),
)
"""The figures of an uncertainty job, in order."""


def figure_list(res: Results) -> list[tuple[str, str, Draw]]:
    """Name, caption and drawing function of every figure of the report, in order."""
    if res.kind == Kind.UNCERTAINTY:
        return list(UNCERTAINTY_FIGURES)
    if res.kind == Kind.SWEEP:
        return [
            (
                "sweep",
                "Each panel: the mean of the replications at each swept value (line) and its 95% confidence interval "
                f"(band, {TRUNCATION_TEXT}); other swept settings are separate lines.",
                fig_sweep.sweep,
            ),
            ("precision", "Replication-count check for the first combination.", fig_diagnostics.precision),
        ]
    out: list[tuple[str, str, Draw]] = []
    if res.kind == Kind.COMPARE:
        out.append(
            (
                "differences",
                "Paired differences (option minus baseline) with 95% confidence intervals. Filled markers: the "
                "interval excludes zero (a clear difference); hollow markers: no clear difference.",
                fig_compare.forest,
            )
        )
    out.extend(RUN_FIGURES[:1])
    if res.events is not None and len(res.events):
        out.append(
            (
                "waits_per_family",
                "Waits of individual families in replication 0 (the event log is kept for one replication only).",
                fig_waits.waits_per_family,
            )
        )
    if res.series is None:
        return [*out, *(f for f in RUN_FIGURES[1:] if f[0] not in ("queues", "open_cases", "warmup"))]
    return [*out, *RUN_FIGURES[1:5], *_flows(res), *RUN_FIGURES[5:]]


def build_figures(res: Results) -> list[FigureSpec]:
    """Every figure of the report, drawn."""
    return [FigureSpec(name, caption, draw(res)) for name, caption, draw in figure_list(res)]


def _write_bytes(path: Path, data: bytes) -> None:
    R.atomic_write(path, lambda p: p.write_bytes(data))


def make_report(folder: str | Path) -> Path:
    """Write ``report.html`` and ``figures/*.png|svg`` into a results folder; returns the
    report's path.

    Raises
    ------
    ResultsError
        Not a results folder, or one of unknown kind or newer schema.
    """
    res = R.read(folder)
    assert res.folder is not None
    figdir = res.folder / R.FIGURES
    # checked before any figure is drawn: the page and its figures must be writable where they go
    if figdir.exists() and not figdir.is_dir():
        raise R.ResultsError([f"{figdir}: is a file; the report writes its figures into a folder of that name"])
    if (res.folder / R.REPORT).is_dir():
        raise R.ResultsError([f"{res.folder / R.REPORT}: is a folder; the report writes a page of that name"])
    rendered: list[Rendered] = []
    for name, caption, draw in figure_list(res):
        fig = draw(res)
        png, svg = render(fig)
        _write_bytes(figdir / f"{name}.png", png)
        _write_bytes(figdir / f"{name}.svg", svg)
        rendered.append(Rendered(name, caption, fig.get_suptitle() or name, base64.b64encode(png).decode("ascii")))
    written = {f"{r.name}{ext}" for r in rendered for ext in (".png", ".svg")}
    for stale in figdir.glob("*"):  # figures of an earlier report that this one no longer makes
        if stale.suffix in (".png", ".svg") and stale.name not in written:
            stale.unlink(missing_ok=True)
    path = res.folder / R.REPORT
    R.write_text(path, page(res, rendered))
    return path

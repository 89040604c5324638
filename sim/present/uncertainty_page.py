"""The report's text and tables for an uncertainty job: the robustness statements, the
uncertain parameters with their distributions and sources, the robustness and sensitivity
tables, and what the design was. Every number comes from ``robustness.csv``,
``sensitivity.csv`` or the manifest, tagged with the cell it came from."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from typing import Any

from sim.kpis import Kpi
from sim.present.data import cap
from sim.present.fig_uncertainty import analysed, method
from sim.present.format import change_unit, fmt_kpi
from sim.present.robustness import (
    INDEX_TEXT,
    INTERVAL_MEANS,
    MAIN_INDEX,
    change_texts,
    design_text,
    drivers,
    few_worlds,
    statements,
    unchanged,
    verdict,
)
from sim.results import Results
from sim.uncertainty.analyse import (
    ONE_REPLICATION,
    PREDATES_NOISE,
    TOO_FEW_WORLDS,
    computed,
    few_points_warning,
    few_samples_warning,
    settled,
    too_few_worlds,
)

__all__ = ["TRUNCATED", "uncertain_parameters", "uncertainty_diagnostics", "uncertainty_items", "uncertainty_tables"]

e = html.escape
TRUNCATED = {"mu_star": "truncated at zero", "S1": "truncated to 0-1", "ST": "truncated to 0-1"}
"""How each main index's interval is truncated (:func:`sim.uncertainty.analyse.interval`)."""


def _table(headers: list[str], rows: list[list[str]], caption: str) -> str:
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _num() -> Any:
    """A :data:`sim.present.robustness.Num` that tags each number with its cell: a row with a
    ``parameter`` is of sensitivity.csv, any other of robustness.csv."""

    def num(text: str, row: Mapping[str, Any], field: str) -> str:
        source = "sensitivity" if "parameter" in row else "robustness"
        attrs = {"source": source, "field": field, "kpi": str(row.get("kpi", ""))}
        for key in ("option", "parameter", "scenario", "index"):
            if key in row:
                attrs[key] = str(row[key])
        data = " ".join(f'data-{k}="{e(v)}"' for k, v in attrs.items())
        return f'<span class="num" {data}>{e(text)}</span>'

    return num


def uncertainty_items(res: Results) -> list[str]:
    """The summary: the design in one sentence, then a robustness statement per option."""
    man = res.manifest
    how = method(res)
    kpis = [k.name for k in analysed(res)]
    points = int(man.get("points", res.replications["sample"].nunique()))
    reps = _replications_per_world(res)
    if reps < 2:
        why = (
            "with one replication a world's result carries its simulation noise whole, so the shares below are of "
            "what nobody knows and of chance together (run more replications to tell them apart)."
        )
    else:
        why = (
            "each world's replications are averaged before worlds are compared, but every world reuses the same "
            "replication seeds, so their noise is one draw shared by all worlds that averaging over worlds does not "
            "remove: the interval and the verdict below carry its margin."
        )
    k = len(man.get("uncertain_parameters") or [])
    design = design_text(how, int(man.get("samples") or 0), k)
    head = (
        f"{points} plausible worlds ({e(design)}, over {k} uncertain parameters), each run for {reps} replication(s) "
        f"of every scenario with common random numbers; {why}"
    )
    items = [head]
    window = res.window_days(res.base)
    # statements() escapes nothing: every part is a name from the spec or a formatted number
    said = statements(
        res.robustness,
        res.sensitivity,
        how,
        res.base,
        res.options,
        kpis,
        res.kpis,
        window,
        _num(),
        replications=res.replications,
        samples=int(man.get("samples") or 0),
    )
    items += said
    if res.options:
        items.append(INTERVAL_MEANS)  # plain text, no markup
    if how == "morris" and res.options:
        items.append(
            '<span class="warn">A Morris design is a screening grid (4 levels per parameter), not a random sample: '
            "read the shares above as rough, and rerun with <code>--method lhs</code> or <code>sobol</code> for "
            "probabilities to present.</span>"
        )
    return items


def _dist_text(dist: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k} {v}" for k, v in dist.items() if k != "dist")
    return f"{dist.get('dist', '?')} ({args})"


def uncertain_parameters(res: Results) -> str:
    """The uncertain parameters: keys, how they are applied, distribution and source."""
    rows = []
    for p in res.manifest.get("uncertain_parameters") or []:
        source = str(p.get("source", ""))
        tag = (
            '<span class="tag a">assumption</span> '
            if source.upper().startswith("ASSUMPTION")
            else '<span class="tag s">source</span> '
        )
        rows.append(
            [
                f"<code>{e(str(p.get('name')))}</code>",
                "<br>".join(f"<code>{e(str(k))}</code>" for k in p.get("keys") or []),
                "scaled (x factor)" if p.get("scale") else "set to the value",
                e(_dist_text(p.get("distribution") or {})),
                tag + e(source),
            ]
        )
    return _table(
        ["Parameter", "Scenario keys", "Applied", "Distribution", "Source or assumption"],
        rows,
        "What is uncertain: every sample draws each parameter from its distribution",
    )


def uncertainty_tables(res: Results) -> str:
    """The robustness table and the main sensitivity index of every outcome."""
    out = []
    window = res.window_days(res.base)
    rob = res.robustness
    num = _num()
    if rob is not None and not rob.empty:
        rows = []
        for raw in rob.to_dict(orient="records"):
            r = {str(k): v for k, v in raw.items()}
            kpi = res.kpis.get(str(r["kpi"]))
            if kpi is None:
                continue
            p = float(r["p_better"])
            text = change_texts(r, kpi, window)  # one precision for the mean and its interval
            judged = verdict(r)
            if unchanged(r):
                interval = "none: the same in every replication of every plausible world"
            elif settled(r) in (ONE_REPLICATION, PREDATES_NOISE):
                interval = f"none: {e(settled(r))}"
            elif judged == TOO_FEW_WORLDS:
                interval = f"none: {e(few_worlds(r))}"
            else:
                interval = f"{num(text['diff_low'], r, 'diff_low')} to {num(text['diff_high'], r, 'diff_high')}"
            rows.append(
                [
                    e(str(r["option"])),
                    f"{e(cap(kpi.label))} <small>({e(change_unit(kpi))})</small>",
                    num(text["diff_mean"], r, "diff_mean"),
                    interval,
                    f"{e(str(r['better_means']))}: " + num(f"{p:.0%}" if math.isfinite(p) else "n/a", r, "p_better"),
                    e(judged),
                ]
            )
        out.append(
            _table(
                [
                    "Option",
                    "KPI",
                    "Mean change",
                    "95% uncertainty interval (with the shared simulation noise)",
                    "Better in",
                    "Verdict",
                ],
                rows,
                "Robustness: each option's change from the baseline across plausible worlds (robustness.csv)",
            )
        )
    sens = computed(res.sensitivity)
    how = method(res)
    if not sens.empty:
        rows = []
        scenarios = [*res.options] or [res.base]
        snum = _num()
        for scenario in scenarios:
            for kpi in analysed(res):
                top = drivers(sens, how, kpi.name, scenario, n=100)
                for raw in top.to_dict(orient="records"):
                    r = {str(k): v for k, v in raw.items()}
                    idx = MAIN_INDEX[how]
                    fmt = (
                        (lambda v, k=kpi: fmt_kpi(v, k, window)) if idx == "mu_star" else (lambda v, k=kpi: f"{v:.2f}")
                    )
                    ci = (
                        f"{snum(fmt(r['ci_low']), r, 'ci_low')} to {snum(fmt(r['ci_high']), r, 'ci_high')}"
                        if math.isfinite(float(r["ci_low"]))
                        else "n/a"
                    )
                    unit = f" ({change_unit(kpi)})" if idx == "mu_star" else ""  # mu* is in the KPI's unit
                    rows.append(
                        [
                            e(scenario),
                            e(cap(kpi.label) + unit),
                            f"<code>{e(str(r['parameter']))}</code>",
                            snum(fmt(r["value"]), r, "value"),
                            ci,
                        ]
                    )
        out.append(
            _table(
                [
                    "Outcome (option's change, or baseline level)",
                    "KPI",
                    "Parameter",
                    INDEX_TEXT[MAIN_INDEX[how]],
                    f"95% CI ({TRUNCATED[MAIN_INDEX[how]]})",
                ],
                rows,
                f"Sensitivity ({how}): parameters ranked by {INDEX_TEXT[MAIN_INDEX[how]]} "
                "(every index is in sensitivity.csv)",
            )
        )
        few = _few(res)
        if few and how in ("morris", "sobol"):
            out.append(f"<p><span class='warn'>{e(cap(few))}.</span></p>")
    return "\n".join(out)


def _few(res: Results) -> str | None:
    """The design's warning: too few points for indices
    (:func:`sim.uncertainty.analyse.few_points_warning`), or too few Morris trajectories or Sobol
    base samples for their intervals (:func:`~sim.uncertainty.analyse.few_samples_warning`)."""
    man = res.manifest
    if not man.get("samples"):
        return None
    k, samples = len(man.get("uncertain_parameters") or []), int(man["samples"])
    return few_points_warning(method(res), samples, k) or few_samples_warning(method(res), samples)


def _replications_per_world(res: Results) -> int:
    """The fewest replications of any world and scenario (0 with no runs)."""
    per_world = res.replications.groupby(["sample", "scenario"]).size()
    return int(per_world.min()) if len(per_world) else 0


NOISE_SMALL = 1 / 3
"""The simulation noise is small beside the parameter uncertainty when the noise margin's
widening of the uncertainty interval (``2 x noise_margin``, :func:`sim.uncertainty.analyse.noise_margin`)
is under this share of the interval's width."""


def _noise(res: Results) -> tuple[Kpi, Mapping[str, Any], float] | None:
    """For the first analysed KPI, the row of ``robustness.csv`` (an option's change) in which
    the noise margin takes the largest share of the uncertainty interval, and that share;
    ``None`` when no option's margin and interval can be measured (no robustness table, one
    written before the noise margin, one replication, no KPI) or no interval is shown (too few
    worlds, :func:`sim.uncertainty.analyse.too_few_worlds`)."""
    kpis, rob = analysed(res), res.robustness
    if not kpis or rob is None or "noise_margin" not in rob.columns:
        return None
    kpi, worst = kpis[0], None
    for record in rob[rob["kpi"] == kpi.name].to_dict("records"):
        row = {str(k): v for k, v in record.items()}
        if too_few_worlds(row):  # no uncertainty interval is shown for it
            continue
        margin = float(row.get("noise_margin", math.nan))
        width = float(row.get("diff_high", math.nan)) - float(row.get("diff_low", math.nan))
        if not (math.isfinite(margin) and math.isfinite(width)):
            continue
        share = 2 * margin / width if width > 0 else 0.0  # no width: every replication and world agree
        if worst is None or share > worst[1]:
            worst = (row, share)
    return (kpi, *worst) if worst is not None else None


def uncertainty_diagnostics(res: Results) -> str:
    """What the design was, and what to do for more precise indices."""
    man = res.manifest
    reps = _replications_per_world(res)
    noise = _noise(res)
    spread = ""
    if reps < 2:
        spread = (
            " <span class='warn'>With one replication per world the simulation noise within a world cannot be "
            "measured, and each world's result carries it whole; use more replications.</span>"
        )
    elif noise is not None:
        kpi, row, share = noise
        texts, unit = change_texts(row, kpi, res.window_days(res.base)), e(change_unit(kpi))
        spread = (
            f" For {e(kpi.label)}, the simulation noise's margin in {e(str(row['option']))}'s change "
            f"(+/-{e(texts['noise_margin'])} {unit} at each end) takes {share:.0%} of its uncertainty interval "
            f"({e(texts['diff_low'])} to {e(texts['diff_high'])} {unit}): "
            + (
                "simulation noise is small beside the parameter uncertainty."
                if share < NOISE_SMALL
                else "<span class='warn'>simulation noise is not small beside the parameter uncertainty; "
                "use more replications.</span>"
            )
        )
    design = json.dumps({k: man.get(k) for k in ("method", "samples", "points", "replications", "seed")})
    few = _few(res)
    if few:
        spread += f" <span class='warn'>{e(cap(few))}.</span>"
    return (
        f"<p>Design: <code>{e(design)}</code>; {reps} replication(s) per "
        f"world and scenario.{spread} Indices come with 95% bootstrap intervals (SALib, 1,000 resamples), "
        f"truncated to the values an index can take (Morris mu*: {TRUNCATED['mu_star']}; first-order and total "
        f"indices, shares of variance: {TRUNCATED['S1']}); more samples narrow them. A share of variance estimated "
        "below zero is the estimator's noise: sensitivity.csv keeps the estimate, the figure draws it at zero "
        "with a cross.</p>"
    )

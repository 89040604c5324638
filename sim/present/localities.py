"""The report's "By locality" section: the ``--by-locality`` KPIs of each place.

A place is a locality, or a group of localities by deprivation (:data:`sim.vocab.DEPRIVATION_GROUPS`),
in column order (:func:`sim.present.data.places`). Each place's KPIs are those of
:data:`sim.kpis.BY_LOCALITY`, found by :func:`sim.kpis.in_locality` (never by parsing a column
name) and named by the KPI they break down and :func:`sim.kpis.place_label`. Values are
scaled (counts a year) and formatted by :func:`sim.present.format.fmt_row`, and each number is
tagged with its CSV cell as the summary's are (:func:`sim.present.narrative.num`). A
comparison's change is called clear only where its paired 95% CI excludes zero
(:func:`sim.present.data.verdict`).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sim import kpis as K
from sim.kpis import Kpi
from sim.present.data import INTERVAL_TEXT, VERDICT_WORDS, axis_label, cap, places, rows_of, sweep_label, verdict
from sim.present.format import DIFF_ROW, MEAN_CI, fmt_row
from sim.results import Kind, Results
from sim.vocab import Stage

__all__ = ["ANCHOR", "KEY_WAIT", "TITLE", "has_localities", "locality_section"]

e = html.escape
ANCHOR = "localities"
TITLE = "By locality"
KEY_WAIT = K.wait(Stage.LEVEL3, "mean")
"""The KPI whose largest clear change the section names (the mean wait for a key worker)."""


def has_localities(res: Results) -> bool:
    """Whether the results hold by-locality KPIs the section shows (not an uncertainty job's)."""
    return res.kind != Kind.UNCERTAINTY and bool(places(res))


def _by_place(res: Results) -> Iterator[tuple[str, Kpi, Kpi]]:
    """Each place, each :data:`sim.kpis.BY_LOCALITY` KPI it breaks down and its KPI in that place
    (as the results describe it), for those the results hold."""
    for place in places(res):
        for base in K.BY_LOCALITY:
            name = K.in_locality(base, place).name
            if name in res.kpis:
                yield place, base, res.kpis[name]


def _tag(text: str, attrs: Mapping[str, str]) -> str:
    """A formatted number tagged with the CSV cell it came from (``n/a`` is left bare)."""
    if text == "n/a":
        return text
    data = " ".join(f'data-{k}="{e(v)}"' for k, v in attrs.items())
    return f'<span class="num" {data}>{e(text)}</span>'


def _cells(
    rec: Mapping[str, Any], kpi: Kpi, window: float, fields: Sequence[str], where: Mapping[str, str]
) -> list[str]:
    """``fields`` of one row of ``summary.csv`` (``where`` names no option) or ``differences.csv``,
    formatted to the row's one precision and tagged with their cells."""
    attrs = {
        "source": "differences" if "option" in where else "summary",
        "kpi": kpi.name,
        "scale": repr(float(kpi.scale(window))),
        "abs": "0",
        **where,
    }
    return [_tag(t, {**attrs, "field": f}) for f, t in zip(fields, fmt_row(rec, kpi, window, fields))]


def _place(place: str) -> str:
    return e(cap(K.place_label(place)))


def _record(rows: Any) -> dict[str, Any] | None:
    return {str(k): v for k, v in rows.iloc[0].items()} if len(rows) else None


def _mean_ci(rec: Mapping[str, Any], kpi: Kpi, window: float, where: Mapping[str, str]) -> tuple[str, str]:
    mean, low, high = _cells(rec, kpi, window, MEAN_CI, where)
    return mean, (f"{low} to {high}" if low != "n/a" and high != "n/a" else "n/a")


def _differences(res: Results, option: str) -> list[dict[str, Any]]:
    """Per place and KPI, ``option``'s row of ``differences.csv`` with its place and KPIs."""
    d = res.differences
    if d is None:
        return []
    d = d[d["option"].astype(str) == option]
    out = []
    for place, base, kpi in _by_place(res):
        rec = _record(d[d["kpi"] == kpi.name])
        if rec is not None and verdict(rec) != "missing":  # measured in neither scenario: no row
            out.append({"place": place, "base": base, "kpi": kpi, "rec": rec})
    return out


def _compare_table(res: Results, option: str) -> str:
    from sim.present.page import table  # the page's one table helper (it imports this module)

    window = res.window_days(option)
    rows = []
    for row in _differences(res, option):
        kpi, rec = row["kpi"], row["rec"]
        base, opt, diff, low, high = _cells(rec, kpi, window, DIFF_ROW, {"option": option})
        points = " points" if kpi.kind == "share" else ""  # a change in a share is in percentage points
        ci = f"{low} to {high}{points}" if math.isfinite(float(rec["ci_low"])) else "n/a"
        verdict_text = VERDICT_WORDS[verdict(rec)]
        rows.append([_place(row["place"]), e(axis_label(row["base"])), base, opt, diff + points, ci, verdict_text])
    return table(
        ["Place", "KPI", "Baseline", "Option", "Change", "95% CI of change", "Verdict"],
        rows,
        f"{option}: paired differences from the baseline per place (counts a year; common random numbers; a change "
        "is clear only where its paired 95% CI excludes zero)",
        (2, 3, 4, 5),
    )


def _largest_wait_change(res: Results, option: str) -> str:
    """One sentence: the place with the largest clear change in the mean wait for a key worker;
    no claim where no paired CI excludes zero."""
    rows = [r for r in _differences(res, option) if r["base"].name == KEY_WAIT.name]
    if not rows:
        return ""
    what = KEY_WAIT.label
    verdicts = [verdict(r["rec"]) for r in rows]
    clear = [r for r, v in zip(rows, verdicts) if v == "clear"]
    if not clear:
        if all(v == "unknown" for v in verdicts):
            return (
                f"<p>With {e(option)}, one replication gives no confidence intervals, so no change in the {e(what)} "
                "is called clear.</p>"
            )
        return (
            f"<p>With {e(option)}, no place shows a clear change in the {e(what)}: every paired 95% CI of the change "
            "includes zero.</p>"
        )
    top = max(clear, key=lambda r: abs(float(r["rec"]["diff_mean"])))
    kpi, rec = top["kpi"], top["rec"]
    base, opt, diff, low, high = _cells(rec, kpi, res.window_days(option), DIFF_ROW, {"option": option})
    word = "rises" if float(rec["diff_mean"]) > 0 else "falls"
    return (
        f"<p>With {e(option)}, the largest clear change in the {e(what)} is in {e(K.place_label(top['place']))}: it "
        f"{word} from {base} to {opt} {e(kpi.display_unit)}, a change of {diff} {e(kpi.display_unit)} (95% CI {low} to "
        f"{high}).</p>"
    )


def _run_table(res: Results) -> str:
    from sim.present.page import table  # the page's one table helper (it imports this module)

    window = res.window_days(res.base)
    summ = rows_of(res, res.base)
    where = {"scenario": res.base} if "scenario" in summ.columns else {}
    rows = []
    for place, base, kpi in _by_place(res):
        rec = _record(summ[summ["kpi"] == kpi.name])
        if rec is not None:
            rows.append([_place(place), e(axis_label(base)), *_mean_ci(rec, kpi, window, where)])
    return table(
        ["Place", "KPI", "Mean", "95% CI"], rows, f"{res.base}: mean per place (counts a year); {INTERVAL_TEXT}", (2, 3)
    )


def _sweep_table(res: Results) -> str:
    from sim.present.page import table  # the page's one table helper (it imports this module)

    keys, summ = res.sweep_keys, res.summary
    combos = [
        c if isinstance(c, tuple) else (c,) for c in summ[keys].drop_duplicates().itertuples(index=False, name=None)
    ]
    rows = []
    for place, base, kpi in _by_place(res):
        cells = [_place(place), e(axis_label(base))]
        for values in combos:
            mask = (summ[keys] == list(values)).all(axis=1)
            part = summ[mask]
            rec = _record(part[part["kpi"] == kpi.name])
            window_rec = _record(part[part["kpi"] == K.WINDOW_DAYS.name])
            window = float(window_rec["mean"]) if window_rec else math.nan
            where = {"where": json.dumps(dict(zip(keys, (_plain(v) for v in values))))}
            if rec is None:
                cells.append("n/a")
                continue
            mean, ci = _mean_ci(rec, kpi, window, where)
            cells.append(mean + (f"<br><small>{ci}</small>" if ci != "n/a" else ""))
        rows.append(cells)
    headers = ["Place", "KPI", *(", ".join(sweep_label(k, v) for k, v in zip(keys, c)) for c in combos)]
    return table(
        headers,
        rows,
        f"Mean per place and combination (counts a year), with its {INTERVAL_TEXT}",
        range(2, len(headers)),
    )


def _plain(value: Any) -> Any:
    """A numpy scalar as the plain Python value ``json`` writes."""
    return value.item() if hasattr(value, "item") else value


def locality_section(res: Results) -> str:
    """The "By locality" section (heading included), or "" when the results hold no by-locality KPIs."""
    if not has_localities(res):
        return ""
    intro = (
        "<p>Run with <code>--by-locality</code>: the KPIs of each locality, then of the most deprived 40% of "
        "localities and of the others (when the scenario flags deprived localities), over the same results window; "
        "counts are per year.</p>"
    )
    if res.kind == Kind.COMPARE:
        parts = [_largest_wait_change(res, o) + _compare_table(res, o) for o in res.options]
    elif res.kind == Kind.SWEEP:
        parts = [_sweep_table(res)]
    else:
        parts = [_run_table(res)]
    return "\n".join([f'<h2 id="{ANCHOR}">{e(TITLE)}</h2>', intro, *parts])

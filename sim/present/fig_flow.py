"""The flow diagram: how families move between the early help stages and social care over the
results window, from the flow table of :mod:`sim.kpis` (means across replications).

Every node balances: families there at the start plus those arriving equal those leaving
plus those still there at the end (:func:`flow_table` returns each of these as a flow;
:func:`balance` adds them up). The diagram draws whole families that balance exactly too
(:func:`shown_flows`: each number its mean rounded down or up by :func:`whole_families`).
Moves between nodes are arrows; flows from or to outside (referrals, closures, withdrawals)
are short stubs with their labels, so no arrow crosses another; the start and end are
written in each box. Services that run alongside a plan or at the edge of care (FGC, family
mental health, parenting groups, MST) hang off the node they serve with a dotted line when
the scenario has them; they are not moves.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sim import kpis as K
from sim.present import findings
from sim.present.data import stat, window_text
from sim.present.format import fmt_number
from sim.present.theme import footnote, make_text_safe, note, palette, style, title
from sim.results import Results
from sim.vocab import Exit, Stage, stage_info

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

__all__ = [
    "EDGES",
    "NODES",
    "Flow",
    "balance",
    "flow_table",
    "flows",
    "merged",
    "shown_flows",
    "shown_nodes",
    "whole_families",
]

SC = K.SOCIAL_CARE
FD, PANEL, L2, L3, MST = Stage.FRONT_DOOR, Stage.PANEL, Stage.LEVEL2, Stage.LEVEL3, Stage.MST

# --------------------------------------------------------------------------- layout (data)
NODES: tuple[tuple[str, float, float, tuple[float, float], tuple[float, float], int | None], ...] = (
    # node, x, y (axes fraction), stub in from outside and stub out to outside (direction and
    # length from the box's edge), colour (index into the palette; None: grey)
    (FD, 0.13, 0.62, (0.0, -0.07), (0.0, 0.07), None),
    (PANEL, 0.40, 0.67, (-0.04, 0.06), (0.04, 0.0), None),
    (L2, 0.74, 0.90, (0.0, 0.04), (0.04, 0.0), 0),
    (L3, 0.74, 0.38, (0.02, -0.07), (0.04, 0.0), 0),
    (SC, 0.42, 0.15, (-0.03, -0.05), (0.02, -0.04), 3),
    (MST, 0.12, 0.20, (0.0, 0.05), (0.0, -0.05), 4),
)
"""Where each node is drawn and which way its stubs point."""
EDGES: tuple[tuple[str, str, float, float, float, str], ...] = (
    # from, to, sideways offset, arc curvature, where along the arrow its label sits, what it is
    (FD, PANEL, 0.0, 0.0, 0.5, ""),
    (FD, L2, 0.0, 0.0, 0.4, ""),
    (FD, L3, 0.0, 0.0, 0.4, ""),
    (FD, SC, 0.0, 0.0, 0.45, "to social care"),
    (PANEL, L2, 0.0, 0.0, 0.5, ""),
    (PANEL, L3, 0.0, 0.0, 0.5, ""),
    (L2, L3, -0.035, 0.0, 0.35, "stepped up\nto Level 3"),
    (L3, L2, 0.035, 0.0, 0.35, "stepped down\nto Level 2"),
    (L3, SC, 0.0, 0.25, 0.5, "stepped up to\nsocial care"),
    (SC, L3, 0.0, 0.25, 0.5, "stepped down\nfrom social care"),
    (MST, SC, 0.0, 0.0, 0.5, "to social care"),
)
"""The arrows between nodes: every move of :data:`sim.kpis.FLOW_MOVES` and the exits into
social care of the nodes drawn with an arrow to it."""
SIDES: tuple[tuple[str, str, str, float, float], ...] = (
    # service, its scenario setting, the node it serves, x, y
    (Stage.FMH, "family_mental_health", L3, 0.93, 0.27),
    (Stage.FGC, "fgc", L3, 0.93, 0.27),
    (Stage.PARENTING, "parenting_groups", L3, 0.93, 0.27),
    (Stage.FGC, "fgc", SC, 0.66, 0.04),
    (Stage.MST, "mst", SC, 0.66, 0.04),
)
"""Services alongside a plan (FMH, FGC at first contact, parenting groups) or at the edge of
care (FGC at pre-proceedings, MST), drawn beside the node they serve."""
EXIT_WORDS: dict[str, str] = {
    Exit.ADVICE: "closed with advice",
    Exit.NO_PLAN: "closed with no plan",
    Exit.OUTCOMES_MET: "outcomes met",
    Exit.DISENGAGED: "disengaged",
    Exit.STEPPED_DOWN: "stepped down to universal services",
    Exit.MST_COMPLETED: "completed",
    Exit.WITHDRAWN: "withdrew while waiting",
    Exit.TO_SOCIAL_CARE_FRONT_DOOR: "referred on to social care",
    Exit.TO_SOCIAL_CARE_PANEL: "referred on to social care",
    Exit.STEP_UP_WHILE_WAITING: "stepped up while waiting",
    Exit.STEP_UP_DURING_PLAN: "stepped up during a plan",
}
"""How each way out of early help is worded on the diagram."""
_WIDTH, _HEIGHT, _AXES = 12.0, 8.0, (0.01, 0.08, 0.98, 0.83)


# --------------------------------------------------------------------------- the flow table
@dataclass(frozen=True)
class Flow:
    """Families (mean over the replications, in the whole results window) going from
    ``source`` to ``target``; "" is outside (referrals in, closures out, and the families
    already there at the start or still there at the end). ``kpi`` names the KPI, or the KPIs
    joined by " + " for a flow :func:`merged` from several."""

    source: str
    target: str
    value: float
    what: str
    kpi: str


def _flow(res: Results, scenario: str, kpi: K.Kpi, source: str, target: str, what: str) -> Flow | None:
    if kpi.name not in res.kpis:
        return None
    value = stat(res, kpi.name, "mean", scenario)
    return Flow(source, target, value if math.isfinite(value) else 0.0, what, kpi.name)


def flow_table(res: Results, scenario: str | None = None) -> list[Flow]:
    """Every flow of one scenario (the baseline by default); empty when the results have no
    flow table (made by an older version)."""
    s = scenario or res.base
    rows: list[Flow | None] = []
    for node in K.FLOW_NODES:
        rows.append(_flow(res, s, K.flow_at_start(node), "", node, "at the start"))
        rows.append(_flow(res, s, K.flow_at_end(node), node, "", "still there at the end"))
    for node in K.FLOW_ENTRIES:
        rows.append(_flow(res, s, K.flow_referred(node), "", node, "referrals"))
    for source, target in K.FLOW_MOVES:
        rows.append(_flow(res, s, K.flow_moved(source, target), source, target, "move"))
    for node, reasons in K.FLOW_EXITS.items():
        for reason in reasons:
            into = SC if reason in K.SOCIAL_CARE_ROUTES else ""
            rows.append(_flow(res, s, K.flow_exit(node, reason), node, into, EXIT_WORDS[reason]))
    rows.append(_flow(res, s, K.FLOW_SC_CLOSED, SC, "", "closed by social care"))
    return [r for r in rows if r is not None]


def balance(table: Iterable[Flow]) -> dict[str, tuple[float, float]]:
    """Node -> (families in: at the start plus arriving, families out: leaving plus at the end)."""
    inflow: dict[str, float] = defaultdict(float)
    outflow: dict[str, float] = defaultdict(float)
    for f in table:
        if f.target:
            inflow[f.target] += f.value
        if f.source:
            outflow[f.source] += f.value
    return {n: (inflow[n], outflow[n]) for n in dict.fromkeys([*inflow, *outflow])}


def merged(table: Iterable[Flow]) -> list[Flow]:
    """The flows as the diagram shows them: all flows between the same two nodes as one (the
    exits of a stage into social care, whatever their reason: one arrow or one stub); flows
    from or to outside one by one (each is a line of its own). In the order first met."""
    groups: dict[tuple[str, ...], list[Flow]] = defaultdict(list)
    for f in table:
        groups[(f.source, f.target) if f.source and f.target else (f.source, f.target, f.what)].append(f)
    out = []
    for group in groups.values():
        first = group[0]
        if len(group) == 1:
            out.append(first)
            continue
        # flows between two nodes are moves or exits into social care, never both
        what = "move" if first.what == "move" else "to social care"
        kpi = " + ".join(f.kpi for f in group)
        out.append(Flow(first.source, first.target, math.fsum(f.value for f in group), what, kpi))
    return out


_WHOLE = 1e-6
"""A value this close to a whole number is that number (means are sums over replications
divided by their number, so only floating-point noise is smaller)."""


def whole_families(table: Sequence[Flow]) -> list[Flow]:
    """The flows in whole families: each value its mean rounded down or up, chosen so that
    every node that balances before (:func:`balance`) balances exactly after.

    Controlled rounding of a circulation. With outside ("") as a node, a balanced table is a
    circulation: families at the start and referrals flow from outside, exits and those still
    there at the end flow to it, and outside balances because every other node does. A node
    with a flow that is not whole has at least two (its flows add up to a whole number on
    each side). So from any such flow a walk along flows that are not whole, never back along
    the flow it came by, comes back to a node it has passed: a cycle. Pushing the same amount
    forward along the cycle (more on flows walked in their direction, less on those walked
    against it) keeps every node's balance; push the least amount that makes one of its flows
    whole (forward or back, whichever is less; forward on a tie). Each push makes one more
    flow whole and none stops being whole, so at most one push per flow. A walk that ends at a
    node with a single flow that is not whole (a table that does not balance) starts again from
    there and its path is pushed instead: every node on it but its two ends still keeps its
    balance. The same table always gives the same rounding.

    Parameters
    ----------
    table
        Flows with non-negative values (means across replications).

    Returns
    -------
    list of Flow
        The same flows in the same order, each value a whole number: the floor or the ceiling
        of the mean (the mean itself when whole).
    """
    x = [f.value for f in table]
    ends = [(f.source, f.target) for f in table]
    at: dict[str, list[int]] = defaultdict(list)
    for i, (source, target) in enumerate(ends):
        at[source].append(i)
        at[target].append(i)

    def whole(i: int) -> bool:
        return abs(x[i] - round(x[i])) <= _WHOLE

    open_ = {i for i in range(len(x)) if not whole(i)}

    def walk(node: str, edge: int) -> tuple[list[tuple[int, int]], str | None]:
        """Steps (flow, +1 walked in its direction or -1 against it) from ``node`` along
        ``edge`` and on: a cycle (and None) or a path to a dead end (and that node)."""
        steps: list[tuple[int, int]] = []
        seen = {node: 0}
        while True:
            source, target = ends[edge]
            forward = node == source
            steps.append((edge, 1 if forward else -1))
            node = target if forward else source
            if node in seen:
                return steps[seen[node] :], None
            seen[node] = len(steps)
            nxt = min((j for j in at[node] if j in open_ and j != edge), default=None)
            if nxt is None:
                return steps, node
            edge = nxt

    while open_:
        first = min(open_)
        steps, dead_end = walk(ends[first][0], first)
        if dead_end is not None:
            steps, _ = walk(dead_end, min(j for j in at[dead_end] if j in open_))
        up = min(math.ceil(x[i]) - x[i] if s > 0 else x[i] - math.floor(x[i]) for i, s in steps)
        down = min(x[i] - math.floor(x[i]) if s > 0 else math.ceil(x[i]) - x[i] for i, s in steps)
        push = up if up <= down else -down
        for i, s in steps:
            x[i] += s * push
            if whole(i):
                open_.discard(i)
    return [replace(f, value=float(round(v))) for f, v in zip(table, x, strict=True)]


def shown_flows(res: Results, scenario: str | None = None) -> list[Flow]:
    """Every number the flow diagram of one scenario draws: its flow table :func:`merged` as
    drawn, in :func:`whole_families`."""
    return whole_families(merged(flow_table(res, scenario)))


# --------------------------------------------------------------------------- drawing
def _count(x: float) -> str:
    return fmt_number(x, "count")


def _name(node: str) -> str:
    return "Social care" if node == SC else stage_info(Stage(node)).label


def shown_nodes(table: Sequence[Flow]) -> set[str]:
    """Nodes some family moves through (so no box floats: MST only when it takes direct
    referrals, no front door or panel in a scenario without them); of :func:`shown_flows`,
    those with a flow of at least one family other than the start and end."""
    moving = [f for f in table if f.what not in ("at the start", "still there at the end") and f.value >= 0.5]
    return {n for n, *_ in NODES if any(n in (f.source, f.target) for f in moving)}


def _boxes(ax: Axes, table: Sequence[Flow], shown: set[str]) -> dict[str, Text]:
    start = {f.target: f.value for f in table if f.what == "at the start"}
    end = {f.source: f.value for f in table if f.what == "still there at the end"}
    boxes = {}
    for node, x, y, _, _, colour in NODES:
        if node not in shown:
            continue
        counts = f"at the start {_count(start.get(node, 0))}\nstill there at the end {_count(end.get(node, 0))}"
        text = f"{_name(node)}\n{counts}"
        boxes[node] = ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=8.5,
            zorder=3,
            bbox={
                "boxstyle": "round,pad=0.5",
                "facecolor": _tint("#dddddd" if colour is None else palette()[colour]),
                "edgecolor": "0.3",
            },
        )
    return boxes


def _tint(colour: str, amount: float = 0.35) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return (1 - amount + amount * r, 1 - amount + amount * g, 1 - amount + amount * b)


def _arrow(
    ax: Axes, a: Text, b: Text, xy: tuple[tuple[float, float], tuple[float, float]], width: float, rad: float
) -> None:
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(
        FancyArrowPatch(
            posA=xy[0],
            posB=xy[1],
            patchA=a.get_bbox_patch(),
            patchB=b.get_bbox_patch(),
            arrowstyle="-|>,head_length=0.7,head_width=0.4",
            connectionstyle=f"arc3,rad={rad}",
            linewidth=width,
            color="0.45",
            mutation_scale=10 + 1.5 * width,
            zorder=3.5,
            shrinkA=2,
            shrinkB=2,
        )
    )


def _label_at(xy: tuple[tuple[float, float], tuple[float, float]], rad: float, at: float) -> tuple[float, float]:
    """A point ``at`` of the way along an arc3 arrow (its quadratic Bezier, in axes units)."""
    (x0, y0), (x1, y1) = xy
    aspect = (_WIDTH * _AXES[2]) / (_HEIGHT * _AXES[3])
    dx, dy = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2 + rad * dy / aspect, (y0 + y1) / 2 - rad * dx * aspect
    return (
        (1 - at) ** 2 * x0 + 2 * (1 - at) * at * cx + at**2 * x1,
        (1 - at) ** 2 * y0 + 2 * (1 - at) * at * cy + at**2 * y1,
    )


def _edges(ax: Axes, table: Sequence[Flow], boxes: dict[str, Text]) -> set[tuple[str, str]]:
    """Draw the arrows (``table``: :func:`shown_flows`, one flow per pair of nodes); returns
    the (from, to) pairs drawn."""
    values = {(f.source, f.target): f.value for f in table if f.source and f.target}
    biggest = max(values.values(), default=1.0) or 1.0
    at = {n: (x, y) for n, x, y, *_ in NODES}
    drawn = set()
    for source, target, dx, rad, where, words in EDGES:
        value = values.get((source, target), 0.0)
        if not value or source not in boxes or target not in boxes:
            continue
        xy = ((at[source][0] + dx, at[source][1]), (at[target][0] + dx, at[target][1]))
        _arrow(ax, boxes[source], boxes[target], xy, 0.8 + 7.0 * value / biggest, rad)
        lx, ly = _label_at(xy, rad, where)
        text = _count(value) + (f"\n{words}" if words else "")
        ha = "center" if not dx else ("right" if dx < 0 else "left")
        lx += math.copysign(0.01, dx) if dx else 0.0
        ax.text(lx, ly, text, ha=ha, va="center", fontsize=8, zorder=4, bbox=_LABEL_BOX)
        drawn.add((source, target))
    return drawn


_LABEL_BOX = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.9}


def _extent(ax: Axes, box: Text) -> tuple[float, float, float, float]:
    """A box's x0, y0, x1, y1 in axes fraction (the figure must have been drawn)."""
    patch = box.get_bbox_patch()
    assert patch is not None
    (x0, y0), (x1, y1) = ax.transAxes.inverted().transform(patch.get_window_extent())
    return x0, y0, x1, y1


def _edge(extent: tuple[float, float, float, float], d: tuple[float, float]) -> tuple[float, float]:
    """Where a ray from the box's centre in direction ``d`` leaves the box."""
    x0, y0, x1, y1 = extent
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    t = min(hw / abs(d[0]) if d[0] else math.inf, hh / abs(d[1]) if d[1] else math.inf)
    return cx + t * d[0], cy + t * d[1]


def _stub(
    ax: Axes, extent: tuple[float, float, float, float], d: tuple[float, float], lines: list[str], inward: bool
) -> None:
    from matplotlib.patches import FancyArrowPatch

    near = _edge(extent, d)
    far = (near[0] + d[0], near[1] + d[1])
    ax.add_patch(
        FancyArrowPatch(
            posA=far if inward else near,
            posB=near if inward else far,
            arrowstyle="-|>,head_length=0.6,head_width=0.35",
            linewidth=1.2,
            color="0.55",
            mutation_scale=12,
            zorder=3.5,
            shrinkA=1,
            shrinkB=1,
        )
    )
    ha = "center" if not d[0] else ("right" if d[0] < 0 else "left")
    va = "center" if not d[1] else ("top" if d[1] < 0 else "bottom")
    ax.text(far[0], far[1], "\n".join(lines), ha=ha, va=va, fontsize=7.5, color="0.2", zorder=4)


def _stub_lines(
    table: Sequence[Flow], drawn: set[tuple[str, str]]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per node, the lines of its stub in and its stub out: flows from and to outside, and
    flows into social care from nodes without an arrow to it (``table``:
    :func:`shown_flows`)."""
    ins: dict[str, list[str]] = defaultdict(list)
    outs: dict[str, list[str]] = defaultdict(list)
    to_sc: dict[str, float] = defaultdict(float)
    for f in table:
        if not f.value or f.what in ("at the start", "still there at the end", "move"):
            continue
        if not f.source:
            ins[f.target].append(f"{f.what} {_count(f.value)}")
        elif not f.target:
            outs[f.source].append(f"{f.what} {_count(f.value)}")
        elif (f.source, f.target) not in drawn:
            to_sc[f.source] += f.value
    for source, value in to_sc.items():
        outs[source].append(f"to social care {_count(value)}")
        # "and": beside the referrals straight in, not a part of them
        ins[SC].append(f"{'and ' if ins[SC] else ''}{_count(value)} from {_name(source).lower()}")
    return ins, outs


def _stubs(ax: Axes, table: Sequence[Flow], boxes: dict[str, Text], drawn: set[tuple[str, str]]) -> None:
    ins, outs = _stub_lines(table, drawn)
    for node, _, _, d_in, d_out, _ in NODES:
        if node not in boxes:
            continue
        extent = _extent(ax, boxes[node])
        if ins.get(node):
            _stub(ax, extent, d_in, ins[node], inward=True)
        if outs.get(node):
            _stub(ax, extent, d_out, outs[node], inward=False)


def _sides(ax: Axes, res: Results, scenario: str, boxes: dict[str, Text]) -> None:
    """Services beside the node they serve (dotted), with the families who started them."""
    found: dict[tuple[str, float, float], list[str]] = defaultdict(list)
    for service, setting, host, x, y in SIDES:
        cfg = res.setting(setting, scenario)
        if not isinstance(cfg, dict) or host not in boxes:
            continue
        if service == Stage.FGC and (host == SC) != (cfg.get("offer_at") == "pre_proceedings"):
            continue
        started = stat(res, K.starts(Stage(service)).name, "mean", scenario)
        routes = " (direct and edge of care)" if service == MST and MST in boxes else ""
        found[(host, x, y)].append(f"{stage_info(Stage(service)).label}: {_count(started)} started{routes}")
    for (host, x, y), lines in found.items():
        side = ax.text(
            x,
            y,
            "\n".join(lines),
            ha="center",
            va="center",
            fontsize=7.5,
            zorder=3,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "0.5", "linestyle": ":"},
        )
        from matplotlib.patches import ConnectionPatch

        hx, hy = next((nx, ny) for n, nx, ny, *_ in NODES if n == host)
        ax.add_patch(
            ConnectionPatch(
                (hx, hy),
                (x, y),
                "data",
                "data",
                linestyle=":",
                color="0.4",
                patchA=boxes[host].get_bbox_patch(),
                patchB=side.get_bbox_patch(),
                zorder=2,
            )
        )


def flows(res: Results, scenario: str | None = None) -> Figure:
    """The flow diagram of one scenario (the baseline by default)."""
    s = scenario or res.base
    table = shown_flows(res, s)
    where = f" ({s})" if len(res.scenarios) > 1 else ""
    with style():
        from matplotlib.figure import Figure

        fig = Figure(figsize=(_WIDTH, _HEIGHT))
        ax = fig.add_axes(_AXES)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
        if not table:
            note(ax, "These results have no flow table (made by an older version of ehsim): rerun to draw the flows.")
            title(fig, f"No flows to show{where}")
            return fig
        boxes = _boxes(ax, table, shown_nodes(table))
        make_text_safe(fig)
        fig.draw_without_rendering()  # place the boxes, so stubs can start at their edges
        drawn = _edges(ax, table, boxes)
        _stubs(ax, table, boxes, drawn)
        _sides(ax, res, s, boxes)
        footnote(
            fig,
            f"Families over {window_text(res, s)}: each number is its mean across replications rounded up or down to "
            "a whole family, so that every box balances exactly: those there at the start plus those arriving equal "
            "those leaving plus those still there at the end. Arrow width is proportional to the count; stubs are "
            "flows from or to outside; dotted boxes are services alongside a plan or at the edge of care. Referrals "
            "are new referrals and re-referrals over the whole window (a step-down from social care is a move, not a "
            "referral).",
        )
        to_eh = sum(f.value for f in table if f.what == "referrals" and f.target != SC)
        to_sc = sum(f.value for f in table if f.what == "referrals" and f.target == SC)
        into_sc = sum(f.value for f in table if f.target == SC and f.source)
        years = res.window_days(s) / K.DAYS_PER_YEAR
        care = stat(res, K.CARE_ENTRIES.name, "mean", s)
        started = stat(res, K.starts(L3).name, "mean", s)
        title(fig, findings.flows(to_eh, to_sc, started, into_sc, care, where, years))
        return fig

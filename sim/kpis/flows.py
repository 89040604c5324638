"""The flow table's KPIs: families at each place at the start and end of the results window,
and every referral, move and exit in it, so that each place balances (at start + arriving =
leaving + at end) and a flow diagram can be drawn from them."""

from __future__ import annotations

from collections.abc import Iterator

from sim.kpis.registry import Kpi, _k
from sim.vocab import SOCIAL_CARE, Exit, Stage, stage_info

__all__ = [
    "FLOW_ENTRIES",
    "FLOW_EXITS",
    "FLOW_MOVES",
    "FLOW_NODES",
    "FLOW_SC_CLOSED",
    "SOCIAL_CARE",
    "flow_at_end",
    "flow_at_start",
    "flow_exit",
    "flow_kpis",
    "flow_moved",
    "flow_referred",
]

FLOW_NODES: tuple[str, ...] = (Stage.FRONT_DOOR, Stage.PANEL, Stage.LEVEL2, Stage.LEVEL3, Stage.MST, SOCIAL_CARE)
"""Where a family can be in the flow table: an early help stage (its queue and its plan or
service together; MST here is a direct MST referral), social care, or nowhere (closed)."""
FLOW_ENTRIES: tuple[str, ...] = (Stage.FRONT_DOOR, Stage.PANEL, Stage.LEVEL2, Stage.LEVEL3, Stage.MST, SOCIAL_CARE)
"""Stages a referral can enter at (a source's ``entry``; re-referrals enter at the front door;
referrals straight to social care and social care re-referrals enter social care)."""
FLOW_MOVES: tuple[tuple[str, str], ...] = (
    (Stage.FRONT_DOOR, Stage.PANEL),
    (Stage.FRONT_DOOR, Stage.LEVEL2),
    (Stage.FRONT_DOOR, Stage.LEVEL3),
    (Stage.PANEL, Stage.LEVEL2),
    (Stage.PANEL, Stage.LEVEL3),
    (Stage.LEVEL2, Stage.LEVEL3),
    (Stage.LEVEL3, Stage.LEVEL2),
    (SOCIAL_CARE, Stage.LEVEL3),
)
"""Moves between flow nodes that the model makes, other than an episode's exit into social care."""
FLOW_EXITS: dict[str, tuple[Exit, ...]] = {
    Stage.FRONT_DOOR: (Exit.ADVICE, Exit.TO_SOCIAL_CARE_FRONT_DOOR, Exit.WITHDRAWN, Exit.STEP_UP_WHILE_WAITING),
    Stage.PANEL: (Exit.NO_PLAN, Exit.TO_SOCIAL_CARE_PANEL, Exit.WITHDRAWN, Exit.STEP_UP_WHILE_WAITING),
    Stage.LEVEL2: (Exit.OUTCOMES_MET, Exit.STEPPED_DOWN, Exit.DISENGAGED, Exit.WITHDRAWN, Exit.STEP_UP_WHILE_WAITING),
    Stage.LEVEL3: (
        Exit.OUTCOMES_MET,
        Exit.DISENGAGED,
        Exit.STEP_UP_DURING_PLAN,
        Exit.WITHDRAWN,
        Exit.STEP_UP_WHILE_WAITING,
    ),
    Stage.MST: (Exit.MST_COMPLETED, Exit.WITHDRAWN, Exit.STEP_UP_WHILE_WAITING),
}
"""How an episode can end at each early help stage (exits into social care included)."""


def _node_label(node: str) -> str:
    return "social care" if node == SOCIAL_CARE else stage_info(Stage(node)).label


def flow_referred(node: str) -> Kpi:
    """Referrals (new and re-referrals; not step-downs from social care) entering at ``node``."""
    return _k(
        f"flow_referred_{node}",
        f"referrals entering at {_node_label(node)}",
        "families",
        "count",
        f"Referrals in the window whose first stage was {_node_label(node)} (step-downs from social care "
        "are a move, not a referral).",
        True,
        family="flow_referred",
        subject=node,
    )


def flow_moved(source: str, target: str) -> Kpi:
    """Families moving from flow node ``source`` to ``target`` in the window."""
    a, b = _node_label(source), _node_label(target)
    return _k(
        f"flow_{source}_to_{target}",
        f"moves from {a} to {b}",
        "families",
        "count",
        f"Families who moved from {a} to {b} in the window.",
        True,
        family="flow_moved",
        subject=f"{source} to {target}",
    )


def flow_exit(node: str, reason: Exit) -> Kpi:
    """Early help episodes that ended at ``node`` with ``reason`` in the window."""
    where = _node_label(node)
    how = str(reason).replace("_", " ")
    return _k(
        f"flow_{node}_exit_{reason}",
        f"episodes ending at {where}: {how}",
        "families",
        "count",
        f"Early help episodes that ended at {where} with exit reason {reason}, in the window.",
        True,
        family="flow_exit",
        subject=f"{node} {reason}",
    )


FLOW_SC_CLOSED = _k(
    "flow_social_care_closed",
    "social care involvement ended without a step-down",
    "families",
    "count",
    "Families whose social care involvement (assessment, CIN, CP or care) ended in the window without a "
    "step-down to early help.",
    True,
    family="flow_closed",
    subject=SOCIAL_CARE,
)


def flow_at_start(node: str) -> Kpi:
    where = _node_label(node)
    return _k(
        f"flow_{node}_at_start",
        f"families at {where} at the start of the window",
        "families",
        "level",
        f"Families waiting for or receiving {where} when the results window starts.",
        family="flow_at_start",
        subject=node,
    )


def flow_at_end(node: str) -> Kpi:
    where = _node_label(node)
    return _k(
        f"flow_{node}_at_end",
        f"families at {where} at the end",
        "families",
        "level",
        f"Families waiting for or receiving {where} at the end of the run.",
        family="flow_at_end",
        subject=node,
    )


def flow_kpis() -> Iterator[Kpi]:
    """The flow table: for every node, families there at the start plus those arriving in the
    window equal those leaving in the window plus those there at the end (tested)."""
    for node in FLOW_ENTRIES:
        yield flow_referred(node)
    for source, target in FLOW_MOVES:
        yield flow_moved(source, target)
    for node, reasons in FLOW_EXITS.items():
        for reason in reasons:
            yield flow_exit(node, reason)
    yield FLOW_SC_CLOSED
    for node in FLOW_NODES:
        yield flow_at_start(node)
        yield flow_at_end(node)

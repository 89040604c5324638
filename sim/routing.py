"""The routing graph, written once: which stage a family can move to from which.

Each edge carries the condition under which a scenario makes it possible. The model checks
every transition it makes against this table (a family can never take a route the table
does not list), and scenario validation walks it to find the services that can receive
families, so that a zero-capacity service on a reachable route is refused before any run.
Pure data: no SimPy, no random numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.vocab import SOCIAL_CARE, Stage

if TYPE_CHECKING:
    from sim.config import Scenario

__all__ = ["EDGES", "NODES", "SOCIAL_CARE", "allowed", "reachable"]

CLOSED = str(Stage.CLOSED)
NODES = ("front_door", "panel", "level2", "level3", "mst", SOCIAL_CARE, CLOSED)

Condition = Callable[["Scenario"], bool]


def _need(level: str) -> Condition:
    return lambda s: (
        s.front_door is not None and (s.family.need_probs[level] > 0 or s.front_door.misclassification_prob > 0)
    )


def _to_partner_plans(s: Scenario) -> bool:
    """The front door sends families to Level 2: their need, or Level 3 requests judged
    suitable for a partner-led plan."""
    partner_led = s.front_door is not None and s.front_door.level3_partner_led_prob > 0
    return _need("level2")(s) or (partner_led and _need("level3")(s))


def _panel_decides(decision: str) -> Condition:
    return lambda s: s.panel is not None and s.panel.decision_probs[decision] > 0


def _l3_review(field: str) -> Condition:
    return lambda s: s.early_help.reviews is not None and getattr(s.early_help.reviews, field) > 0


def _always(_s: Scenario) -> bool:
    return True


def _escalation(s: Scenario) -> bool:
    return s.waiting.escalation.base_per_day > 0


EDGES: tuple[tuple[str, str, Condition, str], ...] = (
    (
        "front_door",
        "panel",
        lambda s: s.front_door is not None and s.front_door.insufficient_info_prob > 0,
        "front_door.insufficient_info_prob > 0",
    ),
    (
        "front_door",
        "level2",
        _to_partner_plans,
        "family.need_probs.level2 > 0 or misclassification, or front_door.level3_partner_led_prob > 0",
    ),
    ("front_door", "level3", _need("level3"), "family.need_probs.level3 > 0 or misclassification"),
    ("front_door", SOCIAL_CARE, _need("level4"), "family.need_probs.level4 > 0 or misclassification"),
    ("front_door", CLOSED, _always, "advice, or withdrawal while waiting"),
    ("panel", "level2", _panel_decides("level2"), "panel.decision_probs.level2 > 0"),
    ("panel", "level3", _panel_decides("level3"), "panel.decision_probs.level3 > 0"),
    ("panel", SOCIAL_CARE, _panel_decides("social_care"), "panel.decision_probs.social_care > 0"),
    ("panel", CLOSED, _always, "no plan, or withdrawal while waiting"),
    (
        "level2",
        "level3",
        lambda s: (
            s.partner_plans is not None
            and s.partner_plans.reviews is not None
            and s.partner_plans.reviews.step_up_prob > 0
        ),
        "partner_plans.reviews.step_up_prob > 0",
    ),
    ("level2", CLOSED, _always, "plan ends"),
    ("level3", "level2", _l3_review("step_down_prob"), "early_help.reviews.step_down_prob > 0"),
    ("level3", SOCIAL_CARE, _l3_review("step_up_prob"), "early_help.reviews.step_up_prob > 0"),
    ("level3", CLOSED, _always, "plan ends"),
    ("mst", CLOSED, _always, "therapy ends"),
    (
        SOCIAL_CARE,
        "level3",
        lambda s: s.social_care is not None and any(v > 0 for v in s.social_care.step_down_probs.values()),
        "social_care.step_down_probs > 0",
    ),
    (SOCIAL_CARE, CLOSED, _always, "social care closes the case"),
    (
        CLOSED,
        "front_door",
        lambda s: s.rereferral.prob_within_12_months > 0 or s.needs is not None,
        "rereferral.prob_within_12_months > 0 or needs set",
    ),
)
"""(from, to, condition, what makes it possible). Escalation while waiting in any early help
queue (``waiting.escalation``) adds an edge from every queueing stage to social care."""
ESCALATES_FROM = ("front_door", "panel", "level2", "level3", "mst")

_ALLOWED = {(a, b) for a, b, _, _ in EDGES} | {(q, SOCIAL_CARE) for q in ESCALATES_FROM}


def allowed(src: str, dst: str) -> bool:
    """Whether the table has a route ``src -> dst`` in any scenario (the model's check)."""
    return (src, dst) in _ALLOWED


def reachable(scenario: Scenario, entries: set[str]) -> set[str]:
    """Every node families can reach in ``scenario`` from ``entries`` (a graph walk over
    the edges whose condition holds)."""
    active = [(a, b) for a, b, cond, _ in EDGES if cond(scenario)]
    if _escalation(scenario):
        active += [(q, SOCIAL_CARE) for q in ESCALATES_FROM]
    seen, todo = set(entries), list(entries)
    while todo:
        node = todo.pop()
        for a, b in active:
            if a == node and b not in seen:
                seen.add(b)
                todo.append(b)
    return seen

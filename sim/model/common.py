"""Small definitions the model's modules share: a process, a handler's step, where a step
leads besides another stage, and the one way a uniform picks a category."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.vocab import Stage

__all__ = ["CLOSED", "DONE", "Proc", "Step", "choose"]

Step = tuple[str, str]  # (next stage, or CLOSED / SOCIAL_CARE with an Exit, or DONE)
CLOSED, DONE = str(Stage.CLOSED), "done"
"""Where a handler's step leads besides another stage: the episode closes (with an
:class:`~sim.vocab.Exit`), escalates to social care (with the Exit saying how), or the
family's history ends."""
Proc = Generator[simpy.Event, Any, Any]


def choose(u: float, probs: dict[str, float], keys: tuple[str, ...]) -> str:
    """The category a uniform falls in, walking ``keys`` in a fixed order (not the YAML's)."""
    acc = 0.0
    for key in keys:
        acc += probs[key]
        if u < acc:
            return key
    return keys[-1]  # rounding: the probabilities sum to 1 within 1e-6

"""The project's error types: every failure a user can cause is one of these.

Each carries ``messages``, one line per problem, each naming the field or argument it is
about (``teams.washington.workers: must be >= 0, got -2``). The CLI prints them and exits 2;
nothing else reaches a user as a traceback.

Library code names arguments by their Python name (``replications``); :class:`ArgumentError`
keeps that name apart from the problem, so the CLI can show its own flag
(``--replications``) without parsing the message.
"""

from __future__ import annotations

__all__ = ["ArgumentError", "BackendError", "EhsimError", "ResultsError", "ScenarioError"]

MAX_MESSAGE_CHARS = 400
"""Longest message line shown; longer ones (a huge value echoed back) are cut with an ellipsis."""


def _short(line: str) -> str:
    return line if len(line) <= MAX_MESSAGE_CHARS else line[: MAX_MESSAGE_CHARS - 3] + "..."


class EhsimError(Exception):
    """Base class: a problem the user can fix, with one message line per problem."""

    def __init__(self, messages: list[str] | str):
        lines = [messages] if isinstance(messages, str) else list(messages)
        self.messages = [_short(m) for m in lines]
        super().__init__("\n".join(self.messages))


class ScenarioError(EhsimError):
    """A scenario (or calibration / uncertainty spec) could not be loaded or validated."""


class ResultsError(EhsimError):
    """A results folder cannot be written (it belongs to another job) or read."""


class BackendError(EhsimError):
    """A backend could not be used (unknown name, unreachable scheduler...)."""


class ArgumentError(EhsimError):
    """Bad arguments to a library call: ``problems`` pairs each argument's Python name with
    its problem, one per bad argument; ``argument`` and ``problem`` are the first pair."""

    def __init__(self, argument: str, problem: str, *more: tuple[str, str]):
        self.problems = [(argument, problem), *more]
        self.argument = argument
        self.problem = problem
        super().__init__([f"{a}: {p}" for a, p in self.problems])

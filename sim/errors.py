"""The project's error types: every failure a user can cause is one of these.

Each carries ``messages``, one line per problem, each naming the field or argument it is
about (``teams.washington.workers: must be >= 0, got -2``). The CLI prints them and exits 2;
nothing else reaches a user as a traceback.

Library code names arguments by their Python name (``replications``); :class:`ArgumentError`
keeps that name apart from the problem, so the CLI can show its own flag
(``--replications``) without parsing the message.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ArgumentError",
    "BackendError",
    "EhsimError",
    "FileError",
    "OverrideError",
    "ResultsError",
    "ScenarioError",
    "ScenarioErrors",
]

EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT, as a shell reports it)."""
MAX_MESSAGE_CHARS = 400
"""Longest message line shown; longer ones (a huge value echoed back) are cut with an ellipsis
(:func:`_short`). A message that may be long puts what matters first and summarises its lists."""


def _short(line: str) -> str:
    """``line`` cut to :data:`MAX_MESSAGE_CHARS` with `` ...``, between words where there is
    a space in its second half (else, one huge word, within it)."""
    if len(line) <= MAX_MESSAGE_CHARS:
        return line
    cut = line[: MAX_MESSAGE_CHARS - 4]
    space = cut.rfind(" ")
    if space >= MAX_MESSAGE_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + " ..."


class EhsimError(Exception):
    """Base class: a problem the user can fix, with one message line per problem."""

    def __init__(self, messages: list[str] | str):
        lines = [messages] if isinstance(messages, str) else list(messages)
        self.messages = [_short(m) for m in lines]
        super().__init__("\n".join(self.messages))


class ScenarioError(EhsimError):
    """A scenario (or calibration / uncertainty spec) could not be loaded or validated."""


class FileError(ScenarioError):
    """A :class:`ScenarioError` whose lines already start with the file that has the problem
    (``/path/base.yaml: malformed YAML at line 9...``): the CLI names no file of its own."""


class OverrideError(ScenarioError):
    """Problems caused by dotted-key overrides of a scenario (``--set``, ``--vary``), not by the
    scenario file they are applied to.

    ``argument`` is the library argument that gave the overrides (``overrides``; ``grid`` for a
    sweep); ``problems`` pairs the overrides each problem comes from, as ``KEY=VALUE`` texts,
    with the problem, one pair per problem. As with :class:`ArgumentError`, the CLI shows the
    flag the user typed (``--set mst.therapist=5: mst.therapist: unknown key``), never the file.
    """

    def __init__(self, argument: str, problems: Sequence[tuple[Sequence[str], str]]):
        self.argument = argument
        self.problems = [(tuple(settings), problem) for settings, problem in problems]
        super().__init__(self.lines(argument))

    def lines(self, flag: str) -> list[str]:
        """One line per problem, each of its overrides shown after ``flag``."""
        return [_short(f"{' '.join(f'{flag} {s}' for s in settings)}: {p}") for settings, p in self.problems]


class ScenarioErrors(ScenarioError):
    """Problems of several kinds at once (every file of a comparison checked before any work):
    ``errors``, each a :class:`FileError` or an :class:`OverrideError`, in the order of the files,
    each said as its kind is."""

    def __init__(self, errors: Sequence[ScenarioError]):
        self.errors = list(errors)
        super().__init__([line for error in self.errors for line in error.messages])


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

"""Every number in ``configs/`` carries its source or the word ASSUMPTION.

The rule, checked on every ``*.yaml`` / ``*.yml`` file under ``configs/`` (recursively):

* **Which lines.** A line is checked when it holds a *numeric value*: a plain (unquoted)
  YAML scalar in a value position (a mapping value, a flow or block sequence item; never a
  key) that YAML resolves to an int, a float or a date. The file is read with YAML's own
  scanner, so numbers inside comments, inside quoted strings, inside block scalars (the
  ``description: >`` prose) and in keys are not values and are not checked; comment-only
  lines and keys without a value hold no values. A value spread over several lines (a
  multi-line flow sequence) is checked on every line that holds one of its numbers.
* **What it needs.** Such a line must end with a comment (``# ...`` after the YAML on that
  same line; a comment on the line above does not count) that contains at least one of:

  - ``ASSUMPTION`` (upper case): the number has no source, or is a calibration or design
    choice, and says so;
  - a *citation*: a key of the bibliography ``docs/sources.md`` (``Sunderland-EH-2018 para
    4.2``, ``DfE-CIN-2025 C2``): a capital letter, parts of letters and digits joined by
    hyphens, and a final four-digit year;
  - ``derived`` (computed from sourced numbers, with the arithmetic in the comment);
  - ``baseline`` (the same as, or scaled from, a number in a baseline scenario, where that
    number carries its own source);
  - ``option tested`` (a setting that defines an option scenario: a design choice, not an
    estimate of the world).

  Data files that carry their sources as data (calibration targets written as
  ``{value: 475, source: "Sunderland-EH-2018 para 4.1 ..."}``) pass too: a ``source:`` string on the
  same line counts as the line's comment.

The unit cases below feed synthetic YAML to the same checker, so the rule can fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from tests.conftest import CONFIGS

KEY = r"[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*-(?:19|20)\d{2}"
"""A citation key: ``Sunderland-EH-2018``, ``DfE-CIN-2025``, ``AfC-2022``."""
KEY_TOKEN = re.compile(rf"(?<![\w-]){KEY}(?![\w-])")
"""A key as a token of text: not glued to a letter, digit, ``_`` or ``-`` on either side."""

SOURCE = re.compile(rf"ASSUMPTION|{KEY_TOKEN.pattern}|\bderived\b|\bbaseline\b|\boption tested\b")
"""What a trailing comment must contain (``ASSUMPTION`` and keys are case-sensitive; the rest
are matched as written, lower case)."""

NUMERIC_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
_RESOLVER = Resolver()


def _is_number(token: yaml.ScalarToken) -> bool:
    if not token.plain:
        return False
    return _RESOLVER.resolve(ScalarNode, token.value, (True, False)) in NUMERIC_TAGS


def unsourced_lines(text: str) -> list[tuple[int, str]]:
    """Lines (1-based number, text) holding a numeric value without a sourced trailing comment."""
    lines = text.splitlines()
    tokens = list(yaml.scan(text, Loader=yaml.SafeLoader))
    # where the YAML on each line ends: anything after it on the line is the comment
    yaml_end: dict[int, int] = {}
    for tok in tokens:
        if tok.end_mark.line < len(lines) and tok.end_mark.column > 0:
            yaml_end[tok.end_mark.line] = max(yaml_end.get(tok.end_mark.line, 0), tok.end_mark.column)
    numeric_lines: set[int] = set()
    source_values: dict[int, str] = {}  # line -> the value of a `source:` key on it
    for i, tok in enumerate(tokens):
        if not isinstance(tok, yaml.ScalarToken):
            continue
        prev = tokens[i - 1] if i else None
        if isinstance(prev, yaml.KeyToken):
            if tok.value == "source" and i + 2 < len(tokens) and isinstance(tokens[i + 2], yaml.ScalarToken):
                value = tokens[i + 2]
                source_values[value.start_mark.line] = source_values.get(value.start_mark.line, "") + value.value
        elif _is_number(tok):
            numeric_lines.add(tok.start_mark.line)
    bad = []
    for i in sorted(numeric_lines):
        rest = lines[i][yaml_end.get(i, 0) :].strip()
        comment = rest[1:] if rest.startswith("#") else ""
        if not SOURCE.search(comment) and not SOURCE.search(source_values.get(i, "")):
            bad.append((i + 1, lines[i]))
    return bad


def _config_files() -> list[Path]:
    return sorted(p for p in CONFIGS.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


@pytest.mark.parametrize("path", _config_files(), ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_number_has_a_source_or_assumption(path: Path) -> None:
    bad = unsourced_lines(path.read_text(encoding="utf-8"))
    listing = "\n".join(f"  {path.relative_to(CONFIGS)}:{n}: {line.strip()}" for n, line in bad)
    assert not bad, f"numbers without a source comment or ASSUMPTION:\n{listing}"


def test_config_files_are_found() -> None:
    names = {p.relative_to(CONFIGS).as_posix() for p in _config_files()}
    assert {"baseline.yaml", "west_sussex/baseline.yaml", "worcestershire/baseline.yaml"} <= names


# --------------------------------------------------------------------------- the rule itself
@pytest.mark.parametrize(
    ("text", "bad_lines"),
    [
        ("teams:\n  north: {workers: 11}\n", [2]),  # a number with no comment
        ("rate: 0.3   # a guess\n", [1]),  # a comment that cites nothing
        ("rate: 0.3   # assumption\n", [1]),  # ASSUMPTION must be upper case
        ("# ASSUMPTION on the line above\nrate: 0.3\n", [2]),  # the comment must be on the line
        ("start_date: 2019-04-01\n", [1]),  # dates are numbers too
        ("edges:\n  - 0   # DfE-CIN-2025 D7\n  - 91\n", [3]),  # block sequence items
        ("probs: [0.5,\n        0.5]   # ASSUMPTION\n", [1]),  # each line of a flow sequence
        ("rate: 0.3   # seed 002 para 6.3\n", [1]),  # the old seed numbers are no longer sources
        ("rate: 0.3   # FACTS (b) Re-referral\n", [1]),  # nor the old notes
        ("rate: 0.3   # sunderland-eh-2018 para 4.1\n", [1]),  # keys are case-sensitive
        ("rate: 0.3   # xSunderland-EH-2018 para 4.1\n", [1]),  # a key must be a whole token
        ("rate: 0.3   # ASSUMPTION\n", []),
        ("rate: 0.3   # WestSussex-IPEH-2019 para 6.3 table\n", []),
        ("rate: 0.3   # DfE-CIN-2025 C2: median 33 working days\n", []),
        ("rate: 0.3   # derived: 0.6 x 0.5\n", []),
        ("rate: 0.3   # baseline x 2\n", []),
        ("rate: 0.3   # option tested\n", []),
        ("name: redesign_2020_21\nnote: 'costs 12 pounds'\n", []),  # strings are not numbers
        ("description: >\n  Three teams of 11 workers.\n", []),  # block scalar prose
        ("# 17.59 in a comment-only line\nreviews:\n", []),
        ("'2019': x\n", []),  # keys are not values
        ("label: x   # 'the # inside' then 5\n", []),  # a number inside a comment only
        ("flag: true\nnothing: null\n", []),
        ('target: {value: 475, source: "Sunderland-EH-2018 para 4.1"}\n', []),  # sources kept as data
        ('target: {value: 475, source: "a report"}\n', [1]),
    ],
)
def test_rule_on_synthetic_yaml(text: str, bad_lines: list[int]) -> None:
    assert [n for n, _ in unsourced_lines(text)] == bad_lines


def test_quoted_hash_is_not_a_comment() -> None:
    """A '#' inside a quoted value does not start a comment: the number still needs one."""
    assert [n for n, _ in unsourced_lines("a: {x: 'see # ASSUMPTION', y: 3}\n")] == [1]

"""Every number in ``configs/`` carries its source or the word ASSUMPTION; every source it
cites is in the bibliography; no file points outside the repository.

The bibliography is ``docs/sources.md``: one entry per source, headed by a level-3 heading
whose whole text is the citation key (``### Sunderland-EH-2018``). A key is a capital
letter, parts of letters and digits joined by hyphens, and a final four-digit year
(``KEY`` below).

The rules, checked on every ``*.yaml`` / ``*.yml`` file under ``configs/`` (recursively):

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
  - a *citation*: a bibliography key (``Sunderland-EH-2018 para 4.2``,
    ``DfE-CIN-2025 C2``);
  - ``derived`` (computed from sourced numbers, with the arithmetic in the comment);
  - ``baseline`` (the same as, or scaled from, a number in a baseline scenario, where that
    number carries its own source);
  - ``option tested`` (a setting that defines an option scenario: a design choice, not an
    estimate of the world).

  Data files that carry their sources as data (calibration targets written as
  ``{value: 475, source: "Sunderland-EH-2018 para 4.1 ..."}``) pass too: a ``source:``
  string on the same line counts as the line's comment.
* **Citations.** A citation is any token matching ``KEY`` that is not preceded or followed
  by a letter, a digit, ``_`` or ``-``, found in a YAML comment (whole-line or trailing;
  a ``#`` inside a quoted string or a block scalar does not start one) or in a ``source:``
  string. Each must be a key of ``docs/sources.md``. The same holds for such tokens anywhere
  in the other files of the repository (README, docs, ``sim/``, experiments, benchmarks,
  tests; this file excepted, since it holds made-up keys for its own unit cases).
* **Nothing outside the repository.** No file (this one excepted) may hold a relative path
  that climbs out of the repository or to something that does not exist in it, a file name
  of the original document copies (three digits, ``_``, sixteen hex digits), or the name of
  the notes file they were collected in.

The unit cases below feed synthetic text to the same checkers, so each rule can fail.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from sim.present.references import KEY, KEY_TOKEN  # the report's reference list reads keys the same way
from tests.conftest import CONFIGS, ROOT

BIBLIOGRAPHY = ROOT / "docs" / "sources.md"
THIS_FILE = Path(__file__).resolve()

SOURCE = re.compile(rf"ASSUMPTION|{KEY_TOKEN.pattern}|\bderived\b|\bbaseline\b|\boption tested\b")
"""What a trailing comment must contain (``ASSUMPTION`` and keys are case-sensitive; the rest
are matched as written, lower case)."""

NUMERIC_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
_RESOLVER = Resolver()


# --------------------------------------------------------------------------- reading YAML
def _is_number(token: yaml.ScalarToken) -> bool:
    if not token.plain:
        return False
    return _RESOLVER.resolve(ScalarNode, token.value, (True, False)) in NUMERIC_TAGS


class _Scan:
    """One YAML text as lines, tokens and, per line, where its YAML ends."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.tokens = list(yaml.scan(text, Loader=yaml.SafeLoader))
        # where the YAML on each line ends: anything after it on the line is the comment
        self.yaml_end: dict[int, int] = {}
        # lines wholly inside a multi-line scalar (block scalar prose): no comments there
        self.inside: set[int] = set()
        for tok in self.tokens:
            end = tok.end_mark
            if end.line < len(self.lines) and end.column > 0:
                self.yaml_end[end.line] = max(self.yaml_end.get(end.line, 0), end.column)
            if isinstance(tok, yaml.ScalarToken) and end.line > tok.start_mark.line:
                self.inside.update(range(tok.start_mark.line + 1, end.line))

    def comment(self, i: int) -> str:
        """The comment on line ``i`` (0-based) without its ``#``, or ``""``."""
        if i in self.inside:
            return ""
        rest = self.lines[i][self.yaml_end.get(i, 0) :].strip()
        return rest[1:] if rest.startswith("#") else ""

    def numeric_lines_and_sources(self) -> tuple[set[int], dict[int, str]]:
        """Lines holding a numeric value; and per line, the value of a ``source:`` key on it."""
        numeric: set[int] = set()
        sources: dict[int, str] = {}
        tokens = self.tokens
        for i, tok in enumerate(tokens):
            if not isinstance(tok, yaml.ScalarToken):
                continue
            prev = tokens[i - 1] if i else None
            if isinstance(prev, yaml.KeyToken):
                if tok.value == "source" and i + 2 < len(tokens) and isinstance(tokens[i + 2], yaml.ScalarToken):
                    value = tokens[i + 2]
                    sources[value.start_mark.line] = sources.get(value.start_mark.line, "") + value.value
            elif _is_number(tok):
                numeric.add(tok.start_mark.line)
        return numeric, sources


def unsourced_lines(text: str) -> list[tuple[int, str]]:
    """Lines (1-based number, text) holding a numeric value without a sourced trailing comment."""
    scan = _Scan(text)
    numeric, sources = scan.numeric_lines_and_sources()
    return [
        (i + 1, scan.lines[i])
        for i in sorted(numeric)
        if not SOURCE.search(scan.comment(i)) and not SOURCE.search(sources.get(i, ""))
    ]


def citations(text: str) -> list[tuple[int, str]]:
    """Every citation (1-based line, key) in the comments and ``source:`` strings of a YAML text."""
    scan = _Scan(text)
    _, sources = scan.numeric_lines_and_sources()
    found = []
    for i in range(len(scan.lines)):
        for part in (scan.comment(i), sources.get(i, "")):
            found.extend((i + 1, m.group(0)) for m in KEY_TOKEN.finditer(part))
    return found


# --------------------------------------------------------------------------- the bibliography
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_H3 = re.compile(r"^###[ \t]+(.*?)[ \t]*$", re.M)


def bibliography_keys(markdown: str) -> list[str]:
    """The keys of a bibliography, in order: the text of each level-3 heading (outside code).

    Raises ``ValueError`` if a level-3 heading is not a key or a key appears twice."""
    headings = _H3.findall(_FENCE.sub("", markdown))
    bad = [h for h in headings if not re.fullmatch(KEY, h)]
    if bad:
        raise ValueError(f"level-3 headings that are not citation keys: {bad}")
    dupes = sorted({h for h in headings if headings.count(h) > 1})
    if dupes:
        raise ValueError(f"keys defined twice: {dupes}")
    return headings


def _keys() -> set[str]:
    return set(bibliography_keys(BIBLIOGRAPHY.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- the repository's files
_SKIP_DIRS = {".git", ".venv", "venv", "results", "build", "dist", "__pycache__"}


def repository_files() -> list[Path]:
    """Files of the repository: tracked or new (not ignored) per git, else a walk of the tree."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        names = [n for n in out.split("\0") if n]
        return sorted(p for p in (ROOT / n for n in names) if p.is_file())
    except (OSError, subprocess.CalledProcessError):
        return sorted(
            p
            for p in ROOT.rglob("*")
            if p.is_file()
            and not any(
                part in _SKIP_DIRS or part.startswith(".") or part.endswith(".egg-info")
                for part in p.relative_to(ROOT).parts
            )
        )


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


BAD_INPUT_TESTS = ("test_bad_inputs*.py", "test_fuzz_*.py")
"""Tests whose inputs are path-like names on purpose (a scenario named ``../../x`` must be
refused): they are inputs, not references, so they are not scanned."""


def _checked_files() -> list[tuple[Path, str]]:
    out = []
    for p in repository_files():
        if p.resolve() == THIS_FILE or any(p.match(f"tests/{pat}") for pat in BAD_INPUT_TESTS):
            continue
        text = _text(p)
        if text is not None:
            out.append((p, text))
    return out


_UP = re.compile(r"(?<![\w.])(?:\.\./)+[\w./-]*")
_COPY_NAME = re.compile(r"(?<![0-9a-f])\d{3}_[0-9a-f]{16}(?![0-9a-f])")
_NOTES_NAME = re.compile(r"\bFACTS\.md\b", re.I)


def outside_references(text: str, path: Path, root: Path) -> list[tuple[int, str]]:
    """References (1-based line, text) in a file at ``path`` to things outside ``root``."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        for m in _UP.finditer(line):
            target = (path.parent / m.group(0)).resolve()
            if not target.is_relative_to(root.resolve()) or not target.exists():
                found.append((n, m.group(0)))
        found.extend((n, m.group(0)) for m in _COPY_NAME.finditer(line))
        found.extend((n, m.group(0)) for m in _NOTES_NAME.finditer(line))
    return found


# --------------------------------------------------------------------------- the checks
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


def test_bibliography_has_the_council_reports_and_national_sources() -> None:
    keys = _keys()
    assert {"Sunderland-EH-2018", "Kirklees-ESP-2019", "WestSussex-IPEH-2019", "Worcestershire-EH-2015"} <= keys
    assert {"DfE-CIN-2025", "Foundations-FGC-2023", "Fonagy-2018", "AfC-2022"} <= keys


@pytest.mark.parametrize("path", _config_files(), ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_cited_key_is_in_the_bibliography(path: Path) -> None:
    keys = _keys()
    unknown = [(n, k) for n, k in citations(path.read_text(encoding="utf-8")) if k not in keys]
    listing = "\n".join(f"  {path.relative_to(ROOT)}:{n}: {k}" for n, k in unknown)
    assert not unknown, f"citations of keys that docs/sources.md does not define:\n{listing}"


def test_configs_cite_the_bibliography() -> None:
    """The sources check is not vacuous: the shipped configs cite many keys."""
    cited = {k for p in _config_files() for _, k in citations(p.read_text(encoding="utf-8"))}
    assert {"Sunderland-EH-2018", "Kirklees-ESP-2019", "WestSussex-IPEH-2019", "Worcestershire-EH-2015"} <= cited
    assert len(cited) >= 15


def _is_config(path: Path) -> bool:
    return path.suffix in (".yaml", ".yml") and path.resolve().is_relative_to(CONFIGS.resolve())


def test_keys_cited_elsewhere_are_in_the_bibliography() -> None:
    """README, docs, sim, experiments, benchmarks and tests cite only keys that exist (configs
    are checked comment by comment above)."""
    keys = _keys()
    unknown = [
        (p.relative_to(ROOT), n, m.group(0))
        for p, text in _checked_files()
        if not _is_config(p)
        for n, line in enumerate(text.splitlines(), 1)
        for m in KEY_TOKEN.finditer(line)
        if m.group(0) not in keys
    ]
    listing = "\n".join(f"  {p}:{n}: {k}" for p, n, k in unknown)
    assert not unknown, f"citations of keys that docs/sources.md does not define:\n{listing}"


def test_no_file_refers_outside_the_repository() -> None:
    files = _checked_files()
    names = {p.relative_to(ROOT).as_posix() for p, _ in files}
    assert {"README.md", "docs/sources.md", "configs/baseline.yaml", "sim/present/report.py"} <= names
    bad = [(p.relative_to(ROOT), n, ref) for p, text in files for n, ref in outside_references(text, p, ROOT)]
    listing = "\n".join(f"  {p}:{n}: {ref}" for p, n, ref in bad)
    assert not bad, f"references to paths outside the repository (cite a docs/sources.md key instead):\n{listing}"


# --------------------------------------------------------------------------- the rules themselves
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


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("rate: 0.3   # Sunderland-EH-2018 para 4.2\n", [(1, "Sunderland-EH-2018")]),
        (
            "# header: Nowhere-Report-2099 and DfE-CIN-2025 C2\nrate: 1   # ASSUMPTION\n",
            [(1, "Nowhere-Report-2099"), (1, "DfE-CIN-2025")],
        ),
        ("a: 1\nb: 2   # derived: AfC-2022 x Troncoso-2017, \n", [(2, "AfC-2022"), (2, "Troncoso-2017")]),
        ('t: {value: 20, source: "Nowhere-2099 s.2"}\n', [(1, "Nowhere-2099")]),  # a source string
        ("name: 'Nowhere-2099'\n", []),  # a quoted value is not a comment
        ("a: 'x # Nowhere-2099'   # ASSUMPTION\n", []),  # nor is a '#' inside quotes
        ("description: >\n  Nowhere-2099 in prose.\n  # Nowhere-2098 still prose\nb: 1\n", []),  # block scalar
        ("a: 1   # 2019-20 and 2015/16-2019/20 and DfE-CIN-2025x\n", []),  # not keys
        ("a: 1   # DfE-CIN-2025-26 is not a key token\n", []),
    ],
)
def test_citations_on_synthetic_yaml(text: str, found: list[tuple[int, str]]) -> None:
    assert citations(text) == found


def test_bibliography_format_is_enforced() -> None:
    assert bibliography_keys("# Sources\n### A-2001\ntext\n```\n### not a heading in code\n```\n### Bb-Cc-2002\n") == [
        "A-2001",
        "Bb-Cc-2002",
    ]
    with pytest.raises(ValueError, match="not citation keys"):
        bibliography_keys("### A-2001\n### Notes on the sources\n")
    with pytest.raises(ValueError, match="defined twice"):
        bibliography_keys("### A-2001\n### A-2001\n")


def test_outside_references_are_found(tmp_path: Path) -> None:
    (tmp_path / "configs" / "x").mkdir(parents=True)
    (tmp_path / "configs" / "base.yaml").write_text("a: 1\n")
    f = tmp_path / "configs" / "x" / "opt.yaml"
    up = "." + "./"  # built here so that this file holds no such path itself
    notes = "FACTS" + ".md"
    copy = "004_" + "00c1e350c6fc63a9"
    text = "\n".join(
        [
            f"extends: {up}base.yaml",  # inside the repository and present: fine
            f"# see {up}{up}{up}shared/{notes}",  # climbs out of the repository
            f"# see {up}shared/README.md",  # inside, but does not exist
            f"# seed file {copy}.txt",  # a copy's file name
            f"# the notes: {notes} part 2",  # the notes file
            "# Sunderland-EH-2018 para 4.1",  # a citation: fine
        ]
    )
    assert [n for n, _ in outside_references(text, f, tmp_path)] == [2, 2, 3, 4, 5]

"""Fuzz ``ehsim validate`` (hypothesis): malformed and extreme scenario files and ``--set``
overrides, made by mutating the bundled ``configs/baseline.yaml``.

Every outcome must be exit 0 (and a one-line "valid scenario") or exit 2 with a short
message, one line per problem, each naming its subject (``field: problem``); never another
exception, a traceback, or a case that takes longer than :data:`DEADLINE`.

Each test runs :data:`EXAMPLES` examples by default and :data:`EXAMPLES_SLOW` with
``--runslow`` (the option is read from pytest's config, see ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.errors import MAX_MESSAGE_CHARS

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.yaml"
BASE_TEXT = BASELINE.read_text(encoding="utf-8")
BASE: dict[str, Any] = yaml.safe_load(BASE_TEXT)

EXAMPLES = 30
"""Examples per fuzz test in the default run."""
EXAMPLES_SLOW = 600
"""Examples per fuzz test with ``--runslow``."""
DEADLINE = dt.timedelta(seconds=10)
"""Longest one case may take: validation takes milliseconds, so this catches a hang, not a slow machine."""
MAX_PROBLEM_LINES = 60
"""More message lines than this is not a short message."""

EXIT_OK, EXIT_BAD_INPUT = 0, 2
# a message line: two spaces, a subject (field, file, --set KEY...), a colon, the problem
MESSAGE_LINE = re.compile(r"error: \S.*?: \S.*")


def _examples(request: pytest.FixtureRequest) -> int:
    return EXAMPLES_SLOW if request.config.getoption("--runslow") else EXAMPLES


def _settings(request: pytest.FixtureRequest) -> settings:
    return settings(
        max_examples=_examples(request),
        deadline=DEADLINE,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ------------------------------------------------------------------- values
EXTREME_NUMBERS = [0, -1, 1, 2**31, 2**63, -(2**63), 10**26, 10**400, 1e-7, 0.5, 1e12, 1e15, 1e308, -0.0]
EXTREME_TEXT = [
    "",
    " ",
    ".",
    "..",
    "../../escaped",
    "/etc/passwd",
    "C:\\Windows",
    "a\nb",
    "\x00",
    "2023-02-30",
    "20230101",
    "01/04/2017",
    "1e12",
    "10^26",
    "nan",
    "-inf",
    "~",
    "yes",
    "exponential",
    "front_door",
    "fifo",
    "x" * 500,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(EXTREME_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(EXTREME_TEXT),
    st.dates(min_value=dt.date(1, 1, 1)),
    st.datetimes(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=10) | st.sampled_from(["dist", "mean", "workers", "replace"]), inner, max_size=4
        )
    ),
    max_leaves=12,
)


def _nested(depth: int, leaf: Any = 1) -> Any:
    node = leaf
    for i in range(depth):
        node = [node] if i % 2 else {"k": node}
    return node


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in the mapping (keys of mappings, indices of lists)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


ALL_PATHS = _paths(BASE)


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated_mappings(draw: st.DrawFn) -> Any:
    """The baseline with one to five keys deleted, replaced by random, extreme or deeply
    nested values, or added; sometimes the whole document replaced."""
    if draw(st.integers(0, 30)) == 0:
        return draw(values)  # not a mapping at all, or a random one
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 5))):
        path = draw(st.sampled_from(ALL_PATHS))
        try:
            parent = _parent(data, path)
            key = path[-1]
            parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        op = draw(st.sampled_from(["delete", "value", "value", "extreme", "deep", "add", "name"]))
        if op == "delete":
            del parent[key]
        elif op == "value":
            parent[key] = draw(values)
        elif op == "extreme":
            parent[key] = draw(st.sampled_from(EXTREME_NUMBERS + EXTREME_TEXT))
        elif op == "deep":
            parent[key] = _nested(draw(st.integers(1, 120)))
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        elif op == "name":
            data["name"] = draw(st.text(max_size=120) | st.sampled_from(EXTREME_TEXT))
    return data


@st.composite
def corrupted_texts(draw: st.DrawFn) -> str:
    """The baseline's text cut short, with random text or YAML syntax spliced in, a line
    duplicated, or an alias bomb / deep nesting appended."""
    text = BASE_TEXT
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["cut", "insert", "syntax", "duplicate", "bomb", "deep", "tab"]))
        at = draw(st.integers(0, len(text)))
        if op == "cut":
            text = text[:at]
        elif op == "insert":
            text = text[:at] + draw(st.text(max_size=40)) + text[at:]
        elif op == "syntax":
            piece = draw(
                st.sampled_from(["[", "]", "{", "}", ":", "- ", "&a ", "*a", "!!int ", "!!python/name:os ", "? "])
            )
            text = text[:at] + piece + text[at:]
        elif op == "duplicate":
            lines = text.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines.insert(i, lines[i])
            text = "".join(lines)
        elif op == "bomb":
            levels = draw(st.integers(2, 12))
            text += "\nb0: &b0 [l,l,l,l,l,l,l,l,l]\n" + "".join(
                f"b{i}: &b{i} [" + ",".join([f"*b{i - 1}"] * 9) + "]\n" for i in range(1, levels)
            )
            text += f"description: *b{levels - 1}\n"
        elif op == "deep":
            n = draw(st.integers(1, 600))
            text += "\ndescription: " + "[" * n + "]" * n + "\n"
        elif op == "tab":
            text = text[:at] + "\t" + text[at:]
    return text


DOTTED = sorted({".".join(str(p) for p in path) for path in ALL_PATHS if all(isinstance(p, str) for p in path)})

overrides = st.lists(
    st.tuples(
        st.sampled_from(DOTTED)
        | st.sampled_from(["teams.nonexistent.workers", "referrals.sources.x.annual_rate", "name", "run.start_date"])
        | st.text(max_size=20),
        st.one_of(
            st.text(max_size=30),
            st.sampled_from([str(x) for x in EXTREME_NUMBERS] + EXTREME_TEXT + ["[" * 80, "{a: " * 60]),
            values.map(lambda v: yaml.safe_dump(v, default_flow_style=True, width=10**6).strip()),
        ),
    ).map(lambda kv: f"{kv[0]}={kv[1]}"),
    min_size=1,
    max_size=4,
)


# ------------------------------------------------------------------- the property
def _validate(argv: list[str]) -> None:
    """Run ``ehsim validate`` in process and check its outcome."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)  # any exception but argparse's exit fails the test
        except SystemExit as exc:  # argparse refusing the command line (``--set -=``): error, hint, exit 2
            assert exc.code == EXIT_BAD_INPUT
            message, hint = err.getvalue().splitlines()
            assert message.startswith("error: argument") and hint == "see ehsim validate --help", message
            event("exit 2 (argparse)")
            return
    stdout, stderr = out.getvalue(), err.getvalue()
    assert "Traceback" not in stdout + stderr
    assert rc in (EXIT_OK, EXIT_BAD_INPUT), f"exit {rc}\n{stderr}"
    event(f"exit {rc}")
    if rc == EXIT_OK:  # a valid scenario may have warnings (a dated change after the run's end)
        assert all(line.startswith("warning: ") for line in stderr.splitlines()), stderr
        assert stdout.count("\n") == 1 and "valid scenario" in stdout
        return
    assert stdout == ""
    problems = stderr.splitlines()
    assert 1 <= len(problems) <= MAX_PROBLEM_LINES, stderr[:2000]
    for line in problems:  # "error: <file>: <field>: <problem>", one line per problem
        assert len(line) <= len("error: ") + len(argv[1]) + len(": ") + MAX_MESSAGE_CHARS, line
        assert MESSAGE_LINE.fullmatch(line), f"not an 'error: subject: problem' line: {line!r}"


def _write(folder: str, data: str | bytes) -> str:
    path = Path(folder) / "scenario.yaml"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
    return str(path)


def test_fuzz_mutated_scenarios(request: pytest.FixtureRequest) -> None:
    @_settings(request)
    @given(data=mutated_mappings())
    def check(data: Any) -> None:
        with tempfile.TemporaryDirectory() as folder:
            _validate(["validate", _write(folder, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))])

    check()


def test_fuzz_corrupted_files(request: pytest.FixtureRequest) -> None:
    @_settings(request)
    @given(text=corrupted_texts() | st.binary(max_size=200))
    def check(text: str | bytes) -> None:
        with tempfile.TemporaryDirectory() as folder:
            _validate(["validate", _write(folder, text)])

    check()


def test_fuzz_overrides(request: pytest.FixtureRequest) -> None:
    @_settings(request)
    @given(sets=overrides)
    def check(sets: list[str]) -> None:
        argv = ["validate", str(BASELINE)]
        for s in sets:
            argv += ["--set", s]
        _validate(argv)

    check()

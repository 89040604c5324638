"""The command line as a new user meets it: a closed pipe, argument errors, help texts."""

from __future__ import annotations

import io
import os
import sys

import pytest

from sim.cli import main
from tests.conftest import CONFIGS

BASE = str(CONFIGS / "baseline.yaml")


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_closed_stdout_stops_quietly(
    fmt: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``ehsim kpis | head -5``: the reader has gone; no traceback, no error, exit quietly."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (head) has exited
    closed = io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", closed)
    try:
        code = main(["kpis", BASE, "--format", fmt])
    finally:
        monkeypatch.undo()
    assert code == 141  # 128 + SIGPIPE
    assert capsys.readouterr().err == ""
    closed.close()  # its descriptor now points to the null device: closing it cannot fail

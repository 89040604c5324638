"""A Ctrl-C is never lost (``sim.backends.ctrl_c_kept``).

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be; inside a finaliser
or a garbage-collector callback (a local Dask cluster's scheduler runs one at every collection)
it prints "Exception ignored in ..." and carries on, so a batch interrupted at that moment ran
to its end and exited 0 (seen once in CI, in the Dask Ctrl-C test of ``test_uncertainty.py``).
Here the swallowed interrupt is made deterministic by calling the installed SIGINT handler from
a finaliser, exactly what the signal does when it lands there.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator

import pytest

from sim import cli
from sim.backends import ctrl_c_kept, iter_results
from sim.errors import EXIT_INTERRUPTED


@pytest.fixture
def ctrl_c_default() -> Iterator[None]:
    """SIGINT as in a terminal (pytest-xdist workers start with it ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _CtrlCWhenCollected:
    def __del__(self) -> None:  # the handler raises here; Python swallows it ("Exception ignored")
        handler = signal.getsignal(signal.SIGINT)
        assert callable(handler)
        handler(signal.SIGINT, None)


def _swallowed_ctrl_c() -> None:
    _CtrlCWhenCollected()  # freed at once: its finaliser runs and the KeyboardInterrupt is lost


def _task(i: int) -> int:
    if i == 0:
        _swallowed_ctrl_c()
    return i


@pytest.mark.usefixtures("ctrl_c_default")
def test_a_swallowed_ctrl_c_stops_a_batch_after_the_result_it_interrupted(capsys: pytest.CaptureFixture[str]) -> None:
    got: list[int] = []
    with ctrl_c_kept(), pytest.raises(KeyboardInterrupt):
        for result in iter_results(_task, [(i,) for i in range(5)], "serial"):
            got.append(result)
    assert got == [0]  # the finished replication is kept; none of the four after it ran
    assert "KeyboardInterrupt" not in capsys.readouterr().err  # recorded, not printed as well
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


@pytest.mark.usefixtures("ctrl_c_default")
def test_a_command_that_swallowed_ctrl_c_exits_130_with_the_interrupted_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Ctrl-C swallowed after the last replication (while the report was written, say)."""

    def command(args: object) -> int:
        _swallowed_ctrl_c()
        return 0

    monkeypatch.setitem(cli.COMMANDS, "kpis", command)
    assert cli.main(["kpis"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err.strip() == "interrupted"


@pytest.mark.usefixtures("ctrl_c_default")
def test_other_unraisable_errors_still_reach_the_hook_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: seen.append(info.exc_value))

    class Broken:
        def __del__(self) -> None:
            raise ValueError("finaliser failed")

    with ctrl_c_kept():
        Broken()
        _swallowed_ctrl_c()
    assert [type(e) for e in seen] == [ValueError]  # the interrupt is recorded, not reported
    assert sys.unraisablehook is not None and seen  # and the hook before it is back
    sys.unraisablehook(type("Info", (), {"exc_value": KeyboardInterrupt()})())
    assert [type(e) for e in seen] == [ValueError, KeyboardInterrupt]


def test_a_ctrl_c_ignored_by_whoever_started_us_stays_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with ctrl_c_kept():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_the_command_loads_its_libraries_ends_it_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Importing the CLI (pandas, scipy) takes a second or more; a Ctrl-C then gave a 30-line
    traceback from inside scipy and exit -2 (seen in the suite on a loaded machine)."""
    import importlib.abc

    from sim.__main__ import run

    class CtrlCOnImport(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: object, target: object = None) -> None:
            if name == "sim.cli":
                raise KeyboardInterrupt

    monkeypatch.delitem(sys.modules, "sim.cli")
    monkeypatch.setattr(sys, "meta_path", [CtrlCOnImport(), *sys.meta_path])
    assert run() == EXIT_INTERRUPTED
    assert capsys.readouterr().err.strip() == "interrupted"


@pytest.mark.usefixtures("ctrl_c_default")
def test_a_ctrl_c_once_handled_does_not_stop_a_later_batch() -> None:
    """The recorded Ctrl-C belongs to the command it interrupted: a later batch in the same
    process (a notebook, a test run) runs to its end."""
    with ctrl_c_kept(), pytest.raises(KeyboardInterrupt):
        list(iter_results(_task, [(0,), (1,)], "serial"))
    try:  # a KeyboardInterrupt escaping a test would stop the whole test session, not fail it
        got = list(iter_results(_task, [(1,), (2,), (3,)], "serial"))
    except KeyboardInterrupt:
        pytest.fail("a Ctrl-C handled earlier stopped a later batch")
    assert got == [1, 2, 3]

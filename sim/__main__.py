"""``python -m sim`` and the ``ehsim`` command (:func:`run`)."""

import sys

from sim.errors import EXIT_INTERRUPTED


def run() -> int:
    """:func:`sim.cli.main`, imported here so that a Ctrl-C while its libraries load (pandas,
    scipy: a second or more) ends the command as a Ctrl-C later does, without a traceback."""
    try:
        from sim.cli import main
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return main()


if __name__ == "__main__":
    raise SystemExit(run())

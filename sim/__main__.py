"""``python -m sim`` is the ``ehsim`` command."""

from sim.cli import main

raise SystemExit(main())

"""``python -m nbjobs``: the ``nbjobs`` command line, for when the script is not on ``PATH``."""

from .client.cli import main

raise SystemExit(main())

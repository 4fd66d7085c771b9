"""``python -m nbjobs``: the ``nbjobs`` command line, for when the script is not on ``PATH``."""

from .cli import main

raise SystemExit(main())

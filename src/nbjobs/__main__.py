"""``python -m nbjobs``: the ``nbjobs`` command line, for when the script is not on ``PATH``."""

import sys

try:
    from .client.cli import main
except KeyboardInterrupt:  # Ctrl+C while it starts: nothing was done yet
    print("nbjobs: interrupted.", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())

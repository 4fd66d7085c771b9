"""Kill a real nbjobs server with SIGKILL at random moments of random jobs, many times, and check
after every restart that no job or output is lost or corrupt (``tests/crash_loop.py`` says what
is checked). Prints the report as JSON; the figures are in ``docs/reliability.md``.

    .venv/bin/python benchmarks/crash_loop.py --rounds 60 --seed 7
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.crash_loop import Loop  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--max-wait", type=float, default=2.0, help="seconds before a kill, at most"
    )
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nbjobs-crash-loop-") as tmp:
        loop = Loop(Path(tmp), seed=args.seed, max_wait=args.max_wait)
        for _ in range(args.rounds):
            loop.one_round()
        report = loop.report()
    report["seconds"] = round(time.monotonic() - started)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

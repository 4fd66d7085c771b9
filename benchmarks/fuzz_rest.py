"""schemathesis over ``docs/openapi.yaml`` against a real server, longer than the test suite's
run (``tests/server/test_fuzz.py``): every check, all four phases, many examples, a new seed each
time unless given. Prints schemathesis' summary; the figures are in ``docs/reliability.md``.

    .venv/bin/python benchmarks/fuzz_rest.py --max-examples 300 --max-time 600
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.jupyter_process import running_server  # noqa: E402
from tests.server.test_fuzz import schemathesis  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=300)
    parser.add_argument("--max-time", type=int, default=600, help="seconds, at most")
    parser.add_argument("--seed", type=int, default=random.randrange(2**32))
    args = parser.parse_args()
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="nbjobs-fuzz-") as tmp,
        running_server(Path(tmp), base_url="/") as server,
    ):
        result = schemathesis(
            f"{server.url}/nbjobs/api",
            server.token,
            "--max-examples",
            str(args.max_examples),
            "--max-time",
            str(args.max_time),
            "--seed",
            str(args.seed),
            timeout=args.max_time + 300,
        )
        tracebacks = server.log_path.read_text().count("Traceback")
    print(result.stdout[-4000:])
    print(f"seed {args.seed}; {time.monotonic() - started:.0f} s; server tracebacks: {tracebacks}")
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()

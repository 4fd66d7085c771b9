"""The ``name`` field alone: names/s of ``normalize_value`` against the nameparser-only path
(``_normalize_slow``) on the same distinct generated names, side by side in one run.

    .venv/bin/python benchmarks/bench_name.py [--names 20000] [--rounds 3] [--seed 1]

Each round times both paths over every name (order alternating between rounds), and checks
they return the same results; the best round of each is reported, as on a shared machine the
slower rounds measure the neighbours.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from contacts import distinct_values, messy_full_name

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import name

Normalize = Callable[[str, dict[str, object]], FieldResult]


def timed(normalize: Normalize, names: list[str]) -> tuple[float, list[FieldResult]]:
    start = time.perf_counter()
    results = [normalize(value, {}) for value in names]
    return time.perf_counter() - start, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    names = distinct_values(messy_full_name, args.names, args.seed)
    paths: dict[str, Normalize] = {
        "nameparser only (_normalize_slow)": name._normalize_slow,
        "with the fast path (normalize_value)": name.normalize_value,
    }
    for normalize in paths.values():  # word lists and vocabulary loaded before timing
        normalize("Jane Roe", {})
    best = dict.fromkeys(paths, float("inf"))
    for round_ in range(args.rounds):
        order = list(paths) if round_ % 2 == 0 else list(paths)[::-1]
        results = {}
        for label in order:
            seconds, results[label] = timed(paths[label], names)
            best[label] = min(best[label], seconds)
        if len({tuple(r) for r in results.values()}) != 1:
            sys.exit("the two paths disagree")
    print(f"{len(names):,} distinct names, {args.rounds} rounds, best round of each")
    for label, seconds in best.items():
        print(f"{label:38} {seconds:6.2f} s  {len(names) / seconds:8,.0f} names/s")
    slow, fast = best.values()
    print(f"speed-up {slow / fast:.2f}x; {nameparser_calls(names):,} values still reach nameparser")


def nameparser_calls(names: list[str]) -> int:
    """How many of ``names`` the fast path leaves to nameparser (counted, not timed)."""
    calls = 0
    parse = name._parse

    def counting(core: str) -> object:
        nonlocal calls
        calls += 1
        return parse(core)

    name._parse = counting  # type: ignore[assignment]
    try:
        for value in names:
            name.normalize_value(value, {})
    finally:
        name._parse = parse
    return calls


if __name__ == "__main__":
    main()

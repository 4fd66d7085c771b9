"""The ``address`` field alone: addresses/s of ``normalize_value`` against the same rules on
``usaddress.tag`` itself (``_normalize_reference``), on the same distinct generated addresses,
side by side in one run.

    .venv/bin/python benchmarks/bench_address.py [--addresses 20000] [--rounds 3] [--seed 1]
        [--before PATH/TO/OLD/address.py]

``--before`` adds a copy of the module from before a change, loaded under another name. Each
round times every path over every address (order rotating between rounds) and checks they
return the same results; the module's caches are emptied before each path (a cold start, as in
a new worker) except for "warm", which runs on the caches the round before it left. The best
round of each is reported, as on a shared machine the slower rounds measure the neighbours.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).parent))

from contacts import distinct_values, messy_address

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import address

Normalize = Callable[[str, dict[str, object]], FieldResult]


def caches(module: ModuleType) -> list[Callable[[], None]]:
    """The ``cache_clear`` of every cached function of ``module`` (its lru_caches)."""
    return [f.cache_clear for f in vars(module).values() if hasattr(f, "cache_clear")]


CACHED = caches(address)


def timed(normalize: Normalize, values: list[str], cold: bool) -> tuple[float, list[FieldResult]]:
    if cold:
        for cache_clear in CACHED:
            cache_clear()
    start = time.perf_counter()
    results = [normalize(value, {}) for value in values]
    return time.perf_counter() - start, results


def load_before(path: str) -> Normalize:
    """``normalize_value`` of the module at ``path``, imported beside the current one."""
    name = f"{address.__package__}._address_before"  # its relative imports resolve
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    CACHED.extend(caches(module))  # emptied too, or it would run warm
    return module.normalize_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--before", help="a copy of address.py from before a change")
    args = parser.parse_args()
    values = distinct_values(messy_address, args.addresses, args.seed)
    paths: dict[str, Normalize] = {
        "usaddress.tag (_normalize_reference)": lambda v, _: address._normalize_reference(v),
        "normalize_value": address.normalize_value,
        "normalize_value, warm caches": address.normalize_value,
    }
    if args.before:
        paths = {"before (--before)": load_before(args.before), **paths}
    for normalize in paths.values():  # the CRF model and word lists loaded before timing
        normalize("123 Main St", {})
    best = dict.fromkeys(paths, float("inf"))
    for round_ in range(args.rounds):
        cold = [label for label in paths if "warm" not in label]
        shift = round_ % len(cold)
        order = [*cold[shift:], *cold[:shift]]
        order.insert(order.index("normalize_value") + 1, "normalize_value, warm caches")
        results = {}
        for label in order:
            seconds, results[label] = timed(paths[label], values, cold="warm" not in label)
            best[label] = min(best[label], seconds)
        if len({tuple(r) for r in results.values()}) != 1:
            sys.exit("the paths disagree")
    print(f"{len(values):,} distinct addresses, {args.rounds} rounds, best round of each")
    for label, seconds in best.items():
        per_value = seconds / len(values) * 1e6
        print(f"{label:38} {seconds:6.2f} s  {per_value:6.1f} µs/address")
    for fast in ("normalize_value", "normalize_value, warm caches"):
        for label, seconds in best.items():
            if "normalize_value" not in label:
                print(f"{fast} is {seconds / best[fast]:.2f}x as fast as {label}")
    timed(address.normalize_value, values, cold=True)
    info = address._token_attributes.cache_info()
    print(f"token cache after one pass: {info.currsize:,} of {info.maxsize:,} entries")


if __name__ == "__main__":
    main()

"""The ``phone``, ``email`` and ``name`` fields alone: values/s of the current modules against a
baseline copy of the same modules (by default as committed at ``HEAD``), side by side in one run
on the same distinct generated values, with the results checked identical.

    .venv/bin/python benchmarks/bench_fields.py [--types phone email name] [--values 20000]
        [--rounds 3] [--seed 1] [--baseline-rev HEAD | --baseline-dir OLD/src]

Each round times both modules over every value (order alternating between rounds) through
``normalize_values`` with the default options, their bounded caches emptied first, and checks
they give the same results; the best round of each is reported, as on a shared machine the
slower rounds measure the neighbours.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).parent))

from contacts import distinct_values, messy_email, messy_full_name, messy_world_phone

from nbjobs.normalization import validate_options
from nbjobs.normalization.fields import email, name, phone

ROOT = Path(__file__).parents[1]
PACKAGE = "nbjobs.normalization.fields"
FIELDS_DIR = "src/nbjobs/normalization/fields"
GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "phone": messy_world_phone,
    "email": messy_email,
    "name": messy_full_name,
}
CURRENT: dict[str, ModuleType] = {"phone": phone, "email": email, "name": name}
# Modules a field imports from its package that are its own (loaded from the baseline too).
OWN_HELPERS = {"name": ("_name_words",)}


def stripped_values(kind: str, count: int, seed: int) -> list[str]:
    """``count`` distinct generated values, stripped as the registry hands them over."""
    make = GENERATORS[kind]
    return distinct_values(lambda rng: make(rng).strip(), count, seed)


def baseline_source(module: str, rev: str | None, directory: Path | None) -> str:
    if directory is not None:
        return (directory / "nbjobs/normalization/fields" / f"{module}.py").read_text()
    show = ["git", "-C", str(ROOT), "show", f"{rev}:{FIELDS_DIR}/{module}.py"]
    return subprocess.run(show, check=True, capture_output=True, text=True).stdout


def load_baseline(kind: str, rev: str | None = "HEAD", directory: Path | None = None) -> ModuleType:
    """The baseline ``kind`` module, imported as ``nbjobs.normalization.fields._baseline_<kind>``
    with its own helper modules (the baseline's, not the current ones) bound while it loads."""
    saved = {}
    try:
        for helper in OWN_HELPERS.get(kind, ()):
            full = f"{PACKAGE}.{helper}"
            saved[full] = sys.modules.get(full)
            sys.modules[full] = _exec_module(
                f"{PACKAGE}._baseline{helper}", baseline_source(helper, rev, directory)
            )
        return _exec_module(f"{PACKAGE}._baseline_{kind}", baseline_source(kind, rev, directory))
    finally:
        for full, module in saved.items():
            if module is None:
                sys.modules.pop(full, None)
            else:
                sys.modules[full] = module


def _exec_module(full_name: str, source: str) -> ModuleType:
    spec = importlib.util.spec_from_loader(full_name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = PACKAGE
    sys.modules[full_name] = module
    exec(compile(source, f"<baseline {full_name}>", "exec"), module.__dict__)
    return module


def clear_caches(module: ModuleType) -> None:
    """Empty the bounded lru_caches of ``module``: each round starts cold, as a new worker does
    on values it has not seen (a later round would otherwise find every value cached)."""
    for function in vars(module).values():
        info = getattr(function, "cache_info", None)
        if info is not None and info().maxsize is not None:
            function.cache_clear()


def bench(kind: str, old: ModuleType, values: list[str], rounds: int) -> tuple[float, float]:
    """Best seconds of (baseline, current) over ``values``; exits if they disagree."""
    options = validate_options(None)
    modules = {"baseline": old, "current": CURRENT[kind]}
    paths = {"baseline": old.normalize_values, "current": CURRENT[kind].normalize_values}
    for normalize in paths.values():  # word lists, metadata and caches of imports warmed
        normalize(values[:50], options)
    best = dict.fromkeys(paths, float("inf"))
    for round_ in range(rounds):
        order = list(paths) if round_ % 2 == 0 else list(paths)[::-1]
        results = {}
        for label in order:
            clear_caches(modules[label])
            start = time.perf_counter()
            results[label] = paths[label](values, options)
            best[label] = min(best[label], time.perf_counter() - start)
        if results["baseline"] != results["current"]:
            sys.exit(f"{kind}: the baseline and current modules disagree")
    return best["baseline"], best["current"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", nargs="+", choices=list(GENERATORS), default=list(GENERATORS))
    parser.add_argument("--values", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-rev", default="HEAD")
    parser.add_argument("--baseline-dir", type=Path, help="a src/ directory to compare against")
    args = parser.parse_args()
    print(f"{args.values:,} distinct values per type, {args.rounds} rounds, best round of each")
    for kind in args.types:
        old = load_baseline(kind, args.baseline_rev, args.baseline_dir)
        values = stripped_values(kind, args.values, args.seed)
        before, after = bench(kind, old, values, args.rounds)
        count = len(values)
        print(
            f"{kind:6} baseline {count / before:8,.0f}/s  current {count / after:8,.0f}/s  "
            f"({before / count * 1e6:5.1f} -> {after / count * 1e6:5.1f} µs/value, "
            f"{before / after:.2f}x)"
        )


if __name__ == "__main__":
    main()

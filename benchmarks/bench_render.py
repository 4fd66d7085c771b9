"""The cost of rendering a batch for the outputs, alone: the job's own step after the engine.

    .venv/bin/python benchmarks/bench_render.py [--rows 10000] [--repeat 20]

Reads ``--rows`` rows of ``bench_million.py``'s six typed columns (one batch, as
``chunk_pool.BATCH_ROWS``) the way a job does, normalizes them once, then times
``chunk_pool.prepare`` with the engine's result ready: the CSV text of all rows and of the
invalid ones, and the Arrow table for Parquet. Prints the best and median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from contacts import TYPED_COLUMNS, add_data_arguments, write_typed_contacts

from nbjobs.normalization import Normalizer
from nbjobs.worker import chunk_pool
from nbjobs.worker.inputs import iter_chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--repeat", type=int, default=20)
    parser.set_defaults(rows=chunk_pool.BATCH_ROWS)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nbjobs-bench-render-") as tmp:
        path = write_typed_contacts(
            Path(tmp) / "contacts.csv", args.rows, seed=args.seed, distinct=args.distinct
        )
        chunk = next(iter_chunks(str(path), "csv", args.rows))
    normalizer = Normalizer(TYPED_COLUMNS, {})
    result = normalizer.normalize_chunk(chunk)
    normalizer.normalize_chunk = lambda _chunk: result  # type: ignore[method-assign]

    seconds = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        prepared = chunk_pool.prepare(normalizer, [chunk], chunk_pool.Rendering("_valid"))
        seconds.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                "rows": len(chunk),
                "columns": result.frame.shape[1],
                "invalid_rows": len(chunk) - prepared.chunks[0][1],
                "csv_bytes": len(prepared.csv) + len(prepared.invalid_csv),
                "best_ms": round(1000 * min(seconds), 1),
                "median_ms": round(1000 * statistics.median(seconds), 1),
            }
        )
    )


if __name__ == "__main__":
    main()

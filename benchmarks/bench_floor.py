"""The floor under a job: what its unavoidable parts cost alone, with no engine around them.

    .venv/bin/python benchmarks/bench_floor.py [--rows 300000] [--distinct 0.1]

On the six-column messy CSV of ``bench_million.py`` (``contacts.write_typed_contacts``), timed
apart, in this process (process time; reading and writing best of ``--repeats``):

- **read**: pyarrow's streaming CSV reader over the file, every column as text, nothing else;
- **parse**: each typed column's distinct values (stripped, as the engine sees them) parsed once
  each by its field type with the compiled backends (``parser_backend="auto"``), the least
  parsing any job of this file must do: per type, and in all (once, cold, as a job's first
  process finds the fields);
- **write**: the job's real output (made once by ``Normalizer``, untimed) written in 10,000-row
  batches by pyarrow's writers alone: the normalized CSV, the invalid rows' CSV, Parquet.

Their sum is the CPU a job of this file needs before any bookkeeping, transfer between processes
or server work; ``rows / (sum / cores)`` the rate it could reach if all of it spread perfectly
over ``--cores``. Beside it, for the same file, ``bench_worker.py`` gives what the job takes.
Results: benchmarks/README.md (issue 17).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from contacts import TYPED_COLUMNS, write_typed_contacts

from nbjobs.normalization import Normalizer, backends, validate_options
from nbjobs.normalization.registry import REGISTRY

BATCH_ROWS = 10_000


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The least process time of ``repeats`` runs of ``work``, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return min(times)


def read_all(path: Path) -> None:
    columns = pa_csv.open_csv(path).schema.names
    convert = pa_csv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string()))
    for _ in pa_csv.open_csv(path, convert_options=convert):
        pass


def write_all(table: pa.Table, invalid: pa.Table, directory: Path) -> None:
    options = pa_csv.WriteOptions(quoting_style="needed")
    with pa_csv.CSVWriter(directory / "out.csv", table.schema, write_options=options) as main:
        for batch in table.to_batches(BATCH_ROWS):
            main.write_batch(batch)
    with pa_csv.CSVWriter(directory / "invalid.csv", invalid.schema, write_options=options) as bad:
        for batch in invalid.to_batches(BATCH_ROWS):
            bad.write_batch(batch)
    with pq.ParquetWriter(directory / "out.parquet", table.schema) as parquet:
        for batch in table.to_batches(BATCH_ROWS):
            parquet.write_batch(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--distinct", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = directory / "contacts.csv"
        write_typed_contacts(path, args.rows, seed=args.seed, distinct=args.distinct)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)

        read_s = best_of(args.repeats, lambda: read_all(path))

        backends.use("auto")
        options = validate_options(None)
        parse_s: dict[str, float] = {}
        distinct: dict[str, int] = {}
        for column, kind in TYPED_COLUMNS.items():
            values = list(dict.fromkeys(frame[column].str.strip()))
            distinct[kind] = len(values)
            field = REGISTRY[kind]
            # Once, cold: a second run would find the fields' own memos of repeated pieces
            # (a name's cleaned core, an address's tokens) full of this file's values.
            parse_s[kind] = best_of(1, lambda f=field, v=values: f.normalize(v, options))

        output = Normalizer(TYPED_COLUMNS).normalize_chunk(frame).frame
        table = pa.Table.from_pandas(output, preserve_index=False)
        invalid = table.filter(pa.array(~output["_valid"].to_numpy()))
        write_s = best_of(args.repeats, lambda: write_all(table, invalid, directory))

    total = read_s + sum(parse_s.values()) + write_s
    print(
        json.dumps(
            {
                "rows": args.rows,
                "distinct": args.distinct,
                "output_columns": table.num_columns,
                "invalid_rows": invalid.num_rows,
                "read_s": round(read_s, 2),
                "parse_s": {kind: round(s, 2) for kind, s in parse_s.items()},
                "distinct_values": distinct,
                "parse_total_s": round(sum(parse_s.values()), 2),
                "write_s": round(write_s, 2),
                "floor_cpu_s": round(total, 2),
                "floor_rows_per_s_on_cores": round(args.rows / (total / args.cores)),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

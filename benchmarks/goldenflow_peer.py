"""The peer's side of bench_engine.py: goldenflow on the same contacts, in its own venv.

Run by bench_engine.py with the peer venv's Python (goldenflow is a benchmark-only dependency,
kept out of nbjobs' environment): reads the Parquet file of contacts, times goldenflow's
in-process transform of the three columns (reading excluded, as for nbjobs), writes what it
produced to a Parquet file for the correctness table, and prints the timing as JSON.

    python goldenflow_peer.py IN.parquet OUT.parquet REPEATS
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version

import polars as pl
from goldenflow import GoldenFlowConfig, TransformSpec, transform_df

# The closest of goldenflow's transforms to what nbjobs' three field types do.
CONFIG = GoldenFlowConfig(
    transforms=[
        TransformSpec(column="name", ops=["strip", "strip_titles", "name_proper"]),
        TransformSpec(column="phone", ops=["strip", "phone_e164"]),
        TransformSpec(column="email", ops=["strip", "email_normalize"]),
    ]
)


def main() -> None:
    source, target, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    frame = pl.read_parquet(source)
    transform_df(frame.head(1000), config=CONFIG)  # imports and first-call setup, untimed
    seconds = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = transform_df(frame, config=CONFIG)
        seconds.append(time.perf_counter() - started)
    assert result is not None
    result.df.write_parquet(target)
    print(
        json.dumps(
            {
                "seconds": min(seconds),
                "rows": frame.height,
                "goldenflow": version("goldenflow"),
                "goldenflow_native": version("goldenflow-native"),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Where a worker's time goes: one job run in this process, without a server.

    .venv/bin/python benchmarks/bench_worker.py [--rows 200000] [--cprofile 25]

Runs ``nbjobs.worker.job.run_job`` (one process: ``processes=1``) on the same messy CSV as
``bench_server.py`` (``--typed``: the six typed columns of ``bench_million.py``) and splits its
wall time between counting the rows, the engine (``Normalizer.normalize_chunk``), rendering the
CSV outputs, writing them, writing the Parquet output, the progress messages and the final
commit; the rest is reading the chunks and converting them to Arrow for Parquet.
The timers wrap those methods for this run only; ``--cprofile N`` prints the N most expensive
functions instead (cProfile roughly doubles the run time, so use it for proportions only).

``--processes N`` (N > 1) runs the job with a pool of N parsing processes instead, and reports
its rate and the CPU of the worker (this process) and of the pool (its descendants), sampled
every 0.05 s, and this process's peak RSS above what it held before the job:

    .venv/bin/python benchmarks/bench_worker.py --typed --rows 1000000 --distinct 0.1 --processes 2
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import pickle
import pstats
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from contacts import (
    COLUMNS,
    TYPED_COLUMNS,
    add_data_arguments,
    write_contacts,
    write_typed_contacts,
)

from nbjobs.normalization import engine
from nbjobs.protocol import Completed, WorkerMessage
from nbjobs.worker import chunk_pool, job, outputs
from nbjobs.worker.settings import WorkerJob, WorkerSettings

spent: Counter[str] = Counter()


def timed(owner: Any, name: str, label: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started

    setattr(owner, name, wrapper)


def time_parsers() -> None:
    """Time each field type's parsing of the values its cache misses (part of the engine)."""
    field_type = sys.modules[engine.Normalizer.__module__].FieldType
    original = field_type.normalize

    def normalize(self: Any, values: Any, options: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, values, options)
        finally:
            parsed[self.name] += time.perf_counter() - started
            parsed_values[self.name] += len(values)

    field_type.normalize = normalize


parsed: Counter[str] = Counter()
parsed_values: Counter[str] = Counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--cprofile", type=int, default=0, metavar="N")
    parser.add_argument(
        "--typed", action="store_true", help="the six typed columns of bench_million.py"
    )
    parser.add_argument("--processes", type=int, default=1, help="pool processes (module doc)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nbjobs-bench-worker-") as tmp:
        write = write_typed_contacts if args.typed else write_contacts
        csv_path = write(
            Path(tmp) / "contacts.csv", args.rows, seed=args.seed, distinct=args.distinct
        )
        work = WorkerJob(1, str(csv_path), "csv", TYPED_COLUMNS if args.typed else COLUMNS, {})
        settings = WorkerSettings(
            output_dir=str(Path(tmp) / "out"),
            chunk_size=args.chunk_size,
            processes=args.processes,
            pool_min_rows=0,
        )
        if args.processes > 1:
            print(json.dumps(pooled(work, settings), indent=2))
            return
        messages: list[WorkerMessage] = []

        def report(message: WorkerMessage) -> None:
            started = time.perf_counter()
            messages.append(message)
            pickle.dumps(message)  # what the real report does before its pipe write
            spent["report (progress messages)"] += time.perf_counter() - started

        if args.cprofile:
            profile = cProfile.Profile()
            profile.runcall(job.run_job, work, settings, report, lambda: False)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.cprofile)
            return

        timed(job, "count_rows", "count rows")
        timed(engine.Normalizer, "normalize_chunk", "engine")
        time_parsers()
        for step in ("_csv_table", "_arrow_csv", "_pandas_csv"):
            timed(chunk_pool, step, "render CSV (main + invalid)")
        timed(outputs._CsvOutput, "append", "write CSV (main + invalid)")
        timed(outputs._ParquetOutput, "append", "write Parquet")
        timed(outputs.Outputs, "commit", "commit (fsync + rename)")
        started = time.perf_counter()
        job.run_job(work, settings, report, lambda: False)
        total = time.perf_counter() - started

    final = completed(messages)
    spent["read chunks + rest"] = total - sum(spent.values())
    result = {
        "rows": final.counts.processed,
        "valid_rows": final.counts.valid,
        "seconds": round(total, 2),
        "rows_per_s": round(final.counts.processed / total),
        "split_s": {label: round(seconds, 2) for label, seconds in spent.items()},
        "split_pct": {label: round(100 * seconds / total, 1) for label, seconds in spent.items()},
        "engine_parsing": {
            kind: {
                "seconds": round(seconds, 2),
                "values_parsed": parsed_values[kind],
                "values_per_s": round(parsed_values[kind] / seconds),
            }
            for kind, seconds in parsed.items()
        },
    }
    print(json.dumps(result, indent=2))


def completed(messages: list[WorkerMessage]) -> Completed:
    final = messages[-1]
    if not isinstance(final, Completed):
        raise RuntimeError(f"the job did not complete: {final}")
    return final


def pooled(work: WorkerJob, settings: WorkerSettings) -> dict[str, Any]:
    """Run ``work`` (with its pool) and report rate, CPU per side and this process's RSS."""
    me = psutil.Process()
    cpu: dict[int, float] = {}
    peak_rss = baseline = me.memory_info().rss
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_rss
        while not stop.is_set():
            for process in [me, *me.children(recursive=True)]:
                try:
                    times = process.cpu_times()
                    cpu[process.pid] = times.user + times.system
                    if process.pid == me.pid:
                        peak_rss = max(peak_rss, process.memory_info().rss)
                except psutil.Error:
                    pass
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    before = sum(me.cpu_times()[:2])
    sampler.start()
    messages: list[WorkerMessage] = []
    started = time.perf_counter()
    job.run_job(work, settings, messages.append, lambda: False)
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    final = completed(messages)
    own = sum(me.cpu_times()[:2]) - before
    return {
        "rows": final.counts.processed,
        "processes": settings.processes,
        "seconds": round(seconds, 2),
        "rows_per_s": round(final.counts.processed / seconds),
        "worker_cpu_s": round(own, 1),
        "pool_cpu_s": round(sum(t for pid, t in cpu.items() if pid != me.pid), 1),
        "worker_peak_rss_growth_mb": round((peak_rss - baseline) / 2**20),
    }


if __name__ == "__main__":
    main()

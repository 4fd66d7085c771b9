"""The Dask executor against the local executor: one big file, same machine, same run.

    .venv/bin/python benchmarks/bench_dask.py --rows 10000000 --big-csv big10m.csv --json out.json

The six-typed-column CSV of ``contacts.write_typed_contacts`` (``--distinct`` 0.01, as the
10M-row memory run of issue 3) goes through a fresh real jupyter-server per executor, submitted
by path and polled over REST until it completes (``bench_million.run_job``):

- ``local``: ``NbJobs.processes_per_job = 2`` (the job's worker and a pool of two);
- ``dask``: ``NbJobs.executor = "dask"`` with ``scheduler_address = "local"``: the server starts
  a ``distributed.LocalCluster`` of ``--workers`` single-threaded worker processes.

Per run: rows/s (POST -> completed seen), CPU of the whole process tree and of the server
process alone (for Dask it appends the parts to the outputs: the serial part on the server),
and peak memory per process of each kind: for Dask the largest worker's RSS and PSS
(``peak_dask_worker_*``), sampled every 0.1 s from ``/proc``. ``dask_overhead`` is the Dask
run's seconds over the local run's, both on the same cores; the outputs of both runs are
compared byte for byte.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench_million import depths, memory_kb, run_job
from contacts import write_typed_contacts


class WorkerSampler:
    """Peak RSS and PSS of each Dask worker process under the server (a process whose command
    line is multiprocessing's spawn, as LocalCluster starts its workers)."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root, self.interval = root, interval
        self.peaks: dict[int, tuple[int, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in depths(self.root):
                if not _is_dask_worker(pid):
                    continue
                rss, pss = memory_kb(pid)
                old = self.peaks.get(pid, (0, 0))
                self.peaks[pid] = (max(old[0], rss), max(old[1], pss))
            self._stop.wait(self.interval)

    def __enter__(self) -> WorkerSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def report(self) -> dict[str, Any]:
        if not self.peaks:
            return {}
        return {
            "dask_workers_seen": len(self.peaks),
            "peak_dask_worker_rss_mb": round(max(rss for rss, _ in self.peaks.values()) / 1024),
            "peak_dask_worker_pss_mb": round(max(pss for _, pss in self.peaks.values()) / 1024),
        }


def _is_dask_worker(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"multiprocessing" in command and b"spawn" in command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--distinct", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers")
    parser.add_argument("--part-rows", type=int, help="DaskExecutor.part_rows (default: its own)")
    parser.add_argument("--big-csv", type=Path, help="write the input here once, then reuse it")
    parser.add_argument("--only", choices=["local", "dask"], help="run one executor")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    csv_path = args.big_csv or workdir / "contacts.csv"
    if not csv_path.exists():
        started = time.time()
        write_typed_contacts(csv_path, args.rows, seed=args.seed, distinct=args.distinct)
        print(f"wrote {csv_path} in {time.time() - started:.0f} s", flush=True)
    report: dict[str, Any] = {
        "machine": {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version()},
        "rows": args.rows,
        "csv_mb": round(csv_path.stat().st_size / 1e6),
        "runs": {},
    }
    options = {
        "local": ["--NbJobs.executor=local"],
        "dask": [
            "--NbJobs.executor=dask",
            "--NbJobs.scheduler_address=local",
            f"--NbJobs.local_workers={args.workers}",
            *([f"--NbJobs.part_rows={args.part_rows}"] if args.part_rows else []),
        ],
    }
    for name in ("local", "dask"):
        if args.only and name != args.only:
            continue
        run = run_job(workdir, csv_path, args.rows, 2, options=options[name], sampler=WorkerSampler)
        outputs = sorted(workdir.glob("server-p2-*/data/outputs"), key=os.path.getmtime)[-1]
        run["outputs"] = str(outputs)
        report["runs"][name] = run
        print(name, json.dumps(run), flush=True)
    runs = report["runs"]
    if len(runs) == 2:
        report["dask_overhead"] = round(runs["dask"]["seconds"] / runs["local"]["seconds"], 2)
        local_out, dask_out = Path(runs["local"]["outputs"]), Path(runs["dask"]["outputs"])
        report["byte_identical"] = all(
            filecmp.cmp(local_out / name, dask_out / name, shallow=False)
            for name in ("1.csv", "1.invalid.csv", "1.parquet")
        )
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

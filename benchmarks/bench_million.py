"""A million rows by six typed columns through a real jupyter-server, and a 10M-row memory run.

    .venv/bin/python benchmarks/bench_million.py --json results.json
    .venv/bin/python benchmarks/bench_million.py --rows 200000 --processes 2,1 --big-rows 0
    .venv/bin/python benchmarks/bench_million.py --rows 300000 --parser-backends auto,reference

For each ``--distinct`` share (default 0.1 and 1.0) it writes the six-column messy CSV of
``contacts.write_typed_contacts`` into the root of a fresh jupyter-server with nbjobs
(``tests.jupyter_process.JupyterProcess``), submits it by path (``POST jobs {"path",
"columns"}``: the server copies it to its inputs, no upload), polls the job over REST until it
completes, and reports rows/s (rows ÷ POST → completed seen), the worker span (the job's
``startedAt`` → ``finishedAt``) and peak memory: every 0.1 s it reads ``/proc`` for the server
and every process under it (the job's worker, its pool's forkserver and pool processes), and
keeps the peak of the summed RSS and of the summed PSS (RSS counts pages the forked processes
share once per process; PSS splits them, so the PSS sum is what the tree really holds).

CPU: the user + system seconds of the server and every process under it during the job
(``/proc/<pid>/stat``); rows per CPU-second depends much less on other load than rows/s.
``server_process_cpu_s`` is the jupyter-server process alone: the cost of receiving progress,
storing it and emitting events (plus copying the input and answering the polls).

``--processes 2,1`` runs each share once per value of ``NbJobs.processes_per_job``, side by
side, so the ratio holds on a loaded machine. The naive baseline (``naive.py``: pandas
``DataFrame.apply`` calling the same libraries per row) runs on the first ``--naive-rows`` rows
of the first file, in this process. ``--big-rows`` (default 10,000,000, at ``--big-distinct``
0.01 so it finishes in minutes; 0 to skip) is the memory run: peak memory must follow the
chunk size, not the file size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from contacts import TYPED_COLUMNS, write_typed_contacts
from naive import naive_normalize_typed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.jupyter_process import JupyterProcess


def descendants(pid: int) -> list[int]:
    return list(depths(pid))


def depths(pid: int) -> dict[int, int]:
    """Every process under ``pid`` with its depth: under the server, 1 is the runner's
    forkserver, 2 a job's worker, 3 its pool's forkserver, 4 the pool processes."""
    found: dict[int, int] = {}
    todo = [(pid, 0)]
    while todo:
        parent, depth = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as file:
                    children = [int(child) for child in file.read().split()]
            except FileNotFoundError:
                continue
            for child in children:
                found.setdefault(child, depth + 1)
                todo.append((child, depth + 1))
    return found


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB; (0, 0) once it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as file:
            for line in file:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return rss, pss


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class TreeSampler:
    """Peak summed RSS and PSS of a process tree and the CPU its processes used (the last
    sample of each, so a process's final 0.1 s is missed), sampled in a thread."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root = root
        self.interval = interval
        self.peak_rss = self.peak_pss = self.peak_processes = 0
        self.peak_worker_rss = 0
        # The job's own processes (worker, pool forkserver, pool processes): depth >= 2.
        self.peak_job_rss = self.peak_job_pss = 0
        self.peak_rss_by_depth: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            tree = {self.root: 0, **depths(self.root)}
            pids = list(tree)
            for pid in pids:
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu_seconds(pid))
            sizes = [memory_kb(pid) for pid in pids]
            job = [size for pid, size in zip(pids, sizes, strict=True) if tree[pid] >= 2]
            self.peak_job_rss = max(self.peak_job_rss, sum(s[0] for s in job))
            self.peak_job_pss = max(self.peak_job_pss, sum(s[1] for s in job))
            for pid, (rss, _) in zip(pids, sizes, strict=True):
                depth = tree[pid]
                self.peak_rss_by_depth[depth] = max(self.peak_rss_by_depth.get(depth, 0), rss)
            rss, pss = sum(s[0] for s in sizes), sum(s[1] for s in sizes)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_worker_rss = max(self.peak_worker_rss, rss - sizes[0][0])
            self.peak_processes = max(self.peak_processes, len(pids))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def iso_seconds(start: str, end: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def run_job(
    workdir: Path,
    csv_path: Path,
    rows: int,
    processes: int,
    cache_size: int | None = None,
    options: list[str] | None = None,
    sampler: Any = None,
) -> dict[str, Any]:
    """One job through a fresh server; ``options``: more of its command line; ``sampler``:
    another ``TreeSampler`` of the server's tree, to report what it measures too."""
    folder = Path(tempfile.mkdtemp(dir=workdir, prefix=f"server-p{processes}-"))
    extra = [
        f"--NbJobs.processes_per_job={processes}",
        *([f"--NbJobs.cache_size={cache_size}"] if cache_size is not None else []),
        f"--NbJobs.max_upload_bytes={1 << 40}",
        "--ServerApp.log_level=WARN",
        *(options or []),
    ]
    server = JupyterProcess(folder, base_url="/", extra=extra)
    server.root_dir.mkdir(parents=True, exist_ok=True)
    os.link(csv_path, server.root_dir / csv_path.name)  # the server copies it to its inputs
    server.start()
    try:
        assert server.proc is not None
        idle_kb = sum(memory_kb(pid)[0] for pid in [server.proc.pid, *descendants(server.proc.pid)])
        start_cpu = {
            pid: cpu_seconds(pid) for pid in [server.proc.pid, *descendants(server.proc.pid)]
        }
        more = sampler(server.proc.pid) if sampler else contextlib.nullcontext()
        with TreeSampler(server.proc.pid) as memory, more:
            sent = time.time()
            response = requests.post(
                f"{server.api}/jobs",
                json={"path": csv_path.name, "columns": TYPED_COLUMNS},
                headers=server.headers,
                timeout=600,
            )
            response.raise_for_status()
            job_id = response.json()["jobId"]
            while True:
                job = requests.get(
                    f"{server.api}/jobs/{job_id}", headers=server.headers, timeout=60
                ).json()
                if job["status"] not in ("queued", "running"):
                    break
                time.sleep(0.25)
            done = time.time()
        if job["status"] != "completed":
            raise RuntimeError(f"job ended {job['status']}: {job.get('errorMessage')}")
        span = iso_seconds(job["startedAt"], job["finishedAt"])
        cpu = sum(used - start_cpu.get(pid, 0.0) for pid, used in memory.cpu.items())
        return {
            **(more.report() if sampler else {}),
            "processes_per_job": processes,
            "cache_size": cache_size,
            "rows": job["processedRows"],
            "valid_rows": job["validRows"],
            "seconds": round(done - sent, 2),
            "rows_per_s": round(rows / (done - sent)),
            "worker_span_s": round(span, 2),
            "worker_rows_per_s": round(rows / span),
            "cpu_s": round(cpu, 1),
            "server_process_cpu_s": round(
                memory.cpu.get(server.proc.pid, 0.0) - start_cpu[server.proc.pid], 2
            ),
            "rows_per_cpu_s": round(rows / cpu),
            "idle_server_rss_mb": round(idle_kb / 1024),
            "peak_rss_sum_mb": round(memory.peak_rss / 1024),
            "peak_pss_sum_mb": round(memory.peak_pss / 1024),
            "peak_rss_under_server_mb": round(memory.peak_worker_rss / 1024),
            "processes_at_peak": memory.peak_processes,
            "peak_job_rss_sum_mb": round(memory.peak_job_rss / 1024),
            "peak_job_pss_sum_mb": round(memory.peak_job_pss / 1024),
            "peak_rss_mb_by_role": {
                role: round(memory.peak_rss_by_depth.get(depth, 0) / 1024)
                for depth, role in enumerate(
                    ("server", "runner forkserver", "worker", "pool forkserver", "pool process")
                )
            },
        }
    finally:
        server.stop()


def distinct_shares(path: Path, rows: int = 200_000) -> dict[str, float]:
    """The measured share of distinct values per typed column, over the first ``rows``."""
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=rows)
    return {column: round(df[column].nunique() / len(df), 3) for column in TYPED_COLUMNS}


def busy_cores() -> float:
    """Cores the machine kept busy over the last second (all processes)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as file:
            fields = [int(v) for v in file.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]

    total0, idle0 = sample()
    time.sleep(1)
    total1, idle1 = sample()
    return round((1 - (idle1 - idle0) / (total1 - total0)) * os.cpu_count(), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--distinct", default="0.1,1.0", help="comma-separated shares")
    parser.add_argument("--processes", default="2", help="processes_per_job values, e.g. 2,1")
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--big-distinct", type=float, default=0.01)
    parser.add_argument(
        "--big-csv", type=Path, help="the big run's file: written if missing, then kept"
    )
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--cache-size", type=int, help="NbJobs.cache_size (default: its own)")
    parser.add_argument("--cache-bytes", type=int, help="NbJobs.cache_bytes (default: its own)")
    parser.add_argument(
        "--parser-backends",
        default="auto",
        help='NbJobs.parser_backend values run side by side, e.g. "auto,reference"',
    )
    args = parser.parse_args()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-million-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cache_bytes = [] if args.cache_bytes is None else [f"--NbJobs.cache_bytes={args.cache_bytes}"]
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": [],
    }

    def log(line: str) -> None:
        print(line, flush=True)

    first_csv: Path | None = None
    for share in (float(s) for s in args.distinct.split(",") if s):
        csv_path = workdir / f"contacts-{args.rows}-{share}.csv"
        started = time.time()
        write_typed_contacts(csv_path, args.rows, seed=args.seed, distinct=share)
        log(
            f"wrote {csv_path.name}: {csv_path.stat().st_size / 1e6:.0f} MB "
            f"in {time.time() - started:.1f} s; distinct {distinct_shares(csv_path)}"
        )
        first_csv = first_csv or csv_path
        for processes in (int(p) for p in args.processes.split(",")):
            for backend in args.parser_backends.split(","):
                busy = busy_cores()
                run = run_job(
                    workdir,
                    csv_path,
                    args.rows,
                    processes,
                    args.cache_size,
                    [f"--NbJobs.parser_backend={backend}", *cache_bytes],
                )
                run.update(distinct=share, busy_cores_before=busy, parser_backend=backend)
                results["runs"].append(run)
                log(json.dumps(run))

    if args.naive_rows and first_csv is not None:
        started, started_cpu = time.perf_counter(), time.process_time()
        valid = naive_normalize_typed(first_csv, args.naive_rows)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - started_cpu
        naive = {
            "rows": args.naive_rows,
            "valid_rows": valid,
            "seconds": round(seconds, 2),
            "rows_per_s": round(args.naive_rows / seconds),
            "cpu_s": round(cpu, 2),
            "rows_per_cpu_s": round(args.naive_rows / cpu),
        }
        results["naive"] = naive
        log(f"naive: {json.dumps(naive)}")

    if args.big_rows:
        csv_path = args.big_csv or workdir / f"contacts-{args.big_rows}-{args.big_distinct}.csv"
        started = time.time()
        if not csv_path.exists():  # a --big-csv file is written once, then reused
            write_typed_contacts(
                csv_path, args.big_rows, seed=args.seed, distinct=args.big_distinct
            )
        log(
            f"using {csv_path.name}: {csv_path.stat().st_size / 1e6:.0f} MB "
            f"in {time.time() - started:.1f} s"
        )
        processes = int(args.processes.split(",")[0])
        big = run_job(workdir, csv_path, args.big_rows, processes, args.cache_size, cache_bytes)
        big.update(distinct=args.big_distinct, csv_mb=round(csv_path.stat().st_size / 1e6))
        results["big"] = big
        log(f"big: {json.dumps(big)}")
        if not args.big_csv:
            csv_path.unlink()

    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

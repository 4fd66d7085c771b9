"""Baseline benchmarks of nbjobs through a real jupyter-server (issue 2).

    .venv/bin/python benchmarks/bench_server.py [--json results.json]

Runs, in one process that plays every client (the server is a subprocess):

1. throughput: a 200,000-row messy contact CSV (3 typed columns + 1 untyped), POSTed to a
   server with the default configuration; rows/s from the POST to ``job:completed`` received
   by a Socket.IO client; also the time to the 201 answer and to the first ``job:progress``.
2. latency: 100 websocket clients of the same user, a job slowed down to a few hundred
   ``job:progress`` events (``chunk_size=100``, ``chunk_delay=0.1``); latency is the client's
   receive time minus the server's emit time, read from the DEBUG line of ``Realtime.emit``.
3. naive: the same 200,000 rows normalized in this process with ``DataFrame.apply(axis=1)``
   over the same libraries, for the ratio.

Loopback only; every wait is bounded. About 2.5 minutes on 2 cores (the naive phase is 1.5).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import socketio
from contacts import COLUMNS, add_data_arguments, write_contacts
from naive import naive_normalize

from nbjobs import protocol

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.jupyter_process import JupyterProcess  # noqa: E402

# --server-gc-probe: a sitecustomize for the server's interpreter that logs every full (gen-2)
# collection, so a latency outlier can be checked against the server's GC pauses.
GC_PROBE = """\
import gc, os, sys, time
_started = [0.0]
def _nbjobs_gc_probe(phase, info):
    if info["generation"] != 2:
        return
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    ms = (time.perf_counter() - _started[0]) * 1000
    sys.stderr.write(f"gcprobe gen2 pid={os.getpid()} {ms:.2f} ms until {time.time():.6f}\\n")
gc.callbacks.append(_nbjobs_gc_probe)
"""
GC_LINE = re.compile(r"gcprobe gen2 pid=(\d+) ([\d.]+) ms until (\d+\.\d+)")
EMIT_LINE = re.compile(r"emit (\S+) job=(\d+) rows=(\S+) at (\d+\.\d+)")
FINALS = {protocol.COMPLETED, protocol.FAILED, protocol.CANCELLED}
JOB_TIMEOUT = 240.0


# -- servers and clients ---------------------------------------------------------------------


@contextlib.contextmanager
def nbjobs_server(
    workdir: Path, name: str, extra: list[str], *, gc_probe: bool = False
) -> Iterator[JupyterProcess]:
    folder = workdir / name
    folder.mkdir()
    saved = os.environ.get("PYTHONPATH")
    if gc_probe:
        (folder / "gcprobe").mkdir()
        (folder / "gcprobe" / "sitecustomize.py").write_text(GC_PROBE)
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder / "gcprobe"), saved]))
    try:
        server = JupyterProcess(folder, base_url="/", extra=extra).start()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    try:
        # The extension warms its worker forkserver after the API answers; wait for it so
        # the first job does not pay for it.
        deadline = time.monotonic() + 60
        while "nbjobs: ready" not in server.log_path.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"nbjobs never became ready; see {server.log_path}")
            time.sleep(0.1)
        yield server
    finally:
        server.stop()


@dataclasses.dataclass
class Received:
    event: str
    job_id: int | None
    rows: int | None
    at: float  # time.time() when the handler ran


class Client:
    """One real Socket.IO client recording every job event with its wall-clock arrival."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[Received] = []
        self.final = asyncio.Event()
        for name in protocol.ALL_EVENTS:
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Any:
        async def record(payload: dict[str, Any]) -> None:
            now = time.time()
            self.received.append(
                Received(name, payload.get("jobId"), payload.get("processedRows"), now)
            )
            if name in FINALS:
                self.final.set()

        return record

    async def connect(self, server: JupyterProcess) -> None:
        await self.sio.connect(
            server.url,
            socketio_path=f"{server.base_url}nbjobs/socket.io",
            transports=["websocket"],
            auth={"token": server.token},
            wait_timeout=20,
        )

    def first(self, event: str) -> float | None:
        return next((r.at for r in self.received if r.event == event), None)


async def connect_clients(server: JupyterProcess, count: int, batch: int = 20) -> list[Client]:
    clients = [Client() for _ in range(count)]
    for start in range(0, count, batch):
        await asyncio.gather(*(c.connect(server) for c in clients[start : start + batch]))
    return clients


async def disconnect_all(clients: list[Client]) -> None:
    await asyncio.gather(*(c.sio.disconnect() for c in clients), return_exceptions=True)


async def submit(
    session: aiohttp.ClientSession, server: JupyterProcess, data: bytes, filename: str
) -> tuple[float, float, dict[str, Any]]:
    """POST a CSV job; returns (time sent, time of the 201, job JSON)."""
    form = aiohttp.FormData()
    form.add_field("columns", json.dumps(COLUMNS))
    form.add_field("file", data, filename=filename, content_type="text/csv")
    sent = time.time()
    async with session.post(f"{server.api}/jobs", data=form, headers=server.headers) as resp:
        body = await resp.json()
        answered = time.time()
        if resp.status != 201:
            raise RuntimeError(f"POST answered {resp.status}: {body}")
    return sent, answered, body


async def get_job(session: aiohttp.ClientSession, server: JupyterProcess, job_id: int) -> dict:
    async with session.get(f"{server.api}/jobs/{job_id}", headers=server.headers) as resp:
        return await resp.json()


class CpuSampler:
    """CPU seconds of the server, its forkserver and its workers over a window, plus what
    else the machine did meanwhile and how this (client) process kept up.

    Workers are sampled every ``interval`` seconds while alive, so a worker's last fraction of
    an interval before it exits is missed (a slight under-count of worker CPU). "Other
    processes" is the machine's busy CPU minus the server tree and this process: anything
    above a few percent means the figures were taken on a shared, busy machine.
    """

    def __init__(self, server_pid: int, interval: float = 0.2) -> None:
        self.server = psutil.Process(server_pid)
        self.interval = interval
        self.start_cpu: dict[int, float] = {}
        self.last_cpu: dict[int, float] = {}
        self.role: dict[int, str] = {}
        self.peak_rss: dict[int, int] = {}
        self.client = psutil.Process()
        self.loop_lag: list[float] = []
        self.gc_pauses: list[tuple[int, float]] = []
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None

    def _processes(self) -> list[psutil.Process]:
        return [self.server, *self.server.children(recursive=True)]

    def _sample(self) -> None:
        for proc in self._processes():
            with contextlib.suppress(psutil.Error):
                with proc.oneshot():
                    times, rss, ppid = proc.cpu_times(), proc.memory_info().rss, proc.ppid()
                cpu = times.user + times.system
                if proc.pid not in self.role:
                    if proc.pid == self.server.pid:
                        self.role[proc.pid] = "server"
                    elif ppid == self.server.pid:
                        self.role[proc.pid] = "server-child"  # forkserver, resource tracker
                    else:
                        self.role[proc.pid] = "worker"
                self.start_cpu.setdefault(
                    proc.pid, cpu if self.role[proc.pid] != "worker" or not self._task else 0.0
                )
                self.last_cpu[proc.pid] = cpu
                self.peak_rss[proc.pid] = max(self.peak_rss.get(proc.pid, 0), rss)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            elapsed = (time.perf_counter() - self._gc_started) * 1000
            self.gc_pauses.append((info["generation"], elapsed))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sample = loop.time() + self.interval
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            self.loop_lag.append((loop.time() - before - 0.01) * 1000)
            if loop.time() >= next_sample:
                self._sample()
                next_sample = loop.time() + self.interval

    @staticmethod
    def _machine_busy() -> float:
        times = psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def _client_cpu(self) -> float:
        times = self.client.cpu_times()
        return times.user + times.system

    def start(self) -> None:
        self._sample()
        self.client_start = self._client_cpu()
        self.machine_start = self._machine_busy()
        self.wall_start = time.monotonic()
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> dict[str, Any]:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        gc.callbacks.remove(self._on_gc)
        self._sample()
        wall = time.monotonic() - self.wall_start
        client = self._client_cpu() - self.client_start
        by_role: Counter[str] = Counter()
        for pid, cpu in self.last_cpu.items():
            by_role[self.role[pid]] += cpu - self.start_cpu[pid]
        others = self._machine_busy() - self.machine_start - sum(by_role.values()) - client
        workers = [pid for pid, role in self.role.items() if role == "worker"]
        full_gc = [ms for generation, ms in self.gc_pauses if generation == 2]
        return {
            "wall_s": round(wall, 3),
            "server_cpu_s": round(by_role["server"], 3),
            "server_cpu_pct": round(100 * by_role["server"] / wall, 1),
            "worker_cpu_s": round(by_role["worker"], 3),
            "worker_peak_rss_mb": round(
                max((self.peak_rss[p] for p in workers), default=0) / 2**20
            ),
            "server_peak_rss_mb": round(self.peak_rss[self.server.pid] / 2**20),
            "client_cpu_pct": round(100 * client / wall, 1),
            "client_loop_lag_ms_p99": round(percentile(self.loop_lag, 99), 2),
            "client_loop_lag_ms_max": round(max(self.loop_lag), 2),
            "client_gc_gen2": len(full_gc),
            "client_gc_max_ms": round(max((ms for _, ms in self.gc_pauses), default=0.0), 2),
            "other_processes_cpu_pct": round(100 * max(others, 0.0) / wall, 1),
        }


def iso_seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]  # nearest-rank


# -- 1 and 2: throughput and time to first progress ------------------------------------------


async def bench_throughput(workdir: Path, csv_path: Path, rows: int) -> dict[str, Any]:
    data = csv_path.read_bytes()
    with nbjobs_server(workdir, "throughput", []) as server:
        client = Client()
        await client.connect(server)
        sampler = CpuSampler(server.proc.pid)  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as session:
            sampler.start()
            sent, answered, job = await submit(session, server, data, csv_path.name)
            await asyncio.wait_for(client.final.wait(), JOB_TIMEOUT)
            cpu = await sampler.stop()
            state = await get_job(session, server, job["jobId"])
        await client.sio.disconnect()
    final = next(r for r in client.received if r.event in FINALS)
    if final.event != protocol.COMPLETED or state["processedRows"] != rows:
        raise RuntimeError(f"job did not complete all rows: {state}")
    first_progress = client.first(protocol.PROGRESS)
    assert first_progress is not None
    end_to_end = final.at - sent
    worker_span = iso_seconds(state["startedAt"], state["finishedAt"])
    return {
        "rows": rows,
        "upload_mb": round(len(data) / 1e6, 1),
        "post_to_201_s": round(answered - sent, 3),
        "post_to_first_progress_s": round(first_progress - sent, 3),
        "post_to_completed_s": round(end_to_end, 3),
        "rows_per_s": round(rows / end_to_end),
        "worker_span_s": worker_span,
        "worker_rows_per_s": round(rows / worker_span) if worker_span else None,
        "valid_rows": state["validRows"],
        "invalid_rows": state["invalidRows"],
        "progress_events": sum(r.event == protocol.PROGRESS for r in client.received),
        **cpu,
    }


# -- 3: event latency with many clients ------------------------------------------------------


def emitted(log_path: Path, job_id: int) -> list[tuple[str, int | None, float]]:
    out = []
    for line in log_path.read_text(errors="replace").splitlines():
        match = EMIT_LINE.search(line)
        if match and int(match[2]) == job_id:
            rows = None if match[3] == "None" else int(match[3])
            out.append((match[1], rows, float(match[4])))
    return out


def server_gc_pauses(log_path: Path, pid: int) -> list[tuple[float, float]]:
    """(start, end) wall-clock times of the server's full collections (``--server-gc-probe``)."""
    pauses = []
    for line in log_path.read_text(errors="replace").splitlines():
        match = GC_LINE.search(line)
        if match and int(match[1]) == pid:
            end = float(match[3])
            pauses.append((end - float(match[2]) / 1000, end))
    return pauses


async def bench_latency(
    workdir: Path,
    csv_path: Path,
    clients_count: int,
    chunk_size: int,
    chunk_delay: float,
    gc_probe: bool = False,
) -> dict[str, Any]:
    data = csv_path.read_bytes()
    rows = data.count(b"\n") - 1
    extra = [
        f"--NbJobs.chunk_size={chunk_size}",
        f"--NbJobs.chunk_delay={chunk_delay}",
        "--NbJobs.log_level=DEBUG",
    ]
    with nbjobs_server(workdir, "latency", extra, gc_probe=gc_probe) as server:
        started = time.monotonic()
        clients = await connect_clients(server, clients_count)
        connect_s = time.monotonic() - started
        # 100 clients make a large heap in this process; its full collections (65-190 ms seen)
        # would stall every client at once and show up as server latency. Freeze what exists.
        gc.collect()
        gc.freeze()
        sampler = CpuSampler(server.proc.pid)  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as session:
            sampler.start()
            _, _, job = await submit(session, server, data, csv_path.name)
            waits = asyncio.gather(*(c.final.wait() for c in clients))
            await asyncio.wait_for(waits, JOB_TIMEOUT)
            cpu = await sampler.stop()
        await disconnect_all(clients)
        gc.unfreeze()
        emits = emitted(server.log_path, job["jobId"])
        gc_pauses = server_gc_pauses(server.log_path, server.proc.pid)  # type: ignore[union-attr]
    if not emits:
        raise RuntimeError("no emit lines in the server log: is Realtime.emit's DEBUG line there?")

    # The n-th emit of (event, rows) is matched to the n-th arrival of the same (event, rows)
    # at each client; a missed event then shows as undelivered, not as a wrong latency.
    emit_times: dict[tuple[str, int | None, int], float] = {}
    seen: Counter[tuple[str, int | None]] = Counter()
    for event, count, at in emits:
        emit_times[(event, count, seen[(event, count)])] = at
        seen[(event, count)] += 1
    latencies: list[float] = []
    arrivals: dict[tuple[str, int | None, int], list[float]] = {}
    for client in clients:
        mine: Counter[tuple[str, int | None]] = Counter()
        for r in client.received:
            if r.job_id != job["jobId"]:
                continue
            key = (r.event, r.rows, mine[(r.event, r.rows)])
            mine[(r.event, r.rows)] += 1
            if key in emit_times:
                latencies.append((r.at - emit_times[key]) * 1000)
                arrivals.setdefault(key, []).append(r.at)
    spreads = [(max(a) - min(a)) * 1000 for a in arrivals.values()]
    expected = len(emits) * clients_count
    worst_key = max(arrivals, key=lambda key: max(arrivals[key]) - emit_times[key])
    order = list(emit_times)
    probe: dict[str, Any] = {}
    if gc_probe:
        first_emit, last_emit = emits[0][2], emits[-1][2]
        during = [(a, b) for a, b in gc_pauses if first_emit <= b and a <= last_emit + 1]
        worst_window = (emit_times[worst_key], max(arrivals[worst_key]))
        probe = {
            "server_gc_gen2_during_job": len(during),
            "server_gc_gen2_ms": [round((b - a) * 1000, 1) for a, b in during],
            "worst_event_overlaps_server_gc": any(
                a <= worst_window[1] and b >= worst_window[0] for a, b in during
            ),
        }
    return {
        **probe,
        "clients": clients_count,
        "rows": rows,
        "chunk_size": chunk_size,
        "chunk_delay_s": chunk_delay,
        "connect_all_s": round(connect_s, 2),
        "events_emitted": len(emits),
        "events_expected": expected,
        "events_delivered": len(latencies),
        "latency_ms_p50": round(statistics.median(latencies), 2),
        "latency_ms_p90": round(percentile(latencies, 90), 2),
        "latency_ms_p99": round(percentile(latencies, 99), 2),
        "latency_ms_max": round(max(latencies), 2),
        "fanout_spread_ms_p50": round(statistics.median(spreads), 2),
        "worst_event": {
            "index": order.index(worst_key),
            "event": worst_key[0],
            "processed_rows": worst_key[1],
            "first_ms": round((min(arrivals[worst_key]) - emit_times[worst_key]) * 1000, 2),
            "last_ms": round((max(arrivals[worst_key]) - emit_times[worst_key]) * 1000, 2),
        },
        "server_cpu_us_per_delivered": round(1e6 * cpu["server_cpu_s"] / max(len(latencies), 1)),
        **cpu,
    }


# -- 4: the naive way, for the ratio ---------------------------------------------------------


def bench_naive(csv_path: Path, rows: int) -> dict[str, Any]:
    me = psutil.Process()
    machine, own = CpuSampler._machine_busy(), sum(me.cpu_times()[:2])
    started = time.perf_counter()
    valid = naive_normalize(csv_path)
    seconds = time.perf_counter() - started
    others = CpuSampler._machine_busy() - machine - (sum(me.cpu_times()[:2]) - own)
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "valid_rows": valid,
        "other_processes_cpu_pct": round(100 * max(others, 0.0) / seconds, 1),
    }


# -- main ------------------------------------------------------------------------------------


def head_csv(source: Path, target: Path, rows: int) -> Path:
    """The first ``rows`` data rows of ``source`` (the generator writes no quoted newlines)."""
    with open(source, encoding="utf-8") as src, open(target, "w", encoding="utf-8") as dst:
        for index, line in enumerate(src):
            if index > rows:
                break
            dst.write(line)
    return target


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    big = write_contacts(
        workdir / "contacts.csv", args.rows, seed=args.seed, distinct=args.distinct
    )
    small = head_csv(big, workdir / "contacts-latency.csv", args.latency_rows)
    results: dict[str, Any] = {
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
        },
        "distinct": args.distinct,
        "generate_s": round(time.perf_counter() - started, 2),
    }
    print(f"data: {args.rows:,} rows in {results['generate_s']} s", flush=True)
    results["throughput"] = await bench_throughput(workdir, big, args.rows)
    print("throughput:", json.dumps(results["throughput"]), flush=True)
    results["latency"] = await bench_latency(
        workdir,
        small,
        args.clients,
        args.latency_chunk_size,
        args.latency_chunk_delay,
        gc_probe=args.server_gc_probe,
    )
    print("latency:", json.dumps(results["latency"]), flush=True)
    if not args.skip_naive:
        results["naive"] = bench_naive(big, args.rows)
        results["naive"]["nbjobs_over_naive"] = round(
            results["throughput"]["rows_per_s"] / results["naive"]["rows_per_s"], 2
        )
        print("naive:", json.dumps(results["naive"]), flush=True)
    results["total_s"] = round(time.perf_counter() - started, 1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--latency-rows", type=int, default=25_000)
    parser.add_argument("--latency-chunk-size", type=int, default=100)
    parser.add_argument("--latency-chunk-delay", type=float, default=0.1)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument(
        "--server-gc-probe",
        action="store_true",
        help="log the latency server's full GC pauses (a sitecustomize; off for the figures)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", type=Path, help="keep data and server logs in this directory")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        results = asyncio.run(run(args, args.keep))
    else:
        with tempfile.TemporaryDirectory(prefix="nbjobs-bench-") as tmp:
            results = asyncio.run(run(args, Path(tmp)))
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

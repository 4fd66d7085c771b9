"""Live events at scale: a real jupyter-server with nbjobs fanning a job's events out to a crowd
of Socket.IO clients, next to a minimal Node socket.io server doing the same fan-out.

    .venv/bin/python benchmarks/bench_fanout.py --scenario fanout,peer --clients 1000
    .venv/bin/python benchmarks/bench_fanout.py --scenario idle --clients 5000
    .venv/bin/python benchmarks/bench_fanout.py --scenario redis --clients 1000

The crowd (``fanout_node/crowd.js``, Node) is light engine.io-v4 websocket clients plus a few
real socket.io-client v4 clients (polling, then websocket); this process adds real
python-socketio clients. A job of 100-row chunks with a 0.1 s pause after each emits about 10
``job:progress`` events a second, each to every client of the one user. Reported:
- emit -> receipt latency p50/p99/max over every delivery (emit time: the server's DEBUG line
  ``emit <event> job=<id> rows=<n> at <epoch>``; receipt: the client's clock, same machine);
- deliveries lost (expected = events x clients - received);
- server CPU microseconds per delivered event (the server process's CPU over the job, which
  includes everything else it did meanwhile, divided by the deliveries);
- server RSS per 1000 connections (RSS after connecting the crowd minus before);
- the event loop's worst lag (nbjobs' own metric, scraped every second) and Jupyter's REST
  latency (``GET /api/status`` and ``/api/contents``, every 50 ms during the job).
``--scenario redis`` runs two server instances on one redis-server (a fresh one of its own) and
one crowd on each, the job on the first; ``idle`` connects the crowd and measures memory, then
checks that every client gets a short job's final event.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import socketio

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.jupyter_process import JupyterProcess, free_port  # noqa: E402
from tests.redis_process import RedisProcess  # noqa: E402

NODE = REPO / "benchmarks" / "fanout_node"
EMIT = re.compile(r"emit (\S+) job=(\d+) rows=(\S+) at (\d+\.\d+)")
FINALS = {"job:completed", "job:failed", "job:cancelled"}


def npm_install() -> None:
    if not (NODE / "node_modules" / "socket.io").is_dir():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE, check=True
        )


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Crowd:
    """``crowd.js`` in a subprocess."""

    def __init__(self, url: str, token: str, clients: int, real: int, out: Path, done: bool):
        env = {**os.environ, **({"DONE": "1"} if done else {})}
        self.out = out
        self.process = subprocess.Popen(
            ["node", str(NODE / "crowd.js"), url, token, str(clients), str(real), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )

    def wait_connected(self, timeout: float) -> float:
        started = time.monotonic()
        assert self.process.stdout is not None
        while time.monotonic() - started < timeout:
            line = self.process.stdout.readline()
            if line.startswith("connected"):
                return time.monotonic() - started
            if not line and self.process.poll() is not None:
                raise RuntimeError("the crowd exited")
        raise RuntimeError("the crowd did not connect in time")

    def finish(self, timeout: float = 60) -> dict[str, Any]:
        if self.process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout if os.environ.get("DONE") else 0.1)
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        return dict(json.loads(self.out.read_text()))


def emitted(log: str, job_id: int | str) -> dict[str, list[float]]:
    """Per (event, rows), the times it was emitted: the final 100% progress repeats the last
    chunk's rows, so a key may come twice."""
    times: dict[str, list[float]] = {}
    for event, job, rows, at in EMIT.findall(log):
        if str(job) == str(job_id):
            key = f"{event} {rows if rows != 'None' else ''}".strip()
            times.setdefault(key, []).append(float(at))
    return times


def latencies(
    arrivals: dict[str, list[float]], emits: dict[str, list[float]], clients: int
) -> list[float]:
    """Each arrival against its emit: with a key emitted twice, the earlier arrivals belong to
    the earlier emit (each client gets both, in order)."""
    found = []
    for key, times in arrivals.items():
        sent = emits.get(key.strip())
        if not sent:
            continue
        for index, at in enumerate(sorted(times)):
            emit = sent[min(index // max(1, clients), len(sent) - 1)]
            found.append((at - emit) * 1000)
    return found


async def emit_seconds(server: JupyterProcess) -> float:
    """nbjobs' own total of time spent handing events to connections (its emit histogram)."""
    async with (
        aiohttp.ClientSession(headers=server.headers) as session,
        session.get(f"{server.url}{server.base_url}metrics") as response,
    ):
        text = await response.text()
    match = re.search(r"^nbjobs_emit_duration_seconds_sum (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def rest_probe(server: JupyterProcess, stop: asyncio.Event) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"status": [], "contents": []}
    async with aiohttp.ClientSession(headers=server.headers) as session:
        while not stop.is_set():
            for name, path in (("status", "api/status"), ("contents", "api/contents")):
                started = time.perf_counter()
                async with session.get(f"{server.url}{server.base_url}{path}") as response:
                    await response.read()
                timings[name].append((time.perf_counter() - started) * 1000)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.05)
    return timings


async def lag_probe(server: JupyterProcess, stop: asyncio.Event) -> list[float]:
    lags = []
    async with aiohttp.ClientSession(headers=server.headers) as session:
        while not stop.is_set():
            async with session.get(f"{server.url}{server.base_url}metrics") as response:
                text = await response.text()
            match = re.search(r"^nbjobs_event_loop_lag_seconds (\S+)$", text, re.M)
            if match:
                lags.append(float(match.group(1)) * 1000)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    return lags


async def python_clients(server: JupyterProcess, count: int) -> list[socketio.AsyncClient]:
    clients = []
    for _ in range(count):
        sio = socketio.AsyncClient(reconnection=False)
        sio.received = []  # type: ignore[attr-defined]
        for name in ("job:progress", *FINALS):
            sio.on(name, lambda payload, name=name, sio=sio: sio.received.append(name))
        await sio.connect(
            server.url,
            socketio_path=f"{server.base_url}nbjobs/socket.io",
            auth={"token": server.token},
            transports=["websocket"],
        )
        clients.append(sio)
    return clients


def server_args(rate: float) -> list[str]:
    return [
        "--NbJobs.chunk_size=100",
        f"--NbJobs.chunk_delay={1 / rate:.4f}",
        "--NbJobs.progress_min_interval=0",
        "--NbJobs.adaptive_progress=False",  # the load: every chunk's event is sent
        "--NbJobs.processes_per_job=1",
        "--NbJobs.log_level=DEBUG",
        "--NbJobs.max_connections_per_user=100000",  # one user watches with every client
        "--NbJobs.max_pending_sessions=100000",
    ]


def contacts(rows: int) -> bytes:
    lines = ["Phone"] + [f"(415) 555-{2000 + i % 7000:04d}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@contextlib.contextmanager
def servers(
    workdir: Path, count: int, extra: list[str], token: str
) -> Iterator[list[JupyterProcess]]:
    started = []
    try:
        for index in range(count):
            server = JupyterProcess(
                workdir / f"server-{index}",
                base_url="/",
                token=token,
                extra=extra,
                data_dir=workdir / "shared-data",
            )
            started.append(server.start())
        yield started
    finally:
        for server in started:
            server.stop()


def measure_fanout(
    args: argparse.Namespace, workdir: Path, instances: int, extra: list[str]
) -> dict[str, Any]:
    token = "bench-token"
    rows = int(args.seconds * args.rate * 100)
    with servers(workdir, instances, server_args(args.rate) + extra, token) as running:
        processes = [psutil.Process(server.proc.pid) for server in running]  # type: ignore[union-attr]
        rss_before = [p.memory_info().rss for p in processes]
        crowds = [
            Crowd(
                f"ws://127.0.0.1:{server.port}/nbjobs/socket.io/",
                token,
                args.clients,
                args.real_js,
                workdir / f"crowd-{i}.json",
                done=False,
            )
            for i, server in enumerate(running)
        ]
        connect_seconds = [crowd.wait_connected(300) for crowd in crowds]
        time.sleep(2)
        rss_after = [p.memory_info().rss for p in processes]

        async def run() -> dict[str, Any]:
            py = await python_clients(running[-1], args.real_py)
            stop = asyncio.Event()
            emit_before = [await emit_seconds(s) for s in running]
            probes = [
                asyncio.ensure_future(rest_probe(s, stop)) for s in running if args.rest_probe
            ]
            lags = [asyncio.ensure_future(lag_probe(s, stop)) for s in running]
            cpu_before = [sum(p.cpu_times()[:2]) for p in processes]
            started = time.monotonic()
            async with aiohttp.ClientSession(headers=running[0].headers) as session:
                form = aiohttp.FormData()
                form.add_field("file", contacts(rows), filename="c.csv", content_type="text/csv")
                form.add_field("columns", json.dumps({"Phone": "phone"}))
                async with session.post(running[0].api + "/jobs", data=form) as response:
                    job_id = (await response.json())["jobId"]
            while not all(any(r in FINALS for r in sio.received) for sio in py):
                await asyncio.sleep(0.1)
                if time.monotonic() - started > args.seconds * 4 + 60:
                    break
            await asyncio.sleep(1.0)  # the crowd's last arrivals
            wall = time.monotonic() - started
            cpu_after = [sum(p.cpu_times()[:2]) for p in processes]
            emit_after = [await emit_seconds(s) for s in running]
            stop.set()
            rest = [await probe for probe in probes]
            lag = [await probe for probe in lags]
            counts = [len(sio.received) for sio in py]
            for sio in py:
                await sio.disconnect()
            return {
                "emit": [a - b for a, b in zip(emit_after, emit_before, strict=True)],
                "job_id": job_id,
                "wall": wall,
                "cpu": [a - b for a, b in zip(cpu_after, cpu_before, strict=False)],
                "rest": rest,
                "lag": lag,
                "py_counts": counts,
            }

        result = asyncio.run(run())
        outcome = [crowd.finish() for crowd in crowds]
        logs = [server.log_path.read_text() for server in running]
    emits: dict[str, list[float]] = {}
    for log in logs:
        for key, times in emitted(log, result["job_id"]).items():
            emits.setdefault(key, []).extend(times)
    events = sum(len(times) for times in emits.values())
    clients_per_instance = args.clients + args.real_js
    expected = events * (clients_per_instance * instances + args.real_py)
    all_latencies: list[float] = []
    received = 0
    for data in outcome:
        received += sum(len(v) for v in data["arrivals"].values())
        all_latencies += latencies(data["arrivals"], emits, clients_per_instance)
    received += sum(result["py_counts"])
    report = {
        "instances": instances,
        "clients_per_instance": clients_per_instance,
        "python_clients": args.real_py,
        "events_emitted": events,
        "events_per_second": round(events / result["wall"], 1),
        "deliveries_expected": expected,
        "deliveries_received": received,
        "lost": expected - received,
        "latency_ms_p50": round(percentile(all_latencies, 0.5), 1),
        "latency_ms_p99": round(percentile(all_latencies, 0.99), 1),
        "latency_ms_max": round(max(all_latencies, default=float("nan")), 1),
        "connect_seconds": [round(s, 1) for s in connect_seconds],
        "rss_mb_per_1000_connections": [
            round((a - b) / 2**20 / (clients_per_instance / 1000), 1)
            for a, b in zip(rss_after, rss_before, strict=False)
        ],
        "loop_lag_ms_max": [round(max(lag, default=0.0), 1) for lag in result["lag"]],
        "rest_status_ms_p50_p99": [
            [round(percentile(r["status"], 0.5), 1), round(percentile(r["status"], 0.99), 1)]
            for r in result["rest"]
        ],
        "rest_contents_ms_p50_p99": [
            [round(percentile(r["contents"], 0.5), 1), round(percentile(r["contents"], 0.99), 1)]
            for r in result["rest"]
        ],
        "real_js_events": [data["realCounts"] for data in outcome],
        "python_events": result["py_counts"],
        "crowd_errors": [data["errors"] for data in outcome],
    }
    per_instance_deliveries = events * clients_per_instance
    report["server_cpu_us_per_delivery"] = [
        round(
            cpu
            * 1e6
            / max(
                1, per_instance_deliveries + (args.real_py if i == instances - 1 else 0) * events
            ),
            1,
        )
        for i, cpu in enumerate(result["cpu"])
    ]
    report["server_cpu_percent"] = [round(100 * cpu / result["wall"], 1) for cpu in result["cpu"]]
    report["fanout_us_per_delivery"] = [
        round(seconds * 1e6 / max(1, per_instance_deliveries), 1) for seconds in result["emit"]
    ]
    return report


def measure_peer(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    token = "bench-token"
    port = free_port()
    events = int(args.seconds * args.rate)
    peer = subprocess.Popen(
        ["node", str(NODE / "peer.js"), str(port), token, str(events), str(args.rate)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert peer.stdout is not None and peer.stdin is not None
    assert peer.stdout.readline().strip() == "listening"
    process = psutil.Process(peer.pid)
    rss_before = process.memory_info().rss
    crowd = Crowd(
        f"ws://127.0.0.1:{port}/socket.io/",
        token,
        args.clients,
        args.real_js,
        workdir / "crowd.json",
        done=False,
    )
    connect_seconds = crowd.wait_connected(300)
    time.sleep(2)
    rss_after = process.memory_info().rss
    cpu_before = sum(process.cpu_times()[:2])
    started = time.monotonic()
    peer.stdin.write("go\n")
    peer.stdin.flush()
    lines = []
    for line in peer.stdout:
        lines.append(line)
        if line.strip() == "done":
            break
    time.sleep(1.0)
    wall = time.monotonic() - started
    cpu = sum(process.cpu_times()[:2]) - cpu_before
    data = crowd.finish()
    peer.terminate()
    emits = emitted("".join(lines), 1)
    clients = args.clients + args.real_js
    expected = sum(len(times) for times in emits.values()) * clients
    received = sum(len(v) for v in data["arrivals"].values())
    found = latencies(data["arrivals"], emits, clients)
    return {
        "peer": "Node socket.io 4.8.4",
        "clients": clients,
        "events_emitted": sum(len(times) for times in emits.values()),
        "deliveries_expected": expected,
        "deliveries_received": received,
        "lost": expected - received,
        "latency_ms_p50": round(percentile(found, 0.5), 1),
        "latency_ms_p99": round(percentile(found, 0.99), 1),
        "latency_ms_max": round(max(found, default=float("nan")), 1),
        "server_cpu_us_per_delivery": round(cpu * 1e6 / max(1, expected), 1),
        "server_cpu_percent": round(100 * cpu / wall, 1),
        "connect_seconds": round(connect_seconds, 1),
        "rss_mb_per_1000_connections": round(
            (rss_after - rss_before) / 2**20 / (clients / 1000), 1
        ),
    }


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    try:
        server = RedisProcess(workdir).start()
    except FileNotFoundError as exc:
        raise SystemExit(str(exc)) from None
    try:
        yield server.url
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario",
        default="fanout",
        help="fanout, peer, idle or redis; several, comma-separated, run one after the other "
        "(fanout,peer: nbjobs and the Node peer side by side in one run)",
    )
    parser.add_argument("--clients", type=int, default=1000, help="light clients per server")
    parser.add_argument(
        "--real-js", type=int, default=5, help="socket.io-client v4 clients per server"
    )
    parser.add_argument("--real-py", type=int, default=5, help="python-socketio clients")
    parser.add_argument("--rate", type=float, default=10.0, help="progress events per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the job emits")
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument(
        "--no-rest-probe",
        dest="rest_probe",
        action="store_false",
        help="leave Jupyter's REST alone (server CPU then counts the fan-out and the job only)",
    )
    args = parser.parse_args()
    npm_install()
    raise_fd_limit()
    scenarios = args.scenario.split(",")
    unknown = set(scenarios) - {"fanout", "peer", "idle", "redis"}
    if unknown:
        parser.error(f"unknown scenario: {', '.join(sorted(unknown))}")
    reports = {name: measure(name, args) for name in scenarios}
    report = reports[scenarios[0]] if len(scenarios) == 1 else reports
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


def measure(scenario: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nbjobs-fanout-") as tmp:
        workdir = Path(tmp)
        if scenario == "peer":
            report = measure_peer(args, workdir)
        elif scenario == "redis":
            with redis_server(workdir) as url:
                report = measure_fanout(args, workdir, 2, [f"--NbJobs.redis_url={url}"])
        elif scenario == "idle":
            # A short job: is every final event delivered?
            seconds, args.seconds = args.seconds, 1.0
            report = measure_fanout(args, workdir, 1, [])
            args.seconds = seconds
        else:
            report = measure_fanout(args, workdir, 1, [])
    report["scenario"] = scenario
    return report


if __name__ == "__main__":
    main()

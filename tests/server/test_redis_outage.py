"""Redis stops for 10 seconds in the middle of a job, then comes back: both servers stay up, the
outage shows in their metrics and logs, events flow again, and a client on the server that did
not run the job ends with the job's right final state (its server catches it up)."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
import socketio

from nbjobs import protocol
from tests.conftest import COLUMNS, contacts_csv
from tests.jupyter_process import JupyterProcess
from tests.redis_process import RedisProcess

pytestmark = pytest.mark.slow


def metric(server: JupyterProcess, name: str) -> float | None:
    text = requests.get(
        f"{server.url}{server.base_url}metrics", headers=server.headers, timeout=5
    ).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def test_a_redis_outage_mid_job_is_survived_and_caught_up(tmp_path):
    try:
        redis = RedisProcess(tmp_path).start()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    args = [f"--NbJobs.redis_url={redis.url}", "--NbJobs.chunk_size=50", "--NbJobs.chunk_delay=0.1"]
    shared = tmp_path / "shared"
    a = JupyterProcess(tmp_path / "a", extra=args, data_dir=shared, token="t0k3n")
    b = JupyterProcess(tmp_path / "b", extra=args, data_dir=shared, token="t0k3n")
    received: list[tuple[str, dict]] = []
    done = threading.Event()
    sio = socketio.Client(reconnection=False)
    try:
        a.start()
        b.start()
        for name in protocol.ALL_EVENTS:
            sio.on(
                name,
                lambda payload, name=name: (
                    received.append((name, payload)),
                    name in (protocol.COMPLETED,) and done.set(),
                ),
            )
        sio.connect(
            b.url,
            socketio_path=f"{b.base_url}nbjobs/socket.io",
            auth={"token": b.token},
            transports=["websocket"],
        )
        response = requests.post(
            f"{a.api}/jobs",
            headers=a.headers,
            timeout=10,
            files={"file": ("c.csv", contacts_csv(2000), "text/csv")},  # 40 chunks, 0.1 s apart
            data={"columns": json.dumps(COLUMNS)},
        )
        job_id = response.json()["jobId"]
        deadline = time.monotonic() + 30
        while not any(n == protocol.PROGRESS and p["jobId"] == job_id for n, p in received):
            assert time.monotonic() < deadline, "no event before the outage"
            time.sleep(0.1)

        redis.stop()
        time.sleep(3)
        assert metric(b, "nbjobs_redis_connected") == 0.0
        assert (metric(b, "nbjobs_redis_errors_total") or 0) > 0
        during = len(received)
        time.sleep(7)  # the job ends meanwhile: its completed event is lost to B's client...
        assert (
            requests.get(f"{a.api}/jobs/{job_id}", headers=a.headers, timeout=5).json()["status"]
            == "completed"
        )
        redis.start()
        assert done.wait(30), received[-3:]  # ...until B, seeing Redis back, catches it up
        assert metric(b, "nbjobs_redis_connected") == 1.0
        final = [p for n, p in received if n == protocol.COMPLETED and p["jobId"] == job_id]
        assert final and final[-1]["processedRows"] == 2000
        assert len(received) > during
        for server in (a, b):  # both still answer
            assert requests.get(f"{server.api}/fields", headers=server.headers, timeout=5).ok
        assert "does not answer" in b.log_path.read_text()
    finally:
        if sio.connected:
            sio.disconnect()
        a.stop()
        b.stop()
        redis.stop()

"""Two server instances behind one Redis: a client on one receives the other's job events."""

from __future__ import annotations

import json
import threading

import pytest
import requests
import socketio

from nbjobs import protocol
from tests.conftest import COLUMNS, contacts_csv
from tests.jupyter_process import JupyterProcess

pytestmark = pytest.mark.slow


def test_events_fan_out_across_instances(tmp_path, redis_url):
    shared = tmp_path / "shared-data"
    args = [f"--NbJobs.redis_url={redis_url}", "--NbJobs.chunk_size=50"]
    a = JupyterProcess(tmp_path / "a", extra=args, data_dir=shared, token="t0k3n").start()
    b = JupyterProcess(tmp_path / "b", extra=args, data_dir=shared, token="t0k3n").start()
    try:
        received: list[tuple[str, dict]] = []
        done = threading.Event()
        sio = socketio.Client(reconnection=False)
        for name in protocol.ALL_EVENTS:
            sio.on(
                name,
                lambda payload, name=name: (
                    received.append((name, payload)),
                    name == protocol.COMPLETED and done.set(),
                ),
            )
        sio.connect(
            b.url,
            socketio_path=f"{b.base_url}nbjobs/socket.io",
            auth={"token": b.token},
            transports=["websocket"],
            wait_timeout=10,
        )
        response = requests.post(
            f"{a.api}/jobs",
            headers=a.headers,
            files={"file": ("c.csv", contacts_csv(300), "text/csv")},
            data={"columns": json.dumps(COLUMNS)},
            timeout=10,
        )
        job_id = response.json()["jobId"]
        assert done.wait(60), received
        sio.disconnect()
        names = [n for n, p in received if p["jobId"] == job_id]
        assert names[-1] == protocol.COMPLETED and protocol.PROGRESS in names
        # the store is shared too: B answers for the job A ran
        job = requests.get(f"{b.api}/jobs/{job_id}", headers=b.headers, timeout=5).json()
        assert job["status"] == "completed" and job["processedRows"] == 300
    finally:
        a.stop()
        b.stop()

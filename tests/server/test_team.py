"""Several servers as one: two real jupyter-servers started with the team configuration of
``docs/deployment/jupyter_server_config.py`` (one PostgreSQL database, one redis-server, one data
directory), two users (alice and bob, as JupyterHub would name them). A job submitted on A is
listed, followed, cancelled and downloaded from B; another user sees nothing of it anywhere; a
crash of A interrupts only A's running job, and B runs the job A had queued. The first runs
with both executors: jobs on each server's machine, and jobs on one Dask cluster."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from nbjobs import protocol
from tests.conftest import COLUMNS, contacts_csv
from tests.dask_cluster import shared_cluster
from tests.jupyter_process import JupyterProcess

from .stores import postgres_database

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).parents[2] / "docs" / "deployment" / "jupyter_server_config.py"
LEASE_SECONDS = 3


class User:
    """One user's REST calls and one live Socket.IO connection, to a given server."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.changed = threading.Condition()
        self.sio: socketio.Client | None = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def listen(self, server: JupyterProcess) -> None:
        sio = socketio.Client(reconnection=False)
        for name in protocol.ALL_EVENTS:
            sio.on(name, self._recorder(name))
        sio.connect(
            server.url,
            socketio_path=f"{server.base_url}nbjobs/socket.io",
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=10,
        )
        self.sio = sio

    def _recorder(self, name: str) -> Callable[[dict[str, Any]], None]:
        def record(payload: dict[str, Any]) -> None:
            with self.changed:
                self.events.append((name, payload))
                self.changed.notify_all()

        return record

    def of(self, job_id: int) -> list[str]:
        return [name for name, payload in self.events if payload["jobId"] == job_id]

    def wait_for(self, job_id: int, event: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while event not in self.of(job_id):
                left = deadline - time.monotonic()
                assert left > 0, f"no {event} for job {job_id}: {self.events}"
                self.changed.wait(left)

    def submit(self, server: JupyterProcess, rows: int) -> int:
        response = requests.post(
            f"{server.api}/jobs",
            headers=self.headers(),
            files={"file": ("contacts.csv", contacts_csv(rows), "text/csv")},
            data={"columns": json.dumps(COLUMNS)},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return int(response.json()["jobId"])

    def get(self, server: JupyterProcess, path: str) -> requests.Response:
        return requests.get(f"{server.api}/{path}", headers=self.headers(), timeout=30)

    def job(self, server: JupyterProcess, job_id: int) -> dict[str, Any]:
        response = self.get(server, f"jobs/{job_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def close(self) -> None:
        if self.sio is not None and self.sio.connected:
            self.sio.disconnect()


def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def executor() -> str:
    return "local"


@pytest.fixture
def team(tmp_path, redis_url, executor) -> Iterator[tuple[JupyterProcess, JupyterProcess]]:
    with postgres_database(tmp_path) as database_url:
        env = {
            "NBJOBS_DATABASE_URL": database_url,
            "NBJOBS_REDIS_URL": redis_url,
            "NBJOBS_DATA_DIR": str(tmp_path / "shared"),
            "NBJOBS_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        if executor == "dask":  # both servers' jobs on one cluster of real processes
            env["NBJOBS_DASK_SCHEDULER"] = shared_cluster().address
        common = [
            f"--config={CONFIG}",
            "--ServerApp.identity_provider_class=tests.conftest.TwoUserIdentityProvider",
        ]
        # A runs one job at a time, slowly enough to watch; B at its defaults.
        slow = ["--NbJobs.max_concurrent_jobs=1", "--NbJobs.chunk_size=50"]
        slow.append("--NbJobs.chunk_delay=0.1")
        # The token the start-up probe sends: alice's, as the IdentityProvider knows no other.
        a = JupyterProcess(tmp_path / "a", extra=[*common, *slow], env=env, token="alice-token")
        b = JupyterProcess(tmp_path / "b", extra=common, env=env, token="alice-token")
        try:
            a.start()
            b.start()
            yield a, b
        finally:
            a.stop()
            b.stop()


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_a_job_submitted_on_one_server_is_everyones_business_on_the_other(team, executor):
    a, b = team
    alice, bob = User("alice-token"), User("bob-token")
    try:
        alice.listen(b)
        bob.listen(b)
        first = alice.submit(a, rows=1000)  # 20 chunks, 0.1 s apart
        second = alice.submit(a, rows=300)  # queued behind it on A

        listed = [job["jobId"] for job in alice.get(b, "jobs").json()["jobs"]]
        assert listed[:2] == [second, first]
        assert bob.get(b, "jobs").json()["jobs"] == []
        assert bob.get(b, f"jobs/{first}").status_code == 404

        alice.wait_for(first, protocol.PROGRESS)  # followed live on B, through Redis
        cancel = requests.post(f"{b.api}/jobs/{first}/cancel", headers=alice.headers(), timeout=30)
        assert cancel.status_code == 202, cancel.text
        alice.wait_for(first, protocol.CANCELLED, timeout=20)  # A stopped it
        assert alice.job(b, first)["status"] == "cancelled"
        assert 0 < alice.job(b, first)["processedRows"] < 1000

        alice.wait_for(second, protocol.COMPLETED)
        from_b = alice.get(b, f"jobs/{second}/output")
        assert from_b.status_code == 200
        assert from_b.content == alice.get(a, f"jobs/{second}/output").content
        assert from_b.content.count(b"\n") == 301
        assert bob.events == []  # nothing of alice's, from either server
    finally:
        alice.close()
        bob.close()


def test_a_crash_interrupts_only_the_dead_servers_job_and_its_queue_runs_elsewhere(team):
    a, b = team
    alice = User("alice-token")
    try:
        alice.listen(b)
        on_b = alice.submit(b, rows=200)
        running = alice.submit(a, rows=2000)  # 40 chunks, 0.1 s apart
        queued = alice.submit(a, rows=300)
        alice.wait_for(running, protocol.PROGRESS)
        alice.wait_for(on_b, protocol.COMPLETED)
        assert alice.job(b, queued)["status"] == "queued"

        a.kill()  # SIGKILL: no shutdown hook runs
        until(
            lambda: alice.job(b, running)["status"] == "interrupted",
            timeout=LEASE_SECONDS * 4,
            what="B to find A dead",
        )
        alice.wait_for(queued, protocol.COMPLETED)  # B took over A's queue
        assert alice.job(b, queued)["processedRows"] == 300
        assert alice.job(b, on_b)["status"] == "completed"  # B's own job untouched
        assert "stopped" in alice.job(b, running)["errorMessage"]
    finally:
        alice.close()

"""The per-kernel connection against real servers: one client, REST errors, transports,
reconnection timing, and the REST re-read after a reconnect."""

from __future__ import annotations

import gc
import itertools
import socket
import threading
import time
from collections.abc import Iterator

import pandas as pd
import pytest
import socketio

import nbjobs
from nbjobs.client import connection
from nbjobs.client.connection import Connection, Reconnection
from nbjobs.client.discovery import parse_server_url
from nbjobs.client.notebook import submit
from nbjobs.exceptions import BadRequest, Conflict, InputError, NotFound
from tests.jupyter_process import JupyterProcess

from .conftest import SLOW_JOBS, contacts, eventually

COLUMNS = {"Phone": "phone", "Email": "email"}


def live_socketio_clients() -> list[socketio.Client]:
    gc.collect()
    return [obj for obj in gc.get_objects() if isinstance(obj, socketio.Client) and obj.connected]


def test_one_connection_however_often_a_cell_runs(conn):
    jobs = [nbjobs.normalize(contacts(50), COLUMNS, display=False) for _ in range(3)]
    assert connection.current() is conn
    assert live_socketio_clients() == [conn.sio]
    assert len(conn.sio.handlers["/"]) == 7  # 4 job events + connect, disconnect, gave up
    for job in jobs:
        assert job.wait(30).status == "completed"
        assert conn.job(job.info) is job  # one Job object per job id
    assert live_socketio_clients() == [conn.sio]


def test_results_and_errors_come_from_the_server(conn, tmp_path):
    job = nbjobs.normalize(contacts(200), COLUMNS, display=False)
    frame = job.result(timeout=30)
    assert len(frame) == 200 and frame["Phone_normalized"].iloc[0] == "+14155552000"
    assert len(job.invalid_rows()) == 20
    assert job.refresh().info["validRows"] == 180
    assert job.info["outputFileUrl"] == f"/a%40b/nbjobs/api/jobs/{job.id}/output"

    csv_path = tmp_path / "people.csv"
    contacts(30).to_csv(csv_path, index=False)
    parquet_path = tmp_path / "people.parquet"
    contacts(40).to_parquet(parquet_path)
    for path, rows in ((csv_path, 30), (parquet_path, 40)):
        from_file = nbjobs.normalize(str(path), COLUMNS, display=False)
        assert from_file.info["inputName"] == path.name
        assert len(from_file.result(timeout=30)) == rows

    with pytest.raises(BadRequest, match='Column "Nope" is not in the input'):
        nbjobs.normalize(contacts(5), {"Nope": "phone"}, display=False)
    with pytest.raises(BadRequest, match='Unknown field type "bogus"'):
        nbjobs.normalize(contacts(5), {"Phone": "bogus"}, display=False)
    with pytest.raises(InputError, match="No such file"):
        nbjobs.normalize(str(tmp_path / "missing.csv"), COLUMNS, display=False)
    with pytest.raises(Conflict, match="completed"):
        job.cancel()
    with pytest.raises(NotFound):
        conn.get_json("jobs", 999_999)


def test_wait_times_out(conn):
    job = nbjobs.normalize(contacts(20_000), COLUMNS, display=False)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=f"Job #{job.id} is still"):
        job.wait(timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 2
    job.cancel().wait(30)


class WebsocketBlockingProxy:
    """A TCP proxy that refuses websocket upgrades, as some corporate proxies do."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refused = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        first = client.recv(65536)
        if b"upgrade: websocket" in first.lower():
            self.refused += 1
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        upstream.sendall(first)

        def pipe(source: socket.socket, sink: socket.socket) -> None:
            try:
                while data := source.recv(65536):
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                sink.close()

        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)


def test_falls_back_to_polling_when_websockets_are_refused(server):
    proxy = WebsocketBlockingProxy(server.port)
    info = parse_server_url(f"http://127.0.0.1:{proxy.port}{server.base_url}", server.token)
    conn = Connection(info)
    try:
        assert conn.ensure_live() and conn.transport == "polling" and proxy.refused == 1
        job = submit(conn, contacts(300), COLUMNS)
        progress: list[int] = []
        job.subscribe(lambda j: progress.append(j.info.get("progress", 0)))
        assert job.wait(30).status == "completed"
        assert any(0 < p < 100 for p in progress)  # events arrived over long-polling
    finally:
        conn.close()


# -- reconnection ------------------------------------------------------------------------------


def test_production_reconnection_schedule():
    schedule = Reconnection()
    assert schedule.gaps() == [1, 2, 4, 8, 16]
    conn = Connection(parse_server_url("http://127.0.0.1:9/", "t"))
    sio = conn._new_client()
    assert (sio.reconnection, sio.reconnection_attempts, sio.reconnection_delay) == (True, 5, 1)
    assert (sio.reconnection_delay_max, sio.randomization_factor) == (16, 0)
    conn.close()


class AttemptRecorder:
    """Listens where the server was and records when reconnect attempts arrive."""

    def __init__(self, port: int) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen()
        self.times: list[float] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.times.append(time.monotonic())
            client.close()  # the attempt fails, as against a dead server

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def own_server(tmp_path) -> Iterator[JupyterProcess]:
    process = JupyterProcess(tmp_path, extra=SLOW_JOBS).start()
    yield process
    process.stop()


def measure_reconnect_attempts(process: JupyterProcess, schedule: Reconnection) -> None:
    info = parse_server_url(process.url + process.base_url, process.token)
    conn = Connection(info, reconnection=schedule)
    try:
        assert conn.ensure_live()
        job = submit(conn, contacts(20_000), COLUMNS)
        widget = job.widget
        eventually(lambda: "Live" in widget.badge.value)
        went_offline: list[float] = []
        job.subscribe(lambda j: went_offline.append(time.monotonic()) if not j.live else None)
        process.kill()
        recorder = AttemptRecorder(process.port)
        total = sum(schedule.gaps())
        eventually(lambda: conn.state == "offline", timeout=total + 10, what="giving up")
        time.sleep(schedule.gaps()[-1] / 2)  # no sixth attempt
        recorder.close()
        attempts = [went_offline[0], *recorder.times]
        gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
        assert len(gaps) == schedule.attempts, gaps
        for measured, planned in zip(gaps, schedule.gaps(), strict=True):
            assert planned - 0.05 <= measured <= planned + 0.5, (gaps, schedule.gaps())
        assert "Offline" in widget.badge.value
    finally:
        conn.close()


def test_reconnect_attempts_follow_the_schedule(own_server):
    # Scaled down, with the cap reached; the first gap leaves time to listen on the port.
    measure_reconnect_attempts(own_server, Reconnection(attempts=4, delay=0.5, delay_max=2))


@pytest.mark.slow
def test_reconnect_attempts_at_1_2_4_8_16_seconds(own_server):
    measure_reconnect_attempts(own_server, Reconnection())


def test_after_a_reconnect_jobs_reread_their_state(own_server, tmp_path):
    """The server dies mid-job and comes back: the job ended interrupted while we were away,
    and the catch-up at the reconnect says so (the job is in the followed ids we send)."""
    info = parse_server_url(own_server.url + own_server.base_url, own_server.token)
    conn = Connection(info, reconnection=Reconnection(attempts=30, delay=0.5, delay_max=0.5))
    restarted = JupyterProcess(
        tmp_path,
        port=own_server.port,
        token=own_server.token,
        data_dir=own_server.data_dir,
        extra=SLOW_JOBS,
    )
    try:
        assert conn.ensure_live()
        job = submit(conn, contacts(20_000), COLUMNS)
        widget = job.widget
        eventually(lambda: job.info["processedRows"] >= 200, what="progress")
        own_server.kill()
        eventually(lambda: "Offline" in widget.badge.value, what="offline badge")
        restarted.start()
        eventually(lambda: job.status == "interrupted", timeout=30, what="REST re-read")
        assert "Live" in widget.badge.value
        assert widget.bar.style.bar_color is not None and "interrupted" in widget.title.value
    finally:
        conn.close()
        restarted.stop()


def test_a_mixed_type_dataframe_goes_as_text(conn):
    frame = pd.DataFrame({"Phone": [4155552671, "(415) 555-2671", None], 7: [1, "x", 2.5]})
    result = nbjobs.normalize(frame, {"Phone": "phone"}, display=False).result(timeout=30)
    assert list(result["Phone_normalized"][:2]) == ["+14155552671"] * 2
    assert list(result["7"]) == ["1", "x", "2.5"]


def test_without_columns_the_server_detects_them(conn):
    job = nbjobs.normalize(contacts(100), display=False)
    assert job.info["columns"] == {"Full Name": "name", "Phone": "phone", "Email": "email"}
    frame = job.result(timeout=30)
    assert frame["Email_normalized"].iloc[0] == "Person.0@example.com"

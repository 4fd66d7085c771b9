"""Shared fixtures: a real jupyter-server with nbjobs (pytest-jupyter, base_url "/a%40b/"),
real Socket.IO clients over loopback, and helpers to submit jobs."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
import socketio
from jupyter_server.auth.identity import IdentityProvider, User
from urllib3.filepost import encode_multipart_formdata

from nbjobs import protocol

pytest_plugins = ["pytest_jupyter.jupyter_server"]

TOKENS = {"alice-token": "alice", "bob-token": "bob"}


class TwoUserIdentityProvider(IdentityProvider):
    """Maps two tokens to two users, the way JupyterHub maps its tokens to hub users."""

    def get_user(self, handler: Any) -> User | None:
        token = self.get_token(handler)
        if token in TOKENS:
            handler._token_authenticated = True
            return User(TOKENS[token])
        return None


@pytest.fixture
def nbjobs_config(request, tmp_path) -> dict[str, Any]:
    """``c.NbJobs`` for the test server; ``@pytest.mark.nbjobs_config(chunk_size=...)`` adds
    to it (the server starts before the test body runs, so the body is too late)."""
    config: dict[str, Any] = {"data_dir": str(tmp_path / "nbjobs-data"), "chunk_size": 100}
    for marker in reversed(list(request.node.iter_markers("nbjobs_config"))):
        config.update(marker.kwargs)
    return config


@pytest.fixture
def jp_server_config(nbjobs_config):
    return {
        "ServerApp": {"jpserver_extensions": {"nbjobs": True}},
        "NbJobs": nbjobs_config,
    }


@pytest.fixture
def server_token(jp_serverapp) -> str:
    return jp_serverapp.identity_provider.token


@pytest.fixture
def server_url(jp_serverapp, http_server, jp_http_port) -> str:
    """The test server's root URL; depending on ``http_server`` makes it listen."""
    return f"http://127.0.0.1:{jp_http_port}"


FIRST = ["dr. jane", "JOHN", "maría josé", "li", "o'brien", "anne-marie", "Kenji"]
LAST = ["doe", "SMITH", "garcía", "mcdonald", "van der berg", "wei"]


def contacts_csv(rows: int, *, bad_every: int = 10) -> bytes:
    """A messy contact list; every ``bad_every``-th row has an invalid phone and email."""
    lines = ["Full Name,Phone,Email,Note"]
    for i in range(rows):
        if bad_every and i % bad_every == bad_every - 1:
            phone, email = "12", f"broken{i}@"
        else:
            phone, email = f"(415) 555-{2000 + i % 7000:04d}", f"Person.{i}@Example.COM"
        name = f"{FIRST[i % len(FIRST)]}   {LAST[(i // 7) % len(LAST)]}"
        lines.append(f'"{name}",{phone},{email},"row {i}, ok"')
    return ("\n".join(lines) + "\n").encode()


def multipart(
    data: bytes,
    columns: dict[str, str] | str,
    *,
    filename: str = "contacts.csv",
    content_type: str = "text/csv",
    options: dict[str, Any] | None = None,
) -> tuple[bytes, dict[str, str]]:
    fields: dict[str, Any] = {
        "columns": columns if isinstance(columns, str) else json.dumps(columns),
        "file": (filename, data, content_type),
    }
    if options is not None:
        fields["options"] = json.dumps(options)
    body, ctype = encode_multipart_formdata(fields)
    return body, {"Content-Type": ctype}


COLUMNS = {"Full Name": "name", "Phone": "phone", "Email": "email"}


@pytest.fixture
def submit(jp_fetch) -> Callable[..., Any]:
    """POST a CSV job; returns the tornado response (``raise_error=False``)."""

    async def _submit(
        data: bytes, columns: dict[str, str] | str = COLUMNS, *, headers: dict | None = None, **kw
    ):
        body, extra = multipart(data, columns, **kw)
        return await jp_fetch(
            "nbjobs",
            "api",
            "jobs",
            method="POST",
            body=body,
            headers={**extra, **(headers or {})},
            raise_error=False,
        )

    return _submit


class EventRecorder:
    """Collects every job event a real Socket.IO client receives, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._changed = asyncio.Event()

    def attach(self, sio: socketio.AsyncClient) -> None:
        for name in protocol.ALL_EVENTS:
            sio.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Callable[[dict[str, Any]], Any]:
        async def record(payload: dict[str, Any]) -> None:
            self.events.append((name, payload))
            self._changed.set()

        return record

    def for_job(self, job_id: int) -> list[tuple[str, dict[str, Any]]]:
        return [(n, p) for n, p in self.events if p.get("jobId") == job_id]

    async def wait_final(self, job_id: int, timeout: float = 60) -> tuple[str, dict[str, Any]]:
        finals = {protocol.COMPLETED, protocol.FAILED, protocol.CANCELLED}

        async def until() -> tuple[str, dict[str, Any]]:
            while True:
                for name, payload in self.for_job(job_id):
                    if name in finals:
                        return name, payload
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(until(), timeout)

    async def wait_for(self, predicate: Callable[[str, dict], bool], timeout: float = 30) -> None:
        async def until() -> None:
            while not any(predicate(n, p) for n, p in self.events):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)


@pytest.fixture
def connect_client(server_url, jp_base_url, jp_asyncio_loop):
    """Open real Socket.IO clients; all are disconnected at teardown."""
    clients: list[socketio.AsyncClient] = []

    async def _connect(
        *,
        token: str | None = None,
        transports: list[str] | None = None,
        headers: dict[str, str] | None = None,
        auth: Any = None,
        url: str | None = None,
    ) -> tuple[socketio.AsyncClient, EventRecorder]:
        sio = socketio.AsyncClient(reconnection=False)
        recorder = EventRecorder()
        recorder.attach(sio)
        clients.append(sio)
        await sio.connect(
            url or server_url,
            socketio_path=f"{jp_base_url}nbjobs/socket.io",
            transports=transports or ["websocket"],
            headers=headers or {},
            auth=auth if auth is not None else ({"token": token} if token else None),
            wait_timeout=10,
        )
        return sio, recorder

    yield _connect

    async def close_all() -> None:
        for sio in clients:
            if sio.connected:
                await sio.disconnect()

    jp_asyncio_loop.run_until_complete(close_all())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """With NBJOBS_NO_SKIPS set (``.ci/run`` sets it), a skipped test fails: CI installs
    redis-server, Chromium and Playwright, so a skip there means a missing part, not a pass."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("NBJOBS_NO_SKIPS") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped, but NBJOBS_NO_SKIPS is set: {reason}"

"""The fast delivery path (``nbjobs.server.fanout``): every internal of python-engineio,
python-socketio, tornado and asyncio it relies on is pinned here, so an upgrade that changes one
fails loudly; and stock clients on both transports (python-socketio, and socket.io-client v4 in
Node) still receive every event, in order, exactly once, whether delivered straight to their
websocket or through engine.io's queue."""

from __future__ import annotations

import asyncio
import inspect
import json
import shutil
import subprocess
from pathlib import Path

import engineio
import pytest
import socketio
import tornado.websocket
from prometheus_client import REGISTRY
from socketio.async_pubsub_manager import AsyncPubSubManager

from nbjobs import protocol
from nbjobs.server import fanout
from nbjobs.server.realtime import user_room
from tests.conftest import contacts_csv

NODE = Path(__file__).parents[2] / "benchmarks" / "fanout_node"


def delivered(path: str) -> float:
    return REGISTRY.get_sample_value("nbjobs_event_deliveries_total", {"path": path}) or 0.0


# -- the internals, pinned -------------------------------------------------------------------


def test_the_engineio_internals_it_relies_on_are_there():
    # The flags that say whether a connection is on websocket (the transport's own internals
    # are pinned in test_transport.py).
    for flag in ("upgraded", "closing", "closed", "queue"):
        assert flag in inspect.getsource(engineio.base_socket.BaseSocket.__init__)
    assert hasattr(socketio.AsyncServer, "_send_eio_packet")
    assert "self.server._send_eio_packet(" in inspect.getsource(socketio.AsyncManager.emit)
    assert "self.stream" in inspect.getsource(tornado.websocket.WebSocketProtocol13)
    assert "ws_connection" in inspect.getsource(tornado.websocket.WebSocketHandler)


class Stream:
    """What tornado's frame writer writes to, kept."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


def test_the_frame_is_what_tornado_writes():
    # tornado's own framing of a server text message, without compression, for three sizes.
    for text in ('42["job:progress",{}]', "x" * 200, "y" * 70_000):
        protocol13 = tornado.websocket.WebSocketProtocol13.__new__(
            tornado.websocket.WebSocketProtocol13
        )
        protocol13.mask_outgoing = False
        protocol13._compressor = None
        protocol13._wire_bytes_out = 0
        protocol13.stream = Stream()
        protocol13._write_frame(True, 0x1, text.encode())
        assert b"".join(protocol13.stream.written) == fanout.websocket_frame(text)


def test_the_redis_manager_hands_local_delivery_to_fast_delivery():
    mro = fanout.FastRedisManager.__mro__
    assert mro.index(AsyncPubSubManager) < mro.index(fanout.FastDelivery)
    assert mro.index(fanout.FastDelivery) < mro.index(socketio.AsyncManager)
    assert "await super().emit(" in inspect.getsource(AsyncPubSubManager._handle_emit)


# -- stock clients still get every event ----------------------------------------------------


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_python_clients_get_every_event_in_order(
    transport, connect_client, server_token, jp_serverapp
):
    realtime = jp_serverapp.web_app.settings["nbjobs"].realtime
    _, recorder = await connect_client(token=server_token, transports=[transport])
    direct_before, queued_before = delivered("direct"), delivered("queued")
    owner = next(iter(realtime._clients.values()))
    for n in range(300):
        payload = {
            "jobId": 1,
            "processedRows": n,
            "validRows": n,
            "invalidRows": 0,
            "totalRows": 300,
            "progress": n // 3,
        }
        await realtime.emit(protocol.PROGRESS, payload, owner=owner)
        if n % 50 == 0:
            await asyncio.sleep(0)  # let writers and the client run now and then
    await recorder.wait_for(lambda name, p: p["processedRows"] == 299, timeout=30)
    rows = [p["processedRows"] for name, p in recorder.events]
    assert rows == list(range(300))  # every one, once, in order
    if transport == "websocket":
        assert delivered("direct") - direct_before > 0  # the fast path was taken
    else:
        assert delivered("queued") - queued_before == 300
    assert user_room(owner).startswith("user:")


@pytest.fixture(scope="module")
def node_clients():
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for socket.io-client (.ci/run installs them)")
    if not (NODE / "node_modules" / "socket.io-client").is_dir():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE, check=True
        )
    return NODE / "crowd.js"


async def test_socket_io_client_in_node_gets_every_event(
    node_clients, server_url, jp_base_url, server_token, submit, tmp_path
):
    out = tmp_path / "crowd.json"
    url = f"ws://{server_url.removeprefix('http://')}{jp_base_url}nbjobs/socket.io/"
    crowd = await asyncio.create_subprocess_exec(
        "node",
        str(node_clients),
        url,
        server_token,
        "2",
        "2",
        str(out),
        stdout=asyncio.subprocess.PIPE,
        env={"DONE": "1", "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    line = await asyncio.wait_for(crowd.stdout.readline(), 60)
    assert line.decode().startswith("connected 4"), line
    response = await submit(contacts_csv(500))
    assert response.code == 201
    await asyncio.wait_for(crowd.wait(), 120)
    result = json.loads(out.read_text())
    arrivals = result["arrivals"]
    completed = [key for key in arrivals if key.startswith(protocol.COMPLETED)]
    assert len(completed) == 1 and len(arrivals[completed[0]]) == 4  # every client, once
    progress = {key: times for key, times in arrivals.items() if key.startswith(protocol.PROGRESS)}
    assert progress and all(len(times) == 4 for times in progress.values())
    assert all(count >= len(progress) + 1 for count in result["realCounts"])  # the JS clients
    assert result["errors"] == 0

"""The pushed websocket transport (``nbjobs.server.transport``): the engine.io internals it relies
on, pinned so an upgrade that changes one fails loudly; its queue against ``asyncio.Queue``'s
behaviour; and, through a real server and real clients, that an idle websocket holds no task
of engine.io's, that both ways onto a websocket (direct, and upgraded from long-polling) carry
events both ways, and that every way a connection ends leaves no session behind."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import os
import struct

import aiohttp
import engineio
import pytest
from engineio import async_socket, base_socket
from engineio.async_drivers import tornado as eio_tornado
from tornado.httputil import HTTPHeaders, HTTPServerRequest

from nbjobs import protocol
from nbjobs.server import transport
from nbjobs.server.transport import LeanQueue

# -- the internals, pinned -------------------------------------------------------------------


def test_the_engineio_internals_it_relies_on_are_there():
    socket_source = inspect.getsource(async_socket.AsyncSocket)
    # The websocket driver comes from the server's driver table and gets the socket's bound
    # handler; a new socket's queue comes from the server's create_queue.
    assert "self.server._async['websocket'](" in socket_source
    assert "self._websocket_handler, self.server" in socket_source
    assert "self.server.create_queue()" in inspect.getsource(base_socket.BaseSocket.__init__)
    for flag in ("connected", "upgrading", "upgraded", "closing", "closed"):
        assert f"self.{flag} = False" in inspect.getsource(base_socket.BaseSocket.__init__)
    # What the socket does with the queue: poll takes with get/get_nowait and marks done, a
    # None means "no more", close waits with join.
    poll = inspect.getsource(async_socket.AsyncSocket.poll)
    assert "self.queue.get()" in poll and "self.queue.task_done()" in poll
    assert "self.queue.get_nowait()" in poll and "self.queue.put_nowait(None)" in poll
    assert "await self.queue.join()" in inspect.getsource(async_socket.AsyncSocket.close)
    assert "await self.queue.put(pkt)" in inspect.getsource(async_socket.AsyncSocket.send)
    # The driver table's keys, and the stock tornado handler's receive queue made in __init__.
    server = engineio.AsyncServer(async_mode="tornado")
    assert {"websocket", "translate_request", "make_response"} <= set(server._async)
    assert "self.receive_queue = asyncio.Queue()" in inspect.getsource(
        eio_tornado.get_tornado_handler(server)
    )


def test_the_environ_is_the_stock_drivers():
    request = HTTPServerRequest(
        method="GET",
        uri="/nbjobs/socket.io/?EIO=4&transport=websocket",
        version="HTTP/1.1",
        headers=HTTPHeaders(
            {
                "Host": "127.0.0.1",
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Content-Type": "text/plain",
                "Content-Length": "3",
                "X-Forwarded-Proto": "https",
            }
        ),
        body=b"abc",
    )

    class Handler:
        pass

    handler = Handler()
    handler.request = request  # type: ignore[attr-defined]
    ours, stock = transport.translate_request(handler), eio_tornado.translate_request(handler)
    ours_input, stock_input = ours.pop("wsgi.input"), stock.pop("wsgi.input")
    assert ours == stock
    assert asyncio.run(ours_input.read(2)) == asyncio.run(stock_input.read(2)) == b"ab"
    assert asyncio.run(ours_input.read()) == asyncio.run(stock_input.read()) == b"c"


# -- the queue, against asyncio.Queue --------------------------------------------------------


@pytest.mark.parametrize("make", [LeanQueue, asyncio.Queue])
async def test_the_queue_behaves_as_asyncio_queue(make):
    queue = make()
    assert queue.empty() and queue.qsize() == 0
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()
    # A getter waits for the put, items come out in order.
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    await queue.put(1)
    queue.put_nowait(2)
    assert await getter == 1 and queue.get_nowait() == 2
    # A getter cancelled by a timeout takes nothing with it.
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)
    queue.put_nowait(3)
    assert await asyncio.wait_for(queue.get(), 1) == 3
    # join waits for every put to be marked done, and no more dones than puts.
    joined = asyncio.ensure_future(queue.join())
    await asyncio.sleep(0)
    assert not joined.done()
    for _ in range(3):
        queue.task_done()
    await asyncio.wait_for(joined, 1)
    with pytest.raises(ValueError):
        queue.task_done()
    await asyncio.wait_for(queue.join(), 1)  # nothing unfinished: at once


async def test_a_getter_woken_and_cancelled_at_once_passes_the_item_on():
    queue = LeanQueue()
    first = asyncio.ensure_future(queue.get())
    second = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("item")  # wakes the first getter ...
    first.cancel()  # ... which is cancelled before it runs
    assert await asyncio.wait_for(second, 1) == "item"


async def test_the_listener_hears_every_put():
    queue = LeanQueue()
    heard: list[int] = []
    queue.listener = lambda: heard.append(queue.qsize())
    queue.put_nowait("a")
    await queue.put("b")
    assert heard == [1, 2] and queue.unfinished == 2


# -- through a real server -------------------------------------------------------------------


def engineio_tasks() -> list[str]:
    """The names of the coroutines of running tasks that engine.io's stock websocket path
    would keep per connection."""
    stock = ("_websocket_handler", "writer", "websocket_wait", "handle_request")
    names = [task.get_coro().__qualname__ for task in asyncio.all_tasks()]  # type: ignore[union-attr]
    return [name for name in names if any(part in name for part in stock)]


def masked_text_frame(text: str) -> bytes:
    """A client's websocket text frame (RFC 6455 5.2), masked as clients must."""
    payload, mask = text.encode(), os.urandom(4)
    assert len(payload) < 126
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked


async def raw_client(host: str, path: str, token: str) -> asyncio.StreamWriter:
    """A websocket opened by hand and connected to Socket.IO (its writer)."""
    address, port = host.split(":")
    reader, writer = await asyncio.open_connection(address, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert b" 101 " in await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    await asyncio.wait_for(reader.read(2), 5)  # the OPEN packet's frame has begun
    writer.write(masked_text_frame("40" + json.dumps({"token": token})))
    return writer


@pytest.mark.parametrize("transports", [["websocket"], ["polling", "websocket"]])
async def test_an_idle_websocket_holds_no_engineio_task_and_events_flow_both_ways(
    transports, connect_client, server_token, jp_serverapp
):
    realtime = jp_serverapp.web_app.settings["nbjobs"].realtime
    clients = [await connect_client(token=server_token, transports=transports) for _ in range(3)]
    for sio, _ in clients:
        for _ in range(50):  # the upgrade from long-polling ends shortly after connecting
            if sio.transport() == "websocket":
                break
            await asyncio.sleep(0.1)
        assert sio.transport() == "websocket"
    await asyncio.sleep(0.2)
    assert engineio_tasks() == []
    assert all(transport.websocket_connection(s) for s in realtime.sio.eio.sockets.values())
    # Server to client: an event to the room (direct frames) and one to a single connection
    # (through engine.io's queue, written by the pushed transport).
    owner = next(iter(realtime._clients.values()))
    payload = {"jobId": 7, "status": "completed", "processedRows": 1, "validRows": 1}
    await realtime.emit(
        protocol.COMPLETED, {**payload, "invalidRows": 0, "outputFileUrl": ""}, owner=owner
    )
    sid = next(iter(realtime._clients))
    await realtime.sio.emit(protocol.CANCELLED, {"jobId": 8, "status": "cancelled"}, to=sid)
    for _, recorder in clients:
        await recorder.wait_for(lambda name, p: name == protocol.COMPLETED, timeout=10)
    got = [name for _, recorder in clients for name, _ in recorder.events]
    assert got.count(protocol.CANCELLED) == 1
    # Client to server: pings are answered (the connection stays) and a client's disconnect
    # ends its session at once.
    await clients[0][0].disconnect()
    for _ in range(50):
        if len(realtime.sio.eio.sockets) == 2:
            break
        await asyncio.sleep(0.1)
    assert len(realtime.sio.eio.sockets) == 2 and len(realtime._clients) == 2


async def test_a_server_side_disconnect_closes_the_websocket(
    connect_client, server_token, jp_serverapp
):
    realtime = jp_serverapp.web_app.settings["nbjobs"].realtime
    sio, _ = await connect_client(token=server_token)
    gone = asyncio.Event()
    sio.on("disconnect", lambda *args: gone.set())
    await realtime.sio.disconnect(next(iter(realtime._clients)))
    await asyncio.wait_for(gone.wait(), 10)
    for _ in range(50):  # the client closes its websocket on the way out
        if not realtime.sio.eio.sockets:
            break
        await asyncio.sleep(0.1)
    assert not realtime.sio.eio.sockets and not realtime._clients


async def test_garbage_and_a_vanished_client_leave_no_session(
    server_url, jp_base_url, server_token, jp_serverapp, jp_fetch
):
    realtime = jp_serverapp.web_app.settings["nbjobs"].realtime
    host = server_url.removeprefix("http://")
    url = f"ws://{host}{jp_base_url}nbjobs/socket.io/?EIO=4&transport=websocket"
    # An undecodable engine.io packet closes that connection.
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.receive(timeout=5)  # OPEN
        await ws.send_str("40" + '{"token": "' + server_token + '"}')
        assert (await ws.receive(timeout=5)).data.startswith("40")
        await ws.send_str("\x00garbage")
        gone = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        assert (await ws.receive(timeout=5)).type in gone
    # A client that drops its TCP connection without a word, once connected.
    writer = await raw_client(
        host, f"{jp_base_url}nbjobs/socket.io/?EIO=4&transport=websocket", server_token
    )
    for _ in range(50):
        if realtime._clients:
            break
        await asyncio.sleep(0.1)
    assert len(realtime.sio.eio.sockets) == len(realtime._clients) == 1
    writer.transport.abort()
    for _ in range(50):
        if not realtime.sio.eio.sockets:
            break
        await asyncio.sleep(0.1)
    assert not realtime.sio.eio.sockets and not realtime._clients
    assert (await jp_fetch("api", "status")).code == 200

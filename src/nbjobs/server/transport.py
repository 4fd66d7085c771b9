"""engine.io's websocket transport on tornado, holding little per idle connection.

Stock python-engineio serves an open websocket with a request task that lives as long as the
connection, a reader task re-armed (with a new task and a timeout) for every message, a writer
task waiting on the socket's queue, two ``asyncio.Queue``s (four deques each) and, per request,
a class object its tornado driver defines in ``translate_request``: with tornado's own objects
about 40 KiB per idle connection, where issue 15 asks for 30 MB per 1,000
(``benchmarks/README.md``). Here, once a websocket is open (directly, or upgraded from
long-polling after engine.io's probe), it is pushed rather than polled: tornado's
``on_message`` hands each message to the engine.io socket, and a packet put on the socket's
queue is written by a callback the queue schedules. An idle connection holds no task or queue
of its own beyond engine.io's ping; everything a packet means (pings, pongs, messages, close,
timeouts) is still decided by engine.io's ``AsyncSocket`` (``receive``, ``send``, ``close``).

This relies on python-engineio's driver table (``AsyncServer._async``), its ``AsyncSocket``
flags (``connected``, ``upgrading``, ``upgraded``, ``closing``, ``closed``) and on how the
socket hands itself to the driver (its bound ``_websocket_handler``); ``pyproject.toml`` pins
the versions and ``tests/server/test_transport.py`` fails loudly when any of them changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import engineio
import tornado.websocket
from engineio import async_socket
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_drivers import tornado as eio_tornado

__all__ = [
    "LeanQueue",
    "PushWebSocket",
    "PushedMessages",
    "RequestBody",
    "install",
    "translate_request",
    "websocket_connection",
]

log = logging.getLogger(__name__)

# Where the engine.io socket of a pushed websocket keeps its driver (PushWebSocket).
_WEBSOCKET = "nbjobs_websocket"
# Tasks started here, held until done (the loop keeps only weak references to tasks).
_RUNNING: set[asyncio.Future[None]] = set()


def _start(coroutine: Any) -> asyncio.Future[None]:
    task: asyncio.Future[None] = asyncio.ensure_future(coroutine)
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return task


class LeanQueue:
    """The unbounded queue engine.io keeps per connection (``AsyncServer.create_queue``), with
    the part of ``asyncio.Queue``'s interface engine.io uses (``put``/``put_nowait``, ``get``/
    ``get_nowait``, ``task_done``, ``join``, ``empty``, ``qsize``) and, when idle, three small
    lists instead of four deques (about 6 KiB). ``listener`` is called on every put: the pushed
    websocket writes what was put. ``unfinished`` counts packets put and not yet marked done."""

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._getters: list[asyncio.Future[None]] = []
        self._joiners: list[asyncio.Future[None]] = []
        self.unfinished = 0
        self.listener: Callable[[], None] | None = None

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        self.unfinished += 1
        self._wake_getter()
        if self.listener is not None:
            self.listener()

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    async def get(self) -> Any:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                with contextlib.suppress(ValueError):
                    self._getters.remove(getter)
                # Woken and cancelled at once: the item it was woken for is another's now.
                if self._items and not getter.cancelled():
                    self._wake_getter()
                raise
        return self._items.pop(0)

    def task_done(self) -> None:
        if self.unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self.unfinished -= 1
        if self.unfinished == 0:
            joiners, self._joiners = self._joiners, []
            for joiner in joiners:
                if not joiner.done():
                    joiner.set_result(None)

    async def join(self) -> None:
        if self.unfinished:
            joiner = asyncio.get_running_loop().create_future()
            self._joiners.append(joiner)
            await joiner

    def _wake_getter(self) -> None:
        while self._getters:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                return


class RequestBody:
    """The ``wsgi.input`` of a request: its body, read as engine.io reads it (awaited)."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes | None) -> None:
        self.payload = payload or b""

    async def read(self, length: int | None = None) -> bytes:
        if length is None:
            read, self.payload = self.payload, b""
        else:
            read, self.payload = self.payload[:length], self.payload[length:]
        return read


def translate_request(handler: Any) -> dict[str, Any]:
    """The WSGI environ of a tornado request, as python-engineio's tornado driver builds it,
    without the class that driver defines for every request (2.4 KiB a connection, kept for
    as long as the connection by the environ python-socketio keeps)."""
    request = handler.request
    full_uri = request.path + ("?" + request.query if request.query else "")
    environ: dict[str, Any] = {
        "wsgi.input": RequestBody(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.async": True,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "aiohttp",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.query or "",
        "RAW_URI": full_uri,
        "SERVER_PROTOCOL": f"HTTP/{request.version}",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "SERVER_NAME": "aiohttp",
        "SERVER_PORT": "0",
        "tornado.handler": handler,
    }
    for name, value in request.headers.get_all():
        name = name.upper()
        if name == "CONTENT-TYPE":
            environ["CONTENT_TYPE"] = value
        elif name == "CONTENT-LENGTH":
            environ["CONTENT_LENGTH"] = value
        else:
            environ["HTTP_" + name.replace("-", "_")] = value
    environ["wsgi.url_scheme"] = environ.get("HTTP_X_FORWARDED_PROTO", "http")
    environ["PATH_INFO"] = urlsplit(request.path).path
    environ["SCRIPT_NAME"] = ""
    return environ


class PushedMessages(tornado.websocket.WebSocketHandler):
    """Mixed into engine.io's tornado handler (before it): received messages go to a consumer
    the pushed websocket sets (``push_to``) instead of through a queue a task waits on. Until
    then (the engine.io handshake) they wait in a list (``next_message``)."""

    _consumer: Callable[[str | bytes | None], None] | None = None
    _inbox: list[str | bytes | None] | None = None
    _waiter: asyncio.Future[None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # engine.io's handler made a receive queue (four deques) that nothing here uses.
        self.__dict__.pop("receive_queue", None)

    def on_message(self, message: str | bytes) -> None:
        self._deliver(message)

    def on_close(self) -> None:
        self._deliver(None)

    def push_to(self, consumer: Callable[[str | bytes | None], None]) -> None:
        """From now on hand every message (None: the websocket closed) to ``consumer``,
        those that came meanwhile first."""
        self._consumer = consumer
        inbox, self._inbox = self._inbox or [], None
        for message in inbox:
            consumer(message)

    async def next_message(self) -> str | bytes | None:
        """The next message before ``push_to`` (None: the websocket closed)."""
        while not self._inbox:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._inbox.pop(0)

    # engine.io's stock driver reads with this; kept working for it.
    async def get_next_message(self) -> str | bytes | None:
        return await self.next_message()

    def _deliver(self, message: str | bytes | None) -> None:
        if self._consumer is not None:
            self._consumer(message)
            return
        if self._inbox is None:
            self._inbox = []
        self._inbox.append(message)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def websocket_connection(socket: Any) -> Any:
    """The tornado websocket connection an engine.io socket is pushed over, or None."""
    websocket = getattr(socket, _WEBSOCKET, None)
    return getattr(getattr(websocket, "tornado_handler", None), "ws_connection", None)


class PushWebSocket(eio_tornado.WebSocket):  # type: ignore[misc]  # untyped base
    """engine.io's tornado websocket driver, pushed (module docstring). engine.io builds one
    per websocket with the socket's bound ``_websocket_handler`` and awaits it; it returns as
    soon as the websocket is open, leaving nothing waiting."""

    _receiving: asyncio.Future[None] | None = None
    _write_soon = False
    _finished = False

    async def __call__(self, environ: dict[str, Any]) -> None:
        handler = environ["tornado.handler"]
        socket = getattr(self.handler, "__self__", None)
        if not isinstance(socket, async_socket.AsyncSocket) or not isinstance(
            handler, PushedMessages
        ):
            await super().__call__(environ)  # not ours to push: engine.io's stock driver
            return
        self.tornado_handler = handler
        self.socket = socket
        if not await self._open(socket, handler):
            handler.close()
            return
        setattr(socket, _WEBSOCKET, self)
        if isinstance(socket.queue, LeanQueue):
            socket.queue.listener = self._schedule_write
        handler.push_to(self._received)
        self._schedule_write()  # what was queued meanwhile (the OPEN packet, held events)

    async def _open(self, socket: Any, handler: PushedMessages) -> bool:
        """engine.io's websocket handshake: nothing for a new session; for a long-polling one,
        the probe (PING "probe" answered PONG "probe", the poll ended with a NOOP) and the
        client's UPGRADE. False when the client did not do it."""
        if not socket.connected:
            socket.connected = True
            socket.upgraded = True
            return True
        socket.upgrading = True  # packets sent meanwhile wait in the queue
        try:
            probe = await self._handshake_packet(socket, handler)
            if probe is None or probe.packet_type != eio_packet.PING or probe.data != "probe":
                return False
            handler.write_message(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
            await socket.queue.put(eio_packet.Packet(eio_packet.NOOP))  # ends the pending poll
            upgrade = await self._handshake_packet(socket, handler)
            if upgrade is None or upgrade.packet_type != eio_packet.UPGRADE:
                return False
            socket.upgraded = True
            return True
        except tornado.websocket.WebSocketClosedError:
            return False
        finally:
            socket.upgrading = False

    async def _handshake_packet(self, socket: Any, handler: PushedMessages) -> Any:
        timeout = socket.server.ping_interval + socket.server.ping_timeout
        try:
            message = await asyncio.wait_for(handler.next_message(), timeout)
        except asyncio.TimeoutError:
            return None
        if message is None or len(message) > socket.server.max_http_buffer_size:
            return None
        try:
            return eio_packet.Packet(encoded_packet=message)
        except Exception:  # garbage from the client: no handshake
            return None

    # -- receiving: each message to engine.io's socket, in order ----------------------------

    def _received(self, message: str | bytes | None) -> None:
        if message is None:  # the websocket closed
            self._finish()
            return
        if len(message) > self.socket.server.max_http_buffer_size:
            self.tornado_handler.close()  # as engine.io does; on_close follows
            return
        try:
            pkt = eio_packet.Packet(encoded_packet=message)
        except Exception:
            log.info("nbjobs: closing a websocket that sent an undecodable engine.io packet")
            self.tornado_handler.close()
            return
        previous = self._receiving
        task = _start(self._receive(pkt, previous))
        self._receiving = task
        task.add_done_callback(self._received_done)

    async def _receive(self, pkt: Any, previous: asyncio.Future[None] | None) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])  # packets are taken in the order they came
        try:
            await self.socket.receive(pkt)
        except eio_exceptions.UnknownPacketError:
            pass
        except eio_exceptions.SocketIsClosedError:
            self.tornado_handler.close()
        except Exception:
            log.exception("nbjobs: engine.io could not take a packet")

    def _received_done(self, task: asyncio.Future[None]) -> None:
        if self._receiving is task:
            self._receiving = None

    # -- writing: what engine.io queues, written when it is queued ----------------------------

    def _schedule_write(self) -> None:
        if not self._write_soon and not self._finished:
            self._write_soon = True
            asyncio.get_running_loop().call_soon(self._write)

    def _write(self) -> None:
        self._write_soon = False
        if self._finished:
            return
        queue = self.socket.queue
        while not queue.empty():
            pkt = queue.get_nowait()
            try:
                if pkt is None:  # engine.io's word for "no more": close the websocket
                    self.tornado_handler.close()
                    return
                encoded = pkt.encode()
                self.tornado_handler.write_message(encoded, binary=isinstance(encoded, bytes))
            except tornado.websocket.WebSocketClosedError:
                return  # on_close follows and finishes
            finally:
                queue.task_done()
        if self.socket.closed:  # engine.io closed the session, its CLOSE packet is written
            self.tornado_handler.close()

    def _finish(self) -> None:
        """The websocket closed: engine.io's socket closes too (as its own handler does) and
        leaves the server's sessions."""
        if self._finished:
            return
        self._finished = True
        socket = self.socket
        if isinstance(socket.queue, LeanQueue):
            socket.queue.listener = None
        if getattr(socket, _WEBSOCKET, None) is self:
            delattr(socket, _WEBSOCKET)
        # Packets no one will write: done, so a close() waiting on the queue ends.
        while not socket.queue.empty():
            socket.queue.get_nowait()
            socket.queue.task_done()
        _start(self._close_session(self._receiving))

    async def _close_session(self, receiving: asyncio.Future[None] | None) -> None:
        socket = self.socket
        if receiving is not None and not receiving.done():
            await asyncio.wait([receiving])
        await socket.close(wait=False, abort=True, reason=socket.server.reason.TRANSPORT_CLOSE)
        sockets = socket.server.sockets
        if sockets.get(socket.sid) is socket and socket.closed:
            del sockets[socket.sid]


def install(eio: engineio.AsyncServer) -> None:
    """Make ``eio`` (python-socketio's engine.io server) push its websockets (PushWebSocket),
    build environs without a class per request and keep each connection's packets in a
    ``LeanQueue``. Its tornado handler must mix in ``PushedMessages``."""
    eio._async["websocket"] = PushWebSocket
    eio._async["translate_request"] = translate_request
    eio.create_queue = LeanQueue  # engine.io's own hook for the queue of every new socket

"""One event to a room of Socket.IO connections at the cost of one frame write each.

python-socketio's ``AsyncManager.emit`` encodes an event once per room, then starts one asyncio
task per connection, which puts the packet on that connection's engine.io queue, whose writer
task wakes to frame and write it: three tasks, a timer and a frame per delivery, about 100 µs of
CPU on Jupyter's event loop (PLATFORM-NOTES, benchmarks/README.md). Here the room's event is
encoded once and framed once (an unmasked, uncompressed websocket text frame: nbjobs' Socket.IO
endpoint never negotiates permessage-deflate), and that frame is written straight to the
tornado stream of every connection that is on websocket and has nothing queued; any other
connection (long-polling, upgrading, or with packets still queued, which must go first) gets the
packet through engine.io's queue, as stock python-socketio would send it. Order is kept either
way: a connection is written to directly only when everything sent before has left its queue.

This relies on internals of python-engineio and python-socketio (the engine.io socket's
``queue``, ``upgraded``/``closing`` flags, and ``AsyncServer._send_eio_packet``), on the pushed
websocket transport (``transport.py``) and on tornado (``WebSocketHandler.ws_connection.stream``).
``pyproject.toml`` pins the versions they were checked with, and
``tests/server/test_fanout.py`` fails loudly when any of them changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections.abc import Iterable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet
from tornado.iostream import StreamClosedError

from . import metrics
from .transport import LeanQueue, websocket_connection

__all__ = ["FastDelivery", "FastRedisManager", "websocket_frame"]

_DIRECT = metrics.DELIVERIES.labels("direct")
_QUEUED = metrics.DELIVERIES.labels("queued")


def websocket_frame(text: str) -> bytes:
    """A final, unmasked, uncompressed websocket text frame (RFC 6455 section 5.2) of ``text``,
    as a server sends it."""
    payload = text.encode()
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


def _direct_stream(socket: Any) -> Any:
    """The tornado stream to write to ``socket`` directly, or None when its packets must go
    through its queue: not (yet) on websocket, closing, or with packets not sent yet."""
    if not socket.upgraded or socket.closing or socket.closed:
        return None
    queue = socket.queue
    # A packet is marked done once it is written, so 0 unfinished means nothing is queued or
    # being written (the pushed websocket writes its queue with LeanQueue).
    if not isinstance(queue, LeanQueue) or not queue.empty() or queue.unfinished:
        return None
    connection = websocket_connection(socket)
    if connection is None or connection.is_closing():
        return None
    return connection.stream


def _write(stream: Any, frame: bytes) -> None:
    """Write ``frame`` to a tornado IOStream: straight to its socket when nothing of the stream
    waits to be written (one send call, none of IOStream's buffering), else after what waits."""
    sent = 0
    if not stream.writing() and not stream.closed():
        try:
            sent = stream.socket.send(frame)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:  # reset or broken: let the stream find out and close
            sent = 0
    if sent < len(frame):
        stream.write(frame[sent:] if sent else frame)


class FastDelivery(socketio.AsyncManager):  # type: ignore[misc]  # untyped base
    """``AsyncManager`` whose emit to a room writes one prebuilt frame per websocket connection
    (module docstring). Emits with a callback, or of binary packets, are stock; so is every
    emit when ``direct`` is off (connections that compress their frames need their own)."""

    direct = True

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        room = to or room
        if callback is not None or namespace not in self.rooms:
            await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
            )
            return
        started = time.perf_counter()
        arguments = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event, *arguments]
        ).encode()
        if not isinstance(encoded, str):  # binary attachments: several packets, stock path
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, **kwargs)
            return
        eio_pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        frame = websocket_frame(eio_pkt.encode())
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        await self._deliver(
            (eio_sid for sid, eio_sid in self.get_participants(namespace, room) if sid not in skip),
            eio_pkt,
            frame,
        )
        metrics.EMIT_SECONDS.observe(time.perf_counter() - started)

    async def _deliver(self, eio_sids: Iterable[str], eio_pkt: Any, frame: bytes) -> None:
        sockets = self.server.eio.sockets
        queued: list[str] = []
        direct = 0
        for eio_sid in list(eio_sids):  # the room may change while queued packets are sent
            socket = sockets.get(eio_sid)
            if socket is None:
                continue
            stream = _direct_stream(socket) if self.direct else None
            if stream is None:
                queued.append(eio_sid)
                continue
            with contextlib.suppress(StreamClosedError):  # gone meanwhile: its close follows
                _write(stream, frame)
                direct += 1
        for eio_sid in queued:
            await self.server._send_eio_packet(eio_sid, eio_pkt)
        if queued:
            # Let long-polling requests take what is queued before more comes, as stock
            # python-socketio does by waiting for its send tasks: a poll answered with more
            # than 16 packets is refused by python-engineio's client (max_decode_packets).
            await asyncio.sleep(0)
        _DIRECT.inc(direct)
        _QUEUED.inc(len(queued))


class FastRedisManager(socketio.AsyncRedisManager, FastDelivery):  # type: ignore[misc]
    """python-socketio's Redis manager (events published to every server instance), each
    instance delivering to its own connections as ``FastDelivery`` does: ``AsyncPubSubManager``
    hands its received events to the next manager in line, which is ``FastDelivery``."""

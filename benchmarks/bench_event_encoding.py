"""Bytes and CPU per job event for the encodings a Socket.IO server could use: JSON text frames as
today, the same with permessage-deflate (one compressor per connection, context kept across
messages, as browsers negotiate it), and python-socketio's msgpack serializer.

    .venv/bin/python benchmarks/bench_event_encoding.py
"""

from __future__ import annotations

import json
import time
import zlib

import msgpack
import socketio.msgpack_packet
import socketio.packet

from nbjobs.server.fanout import websocket_frame

EVENTS = 2000


def payloads() -> list[list]:
    total = 200_000
    return [
        [
            "job:progress",
            {
                "jobId": 1234,
                "processedRows": rows,
                "validRows": rows - rows // 9,
                "invalidRows": rows // 9,
                "totalRows": total,
                "progress": rows * 100 // total,
            },
        ]
        for rows in range(100, 100 * EVENTS + 1, 100)
    ]


def json_frames(events: list[list]) -> list[bytes]:
    return [
        websocket_frame("4" + socketio.packet.Packet(socketio.packet.EVENT, data=e).encode())
        for e in events
    ]


def main() -> None:
    events = payloads()
    started = time.perf_counter()
    frames = json_frames(events)
    encode_us = (time.perf_counter() - started) * 1e6 / EVENTS
    json_bytes = sum(map(len, frames)) / EVENTS

    # permessage-deflate: every connection compresses every message with its own context.
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    started = time.perf_counter()
    deflated = 0
    for frame in frames:
        body = frame[2:]
        data = compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH)
        deflated += len(data[:-4]) + 2  # RFC 7692 drops the 00 00 ff ff tail; 2-byte header
    deflate_us = (time.perf_counter() - started) * 1e6 / EVENTS

    started = time.perf_counter()
    packed = [
        socketio.msgpack_packet.MsgPackPacket(socketio.packet.EVENT, data=e).encode()
        for e in events
    ]
    msgpack_us = (time.perf_counter() - started) * 1e6 / EVENTS
    msgpack_bytes = sum(len(p) + 2 for p in packed) / EVENTS  # binary frame, 2-byte header
    print(
        json.dumps(
            {
                "events": EVENTS,
                "json_bytes_per_event": round(json_bytes, 1),
                "json_encode_us_once_per_room": round(encode_us, 2),
                "deflate_bytes_per_event": round(deflated / EVENTS, 1),
                "deflate_us_per_connection_per_event": round(deflate_us, 2),
                "msgpack_bytes_per_event": round(msgpack_bytes, 1),
                "msgpack_encode_us_once_per_room": round(msgpack_us, 2),
                "msgpack_check": msgpack.unpackb(packed[0])["data"][0],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

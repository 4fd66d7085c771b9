"""Heartbeat and limits, each refused or dropped as documented: a user's connection cap, a
session that never authenticates (closed after ``auth_timeout``; no more than
``max_pending_sessions`` at once), an oversized message (the connection is closed unread), and a
client that stops answering pings (dropped, counted)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import socketio
from prometheus_client import REGISTRY


def stale(reason: str) -> float:
    return REGISTRY.get_sample_value("nbjobs_stale_connections_total", {"reason": reason}) or 0.0


def engineio_url(server_url: str, base_url: str) -> str:
    host = server_url.removeprefix("http://")
    return f"ws://{host}{base_url}nbjobs/socket.io/?EIO=4&transport=websocket"


async def closed(ws: aiohttp.ClientWebSocketResponse) -> bool:
    """Whether the server ends the session: engine.io's CLOSE packet, or the socket closing."""
    message = await ws.receive(timeout=10)
    gone = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    return message.type in gone or message.data == "1"


@pytest.mark.nbjobs_config(max_connections_per_user=2)
async def test_a_user_over_the_connection_cap_is_refused_with_the_reason(
    connect_client, server_token, server_url, jp_base_url
):
    await connect_client(token=server_token)
    await connect_client(token=server_token)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect_client(token=server_token)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(engineio_url(server_url, jp_base_url)) as ws,
    ):
        await ws.receive(timeout=5)
        await ws.send_str('40{"token": "' + server_token + '"}')
        refusal = await ws.receive(timeout=5)
    assert refusal.data.startswith("44") and "too many connections" in refusal.data


@pytest.mark.nbjobs_config(auth_timeout=1.0)
async def test_a_session_that_never_authenticates_is_closed(server_url, jp_base_url):
    before = stale("unauthenticated")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(engineio_url(server_url, jp_base_url)) as ws,
    ):
        opened = await ws.receive(timeout=5)
        assert opened.data.startswith("0")  # engine.io open, then silence from us
        assert await closed(ws)
    assert stale("unauthenticated") == before + 1


@pytest.mark.nbjobs_config(max_pending_sessions=2, auth_timeout=30.0)
async def test_no_more_unauthenticated_sessions_than_the_cap(
    server_url, jp_base_url, connect_client, server_token
):
    async with aiohttp.ClientSession() as session:
        url = engineio_url(server_url, jp_base_url)
        waiting = [await session.ws_connect(url) for _ in range(2)]
        for ws in waiting:
            await ws.receive(timeout=5)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
        assert refused.value.status == 503
        for ws in waiting:
            await ws.close()
    await asyncio.sleep(0.2)
    sio, _ = await connect_client(token=server_token)  # once they are gone, others get in
    assert sio.connected


@pytest.mark.nbjobs_config(max_message_bytes=1024)
async def test_an_oversized_message_closes_the_connection_unread(server_url, jp_base_url, jp_fetch):
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(engineio_url(server_url, jp_base_url)) as ws,
    ):
        await ws.receive(timeout=5)
        await ws.send_str("40" + "x" * 100_000)
        assert await closed(ws)
    assert (await jp_fetch("api", "status")).code == 200


@pytest.mark.nbjobs_config(ping_interval=1.0, ping_timeout=1.0)
async def test_a_client_that_stops_answering_pings_is_dropped(
    server_url, jp_base_url, server_token, jp_serverapp
):
    realtime = jp_serverapp.web_app.settings["nbjobs"].realtime
    before = stale("no pong")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(engineio_url(server_url, jp_base_url)) as ws,
    ):
        await ws.receive(timeout=5)
        await ws.send_str('40{"token": "' + server_token + '"}')
        for _ in range(20):
            if realtime._clients:
                break
            await asyncio.sleep(0.1)
        assert len(realtime._clients) == 1
        for _ in range(60):  # pings arrive; we never answer them
            if not realtime._clients:
                break
            await asyncio.sleep(0.1)
    assert realtime._clients == {}
    assert stale("no pong") == before + 1

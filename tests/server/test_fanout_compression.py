"""With ``websocket_compression``, a client that negotiates permessage-deflate gets compressed
frames (through engine.io's queue, each connection its own) and every event; without it, the
server does not negotiate compression."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from nbjobs import protocol


async def one_event(server_url, jp_base_url, server_token, jp_serverapp) -> tuple[str, dict]:
    realtime = jp_serverapp.web_app.settings["nbjobs"].realtime
    host = server_url.removeprefix("http://")
    url = f"ws://{host}{jp_base_url}nbjobs/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session, session.ws_connect(url, compress=15) as ws:
        await ws.receive(timeout=5)
        await ws.send_str('40{"token": "' + server_token + '"}')
        assert (await ws.receive(timeout=5)).data.startswith("40")
        owner = next(iter(realtime._clients.values()))
        payload = {
            "jobId": 9,
            "processedRows": 1,
            "validRows": 1,
            "invalidRows": 0,
            "totalRows": 2,
            "progress": 50,
        }
        await realtime.emit(protocol.PROGRESS, payload, owner=owner)
        message = await ws.receive(timeout=5)
        while message.data in ("2",):
            message = await ws.receive(timeout=5)
        extensions = ws._response.headers.get("Sec-WebSocket-Extensions", "")
        return extensions, json.loads(message.data[2:])[1]


@pytest.mark.nbjobs_config(websocket_compression=True)
async def test_compressing_clients_get_every_event(
    server_url, jp_base_url, server_token, jp_serverapp
):
    extensions, payload = await one_event(server_url, jp_base_url, server_token, jp_serverapp)
    assert "permessage-deflate" in extensions
    assert payload["jobId"] == 9


async def test_compression_is_off_by_default(server_url, jp_base_url, server_token, jp_serverapp):
    extensions, payload = await one_event(server_url, jp_base_url, server_token, jp_serverapp)
    assert "permessage-deflate" not in extensions
    assert payload["jobId"] == 9
    await asyncio.sleep(0)

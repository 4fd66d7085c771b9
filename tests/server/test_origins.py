"""Another origin cannot act with the user's cookie: Socket.IO refuses cookie-authenticated
connections from origins that only look like the server's, and Jupyter's XSRF check refuses
cookie-authenticated REST POSTs without the token; and no token ever reaches the server log."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import requests
import socketio
from tornado.httpclient import AsyncHTTPClient

from tests.conftest import COLUMNS, contacts_csv, multipart
from tests.jupyter_process import running_server

from .test_auth import login_cookie


def look_alikes(server_url: str) -> list[str]:
    parts = urlsplit(server_url)
    return [
        "http://evil.localhost",
        f"http://{parts.hostname}.evil.com",
        f"http://{parts.hostname}.evil.com:{parts.port}",
        "null",
        f"http://{parts.hostname}:{parts.port + 1}",  # same host, another port
        f"http://localhost:{parts.port}",  # the same machine by another name
    ]


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_cookie_clients_from_look_alike_origins_are_refused(
    transport, connect_client, server_url, jp_base_url, server_token
):
    cookie = await login_cookie(server_url, jp_base_url, server_token)
    for origin in look_alikes(server_url):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect_client(
                transports=[transport], headers={"Cookie": cookie, "Origin": origin}
            )
    sio, _ = await connect_client(  # the server's own origin, for contrast
        transports=[transport], headers={"Cookie": cookie, "Origin": server_url}
    )
    assert sio.connected


async def test_cookie_rest_posts_need_the_xsrf_token(server_url, jp_base_url, server_token):
    cookie = await login_cookie(server_url, jp_base_url, server_token)
    body, headers = multipart(contacts_csv(5), COLUMNS)
    url = f"{server_url}{jp_base_url}nbjobs/api/jobs"
    client = AsyncHTTPClient()
    no_xsrf = await client.fetch(
        url, method="POST", body=body, headers={**headers, "Cookie": cookie}, raise_error=False
    )
    assert no_xsrf.code == 403
    # From another origin Jupyter does not even say the API is there.
    foreign = await client.fetch(
        url,
        method="POST",
        body=body,
        headers={**headers, "Cookie": cookie, "Origin": "http://evil.example"},
        raise_error=False,
    )
    assert foreign.code in (403, 404)
    xsrf = "2|abcdef01|0123456789abcdef0123456789abcdef|1700000000"
    accepted = await client.fetch(
        url,
        method="POST",
        body=body,
        headers={**headers, "Cookie": f"{cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
        raise_error=False,
    )
    assert accepted.code == 201, accepted.body


def test_tokens_never_reach_the_log(tmp_path):
    with running_server(
        tmp_path, extra=["--ServerApp.log_level=DEBUG", "--NbJobs.log_level=DEBUG"]
    ) as server:
        token = server.token
        api = server.api
        requests.get(f"{api}/jobs?token={token}", timeout=10)
        requests.get(f"{api}/jobs", headers=server.headers, timeout=10)
        requests.post(
            f"{api}/jobs?token={token}",
            files={"file": ("c.csv", contacts_csv(5), "text/csv")},
            data={"columns": json.dumps(COLUMNS)},
            timeout=10,
        )
        requests.get(f"{api}/jobs?token=wrong-{token}", timeout=10)
        for transport, where in [
            ("polling", "query"),
            ("websocket", "query"),
            ("websocket", "auth"),
        ]:
            sio = socketio.Client(reconnection=False)
            url = f"{server.url}?token={token}" if where == "query" else server.url
            sio.connect(
                url,
                socketio_path=f"{server.base_url}nbjobs/socket.io",
                auth={"token": token} if where == "auth" else None,
                transports=[transport],
                wait_timeout=10,
            )
            sio.disconnect()
        log = server.log_path.read_text()
    assert "nbjobs/socket.io" in log  # the requests were logged...
    assert token not in log  # ...without the token

"""Every Socket.IO and REST refusal, and per-user isolation with two real users."""

from __future__ import annotations

import json

import pytest
import socketio
from tornado.httpclient import AsyncHTTPClient

from nbjobs import protocol
from tests.conftest import TOKENS, TwoUserIdentityProvider, contacts_csv


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_no_credentials_refused(transport, connect_client):
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect_client(transports=[transport])


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("where", ["auth", "header", "query"])
async def test_wrong_token_refused(transport, where, connect_client, server_url):
    kwargs: dict = {"transports": [transport]}
    if where == "auth":
        kwargs["token"] = "wrong"
    elif where == "header":
        kwargs["headers"] = {"Authorization": "token wrong"}
    else:
        kwargs["url"] = server_url + "?token=wrong"
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect_client(**kwargs)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("where", ["auth", "header", "query"])
async def test_right_token_accepted_anywhere(
    transport, where, connect_client, server_url, server_token
):
    kwargs: dict = {"transports": [transport]}
    if where == "auth":
        kwargs["token"] = server_token
    elif where == "header":
        kwargs["headers"] = {"Authorization": f"token {server_token}"}
    else:
        kwargs["url"] = f"{server_url}?token={server_token}"
    sio, _ = await connect_client(**kwargs)
    assert sio.connected


async def login_cookie(server_url: str, base_url: str, token: str) -> str:
    """The login cookie Jupyter sets on a token-authenticated request, as a browser keeps it."""
    response = await AsyncHTTPClient().fetch(f"{server_url}{base_url}api/status?token={token}")
    cookies = response.headers.get_list("Set-Cookie")
    login = [c.split(";")[0] for c in cookies if c.startswith("username-")]
    assert login, cookies
    return login[0]


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_cookie_from_own_origin_accepted_foreign_origin_refused(
    transport, connect_client, server_url, jp_base_url, server_token
):
    cookie = await login_cookie(server_url, jp_base_url, server_token)
    sio, _ = await connect_client(
        transports=[transport], headers={"Cookie": cookie, "Origin": server_url}
    )
    assert sio.connected
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect_client(
            transports=[transport], headers={"Cookie": cookie, "Origin": "http://evil.example"}
        )


@pytest.mark.nbjobs_config(cors_allowed_origins=["http://dashboard.example"])
async def test_cookie_from_configured_origin_accepted(
    connect_client, server_url, jp_base_url, server_token
):
    cookie = await login_cookie(server_url, jp_base_url, server_token)
    sio, _ = await connect_client(
        transports=["polling"], headers={"Cookie": cookie, "Origin": "http://dashboard.example"}
    )
    assert sio.connected


async def test_rest_requires_authentication(jp_fetch):
    response = await jp_fetch(
        "nbjobs", "api", "jobs", headers={"Authorization": "token wrong"}, raise_error=False
    )
    assert response.code in (401, 403)
    assert "Traceback" not in response.body.decode()


@pytest.fixture
def two_users(jp_server_config):
    jp_server_config["ServerApp"]["identity_provider_class"] = TwoUserIdentityProvider
    return {user: {"Authorization": f"token {token}"} for token, user in TOKENS.items()}


async def test_alice_and_bob_are_isolated(two_users, jp_fetch, submit, connect_client):
    _, alice_events = await connect_client(token="alice-token")
    _, bob_events = await connect_client(headers=two_users["bob"], transports=["polling"])

    response = await submit(contacts_csv(300), headers=two_users["alice"])
    assert response.code == 201, response.body
    job_id = json.loads(response.body)["jobId"]
    name, _ = await alice_events.wait_final(job_id)
    assert name == protocol.COMPLETED

    # bob's own job, so we know his client is live and would have received alice's events.
    response = await submit(contacts_csv(50), headers=two_users["bob"])
    bob_job = json.loads(response.body)["jobId"]
    await bob_events.wait_final(bob_job)
    assert bob_events.for_job(job_id) == []
    assert alice_events.for_job(bob_job) == []

    for parts, method in [
        ((str(job_id),), "GET"),
        ((str(job_id), "output"), "GET"),
        ((str(job_id), "invalid"), "GET"),
        ((str(job_id), "summary"), "GET"),
        ((str(job_id), "cancel"), "POST"),
    ]:
        response = await jp_fetch(
            "nbjobs",
            "api",
            "jobs",
            *parts,
            method=method,
            headers=two_users["bob"],
            body=b"" if method == "POST" else None,
            raise_error=False,
        )
        assert response.code == 404, (parts, response.code)
        assert "message" in json.loads(response.body)

    bob_list = json.loads((await jp_fetch("nbjobs", "api", "jobs", headers=two_users["bob"])).body)
    assert [j["jobId"] for j in bob_list["jobs"]] == [bob_job]
    alice_list = json.loads(
        (await jp_fetch("nbjobs", "api", "jobs", headers=two_users["alice"])).body
    )
    assert [j["jobId"] for j in alice_list["jobs"]] == [job_id]


async def test_single_user_token_clients_share_one_room(submit, connect_client, server_token):
    # Jupyter's stock provider makes up a new anonymous user per token request; both
    # clients must still be the server's owner and receive the owner's events.
    _, first = await connect_client(token=server_token)
    _, second = await connect_client(headers={"Authorization": f"token {server_token}"})
    response = await submit(contacts_csv(50))
    job_id = json.loads(response.body)["jobId"]
    await first.wait_final(job_id)
    await second.wait_final(job_id)

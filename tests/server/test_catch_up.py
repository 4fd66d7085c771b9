"""A client that connects gets at once the state of its user's queued and running jobs as
``job:progress`` events (with their ``status``), and the end of each job it follows (its auth
payload's ``follow``) that ended while it was away: right without a REST round trip."""

from __future__ import annotations

import asyncio
import json

import pytest

from nbjobs import protocol
from tests.conftest import contacts_csv


async def job_id_of(response) -> int:
    assert response.code == 201
    return int(json.loads(response.body)["jobId"])


@pytest.mark.nbjobs_config(max_concurrent_jobs=1, chunk_delay=0.2, chunk_size=50)
async def test_a_connecting_client_gets_the_active_jobs_at_once(
    submit, connect_client, server_token, jp_fetch
):
    running = await job_id_of(await submit(contacts_csv(2000)))
    queued = await job_id_of(await submit(contacts_csv(50)))
    for _ in range(100):  # the first job is under way
        job = json.loads((await jp_fetch("nbjobs", "api", "jobs", str(running))).body)
        if job["processedRows"] > 0:
            break
        await asyncio.sleep(0.05)

    _sio, recorder = await connect_client(token=server_token)
    await recorder.wait_for(lambda name, p: p["jobId"] == queued, timeout=5)
    first = {p["jobId"]: p for name, p in recorder.events if name == protocol.PROGRESS}
    assert first[running]["status"] == "running" and first[running]["processedRows"] > 0
    assert first[queued]["status"] == "queued" and first[queued]["processedRows"] == 0
    for payload in first.values():
        assert set(protocol.PROGRESS_KEYS) <= set(payload)
    for job_id in (running, queued):
        await jp_fetch("nbjobs", "api", "jobs", str(job_id), "cancel", method="POST", body=b"")


async def test_a_followed_job_that_ended_is_told_on_connect(
    submit, connect_client, server_token, jp_fetch
):
    done = await job_id_of(await submit(contacts_csv(20)))
    for _ in range(200):
        job = json.loads((await jp_fetch("nbjobs", "api", "jobs", str(done))).body)
        if job["status"] == "completed":
            break
        await asyncio.sleep(0.05)
    _sio, recorder = await connect_client(auth={"token": server_token, "follow": [done, 999999]})
    await recorder.wait_for(lambda name, p: name == protocol.COMPLETED, timeout=5)
    names = [(name, p["jobId"]) for name, p in recorder.events]
    assert names == [(protocol.PROGRESS, done), (protocol.COMPLETED, done)]
    assert recorder.events[0][1]["progress"] == 100

    _plain, plain_events = await connect_client(token=server_token)  # follows nothing
    await asyncio.sleep(0.5)
    assert plain_events.events == []


async def test_followed_ids_of_another_user_or_not_numbers_are_ignored(
    connect_client, server_token
):
    sio, recorder = await connect_client(
        auth={"token": server_token, "follow": ["x", True, 1.5, None, -1, *list(range(1000))]}
    )
    await asyncio.sleep(0.5)
    assert sio.connected and recorder.events == []

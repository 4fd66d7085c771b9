"""Job events end to end: a real jupyter-server, real worker processes, real Socket.IO clients."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest

from nbjobs import protocol
from tests.conftest import COLUMNS, contacts_csv


async def submit_job(submit, data: bytes, **kw) -> dict:
    response = await submit(data, **kw)
    assert response.code == 201, response.body
    return json.loads(response.body)


def assert_monotonic(progress: list[dict]) -> None:
    for key in ("processedRows", "validRows", "invalidRows", "progress"):
        values = [p[key] for p in progress]
        assert values == sorted(values), f"{key} decreased: {values}"


async def test_completed_job_event_contract_and_output(
    jp_fetch, submit, connect_client, server_token
):
    _, recorder = await connect_client(token=server_token)
    job = await submit_job(submit, contacts_csv(1000))
    assert isinstance(job["jobId"], int)
    assert job["status"] == "queued"

    name, final = await recorder.wait_final(job["jobId"])
    received = recorder.for_job(job["jobId"])
    assert name == protocol.COMPLETED
    assert set(final) == set(protocol.COMPLETED_KEYS)
    assert final["status"] == "completed"
    assert (final["processedRows"], final["validRows"], final["invalidRows"]) == (1000, 900, 100)

    progress = [p for n, p in received if n == protocol.PROGRESS]
    assert progress, "no progress event"
    for payload in progress:
        # The exact keys first; a running job's throughput may follow (old clients ignore it).
        assert tuple(payload)[: len(protocol.PROGRESS_KEYS)] == protocol.PROGRESS_KEYS
        extra = {*protocol.THROUGHPUT_KEYS, *protocol.LIVE_KEYS}
        assert set(payload) <= {*protocol.PROGRESS_KEYS, *extra}
        if "rowsPerSecond" in payload:
            assert payload["rowsPerSecond"] > 0 and 0 <= payload["eta"] < 3600
        assert payload["totalRows"] == 1000
        assert 0 <= payload["progress"] <= 100
    # The first batch's last progress carries the live view: per-column counts, a preview.
    views = [p for p in progress if "columnCounts" in p]
    assert views, progress
    first = views[0]
    assert [c["column"] for c in first["columnCounts"]] == list(COLUMNS)
    for column in first["columnCounts"]:
        assert column["valid"] + column["invalid"] + column["null"] <= first["processedRows"]
        assert column["valid"] > 0
    assert 1 <= len(first["preview"]) <= protocol.PREVIEW_ROWS
    assert set(first["preview"][0]) >= {"Phone", "Phone_normalized", "_valid"}
    assert first["preview"][0]["Phone"] == "(415) 555-2000"
    assert_monotonic(progress)
    # The final 100% progress event comes right before completed, which comes last.
    assert received[-1][0] == protocol.COMPLETED
    assert received[-2] == (protocol.PROGRESS, {**progress[-1]})
    assert progress[-1]["progress"] == 100 and progress[-1]["processedRows"] == 1000

    output_url = final["outputFileUrl"]
    assert output_url.endswith(f"/nbjobs/api/jobs/{job['jobId']}/output")
    response = await jp_fetch(*output_url.split("/")[2:])  # drop the base_url
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert len(rows) == 1000
    assert [r["Note"] for r in rows[:3]] == ["row 0, ok", "row 1, ok", "row 2, ok"]
    assert rows[0]["Phone_normalized"] == "+14155552000"
    assert rows[9]["_valid"].lower() == "false" and rows[0]["_valid"].lower() == "true"

    state = json.loads((await jp_fetch("nbjobs", "api", "jobs", str(job["jobId"]))).body)
    assert state["status"] == "completed" and state["progress"] == 100
    assert state["finishedAt"] and state["startedAt"] and state["createdAt"]


@pytest.mark.slow
@pytest.mark.nbjobs_config(chunk_size=50, chunk_delay=0.25)
async def test_slow_job_sends_one_progress_event_per_chunk(submit, connect_client, server_token):
    _, recorder = await connect_client(token=server_token)
    job = await submit_job(submit, contacts_csv(300))
    await recorder.wait_final(job["jobId"])
    progress = [p for n, p in recorder.for_job(job["jobId"]) if n == protocol.PROGRESS]
    # 6 chunks, one event each; the closing 100% event repeats the last chunk's counts.
    assert [p["processedRows"] for p in progress] == [50, 100, 150, 200, 250, 300, 300]


@pytest.mark.nbjobs_config(chunk_size=5, progress_min_interval=0.5)
async def test_fast_job_progress_is_coalesced(submit, connect_client, server_token):
    _, recorder = await connect_client(token=server_token)
    job = await submit_job(submit, contacts_csv(1000))  # 200 chunks
    name, _ = await recorder.wait_final(job["jobId"])
    assert name == protocol.COMPLETED
    progress = [p for n, p in recorder.for_job(job["jobId"]) if n == protocol.PROGRESS]
    assert len(progress) < 200 / 4, len(progress)
    assert_monotonic(progress)
    assert progress[-1]["processedRows"] == 1000 and progress[-1]["progress"] == 100


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_both_transports_receive_events(transport, submit, connect_client, server_token):
    sio, recorder = await connect_client(token=server_token, transports=[transport])
    assert sio.transport() == transport
    job = await submit_job(submit, contacts_csv(150))
    name, payload = await recorder.wait_final(job["jobId"])
    assert name == protocol.COMPLETED and payload["processedRows"] == 150


@pytest.mark.nbjobs_config(chunk_size=20, chunk_delay=0.2)
async def test_cancel_running_job(jp_fetch, submit, connect_client, server_token):
    _, recorder = await connect_client(token=server_token)
    job = await submit_job(submit, contacts_csv(400))
    job_id = job["jobId"]
    await recorder.wait_for(lambda n, p: n == protocol.PROGRESS and p["jobId"] == job_id)
    response = await jp_fetch(
        "nbjobs", "api", "jobs", str(job_id), "cancel", method="POST", body=b""
    )
    assert response.code == 202
    name, payload = await recorder.wait_final(job_id)
    assert name == protocol.CANCELLED
    assert set(payload) == set(protocol.CANCELLED_KEYS)
    assert 0 < payload["processedRows"] < 400
    state = json.loads((await jp_fetch("nbjobs", "api", "jobs", str(job_id))).body)
    assert state["status"] == "cancelled" and state["outputFileUrl"] is None
    output = await jp_fetch("nbjobs", "api", "jobs", str(job_id), "output", raise_error=False)
    assert output.code == 409
    again = await jp_fetch(
        "nbjobs", "api", "jobs", str(job_id), "cancel", method="POST", body=b"", raise_error=False
    )
    assert again.code == 409 and "cancelled" in json.loads(again.body)["message"]


async def test_failed_job_on_malformed_row_deep_in_file(submit, connect_client, server_token):
    _, recorder = await connect_client(token=server_token)
    good = contacts_csv(280_000)  # > 16 MiB: beyond the block inspected at submit time
    data = good + b'"x",1,a@b.co,too,many,fields\n'
    job = await submit_job(submit, data)
    name, payload = await recorder.wait_final(job["jobId"])
    assert name == protocol.FAILED
    assert set(payload) == set(protocol.FAILED_KEYS) and payload["status"] == "failed"
    message = payload["errorMessage"]
    assert "Traceback" not in message and "CSV" in message


async def test_job_beside_a_failing_one_completes(submit, connect_client, server_token):
    _, recorder = await connect_client(token=server_token)
    bad = await submit_job(submit, contacts_csv(280_000) + b'"Jos",1,a@b.co,too,many\n')
    good = await submit_job(submit, contacts_csv(500))
    finals = await asyncio.gather(
        recorder.wait_final(bad["jobId"]), recorder.wait_final(good["jobId"])
    )
    assert [name for name, _ in finals] == [protocol.FAILED, protocol.COMPLETED]
    assert "Malformed CSV" in finals[0][1]["errorMessage"]

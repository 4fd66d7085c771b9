"""Per-user quotas (queued jobs, stored output bytes: a 429 that says why) and retention (old
jobs' files removed, their rows kept and marked expired; their downloads a 410)."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from tests.conftest import contacts_csv


async def until_final(jp_fetch, job_id: int) -> dict:
    for _ in range(600):
        job = json.loads((await jp_fetch("nbjobs", "api", "jobs", str(job_id))).body)
        if job["status"] not in ("queued", "running"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never finished")


@pytest.mark.nbjobs_config(max_concurrent_jobs=1, max_queued_jobs_per_user=2, chunk_delay=0.5)
async def test_a_user_with_too_many_queued_jobs_gets_a_429(submit, jp_fetch):
    answers = [await submit(contacts_csv(500)) for _ in range(4)]
    codes = [answer.code for answer in answers]
    # The first starts at once; two more wait queued; the fourth is one too many.
    assert codes[:3] == [201, 201, 201]
    if codes[3] == 201:  # the first had not left the queue yet: one more is refused
        answers.append(await submit(contacts_csv(500)))
    refused = answers[-1]
    assert refused.code == 429
    answer = json.loads(refused.body)
    assert answer["error"] == "QuotaExceeded"
    assert "max_queued_jobs_per_user" in answer["message"]
    for answer in answers:
        if answer.code == 201:
            job_id = json.loads(answer.body)["jobId"]
            await jp_fetch("nbjobs", "api", "jobs", str(job_id), "cancel", method="POST", body=b"")


@pytest.mark.nbjobs_config(max_output_bytes_per_user=1000)
async def test_a_user_whose_outputs_fill_the_quota_gets_a_429(submit, jp_fetch):
    first = json.loads((await submit(contacts_csv(50))).body)
    job = await until_final(jp_fetch, first["jobId"])
    assert job["status"] == "completed"
    refused = await submit(contacts_csv(5))
    assert refused.code == 429
    message = json.loads(refused.body)["message"]
    assert "max_output_bytes_per_user" in message and "bytes" in message


@pytest.mark.nbjobs_config(retention_days=1e-6)  # a tenth of a second
async def test_retention_removes_old_files_and_keeps_the_jobs(submit, jp_fetch, jp_serverapp):
    services = jp_serverapp.web_app.settings["nbjobs"]
    job = await until_final(jp_fetch, json.loads((await submit(contacts_csv(20))).body)["jobId"])
    stored = await services.store.get(job["jobId"])
    paths = [stored.input_path, stored.output_path, stored.invalid_path, stored.parquet_path]
    assert all(os.path.exists(path) for path in paths)
    await asyncio.sleep(0.2)

    assert await services.runner.expire_old_jobs() == [job["jobId"]]
    assert not any(os.path.exists(path) for path in paths)
    kept = json.loads((await jp_fetch("nbjobs", "api", "jobs", str(job["jobId"]))).body)
    assert kept["status"] == "completed" and kept["expiredAt"] is not None
    assert kept["outputFileUrl"] is None and kept["processedRows"] == 20
    gone = await jp_fetch("nbjobs", "api", "jobs", str(job["jobId"]), "output", raise_error=False)
    assert gone.code == 410
    assert "retention_days" in json.loads(gone.body)["message"]
    assert await services.runner.expire_old_jobs() == []  # once

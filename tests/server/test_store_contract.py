"""The ``JobStore`` contract (``nbjobs.server.store``), run against every implementation
(``stores.STORE_IMPLEMENTATIONS``): what the runner and the handlers rely on."""

from __future__ import annotations

import asyncio
from datetime import timezone

import pytest

from nbjobs.exceptions import NotFound
from nbjobs.protocol import Completed, Counts, JobStatus
from nbjobs.server.store import INTERRUPTED_MESSAGE, JobStore

from .stores import SUMMARY, new_job


def completed(processed: int = 250, valid: int = 240) -> Completed:
    return Completed(
        counts=Counts(processed, valid, processed - valid),
        total_rows=processed,
        output_path="/o/1.csv",
        invalid_path="/o/1.invalid.csv",
        parquet_path="/o/1.parquet",
        summary=SUMMARY,
    )


async def test_create_and_get_round_trip(store: JobStore):
    job = await new_job(store)
    assert job.status is JobStatus.QUEUED
    assert job.owner == "alice"
    assert job.input_path == "/data/inputs/contacts.csv"
    assert job.columns == {"Phone": "phone"}
    assert job.options == {"default_region": "GB"}
    assert job.created_at.tzinfo == timezone.utc
    assert (job.started_at, job.finished_at, job.total_rows, job.summary) == (None,) * 4
    assert (job.processed_rows, job.valid_rows, job.invalid_rows) == (0, 0, 0)
    again = await store.get(job.id, owner="alice")
    assert again == job


async def test_ids_are_new_and_increasing(store: JobStore):
    ids = [(await new_job(store, name=f"{i}.csv")).id for i in range(5)]
    assert ids == sorted(set(ids))


async def test_unknown_and_foreign_jobs_are_not_found_alike(store: JobStore):
    job = await new_job(store, owner="alice")
    with pytest.raises(NotFound) as missing:
        await store.get(job.id + 100)
    with pytest.raises(NotFound) as foreign:
        await store.get(job.id, owner="bob")
    assert missing.value.message == f"Job {job.id + 100} not found."
    assert foreign.value.message == f"Job {job.id} not found."
    assert (await store.get(job.id, owner="alice")).id == job.id


async def test_list_recent_is_newest_first_limited_and_per_owner(store: JobStore):
    ids = [(await new_job(store, owner="alice", name=f"{i}.csv")).id for i in range(5)]
    await new_job(store, owner="bob")
    assert [job.id for job in await store.list_recent(owner="alice")] == ids[::-1]
    assert [job.id for job in await store.list_recent(owner="alice", limit=2)] == ids[::-1][:2]
    assert [job.owner for job in await store.list_recent(owner="bob")] == ["bob"]
    assert await store.list_recent(owner="carol") == []


async def test_list_active_is_the_owners_queued_and_running_oldest_first(store: JobStore):
    first, second, third = [await new_job(store, name=f"{i}.csv") for i in range(3)]
    await new_job(store, owner="bob")
    assert await store.mark_running(second.id)
    await store.mark_failed(third.id, "boom")
    active = await store.list_active(owner="alice")
    assert [(job.id, job.status) for job in active] == [
        (first.id, JobStatus.QUEUED),
        (second.id, JobStatus.RUNNING),
    ]


async def test_running_progress_and_completed(store: JobStore):
    job = await new_job(store)
    assert await store.mark_running(job.id)
    assert not await store.mark_running(job.id)  # claimed once
    running = await store.get(job.id)
    assert running.status is JobStatus.RUNNING
    assert running.started_at is not None

    await store.update_progress(job.id, Counts(100, 90, 10), total=250)
    progressed = await store.get(job.id)
    assert (progressed.processed_rows, progressed.valid_rows, progressed.invalid_rows) == (
        100,
        90,
        10,
    )
    assert progressed.total_rows == 250

    done = await store.mark_completed(job.id, completed())
    assert done.status is JobStatus.COMPLETED
    assert done.finished_at is not None and done.started_at is not None
    assert done.finished_at >= done.started_at
    assert (done.processed_rows, done.valid_rows, done.invalid_rows) == (250, 240, 10)
    assert (done.output_path, done.invalid_path, done.parquet_path) == (
        "/o/1.csv",
        "/o/1.invalid.csv",
        "/o/1.parquet",
    )
    assert done.summary == SUMMARY
    assert await store.get(job.id) == done


async def test_failed_without_counts_keeps_the_last_progress(store: JobStore):
    job = await new_job(store)
    await store.mark_running(job.id)
    await store.update_progress(job.id, Counts(30, 20, 10), total=None)
    failed = await store.mark_failed(job.id, "The worker process stopped unexpectedly.")
    assert failed.status is JobStatus.FAILED
    assert failed.error_message == "The worker process stopped unexpectedly."
    assert (failed.processed_rows, failed.valid_rows, failed.invalid_rows) == (30, 20, 10)


async def test_a_queued_job_can_be_cancelled_and_is_then_never_claimed(store: JobStore):
    job = await new_job(store)
    cancelled = await store.mark_cancelled(job.id)
    assert cancelled.status is JobStatus.CANCELLED and cancelled.finished_at is not None
    assert not await store.mark_running(job.id)
    assert (await store.get(job.id)).status is JobStatus.CANCELLED


async def test_final_states_are_never_overwritten(store: JobStore):
    job = await new_job(store)
    await store.mark_running(job.id)
    cancelled = await store.mark_cancelled(job.id, counts=Counts(10, 10, 0))
    assert cancelled.status is JobStatus.CANCELLED
    assert await store.mark_completed(job.id, completed(99, 99)) == cancelled
    assert await store.mark_failed(job.id, "late") == cancelled
    await store.update_progress(job.id, Counts(50, 50, 0), total=99)
    assert not await store.mark_running(job.id)
    assert await store.get(job.id) == cancelled


async def test_a_clean_shutdown_interrupts_running_jobs_and_hands_queued_ones_on(make_store):
    mine, other = await make_store("host-a:1:a"), await make_store("host-b:2:b")
    running, queued, finished = [await new_job(mine) for _ in range(3)]
    await mine.mark_running(running.id)
    await mine.mark_failed(finished.id, "boom")
    theirs = await new_job(other)
    await other.mark_running(theirs.id)

    stopped = await mine.interrupt_own_jobs("The server was shut down.")
    assert stopped == [running.id]
    job = await mine.get(running.id)
    assert job.status is JobStatus.INTERRUPTED
    assert job.error_message == "The server was shut down."
    assert job.finished_at is not None
    assert (await mine.get(queued.id)).status is JobStatus.QUEUED
    assert (await mine.get(theirs.id)).status is JobStatus.RUNNING
    assert (await mine.get(finished.id)).error_message == "boom"

    # Its lease is gone: the next server to reconcile takes the queued job, not the live one's.
    reconciled = await other.reconcile()
    assert reconciled.interrupted == []
    assert [job.id for job in reconciled.adopted] == [queued.id]
    adopted = await other.get(queued.id)
    assert (adopted.status, adopted.server_id) == (JobStatus.QUEUED, "host-b:2:b")
    assert await other.mark_running(queued.id)


async def test_at_start_this_servers_own_id_is_an_earlier_process(make_store):
    earlier = await make_store()  # an earlier process with the same id (same host, same pid)
    left_running = await new_job(earlier)
    await earlier.mark_running(left_running.id)
    left_queued = await new_job(earlier)
    await earlier.close()

    restarted = await make_store()
    reconciled = await restarted.reconcile(at_start=True)
    assert reconciled.interrupted == [left_running.id]
    assert [job.id for job in reconciled.adopted] == [left_queued.id]
    stopped = await restarted.get(left_running.id)
    assert (stopped.status, stopped.error_message) == (JobStatus.INTERRUPTED, INTERRUPTED_MESSAGE)
    assert (await restarted.reconcile(at_start=True)).interrupted == []  # idempotent
    assert (await restarted.reconcile()).adopted == []  # its own queued job is not "adopted" again


async def test_a_server_whose_lease_runs_out_is_dead_and_a_live_one_is_not(make_store):
    alive, dying, survivor = [
        await make_store(f"host-{name}:1:{name}", lease_seconds=1.0)
        for name in ("alive", "dying", "survivor")
    ]
    theirs = await new_job(alive)
    await alive.mark_running(theirs.id)
    lost = await new_job(dying)
    await dying.mark_running(lost.id)
    waiting = await new_job(dying)

    await asyncio.sleep(1.3)  # "dying" stops beating; "alive" renews its lease
    await alive.heartbeat()
    await survivor.heartbeat()
    reconciled = await survivor.reconcile()
    assert reconciled.interrupted == [lost.id]
    assert [job.id for job in reconciled.adopted] == [waiting.id]
    assert (await survivor.get(theirs.id)).status is JobStatus.RUNNING
    assert (await survivor.get(lost.id)).status is JobStatus.INTERRUPTED
    assert (await alive.reconcile()).adopted == []  # taken once


async def test_cancel_a_queued_job_at_once_and_a_running_one_by_request(make_store):
    here, there = await make_store("host-a:1:a"), await make_store("host-b:2:b")
    queued, running = await new_job(there), await new_job(there)
    await there.mark_running(running.id)

    cancelled = await here.cancel_queued(queued.id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
    assert await here.cancel_queued(queued.id) is None
    assert not await there.mark_running(queued.id)
    assert await here.cancel_queued(running.id) is None  # running: not this way

    assert await there.cancel_requests([running.id]) == []
    assert await here.request_cancel(running.id)
    assert await there.cancel_requests([running.id, queued.id]) == [running.id]
    assert not await here.request_cancel(queued.id)  # finished: nothing to ask


async def test_concurrent_calls_from_the_event_loop(store: JobStore):
    async def work(i: int) -> int:
        job = await new_job(store, name=f"{i}.csv")
        await store.mark_running(job.id)
        await store.update_progress(job.id, Counts(1, 1, 0), total=1)
        return job.id

    ids = await asyncio.gather(*(work(i) for i in range(40)))
    assert len(set(ids)) == 40
    jobs = await store.list_recent(owner="alice", limit=100)
    assert all(job.processed_rows == 1 for job in jobs) and len(jobs) == 40

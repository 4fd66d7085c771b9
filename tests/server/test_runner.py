"""``JobRunner`` with a real store and a scripted executor: scheduling, coalesced progress,
and what each final message becomes, in the order clients rely on."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from nbjobs import protocol
from nbjobs.exceptions import Conflict
from nbjobs.protocol import (
    Cancelled,
    Completed,
    Counts,
    Failed,
    JobStatus,
    Progress,
    Started,
    WorkerMessage,
)
from nbjobs.server.events import EventSink
from nbjobs.server.executor import Execution, Executor
from nbjobs.server.runner import JobRunner
from nbjobs.server.store import JobStore
from nbjobs.worker.settings import WorkerJob

from .stores import SUMMARY, new_job


class ScriptedExecution(Execution):
    """An execution whose messages the test puts in; records cancel and terminate."""

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id)
        self.cancelled = self.terminated = False

    def send(self, *messages: WorkerMessage) -> None:
        for message in messages:
            self.messages.put_nowait(message)

    def cancel(self) -> None:
        self.cancelled = True

    async def terminate(self) -> None:
        self.terminated = True


class ScriptedExecutor(Executor):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.executions: dict[int, ScriptedExecution] = {}
        self.started = asyncio.Event()

    def submit(self, job: WorkerJob) -> Execution:
        self.executions[job.job_id] = execution = ScriptedExecution(job.job_id)
        self.started.set()
        return execution


class RecordingSink(EventSink):
    """Records every event with what the store said of its job at that moment."""

    def __init__(self, store: JobStore, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.events: list[tuple[str, dict[str, Any], str]] = []
        self.changed = asyncio.Event()

    async def emit(self, event: str, payload: Mapping[str, Any], *, owner: str) -> None:
        status = (await self.store.get(payload["jobId"])).status
        self.events.append((event, dict(payload), status.value))
        self.changed.set()

    def of(self, job_id: int) -> list[tuple[str, dict[str, Any], str]]:
        return [event for event in self.events if event[1]["jobId"] == job_id]

    async def wait_for(self, count: int, job_id: int, timeout: float = 5) -> None:
        async def until() -> None:
            while len(self.of(job_id)) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), timeout)


@pytest.fixture
def parts(store, jp_asyncio_loop):
    executor = ScriptedExecutor(output_dir="/nowhere")
    sink = RecordingSink(store)
    runner = JobRunner(
        store=store,
        executor=executor,
        events=sink,
        base_url="/base/",
        max_concurrent_jobs=1,
        progress_min_interval=0.2,
    )
    yield runner, executor, sink
    jp_asyncio_loop.run_until_complete(runner.stop())


async def start_job(store: JobStore, parts: tuple[Any, ...]) -> tuple[Any, ScriptedExecution]:
    """A new job, submitted and started: the job and its execution."""
    runner, executor, _ = parts
    job = await new_job(store)
    runner.submit(job)
    return job, await until_running(executor, job.id)


async def until_running(executor: ScriptedExecutor, job_id: int) -> ScriptedExecution:
    for _ in range(100):
        if job_id in executor.executions:
            return executor.executions[job_id]
        await asyncio.sleep(0.01)
    raise AssertionError(f"job {job_id} never started")


def progress(processed: int, total: int = 100) -> Progress:
    return Progress(counts=Counts(processed, processed, 0), total_rows=total)


def done(processed: int = 100) -> Completed:
    return Completed(Counts(processed, processed, 0), processed, "/o.csv", "/i.csv", "/p", SUMMARY)


async def test_a_burst_of_progress_becomes_one_event_with_the_latest_counts(store, parts):
    sink = parts[2]
    job, execution = await start_job(store, parts)
    execution.send(Started(100), *(progress(n) for n in range(10, 60, 10)))
    await sink.wait_for(1, job.id)
    await asyncio.sleep(0.05)
    assert [p["processedRows"] for _, p, _ in sink.of(job.id)] == [50]
    assert (await store.get(job.id)).processed_rows == 50


async def test_progress_is_at_most_one_event_per_interval_and_the_latest_wins(store, parts):
    sink = parts[2]
    job, execution = await start_job(store, parts)
    execution.send(Started(100), progress(10))
    await sink.wait_for(1, job.id)
    loop = asyncio.get_running_loop()
    first = loop.time()
    for n in (20, 30, 40):  # within the interval: only 40 goes out, at its end
        execution.send(progress(n))
        await asyncio.sleep(0.02)
    await sink.wait_for(2, job.id)
    assert loop.time() - first >= 0.2 * 0.9
    assert [p["processedRows"] for _, p, _ in sink.of(job.id)] == [10, 40]
    payload = dict(sink.of(job.id)[-1][1])
    assert tuple(payload) == (*protocol.PROGRESS_KEYS, *protocol.THROUGHPUT_KEYS)
    rate, eta = payload.pop("rowsPerSecond"), payload.pop("eta")
    assert payload == {
        "jobId": job.id,
        "processedRows": 40,
        "validRows": 40,
        "invalidRows": 0,
        "totalRows": 100,
        "progress": 40,
    }
    # 40 rows in about 0.2 s since Started: 60 left at that rate.
    elapsed = loop.time() - first
    assert 40 / (elapsed + 0.5) <= rate <= 40 / (elapsed * 0.5)
    assert abs(eta - 60 / rate) <= 1


async def test_completed_is_stored_then_announced_after_a_100_percent_progress(store, parts):
    sink = parts[2]
    job, execution = await start_job(store, parts)
    execution.send(Started(100), progress(10))
    await sink.wait_for(1, job.id)
    execution.send(progress(90), done())
    await sink.wait_for(3, job.id)
    names = [(event, p.get("processedRows"), status) for event, p, status in sink.of(job.id)]
    # The pending 90% is superseded by the final 100%; the store says completed before both.
    assert names == [
        (protocol.PROGRESS, 10, "running"),
        (protocol.PROGRESS, 100, "completed"),
        (protocol.COMPLETED, 100, "completed"),
    ]
    completed = sink.of(job.id)[-1][1]
    assert completed["outputFileUrl"] == f"/base/nbjobs/api/jobs/{job.id}/output"
    assert not parts[0].busy


@pytest.mark.parametrize(
    ("final", "event"),
    [
        (Failed("Malformed CSV at row 6.", Counts(30, 30, 0)), protocol.FAILED),
        (Cancelled(Counts(30, 30, 0)), protocol.CANCELLED),
    ],
)
async def test_a_job_that_stops_announces_its_last_counts_then_its_end(store, parts, final, event):
    sink = parts[2]
    job, execution = await start_job(store, parts)
    execution.send(Started(100), progress(10))
    await sink.wait_for(1, job.id)
    execution.send(progress(20), progress(30), final)
    await sink.wait_for(3, job.id)
    events = sink.of(job.id)
    assert [(name, p.get("processedRows")) for name, p, _ in events[:2]] == [
        (protocol.PROGRESS, 10),
        (protocol.PROGRESS, 30),
    ]
    name, payload, status = events[2]
    assert name == event and status == payload["status"]
    stored = await store.get(job.id)
    assert stored.processed_rows == 30
    if isinstance(final, Failed):
        assert payload == {"jobId": job.id, "status": "failed", "errorMessage": final.error_message}


async def test_jobs_wait_for_a_free_slot_in_order(store, parts):
    runner, executor, _sink = parts
    jobs = [await new_job(store, name=f"{i}.csv") for i in range(3)]
    for job in jobs:
        runner.submit(job)
    first = await until_running(executor, jobs[0].id)
    assert list(executor.executions) == [jobs[0].id]  # max_concurrent_jobs=1
    assert (await store.get(jobs[1].id)).status is JobStatus.QUEUED
    first.send(Started(1), done(1))
    second = await until_running(executor, jobs[1].id)
    assert list(executor.executions) == [jobs[0].id, jobs[1].id]
    second.send(Started(1), done(1))
    await until_running(executor, jobs[2].id)
    assert runner.busy


async def test_cancel_a_queued_job_now_and_a_running_one_between_chunks(store, parts):
    runner, executor, sink = parts
    running, queued = await new_job(store), await new_job(store)
    runner.submit(running)
    runner.submit(queued)
    execution = await until_running(executor, running.id)

    cancelled = await runner.cancel(queued.id, "alice")
    assert cancelled.status is JobStatus.CANCELLED
    assert [(name, status) for name, _, status in sink.of(queued.id)] == [
        (protocol.CANCELLED, "cancelled")
    ]
    with pytest.raises(Conflict):
        await runner.cancel(queued.id, "alice")

    assert (await runner.cancel(running.id, "alice")).id == running.id
    assert execution.cancelled
    execution.send(Cancelled(Counts()))
    await sink.wait_for(1, running.id)
    assert (await store.get(running.id)).status is JobStatus.CANCELLED
    assert queued.id not in executor.executions  # never started


async def test_a_worker_that_cannot_start_fails_its_job_only(store, parts):
    runner, executor, sink = parts

    def refuse(job: WorkerJob) -> Execution:
        raise OSError("no more processes")

    executor.submit = refuse  # type: ignore[method-assign]
    job = await new_job(store)
    runner.submit(job)
    await sink.wait_for(1, job.id)
    name, payload, _ = sink.of(job.id)[0]
    assert name == protocol.FAILED
    assert payload["errorMessage"] == "Could not start a worker: no more processes"


async def test_stop_interrupts_running_jobs_and_leaves_queued_ones_queued(store, parts):
    runner, executor, sink = parts
    running, queued = await new_job(store), await new_job(store)
    runner.submit(running)
    runner.submit(queued)
    execution = await until_running(executor, running.id)
    await runner.stop()
    assert execution.terminated
    assert (await store.get(running.id)).status is JobStatus.INTERRUPTED
    assert (await store.get(queued.id)).status is JobStatus.QUEUED  # for the next server
    assert sink.events == []


@pytest.mark.parametrize(
    ("processed", "total", "seconds", "expected"),
    [
        (0, 100, 1.0, {}),  # no rows yet: no rate to speak of
        (50, 100, 0.0, {}),
        (500, 2000, 2.0, {"rowsPerSecond": 250, "eta": 6}),
        (500, None, 2.0, {"rowsPerSecond": 250, "eta": None}),  # total unknown
        (120, 100, 1.0, {"rowsPerSecond": 120, "eta": 0}),  # never negative
    ],
)
def test_throughput(processed, total, seconds, expected):
    assert protocol.throughput(processed, total, seconds) == expected


async def test_the_live_view_survives_the_coalescing(store, parts):
    """A live view comes every few seconds on one progress message: coalesced into a later
    one, it goes out with the later counts."""
    sink = parts[2]
    job, execution = await start_job(store, parts)
    view: protocol.LiveView = {
        "columnCounts": [{"column": "P", "type": "phone", "valid": 9, "invalid": 1, "null": 0}],
        "preview": [{"P": "1", "P_normalized": "", "_valid": "False"}],
    }
    execution.send(Started(100), progress(1))
    await sink.wait_for(1, job.id)
    execution.send(dataclasses.replace(progress(10), live=view), progress(20), progress(30))
    await sink.wait_for(2, job.id)
    payload = sink.of(job.id)[-1][1]
    assert payload["processedRows"] == 30
    assert payload["columnCounts"] == view["columnCounts"]
    assert payload["preview"] == view["preview"]
    execution.send(progress(40))
    await sink.wait_for(3, job.id)
    assert "columnCounts" not in sink.of(job.id)[-1][1]  # sent once

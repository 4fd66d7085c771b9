"""The ``Executor`` contract (``nbjobs.server.executor``), run against every implementation
(``executors.EXECUTOR_IMPLEMENTATIONS``) with real worker processes: the messages and their
order, outputs byte-identical to the job loop run in-process, cancel, a dead worker, and
shutdown."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from nbjobs.protocol import (
    Cancelled,
    Completed,
    Failed,
    Progress,
    Started,
    WorkerMessage,
)
from nbjobs.server.executor import Execution
from nbjobs.worker.job import run_job
from nbjobs.worker.settings import WorkerJob, WorkerSettings
from tests.conftest import contacts_csv

from .executors import EXECUTOR_IMPLEMENTATIONS, IMPLEMENTATIONS, kill_worker, make_executor

COLUMNS = {"Full Name": "name", "Phone": "phone", "Email": "email"}


@pytest.fixture(params=sorted(EXECUTOR_IMPLEMENTATIONS))
def executor_name(request) -> str:
    return str(request.param)


@pytest.fixture
def input_csv(tmp_path) -> Path:
    path = tmp_path / "input.csv"
    path.write_bytes(contacts_csv(450))
    return path


def job_for(path: Path, job_id: int = 1) -> WorkerJob:
    return WorkerJob(job_id, str(path), "csv", dict(COLUMNS), {})


async def first_progress(execution: Execution) -> None:
    while not isinstance(await execution.messages.get(), Progress):
        pass


async def collect(execution: Execution, timeout: float = 60) -> list[WorkerMessage]:
    """Every message up to the final one."""
    messages: list[WorkerMessage] = []
    while not messages or not isinstance(messages[-1], (Completed, Failed, Cancelled)):
        messages.append(await asyncio.wait_for(execution.messages.get(), timeout))
    return messages


def outputs(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


async def test_a_job_reports_in_order_and_writes_the_outputs_of_the_job_loop(
    executor_name, input_csv, tmp_path
):
    executor = make_executor(executor_name, output_dir=str(tmp_path / "out"), chunk_size=100)
    await executor.start()
    try:
        messages = await collect(executor.submit(job_for(input_csv)))
    finally:
        await executor.stop()
    assert isinstance(messages[0], Started) and messages[0].total_rows == 450
    progress = [m.counts.processed for m in messages if isinstance(m, Progress)]
    assert progress == sorted(progress) and progress[-1] == 450
    done = messages[-1]
    assert isinstance(done, Completed) and done.counts.processed == 450
    assert all(isinstance(m, Progress) for m in messages[1:-1])

    reference: list[WorkerMessage] = []
    settings = WorkerSettings(output_dir=str(tmp_path / "reference"), chunk_size=100)
    run_job(job_for(input_csv), settings, reference.append, lambda: False)
    expected = reference[-1]
    assert isinstance(expected, Completed)
    assert (done.counts, done.total_rows, done.summary) == (
        expected.counts,
        expected.total_rows,
        expected.summary,
    )
    assert outputs(tmp_path / "out") == outputs(tmp_path / "reference")  # byte for byte


async def test_cancel_stops_between_chunks_and_leaves_no_output(executor_name, input_csv, tmp_path):
    out = tmp_path / "out"
    executor = make_executor(executor_name, output_dir=str(out), chunk_size=50, chunk_delay=0.2)
    await executor.start()
    try:
        execution = executor.submit(job_for(input_csv))
        await first_progress(execution)
        execution.cancel()
        messages = await collect(execution, timeout=20)
    finally:
        await executor.stop()
    assert isinstance(messages[-1], Cancelled)
    assert 0 < messages[-1].counts.processed < 450
    assert os.listdir(out) == []


async def test_an_unreadable_input_fails_with_a_message_a_person_can_act_on(
    executor_name, tmp_path
):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"Full Name,Phone,Email\n" + b"a,b,c\n" * 5 + b"1,2,3,4\n")
    executor = make_executor(executor_name, output_dir=str(tmp_path / "out"))
    await executor.start()
    try:
        messages = await collect(executor.submit(job_for(bad)))
    finally:
        await executor.stop()
    assert messages == [
        Failed(
            error_message="Malformed CSV at row 6 (line 7): expected 3 fields, found 4.",
            counts=messages[-1].counts,  # type: ignore[union-attr]
        )
    ]


async def test_a_killed_worker_is_rerun_or_fails_the_job_with_what_happened(
    executor_name, input_csv, tmp_path
):
    executor = make_executor(
        executor_name, output_dir=str(tmp_path / "out"), chunk_size=50, chunk_delay=0.5
    )
    await executor.start()
    try:
        execution = executor.submit(job_for(input_csv))
        await first_progress(execution)
        await kill_worker(executor_name, execution)
        messages = await collect(execution, timeout=60)
    finally:
        await executor.stop()
    final = messages[-1]
    if IMPLEMENTATIONS[executor_name].reruns_lost_work:
        reference: list[WorkerMessage] = []
        settings = WorkerSettings(output_dir=str(tmp_path / "reference"), chunk_size=50)
        run_job(job_for(input_csv), settings, reference.append, lambda: False)
        assert isinstance(final, Completed), final
        assert final.counts == reference[-1].counts  # type: ignore[union-attr]
        assert outputs(tmp_path / "out") == outputs(tmp_path / "reference")
        progress = [m.counts.processed for m in messages if isinstance(m, Progress)]
        assert progress == sorted(progress)  # the rerun does not move the bar back
    else:
        assert isinstance(final, Failed)
        assert "stopped unexpectedly" in final.error_message


async def test_terminate_stops_the_job_without_a_final_message(executor_name, input_csv, tmp_path):
    out = tmp_path / "out"
    executor = make_executor(executor_name, output_dir=str(out), chunk_size=50, chunk_delay=0.5)
    await executor.start()
    try:
        execution = executor.submit(job_for(input_csv))
        await first_progress(execution)
        await execution.terminate()
        await asyncio.sleep(0.5)
        left = []
        while not execution.messages.empty():
            left.append(execution.messages.get_nowait())
    finally:
        await executor.stop()
    assert all(isinstance(m, Progress) for m in left)
    assert os.listdir(out) == []  # the worker removed its temps

"""What only the Dask executor does, against real ``dask scheduler`` and ``dask worker``
processes over TCP (``tests/dask_cluster``): a job split into many parts still writes the local
executor's outputs byte for byte (typed Parquet input included), progress comes from within a
part, and a scheduler lost mid-job fails the job in plain words, after which the executor works
again with the scheduler back. The contract every executor passes is in
``test_executor_contract.py`` (with a killed worker's task rerun)."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nbjobs.protocol import Completed, Failed, Progress, Started
from nbjobs.server.dask_executor import DaskExecutor
from nbjobs.server.local_executor import LocalExecutor
from nbjobs.worker.settings import WorkerJob
from tests.conftest import contacts_csv
from tests.dask_cluster import DaskCluster, shared_cluster

from .test_executor_contract import COLUMNS, collect, first_progress, outputs

pytestmark = pytest.mark.slow


def typed_parquet(path: Path, rows: int) -> Path:
    """Contacts with typed columns besides: nullable integers, floats with NaN, a category."""
    frame = pd.read_csv(io.BytesIO(contacts_csv(rows)), dtype=str)
    frame["Count"] = pd.array([i if i % 7 else None for i in range(rows)], dtype="Int64")
    frame["Ratio"] = np.where(np.arange(rows) % 5 == 0, np.nan, np.arange(rows) / 3)
    frame["Tier"] = pd.Categorical([("gold", "silver", "bronze")[i % 3] for i in range(rows)])
    frame.to_parquet(path, row_group_size=777)
    return path


async def run(executor: LocalExecutor | DaskExecutor, job: WorkerJob) -> list:
    await executor.start()
    try:
        return await collect(executor.submit(job), timeout=120)
    finally:
        await executor.stop()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
async def test_many_parts_make_the_local_executors_outputs_byte_for_byte(fmt, tmp_path):
    if fmt == "csv":
        source = tmp_path / "input.csv"
        source.write_bytes(contacts_csv(12_000))
    else:
        source = typed_parquet(tmp_path / "input.parquet", 12_000)
    job = WorkerJob(1, str(source), fmt, dict(COLUMNS), {})
    # 100-row chunks in batches of 1, 2, 4, ... 64, 100 chunks; parts of >= 1500 rows: the
    # parts cut the batch sequence in many places, and the last part is short.
    options = {"chunk_size": 100, "cache_size": 500}
    dask = await run(
        DaskExecutor(
            scheduler_address=shared_cluster().address,
            output_dir=str(tmp_path / "dask"),
            part_rows=1500,
            **options,
        ),
        job,
    )
    local = await run(
        LocalExecutor(output_dir=str(tmp_path / "local"), processes_per_job=2, **options), job
    )
    assert isinstance(dask[0], Started) and dask[0].total_rows == 12_000
    done, expected = dask[-1], local[-1]
    assert isinstance(done, Completed) and isinstance(expected, Completed)
    assert (done.counts, done.summary) == (expected.counts, expected.summary)
    progress = [m.counts.processed for m in dask if isinstance(m, Progress)]
    assert progress == sorted(progress) and progress[-1] == 12_000
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "local")  # and no parts left


async def test_progress_comes_from_within_a_part(tmp_path):
    source = tmp_path / "input.csv"
    source.write_bytes(contacts_csv(600))
    executor = DaskExecutor(
        scheduler_address=shared_cluster().address,
        output_dir=str(tmp_path / "out"),
        chunk_size=50,
        chunk_delay=0.05,
        part_rows=600,  # one part
    )
    messages = await run(executor, WorkerJob(1, str(source), "csv", dict(COLUMNS), {}))
    assert isinstance(messages[-1], Completed)
    within = [m.counts.processed for m in messages if isinstance(m, Progress)]
    assert [rows for rows in within if rows < 600] == list(range(50, 600, 50))


async def test_a_lost_scheduler_fails_the_job_in_plain_words_and_the_executor_recovers(
    tmp_path,
):
    source = tmp_path / "input.csv"
    source.write_bytes(contacts_csv(400))
    job = WorkerJob(1, str(source), "csv", dict(COLUMNS), {})
    out = tmp_path / "out"
    cluster = DaskCluster(workers=1).start()
    executor = DaskExecutor(
        scheduler_address=cluster.address,
        output_dir=str(out),
        chunk_size=50,
        chunk_delay=0.5,
        connect_timeout=5,
    )
    await executor.start()
    try:
        execution = executor.submit(job)
        await first_progress(execution)
        cluster.kill_scheduler()
        cluster.stop()
        messages = await collect(execution, timeout=60)
        final = messages[-1]
        assert isinstance(final, Failed)
        assert "Lost the connection to the Dask scheduler" in final.error_message
        assert cluster.address in final.error_message
        assert os.listdir(out) == []  # no output, no parts

        # A job while the scheduler is down says so too, then one after it is back runs.
        while executor.client.status not in ("closed", "closing"):
            await asyncio.sleep(0.2)
        down = await collect(executor.submit(WorkerJob(2, str(source), "csv", COLUMNS, {})))
        assert isinstance(down[-1], Failed)
        assert "Cannot reach the Dask scheduler" in down[-1].error_message
        cluster = DaskCluster(workers=1, port=cluster.port).start()  # at the same address
        back = await collect(executor.submit(WorkerJob(3, str(source), "csv", COLUMNS, {})))
        assert isinstance(back[-1], Completed) and back[-1].counts.processed == 400
    finally:
        await executor.stop()
        cluster.stop()

"""The executors the server tests run against, with what only each one knows: how to build it,
how to kill the worker of a running execution, and what then happens to the job."""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from nbjobs.server.dask_executor import DaskExecution, DaskExecutor
from nbjobs.server.executor import Execution, Executor
from nbjobs.server.local_executor import LocalExecution, LocalExecutor
from tests.dask_cluster import shared_cluster


@dataclasses.dataclass(frozen=True)
class Implementation:
    make: Callable[..., Executor]
    kill_worker: Callable[[Execution], Awaitable[None]]
    # A killed worker's work is done again and the job completes (True), or the job fails.
    reruns_lost_work: bool


async def _kill_local(execution: Execution) -> None:
    assert isinstance(execution, LocalExecution)
    pid = execution.process.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)


def _make_dask(**options: Any) -> Executor:
    """On the session's cluster of real scheduler and worker processes (tests/dask_cluster)."""
    return DaskExecutor(scheduler_address=shared_cluster().address, **options)


async def _kill_dask(execution: Execution) -> None:
    """SIGKILL the worker process running one of the job's tasks (its nanny restarts it)."""
    assert isinstance(execution, DaskExecution)
    client = execution.executor.client
    processing = await client.processing()
    busy = [worker for worker, keys in processing.items() if any(execution.key in k for k in keys)]
    assert busy, f"no worker is running a task of job {execution.job_id}: {processing}"
    pids = await client.run(os.getpid, workers=busy[:1])
    os.kill(pids[busy[0]], signal.SIGKILL)


IMPLEMENTATIONS: dict[str, Implementation] = {
    "local": Implementation(LocalExecutor, _kill_local, reruns_lost_work=False),
    "dask": Implementation(_make_dask, _kill_dask, reruns_lost_work=True),
}
EXECUTOR_IMPLEMENTATIONS = sorted(IMPLEMENTATIONS)


def make_executor(name: str, **options: Any) -> Executor:
    return IMPLEMENTATIONS[name].make(**options)


async def kill_worker(name: str, execution: Execution) -> None:
    await IMPLEMENTATIONS[name].kill_worker(execution)

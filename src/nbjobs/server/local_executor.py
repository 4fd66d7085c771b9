"""``LocalExecutor``: each job in a worker process of this machine, the default executor.

A job's process is forked by a forkserver that has the job loop and the engine preloaded, so
normalization never blocks Jupyter's event loop, a job starts in milliseconds, and a crash or a
kill takes only that job down. The worker sends its messages over a pipe, read on the event loop
(``add_reader``, no thread); when the pipe closes without a final message, the worker died.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing.connection
import os

from traitlets import Int, default

from ..protocol import Cancelled, Completed, Failed
from ..worker import job as worker_job
from ..worker.forkserver import forkserver_context, warm_up
from ..worker.settings import WorkerJob, WorkerSettings
from .executor import Execution, Executor

__all__ = ["LocalExecution", "LocalExecutor"]

# What the forkserver imports once, for every job it forks.
_PRELOAD = (worker_job,)


class LocalExecution(Execution):
    def __init__(self, job: WorkerJob, executor: LocalExecutor) -> None:
        super().__init__(job.job_id)
        context = forkserver_context(_PRELOAD)
        reader, writer = context.Pipe(duplex=False)
        self._cancel = context.Event()
        self.process = context.Process(
            target=worker_job.run_in_subprocess,
            args=(job, executor.settings(), writer, self._cancel),
            name=f"nbjobs-job-{job.job_id}",
            daemon=True,
        )
        self.process.start()
        # Only the worker may hold the write end: when it exits (or is killed) the reader
        # sees EOF, which is how a dead worker is noticed.
        writer.close()
        self._conn: multiprocessing.connection.Connection = reader
        self._final = False
        self._terminated = False
        self._death: asyncio.Future[None] | None = None
        asyncio.get_running_loop().add_reader(reader.fileno(), self._read)

    def _read(self) -> None:
        try:
            while self._conn.poll():
                message = self._conn.recv()
                self._final = isinstance(message, (Completed, Failed, Cancelled))
                self.messages.put_nowait(message)
        except (EOFError, OSError):
            self._detach()
            if not self._final and not self._terminated:
                self._death = asyncio.ensure_future(self._report_death())

    async def _report_death(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.process.join, 5)
        code = self.process.exitcode
        self.messages.put_nowait(
            Failed(f"The worker process stopped unexpectedly (exit code {code}).")
        )

    def _detach(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            asyncio.get_running_loop().remove_reader(self._conn.fileno())
        self._conn.close()

    def cancel(self) -> None:
        self._cancel.set()

    async def terminate(self) -> None:
        self._terminated = True
        if self.process.is_alive():
            self.process.terminate()  # SIGTERM: the worker removes its temp files
        await asyncio.get_running_loop().run_in_executor(None, self.process.join, 5)
        if not self._conn.closed:
            self._detach()


class LocalExecutor(Executor):
    """Jobs in worker processes of this machine, each with a pool of ``processes_per_job``."""

    processes_per_job = Int(
        min=1,
        config=True,
        help=(
            "Processes parsing the distinct values of one job, rows assembled in input order: "
            "the job's worker and a pool of processes_per_job - 1 (default: the CPUs this "
            "server may use); 1 normalizes in the job's worker alone."
        ),
    )

    @default("processes_per_job")
    def _default_processes_per_job(self) -> int:
        return len(os.sched_getaffinity(0))

    def settings(self) -> WorkerSettings:
        return dataclasses.replace(super().settings(), processes=self.processes_per_job)

    async def start(self) -> None:
        # The forkserver imports pandas and the parsers: off the event loop.
        await asyncio.get_running_loop().run_in_executor(None, warm_up, _PRELOAD)

    def submit(self, job: WorkerJob) -> Execution:
        return LocalExecution(job, self)

"""Scheduling and execution: at most ``max_concurrent_jobs`` worker processes, one per job.

Each job runs in its own process (started by a forkserver that has the engine preloaded), so
normalization never blocks Jupyter's event loop and a crash or a kill takes only that job down.
The worker streams messages over a pipe; the runner reads them on the event loop
(``add_reader``, no threads), writes them to the store and hands them to ``Realtime``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
from typing import Any

from .exceptions import Conflict
from .models import JobRecord, public_job
from .normalization.engine import DEFAULT_CACHE_SIZE
from .realtime import Realtime
from .store import JobStore
from .worker import WorkerJob, run_in_subprocess

log = logging.getLogger("NbJobs")

_context: Any = None


def worker_context() -> Any:
    """The multiprocessing context for workers, created once per server process.

    fork is unsafe in a threaded, asyncio server; spawn re-imports pandas for every job
    (about a second). A forkserver imports the engine once and forks from that clean process.
    """
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["nbjobs.worker", "nbjobs.normalization"])
        _context = ctx
    return _context


Message = tuple[str, dict[str, Any]] | None  # from a worker; None: its pipe closed


@dataclasses.dataclass
class _Running:
    job: JobRecord
    process: Any
    conn: multiprocessing.connection.Connection
    cancel_event: Any
    messages: asyncio.Queue[Message]
    task: asyncio.Task[None] | None = None
    finished: bool = False


def _drain(first: Message, queue: asyncio.Queue[Message]) -> list[Message]:
    """``first`` and every message already queued behind it, each run of consecutive progress
    messages reduced to its last, whose counts supersede the others: a batch of chunks arrives
    as a burst of progress messages, and each costs a store write and an event."""
    drained = [first]
    while not queue.empty():
        message = queue.get_nowait()
        last = drained[-1]
        if message and last and message[0] == last[0] == "progress":
            drained[-1] = message
        else:
            drained.append(message)
    return drained


class JobRunner:
    """Options: ``max_concurrent_jobs`` (default 2), ``chunk_size`` rows per chunk (default
    1000), ``chunk_delay`` seconds to pause after each chunk (default 0; for demos),
    ``processes_per_job`` processes parsing one job's distinct values (default 1: the worker
    alone), ``cache_size`` parsed values a job remembers per field type (memory)."""

    def __init__(
        self,
        *,
        store: JobStore,
        realtime: Realtime,
        output_dir: str,
        base_url: str,
        max_concurrent_jobs: int = 2,
        chunk_size: int = 1000,
        chunk_delay: float = 0.0,
        processes_per_job: int = 1,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.store = store
        self.realtime = realtime
        self.output_dir = output_dir
        self.base_url = base_url
        self.max_concurrent_jobs = max_concurrent_jobs
        self.chunk_size = chunk_size
        self.chunk_delay = chunk_delay
        self.processes_per_job = processes_per_job
        self.cache_size = cache_size
        self._pending: collections.deque[int] = collections.deque()
        self._running: dict[int, _Running] = {}
        self._stopping = False
        self._background: set[asyncio.Future[None]] = set()

    # -- public ------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return bool(self._pending or self._running)

    def submit(self, job: JobRecord) -> None:
        self._pending.append(job.id)
        self._start_pending()

    async def cancel(self, job_id: int, owner: str) -> JobRecord:
        job = self.store.get(job_id, owner=owner)
        if job.status == "queued" and job_id in self._pending:
            self._pending.remove(job_id)
            job = self.store.mark_cancelled(
                job_id, processed=job.processed_rows, valid=job.valid_rows, invalid=job.invalid_rows
            )
            await self._announce_final(job)
            return job
        running = self._running.get(job_id)
        if job.status == "running" and running is not None:
            running.cancel_event.set()
            return job
        raise Conflict(
            f"Job {job_id} is {job.status}; only queued or running jobs can be cancelled."
        )

    async def stop(self) -> None:
        """Server shutdown: stop the workers; their jobs read ``interrupted`` at next start."""
        self._stopping = True
        self._pending.clear()
        for running in list(self._running.values()):
            if running.process.is_alive():
                running.process.terminate()
        loop = asyncio.get_running_loop()
        for running in list(self._running.values()):
            await loop.run_in_executor(None, running.process.join, 5)
            self._detach(running)
        stopped = self.store.interrupt_own_jobs(
            "The server was shut down before this job finished; submit it again."
        )
        if stopped:
            log.warning("nbjobs: shutdown interrupted jobs %s", stopped)

    # -- execution ---------------------------------------------------------------------------

    def _start_pending(self) -> None:
        while (
            not self._stopping and self._pending and len(self._running) < self.max_concurrent_jobs
        ):
            job_id = self._pending.popleft()
            job = self.store.get(job_id)
            if job.status != "queued":
                continue
            try:
                self._start(job)
            except Exception as exc:  # the worker could not even start: fail this job only
                log.exception("nbjobs: could not start job %s", job_id)
                failed = self.store.mark_failed(job_id, f"Could not start a worker: {exc}")
                task = asyncio.ensure_future(self._announce_final(failed))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    def _start(self, job: JobRecord) -> None:
        ctx = worker_context()
        reader, writer = ctx.Pipe(duplex=False)
        cancel_event = ctx.Event()
        spec = WorkerJob(
            job_id=job.id,
            input_path=job.input_path,
            input_format=job.input_format,
            columns=dict(job.columns),
            options=dict(job.options),
            chunk_size=self.chunk_size,
            output_dir=self.output_dir,
            chunk_delay=self.chunk_delay,
            processes=self.processes_per_job,
            cache_size=self.cache_size,
        )
        process = ctx.Process(
            target=run_in_subprocess,
            args=(spec, writer, cancel_event),
            name=f"nbjobs-job-{job.id}",
            daemon=True,
        )
        process.start()
        # Only the worker may hold the write end: when it exits (or is killed) the reader
        # sees EOF, which is how a dead worker is noticed.
        writer.close()
        self.store.mark_running(job.id)
        running = _Running(job, process, reader, cancel_event, asyncio.Queue())
        self._running[job.id] = running
        loop = asyncio.get_running_loop()
        loop.add_reader(reader.fileno(), self._read_pipe, running)
        running.task = asyncio.ensure_future(self._consume(running))

    def _read_pipe(self, running: _Running) -> None:
        try:
            while running.conn.poll():
                running.messages.put_nowait(running.conn.recv())
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(running.conn.fileno())
            running.messages.put_nowait(None)

    async def _consume(self, running: _Running) -> None:
        job_id = running.job.id
        try:
            ended = False
            while not ended:
                for message in _drain(await running.messages.get(), running.messages):
                    if message is None:  # the worker's pipe closed
                        ended = True
                        break
                    await self._handle(running, *message)
            if not running.finished and not self._stopping:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, running.process.join, 5)
                code = running.process.exitcode
                failed = self.store.mark_failed(
                    job_id, f"The worker process stopped unexpectedly (exit code {code})."
                )
                await self._announce_final(failed)
        except Exception:
            log.exception("nbjobs: error while following job %s", job_id)
        finally:
            self._detach(running)
            self._start_pending()

    def _detach(self, running: _Running) -> None:
        if self._running.get(running.job.id) is running:
            del self._running[running.job.id]
            with contextlib.suppress(OSError, ValueError):
                asyncio.get_running_loop().remove_reader(running.conn.fileno())
            running.conn.close()

    async def _handle(self, running: _Running, kind: str, data: dict[str, Any]) -> None:
        job_id = running.job.id
        counts = {
            "processed": data.get("processedRows", 0),
            "valid": data.get("validRows", 0),
            "invalid": data.get("invalidRows", 0),
        }
        if kind == "started":
            self.store.update_progress(
                job_id, processed=0, valid=0, invalid=0, total=data.get("totalRows")
            )
        elif kind == "progress":
            self.store.update_progress(job_id, total=data.get("totalRows"), **counts)
            job = self.store.get(job_id)
            await self.realtime.progress(public_job(job, self.base_url), job.owner)
        elif kind == "completed":
            running.finished = True
            job = self.store.mark_completed(
                job_id,
                total=data.get("totalRows"),
                output_path=data["outputPath"],
                invalid_path=data["invalidPath"],
                parquet_path=data["parquetPath"],
                summary=data.get("summary"),
                **counts,
            )
            await self._announce_final(job)
        elif kind == "failed":
            running.finished = True
            job = self.store.mark_failed(job_id, data["errorMessage"], **counts)
            await self._announce_final(job)
        elif kind == "cancelled":
            running.finished = True
            job = self.store.mark_cancelled(job_id, **counts)
            await self._announce_final(job)
        else:
            log.warning("nbjobs: unknown worker message %r for job %s", kind, job_id)

    async def _announce_final(self, job: JobRecord) -> None:
        if job.status in ("completed", "failed", "cancelled"):
            await self.realtime.finished(public_job(job, self.base_url), job.owner)

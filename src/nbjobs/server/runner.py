"""``JobRunner``: which jobs run when, and what their messages become.

At most ``max_concurrent_jobs`` jobs run at once; others wait queued, in order. While it runs,
the runner keeps this server's lease in the store alive, takes over the queued jobs of servers
that died, and stops its running jobs that a user cancelled on another server. Each running
job's messages (``protocol``) are followed here: progress is coalesced per job (the latest
counts win, at most one event per ``progress_min_interval``) and becomes a ``job:progress``
event straight from the message, with the store updated alongside; a final message is written
to the store first, then announced (a completed job's 100% progress, then ``job:completed``),
so a client that hears of it finds it in the store.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import os
from datetime import datetime, timedelta
from typing import Any

from traitlets import Bool, Float, Int
from traitlets.config import LoggingConfigurable

from ..exceptions import Conflict, NotFound
from ..protocol import (
    PROGRESS,
    Cancelled,
    Completed,
    Counts,
    Failed,
    JobStatus,
    LiveProgressPayload,
    LiveView,
    Progress,
    Started,
    WorkerMessage,
    percent,
    progress_payload,
    terminal_event,
    throughput,
)
from ..worker.settings import WorkerJob
from . import metrics
from .events import EventSink
from .executor import Execution, Executor
from .load import AdaptiveInterval
from .records import JobRecord, public_job, utcnow
from .store import JobStore

__all__ = ["JobRunner"]

SHUTDOWN_MESSAGE = "The server was shut down before this job finished; submit it again."
# Seconds between two looks for cancel requests made on other servers, while jobs run here.
CANCEL_POLL_SECONDS = 1.0
# The latest jobs of an owner looked at for ones that ended during a Redis outage.
MAX_CAUGHT_UP = 100
# Seconds between two sweeps for jobs older than retention_days.
RETENTION_SWEEP_SECONDS = 3600.0


@dataclasses.dataclass(eq=False)
class _Slot:
    """A job this runner has taken from the queue: starting, then running."""

    job_id: int
    execution: Execution | None = None
    cancel_requested: bool = False
    task: asyncio.Task[None] | None = None

    def cancel(self) -> None:
        self.cancel_requested = True
        if self.execution is not None:
            self.execution.cancel()


class JobRunner(LoggingConfigurable):
    """Schedules jobs on an ``Executor`` and turns their messages into store updates and
    events (module docstring)."""

    max_concurrent_jobs = Int(
        2, min=1, config=True, help="Jobs running at once, each in its own worker; others queue."
    )
    progress_min_interval = Float(
        0.1,
        min=0.0,
        config=True,
        help=(
            "At most one job:progress event per job per this many seconds; while Jupyter's "
            "event loop lags, the interval stretches (adaptive_progress)."
        ),
    )
    adaptive_progress = Bool(
        True,
        config=True,
        help=(
            "Space progress events further apart while Jupyter's event loop lags (latest counts "
            "win; final events never wait); metric nbjobs_progress_interval_seconds."
        ),
    )
    retention_days = Float(
        0.0,
        min=0.0,
        config=True,
        help=(
            "Days a finished job's input and outputs are kept; then they are removed and the job "
            "stays listed, expired. 0: kept for good."
        ),
    )

    def __init__(
        self,
        *,
        store: JobStore,
        executor: Executor,
        events: EventSink,
        base_url: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.executor = executor
        self.events = events
        self.base_url = base_url
        self._pending: collections.deque[int] = collections.deque()
        self._slots: dict[int, _Slot] = {}
        self._stopping = False
        self._watch: asyncio.Task[None] | None = None
        self.interval = AdaptiveInterval(self.progress_min_interval)

    def observe_loop_lag(self, lag: float) -> None:
        """Called once a second with the event loop's lag (``load.LoopLag``)."""
        if self.adaptive_progress:
            self.interval.observe(lag)

    # -- public ------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a job of this runner is queued or running."""
        return bool(self._pending or self._slots)

    async def start(self) -> None:
        """Take over the jobs a dead server left queued (this one's earlier process too), then
        keep watching the store (module docstring)."""
        await self._reconcile(at_start=True)
        self._watch = asyncio.ensure_future(self._watch_store())

    def submit(self, job: JobRecord) -> None:
        """Queue ``job`` (stored as queued); it starts as soon as a slot is free."""
        if job.id not in self._pending and job.id not in self._slots:
            self._pending.append(job.id)
        self._start_pending()

    def _queue_changed(self) -> None:
        metrics.QUEUE_LENGTH.set(len(self._pending))

    async def cancel(self, job_id: int, owner: str) -> JobRecord:
        """Cancel a queued job now, or ask a running one to stop between chunks, whichever
        server runs it; ``Conflict`` for a finished job (``NotFound`` for another owner's)."""
        job = await self.store.get(job_id, owner=owner)
        if job.status is JobStatus.QUEUED:
            cancelled = await self.store.cancel_queued(job_id)
            if cancelled is not None:
                if job_id in self._pending:
                    self._pending.remove(job_id)
                    self._queue_changed()
                await self._announce(cancelled, JobStatus.CANCELLED)
                return cancelled
            job = await self.store.get(job_id)  # it started meanwhile
        if job.status is JobStatus.RUNNING:
            slot = self._slots.get(job_id)
            if slot is not None:
                slot.cancel()
                return job
            if await self.store.request_cancel(job_id):  # running on another server
                return job
            job = await self.store.get(job_id)
        raise Conflict(
            f"Job {job_id} is {job.status}; only queued or running jobs can be cancelled."
        )

    async def stop(self) -> None:
        """Server shutdown: stop the running jobs now (they read ``interrupted``); the queued
        ones stay queued for the next server to take over."""
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
        self._pending.clear()
        self._queue_changed()
        for slot in list(self._slots.values()):
            if slot.execution is not None:
                await slot.execution.terminate()
            if slot.task is not None:
                slot.task.cancel()
        stopped = await self.store.interrupt_own_jobs(SHUTDOWN_MESSAGE)
        if stopped:
            self.log.warning("nbjobs: shutdown interrupted jobs %s", stopped)

    async def catch_up(
        self, owner: str, follow: list[int], ended_since: datetime | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """The events that bring a client of ``owner`` up to date (``Realtime``): a
        ``job:progress`` per queued or running job, with its ``status``, and for each job in
        ``follow`` (or of the owner's latest, ended since ``ended_since``) that has ended, its
        final event (after its 100% progress when it completed), or for an interrupted one a
        ``job:progress`` with that status and its message."""
        events: list[tuple[str, dict[str, Any]]] = []
        active = await self.store.list_active(owner=owner)
        for job in active:
            public = public_job(job, self.base_url)
            events.append((PROGRESS, {**progress_payload(public), "status": public["status"]}))
        seen = {job.id for job in active}
        ended: dict[int, JobRecord | None] = dict.fromkeys(follow)
        if ended_since is not None:
            for job in await self.store.list_recent(owner=owner, limit=MAX_CAUGHT_UP):
                if job.finished_at is not None and job.finished_at >= ended_since:
                    ended[job.id] = job
        for job_id, known in ended.items():
            if job_id in seen:
                continue
            try:
                job = known or await self.store.get(job_id, owner=owner)
            except NotFound:
                continue
            public = public_job(job, self.base_url)
            if job.status is JobStatus.INTERRUPTED:
                extra = {"status": public["status"], "errorMessage": public["errorMessage"]}
                events.append((PROGRESS, {**progress_payload(public), **extra}))
            elif job.status.final:
                if job.status is JobStatus.COMPLETED:
                    events.append((PROGRESS, dict(progress_payload(public))))
                event, payload = terminal_event(public)
                events.append((event, dict(payload)))
        return events

    # -- the store: leases, servers that died, cancel requests ---------------------------------

    async def _reconcile(self, *, at_start: bool = False) -> None:
        reconciled = await self.store.reconcile(at_start=at_start)
        if reconciled.interrupted:
            self.log.warning(
                "nbjobs: marked interrupted jobs %s (their server stopped)", reconciled.interrupted
            )
        for job_id in reconciled.interrupted:  # whatever their workers had renamed into place
            await self._discard_outputs(job_id)
        if reconciled.adopted:
            self.log.info(
                "nbjobs: took over queued jobs %s", [job.id for job in reconciled.adopted]
            )
        for job in reconciled.adopted:
            self.submit(job)

    async def _watch_store(self) -> None:
        loop = asyncio.get_running_loop()
        beat_every = self.store.lease_seconds / 6
        next_beat = loop.time() + beat_every
        next_sweep = loop.time()
        while not self._stopping:
            try:
                if self.retention_days and loop.time() >= next_sweep:
                    next_sweep = loop.time() + RETENTION_SWEEP_SECONDS
                    await self.expire_old_jobs()
                if loop.time() >= next_beat:
                    next_beat = loop.time() + beat_every
                    await self.store.heartbeat()
                    await self._reconcile()
                    counts = await self.store.count_by_status()
                    for status in JobStatus:
                        metrics.JOBS.labels(status.value).set(counts.get(status.value, 0))
                running = [job_id for job_id, slot in self._slots.items() if slot.execution]
                for job_id in await self.store.cancel_requests(running):
                    self._slots[job_id].cancel()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be away for a while: try again later
                self.log.exception("nbjobs: could not reach the job store")
            await asyncio.sleep(min(CANCEL_POLL_SECONDS, beat_every))

    async def expire_old_jobs(self) -> list[int]:
        """Remove the input and outputs of jobs finished more than ``retention_days`` ago (the
        rows stay, expired); returns their ids."""
        before = utcnow() - timedelta(days=self.retention_days)
        expired: list[int] = []
        loop = asyncio.get_running_loop()
        while jobs := await self.store.expirable(before):
            for job in jobs:
                await loop.run_in_executor(None, _remove_files, job)
            await self.store.mark_expired([job.id for job in jobs])
            expired += [job.id for job in jobs]
        if expired:
            self.log.info("nbjobs: removed the files of %d jobs past retention", len(expired))
        return expired

    # -- running -----------------------------------------------------------------------------

    def _start_pending(self) -> None:
        while not self._stopping and self._pending and len(self._slots) < self.max_concurrent_jobs:
            slot = _Slot(self._pending.popleft())
            self._slots[slot.job_id] = slot
            slot.task = asyncio.ensure_future(self._run(slot))
        self._queue_changed()

    async def _run(self, slot: _Slot) -> None:
        try:
            job = await self.store.get(slot.job_id)
            if job.status is JobStatus.QUEUED and await self.store.mark_running(job.id):
                await self._execute(slot, job)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log.exception("nbjobs: error while running job %s", slot.job_id)
        finally:
            if self._slots.get(slot.job_id) is slot:
                del self._slots[slot.job_id]
            self._start_pending()

    async def _execute(self, slot: _Slot, job: JobRecord) -> None:
        work = WorkerJob(job.id, job.input_path, job.input_format, job.columns, job.options)
        try:
            slot.execution = self.executor.submit(work)
        except Exception as exc:  # the worker could not even start: fail this job only
            self.log.exception("nbjobs: could not start job %s", job.id)
            failed = await self.store.mark_failed(job.id, f"Could not start a worker: {exc}")
            await self._announce(failed, JobStatus.FAILED)
            return
        if slot.cancel_requested:
            slot.execution.cancel()
        await self._follow(job, slot.execution)

    async def _follow(self, job: JobRecord, execution: Execution) -> None:
        """Handle ``execution``'s messages until its final one, coalescing progress."""
        loop = asyncio.get_running_loop()
        messages = execution.messages
        pending: Progress | None = None  # the latest progress not announced yet
        held: WorkerMessage | None = None  # the message that ended a burst of progress
        last_sent = float("-inf")
        counted = 0  # rows of this job already in ROWS_PROCESSED
        started: float | None = None  # when the worker began reading (for rows/s and the ETA)
        while True:
            message: WorkerMessage
            if held is not None:
                message, held = held, None
            elif pending is not None:
                due = last_sent + self.interval.current - loop.time()
                if due <= 0:
                    await self._progress(job, pending, started)
                    pending, last_sent = None, loop.time()
                    continue
                try:
                    message = await asyncio.wait_for(messages.get(), due)
                except asyncio.TimeoutError:
                    continue
            else:
                message = await messages.get()
            if isinstance(message, Progress):
                # A batch of chunks arrives as a burst: only its latest counts matter.
                pending = _latest(pending, message)
                while held is None and not messages.empty():
                    following = messages.get_nowait()
                    if isinstance(following, Progress):
                        pending = _latest(pending, following)
                    else:
                        held = following
                metrics.ROWS_PROCESSED.inc(max(0, pending.counts.processed - counted))
                counted = max(counted, pending.counts.processed)
            elif isinstance(message, Started):
                started = loop.time()
                await self.store.update_progress(job.id, Counts(), total=message.total_rows)
            else:
                await self._finish(job, message, pending, counted)
                return

    async def _progress(
        self, job: JobRecord, progress: Progress, started: float | None = None
    ) -> None:
        """Announce and store ``progress``; with the throughput and ETA since ``started``
        (the event loop's clock) when known."""
        counts, total = progress.counts, progress.total_rows
        elapsed = 0.0 if started is None else asyncio.get_running_loop().time() - started
        payload: LiveProgressPayload = {
            "jobId": job.id,
            "processedRows": counts.processed,
            "validRows": counts.valid,
            "invalidRows": counts.invalid,
            "totalRows": total,
            "progress": percent(counts.processed, total),
            **throughput(counts.processed, total, elapsed),
            **(progress.live or LiveView()),
        }
        await self.events.emit(PROGRESS, payload, owner=job.owner)
        await self.store.update_progress(job.id, counts, total=total)

    async def _finish(
        self,
        job: JobRecord,
        message: Completed | Failed | Cancelled,
        pending: Progress | None,
        counted: int,
    ) -> None:
        if isinstance(message, Completed):
            metrics.ROWS_PROCESSED.inc(max(0, message.counts.processed - counted))
            loop = asyncio.get_running_loop()
            size = await loop.run_in_executor(None, _output_bytes, message)
            final = await self.store.mark_completed(job.id, message, output_bytes=size)
            await self._announce(final, JobStatus.COMPLETED)
        else:
            if pending is not None:  # the counts the job stopped at
                await self._progress(job, pending)
            if isinstance(message, Failed):
                error = message.error_message
                final = await self.store.mark_failed(job.id, error, counts=message.counts)
                await self._announce(final, JobStatus.FAILED)
            else:
                final = await self.store.mark_cancelled(job.id, counts=message.counts)
                await self._announce(final, JobStatus.CANCELLED)
        if final.status is not JobStatus.COMPLETED:
            await self._discard_outputs(job.id)
        if final.started_at is not None and final.finished_at is not None:
            seconds = (final.finished_at - final.started_at).total_seconds()
            metrics.JOB_SECONDS.labels(final.status.value).observe(seconds)

    async def _discard_outputs(self, job_id: int) -> None:
        """No output of a job that did not complete stays visible (a worker killed between its
        renames and its last message leaves some)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.executor.discard_outputs, job_id)

    async def _announce(self, job: JobRecord, status: JobStatus) -> None:
        """Announce that ``job`` became ``status`` (unless the store kept another final status:
        that one was announced when it was set)."""
        if job.status is not status:
            return
        public = public_job(job, self.base_url)
        if status is JobStatus.COMPLETED:
            await self.events.emit(PROGRESS, progress_payload(public), owner=job.owner)
        event, payload = terminal_event(public)
        await self.events.emit(event, payload, owner=job.owner)


def _latest(pending: Progress | None, newer: Progress) -> Progress:
    """``newer``, keeping the live view of ``pending`` when it has none of its own: a view
    comes once every few seconds and must not be lost to the coalescing."""
    if pending is None or pending.live is None or newer.live is not None:
        return newer
    return dataclasses.replace(newer, live=pending.live)


def _output_bytes(done: Completed) -> int:
    """What the job's outputs take on disk (for quotas); a file it cannot see counts 0."""
    size = 0
    for path in (done.output_path, done.invalid_path, done.parquet_path):
        with contextlib.suppress(OSError):
            size += os.path.getsize(path)
    return size


def _remove_files(job: JobRecord) -> None:
    for path in (job.input_path, job.output_path, job.invalid_path, job.parquet_path):
        if path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
